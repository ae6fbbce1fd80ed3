//! SQL of the knowledge base and reply templates (`hotline_kb_*`, `hotline_reply_templates`).

use super::domain::*;
use super::service::EditArticles;
use crate::ticket::service::{Administer, Supervise};
use kernel::error::Result;
use kernel::Granted;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

// ---- knowledge base ----

const ARTICLE_COLS: &str = "id, question, answer, category_id, dept_id, valid_from, valid_until, status, version, updated_at";

fn article_row(r: &AnyRow) -> Article {
    Article {
        id: r.get("id"),
        question: r.get("question"),
        answer: r.get("answer"),
        category_id: r.get("category_id"),
        dept_id: r.get("dept_id"),
        valid_from: r.get("valid_from"),
        valid_until: r.get("valid_until"),
        status: ArticleStatus::parse(&r.get::<String, _>("status")).unwrap_or(ArticleStatus::Draft),
        version: r.get("version"),
        updated_at: r.get("updated_at"),
    }
}

pub async fn article(c: &mut AnyConnection, id: i64) -> Result<Option<Article>> {
    let r = sqlx::query(&format!(
        "SELECT {ARTICLE_COLS} FROM hotline_kb_articles WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(article_row))
}

pub async fn articles(
    c: &mut AnyConnection,
    status: Option<ArticleStatus>,
    category_id: Option<i64>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Article>, i64)> {
    let mut w = vec!["1 = 1".to_owned()];
    let mut b = Vec::new();
    if let Some(s) = status {
        w.push(format!("status = '{}'", s.code()));
    }
    if let Some(cid) = category_id {
        w.push(format!("category_id = {cid}"));
    }
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        b.push(format!("%{}%", q.trim()));
        w.push("(question LIKE $1 OR answer LIKE $1)".into());
    }
    let w = w.join(" AND ");
    let sql = format!("SELECT {ARTICLE_COLS} FROM hotline_kb_articles WHERE {w} ORDER BY updated_at DESC, id DESC LIMIT {limit} OFFSET {offset}");
    let mut qy = sqlx::query(&sql);
    for x in &b {
        qy = qy.bind(x);
    }
    let rows = qy.fetch_all(&mut *c).await?;
    let count_sql = format!("SELECT COUNT(*) FROM hotline_kb_articles WHERE {w}");
    let mut qc = sqlx::query_scalar::<_, i64>(&count_sql);
    for x in &b {
        qc = qc.bind(x);
    }
    Ok((
        rows.iter().map(article_row).collect(),
        qc.fetch_one(c).await?,
    ))
}

pub async fn save_article(
    c: &mut AnyConnection,
    _granted: Granted<'_, EditArticles>,
    id: Option<i64>,
    a: &ArticleInput,
    status: ArticleStatus,
    version: i64,
    now: i64,
    editor: &str,
) -> Result<i64> {
    let id = match id {
        None => sqlx::query_scalar(
            "INSERT INTO hotline_kb_articles (question, answer, category_id, dept_id, valid_from, valid_until, status, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(a.question.trim())
        .bind(a.answer.trim())
        .bind(a.category_id)
        .bind(a.dept_id)
        .bind(a.valid_from.as_deref().filter(|s| !s.is_empty()))
        .bind(a.valid_until.as_deref().filter(|s| !s.is_empty()))
        .bind(status.code())
        .bind(version)
        .bind(now)
        .fetch_one(&mut *c)
        .await?,
        Some(id) => {
            sqlx::query(
                "UPDATE hotline_kb_articles SET question = $1, answer = $2, category_id = $3, dept_id = $4, valid_from = $5, valid_until = $6,
                 status = $7, version = $8, updated_at = $9 WHERE id = $10",
            )
            .bind(a.question.trim())
            .bind(a.answer.trim())
            .bind(a.category_id)
            .bind(a.dept_id)
            .bind(a.valid_from.as_deref().filter(|s| !s.is_empty()))
            .bind(a.valid_until.as_deref().filter(|s| !s.is_empty()))
            .bind(status.code())
            .bind(version)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await?;
            id
        }
    };
    sqlx::query(
        "INSERT INTO hotline_kb_versions (article_id, version, question, answer, category_id, dept_id, valid_from, valid_until, edited_by, edited_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(version)
    .bind(a.question.trim())
    .bind(a.answer.trim())
    .bind(a.category_id)
    .bind(a.dept_id)
    .bind(a.valid_from.as_deref().filter(|s| !s.is_empty()))
    .bind(a.valid_until.as_deref().filter(|s| !s.is_empty()))
    .bind(editor)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn set_article_status(
    c: &mut AnyConnection,
    _granted: Granted<'_, Supervise>,
    id: i64,
    s: ArticleStatus,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE hotline_kb_articles SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(s.code())
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn article_versions(c: &mut AnyConnection, id: i64) -> Result<Vec<ArticleVersion>> {
    let rows = sqlx::query("SELECT version, question, answer, edited_by, edited_at FROM hotline_kb_versions WHERE article_id = $1 ORDER BY version")
        .bind(id)
        .fetch_all(c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| ArticleVersion {
            version: r.get(0),
            question: r.get(1),
            answer: r.get(2),
            edited_by: r.get(3),
            edited_at: r.get(4),
        })
        .collect())
}

// ---- reply templates ----

pub async fn templates(
    c: &mut AnyConnection,
    category_id: Option<i64>,
) -> Result<Vec<ReplyTemplate>> {
    let rows = sqlx::query(
        "SELECT id, category_id, status, title, body FROM hotline_reply_templates
         WHERE ($1 IS NULL OR category_id IS NULL OR category_id = $1) ORDER BY category_id IS NULL, id",
    )
    .bind(category_id)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ReplyTemplate {
            id: r.get(0),
            category_id: r.get(1),
            status: r.get(2),
            title: r.get(3),
            body: r.get(4),
        })
        .collect())
}

pub async fn insert_template(
    c: &mut AnyConnection,
    _granted: Granted<'_, Administer>,
    t: &NewReplyTemplate,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar("INSERT INTO hotline_reply_templates (category_id, status, title, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(t.category_id)
        .bind(&t.status)
        .bind(t.title.trim())
        .bind(t.body.trim())
        .bind(now)
        .fetch_one(c)
        .await?)
}

pub async fn delete_template(
    c: &mut AnyConnection,
    _granted: Granted<'_, Administer>,
    id: i64,
) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM hotline_reply_templates WHERE id = $1")
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
            == 1,
    )
}
