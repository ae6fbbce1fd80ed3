//! SQL on `services_evaluations`, `services_rectifications` and `services_feedback`.

use crate::domain::*;
use kernel::error::{Error, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

// ---- evaluations ----

pub(crate) fn eval_row(r: &AnyRow) -> Result<Evaluation> {
    Ok(Evaluation {
        id: r.get("id"),
        case_id: r.get::<Option<i64>, _>("case_id").unwrap_or(0),
        case_number: r.get("case_number"),
        dept_id: r.get("dept_id"),
        item_id: r.get("item_id"),
        applicant_id_no: r.get("applicant_id_no"),
        round: r.get("round"),
        level: Level::parse(&r.get::<String, _>("level"))
            .ok_or_else(|| Error::internal("services_evaluations.level"))?,
        tags: serde_json::from_str(&r.get::<String, _>("tags")).unwrap_or_default(),
        text: r.get("text"),
        channel: EvalChannel::parse(&r.get::<String, _>("channel")).unwrap_or(EvalChannel::Web),
        staff: serde_json::from_str(&r.get::<String, _>("staff")).unwrap_or_default(),
        created_at: r.get("created_at"),
    })
}

pub(crate) const EVAL_COLS: &str = "id, case_id, case_number, dept_id, item_id, applicant_id_no, round, level, tags, text, channel, staff, created_at";

pub(crate) async fn insert_evaluation(c: &mut AnyConnection, e: &Evaluation) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_evaluations (case_id, case_number, dept_id, item_id, applicant_id_no, round, level, tags, text, channel, staff, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(e.case_id)
    .bind(&e.case_number)
    .bind(e.dept_id)
    .bind(e.item_id)
    .bind(&e.applicant_id_no)
    .bind(e.round)
    .bind(e.level.code())
    .bind(serde_json::to_string(&e.tags)?)
    .bind(&e.text)
    .bind(e.channel.code())
    .bind(serde_json::to_string(&e.staff)?)
    .bind(e.created_at)
    .fetch_one(&mut *c)
    .await
    .map_err(|x| Error::from_db(x, "case_number", "该办件已评价过"))?
    .get(0))
}

pub(crate) async fn evaluations_of(c: &mut AnyConnection, number: &str) -> Result<Vec<Evaluation>> {
    sqlx::query(&format!(
        "SELECT {EVAL_COLS} FROM services_evaluations WHERE case_number = $1 ORDER BY round"
    ))
    .bind(number)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(eval_row)
    .collect()
}

pub(crate) fn rect_row(r: &AnyRow) -> Result<Rectification> {
    Ok(Rectification {
        id: r.get("id"),
        evaluation_id: r.get("evaluation_id"),
        case_number: r.get("case_number"),
        dept_id: r.get("dept_id"),
        status: RectificationStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_rectifications.status"))?,
        due_at: r.get("due_at"),
        reply: r.get("reply"),
        replied_at: r.get("replied_at"),
        review_note: r.get("review_note"),
        reviewed_at: r.get("reviewed_at"),
        created_at: r.get("created_at"),
    })
}

pub(crate) const RECT_COLS: &str = "id, evaluation_id, case_number, dept_id, status, due_at, reply, replied_at, review_note, reviewed_at, created_at";

pub(crate) async fn insert_rectification(c: &mut AnyConnection, r: &Rectification) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_rectifications (evaluation_id, case_number, dept_id, status, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(r.evaluation_id)
    .bind(&r.case_number)
    .bind(r.dept_id)
    .bind(r.status.code())
    .bind(r.due_at)
    .bind(r.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub(crate) async fn save_rectification(
    c: &mut AnyConnection,
    r: &Rectification,
    from: RectificationStatus,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE services_rectifications SET status = $1, reply = $2, replied_at = $3, review_note = $4, reviewed_at = $5
         WHERE id = $6 AND status = $7",
    )
    .bind(r.status.code())
    .bind(&r.reply)
    .bind(r.replied_at)
    .bind(&r.review_note)
    .bind(r.reviewed_at)
    .bind(r.id)
    .bind(from.code())
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::conflict(
            "stale_rectification",
            None,
            "整改任务已被他人更新，请刷新后重试",
        ));
    }
    Ok(())
}

pub(crate) async fn rectification(c: &mut AnyConnection, id: i64) -> Result<Option<Rectification>> {
    sqlx::query(&format!(
        "SELECT {RECT_COLS} FROM services_rectifications WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| rect_row(&r))
    .transpose()
}

pub(crate) async fn rectification_of(
    c: &mut AnyConnection,
    evaluation_id: i64,
) -> Result<Option<Rectification>> {
    sqlx::query(&format!(
        "SELECT {RECT_COLS} FROM services_rectifications WHERE evaluation_id = $1"
    ))
    .bind(evaluation_id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| rect_row(&r))
    .transpose()
}

pub(crate) async fn rectifications(
    c: &mut AnyConnection,
    dept_ids: Option<&[i64]>,
) -> Result<Vec<Rectification>> {
    let mut sql = format!("SELECT {RECT_COLS} FROM services_rectifications");
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " WHERE dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY id DESC");
    sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(rect_row)
        .collect()
}

/// A page of the 整改 worklist, with the rating that opened each task.
pub(crate) async fn rectification_page(
    c: &mut AnyConnection,
    dept_ids: Option<&[i64]>,
    f: &RectificationFilter,
    now: i64,
    page: &kernel::page::PageQuery,
) -> Result<(Vec<(Rectification, RatingOf)>, i64)> {
    let mut clauses: Vec<String> = vec![];
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        clauses.push(format!(
            "r.dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    if let Some(d) = f.dept_id {
        clauses.push(format!("r.dept_id = {d}"));
    }
    let mut texts: Vec<String> = vec![];
    if let Some(s) = f.status {
        texts.push(s.code().to_owned());
        clauses.push(format!("r.status = ${}", texts.len()));
    }
    if let Some(q) = f.number.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        texts.push(format!("%{}%", q.to_uppercase()));
        clauses.push(format!("UPPER(r.case_number) LIKE ${}", texts.len()));
    }
    if f.overdue {
        // Open or sent back, past its deadline.
        clauses.push(format!(
            "r.status = '{}' AND r.due_at < {now}",
            RectificationStatus::Open.code()
        ));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let from = "services_rectifications r JOIN services_evaluations e ON e.id = r.evaluation_id";
    let count_sql = format!("SELECT COUNT(*) FROM {from}{filter}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
    let n = texts.len();
    let cols: Vec<String> = RECT_COLS.split(", ").map(|c| format!("r.{c}")).collect();
    let list_sql = format!(
        "SELECT {}, e.case_id AS e_case_id, e.level AS e_level, e.text AS e_text, e.tags AS e_tags, e.item_id AS e_item_id
         FROM {from}{filter} ORDER BY CASE WHEN r.status = '{}' THEN 0 ELSE 1 END, r.due_at, r.id DESC LIMIT ${} OFFSET ${}",
        cols.join(", "),
        RectificationStatus::Open.code(),
        n + 1,
        n + 2
    );
    let mut list = sqlx::query(&list_sql);
    for t in &texts {
        count = count.bind(t.clone());
        list = list.bind(t.clone());
    }
    let total = count.fetch_one(&mut *c).await?;
    let rows = list
        .bind(page.per_page())
        .bind(page.offset())
        .fetch_all(&mut *c)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push((
            rect_row(r)?,
            RatingOf {
                case_id: r.get("e_case_id"),
                item_id: r.get("e_item_id"),
                level: r.get("e_level"),
                tags: r.get("e_tags"),
                text: r.get("e_text"),
            },
        ));
    }
    Ok((out, total))
}

/// What the worklist filters on.
#[derive(Debug, Clone, Default)]
pub struct RectificationFilter {
    pub status: Option<RectificationStatus>,
    pub dept_id: Option<i64>,
    /// Part of a case number.
    pub number: Option<String>,
    pub overdue: bool,
}

/// The rating behind a 整改 task, as stored.
#[derive(Debug, Clone)]
pub(crate) struct RatingOf {
    pub case_id: Option<i64>,
    pub item_id: i64,
    pub level: String,
    pub tags: String,
    pub text: String,
}

// ---- 办不成事反映 ----

pub(crate) fn feedback_row(r: &AnyRow) -> Result<Feedback> {
    Ok(Feedback {
        id: r.get("id"),
        number: r.get("number"),
        name: r.get("name"),
        phone: r.get("phone"),
        item_id: r.get("item_id"),
        dept_id: r.get("dept_id"),
        text: r.get("text"),
        status: FeedbackStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_feedback.status"))?,
        answer: r.get("answer"),
        answered_by: r.get("answered_by"),
        created_at: r.get("created_at"),
        answered_at: r.get("answered_at"),
    })
}

pub(crate) const FB_COLS: &str = "id, number, name, phone, item_id, dept_id, text, status, answer, answered_by, created_at, answered_at";

pub(crate) async fn insert_feedback(c: &mut AnyConnection, f: &Feedback) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_feedback (number, name, phone, item_id, dept_id, text, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&f.number)
    .bind(&f.name)
    .bind(&f.phone)
    .bind(f.item_id)
    .bind(f.dept_id)
    .bind(&f.text)
    .bind(f.status.code())
    .bind(f.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub(crate) async fn feedback(c: &mut AnyConnection, id: i64) -> Result<Option<Feedback>> {
    sqlx::query(&format!(
        "SELECT {FB_COLS} FROM services_feedback WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| feedback_row(&r))
    .transpose()
}

pub(crate) async fn feedback_list(c: &mut AnyConnection) -> Result<Vec<Feedback>> {
    sqlx::query(&format!(
        "SELECT {FB_COLS} FROM services_feedback ORDER BY id DESC"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(feedback_row)
    .collect()
}

pub(crate) async fn answer_feedback(
    c: &mut AnyConnection,
    id: i64,
    answer: &str,
    by: Option<i64>,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE services_feedback SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(answer)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}
