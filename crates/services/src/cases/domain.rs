//! 办件 and its state machine. Every change goes through [`Case::apply`] (or the two system
//! steps, [`Case::open`] and [`Case::auto_decide`]), which refuses illegal transitions and leaves
//! the case untouched when it does.
//!
//! The clock starts at acceptance, stops during 补正 and 特别程序 (the deadline moves by the
//! time stopped, in the item's unit) and counts in working days, calendar days or working hours.

use crate::cases::rules::AutoDecision;
use crate::domain::code_enum;
use crate::items::domain::{DeliveryMethod, FieldKind, FormField, Material};
use kernel::calendar::Calendar;
use kernel::clock::Millis;
use kernel::deadline::{self, TimeUnit};
use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

code_enum!(
    CaseStatus {
        Waiting => "waiting", "待前序事项办结",
        Submitted => "submitted", "待受理",
        Supplement => "supplement", "待补正",
        Accepted => "accepted", "审查中",
        Special => "special", "特别程序中",
        Decided => "decided", "已作出决定",
        Closed => "closed", "已办结",
        Delivered => "delivered", "已出件",
        Rejected => "rejected", "不予受理",
        Withdrawn => "withdrawn", "已撤回",
    }
);

code_enum!(
    /// Where the application came in.
    Channel {
        Online => "online", "网上申请",
        Window => "window", "综合窗口",
    }
);

code_enum!(
    ApplicantKind {
        Person => "person", "自然人",
        Company => "company", "法人或其他组织",
    }
);

code_enum!(
    /// 亮牌.
    Card {
        None => "none", "正常",
        Yellow => "yellow", "黄牌",
        Red => "red", "红牌",
    }
);

code_enum!(
    /// How a material came to the case.
    MaterialSource {
        Submitted => "submitted", "申请人提交",
        License => "license", "电子证照调取",
        SharedData => "shared_data", "共享数据调取",
        Missing => "missing", "未提交",
    }
);

impl CaseStatus {
    /// Still needs someone to act.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseStatus::Closed
                | CaseStatus::Delivered
                | CaseStatus::Rejected
                | CaseStatus::Withdrawn
        )
    }
    /// Finished with a result (办结 or later).
    pub fn is_done(self) -> bool {
        matches!(self, CaseStatus::Closed | CaseStatus::Delivered)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub kind: ApplicantKind,
    pub name: String,
    /// 身份证号 for a person, 统一社会信用代码 for a company.
    pub id_no: String,
    pub phone: String,
    /// The citizen account that applied, when online.
    #[serde(default)]
    pub user_id: Option<i64>,
}

impl Applicant {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("applicant.name", "申请人名称", &self.name, 100);
        let id = self.id_no.trim();
        match self.kind {
            ApplicantKind::Person => c.check(
                kernel::codes::check_id_card(id).is_ok(),
                "applicant.id_no",
                "invalid_id_card",
                "身份证号不正确（应为 18 位，校验位正确）",
            ),
            ApplicantKind::Company => c.check(
                kernel::codes::check_credit_code(id).is_ok(),
                "applicant.id_no",
                "invalid_credit_code",
                "统一社会信用代码不正确（应为 18 位，校验位正确）",
            ),
        }
        c.check(
            kernel::codes::check_mobile(self.phone.trim()).is_ok(),
            "applicant.phone",
            "invalid_mobile",
            "手机号不正确",
        );
        c.finish()
    }
}

/// A part of the applicant block that a form field may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicantPart {
    Name,
    IdNo,
    Phone,
}

/// Which part of the applicant block `f` asks for again, if any. 一数一源: the applicant's
/// name, ID number (身份证号, or 统一社会信用代码 for a company) and phone are given once, in the
/// applicant block, and a form field that repeats them takes its value from there. A field is
/// such a repeat by its conventional key and kind (`name`/`applicant_name`; `id_no`/`id_card`
/// as 身份证号 for a person or `id_no`/`credit_code` as 信用代码 for a company; `mobile`/`phone`
/// as 手机号); other fields (a legal representative's ID, a contact's phone) are still asked.
pub fn applicant_part(f: &FormField, kind: ApplicantKind) -> Option<ApplicantPart> {
    let key = f.key.as_str();
    match f.kind {
        FieldKind::Text if matches!(key, "name" | "applicant_name") => Some(ApplicantPart::Name),
        FieldKind::IdCard
            if kind == ApplicantKind::Person
                && matches!(key, "id_no" | "id_card" | "applicant_id_no") =>
        {
            Some(ApplicantPart::IdNo)
        }
        FieldKind::CreditCode
            if kind == ApplicantKind::Company
                && matches!(key, "id_no" | "credit_code" | "applicant_id_no") =>
        {
            Some(ApplicantPart::IdNo)
        }
        FieldKind::Mobile if matches!(key, "mobile" | "phone" | "applicant_phone") => {
            Some(ApplicantPart::Phone)
        }
        _ => None,
    }
}

/// Fills the fields that repeat the applicant block from it. A value sent for such a field
/// anyway must be the same (one source, never two versions of a person's ID on one case).
pub fn fill_from_applicant(
    fields: &[FormField],
    form: &mut Map<String, Value>,
    a: &Applicant,
) -> Result<()> {
    let mut c = Checks::new();
    for f in fields {
        let Some(part) = applicant_part(f, a.kind) else {
            continue;
        };
        let (value, what) = match part {
            ApplicantPart::Name => (a.name.trim(), "申请人名称"),
            ApplicantPart::IdNo => (a.id_no.trim(), "申请人证件号码"),
            ApplicantPart::Phone => (a.phone.trim(), "申请人手机号"),
        };
        let given = form
            .get(&f.key)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        c.check(
            given.is_empty() || given.eq_ignore_ascii_case(value),
            &format!("form.{}", f.key),
            "differs_from_applicant",
            format!(
                "{}与{what}不一致（此项取自申请人信息，无需重复填写）",
                f.label
            ),
        );
        form.insert(f.key.clone(), json!(value));
    }
    c.finish()
}

/// One material of a case and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseMaterial {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub source: MaterialSource,
    /// 免证办: which license was attached and its verification, or why none could be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CaseMaterial {
    pub fn present(&self) -> bool {
        self.source != MaterialSource::Missing
    }
}

/// The materials of a case from the item's list and the keys the applicant handed in: those
/// that come from a license or shared data are fetched, not asked for.
///
/// `licensed` holds the 免证办 answers by material key: a license that could not be used
/// (`Err`) leaves the material to be handed in, with the reason as its note.
pub fn case_materials(
    list: &[Material],
    submitted: &[String],
    licensed: &std::collections::HashMap<String, std::result::Result<String, String>>,
) -> Vec<CaseMaterial> {
    list.iter()
        .map(|m| CaseMaterial {
            key: m.key.clone(),
            name: m.name.clone(),
            required: m.required,
            note: licensed
                .get(&m.key)
                .map(|r| r.clone().unwrap_or_else(|why| why)),
            source: if m.from_license.is_some() && !matches!(licensed.get(&m.key), Some(Err(_))) {
                MaterialSource::License
            } else if m.from_shared_data {
                MaterialSource::SharedData
            } else if submitted.iter().any(|k| k == &m.key) {
                MaterialSource::Submitted
            } else {
                MaterialSource::Missing
            },
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub approve: bool,
    /// 决定文书编号.
    pub document_no: String,
    /// 决定书内容.
    pub text: String,
    /// 秒批: decided by the item's rule, not a person.
    pub automatic: bool,
    #[serde(default)]
    pub explanation: Vec<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    pub reason: String,
    /// 法律依据.
    pub legal_basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub method: DeliveryMethod,
    /// Window number, or the post's tracking number and address.
    pub detail: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpecialRun {
    pub name: String,
    pub days: u32,
    pub started_at: Millis,
    /// When the procedure itself should end (its own days, not the case's).
    pub due_at: Millis,
}

/// 容缺受理: accepted with these materials still to come by `due_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tolerated {
    pub materials: Vec<String>,
    pub due_at: Millis,
}

/// 一次性告知: what the applicant has to supply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupplementRequest {
    pub materials: Vec<String>,
    pub note: String,
    pub at: Millis,
}

/// A case (办件) of one item version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub id: i64,
    pub number: String,
    pub item_id: i64,
    /// The item version the case was filed under; it never changes.
    pub item_version: i64,
    pub item_name: String,
    pub dept_id: i64,
    pub region_code: String,
    /// The bundle application this case belongs to, if any.
    pub bundle_case_id: Option<i64>,
    pub applicant: Applicant,
    pub channel: Channel,
    pub scenario: Option<String>,
    pub form: Map<String, Value>,
    pub materials: Vec<CaseMaterial>,
    pub status: CaseStatus,
    pub immediate: bool,
    pub legal_days: u32,
    pub promised_days: u32,
    pub time_unit: TimeUnit,
    pub delivery_options: Vec<DeliveryMethod>,
    pub prechecked: Option<String>,
    pub accepted_at: Option<Millis>,
    pub due_at: Option<Millis>,
    pub paused_since: Option<Millis>,
    /// Minutes the clock stood still (in the unit's measure), all pauses together.
    pub paused_minutes: i64,
    pub special: Option<SpecialRun>,
    pub tolerated: Option<Tolerated>,
    pub supplement: Option<SupplementRequest>,
    pub decision: Option<Decision>,
    pub rejection: Option<Rejection>,
    pub delivery: Option<Delivery>,
    pub withdrawn_reason: Option<String>,
    /// Staff who acted on the case, in order (for 好差评).
    pub handlers: Vec<i64>,
    /// The clerk who received it at the window.
    pub received_by: Option<i64>,
    pub card: Card,
    pub created_at: Millis,
    pub closed_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub updated_at: Millis,
}

/// An action on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// 预审: looked over before acceptance.
    Precheck {
        note: String,
    },
    /// 受理; with `tolerated` material keys it is 容缺受理 and they are due in
    /// `tolerated_days` working days.
    Accept {
        #[serde(default)]
        tolerated: Vec<String>,
        #[serde(default)]
        tolerated_days: Option<u32>,
    },
    /// 不予受理.
    Reject {
        reason: String,
        legal_basis: String,
    },
    /// 补正: ask for these materials (一次性告知).
    RequestSupplement {
        materials: Vec<String>,
        note: String,
    },
    /// The applicant supplies what was asked (keys).
    Supply {
        materials: Vec<String>,
    },
    /// The 容缺 materials came in.
    SupplyTolerated,
    /// 特别程序 (听证, 检验检测, 专家评审 …) with its own days.
    StartSpecial {
        name: String,
        days: u32,
    },
    EndSpecial {
        note: String,
    },
    /// 审查决定, with the decision document.
    Decide {
        approve: bool,
        document_no: String,
        text: String,
    },
    /// 办结.
    Close,
    /// 出件.
    Deliver {
        method: DeliveryMethod,
        #[serde(default)]
        detail: String,
    },
    /// 撤回 by the applicant.
    Withdraw {
        reason: String,
    },
}

impl Action {
    pub fn code(&self) -> &'static str {
        match self {
            Action::Precheck { .. } => "precheck",
            Action::Accept { .. } => "accept",
            Action::Reject { .. } => "reject",
            Action::RequestSupplement { .. } => "request_supplement",
            Action::Supply { .. } => "supply",
            Action::SupplyTolerated => "supply_tolerated",
            Action::StartSpecial { .. } => "start_special",
            Action::EndSpecial { .. } => "end_special",
            Action::Decide { .. } => "decide",
            Action::Close => "close",
            Action::Deliver { .. } => "deliver",
            Action::Withdraw { .. } => "withdraw",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Action::Precheck { .. } => "预审",
            Action::Accept { tolerated, .. } if !tolerated.is_empty() => "容缺受理",
            Action::Accept { .. } => "受理",
            Action::Reject { .. } => "不予受理",
            Action::RequestSupplement { .. } => "一次性告知补正",
            Action::Supply { .. } => "补正材料",
            Action::SupplyTolerated => "补齐容缺材料",
            Action::StartSpecial { .. } => "进入特别程序",
            Action::EndSpecial { .. } => "特别程序结束",
            Action::Decide { approve: true, .. } => "准予办理",
            Action::Decide { .. } => "不予办理",
            Action::Close => "办结",
            Action::Deliver { .. } => "出件",
            Action::Withdraw { .. } => "撤回申请",
        }
    }
    /// Actions taken by (or for) the applicant rather than by the department.
    pub fn by_applicant(&self) -> bool {
        matches!(self, Action::Supply { .. } | Action::Withdraw { .. })
    }
}

/// What a transition did, for the timeline and the audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub action: &'static str,
    pub label: &'static str,
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub note: Option<String>,
    pub data: Value,
}

fn illegal(label: &str, from: CaseStatus) -> Error {
    Error::IllegalTransition {
        detail: format!("办件当前为“{}”，不能{}", from.label(), label),
    }
}

fn text(field: &str, label: &str, v: &str, max: usize) -> Result<String> {
    let mut c = Checks::new();
    c.text(field, label, v, max);
    c.finish()?;
    Ok(v.trim().to_owned())
}

impl Case {
    /// Required materials that are not there.
    pub fn missing(&self) -> Vec<&CaseMaterial> {
        self.materials
            .iter()
            .filter(|m| m.required && !m.present())
            .collect()
    }

    fn event(&self, next: &Case, action: &'static str, label: &'static str) -> Event {
        Event {
            action,
            label,
            from: self.status,
            to: next.status,
            note: None,
            data: Value::Null,
        }
    }

    /// A waiting sub-case of a bundle opens when the one before it has closed.
    pub fn open(&self, now: Millis) -> Result<(Case, Event)> {
        if self.status != CaseStatus::Waiting {
            return Err(illegal("开始办理", self.status));
        }
        let mut next = self.clone();
        next.status = CaseStatus::Submitted;
        next.updated_at = now;
        let e = self.event(&next, "open", "前序事项已办结，转入受理");
        Ok((next, e))
    }

    /// 秒批: a rule's decision on a just-submitted case. Approved: accepted, decided and closed
    /// at once; not approved: the case stays for a person, the explanation recorded.
    pub fn auto_decide(
        &self,
        d: &AutoDecision,
        now: Millis,
        cal: &Calendar,
    ) -> Result<(Case, Event)> {
        if self.status != CaseStatus::Submitted {
            return Err(illegal("秒批", self.status));
        }
        let mut next = self.clone();
        next.updated_at = now;
        if d.approved {
            next.accepted_at = Some(now);
            next.due_at = Some(deadline::due(cal, now, self.time_unit, self.promised_days));
            next.decision = Some(Decision {
                approve: true,
                document_no: self.number.clone(),
                text: "符合秒批规则，准予办理".into(),
                automatic: true,
                explanation: d.explanation.clone(),
                at: now,
            });
            next.status = CaseStatus::Closed;
            next.closed_at = Some(now);
        }
        let mut e = self.event(
            &next,
            "auto_decide",
            if d.approved {
                "秒批通过"
            } else {
                "秒批未通过，转人工"
            },
        );
        e.data = json!({"approved": d.approved, "explanation": d.explanation});
        Ok((next, e))
    }

    /// Applies `action` by staff member `by` (None for the applicant) at `now`.
    pub fn apply(
        &self,
        action: &Action,
        by: Option<i64>,
        now: Millis,
        cal: &Calendar,
    ) -> Result<(Case, Event)> {
        use CaseStatus::*;
        let from = self.status;
        let label = action.label();
        let mut next = self.clone();
        next.updated_at = now;
        let mut note = None;
        let mut data = Value::Null;
        match action {
            Action::Precheck { note: n } => {
                if from != Submitted {
                    return Err(illegal(label, from));
                }
                let n = text("note", "预审意见", n, 2000)?;
                next.prechecked = Some(n.clone());
                note = Some(n);
            }
            Action::Accept {
                tolerated,
                tolerated_days,
            } => {
                if from != Submitted {
                    return Err(illegal(label, from));
                }
                let missing: Vec<&CaseMaterial> = self.missing();
                for t in tolerated {
                    if !missing.iter().any(|m| &m.key == t) {
                        return Err(Error::field(
                            "tolerated",
                            "not_missing",
                            format!("材料“{t}”不在缺少的材料中，无需容缺"),
                        ));
                    }
                }
                let untolerated: Vec<&str> = missing
                    .iter()
                    .filter(|m| !tolerated.contains(&m.key))
                    .map(|m| m.name.as_str())
                    .collect();
                if !untolerated.is_empty() {
                    return Err(Error::field(
                        "tolerated",
                        "materials_missing",
                        format!(
                            "缺少材料：{}。请一次性告知补正，或对次要材料容缺受理",
                            untolerated.join("、")
                        ),
                    ));
                }
                if !tolerated.is_empty() {
                    if self.immediate {
                        return Err(Error::field(
                            "tolerated",
                            "immediate_no_tolerance",
                            "即办件受理即办结，不能容缺受理",
                        ));
                    }
                    let days = tolerated_days.filter(|d| *d > 0).ok_or_else(|| {
                        Error::field(
                            "tolerated_days",
                            "required",
                            "容缺受理须约定补齐材料的期限（工作日）",
                        )
                    })?;
                    next.tolerated = Some(Tolerated {
                        materials: tolerated.clone(),
                        due_at: cal.add_working_days(now, days),
                    });
                }
                next.accepted_at = Some(now);
                next.due_at = Some(deadline::due(cal, now, self.time_unit, self.promised_days));
                next.supplement = None;
                if self.immediate {
                    // 即办件: accepted and done in one step.
                    next.decision = Some(Decision {
                        approve: true,
                        document_no: self.number.clone(),
                        text: "即办件，当场办结".into(),
                        automatic: false,
                        explanation: vec![],
                        at: now,
                    });
                    next.status = Closed;
                    next.closed_at = Some(now);
                } else {
                    next.status = Accepted;
                }
                data = json!({"tolerated": next.tolerated, "due_at": next.due_at});
            }
            Action::Reject {
                reason,
                legal_basis,
            } => {
                if !(from == Submitted || (from == Supplement && self.accepted_at.is_none())) {
                    return Err(illegal(label, from));
                }
                let mut c = Checks::new();
                c.text("reason", "不予受理理由", reason, 2000);
                c.text("legal_basis", "法律依据", legal_basis, 1000);
                c.finish()?;
                next.rejection = Some(Rejection {
                    reason: reason.trim().into(),
                    legal_basis: legal_basis.trim().into(),
                });
                next.status = Rejected;
                next.closed_at = Some(now);
                note = Some(reason.trim().into());
                data = json!({"legal_basis": legal_basis.trim()});
            }
            Action::RequestSupplement { materials, note: n } => {
                if !matches!(from, Submitted | Accepted) {
                    return Err(illegal(label, from));
                }
                let n = text("note", "补正说明", n, 2000)?;
                if materials.is_empty() {
                    return Err(Error::field(
                        "materials",
                        "required",
                        "请列明需要补正的材料",
                    ));
                }
                for m in materials {
                    if !self.materials.iter().any(|x| &x.key == m) {
                        return Err(Error::field(
                            "materials",
                            "unknown_material",
                            format!("材料“{m}”不在本事项的材料清单中"),
                        ));
                    }
                }
                next.supplement = Some(SupplementRequest {
                    materials: materials.clone(),
                    note: n.clone(),
                    at: now,
                });
                if from == Accepted {
                    // The applicant's time does not count against the department.
                    next.paused_since = Some(now);
                }
                next.status = Supplement;
                note = Some(n);
                data = json!({"materials": materials});
            }
            Action::Supply { materials } => {
                if from != Supplement {
                    return Err(illegal(label, from));
                }
                let asked = self
                    .supplement
                    .as_ref()
                    .map(|s| s.materials.clone())
                    .unwrap_or_default();
                let left: Vec<&String> = asked.iter().filter(|k| !materials.contains(k)).collect();
                if !left.is_empty() {
                    let names: Vec<String> = left.iter().map(|k| self.name_of(k)).collect();
                    return Err(Error::field(
                        "materials",
                        "supplement_incomplete",
                        format!("还需补正：{}", names.join("、")),
                    ));
                }
                for m in next.materials.iter_mut() {
                    if materials.contains(&m.key) && m.source == MaterialSource::Missing {
                        m.source = MaterialSource::Submitted;
                    }
                }
                next.supplement = None;
                if self.accepted_at.is_some() {
                    next.status = Accepted;
                    self.resume(&mut next, now, cal);
                } else {
                    next.status = Submitted;
                }
                data = json!({"materials": materials, "due_at": next.due_at});
            }
            Action::SupplyTolerated => {
                if !matches!(from, Accepted | Special | Supplement) || self.tolerated.is_none() {
                    return Err(illegal(label, from));
                }
                let t = self.tolerated.as_ref().expect("checked");
                for m in next.materials.iter_mut() {
                    if t.materials.contains(&m.key) {
                        m.source = MaterialSource::Submitted;
                    }
                }
                data = json!({"materials": t.materials, "late": now > t.due_at});
                next.tolerated = None;
            }
            Action::StartSpecial { name, days } => {
                if from != Accepted {
                    return Err(illegal(label, from));
                }
                let name = text("name", "特别程序名称", name, 100)?;
                if *days == 0 {
                    return Err(Error::field(
                        "days",
                        "required",
                        "请填写特别程序的期限（天）",
                    ));
                }
                next.special = Some(SpecialRun {
                    name: name.clone(),
                    days: *days,
                    started_at: now,
                    due_at: deadline::due(cal, now, self.time_unit, *days),
                });
                next.paused_since = Some(now);
                next.status = Special;
                note = Some(name);
                data = json!({"days": days});
            }
            Action::EndSpecial { note: n } => {
                if from != Special {
                    return Err(illegal(label, from));
                }
                note = Some(text("note", "特别程序结论", n, 2000)?);
                next.special = None;
                next.status = Accepted;
                self.resume(&mut next, now, cal);
                data = json!({"due_at": next.due_at});
            }
            Action::Decide {
                approve,
                document_no,
                text: t,
            } => {
                if from != Accepted {
                    return Err(illegal(label, from));
                }
                let mut c = Checks::new();
                c.text("document_no", "决定文书编号", document_no, 64);
                c.text("text", "决定内容", t, 8000);
                c.finish()?;
                if *approve {
                    if let Some(tol) = &self.tolerated {
                        let names: Vec<String> =
                            tol.materials.iter().map(|k| self.name_of(k)).collect();
                        return Err(Error::conflict(
                            "tolerated_outstanding",
                            Some("approve"),
                            format!("容缺材料尚未补齐：{}，不能作出准予决定", names.join("、")),
                        ));
                    }
                }
                next.decision = Some(Decision {
                    approve: *approve,
                    document_no: document_no.trim().into(),
                    text: t.trim().into(),
                    automatic: false,
                    explanation: vec![],
                    at: now,
                });
                next.status = Decided;
                note = Some(t.trim().into());
                data = json!({"approve": approve, "document_no": document_no.trim()});
            }
            Action::Close => {
                if from != Decided {
                    return Err(illegal(label, from));
                }
                next.status = Closed;
                next.closed_at = Some(now);
                data = json!({"overdue": self.due_at.is_some_and(|d| now > d)});
            }
            Action::Deliver { method, detail } => {
                if from != Closed || !self.decision.as_ref().is_some_and(|d| d.approve) {
                    return Err(illegal(label, from));
                }
                if !self.delivery_options.contains(method) {
                    return Err(Error::field(
                        "method",
                        "method_not_offered",
                        format!("本事项不提供“{}”", method.label()),
                    ));
                }
                if *method == DeliveryMethod::Post && detail.trim().is_empty() {
                    return Err(Error::field(
                        "detail",
                        "required",
                        "邮寄送达须填写邮寄单号和地址",
                    ));
                }
                next.delivery = Some(Delivery {
                    method: *method,
                    detail: detail.trim().into(),
                    at: now,
                });
                next.status = Delivered;
                next.delivered_at = Some(now);
                data = json!({"method": method.code(), "detail": detail.trim()});
            }
            Action::Withdraw { reason } => {
                if !matches!(from, Waiting | Submitted | Supplement | Accepted | Special) {
                    return Err(illegal(label, from));
                }
                let r = text("reason", "撤回理由", reason, 1000)?;
                next.withdrawn_reason = Some(r.clone());
                next.paused_since = None;
                next.status = Withdrawn;
                next.closed_at = Some(now);
                note = Some(r);
            }
        }
        if let Some(id) = by {
            if !next.handlers.contains(&id) {
                next.handlers.push(id);
            }
        }
        if !next.status.is_open() || next.paused_since.is_some() {
            next.card = Card::None;
        }
        let mut e = self.event(&next, action.code(), label);
        e.note = note;
        e.data = data;
        Ok((next, e))
    }

    fn name_of(&self, key: &str) -> String {
        self.materials
            .iter()
            .find(|m| m.key == key)
            .map_or_else(|| key.to_owned(), |m| m.name.clone())
    }

    fn resume(&self, next: &mut Case, now: Millis, cal: &Calendar) {
        if let (Some(since), Some(due)) = (self.paused_since, self.due_at) {
            let (moved, waited) = deadline::extend_for_pause(cal, due, self.time_unit, since, now);
            next.due_at = Some(moved);
            next.paused_minutes += waited;
        }
        next.paused_since = None;
    }

    /// The card a case earns at `now`: only while the department holds it and the clock runs.
    /// Yellow within one working day of the deadline (an hour for working-hour items).
    pub fn card_at(&self, now: Millis, cal: &Calendar) -> Card {
        if self.status != CaseStatus::Accepted || self.paused_since.is_some() {
            return Card::None;
        }
        let Some(due) = self.due_at else {
            return Card::None;
        };
        let warn = match self.time_unit {
            TimeUnit::WorkingHours => 60,
            _ => cal.office_hours().minutes_per_day(),
        };
        match deadline::grade(cal, now, due, warn) {
            deadline::Grade::Red => Card::Red,
            deadline::Grade::Yellow => Card::Yellow,
            deadline::Grade::Fine => Card::None,
        }
    }

    /// Minutes of the promised time left at `now`, in the unit's measure (office time for
    /// working units, wall time for calendar days); negative past the deadline. While the clock
    /// stands still it is what was left when it stopped. None before acceptance and once closed.
    pub fn remaining_minutes(&self, now: Millis, cal: &Calendar) -> Option<i64> {
        let due = self.due_at?;
        if !self.status.is_open() {
            return None;
        }
        let at = self.paused_since.unwrap_or(now);
        Some(match self.time_unit {
            TimeUnit::CalendarDays => (due - at) / 60_000,
            _ if at <= due => cal.working_minutes_between(at, due),
            _ => -cal.working_minutes_between(due, at),
        })
    }

    /// Closed after its deadline, or still open past it.
    pub fn overdue_at(&self, now: Millis) -> bool {
        match (self.due_at, self.closed_at) {
            (Some(d), Some(c)) => c > d && self.status.is_done(),
            (Some(d), None) => self.status.is_open() && self.paused_since.is_none() && now > d,
            _ => false,
        }
    }
}

/// `BJ` + date + five digits: unique per day.
pub fn case_number(day: chrono::NaiveDate, seq: i64) -> String {
    format!("BJ{}{:05}", day.format("%Y%m%d"), seq)
}

/// The case number meant by `typed`, as `webcore::lookup::normalize` leaves it (upper-case,
/// half-width, no spaces or dashes). A case number carries no city prefix: `BJ` (办件) is its
/// kind letter, fixed, so it may be left out too (`2026031600012` is `BJ2026031600012`; a
/// ticket's bare date and sequence have 14 digits, a case's 13). Anything else is `None`.
pub fn case_number_typed(typed: &str) -> Option<String> {
    let rest = typed.strip_prefix("BJ").unwrap_or(typed);
    if rest.len() != 13 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = chrono::NaiveDate::parse_from_str(&rest[..8], "%Y%m%d").ok()?;
    Some(case_number(day, rest[8..].parse().ok()?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at: i64,
    pub case_id: i64,
    pub actor_name: String,
    pub action: String,
    pub label: String,
    pub from_status: String,
    pub to_status: String,
    pub note: Option<String>,
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_case_number_with_or_without_its_kind_letters() {
        for typed in ["BJ2026031600012", "2026031600012"] {
            assert_eq!(case_number_typed(typed).as_deref(), Some("BJ2026031600012"));
        }
        for not in [
            "BJ202603160001",
            "BJ2026133100012",
            "A市BJ2026031600012",
            "XJ2026031600012",
        ] {
            assert_eq!(case_number_typed(not), None, "{not}");
        }
    }
    use crate::items::domain::tests::sample;
    use chrono::NaiveDate;

    fn at(m: u32, d: u32, h: u32, min: u32) -> Millis {
        NaiveDate::from_ymd_opt(2026, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
            .and_local_timezone(kernel::clock::china())
            .unwrap()
            .timestamp_millis()
    }

    pub fn case(submitted: &[&str]) -> Case {
        let item = sample();
        let list: Vec<String> = submitted.iter().map(|s| s.to_string()).collect();
        Case {
            id: 1,
            number: "BJ2026031600001".into(),
            item_id: 1,
            item_version: 1,
            item_name: item.name.clone(),
            dept_id: 1,
            region_code: "690100".into(),
            bundle_case_id: None,
            applicant: Applicant {
                kind: ApplicantKind::Person,
                name: "张三".into(),
                id_no: kernel::codes::id_card_with_check("11010119900307001"),
                phone: "13800138000".into(),
                user_id: None,
            },
            channel: Channel::Online,
            scenario: None,
            form: Map::new(),
            materials: case_materials(&item.materials, &list, &Default::default()),
            status: CaseStatus::Submitted,
            immediate: false,
            legal_days: 20,
            promised_days: 5,
            time_unit: TimeUnit::WorkingDays,
            delivery_options: item.delivery.clone(),
            prechecked: None,
            accepted_at: None,
            due_at: None,
            paused_since: None,
            paused_minutes: 0,
            special: None,
            tolerated: None,
            supplement: None,
            decision: None,
            rejection: None,
            delivery: None,
            withdrawn_reason: None,
            handlers: vec![],
            received_by: None,
            card: Card::None,
            created_at: at(3, 16, 9, 0),
            closed_at: None,
            delivered_at: None,
            updated_at: at(3, 16, 9, 0),
        }
    }

    fn cal() -> Calendar {
        Calendar::builtin()
    }

    fn go(c: &Case, a: Action, now: Millis) -> Case {
        c.apply(&a, Some(7), now, &cal()).unwrap().0
    }

    fn decide(approve: bool) -> Action {
        Action::Decide {
            approve,
            document_no: "A1备〔2026〕1号".into(),
            text: "经审查，符合条件".into(),
        }
    }

    #[test]
    fn a_case_goes_from_submission_to_delivery() {
        let c = case(&["health_cert"]);
        // The license-backed ID card needs no submission.
        assert_eq!(c.materials[0].source, MaterialSource::License);
        let c = go(
            &c,
            Action::Precheck {
                note: "材料齐全".into(),
            },
            at(3, 16, 9, 10),
        );
        let c = go(
            &c,
            Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            },
            at(3, 16, 9, 30),
        );
        assert_eq!(c.status, CaseStatus::Accepted);
        // Five working days after Monday: Monday 03-23 at the close of office.
        assert_eq!(c.due_at, Some(at(3, 23, 17, 30)));
        let c = go(&c, decide(true), at(3, 18, 10, 0));
        let (c, e) = c
            .apply(&Action::Close, Some(8), at(3, 18, 11, 0), &cal())
            .unwrap();
        assert_eq!((e.from, e.to), (CaseStatus::Decided, CaseStatus::Closed));
        assert_eq!(c.handlers, [7, 8]);
        let c = go(
            &c,
            Action::Deliver {
                method: DeliveryMethod::Window,
                detail: "3号窗口".into(),
            },
            at(3, 18, 14, 0),
        );
        assert_eq!(c.status, CaseStatus::Delivered);
        assert!(!c.overdue_at(at(4, 1, 9, 0)));
    }

    #[test]
    fn every_illegal_transition_is_refused_and_changes_nothing() {
        let base = case(&["health_cert"]);
        let all = |c: &Case| -> Vec<Action> {
            vec![
                Action::Precheck { note: "x".into() },
                Action::Accept {
                    tolerated: vec![],
                    tolerated_days: None,
                },
                Action::Reject {
                    reason: "不属于本部门职权".into(),
                    legal_basis: "《行政许可法》第三十二条".into(),
                },
                Action::RequestSupplement {
                    materials: vec![c.materials[1].key.clone()],
                    note: "照片不清晰".into(),
                },
                Action::Supply {
                    materials: vec![c.materials[1].key.clone()],
                },
                Action::SupplyTolerated,
                Action::StartSpecial {
                    name: "专家评审".into(),
                    days: 5,
                },
                Action::EndSpecial {
                    note: "通过".into(),
                },
                decide(true),
                Action::Close,
                Action::Deliver {
                    method: DeliveryMethod::Window,
                    detail: String::new(),
                },
                Action::Withdraw {
                    reason: "不办了".into(),
                },
            ]
        };
        // Which actions each status allows (the rest must be refused).
        let allowed: &[(CaseStatus, &[&str])] = &[
            (
                CaseStatus::Submitted,
                &[
                    "precheck",
                    "accept",
                    "reject",
                    "request_supplement",
                    "withdraw",
                ],
            ),
            (CaseStatus::Supplement, &["reject", "supply", "withdraw"]),
            (
                CaseStatus::Accepted,
                &["request_supplement", "start_special", "decide", "withdraw"],
            ),
            (CaseStatus::Special, &["end_special", "withdraw"]),
            (CaseStatus::Decided, &["close"]),
            (CaseStatus::Closed, &["deliver"]),
            (CaseStatus::Delivered, &[]),
            (CaseStatus::Rejected, &[]),
            (CaseStatus::Withdrawn, &[]),
        ];
        let t0 = at(3, 16, 10, 0);
        let reach = |s: CaseStatus| -> Case {
            let acc = Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            };
            match s {
                CaseStatus::Submitted => base.clone(),
                CaseStatus::Supplement => go(
                    &base,
                    Action::RequestSupplement {
                        materials: vec!["health_cert".into()],
                        note: "请补正".into(),
                    },
                    t0,
                ),
                CaseStatus::Accepted => go(&base, acc, t0),
                CaseStatus::Special => go(
                    &go(&base, acc, t0),
                    Action::StartSpecial {
                        name: "检验检测".into(),
                        days: 3,
                    },
                    t0,
                ),
                CaseStatus::Decided => go(&go(&base, acc, t0), decide(true), t0),
                CaseStatus::Closed => go(
                    &go(&go(&base, acc, t0), decide(true), t0),
                    Action::Close,
                    t0,
                ),
                CaseStatus::Delivered => go(
                    &go(
                        &go(&go(&base, acc, t0), decide(true), t0),
                        Action::Close,
                        t0,
                    ),
                    Action::Deliver {
                        method: DeliveryMethod::Window,
                        detail: String::new(),
                    },
                    t0,
                ),
                CaseStatus::Rejected => go(
                    &base,
                    Action::Reject {
                        reason: "x".into(),
                        legal_basis: "y".into(),
                    },
                    t0,
                ),
                CaseStatus::Withdrawn => go(&base, Action::Withdraw { reason: "x".into() }, t0),
                CaseStatus::Waiting => unreachable!(),
            }
        };
        for (status, ok) in allowed {
            let c = reach(*status);
            assert_eq!(c.status, *status);
            for a in all(&c) {
                let r = c.apply(&a, Some(1), t0, &cal());
                if ok.contains(&a.code()) {
                    assert!(r.is_ok(), "{status:?} should allow {}: {r:?}", a.code());
                } else {
                    let e = r.expect_err(&format!("{status:?} must refuse {}", a.code()));
                    assert!(
                        e.code() == "illegal_transition",
                        "{status:?}/{}: {e:?}",
                        a.code()
                    );
                }
            }
        }
        // Waiting sub-cases only open or are withdrawn.
        let mut w = base.clone();
        w.status = CaseStatus::Waiting;
        assert_eq!(w.open(t0).unwrap().0.status, CaseStatus::Submitted);
        assert!(base.open(t0).is_err());
        assert!(w
            .apply(
                &Action::Accept {
                    tolerated: vec![],
                    tolerated_days: None
                },
                None,
                t0,
                &cal()
            )
            .is_err());
    }

    #[test]
    fn acceptance_needs_the_materials_or_a_tolerance_with_a_date() {
        let c = case(&[]);
        let e = c
            .apply(
                &Action::Accept {
                    tolerated: vec![],
                    tolerated_days: None,
                },
                Some(1),
                at(3, 16, 10, 0),
                &cal(),
            )
            .unwrap_err();
        assert_eq!(e.code(), "materials_missing");
        assert!(e.detail().contains("健康证明"));
        let no_date = Action::Accept {
            tolerated: vec!["health_cert".into()],
            tolerated_days: None,
        };
        assert_eq!(
            c.apply(&no_date, Some(1), at(3, 16, 10, 0), &cal())
                .unwrap_err()
                .field_name(),
            Some("tolerated_days")
        );
        let c = go(
            &c,
            Action::Accept {
                tolerated: vec!["health_cert".into()],
                tolerated_days: Some(3),
            },
            at(3, 16, 10, 0),
        );
        assert_eq!(c.tolerated.as_ref().unwrap().due_at, at(3, 19, 17, 30));
        // No approval while the tolerated material is outstanding.
        let e = c
            .apply(&decide(true), Some(1), at(3, 17, 10, 0), &cal())
            .unwrap_err();
        assert_eq!(e.code(), "tolerated_outstanding");
        let c = go(&c, Action::SupplyTolerated, at(3, 17, 10, 0));
        assert!(c.tolerated.is_none() && c.missing().is_empty());
        assert_eq!(
            go(&c, decide(true), at(3, 17, 11, 0)).status,
            CaseStatus::Decided
        );
    }

    #[test]
    fn the_clock_stops_in_supplement_and_special_procedures_over_holidays() {
        let c = case(&["health_cert"]);
        // Accepted Thursday 2026-04-02 10:00; 04-04..06 is 清明.
        let c = go(
            &c,
            Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            },
            at(4, 2, 10, 0),
        );
        // 04-03 (1), 04-07 (2), 04-08 (3), 04-09 (4), 04-10 (5).
        assert_eq!(c.due_at, Some(at(4, 10, 17, 30)));
        let c = go(
            &c,
            Action::RequestSupplement {
                materials: vec!["health_cert".into()],
                note: "健康证明已过期".into(),
            },
            at(4, 3, 9, 0),
        );
        assert_eq!(
            c.card_at(at(4, 20, 9, 0), &cal()),
            Card::None,
            "no card while paused"
        );
        assert!(!c.overdue_at(at(4, 20, 9, 0)));
        // Supplied Tuesday 04-07 09:00: the paused office time is Friday 04-03 only (7 hours).
        let e = c
            .apply(
                &Action::Supply { materials: vec![] },
                None,
                at(4, 7, 9, 0),
                &cal(),
            )
            .unwrap_err();
        assert_eq!(e.code(), "supplement_incomplete");
        let c = c
            .apply(
                &Action::Supply {
                    materials: vec!["health_cert".into()],
                },
                None,
                at(4, 7, 9, 0),
                &cal(),
            )
            .unwrap()
            .0;
        assert_eq!(c.status, CaseStatus::Accepted);
        assert_eq!(c.paused_minutes, 7 * 60);
        assert_eq!(c.due_at, Some(at(4, 13, 17, 30)));
        // Expert review for two days of its own, Monday 04-13 09:00 to Wednesday 04-15 09:00.
        let c = go(
            &c,
            Action::StartSpecial {
                name: "专家评审".into(),
                days: 2,
            },
            at(4, 13, 9, 0),
        );
        assert_eq!(c.special.as_ref().unwrap().due_at, at(4, 15, 17, 30));
        let c = go(
            &c,
            Action::EndSpecial {
                note: "评审通过".into(),
            },
            at(4, 15, 9, 0),
        );
        assert_eq!(c.paused_minutes, 3 * 7 * 60);
        assert_eq!(c.due_at, Some(at(4, 15, 17, 30)));
        assert_eq!(c.card_at(at(4, 15, 9, 0), &cal()), Card::Yellow);
        assert_eq!(c.card_at(at(4, 14, 9, 0), &cal()), Card::None);
        assert_eq!(c.card_at(at(4, 16, 9, 0), &cal()), Card::Red);
        assert!(c.overdue_at(at(4, 16, 9, 0)));
    }

    #[test]
    fn calendar_day_and_working_hour_items_count_their_own_way() {
        let mut c = case(&["health_cert"]);
        c.time_unit = TimeUnit::CalendarDays;
        let c1 = go(
            &c,
            Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            },
            at(4, 2, 10, 0),
        );
        assert_eq!(c1.due_at, Some(at(4, 8, 0, 0) - 1));
        let p = go(
            &c1,
            Action::StartSpecial {
                name: "听证".into(),
                days: 1,
            },
            at(4, 3, 10, 0),
        );
        let r = go(
            &p,
            Action::EndSpecial {
                note: "听证结束".into(),
            },
            at(4, 4, 10, 0),
        );
        assert_eq!(
            r.due_at,
            Some(at(4, 9, 0, 0) - 1),
            "a whole calendar day added"
        );
        c.time_unit = TimeUnit::WorkingHours;
        c.promised_days = 4;
        let h = go(
            &c,
            Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            },
            at(4, 3, 16, 0),
        );
        // 1.5 hours on Friday, then holidays; 2.5 hours on Tuesday from 09:00.
        assert_eq!(h.due_at, Some(at(4, 7, 11, 30)));
    }

    #[test]
    fn immediate_items_close_at_acceptance_and_rejections_need_a_legal_basis() {
        let mut c = case(&["health_cert"]);
        c.immediate = true;
        c.promised_days = 0;
        let done = go(
            &c,
            Action::Accept {
                tolerated: vec![],
                tolerated_days: None,
            },
            at(3, 16, 10, 0),
        );
        assert_eq!(done.status, CaseStatus::Closed);
        assert_eq!(done.closed_at, done.accepted_at);
        assert!(done.decision.as_ref().unwrap().approve);
        let e = c
            .apply(
                &Action::Reject {
                    reason: "不属于受理范围".into(),
                    legal_basis: " ".into(),
                },
                Some(1),
                at(3, 16, 10, 0),
                &cal(),
            )
            .unwrap_err();
        assert_eq!(e.field_name(), Some("legal_basis"));
        let r = go(
            &c,
            Action::Reject {
                reason: "不属于受理范围".into(),
                legal_basis: "《行政许可法》第三十二条".into(),
            },
            at(3, 16, 10, 0),
        );
        assert_eq!(r.status, CaseStatus::Rejected);
        // A denied case closes but delivers nothing.
        let d = go(
            &go(
                &go(
                    &case(&["health_cert"]),
                    Action::Accept {
                        tolerated: vec![],
                        tolerated_days: None,
                    },
                    at(3, 16, 10, 0),
                ),
                decide(false),
                at(3, 16, 11, 0),
            ),
            Action::Close,
            at(3, 16, 11, 0),
        );
        assert!(d
            .apply(
                &Action::Deliver {
                    method: DeliveryMethod::Window,
                    detail: String::new()
                },
                Some(1),
                at(3, 16, 12, 0),
                &cal()
            )
            .is_err());
    }

    #[test]
    fn delivery_uses_an_offered_method() {
        let c = go(
            &go(
                &go(
                    &case(&["health_cert"]),
                    Action::Accept {
                        tolerated: vec![],
                        tolerated_days: None,
                    },
                    at(3, 16, 10, 0),
                ),
                decide(true),
                at(3, 16, 11, 0),
            ),
            Action::Close,
            at(3, 16, 11, 0),
        );
        let e = c
            .apply(
                &Action::Deliver {
                    method: DeliveryMethod::Post,
                    detail: "SF123".into(),
                },
                Some(1),
                at(3, 16, 12, 0),
                &cal(),
            )
            .unwrap_err();
        assert_eq!(e.code(), "method_not_offered");
    }
}
