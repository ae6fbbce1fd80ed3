//! Knowledge-base articles (知识库): question, answer, validity, review workflow, versions.

use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Reviewed,
    Published,
    Withdrawn,
}

impl ArticleStatus {
    pub fn code(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Reviewed => "reviewed",
            ArticleStatus::Published => "published",
            ArticleStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "草稿",
            ArticleStatus::Reviewed => "已审核",
            ArticleStatus::Published => "已发布",
            ArticleStatus::Withdrawn => "已下线",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ArticleStatus::Draft,
            ArticleStatus::Reviewed,
            ArticleStatus::Published,
            ArticleStatus::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Article {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category_id: Option<i64>,
    pub dept_id: Option<i64>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub status: ArticleStatus,
    pub version: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub question: String,
    pub answer: String,
    pub category_id: Option<i64>,
    pub dept_id: Option<i64>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

impl ArticleInput {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("question", "问题", &self.question, 300);
        c.text("answer", "答案", &self.answer, 8000);
        let date = |s: &Option<String>| {
            s.as_deref()
                .filter(|x| !x.is_empty())
                .map(|x| chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d"))
        };
        let from = date(&self.valid_from);
        let until = date(&self.valid_until);
        if let Some(Err(_)) = from {
            c.add("valid_from", "invalid_date", "生效日期格式应为 2025-03-14");
        }
        if let Some(Err(_)) = until {
            c.add("valid_until", "invalid_date", "失效日期格式应为 2025-03-14");
        }
        if let (Some(Ok(a)), Some(Ok(b))) = (from, until) {
            c.check(
                a <= b,
                "valid_until",
                "before_start",
                "失效日期不能早于生效日期",
            );
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleAction {
    Review,
    Publish,
    Withdraw,
}

impl Article {
    /// draft → reviewed → published; published or reviewed → withdrawn. An edit (handled by the
    /// service) makes a new version in draft.
    pub fn transition(&self, action: ArticleAction) -> Result<ArticleStatus> {
        use ArticleStatus::*;
        match (self.status, action) {
            (Draft, ArticleAction::Review) => Ok(Reviewed),
            (Reviewed, ArticleAction::Publish) => Ok(Published),
            (Reviewed | Published, ArticleAction::Withdraw) => Ok(Withdrawn),
            (s, a) => Err(Error::IllegalTransition {
                detail: format!(
                    "知识条目当前为“{}”，不能{}",
                    s.label(),
                    match a {
                        ArticleAction::Review => "审核",
                        ArticleAction::Publish => "发布（须先审核）",
                        ArticleAction::Withdraw => "下线",
                    }
                ),
            }),
        }
    }

    /// Published and valid on `day` (`YYYY-MM-DD`).
    pub fn is_live(&self, day: &str) -> bool {
        self.status == ArticleStatus::Published
            && self.valid_from.as_deref().is_none_or(|f| f <= day)
            && self.valid_until.as_deref().is_none_or(|u| day <= u)
    }
}
