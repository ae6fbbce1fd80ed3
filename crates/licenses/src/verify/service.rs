//! 查证 online: facts from this server's registry, the checks from [`super::domain`], and a
//! usage record for the holder.

use super::domain::*;
use crate::proof::domain as proof;
use crate::service::*;
use crate::usage::{service::who, UsageKind};
use kernel::error::{Error, Result};
use kernel::Actor;
use serde_json::Value;

impl LicensesService {
    /// Verifies a credential (JSON value) against this server's keys and status lists.
    pub async fn verify(&self, actor: Option<&Actor>, doc: &Value) -> Result<Verification> {
        let (v, id) = self.check_credential(doc).await?;
        if let Some(id) = id {
            self.log_usage(
                id,
                UsageKind::Verify,
                &who(actor),
                if v.valid {
                    "查证：有效"
                } else {
                    "查证：无效"
                },
            )
            .await?;
        }
        Ok(v)
    }

    /// The checks, and the registry's license of that identifier (nothing logged).
    pub(crate) async fn check_credential(
        &self,
        doc: &Value,
    ) -> Result<(Verification, Option<i64>)> {
        if !doc.is_object() {
            return Err(Error::field(
                "credential",
                "invalid",
                "请提交证照凭证（JSON 对象）",
            ));
        }
        let n = needs(doc);
        let issuer_dept = n.issuer.as_deref().and_then(dept_of_issuer_url);
        let mut facts = Facts {
            source: "在线核验".into(),
            now_ms: self.db.now(),
            ..Default::default()
        };
        if let Some(kid) = n.verification_method.as_deref().and_then(kid_of_url) {
            if let Some(k) = self.key(kid).await? {
                facts.key = Some(KeyFact {
                    kid: k.kid.clone(),
                    issuer: self.issuer_url(k.dept_id),
                    public_key: k.public_key,
                    created_at: k.created_at,
                    retired_at: k.retired_at,
                });
            }
        }
        let record = match &n.identifier {
            Some(id) => self.license_by_identifier(id).await?,
            None => None,
        };
        if let Some(r) = &record {
            facts.registered_hash = self
                .stored_credential(r.id)
                .await?
                .and_then(|c| proof::split(&c).ok())
                .map(|s| proof::sm3_jcs(&s.unsecured));
        }
        for s in &n.statuses {
            let set = match status_of_url(&s.list_url) {
                Some((list_id, purpose)) if purpose == s.purpose => {
                    match self.status_bit(list_id, &purpose, s.index).await {
                        // Only the issuer's own lists count.
                        Ok((dept, bit)) if Some(dept) == issuer_dept => bit,
                        Ok(_) | Err(Error::NotFound { .. }) => None,
                        Err(e) => return Err(e),
                    }
                }
                _ => None,
            };
            // The registry's reason when the bit points at the license itself.
            let reason = record
                .as_ref()
                .filter(|r| r.list_index as usize == s.index)
                .map(|r| r.status_reason.clone());
            facts.statuses.push(StatusFact {
                purpose: s.purpose.clone(),
                set,
                reason,
            });
        }
        Ok((evaluate(doc, &facts), record.map(|r| r.id)))
    }
}

impl LicensesService {
    /// Every key and status list, for offline verifiers (`yiwang licenses sync-trust`).
    pub async fn trust_bundle(&self) -> Result<TrustBundle> {
        let keys = self
            .public_keys()
            .await?
            .into_iter()
            .map(|k| KeyFact {
                issuer: self.issuer_url(k.dept_id),
                kid: k.kid,
                public_key: k.public_key,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect();
        let mut status_lists = Vec::new();
        for id in self.status_list_ids().await? {
            for p in crate::status::domain::PURPOSES {
                status_lists.push(self.status_list_credential(id, p).await?);
            }
        }
        Ok(TrustBundle {
            base_url: self.base_url.clone(),
            generated_at: kernel::clock::rfc3339(self.db.now()),
            keys,
            status_lists,
        })
    }
}
