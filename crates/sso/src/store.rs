//! SQL on `sso_*`. Codes and tokens are looked up by their SM3 hash only.

use crate::domain::{CheckedClient, Client};
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn list<T: serde::de::DeserializeOwned>(s: String) -> Vec<T> {
    serde_json::from_str(&s).unwrap_or_default()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

const CLIENT_COLS: &str = "id, client_id, name, icon_text, icon_color, launch_url, redirect_uris, \
    post_logout_redirect_uris, scopes, dept_ids, public_client, secret_hash, enabled, created_at, updated_at";

fn client(r: &AnyRow) -> (Client, Option<String>) {
    (
        Client {
            id: r.get("id"),
            client_id: r.get("client_id"),
            name: r.get("name"),
            icon_text: r.get("icon_text"),
            icon_color: r.get("icon_color"),
            launch_url: r.get("launch_url"),
            redirect_uris: list(r.get("redirect_uris")),
            post_logout_redirect_uris: list(r.get("post_logout_redirect_uris")),
            scopes: list(r.get("scopes")),
            dept_ids: list(r.get("dept_ids")),
            public_client: kernel::db::flag(r.get("public_client")),
            enabled: kernel::db::flag(r.get("enabled")),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        },
        r.get("secret_hash"),
    )
}

pub(crate) async fn insert_client(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    k: &CheckedClient,
    client_id: &str,
    secret_hash: Option<&str>,
    now: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO sso_clients (client_id, name, icon_text, icon_color, launch_url, redirect_uris,
            post_logout_redirect_uris, scopes, dept_ids, public_client, secret_hash, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(client_id)
    .bind(&k.name)
    .bind(&k.icon_text)
    .bind(&k.icon_color)
    .bind(&k.launch_url)
    .bind(json(&k.redirect_uris))
    .bind(json(&k.post_logout_redirect_uris))
    .bind(json(&k.scopes))
    .bind(json(&k.dept_ids))
    .bind(k.public_client as i64)
    .bind(secret_hash)
    .bind(k.enabled as i64)
    .bind(now)
    .fetch_one(c)
    .await
    .map_err(|e| Error::from_db(e, "client_id", "客户端编号冲突，请重试"))
}

pub(crate) async fn update_client(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    k: &CheckedClient,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE sso_clients SET name = $1, icon_text = $2, icon_color = $3, launch_url = $4,
            redirect_uris = $5, post_logout_redirect_uris = $6, scopes = $7, dept_ids = $8,
            enabled = $9, updated_at = $10 WHERE id = $11",
    )
    .bind(&k.name)
    .bind(&k.icon_text)
    .bind(&k.icon_color)
    .bind(&k.launch_url)
    .bind(json(&k.redirect_uris))
    .bind(json(&k.post_logout_redirect_uris))
    .bind(json(&k.scopes))
    .bind(json(&k.dept_ids))
    .bind(k.enabled as i64)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

pub(crate) async fn set_secret(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    secret_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE sso_clients SET secret_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(secret_hash)
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn clients(c: &mut AnyConnection) -> Result<Vec<Client>> {
    let rows = sqlx::query(&format!(
        "SELECT {CLIENT_COLS} FROM sso_clients ORDER BY id"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(|r| client(r).0).collect())
}

pub(crate) async fn client_by_id(
    c: &mut AnyConnection,
    id: i64,
) -> Result<Option<(Client, Option<String>)>> {
    let r = sqlx::query(&format!(
        "SELECT {CLIENT_COLS} FROM sso_clients WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(client))
}

pub(crate) async fn client_by_client_id(
    c: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<(Client, Option<String>)>> {
    let r = sqlx::query(&format!(
        "SELECT {CLIENT_COLS} FROM sso_clients WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(client))
}

// ---- consents ----

pub(crate) async fn consent(
    c: &mut AnyConnection,
    user_id: i64,
    client: i64,
) -> Result<Option<Vec<String>>> {
    let s: Option<String> =
        sqlx::query_scalar("SELECT scopes FROM sso_consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client)
            .fetch_optional(c)
            .await?;
    Ok(s.map(list))
}

pub(crate) async fn save_consent(
    c: &mut AnyConnection,
    user_id: i64,
    client: i64,
    scopes: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM sso_consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO sso_consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user_id)
    .bind(client)
    .bind(json(&scopes))
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

// ---- codes ----

pub(crate) struct NewCode<'a> {
    pub code_hash: &'a str,
    pub client: i64,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub sid: &'a str,
    pub auth_time: i64,
    pub now: i64,
    pub expires_at: i64,
}

pub(crate) async fn insert_code(c: &mut AnyConnection, n: &NewCode<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO sso_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
            sid, auth_time, created_at, expires_at, used_at, grant_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL)",
    )
    .bind(n.code_hash)
    .bind(n.client)
    .bind(n.user_id)
    .bind(n.redirect_uri)
    .bind(json(&n.scopes))
    .bind(n.nonce)
    .bind(n.code_challenge)
    .bind(n.sid)
    .bind(n.auth_time)
    .bind(n.now)
    .bind(n.expires_at)
    .execute(c)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRow {
    pub client: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub sid: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub grant_id: Option<i64>,
}

pub(crate) async fn code(c: &mut AnyConnection, code_hash: &str) -> Result<Option<CodeRow>> {
    let r = sqlx::query(
        "SELECT client_id, user_id, redirect_uri, scopes, nonce, code_challenge, sid, auth_time,
                expires_at, used_at, grant_id FROM sso_codes WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(c)
    .await?;
    Ok(r.map(|r| CodeRow {
        client: r.get("client_id"),
        user_id: r.get("user_id"),
        redirect_uri: r.get("redirect_uri"),
        scopes: list(r.get("scopes")),
        nonce: r.get("nonce"),
        code_challenge: r.get("code_challenge"),
        sid: r.get("sid"),
        auth_time: r.get("auth_time"),
        expires_at: r.get("expires_at"),
        used_at: r.get("used_at"),
        grant_id: r.get("grant_id"),
    }))
}

/// Marks the code used; false when another request used it first.
pub(crate) async fn use_code(c: &mut AnyConnection, code_hash: &str, now: i64) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE sso_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(code_hash)
            .execute(c)
            .await?
            .rows_affected()
            == 1,
    )
}

pub(crate) async fn set_code_grant(
    c: &mut AnyConnection,
    code_hash: &str,
    grant: i64,
) -> Result<()> {
    sqlx::query("UPDATE sso_codes SET grant_id = $1 WHERE code_hash = $2")
        .bind(grant)
        .bind(code_hash)
        .execute(c)
        .await?;
    Ok(())
}

/// Forgets codes that expired a day ago (used or not).
pub(crate) async fn delete_old_codes(c: &mut AnyConnection, before: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sso_codes WHERE expires_at < $1")
        .bind(before)
        .execute(c)
        .await?
        .rows_affected())
}

// ---- grants and tokens ----

#[derive(Debug, Clone)]
pub(crate) struct GrantRow {
    pub id: i64,
    pub client: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub sid: String,
    pub auth_time: i64,
    pub revoked_at: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_grant(
    c: &mut AnyConnection,
    client: i64,
    user_id: i64,
    scopes: &[String],
    sid: &str,
    auth_time: i64,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sso_grants (client_id, user_id, scopes, sid, auth_time, created_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL) RETURNING id",
    )
    .bind(client)
    .bind(user_id)
    .bind(json(&scopes))
    .bind(sid)
    .bind(auth_time)
    .bind(now)
    .fetch_one(c)
    .await?)
}

fn grant_row(r: &AnyRow) -> GrantRow {
    GrantRow {
        id: r.get("id"),
        client: r.get("client_id"),
        user_id: r.get("user_id"),
        scopes: list(r.get("scopes")),
        sid: r.get("sid"),
        auth_time: r.get("auth_time"),
        revoked_at: r.get("revoked_at"),
    }
}

const GRANT_COLS: &str = "id, client_id, user_id, scopes, sid, auth_time, revoked_at";

pub(crate) async fn grant(c: &mut AnyConnection, id: i64) -> Result<Option<GrantRow>> {
    let r = sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sso_grants WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(grant_row))
}

pub(crate) async fn grants_of_sid(c: &mut AnyConnection, sid: &str) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sso_grants WHERE sid = $1 AND revoked_at IS NULL"
    ))
    .bind(sid)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(grant_row).collect())
}

pub(crate) async fn revoke_grant(
    c: &mut AnyConnection,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE sso_grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

pub(crate) async fn insert_refresh(
    c: &mut AnyConnection,
    hash: &str,
    grant: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sso_refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(hash)
    .bind(grant)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await?;
    Ok(())
}

/// A refresh token: its grant, expiry and when it was used (rotated).
pub(crate) async fn refresh(
    c: &mut AnyConnection,
    hash: &str,
) -> Result<Option<(i64, i64, Option<i64>)>> {
    let r = sqlx::query(
        "SELECT grant_id, expires_at, used_at FROM sso_refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(c)
    .await?;
    Ok(r.map(|r| (r.get("grant_id"), r.get("expires_at"), r.get("used_at"))))
}

/// Marks a refresh token used; false when another request rotated it first.
pub(crate) async fn use_refresh(c: &mut AnyConnection, hash: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sso_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(hash)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn insert_access(
    c: &mut AnyConnection,
    hash: &str,
    grant: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sso_access_tokens (token_hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(grant)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await?;
    Ok(())
}

/// An access token: its grant and expiry.
pub(crate) async fn access(c: &mut AnyConnection, hash: &str) -> Result<Option<(i64, i64)>> {
    let r = sqlx::query("SELECT grant_id, expires_at FROM sso_access_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| (r.get("grant_id"), r.get("expires_at"))))
}

pub(crate) async fn delete_expired_tokens(c: &mut AnyConnection, now: i64) -> Result<u64> {
    let a = sqlx::query("DELETE FROM sso_access_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
    let r = sqlx::query("DELETE FROM sso_refresh_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(c)
        .await?
        .rows_affected();
    Ok(a + r)
}

// ---- keys ----

pub(crate) struct KeyRow {
    pub kid: String,
    pub public_jwk: String,
    pub sealed: String,
    pub active: bool,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

fn key_row(r: &AnyRow) -> KeyRow {
    KeyRow {
        kid: r.get("kid"),
        public_jwk: r.get("public_jwk"),
        sealed: r.get("sealed_private"),
        active: kernel::db::flag(r.get("active")),
        created_at: r.get("created_at"),
        retired_at: r.get("retired_at"),
    }
}

const KEY_COLS: &str = "kid, public_jwk, sealed_private, active, created_at, retired_at";

pub(crate) async fn keys(c: &mut AnyConnection) -> Result<Vec<KeyRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLS} FROM sso_keys ORDER BY created_at DESC, kid DESC"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(key_row).collect())
}

pub(crate) async fn active_key(c: &mut AnyConnection) -> Result<Option<KeyRow>> {
    let r = sqlx::query(&format!(
        "SELECT {KEY_COLS} FROM sso_keys WHERE active = 1 ORDER BY created_at DESC LIMIT 1"
    ))
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(key_row))
}

pub(crate) async fn count_keys(c: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sso_keys")
        .fetch_one(c)
        .await?)
}

pub(crate) async fn retire_keys(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    now: i64,
) -> Result<u64> {
    Ok(
        sqlx::query("UPDATE sso_keys SET active = 0, retired_at = $1 WHERE active = 1")
            .bind(now)
            .execute(c)
            .await?
            .rows_affected(),
    )
}

pub(crate) async fn insert_key(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    kid: &str,
    public_jwk: &str,
    sealed: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sso_keys (kid, alg, public_jwk, sealed_private, active, created_at, retired_at)
         VALUES ($1, 'ES256', $2, $3, 1, $4, NULL)",
    )
    .bind(kid)
    .bind(public_jwk)
    .bind(sealed)
    .bind(now)
    .execute(c)
    .await
    .map_err(|e| Error::from_db(e, "kid", "密钥编号冲突，请重试"))?;
    Ok(())
}
