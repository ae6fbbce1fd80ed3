//! 好差评: five levels kept as words (provincial platforms number them in opposite
//! directions, so codes are mapped per interface), one evaluation per case and applicant unless a
//! rectification came after it; 差评 opens a rectification (整改) reviewed by a supervisor.

use crate::domain::code_enum;
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

code_enum!(
    Level {
        VerySatisfied => "very_satisfied", "非常满意",
        Satisfied => "satisfied", "满意",
        Basic => "basic", "基本满意",
        Dissatisfied => "dissatisfied", "不满意",
        VeryDissatisfied => "very_dissatisfied", "非常不满意",
    }
);

impl Level {
    /// 好评: 非常满意, 满意, 基本满意.
    pub fn is_good(self) -> bool {
        !self.is_bad()
    }
    /// 差评: 不满意, 非常不满意.
    pub fn is_bad(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }
}

code_enum!(
    /// How an outside interface numbers the levels: `high_is_good` 5 = 非常满意 … 1 = 非常不满意
    /// (the national platform's order), `low_is_good` 1 = 非常满意 … 5 = 非常不满意.
    Coding {
        HighIsGood => "high_is_good", "5 为非常满意",
        LowIsGood => "low_is_good", "1 为非常满意",
    }
);

impl Coding {
    pub fn code_of(self, l: Level) -> u8 {
        let i = Level::ALL.iter().position(|x| *x == l).expect("listed") as u8;
        match self {
            Coding::LowIsGood => i + 1,
            Coding::HighIsGood => 5 - i,
        }
    }
    pub fn level_of(self, code: u8) -> Option<Level> {
        if !(1..=5).contains(&code) {
            return None;
        }
        let i = match self {
            Coding::LowIsGood => code - 1,
            Coding::HighIsGood => 5 - code,
        };
        Level::ALL.get(usize::from(i)).copied()
    }
}

code_enum!(
    EvalChannel {
        Web => "web", "网上评价",
        Window => "window", "窗口评价器",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub text: String,
}

impl NewEvaluation {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.check(self.tags.len() <= 10, "tags", "too_many", "标签最多 10 个");
        c.check(
            self.text.chars().count() <= 2000,
            "text",
            "too_long",
            "评价内容不能超过 2000 字",
        );
        if self.level.is_bad() {
            c.check(
                !self.text.trim().is_empty() || !self.tags.is_empty(),
                "text",
                "required",
                "差评请说明原因，便于部门整改",
            );
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub dept_id: i64,
    pub item_id: i64,
    /// Who rated: the applicant's 身份证号 or 统一社会信用代码, as on the case.
    pub applicant_id_no: String,
    /// 1 for the first rating; 2 after a rectification.
    pub round: i64,
    pub level: Level,
    pub tags: Vec<String>,
    pub text: String,
    pub channel: EvalChannel,
    /// Staff who handled the case.
    pub staff: Vec<i64>,
    pub created_at: i64,
}

code_enum!(
    RectificationStatus {
        Open => "open", "待整改",
        Replied => "replied", "待审核",
        Done => "done", "已整改",
    }
);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rectification {
    pub id: i64,
    pub evaluation_id: i64,
    pub case_number: String,
    pub dept_id: i64,
    pub status: RectificationStatus,
    pub due_at: i64,
    /// The department's reply to the citizen and what it changed.
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub review_note: Option<String>,
    pub reviewed_at: Option<i64>,
    pub created_at: i64,
}

code_enum!(
    FeedbackStatus {
        Open => "open", "待处理",
        Answered => "answered", "已答复",
    }
);

/// 办不成事反映.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    pub name: String,
    pub phone: String,
    /// The item the citizen could not get done, if known.
    #[serde(default)]
    pub item_id: Option<i64>,
    pub text: String,
}

impl NewFeedback {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "姓名", &self.name, 50);
        c.check(
            kernel::codes::check_mobile(self.phone.trim()).is_ok(),
            "phone",
            "invalid_mobile",
            "手机号不正确",
        );
        c.text("text", "反映内容", &self.text, 4000);
        c.finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Feedback {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub phone: String,
    pub item_id: Option<i64>,
    pub dept_id: Option<i64>,
    pub text: String,
    pub status: FeedbackStatus,
    pub answer: Option<String>,
    pub answered_by: Option<i64>,
    pub created_at: i64,
    pub answered_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_words_and_codes_depend_on_the_interface() {
        assert_eq!(Coding::HighIsGood.code_of(Level::VerySatisfied), 5);
        assert_eq!(Coding::LowIsGood.code_of(Level::VerySatisfied), 1);
        assert_eq!(Coding::HighIsGood.code_of(Level::VeryDissatisfied), 1);
        for c in Coding::ALL {
            for l in Level::ALL {
                assert_eq!(c.level_of(c.code_of(*l)), Some(*l));
            }
            assert_eq!(c.level_of(0), None);
            assert_eq!(c.level_of(6), None);
        }
        assert_eq!(Coding::LowIsGood.level_of(4), Some(Level::Dissatisfied));
        assert_eq!(Coding::HighIsGood.level_of(4), Some(Level::Satisfied));
        assert!(Level::Basic.is_good() && Level::Dissatisfied.is_bad());
    }

    #[test]
    fn a_bad_rating_needs_a_reason() {
        let e = NewEvaluation {
            level: Level::Dissatisfied,
            tags: vec![],
            text: " ".into(),
        };
        assert_eq!(e.validate().unwrap_err().field_name(), Some("text"));
        let ok = NewEvaluation {
            tags: vec!["等候时间长".into()],
            ..e
        };
        assert!(ok.validate().is_ok());
    }
}
