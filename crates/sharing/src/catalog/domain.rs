//! 政务信息资源目录 entries and their versions, pure: the core metadata, its checks, the
//! review's state machine, and how one value is checked against its 信息项.

use chrono::{NaiveDate, NaiveDateTime};
use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `tt`, not `literal`, for the codes: utoipa does not see a `literal` fragment in
// `#[serde(rename = …)]` and would document the variants' Rust names instead of their codes.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:tt / $label:tt),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        $(#[$m])*
        pub enum $name { $($(#[$vm])* #[serde(rename = $code)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn code(self) -> &'static str { match self { $($name::$v => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$v => $label),+ } }
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|x| x.code() == s || x.label() == s)
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// 资源分类: 基础, 主题, 部门 resources.
    #[schema(as = SharingCategory)]
    Category {
        Basic = "basic" / "基础信息资源",
        Theme = "theme" / "主题信息资源",
        Department = "department" / "部门信息资源",
    }
);

code_enum!(
    /// 信息项的数据类型.
    DataType {
        Char = "char" / "字符型",
        Int = "int" / "整数型",
        Decimal = "decimal" / "数值型",
        Date = "date" / "日期型",
        Datetime = "datetime" / "日期时间型",
        Bool = "bool" / "布尔型",
    }
);

code_enum!(
    /// What a character field holds when it is one of the identifiers checked or masked by kind.
    Semantic {
        Plain = "plain" / "一般",
        IdCard = "id_card" / "身份证号",
        CreditCode = "credit_code" / "统一社会信用代码",
        Mobile = "mobile" / "手机号",
        Name = "name" / "姓名",
        Address = "address" / "地址",
    }
);

code_enum!(
    /// 共享属性.
    ShareKind {
        Unconditional = "unconditional" / "无条件共享",
        Conditional = "conditional" / "有条件共享",
        NotShared = "not_shared" / "不予共享",
    }
);

code_enum!(
    /// 开放属性.
    OpenKind {
        Open = "open" / "无条件开放",
        Conditional = "conditional" / "有条件开放",
        NotOpen = "not_open" / "不予开放",
    }
);

code_enum!(
    /// 更新周期.
    UpdateCycle {
        Realtime = "realtime" / "实时",
        Daily = "daily" / "每日",
        Weekly = "weekly" / "每周",
        Monthly = "monthly" / "每月",
        Quarterly = "quarterly" / "每季度",
        HalfYearly = "half_yearly" / "每半年",
        Yearly = "yearly" / "每年",
        Irregular = "irregular" / "不定期",
    }
);

impl UpdateCycle {
    /// How long after its last update a resource is overdue (更新率), with a day's grace for
    /// the nightly loads; `None` for 不定期 (never overdue). 实时 allows one day as well: a
    /// real-time feed silent for a day has stopped.
    pub fn allowed_ms(self) -> Option<i64> {
        const DAY: i64 = 86_400_000;
        Some(match self {
            UpdateCycle::Realtime | UpdateCycle::Daily => 2 * DAY,
            UpdateCycle::Weekly => 8 * DAY,
            UpdateCycle::Monthly => 32 * DAY,
            UpdateCycle::Quarterly => 93 * DAY,
            UpdateCycle::HalfYearly => 185 * DAY,
            UpdateCycle::Yearly => 367 * DAY,
            UpdateCycle::Irregular => return None,
        })
    }
}

code_enum!(
    /// A version's place in the review.
    VersionStatus {
        Draft = "draft" / "草稿",
        Submitted = "submitted" / "待审核",
        Published = "published" / "已发布",
        Returned = "returned" / "已退回",
        Superseded = "superseded" / "已被新版本取代",
    }
);

/// One 信息项.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// 信息项名称 (`姓名`).
    pub name: String,
    /// 英文字段名 (`name`): what the gateway and uploads call it.
    pub field: String,
    pub data_type: DataType,
    /// 长度: characters for char, digits for int/decimal; 0 for no limit (dates, bools).
    #[serde(default)]
    pub length: u32,
    /// Digits after the point for decimal.
    #[serde(default)]
    pub scale: u32,
    #[serde(default)]
    pub sensitive: bool,
    /// 是否涉密: a secret item is never served by the gateway.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub primary_key: bool,
    /// 数据元 / 代码集 it follows, if any.
    #[serde(default)]
    pub element: String,
    #[serde(default = "plain")]
    pub semantic: Semantic,
    /// Whether a row may leave it empty.
    #[serde(default)]
    pub required: bool,
    /// 一数一源: the department whose values of this 信息项 are authoritative (base registries
    /// only); `None` means the entry's provider. A 数据异议 on the item goes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_dept_id: Option<i64>,
}

fn plain() -> Semantic {
    Semantic::Plain
}

impl Item {
    /// Whether the item carries personal, sensitive or secret data — what open data never
    /// carries (身份证号, 手机号, names and addresses by their kind, and anything marked).
    pub fn is_personal(&self) -> bool {
        self.sensitive
            || self.secret
            || matches!(
                self.semantic,
                Semantic::IdCard | Semantic::Mobile | Semantic::Name | Semantic::Address
            )
    }
}

/// What a version of an entry says. A published version never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryContent {
    /// 信息资源名称.
    pub name: String,
    /// 信息资源摘要.
    pub summary: String,
    /// 信息资源格式 (`数据库`, `电子文件`, `接口` …).
    pub format: String,
    pub items: Vec<Item>,
    pub share_kind: ShareKind,
    /// 共享条件 (有条件共享) or 不予共享依据.
    #[serde(default)]
    pub share_condition: String,
    /// 共享方式 (`接口`, `库表`, `文件`).
    #[serde(default)]
    pub share_mode: String,
    pub open_kind: OpenKind,
    #[serde(default)]
    pub open_condition: String,
    pub update_cycle: UpdateCycle,
    /// 关联资源代码.
    #[serde(default)]
    pub related: Vec<String>,
}

pub fn is_field_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

impl EntryContent {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "信息资源名称", &self.name, 100);
        c.text("summary", "信息资源摘要", &self.summary, 2000);
        c.text("format", "信息资源格式", &self.format, 40);
        if self.items.is_empty() {
            c.add("items", "required", "请至少填写一个信息项");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, it) in self.items.iter().enumerate() {
            let p = |f: &str| format!("items[{i}].{f}");
            c.text(&p("name"), "信息项名称", &it.name, 60);
            if !is_field_name(&it.field) {
                c.add(
                    &p("field"),
                    "invalid_field_name",
                    "英文字段名须以小写字母开头，只含小写字母、数字和下划线，至多 40 个字符",
                );
            } else if !seen.insert(it.field.as_str()) {
                c.add(
                    &p("field"),
                    "duplicate_field",
                    format!("英文字段名“{}”重复", it.field),
                );
            }
            match it.data_type {
                DataType::Char if it.length == 0 || it.length > 4000 => c.add(
                    &p("length"),
                    "invalid_length",
                    "字符型信息项的长度须在 1–4000 之间",
                ),
                DataType::Int | DataType::Decimal if it.length > 38 => {
                    c.add(&p("length"), "invalid_length", "数值的位数不能超过 38")
                }
                _ => {}
            }
            if it.data_type == DataType::Decimal && it.length > 0 && it.scale >= it.length {
                c.add(&p("scale"), "invalid_scale", "小数位数须小于总位数");
            }
            if it.semantic != Semantic::Plain && it.data_type != DataType::Char {
                c.add(
                    &p("semantic"),
                    "invalid_semantic",
                    format!("{}只能是字符型信息项", it.semantic.label()),
                );
            }
            if it.element.chars().count() > 100 {
                c.add(&p("element"), "too_long", "数据元/代码集不能超过 100 个字");
            }
        }
        if self.items.iter().filter(|i| i.primary_key).count() > 1 {
            c.add("items", "one_primary_key", "至多一个信息项可作为主键");
        }
        match self.share_kind {
            ShareKind::Conditional if self.share_condition.trim().is_empty() => {
                c.add("share_condition", "required", "有条件共享须写明共享条件")
            }
            ShareKind::NotShared if self.share_condition.trim().is_empty() => c.add(
                "share_condition",
                "required",
                "不予共享须写明依据（法律法规或政策文件）",
            ),
            _ => {}
        }
        if self.open_kind == OpenKind::Conditional && self.open_condition.trim().is_empty() {
            c.add("open_condition", "required", "有条件开放须写明开放条件");
        }
        for (i, r) in self.related.iter().enumerate() {
            if !is_entry_code(r) {
                c.add(
                    &format!("related[{i}]"),
                    "invalid_code",
                    format!("关联资源代码“{r}”格式不正确"),
                );
            }
        }
        c.finish()
    }

    pub fn item(&self, field: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.field == field)
    }

    /// Refuses content that would open personal or sensitive 信息项 to the public: an entry
    /// opened (无条件 or 有条件开放) must hold none. Checked when a version is submitted and
    /// again when it is published.
    pub fn check_open(&self) -> Result<()> {
        if self.open_kind == OpenKind::NotOpen {
            return Ok(());
        }
        let personal: Vec<&str> = self
            .items
            .iter()
            .filter(|i| i.is_personal())
            .map(|i| i.name.as_str())
            .collect();
        if personal.is_empty() {
            return Ok(());
        }
        Err(Error::field(
            "open_kind",
            "personal_data_not_openable",
            format!(
                "信息项“{}”含个人信息或敏感信息，不能向社会开放：请将开放属性改为不予开放，或去掉这些信息项后另建开放目录",
                personal.join("”“")
            ),
        ))
    }
}

/// A new entry: its classification and its first draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    pub category: Category,
    /// 类/项/目/细目 codes, one to four segments of 1–3 digits or capital letters
    /// (`["1", "01", "001"]`). Together with the category's letter they make the 分类码.
    pub class: Vec<String>,
    /// 提供方: defaults to the data officer's department.
    #[serde(default)]
    pub provider_dept_id: Option<i64>,
    pub content: EntryContent,
}

impl NewEntry {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        if self.class.is_empty() || self.class.len() > 4 {
            c.add(
                "class",
                "invalid_class",
                "分类须有类、项、目、细目中的 1–4 级",
            );
        }
        for (i, s) in self.class.iter().enumerate() {
            let ok = (1..=3).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if !ok {
                c.add(
                    &format!("class[{i}]"),
                    "invalid_class",
                    "分类码每级为 1–3 位数字或大写字母",
                );
            }
        }
        if let Err(Error::Validation(f)) = self.content.validate() {
            for mut e in f {
                e.field = format!("content.{}", e.field);
                c.add(&e.field, &e.code, e.detail);
            }
        }
        c.finish()
    }

    /// 分类码: the category's letter and the levels' codes.
    pub fn class_code(&self) -> String {
        let letter = match self.category {
            Category::Basic => "A",
            Category::Theme => "B",
            Category::Department => "C",
        };
        format!("{letter}{}", self.class.concat())
    }
}

/// 资源代码: 分类码 and a six-digit 顺序码. The catalog standard writes them with a `/`; a `-`
/// keeps the code one segment of a URL path (`/gateway/v1/resources/{code}`).
pub fn entry_code(class_code: &str, seq: i64) -> String {
    format!("{class_code}-{seq:06}")
}

pub fn is_entry_code(s: &str) -> bool {
    match s.split_once('-') {
        Some((class, seq)) => {
            (2..=13).contains(&class.len())
                && class
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                && seq.len() == 6
                && seq.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Entry {
    pub id: i64,
    pub code: String,
    pub class_code: String,
    pub provider_dept_id: i64,
    /// 0 until a version is published.
    pub published_version: i64,
    /// 发布日期 of the version in force.
    pub published_at: Option<i64>,
    pub created_at: i64,
}

impl Entry {
    /// 资源分类, read from the 分类码's letter.
    pub fn category(&self) -> Category {
        match self.class_code.chars().next() {
            Some('A') => Category::Basic,
            Some('B') => Category::Theme,
            _ => Category::Department,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EntryVersion {
    pub entry_id: i64,
    pub version: i64,
    pub status: VersionStatus,
    pub content: EntryContent,
    pub return_reason: String,
    pub submitted_at: Option<i64>,
    pub reviewed_at: Option<i64>,
}

/// What the review may do to a version in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    Edit,
    Submit,
    Publish,
    Return,
}

impl VersionStatus {
    /// The status after `a`, or the refusal in words.
    pub fn apply(self, a: ReviewAction) -> Result<VersionStatus> {
        use ReviewAction::*;
        use VersionStatus::*;
        match (self, a) {
            (Draft | Returned, Edit) => Ok(Draft),
            (Draft | Returned, Submit) => Ok(Submitted),
            (Submitted, Publish) => Ok(Published),
            (Submitted, Return) => Ok(Returned),
            (s, a) => Err(Error::IllegalTransition {
                detail: format!(
                    "目录{}状态下不能{}",
                    s.label(),
                    match a {
                        Edit => "修改",
                        Submit => "提交审核",
                        Publish => "发布",
                        Return => "退回",
                    }
                ),
            }),
        }
    }
}

/// Checks one cell against its 信息项 and gives the canonical text stored (ints without
/// leading zeros or `+`, decimals as written within the scale, dates `YYYY-MM-DD`, datetimes
/// `YYYY-MM-DD HH:MM:SS`, bools `true`/`false`, identifiers in capitals), or why it is refused.
/// An empty cell is `Ok(None)` unless the item is required or a primary key.
pub fn check_value(item: &Item, raw: &str) -> std::result::Result<Option<String>, String> {
    let v = raw.trim();
    if v.is_empty() {
        return if item.required || item.primary_key {
            Err("不能为空".into())
        } else {
            Ok(None)
        };
    }
    let too_long = |n: usize| item.length > 0 && n > item.length as usize;
    let out = match item.data_type {
        DataType::Char => {
            let n = v.chars().count();
            if too_long(n) {
                return Err(format!("长度 {n} 超过 {} 个字符", item.length));
            }
            match item.semantic {
                Semantic::IdCard => {
                    let up = v.to_ascii_uppercase();
                    kernel::codes::check_id_card(&up)?;
                    up
                }
                Semantic::CreditCode => {
                    let up = v.to_ascii_uppercase();
                    kernel::codes::check_credit_code(&up)?;
                    up
                }
                Semantic::Mobile => {
                    kernel::codes::check_mobile(v)?;
                    v.to_owned()
                }
                _ => v.to_owned(),
            }
        }
        DataType::Int => {
            let n: i64 = v.parse().map_err(|_| format!("“{v}”不是整数"))?;
            let s = n.to_string();
            if too_long(s.trim_start_matches('-').len()) {
                return Err(format!("超过 {} 位", item.length));
            }
            s
        }
        DataType::Decimal => {
            let (neg, body) = match v.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, v),
            };
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            if int.is_empty() || !digits(int) || !digits(frac) || body.ends_with('.') {
                return Err(format!("“{v}”不是数值"));
            }
            if frac.len() > item.scale as usize && item.length > 0 {
                return Err(format!("小数位超过 {} 位", item.scale));
            }
            let int = int.trim_start_matches('0');
            let int = if int.is_empty() { "0" } else { int };
            if item.length > 0 && int.len() + item.scale as usize > item.length as usize {
                return Err(format!("超过 {} 位", item.length));
            }
            let sign = if neg { "-" } else { "" };
            if frac.is_empty() {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            }
        }
        DataType::Date => parse_date(v)
            .ok_or_else(|| format!("“{v}”不是日期（YYYY-MM-DD）"))?
            .format("%Y-%m-%d")
            .to_string(),
        DataType::Datetime => parse_datetime(v)
            .ok_or_else(|| format!("“{v}”不是日期时间（YYYY-MM-DD HH:MM:SS）"))?
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        DataType::Bool => match v {
            "1" | "true" | "TRUE" | "True" | "是" | "Y" | "y" => "true".into(),
            "0" | "false" | "FALSE" | "False" | "否" | "N" | "n" => "false".into(),
            _ => return Err(format!("“{v}”不是布尔值（是/否）")),
        },
    };
    Ok(Some(out))
}

fn parse_date(v: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(v, f).ok())
}

fn parse_datetime(v: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
    .or_else(|| parse_date(v).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(t: DataType, len: u32) -> Item {
        Item {
            name: "x".into(),
            field: "x".into(),
            data_type: t,
            length: len,
            scale: 2,
            sensitive: false,
            secret: false,
            primary_key: false,
            element: String::new(),
            semantic: Semantic::Plain,
            required: false,
            source_dept_id: None,
        }
    }

    #[test]
    fn values_are_checked_and_made_canonical() {
        let c = item(DataType::Char, 3);
        assert_eq!(
            check_value(&c, "张三丰").unwrap().as_deref(),
            Some("张三丰")
        );
        assert!(check_value(&c, "欧阳娜娜").unwrap_err().contains("超过 3"));
        assert_eq!(check_value(&c, "  ").unwrap(), None);
        let i = item(DataType::Int, 4);
        assert_eq!(check_value(&i, "0042").unwrap().as_deref(), Some("42"));
        assert!(check_value(&i, "12345").is_err());
        assert!(check_value(&i, "1.5").is_err());
        let d = item(DataType::Decimal, 6);
        assert_eq!(check_value(&d, "007.5").unwrap().as_deref(), Some("7.5"));
        assert!(check_value(&d, "1.234").is_err());
        assert!(check_value(&d, "12345.1").is_err());
        assert!(check_value(&d, "1.").is_err());
        let dt = item(DataType::Date, 0);
        assert_eq!(
            check_value(&dt, "1990/3/7").unwrap().as_deref(),
            Some("1990-03-07")
        );
        assert!(check_value(&dt, "1990-02-30").is_err());
        let b = item(DataType::Bool, 0);
        assert_eq!(check_value(&b, "是").unwrap().as_deref(), Some("true"));
        let mut id = item(DataType::Char, 18);
        id.semantic = Semantic::IdCard;
        let good = kernel::codes::id_card_with_check("11010519900307123");
        assert!(check_value(&id, &good).is_ok());
        let bad = format!(
            "{}{}",
            &good[..17],
            if good.ends_with('0') { "1" } else { "0" }
        );
        assert!(check_value(&id, &bad).is_err());
        id.required = true;
        assert!(check_value(&id, "").is_err());
    }

    #[test]
    fn open_entries_hold_no_personal_item() {
        let mut c = EntryContent {
            name: "企业".into(),
            summary: "企业".into(),
            format: "数据库".into(),
            items: vec![item(DataType::Char, 10)],
            share_kind: ShareKind::Unconditional,
            share_condition: String::new(),
            share_mode: String::new(),
            open_kind: OpenKind::Open,
            open_condition: String::new(),
            update_cycle: UpdateCycle::Daily,
            related: vec![],
        };
        assert!(c.check_open().is_ok());
        for (sensitive, secret, semantic) in [
            (true, false, Semantic::Plain),
            (false, true, Semantic::Plain),
            (false, false, Semantic::IdCard),
            (false, false, Semantic::Mobile),
            (false, false, Semantic::Name),
            (false, false, Semantic::Address),
        ] {
            let mut it = item(DataType::Char, 18);
            it.name = "个人".into();
            (it.sensitive, it.secret, it.semantic) = (sensitive, secret, semantic);
            c.items.push(it);
            let e = c.check_open().unwrap_err();
            assert_eq!(e.field_name(), Some("open_kind"));
            assert!(e.detail().contains("个人"), "{}", e.detail());
            c.open_kind = OpenKind::NotOpen;
            assert!(c.check_open().is_ok(), "not opened: nothing to refuse");
            c.open_kind = OpenKind::Open;
            c.items.pop();
        }
        let mut credit = item(DataType::Char, 18);
        credit.semantic = Semantic::CreditCode;
        c.items.push(credit);
        assert!(c.check_open().is_ok(), "a company's code is not personal");
    }

    #[test]
    fn review_state_machine() {
        use ReviewAction::*;
        use VersionStatus::*;
        assert_eq!(Draft.apply(Submit).unwrap(), Submitted);
        assert_eq!(Submitted.apply(Return).unwrap(), Returned);
        assert_eq!(Returned.apply(Submit).unwrap(), Submitted);
        assert_eq!(Submitted.apply(Publish).unwrap(), Published);
        assert!(Draft.apply(Publish).is_err());
        assert!(Published.apply(Edit).is_err());
        assert!(Submitted.apply(Edit).is_err());
    }

    #[test]
    fn codes() {
        assert_eq!(entry_code("A10101", 7), "A10101-000007");
        assert!(is_entry_code("A10101-000007"));
        assert!(!is_entry_code("A10101/000007"));
    }
}

#[cfg(test)]
mod openapi_codes {
    use super::*;

    /// The document must name the codes the API sends ("char"), not the Rust variants ("Char").
    #[test]
    fn code_enums_are_documented_by_their_codes() {
        let schema = serde_json::to_value(<DataType as utoipa::PartialSchema>::schema()).unwrap();
        let values: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let codes: Vec<&str> = DataType::ALL.iter().map(|d| d.code()).collect();
        assert_eq!(values, codes);
    }
}
