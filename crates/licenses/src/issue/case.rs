//! 出件: the service hall reports each delivered case of an item whose result is a license
//! type. Delivered as 电子证照, the license is issued from the case's form in the applicant's
//! name, for the deciding department, without retyping; delivered on paper only, the case is
//! recorded all the same, as the denominator of 电子证照签发率.

use super::domain::License;
use super::service::{Holder, NewLicense};
use super::store;
use crate::service::LicensesService;
use crate::types::domain::LicenseType;
use kernel::error::{Error, Result};
use kernel::Authorized;
use serde_json::{Map, Value};

/// Where the license's `decision_no` field (决定文号), if the type has one, comes from.
pub const DECISION_NO_FIELD: &str = "decision_no";

/// A delivered case of an item whose result is a license type.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The type, by its GB/T 36904 code or its name, as the item names it.
    pub type_ref: String,
    /// The department that decided the case: the license is issued in its name.
    pub dept_id: i64,
    /// `case:<办件编号>`: delivering again adds nothing.
    pub case_ref: String,
    pub holder: Holder,
    /// The applicant's account, when they applied online (我的证照 finds the license by it).
    pub holder_user_id: Option<i64>,
    /// The case's form: the type's fields are taken from the keys of the same name.
    pub form: Map<String, Value>,
    pub decision_no: Option<String>,
    pub at: i64,
}

impl LicensesService {
    async fn result_type(&self, type_ref: &str) -> Result<LicenseType> {
        let t = self.license_type_by_ref(type_ref).await?.ok_or_else(|| {
            Error::field(
                "result_license",
                "unknown_type",
                format!("证照库中没有证照类型“{type_ref}”"),
            )
        })?;
        if t.published_version == 0 {
            return Err(Error::field(
                "result_license",
                "not_published",
                format!("证照类型“{}”尚未发布", t.name),
            ));
        }
        Ok(t)
    }

    /// The fields of the result type that an application form with `form_keys` cannot fill
    /// (labels), for checking an item whose result is that type before it is saved.
    pub async fn result_type_gaps(
        &self,
        type_ref: &str,
        form_keys: &[&str],
    ) -> Result<Vec<String>> {
        let t = self.result_type(type_ref).await?;
        let v = self.type_version(t.id, t.published_version).await?;
        Ok(v.content
            .fields
            .iter()
            .filter(|f| {
                f.required && f.key != DECISION_NO_FIELD && !form_keys.contains(&f.key.as_str())
            })
            .map(|f| f.label.clone())
            .collect())
    }

    /// 出件 as 电子证照. `by` is the caller's proof that its actor may deliver this case; the
    /// license is issued in the deciding department's name even when a 综合窗口 clerk delivers.
    pub async fn issue_for_case(&self, by: Authorized<'_>, r: CaseResult) -> Result<License> {
        let t = self.result_type(&r.type_ref).await?;
        let v = self.type_version(t.id, t.published_version).await?;
        let mut fields = Map::new();
        for f in &v.content.fields {
            let value = if f.key == DECISION_NO_FIELD {
                r.decision_no.clone().map(Value::String)
            } else {
                r.form.get(&f.key).cloned()
            };
            if let Some(value) =
                value.filter(|v| !matches!(v, Value::String(s) if s.trim().is_empty()))
            {
                fields.insert(f.key.clone(), value);
            }
        }
        let input = NewLicense {
            type_code: t.code.clone(),
            dept_id: Some(r.dept_id),
            holder: r.holder.clone(),
            fields,
            valid_from: None,
            source: Some(r.case_ref.clone()),
        };
        self.issue_for(
            by,
            input,
            r.dept_id,
            r.holder_user_id,
            Some((&r.case_ref, r.at)),
        )
        .await
        .map_err(|e| match e {
            Error::Validation(_) => Error::field(
                "method",
                "license_not_issued",
                format!("不能以电子证照出件：{}", e.detail()),
            ),
            other => other,
        })
    }

    /// 出件 on paper only: the case counts for 签发率 without a license.
    pub async fn note_paper_result(&self, by: Authorized<'_>, r: &CaseResult) -> Result<()> {
        let t = self.result_type(&r.type_ref).await?;
        let mut c = self.conn().await?;
        store::insert_case_result(&mut c, by, &r.case_ref, t.id, r.dept_id, None, r.at).await
    }
}
