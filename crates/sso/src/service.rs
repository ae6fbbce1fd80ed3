//! 统一身份认证 use cases: registering client systems, the authorization step (consent, codes),
//! the token endpoint (codes, refresh tokens rotated in families), userinfo, logout, the
//! signing keys and the 统一门户's list. Org is reached only through `OrgService` and its
//! directory.

use crate::domain::*;
use crate::{jose, store};
use base64::Engine;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized, Db, Role};
use licenses::keys::domain::MasterKey;
use org::OrgService;
use rand::RngCore;
use serde::Serialize;
use serde_json::{json, Value};
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

kernel::permission!(
    /// Registers, changes and disables client systems (the system administrator's work).
    pub ManageClients = [SysAdmin], "sso:write"
);
kernel::permission!(
    /// Reads the registered client systems.
    pub ReadClients = [SysAdmin], "sso:read"
);
kernel::permission!(
    /// Rotates the ID-token signing key (key management: the 安全管理员).
    pub ManageSigningKeys = [SecAdmin], "sso:write"
);

#[derive(Clone, Debug)]
pub struct SsoService {
    db: Db,
    org: OrgService,
    master: Option<MasterKey>,
}

/// A signed-in person at the authorization step: who, which yiwang session, since when.
#[derive(Debug, Clone)]
pub struct Login {
    pub actor: Actor,
    /// An opaque id of the yiwang session (never the cookie itself).
    pub sid: String,
    pub auth_time: i64,
}

/// What the token endpoint answers (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SsoTokenResponse)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub scope: String,
}

/// A refusal at the token or userinfo endpoint: an OAuth error, or a failure of ours.
#[derive(Debug)]
pub enum Refusal {
    OAuth(OAuthError),
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Failed(e)
    }
}
impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Refusal::OAuth(e)
    }
}
impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Refusal::Failed(e.into())
    }
}

/// A signing key as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SsoSigningKey)]
pub struct SigningKey {
    pub kid: String,
    pub alg: &'static str,
    pub active: bool,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sm3_hex(s: &str) -> String {
    hex::encode(Sm3::digest(s.as_bytes()))
}

/// The `sid` of a yiwang session: a keyed digest of its cookie, so that grants can be tied to
/// the session without keeping anything that would open it.
pub fn sid_of(session_token: &str) -> String {
    sm3_hex(&format!("yiwang-sso-sid:{session_token}"))[..32].to_owned()
}

impl SsoService {
    pub fn new(db: Db, auth: kernel::config::AuthConfig, master_key_hex: &str) -> Self {
        SsoService {
            org: OrgService::new(db.clone(), auth),
            db,
            master: MasterKey::from_hex(master_key_hex),
        }
    }

    pub fn from_config(db: Db, config: &kernel::config::Config) -> Self {
        Self::new(db, config.auth.clone(), &config.licenses.master_key)
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    // ---- clients ----

    pub async fn clients(&self, actor: &Actor) -> Result<Vec<Client>> {
        actor.authorize::<ReadClients>()?;
        store::clients(&mut *self.conn().await?).await
    }

    pub async fn client(&self, actor: &Actor, id: i64) -> Result<Client> {
        actor.authorize::<ReadClients>()?;
        store::client_by_id(&mut *self.conn().await?, id)
            .await?
            .map(|(c, _)| c)
            .ok_or_else(|| Error::not_found("sso_client", "接入系统不存在"))
    }

    async fn check_departments(&self, ids: &[i64]) -> Result<()> {
        let known = org::directory::departments(&mut *self.conn().await?).await?;
        if let Some(bad) = ids.iter().find(|id| !known.iter().any(|d| d.id == **id)) {
            return Err(Error::field(
                "dept_ids",
                "department_not_found",
                format!("单位 {bad} 不存在"),
            ));
        }
        Ok(())
    }

    /// Registers a client system. A confidential client's secret comes back this once only;
    /// it is kept as an SM3 hash.
    pub async fn create_client(
        &self,
        actor: &Actor,
        input: ClientInput,
    ) -> Result<(Client, Option<String>)> {
        let g = actor.authorize::<ManageClients>()?;
        let k = input.check()?;
        self.check_departments(&k.dept_ids).await?;
        let client_id = format!("yw-{}", &sm3_hex(&random_token(16))[..20]);
        let secret = (!k.public_client).then(|| format!("ywcs_{}", random_token(32)));
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_client(
            &mut tx,
            Authorized::from(g),
            &k,
            &client_id,
            secret.as_deref().map(sm3_hex).as_deref(),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sso_client",
            id,
            "create",
            json!({"client_id": client_id, "name": k.name, "redirect_uris": k.redirect_uris,
                   "scopes": k.scopes, "dept_ids": k.dept_ids, "public_client": k.public_client}),
        )
        .await?;
        let (c, _) = store::client_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("client vanished"))?;
        tx.commit().await?;
        Ok((c, secret))
    }

    /// Changes a client's settings (not whether it is public: that is what it is).
    pub async fn update_client(
        &self,
        actor: &Actor,
        id: i64,
        input: ClientInput,
    ) -> Result<Client> {
        let g = actor.authorize::<ManageClients>()?;
        let mut k = input.check()?;
        self.check_departments(&k.dept_ids).await?;
        let mut tx = self.db.begin().await?;
        let (before, _) = store::client_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("sso_client", "接入系统不存在"))?;
        k.public_client = before.public_client;
        let now = self.db.now();
        store::update_client(&mut tx, Authorized::from(g), id, &k, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sso_client",
            id,
            if before.enabled && !k.enabled {
                "disable"
            } else if !before.enabled && k.enabled {
                "enable"
            } else {
                "update"
            },
            json!({"name": k.name, "redirect_uris": k.redirect_uris, "scopes": k.scopes,
                   "dept_ids": k.dept_ids, "enabled": k.enabled}),
        )
        .await?;
        let (c, _) = store::client_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("client vanished"))?;
        tx.commit().await?;
        Ok(c)
    }

    /// Enables or disables a client: a disabled one logs nobody in and its tokens stop working.
    pub async fn set_enabled(&self, actor: &Actor, id: i64, enabled: bool) -> Result<Client> {
        let c = self.client(actor, id).await?;
        self.update_client(actor, id, input_of(&c, enabled)).await
    }

    /// A new secret for a confidential client (the old one stops working); shown once.
    pub async fn new_secret(&self, actor: &Actor, id: i64) -> Result<String> {
        let g = actor.authorize::<ManageClients>()?;
        let mut tx = self.db.begin().await?;
        let (c, _) = store::client_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("sso_client", "接入系统不存在"))?;
        if c.public_client {
            return Err(Error::conflict(
                "public_client",
                None,
                "公开客户端没有密钥（使用 PKCE）",
            ));
        }
        let secret = format!("ywcs_{}", random_token(32));
        let now = self.db.now();
        store::set_secret(&mut tx, Authorized::from(g), id, &sm3_hex(&secret), now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sso_client",
            id,
            "new_secret",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Active departments for the client form: (id, name).
    pub async fn departments(&self) -> Result<Vec<(i64, String)>> {
        let mut v: Vec<(i64, String)> =
            org::directory::active_department_names(&mut *self.conn().await?)
                .await?
                .into_iter()
                .collect();
        v.sort();
        Ok(v)
    }

    // ---- the authorization step ----

    /// A client by its `client_id`, whatever its state (the authorization step says why it
    /// refuses a disabled one).
    pub async fn client_by_client_id(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(
            store::client_by_client_id(&mut *self.conn().await?, client_id)
                .await?
                .map(|(c, _)| c),
        )
    }

    /// The user's department and its ancestors, nearest first (none for citizens).
    async fn dept_chain(&self, actor: &Actor) -> Result<Vec<i64>> {
        let Some(mut d) = actor.dept_id else {
            return Ok(vec![]);
        };
        if actor.roles.iter().all(|r| *r == Role::Citizen) {
            return Ok(vec![]);
        }
        let all = org::directory::departments(&mut *self.conn().await?).await?;
        let mut chain = vec![d];
        while let Some(p) = all.iter().find(|x| x.id == d).and_then(|x| x.parent_id) {
            if chain.contains(&p) {
                break;
            }
            chain.push(p);
            d = p;
        }
        Ok(chain)
    }

    /// Whether the actor may log in to the client (staff of an allowed department).
    pub async fn may_use(&self, actor: &Actor, client: &Client) -> Result<bool> {
        Ok(department_allowed(client, &self.dept_chain(actor).await?))
    }

    /// Whether the user already agreed to give the client all of `scopes`.
    pub async fn consented(
        &self,
        user_id: i64,
        client: &Client,
        scopes: &[String],
    ) -> Result<bool> {
        let got = store::consent(&mut *self.conn().await?, user_id, client.id).await?;
        Ok(got.is_some_and(|g| scopes.iter().all(|s| g.contains(s))))
    }

    /// Issues an authorization code for a checked request (its client may be used by the
    /// user); with `consent`, remembers the user's agreement first. Audited as a login to the
    /// client.
    pub async fn issue_code(
        &self,
        login: &Login,
        client: &Client,
        redirect_uri: &str,
        req: &AuthRequest,
        consent: bool,
    ) -> Result<String> {
        let user_id = login
            .actor
            .user_id
            .ok_or_else(|| Error::forbidden("只有用户可以登录接入系统"))?;
        let code = random_token(32);
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if consent {
            let mut scopes = store::consent(&mut tx, user_id, client.id)
                .await?
                .unwrap_or_default();
            for s in &req.scopes {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            store::save_consent(&mut tx, user_id, client.id, &scopes, now).await?;
        }
        store::insert_code(
            &mut tx,
            &store::NewCode {
                code_hash: &sm3_hex(&code),
                client: client.id,
                user_id,
                redirect_uri,
                scopes: &req.scopes,
                nonce: req.nonce.as_deref(),
                code_challenge: req.code_challenge.as_deref(),
                sid: &login.sid,
                auth_time: login.auth_time,
                now,
                expires_at: now + CODE_TTL_MS,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &login.actor.audit_actor(),
            "sso_client",
            client.id,
            "login",
            json!({"client_id": client.client_id, "user_id": user_id, "scopes": req.scopes,
                   "consent_given": consent}),
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Records that a user refused a client, or was refused by its department rule.
    pub async fn record_refusal(&self, actor: &Actor, client: &Client, why: &str) -> Result<()> {
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sso_client",
            client.id,
            "login_refused",
            json!({"client_id": client.client_id, "reason": why}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- the token endpoint ----

    /// Authenticates a client at the token endpoint: a confidential one by its secret
    /// (client_secret_basic or client_secret_post), a public one by its id alone.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> std::result::Result<Client, Refusal> {
        let found = store::client_by_client_id(&mut *self.conn().await?, client_id).await?;
        let Some((c, hash)) = found else {
            return Err(OAuthError::invalid_client("unknown client", "客户端不存在").into());
        };
        if !c.enabled {
            return Err(
                OAuthError::invalid_client("client is disabled", "该接入系统已停用").into(),
            );
        }
        match (c.public_client, secret, hash) {
            (true, None, _) => Ok(c),
            (true, Some(_), _) => Err(OAuthError::invalid_client(
                "public clients have no secret",
                "公开客户端不应提供密钥",
            )
            .into()),
            (false, Some(s), Some(h)) if constant_time_eq(sm3_hex(s).as_bytes(), h.as_bytes()) => {
                Ok(c)
            }
            (false, None, _) => Err(OAuthError::invalid_client(
                "client authentication required",
                "缺少客户端密钥（client_secret_basic 或 client_secret_post）",
            )
            .into()),
            _ => Err(OAuthError::invalid_client(
                "client authentication failed",
                "客户端密钥不正确",
            )
            .into()),
        }
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5). A code is used once:
    /// a second use fails and revokes what the first one gave.
    pub async fn exchange_code(
        &self,
        issuer: &str,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> std::result::Result<TokenResponse, Refusal> {
        let hash = sm3_hex(code);
        let now = self.db.now();
        let row = store::code(&mut *self.conn().await?, &hash).await?;
        let Some(row) = row.filter(|r| r.client == client.id) else {
            return Err(
                OAuthError::invalid_grant("unknown authorization code", "授权码无效").into(),
            );
        };
        if row.used_at.is_some() {
            if let Some(g) = row.grant_id {
                let mut tx = self.db.begin().await?;
                store::revoke_grant(&mut tx, g, "code_reuse", now).await?;
                audit::record(
                    &mut tx,
                    now,
                    &audit::AuditActor::system(),
                    "sso_grant",
                    g,
                    "revoke",
                    json!({"reason": "code_reuse", "client_id": client.client_id}),
                )
                .await?;
                tx.commit().await?;
            }
            return Err(OAuthError::invalid_grant(
                "authorization code already used",
                "授权码已使用过（每个授权码只能用一次），其签发的令牌已作废",
            )
            .into());
        }
        if row.expires_at <= now {
            return Err(
                OAuthError::invalid_grant("authorization code expired", "授权码已过期").into(),
            );
        }
        if redirect_uri != Some(row.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
                "redirect_uri 与授权请求中的不一致",
            )
            .into());
        }
        match (&row.code_challenge, verifier) {
            (Some(_), None) => {
                return Err(OAuthError::invalid_request(
                    "code_verifier",
                    "code_verifier is required",
                    "缺少参数 code_verifier（PKCE）",
                )
                .into())
            }
            (Some(ch), Some(v)) if !verifier_well_formed(v) || !pkce_matches(v, ch) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                    "code_verifier 与 code_challenge 不符",
                )
                .into())
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "no code_challenge was sent for this code",
                    "授权请求没有 code_challenge，不应提供 code_verifier",
                )
                .into())
            }
            _ => {}
        }
        let user = self.user_claims_base(row.user_id).await?;
        let mut tx = self.db.begin().await?;
        if !store::use_code(&mut tx, &hash, now).await? {
            return Err(OAuthError::invalid_grant(
                "authorization code already used",
                "授权码已使用过",
            )
            .into());
        }
        let grant = store::insert_grant(
            &mut tx,
            client.id,
            row.user_id,
            &row.scopes,
            &row.sid,
            row.auth_time,
            now,
        )
        .await?;
        store::set_code_grant(&mut tx, &hash, grant).await?;
        let g = store::GrantRow {
            id: grant,
            client: client.id,
            user_id: row.user_id,
            scopes: row.scopes.clone(),
            sid: row.sid.clone(),
            auth_time: row.auth_time,
            revoked_at: None,
        };
        let answer = self
            .tokens(
                &mut tx,
                issuer,
                client,
                &g,
                &user,
                row.nonce.as_deref(),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Uses a refresh token (RFC 6749 §6): it is replaced by a new one. A refresh token used a
    /// second time means it was stolen or copied: the whole family (the grant) is revoked.
    pub async fn refresh(
        &self,
        issuer: &str,
        client: &Client,
        token: &str,
    ) -> std::result::Result<TokenResponse, Refusal> {
        let hash = sm3_hex(token);
        let now = self.db.now();
        let found = store::refresh(&mut *self.conn().await?, &hash).await?;
        let invalid = || OAuthError::invalid_grant("invalid refresh token", "刷新令牌无效或已失效");
        let Some((grant_id, expires_at, used_at)) = found else {
            return Err(invalid().into());
        };
        let Some(g) = store::grant(&mut *self.conn().await?, grant_id).await? else {
            return Err(invalid().into());
        };
        if g.client != client.id {
            return Err(invalid().into());
        }
        let mut tx = self.db.begin().await?;
        if used_at.is_some() || !store::use_refresh(&mut tx, &hash, now).await? {
            store::revoke_grant(&mut tx, g.id, "refresh_reuse", now).await?;
            audit::record(
                &mut tx,
                now,
                &audit::AuditActor::system(),
                "sso_grant",
                g.id,
                "revoke",
                json!({"reason": "refresh_reuse", "client_id": client.client_id, "user_id": g.user_id}),
            )
            .await?;
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "refresh token already used; the grant is revoked",
                "刷新令牌已被使用过（可能被盗用），该授权下的全部令牌已作废，请重新登录",
            )
            .into());
        }
        if g.revoked_at.is_some() || expires_at <= now {
            return Err(invalid().into());
        }
        let user = self.user_claims_base(g.user_id).await?;
        let answer = self
            .tokens(&mut tx, issuer, client, &g, &user, None, now)
            .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// The user behind a grant, still active and still allowed to use yiwang.
    async fn user_claims_base(&self, user_id: i64) -> std::result::Result<UserFacts, Refusal> {
        let sys = Actor::system();
        let u =
            self.org.user(&sys, user_id).await.map_err(|_| {
                OAuthError::invalid_grant("the user no longer exists", "用户不存在")
            })?;
        if !u.active {
            return Err(OAuthError::invalid_grant("the user is disabled", "该用户已停用").into());
        }
        let actor = self.org.actor_of_user(user_id).await?;
        let dept = match u.dept_id {
            Some(d) => self.org.department(&sys, d).await.ok(),
            None => None,
        };
        Ok(UserFacts { actor, dept })
    }

    /// Access token, refresh token (with offline_access) and ID token for a grant.
    #[allow(clippy::too_many_arguments)]
    async fn tokens(
        &self,
        tx: &mut kernel::Tx,
        issuer: &str,
        client: &Client,
        g: &store::GrantRow,
        user: &UserFacts,
        nonce: Option<&str>,
        now: i64,
    ) -> std::result::Result<TokenResponse, Refusal> {
        let access = format!("ywat_{}", random_token(32));
        store::insert_access(tx, &sm3_hex(&access), g.id, now, now + ACCESS_TTL_MS).await?;
        let refresh = if g.scopes.iter().any(|s| s == "offline_access") {
            let r = format!("ywrt_{}", random_token(32));
            store::insert_refresh(tx, &sm3_hex(&r), g.id, now, now + REFRESH_TTL_MS).await?;
            Some(r)
        } else {
            None
        };
        let mut claims = json!({
            "iss": issuer,
            "sub": user.actor.user_id.unwrap_or_default().to_string(),
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": now / 1000,
            "exp": (now + ACCESS_TTL_MS) / 1000,
            "auth_time": g.auth_time / 1000,
            "sid": g.sid,
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        merge(&mut claims, scope_claims(user, &g.scopes));
        let (kid, pkcs8) = self.signer(tx, now).await?;
        let id_token = jose::sign(&kid, &pkcs8, &claims).map_err(Error::internal)?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ACCESS_TTL_MS / 1000,
            refresh_token: refresh,
            id_token,
            scope: g.scopes.join(" "),
        })
    }

    /// The userinfo answer for a bearer access token (OIDC Core §5.3).
    pub async fn userinfo(&self, token: &str) -> std::result::Result<Value, Refusal> {
        let invalid = || {
            Refusal::OAuth(OAuthError::new(
                "invalid_token",
                "the access token is invalid or expired",
                None,
                "访问令牌无效或已过期",
            ))
        };
        let now = self.db.now();
        let mut c = self.conn().await?;
        let Some((grant_id, expires_at)) = store::access(&mut c, &sm3_hex(token)).await? else {
            return Err(invalid());
        };
        if expires_at <= now {
            return Err(invalid());
        }
        let Some(g) = store::grant(&mut c, grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none())
        else {
            return Err(invalid());
        };
        let enabled = store::client_by_id(&mut c, g.client)
            .await?
            .is_some_and(|(cl, _)| cl.enabled);
        drop(c);
        if !enabled {
            return Err(invalid());
        }
        let user = self
            .user_claims_base(g.user_id)
            .await
            .map_err(|_| invalid())?;
        let mut claims = json!({"sub": g.user_id.to_string()});
        merge(&mut claims, scope_claims(&user, &g.scopes));
        Ok(claims)
    }

    // ---- logout ----

    /// Checks an `id_token_hint`: one of our ID tokens (expired or not); its client and subject.
    pub async fn check_id_token_hint(&self, issuer: &str, token: &str) -> Result<(String, String)> {
        let bad = || {
            Error::field(
                "id_token_hint",
                "invalid_id_token_hint",
                "id_token_hint 不是本平台签发的有效 ID 令牌",
            )
        };
        let kid = jose::kid_of(token).ok_or_else(bad)?;
        let keys = store::keys(&mut *self.conn().await?).await?;
        let k = keys.iter().find(|k| k.kid == kid).ok_or_else(bad)?;
        let jwk: Value = serde_json::from_str(&k.public_jwk).map_err(|_| bad())?;
        let claims = jose::verify(token, &jwk, issuer, None).map_err(|_| bad())?;
        let aud = match &claims["aud"] {
            Value::String(s) => s.clone(),
            Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or("").to_owned(),
            _ => String::new(),
        };
        let sub = claims["sub"].as_str().unwrap_or("").to_owned();
        Ok((aud, sub))
    }

    /// Ends what a yiwang session gave the clients: its grants' access tokens stop working;
    /// offline grants (refresh tokens the user asked to keep) stay.
    pub async fn end_session(&self, sid: &str, actor: &Actor) -> Result<usize> {
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let grants = store::grants_of_sid(&mut tx, sid).await?;
        let mut n = 0;
        for g in grants
            .iter()
            .filter(|g| !g.scopes.iter().any(|s| s == "offline_access"))
        {
            store::revoke_grant(&mut tx, g.id, "logout", now).await?;
            n += 1;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sso_session",
            sid,
            "logout",
            json!({"grants_revoked": n}),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    // ---- keys ----

    /// The active signing key, made on first use.
    async fn signer(
        &self,
        tx: &mut kernel::Tx,
        now: i64,
    ) -> Result<(String, zeroize::Zeroizing<Vec<u8>>)> {
        let master = self.master()?;
        let row = match store::active_key(tx).await? {
            Some(k) => k,
            None => {
                let sys = Actor::system();
                self.make_key(tx, Authorized::system(&sys)?, now).await?;
                store::active_key(tx)
                    .await?
                    .ok_or_else(|| Error::internal("key vanished"))?
            }
        };
        let pkcs8 = master
            .open(&row.kid, &row.sealed)
            .map_err(Error::internal)?;
        Ok((row.kid, pkcs8))
    }

    fn master(&self) -> Result<&MasterKey> {
        self.master.as_ref().ok_or_else(|| {
            Error::conflict(
                "master_key_missing",
                None,
                "未配置主密钥（licenses.master_key），无法签发 ID 令牌：签名私钥须用主密钥加密保存",
            )
        })
    }

    async fn make_key(&self, tx: &mut kernel::Tx, by: Authorized<'_>, now: i64) -> Result<String> {
        let master = self.master()?;
        let n = store::count_keys(tx).await? + 1;
        let kid = format!(
            "sso-{}-{n}",
            kernel::clock::rfc3339(now)
                .get(..10)
                .unwrap_or("k")
                .replace('-', "")
        );
        let (pkcs8, jwk) = jose::generate(&kid).map_err(Error::internal)?;
        let sealed = master.seal(&kid, &pkcs8);
        let retired = store::retire_keys(tx, by, now).await?;
        store::insert_key(tx, by, &kid, &jwk.to_string(), &sealed, now).await?;
        audit::record(
            tx,
            now,
            &by.actor().audit_actor(),
            "sso_key",
            &kid,
            if retired > 0 { "rotate" } else { "create" },
            json!({"alg": jose::ALG, "public_jwk": jwk}),
        )
        .await?;
        Ok(kid)
    }

    /// A new signing key; the old ones stay in the JWKS so that tokens they signed verify.
    pub async fn rotate_key(&self, actor: &Actor) -> Result<SigningKey> {
        let g = actor.authorize::<ManageSigningKeys>()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let kid = self.make_key(&mut tx, Authorized::from(g), now).await?;
        tx.commit().await?;
        Ok(SigningKey {
            kid,
            alg: jose::ALG,
            active: true,
            created_at: now,
            retired_at: None,
        })
    }

    pub async fn signing_keys(&self, actor: &Actor) -> Result<Vec<SigningKey>> {
        actor.authorize::<ReadClients>()?;
        Ok(store::keys(&mut *self.conn().await?)
            .await?
            .into_iter()
            .map(|k| SigningKey {
                kid: k.kid,
                alg: jose::ALG,
                active: k.active,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }

    /// The JWKS (RFC 7517 §5): every key, current and retired, public parts only. Makes the
    /// first key when there is none yet, so that a client can fetch the JWKS before a login.
    pub async fn jwks(&self) -> Result<Value> {
        let mut keys = store::keys(&mut *self.conn().await?).await?;
        if keys.is_empty() && self.master.is_some() {
            let now = self.db.now();
            let mut tx = self.db.begin().await?;
            if store::active_key(&mut tx).await?.is_none() {
                let sys = Actor::system();
                self.make_key(&mut tx, Authorized::system(&sys)?, now)
                    .await?;
            }
            tx.commit().await?;
            keys = store::keys(&mut *self.conn().await?).await?;
        }
        let list: Vec<Value> = keys
            .iter()
            .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
            .collect();
        Ok(json!({ "keys": list }))
    }

    // ---- the 统一门户 ----

    /// The systems the actor may open: enabled clients whose departments admit them.
    pub async fn portal(&self, actor: &Actor) -> Result<Vec<Client>> {
        let chain = self.dept_chain(actor).await?;
        let all = store::clients(&mut *self.conn().await?).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.enabled && department_allowed(c, &chain))
            .collect())
    }

    /// Forgets expired codes and tokens.
    pub async fn sweep(&self) -> Result<u64> {
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let n = store::delete_old_codes(&mut tx, now - 86_400_000).await?
            + store::delete_expired_tokens(&mut tx, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// What the claims are made of.
pub(crate) struct UserFacts {
    actor: Actor,
    dept: Option<org::Department>,
}

/// The claims each scope gives (never 身份证号 or 手机号).
fn scope_claims(u: &UserFacts, scopes: &[String]) -> Value {
    let mut v = json!({});
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        v["name"] = json!(u.actor.display_name);
        v["preferred_username"] = json!(u.actor.username);
    }
    if has("department") {
        v["dept_id"] = json!(u.dept.as_ref().map(|d| d.id));
        v["dept_code"] = json!(u.dept.as_ref().and_then(|d| d.credit_code.clone()));
        v["dept_name"] = json!(u.dept.as_ref().map(|d| d.name.clone()));
        v["region_code"] = json!(u.dept.as_ref().map(|d| d.region_code.clone()));
    }
    if has("roles") {
        let roles: Vec<&str> = u.actor.roles.iter().map(|r| r.code()).collect();
        v["roles"] = json!(roles);
    }
    v
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// A client's settings as an input (to change one thing).
pub fn input_of(c: &Client, enabled: bool) -> ClientInput {
    ClientInput {
        name: c.name.clone(),
        icon_text: Some(c.icon_text.clone()),
        icon_color: Some(c.icon_color.clone()),
        launch_url: c.launch_url.clone(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        scopes: Some(c.scopes.clone()),
        dept_ids: c.dept_ids.clone(),
        public_client: c.public_client,
        enabled,
    }
}
