//! Issuing keys: one active SM2 key pair per department, made on first use or by rotation;
//! retired keys and registered external keys stay resolvable for verification.

use super::domain::*;
use super::store;
use crate::proof::domain as proof;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde_json::{json, Value};
use sm2::dsa::SigningKey;

impl LicensesService {
    /// Makes a new key pair for the department inside `c`'s transaction, retiring the current one.
    pub(crate) async fn make_key(
        &self,
        c: &mut kernel::Tx,
        by: Authorized<'_>,
        dept_id: i64,
        now: i64,
    ) -> Result<(IssuerKey, SigningKey)> {
        let master = self.master()?;
        let n = store::count_for(c, dept_id).await? + 1;
        let kid = kid_for(dept_id, n);
        let secret = proof::generate_secret();
        let sk = proof::signing_key(&secret[..]).map_err(Error::internal)?;
        let public = hex::encode(proof::public_key_of(&sk));
        let sealed = master.seal(&kid, &secret[..]);
        let retired = store::retire_active(c, by, dept_id, now).await?;
        store::insert_key(c, by, &kid, dept_id, &public, Some(&sealed), true, now).await?;
        audit::record(
            c,
            now,
            &by.actor().audit_actor(),
            "license_key",
            &kid,
            if retired > 0 { "rotate" } else { "create" },
            json!({"dept_id": dept_id, "public_key": public}),
        )
        .await?;
        let key = IssuerKey {
            kid,
            dept_id,
            public_key: public,
            active: true,
            created_at: now,
            retired_at: None,
        };
        Ok((key, sk))
    }

    /// The department's signing key, made on first use (inside `c`'s transaction).
    pub(crate) async fn signing_key(
        &self,
        c: &mut kernel::Tx,
        by: Authorized<'_>,
        dept_id: i64,
        now: i64,
    ) -> Result<(IssuerKey, SigningKey)> {
        match store::active_key(c, dept_id).await? {
            Some(k) => self.unseal(k),
            None => self.make_key(c, by, dept_id, now).await,
        }
    }

    /// `yiwang licenses keys rotate`: a new key pair for the department; the old one is retired
    /// and still verifies what it signed.
    pub async fn rotate_key(&self, actor: &Actor, dept_id: i64) -> Result<IssuerKey> {
        let g = actor.authorize::<ManageKeys>()?;
        self.issuer(dept_id).await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (key, _) = self
            .make_key(&mut tx, Authorized::from(g), dept_id, now)
            .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Registers a department's external public key (a JWK): one whose private key lives
    /// elsewhere (a signing device); credentials it signs verify here. It never signs here.
    pub async fn register_key(
        &self,
        actor: &Actor,
        dept_id: i64,
        jwk: &Value,
    ) -> Result<IssuerKey> {
        let g = actor.authorize::<ManageKeys>()?;
        self.issuer(dept_id).await?;
        let sec1 =
            proof::from_jwk(jwk).map_err(|e| Error::field("public_key_jwk", "invalid_key", e))?;
        let public = hex::encode(&sec1);
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let n = store::count_for(&mut tx, dept_id).await? + 1;
        let kid = format!("{}-ext", kid_for(dept_id, n));
        store::insert_key(
            &mut tx,
            Authorized::from(g),
            &kid,
            dept_id,
            &public,
            None,
            false,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license_key",
            &kid,
            "register",
            json!({"dept_id": dept_id, "public_key": public}),
        )
        .await?;
        tx.commit().await?;
        self.key(&kid)
            .await?
            .ok_or_else(|| Error::internal("key vanished"))
    }

    pub async fn keys(&self, actor: &Actor) -> Result<Vec<IssuerKey>> {
        actor.authorize::<ManageKeys>()?;
        store::keys(&mut *self.conn().await?).await
    }

    /// Public: a key by its kid (what verificationMethod URLs resolve to).
    pub async fn key(&self, kid: &str) -> Result<Option<IssuerKey>> {
        Ok(store::key(&mut *self.conn().await?, kid)
            .await?
            .map(|k| k.key))
    }

    /// Every key, public parts only (for `sync-trust` and the issuer documents).
    pub async fn public_keys(&self) -> Result<Vec<IssuerKey>> {
        store::keys(&mut *self.conn().await?).await
    }

    /// The verification method document served at the key's URL.
    pub fn key_document(&self, k: &IssuerKey) -> Value {
        let sec1 = hex::decode(&k.public_key).unwrap_or_default();
        json!({
            "@context": ["https://www.w3.org/ns/cid/v1"],
            "id": self.key_url(&k.kid),
            "type": "JsonWebKey",
            "controller": self.issuer_url(k.dept_id),
            "publicKeyJwk": proof::jwk(&sec1),
            "created": kernel::clock::rfc3339(k.created_at),
            "retired": k.retired_at.map(kernel::clock::rfc3339),
        })
    }
}

impl LicensesService {
    /// The department's current signing key for documents that need no new key (status lists).
    pub(crate) async fn current_signer(&self, dept_id: i64) -> Result<(IssuerKey, SigningKey)> {
        let k = store::active_key(&mut *self.conn().await?, dept_id)
            .await?
            .ok_or_else(|| Error::not_found("license_key", "该部门尚无签发密钥"))?;
        self.unseal(k)
    }

    /// The signing key of a stored key row, opened with the master key.
    fn unseal(&self, k: store::KeyRow) -> Result<(IssuerKey, SigningKey)> {
        let sealed = k
            .sealed
            .ok_or_else(|| Error::internal("active key without a private part"))?;
        let secret = self
            .master()?
            .open(&k.key.kid, &sealed)
            .map_err(Error::internal)?;
        let sk = proof::signing_key(&secret).map_err(Error::internal)?;
        Ok((k.key, sk))
    }
}
