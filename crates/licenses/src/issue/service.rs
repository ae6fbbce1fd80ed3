//! Issuance and the life cycle: every change is one transaction with its audit record; an
//! issuance also takes its 流水号, its status-list slot and its signature there.

use super::domain::*;
use super::store;
use crate::keys::domain::IssuerKey;
use crate::proof::domain as proof;
use crate::service::*;
use crate::status::domain::PURPOSES;
use crate::types::domain::HolderKind;
use crate::usage::{service::who, UsageKind};
use kernel::audit;
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{Actor, Authorized};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sm2::dsa::SigningKey;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// 身份证号 (自然人) or 统一社会信用代码 (法人).
    pub id_no: String,
    pub name: String,
}

/// A license to issue.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLicense {
    /// The type's GB/T 36904 code.
    pub type_code: String,
    /// The issuing department; the actor's own when omitted.
    #[serde(default)]
    pub dept_id: Option<i64>,
    pub holder: Holder,
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// `YYYY-MM-DD`; today when omitted.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Where it comes from (`case:…`, `import:…`, a caller's key): issuing twice with the same
    /// source returns the first license.
    #[serde(default)]
    pub source: Option<String>,
}

/// 变更: new field values (and holder name) as a new version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub holder_name: Option<String>,
    pub reason: String,
}

/// What a license looks like to a reader, with holder data masked unless the role needs it.
fn masked(mut l: License, full: bool) -> License {
    if !full {
        l.holder_id_no = match l.holder_kind {
            HolderKind::Person => kernel::mask::id_card(&l.holder_id_no),
            HolderKind::Org => l.holder_id_no,
        };
        if l.holder_kind == HolderKind::Person {
            l.holder_name = kernel::mask::name(&l.holder_name);
        }
    }
    l
}

pub(crate) fn parse_day(s: &str, field: &str) -> Result<i64> {
    use chrono::TimeZone;
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::field(field, "invalid_date", "日期格式应为 YYYY-MM-DD"))?;
    kernel::clock::china()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| Error::field(field, "invalid_date", "日期无效"))
}

impl LicensesService {
    /// Issues a license by API (or for the CLI, an import, a case).
    pub async fn issue(&self, actor: &Actor, input: NewLicense) -> Result<License> {
        let g = actor.authorize::<Issue>()?;
        self.issue_as(Authorized::from(g), input, None).await
    }

    /// Issues with a proof already taken; `holder_user_id` links the holder's account (a case's
    /// applicant).
    pub async fn issue_as(
        &self,
        by: Authorized<'_>,
        input: NewLicense,
        holder_user_id: Option<i64>,
    ) -> Result<License> {
        let actor = by.actor();
        let dept_id = input
            .dept_id
            .or(actor.dept_id)
            .ok_or_else(|| Error::field("dept_id", "required", "请指定颁发部门"))?;
        if !actor.can_see(Some(dept_id), None) {
            return Err(Error::forbidden("只能以本部门名义签发证照"));
        }
        self.issue_for(by, input, dept_id, holder_user_id, None)
            .await
    }

    /// Issues in the name of `dept_id`, whose right the caller has proven; with `case`, the
    /// case result is recorded in the same transaction.
    pub(crate) async fn issue_for(
        &self,
        by: Authorized<'_>,
        input: NewLicense,
        dept_id: i64,
        holder_user_id: Option<i64>,
        case: Option<(&str, i64)>,
    ) -> Result<License> {
        let source = check_source(input.source.as_deref())?;
        if let Some(s) = source {
            if let Some(l) = store::by_source(&mut *self.conn().await?, s).await? {
                return Ok(l);
            }
        }
        let ctx = self.issue_context(&input.type_code, dept_id).await?;
        let now = self.db.now();
        let checked = ctx.check(&input, now)?;
        let mut tx = self.db.begin().await?;
        let signer = self.signing_key(&mut tx, by, dept_id, now).await?;
        let license = self
            .insert_checked(
                &mut tx,
                by,
                &ctx,
                &signer,
                checked,
                holder_user_id,
                source,
                now,
            )
            .await?;
        if let Some((case_ref, at)) = case {
            store::insert_case_result(
                &mut tx,
                by,
                case_ref,
                license.type_id,
                dept_id,
                Some(license.id),
                at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(license)
    }

    /// What a type and an issuing department fix for every license issued under them: the
    /// published version, the department's right to issue it and its 统一社会信用代码.
    pub(crate) async fn issue_context(
        &self,
        type_code: &str,
        dept_id: i64,
    ) -> Result<IssueContext> {
        let view = self
            .license_type_by_code(type_code)
            .await?
            .ok_or_else(|| Error::field("type_code", "unknown_type", "证照类型不存在"))?;
        let version = view
            .published()
            .cloned()
            .ok_or_else(|| Error::field("type_code", "not_published", "该证照类型尚未发布"))?;
        if !version.content.dept_ids.contains(&dept_id) {
            return Err(Error::field(
                "dept_id",
                "not_an_issuer",
                "该部门不是此类证照的颁发部门",
            ));
        }
        let dept = self.issuer(dept_id).await?;
        let issuer_code = dept.credit_code.clone().unwrap_or_default();
        if kernel::codes::check_credit_code(&issuer_code).is_err() {
            return Err(Error::field(
                "dept_id",
                "issuer_without_code",
                "颁发部门未登记有效的统一社会信用代码，不能签发证照",
            ));
        }
        Ok(IssueContext {
            view,
            version,
            dept,
            issuer_code,
        })
    }

    /// One checked license into the open transaction: its 流水号, signature, status slot, row
    /// and audit record.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_checked(
        &self,
        tx: &mut kernel::Tx,
        by: Authorized<'_>,
        ctx: &IssueContext,
        signer: &(IssuerKey, SigningKey),
        checked: Checked,
        holder_user_id: Option<i64>,
        source: Option<&str>,
        now: i64,
    ) -> Result<License> {
        let serial = store::next_serial(tx, ctx.view.license_type.id, ctx.dept.id).await?;
        let license = self
            .insert_prepared(
                tx,
                by,
                ctx,
                signer,
                checked,
                holder_user_id,
                source,
                now,
                (serial, None),
            )
            .await?;
        let (entity, id, action, payload) = issue_audit(&license, source);
        audit::record(
            tx,
            now,
            &by.actor().audit_actor(),
            &entity,
            id,
            &action,
            payload,
        )
        .await?;
        Ok(license)
    }

    /// Signs and stores a checked license with its 流水号 (and its status slot, when the
    /// caller took slots for a batch); no audit record (the caller writes it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_prepared(
        &self,
        tx: &mut kernel::Tx,
        by: Authorized<'_>,
        ctx: &IssueContext,
        signer: &(IssuerKey, SigningKey),
        checked: Checked,
        holder_user_id: Option<i64>,
        source: Option<&str>,
        now: i64,
        (serial, slot): (i64, Option<(i64, i64)>),
    ) -> Result<License> {
        self.sign_and_insert(
            tx,
            by,
            signer,
            Draft {
                type_id: ctx.view.license_type.id,
                type_code: &ctx.view.license_type.code,
                type_name: &ctx.view.license_type.name,
                type_version: ctx.version.version,
                dept: &ctx.dept,
                issuer_code: &ctx.issuer_code,
                serial,
                version: 1,
                holder_kind: ctx.view.license_type.holder_kind,
                holder_id_no: &checked.id_no,
                holder_name: &checked.name,
                holder_user_id,
                fields: checked.fields,
                valid_from: checked.valid_from,
                valid_until: checked.valid_until,
                previous_id: None,
            },
            source,
            now,
            slot,
        )
        .await
    }

    async fn sign_and_insert(
        &self,
        c: &mut kernel::Tx,
        by: Authorized<'_>,
        (key, sk): &(IssuerKey, SigningKey),
        d: Draft<'_>,
        source: Option<&str>,
        now: i64,
        slot: Option<(i64, i64)>,
    ) -> Result<License> {
        let (list_id, list_index) = match slot {
            Some(s) => s,
            None => self.allocate_status(c, d.dept.id, now).await?,
        };
        let identifier = Identifier {
            type_code: d.type_code.to_owned(),
            issuer_code: d.issuer_code.to_owned(),
            serial: d.serial as u64,
            version: d.version as u32,
        }
        .render();
        let issuer_url = self.issuer_url(d.dept.id);
        let unsecured = credential(&CredentialParts {
            identifier: &identifier,
            issuer_url: &issuer_url,
            issuer_name: &d.dept.name,
            type_code: d.type_code,
            type_name: d.type_name,
            type_version: d.type_version,
            holder_kind: d.holder_kind,
            holder_id_no: d.holder_id_no,
            holder_name: d.holder_name,
            fields: &d.fields,
            valid_from: d.valid_from,
            valid_until: d.valid_until,
            status_lists: PURPOSES
                .iter()
                .map(|p| (*p, self.status_url(list_id, p)))
                .collect(),
            list_index,
        });
        let signed = proof::sign(
            sk,
            unsecured,
            proof::proof_options(&self.key_url(&key.kid), &kernel::clock::rfc3339(now)),
        );
        let mut license = License {
            id: 0,
            identifier,
            type_id: d.type_id,
            type_code: d.type_code.to_owned(),
            type_name: d.type_name.to_owned(),
            type_version: d.type_version,
            dept_id: d.dept.id,
            serial: d.serial,
            version: d.version,
            holder_kind: d.holder_kind,
            holder_id_no: d.holder_id_no.to_owned(),
            holder_name: d.holder_name.to_owned(),
            holder_user_id: d.holder_user_id,
            fields: d.fields,
            valid_from: d.valid_from,
            valid_until: d.valid_until,
            status: LicenseStatus::Valid,
            status_label: LicenseStatus::Valid.label().to_owned(),
            status_reason: String::new(),
            status_at: now,
            list_id,
            list_index,
            kid: key.kid.clone(),
            previous_id: d.previous_id,
            issued_at: now,
        };
        license.id = store::insert(
            c,
            by,
            &store::NewRow {
                license: &license,
                credential: &signed.to_string(),
                source,
            },
        )
        .await?;
        Ok(license)
    }

    /// 变更: a new version of the license (same 流水号, version + 1) with the changed fields;
    /// the old one is superseded (set in the revocation list).
    pub async fn amend(&self, actor: &Actor, id: i64, a: Amendment) -> Result<License> {
        let g = actor.authorize::<Issue>()?;
        let by = Authorized::from(g);
        let old = self.license_for_issuer(actor, id).await?;
        if a.reason.trim().is_empty() {
            return Err(Error::field("reason", "required", "请填写变更原因"));
        }
        if old.status != LicenseStatus::Valid {
            return Err(Error::IllegalTransition {
                detail: format!("证照{}，不能变更", old.status.label()),
            });
        }
        let view = self.license_type(old.type_id).await?;
        let version = view
            .published()
            .cloned()
            .ok_or_else(|| Error::internal("license of an unpublished type"))?;
        let mut merged = old.fields.clone();
        for (k, v) in a.fields {
            merged.insert(k, v);
        }
        let fields = version.content.check_values(&merged)?;
        let name = a
            .holder_name
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| old.holder_name.clone());
        let mut c = Checks::new();
        c.text("holder_name", "持证人名称", &name, 100);
        c.finish()?;
        let dept = self.issuer(old.dept_id).await?;
        let issuer_code = dept.credit_code.clone().unwrap_or_default();
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let signer = self.signing_key(&mut tx, by, old.dept_id, now).await?;
        if !store::set_status(
            &mut tx,
            by,
            old.id,
            LicenseStatus::Valid,
            LicenseStatus::Superseded,
            a.reason.trim(),
            now,
        )
        .await?
        {
            return Err(Error::conflict(
                "changed",
                None,
                "证照状态已被他人改变，请刷新后重试",
            ));
        }
        let new = self
            .sign_and_insert(
                &mut tx,
                by,
                &signer,
                Draft {
                    type_id: old.type_id,
                    type_code: &old.type_code,
                    type_name: &old.type_name,
                    type_version: version.version,
                    dept: &dept,
                    issuer_code: &issuer_code,
                    serial: old.serial,
                    version: old.version + 1,
                    holder_kind: old.holder_kind,
                    holder_id_no: &old.holder_id_no,
                    holder_name: &name,
                    holder_user_id: old.holder_user_id,
                    fields,
                    valid_from: old.valid_from,
                    valid_until: old.valid_until,
                    previous_id: Some(old.id),
                },
                None,
                now,
                None,
            )
            .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license",
            old.id,
            "amend",
            json!({"reason": a.reason.trim(), "new_id": new.id, "new_identifier": new.identifier}),
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// 暂停/恢复/吊销/注销/挂失, by the issuing department, with a reason.
    pub async fn change_status(
        &self,
        actor: &Actor,
        id: i64,
        action: StatusAction,
        reason: &str,
    ) -> Result<License> {
        let g = actor.authorize::<ChangeStatus>()?;
        let l = self.license_for_issuer(actor, id).await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::field(
                "reason",
                "required",
                format!("请填写{}原因", action.label()),
            ));
        }
        if reason.chars().count() > 500 {
            return Err(Error::field("reason", "too_long", "原因至多 500 字"));
        }
        let to = transition(l.status, action)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::set_status(&mut tx, Authorized::from(g), id, l.status, to, reason, now).await? {
            return Err(Error::conflict(
                "changed",
                None,
                "证照状态已被他人改变，请刷新后重试",
            ));
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license",
            id,
            action.code(),
            json!({"from": l.status.code(), "to": to.code(), "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        self.license_by_id(id).await
    }

    /// A license that the actor's department issued (staff of that department, or admins).
    async fn license_for_issuer(&self, actor: &Actor, id: i64) -> Result<License> {
        let l = self.license_by_id(id).await?;
        if !actor.can_see(Some(l.dept_id), None) {
            return Err(Error::forbidden("只有颁发部门可以操作该证照"));
        }
        Ok(l)
    }

    pub(crate) async fn license_by_id(&self, id: i64) -> Result<License> {
        store::by_id(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("license", "证照不存在"))
    }

    pub(crate) async fn license_by_identifier(&self, identifier: &str) -> Result<Option<License>> {
        store::by_identifier(&mut *self.conn().await?, identifier).await
    }

    /// One license as the actor may see it: its holder in full, staff within their scope
    /// (masked unless the role needs the full values).
    pub async fn license(&self, actor: &Actor, id: i64) -> Result<License> {
        let l = self.license_by_id(id).await?;
        if self.is_holder(actor, &l).await? {
            return Ok(l);
        }
        actor.require_scope(<ReadLicenses as kernel::auth::Permission>::TOKEN_SCOPE)?;
        actor.require_any_role(<ReadLicenses as kernel::auth::Permission>::ROLES)?;
        actor.require_see(Some(l.dept_id), None)?;
        let full = actor.has_any_role(FULL_VIEW);
        Ok(masked(l, full))
    }

    /// 证照查询 for staff, within their data scope, masked by role.
    pub async fn search(
        &self,
        actor: &Actor,
        type_id: Option<i64>,
        holder_id_no: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<License>> {
        let page = PageQuery {
            page: Some(1),
            per_page: Some(kernel::page::MAX_PER_PAGE),
        };
        Ok(self
            .search_page(actor, type_id, holder_id_no, status, &page)
            .await?
            .items)
    }

    /// 证照查询, one page at a time, within the reader's scope, masked by role.
    pub async fn search_page(
        &self,
        actor: &Actor,
        type_id: Option<i64>,
        holder_id_no: Option<&str>,
        status: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<License>> {
        actor.require_scope(<ReadLicenses as kernel::auth::Permission>::TOKEN_SCOPE)?;
        actor.require_any_role(<ReadLicenses as kernel::auth::Permission>::ROLES)?;
        let scope = actor.scope.filter();
        // Licenses carry no region: a county-wide scope sees none of them, as `can_see` says.
        let nothing = scope.nothing || (scope.region_prefix.is_some() && !scope.include_unplaced);
        let filter = store::Filter {
            dept_ids: if nothing {
                Some(Vec::new())
            } else {
                scope.dept_ids.clone()
            },
            type_id,
            holder_id_no: holder_id_no
                .map(|h| h.trim().to_uppercase())
                .filter(|h| !h.is_empty()),
            status: status.filter(|s| !s.is_empty()).map(str::to_owned),
            limit: page.per_page(),
            offset: page.offset(),
        };
        let full = actor.has_any_role(FULL_VIEW);
        let (rows, total) = store::search(&mut *self.conn().await?, &filter).await?;
        Ok(Page::new(
            rows.into_iter().map(|l| masked(l, full)).collect(),
            total,
            page,
        ))
    }

    /// The holder's id number as their account knows it.
    async fn holder_id_of(&self, actor: &Actor) -> Result<Option<String>> {
        let Some(uid) = actor.user_id else {
            return Ok(None);
        };
        Ok(self
            .org()
            .user(actor, uid)
            .await
            .ok()
            .and_then(|u| u.id_card))
    }

    async fn is_holder(&self, actor: &Actor, l: &License) -> Result<bool> {
        if actor.user_id.is_some() && l.holder_user_id == actor.user_id {
            return Ok(true);
        }
        Ok(self.holder_id_of(actor).await?.as_deref() == Some(l.holder_id_no.as_str()))
    }

    /// 我的证照: the logged-in holder's licenses.
    pub async fn mine(&self, actor: &Actor) -> Result<Vec<License>> {
        if actor.user_id.is_none() {
            return Err(Error::Unauthorized("请先登录".into()));
        }
        let id_no = self.holder_id_of(actor).await?;
        store::by_holder(&mut *self.conn().await?, actor.user_id, id_no.as_deref()).await
    }

    /// The credential (VC JSON) of a license: for its holder, its issuing department's staff,
    /// or an API client granted `licenses:read`. Each read is logged for the holder.
    pub async fn credential(&self, actor: &Actor, id: i64, purpose: &str) -> Result<Value> {
        let l = self.license_by_id(id).await?;
        let allowed = self.is_holder(actor, &l).await?
            || (actor.token_scopes.is_some() && Authorized::client(actor, "licenses:read").is_ok())
            || (actor.has_any_role(<ReadLicenses as kernel::auth::Permission>::ROLES)
                && actor.require_scope("licenses:read").is_ok()
                && actor.can_see(Some(l.dept_id), None));
        if !allowed {
            return Err(Error::forbidden("无权读取该证照"));
        }
        let mut c = self.conn().await?;
        let text = store::credential(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("license", "证照不存在"))?;
        self.log_usage(id, UsageKind::ApiRead, &who(Some(actor)), purpose)
            .await?;
        serde_json::from_str(&text).map_err(|e| Error::internal(format!("stored credential: {e}")))
    }

    /// The stored credential, with no check (for the crate's own verification).
    pub(crate) async fn stored_credential(&self, id: i64) -> Result<Option<Value>> {
        Ok(store::credential(&mut *self.conn().await?, id)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The holder's usable license of a type, or why there is none (免证办).
    pub async fn usable_license_of(
        &self,
        id_no: &str,
        type_id: i64,
    ) -> Result<std::result::Result<License, String>> {
        let now = self.db.now();
        let all = store::of_holder_and_type(
            &mut *self.conn().await?,
            &id_no.trim().to_uppercase(),
            type_id,
        )
        .await?;
        if let Some(l) = all.iter().find(|l| l.usable(now)) {
            return Ok(Ok(l.clone()));
        }
        Ok(Err(match all.first() {
            Some(l) => l.why_unusable(now).unwrap_or_default(),
            None => "申请人没有该类电子证照".to_owned(),
        }))
    }
}

/// The type and issuer of an issuance, looked up and checked once (an import uses it for
/// every row).
pub(crate) struct IssueContext {
    pub(crate) view: crate::types::service::TypeView,
    pub(crate) version: crate::types::domain::TypeVersion,
    pub(crate) dept: org::Department,
    pub(crate) issuer_code: String,
}

/// A license's holder, fields and dates, checked against its type.
pub(crate) struct Checked {
    id_no: String,
    name: String,
    fields: Map<String, Value>,
    valid_from: i64,
    valid_until: Option<i64>,
}

impl IssueContext {
    /// Every problem of one input at once, each naming its field.
    pub(crate) fn check(&self, input: &NewLicense, now: i64) -> Result<Checked> {
        let kind = self.view.license_type.holder_kind;
        let id_no = input.holder.id_no.trim().to_uppercase();
        let name = input.holder.name.trim().to_owned();
        let mut c = Checks::new();
        if let Err(e) = kind.check_id(&id_no) {
            c.add(
                "holder.id_no",
                "invalid_id",
                format!("持证{}的证件号码无效：{e}", kind.label()),
            );
        }
        c.text("holder.name", "持证人名称", &name, 100);
        let fields = match self.version.content.check_values(&input.fields) {
            Ok(f) => f,
            Err(e) => {
                c.merge(Err(e));
                Map::new()
            }
        };
        let valid_from = match input.valid_from.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => match parse_day(s, "valid_from") {
                Ok(t) => t,
                Err(e) => {
                    c.merge(Err(e));
                    now
                }
            },
            None => now,
        };
        c.finish()?;
        Ok(Checked {
            id_no,
            name,
            fields,
            valid_from,
            valid_until: valid_until(valid_from, self.version.content.validity_years),
        })
    }
}

/// The trimmed source key, at most 200 characters.
pub(crate) fn check_source(source: Option<&str>) -> Result<Option<&str>> {
    let source = source.map(str::trim).filter(|s| !s.is_empty());
    if source.is_some_and(|s| s.chars().count() > 200) {
        return Err(Error::field("source", "too_long", "来源标识至多 200 字"));
    }
    Ok(source)
}

/// What a new license row is made from.
struct Draft<'a> {
    type_id: i64,
    type_code: &'a str,
    type_name: &'a str,
    type_version: i64,
    dept: &'a org::Department,
    issuer_code: &'a str,
    serial: i64,
    version: i64,
    holder_kind: HolderKind,
    holder_id_no: &'a str,
    holder_name: &'a str,
    holder_user_id: Option<i64>,
    fields: Map<String, Value>,
    valid_from: i64,
    valid_until: Option<i64>,
    previous_id: Option<i64>,
}

/// A license used in place of a paper material (免证办).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Exemption {
    pub license_id: i64,
    pub identifier: String,
    pub type_name: String,
    /// For the clerk and approver: which license, and its verification result.
    pub message: String,
}

impl LicensesService {
    /// 免证办: the applicant's usable license of the type (`type_ref`: code or name), verified
    /// and logged for the holder; or, in zh-CN, why none can be used (then the material is
    /// asked for as usual).
    ///
    /// `Ok(None)`: this library does not hold that type at all (a license another authority
    /// keeps); the caller decides what that means for its material.
    pub async fn exempt(
        &self,
        id_no: &str,
        type_ref: &str,
        purpose: &str,
    ) -> Result<Option<std::result::Result<Exemption, String>>> {
        let Some(t) = self.license_type_by_ref(type_ref).await? else {
            return Ok(None);
        };
        Ok(Some(self.exempt_of_type(id_no, &t, purpose).await?))
    }

    async fn exempt_of_type(
        &self,
        id_no: &str,
        t: &crate::types::domain::LicenseType,
        purpose: &str,
    ) -> Result<std::result::Result<Exemption, String>> {
        let l = match self.usable_license_of(id_no, t.id).await? {
            Ok(l) => l,
            Err(why) => return Ok(Err(format!("{why}，请提交材料"))),
        };
        let vc = self
            .stored_credential(l.id)
            .await?
            .ok_or_else(|| Error::internal("license without credential"))?;
        let (v, _) = self.check_credential(&vc).await?;
        if !v.valid {
            return Ok(Err(format!(
                "{}核验未通过（{}），请提交材料",
                t.name, v.message
            )));
        }
        self.log_usage(l.id, UsageKind::Exempt, "services", purpose)
            .await?;
        Ok(Ok(Exemption {
            license_id: l.id,
            identifier: l.identifier.clone(),
            type_name: t.name.clone(),
            message: format!(
                "已调取电子证照“{}”（{}），核验通过：签名、状态、有效期均有效",
                t.name, l.identifier
            ),
        }))
    }
}

/// The audit record of an issuance (`license` · `issue`).
pub(crate) fn issue_audit(license: &License, source: Option<&str>) -> kernel::audit::Entry {
    (
        "license".to_owned(),
        license.id.to_string(),
        "issue".to_owned(),
        json!({"identifier": license.identifier, "type": license.type_code,
               "dept_id": license.dept_id, "source": source, "kid": license.kid}),
    )
}
