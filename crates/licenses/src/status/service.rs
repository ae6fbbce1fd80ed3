//! Status lists as signed credentials, made from the licenses' statuses when asked, so that a
//! revocation shows at once.

use super::domain::*;
use super::store;
use crate::issue::domain::LicenseStatus;
use crate::proof::domain as proof;
use crate::service::*;
use kernel::error::{Error, Result};
use serde_json::{json, Value};
use sqlx::AnyConnection;

/// The statuses whose bit is set in a list of `purpose`.
pub(crate) fn statuses_of(purpose: &str) -> Vec<&'static str> {
    use LicenseStatus::*;
    [Valid, Suspended, Revoked, Cancelled, Lost, Superseded]
        .into_iter()
        .filter(|s| match purpose {
            "revocation" => s.is_revoked_bit(),
            _ => *s == Suspended,
        })
        .map(LicenseStatus::code)
        .collect()
}

impl LicensesService {
    pub(crate) async fn allocate_status(
        &self,
        c: &mut AnyConnection,
        dept_id: i64,
        now: i64,
    ) -> Result<(i64, i64)> {
        store::allocate(c, dept_id, LIST_SIZE as i64, now).await
    }

    /// `n` status slots at once (an import batch).
    pub(crate) async fn allocate_statuses(
        &self,
        c: &mut AnyConnection,
        dept_id: i64,
        n: usize,
        now: i64,
    ) -> Result<Vec<(i64, i64)>> {
        store::allocate_many(c, dept_id, LIST_SIZE as i64, n, now).await
    }

    /// The bitstring of one list and purpose, from the licenses' statuses now.
    pub async fn status_bits(&self, list_id: i64, purpose: &str) -> Result<(i64, Bitstring)> {
        let mut c = self.conn().await?;
        let l = store::list(&mut c, list_id)
            .await?
            .ok_or_else(|| Error::not_found("status_list", "状态列表不存在"))?;
        let mut bits = Bitstring::new(l.size as usize);
        for i in store::set_indexes(&mut c, l.id, &statuses_of(purpose)).await? {
            bits.set(i as usize);
        }
        Ok((l.dept_id, bits))
    }

    /// One bit of a list (the list's department, and whether the bit is set; none past the
    /// list's end): what 查证 needs, read from one slot rather than by making the bitstring.
    pub async fn status_bit(
        &self,
        list_id: i64,
        purpose: &str,
        index: usize,
    ) -> Result<(i64, Option<bool>)> {
        let mut c = self.conn().await?;
        let l = store::list(&mut c, list_id)
            .await?
            .ok_or_else(|| Error::not_found("status_list", "状态列表不存在"))?;
        if index >= l.size as usize {
            return Ok((l.dept_id, None));
        }
        let set = store::slot_status(&mut c, l.id, index as i64)
            .await?
            .is_some_and(|s| statuses_of(purpose).contains(&s.as_str()));
        Ok((l.dept_id, Some(set)))
    }

    /// The BitstringStatusListCredential served at the list's URL, signed by the department.
    pub async fn status_list_credential(&self, list_id: i64, purpose: &str) -> Result<Value> {
        if !PURPOSES.contains(&purpose) {
            return Err(Error::not_found(
                "status_list",
                "状态列表用途应为 revocation 或 suspension",
            ));
        }
        let (dept_id, bits) = self.status_bits(list_id, purpose).await?;
        let (key, sk) = self.current_signer(dept_id).await?;
        let url = self.status_url(list_id, purpose);
        let now = kernel::clock::rfc3339(self.db.now());
        let unsecured = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.issuer_url(dept_id),
            "validFrom": now,
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": bits.encode(),
            },
        });
        Ok(proof::sign(
            &sk,
            unsecured,
            proof::proof_options(&self.key_url(&key.kid), &now),
        ))
    }

    /// (list id, purpose) of every list: what `sync-trust` caches.
    pub async fn status_list_ids(&self) -> Result<Vec<i64>> {
        Ok(store::lists(&mut *self.conn().await?)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect())
    }
}
