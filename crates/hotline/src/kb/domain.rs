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

/// One saved version of an article.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ArticleVersion {
    pub version: i64,
    pub question: String,
    pub answer: String,
    pub edited_by: String,
    pub edited_at: i64,
}

/// A reply template (答复模板) for a category and/or ticket state, with placeholders:
/// `{编号}` `{市民}` `{标题}` `{单位}` `{日期}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplyTemplate {
    pub id: i64,
    pub category_id: Option<i64>,
    /// The state it is offered in (`replied` for replies, `closed` for answer-now…); none for all.
    pub status: Option<String>,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReplyTemplate {
    pub category_id: Option<i64>,
    pub status: Option<String>,
    pub title: String,
    pub body: String,
}

pub const PLACEHOLDERS: [&str; 5] = ["{编号}", "{市民}", "{标题}", "{单位}", "{日期}"];

impl NewReplyTemplate {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("title", "模板名称", &self.title, 60);
        c.text("body", "模板内容", &self.body, 4000);
        if let Some(s) = self.status.as_deref() {
            c.check(
                crate::ticket::domain::Status::parse(s).is_some(),
                "status",
                "invalid_enum",
                "未知的工单状态",
            );
        }
        // Catch typos such as {编码}: every {…} must be a known placeholder.
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find('{') {
            let Some(j) = rest[i..].find('}') else { break };
            let ph = &rest[i..i + j + 1];
            if !PLACEHOLDERS.contains(&ph) {
                c.add(
                    "body",
                    "unknown_placeholder",
                    format!("未知的占位符 {ph}，可用：{}", PLACEHOLDERS.join(" ")),
                );
                break;
            }
            rest = &rest[i + j + 1..];
        }
        c.finish()
    }
}

/// Fills a template's placeholders.
/// How a reply addresses the caller: as recorded when the operator wrote a form of address
/// (钱女士, 王先生), the name itself otherwise, 市民 when there is none or the caller is
/// anonymous — never a guessed "钱先生/女士".
pub fn salutation(name: Option<&str>, anonymous: bool) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if !anonymous => n.to_owned(),
        _ => "市民".into(),
    }
}

/// What a template leaves for the writer to fill in; a reply still holding one is unfinished.
pub const UNFILLED: &[&str] = &["……", "{编号}", "{市民}", "{标题}", "{单位}", "{日期}"];

pub fn render_template(
    body: &str,
    number: &str,
    caller: &str,
    title: &str,
    dept: &str,
    date: &str,
) -> String {
    body.replace("{编号}", number)
        .replace("{市民}", caller)
        .replace("{标题}", title)
        .replace("{单位}", dept)
        .replace("{日期}", date)
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn the_caller_is_addressed_as_recorded() {
        assert_eq!(salutation(Some("钱女士"), false), "钱女士");
        assert_eq!(salutation(Some(" 王先生 "), false), "王先生");
        assert_eq!(salutation(Some("钱红"), false), "钱红");
        assert_eq!(salutation(Some("钱女士"), true), "市民");
        assert_eq!(salutation(Some(""), false), "市民");
        assert_eq!(salutation(None, false), "市民");
    }

    #[test]
    fn templates_fill_and_refuse_typos() {
        let t = NewReplyTemplate {
            category_id: None,
            status: None,
            title: "通用".into(),
            body: "{市民}您好，您反映的{标题}（{编码}）".into(),
        };
        assert_eq!(t.validate().unwrap_err().field_name(), Some("body"));
        assert_eq!(
            render_template("{市民}您好，{编号}", "N1", "张先生", "", "", ""),
            "张先生您好，N1"
        );
    }
}
