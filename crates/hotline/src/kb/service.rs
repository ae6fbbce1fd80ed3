//! Knowledge-base articles (versioned, reviewed, published) and reply templates.

use super::domain::*;
use super::store;
use crate::ticket::service::{Administer, Supervise};
use crate::HotlineService;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::Actor;
use serde_json::json;

kernel::permission!(
    /// Writes and edits knowledge-base articles.
    pub EditArticles = [Operator, Supervisor, SysAdmin, Handler], "hotline:write"
);

impl HotlineService {
    // ---- knowledge base ----

    pub async fn articles(
        &self,
        actor: &Actor,
        status: Option<ArticleStatus>,
        category_id: Option<i64>,
        q: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Article>> {
        actor.require_scope("hotline:read")?;
        if !Self::is_staff(actor) {
            return Err(Error::forbidden("仅限工作人员访问"));
        }
        let (items, total) = store::articles(
            &mut *self.conn().await?,
            status,
            category_id,
            q,
            page.per_page(),
            page.offset(),
        )
        .await?;
        Ok(Page::new(items, total, page))
    }

    pub async fn article(&self, actor: &Actor, id: i64) -> Result<(Article, Vec<ArticleVersion>)> {
        actor.require_scope("hotline:read")?;
        if !Self::is_staff(actor) {
            return Err(Error::forbidden("仅限工作人员访问"));
        }
        let mut c = self.conn().await?;
        let a = store::article(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("kb_article", "知识条目不存在"))?;
        let v = store::article_versions(&mut c, id).await?;
        Ok((a, v))
    }

    /// Creates (id none) or edits an article. Every edit is a new version, back in draft.
    pub async fn save_article(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: ArticleInput,
    ) -> Result<Article> {
        let granted = actor.authorize::<EditArticles>()?;
        input.validate()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if let Some(cid) = input.category_id {
            crate::ticket::store::category(&mut tx, cid)
                .await?
                .ok_or_else(|| Error::field("category_id", "not_found", "所选分类不存在"))?;
        }
        let version = match id {
            Some(id) => {
                store::article(&mut tx, id)
                    .await?
                    .ok_or_else(|| Error::not_found("kb_article", "知识条目不存在"))?
                    .version
                    + 1
            }
            None => 1,
        };
        let who = actor.audit_actor();
        let id = store::save_article(
            &mut tx,
            granted,
            id,
            &input,
            ArticleStatus::Draft,
            version,
            now,
            &who.0,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &who,
            "kb_article",
            id,
            if version == 1 { "create" } else { "edit" },
            json!({"version": version, "question": input.question.trim()}),
        )
        .await?;
        let a = store::article(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("article vanished"))?;
        tx.commit().await?;
        Ok(a)
    }

    /// Review, publish or withdraw. Reviewing and publishing are for supervisors.
    pub async fn article_action(
        &self,
        actor: &Actor,
        id: i64,
        action: ArticleAction,
    ) -> Result<Article> {
        let granted = actor.authorize::<Supervise>()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let a = store::article(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("kb_article", "知识条目不存在"))?;
        let to = a.transition(action)?;
        store::set_article_status(&mut tx, granted, id, to, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "kb_article",
            id,
            to.code(),
            json!({"version": a.version}),
        )
        .await?;
        let a = store::article(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("article vanished"))?;
        tx.commit().await?;
        Ok(a)
    }

    // ---- reply templates ----

    pub async fn templates(
        &self,
        actor: &Actor,
        category_id: Option<i64>,
    ) -> Result<Vec<ReplyTemplate>> {
        if !Self::is_staff(actor) {
            return Err(Error::forbidden("仅限工作人员访问"));
        }
        store::templates(&mut *self.conn().await?, category_id).await
    }

    pub async fn create_template(&self, actor: &Actor, t: NewReplyTemplate) -> Result<i64> {
        let granted = actor.authorize::<Administer>()?;
        t.validate()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_template(&mut tx, granted, &t, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "reply_template",
            id,
            "create",
            json!({"title": t.title}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_template(&self, actor: &Actor, id: i64) -> Result<()> {
        let granted = actor.authorize::<Administer>()?;
        let mut tx = self.db.begin().await?;
        if !store::delete_template(&mut tx, granted, id).await? {
            return Err(Error::not_found("reply_template", "模板不存在"));
        }
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "reply_template",
            id,
            "delete",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
