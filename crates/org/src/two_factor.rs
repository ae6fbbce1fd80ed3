//! Two-factor login (等保 2.0 level 3: two factors for administrators and, by configuration,
//! for all staff): TOTP enrolment confirmed by a code, one-time recovery codes, the login's
//! second step, disabling, an administrator's reset. The algorithm is in [`crate::totp`].
//!
//! Room for SM2 USB keys: a second factor is one row of `org_two_factor` per user today; a
//! key-based factor would be another kind of proof checked in [`OrgService::check_second_factor`]
//! behind the same [`SecondFactor`] and the same policy.

use crate::service::{sm3_hex, AssignRoles, ManageSecurity, OrgService, OwnAccount, SecondFactor};
use crate::{password, store, totp};
use kernel::audit;
use kernel::auth::Via;
use kernel::config::TwoFactorPolicy;
use kernel::error::{Error, Result};
use kernel::{Actor, Role};
use rand::RngCore;
use serde_json::json;

/// The signed-in user's second factor, for the account page.
#[derive(Debug, Clone)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// The policy requires it of this user.
    pub required: bool,
    pub recovery_codes_left: i64,
    /// Enrolment is possible (a master key is configured).
    pub available: bool,
}

/// An enrolment under way: what the page shows (the secret only to its owner, never logged).
pub struct Enrolment {
    /// Base32, as authenticator apps take it.
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(…)")
    }
}

fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut plain = Vec::new();
    for _ in 0..totp::RECOVERY_CODES {
        let mut b = [0u8; 10];
        rand::rngs::OsRng.fill_bytes(&mut b);
        plain.push(totp::new_recovery_code(&b));
    }
    let hashes = plain.iter().map(|c| sm3_hex(&c.replace('-', ""))).collect();
    (plain, hashes)
}

fn own_session_user(actor: &Actor) -> Result<i64> {
    actor
        .user_id
        .filter(|_| actor.via == Via::Session)
        .ok_or_else(|| Error::forbidden("双因素认证只能在登录后的浏览器中设置"))
}

impl OrgService {
    /// What the refusal of a restricted session says (API calls get it as a 403).
    pub const ENROL_FIRST: &str =
        "按本系统安全策略，您的账号须先启用双因素认证（动态验证码）：请在浏览器中打开“/account/two-factor”完成绑定后再使用";

    /// Paths a session restricted to enrolment may still reach: the enrolment page, logging out,
    /// the login page and the static assets (the web middleware sends everything else to the
    /// enrolment page, or answers an API call with 403).
    pub fn allowed_while_enrolling(path: &str) -> bool {
        const OPEN: &[&str] = &[
            "/account/two-factor",
            "/login",
            "/logout",
            "/api/v1/auth/login",
            "/api/v1/auth/logout",
            "/assets/",
            "/favicon",
            "/healthz",
            "/readyz",
        ];
        OPEN.iter().any(|p| {
            path == *p
                || (p.ends_with('/') && path.starts_with(p))
                || path.starts_with(&format!("{p}/"))
                || path.starts_with(&format!("{p}?"))
        })
    }

    /// Does the policy (`auth.two_factor`) require a second factor of someone with these roles?
    /// Residents (市民/企业 only) never.
    pub fn policy_requires(&self, roles: &[Role]) -> bool {
        match self.auth.two_factor {
            TwoFactorPolicy::Off => false,
            TwoFactorPolicy::Admins => roles.iter().any(|r| Role::THREE_ADMINS.contains(r)),
            TwoFactorPolicy::All => roles.iter().any(|r| *r != Role::Citizen),
        }
    }

    pub(crate) async fn two_factor_enabled(&self, user_id: i64) -> Result<bool> {
        Ok(store::two_factor(&mut *self.conn().await?, user_id)
            .await?
            .is_some_and(|t| t.enabled_at.is_some()))
    }

    fn seal(&self) -> Result<&totp::SealKey> {
        self.seal.as_deref().ok_or_else(|| {
            Error::conflict(
                "master_key_missing",
                None,
                "系统未配置主密钥（licenses.master_key），无法保存或核对双因素认证的密钥，请联系系统管理员",
            )
        })
    }

    /// The secret of an enrolled (or enrolling) user, opened.
    fn open_secret(
        &self,
        user_id: i64,
        row: &store::TwoFactorRow,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.seal()?
            .open(user_id, &row.secret_sealed)
            .ok_or_else(|| Error::internal("the TOTP secret does not open with the master key"))
    }

    /// Checks a second factor at login, counting a wrong one towards the lockout like a wrong
    /// password; a right TOTP code's time step is taken (never accepted again), a right recovery
    /// code is spent.
    pub(crate) async fn check_second_factor(
        &self,
        rec: &store::UserRecord,
        factor: SecondFactor<'_>,
        ip: &str,
    ) -> Result<()> {
        let uid = rec.user.id;
        let username = rec.user.username.as_str();
        let now = self.db.now();
        let mut c = self.conn().await?;
        let by_user_here = self.check_not_locked(&mut c, username, ip, now).await?;
        let row = store::two_factor(&mut c, uid)
            .await?
            .filter(|t| t.enabled_at.is_some())
            .ok_or_else(|| Error::internal("second factor checked for a user without one"))?;
        drop(c);
        let (method, field, accepted) = match factor {
            SecondFactor::None => {
                return Err(Error::field(
                    "totp",
                    "required",
                    "请输入动态验证码（认证器应用中显示的 6 位数字）",
                ))
            }
            SecondFactor::Totp(typed) => {
                let code =
                    totp::parse_code(typed).map_err(|m| Error::field("totp", "invalid_code", m))?;
                let secret = self.open_secret(uid, &row)?;
                match totp::verify(&secret, &code, now, row.last_step) {
                    Some(step) => {
                        let mut tx = self.db.begin().await?;
                        let fresh = store::use_step(&mut tx, uid, step).await?;
                        tx.commit().await?;
                        ("totp", "totp", fresh)
                    }
                    None => ("totp", "totp", false),
                }
            }
            SecondFactor::Recovery(typed) => {
                let Some(code) = totp::normalize_recovery_code(typed) else {
                    return Err(Error::field(
                        "recovery_code",
                        "invalid_code",
                        if typed.trim().is_empty() {
                            "请输入恢复码"
                        } else {
                            "恢复码格式不正确：应为 10 位字母和数字（形如 abcde-fghjk）"
                        },
                    ));
                };
                let mut tx = self.db.begin().await?;
                let spent = store::spend_recovery_code(&mut tx, uid, &sm3_hex(&code), now).await?;
                if spent {
                    let left = store::recovery_codes_left(&mut tx, uid).await?;
                    audit::record(
                        &mut tx,
                        now,
                        &audit::AuditActor::user(uid),
                        "user",
                        uid,
                        "recovery_code_used",
                        json!({"ip": ip, "outcome": "success", "left": left}),
                    )
                    .await?;
                    tx.commit().await?;
                    tracing::warn!(user_id = uid, %ip, left, "a recovery code was used to log in");
                }
                ("recovery_code", "recovery_code", spent)
            }
        };
        if accepted {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            now,
            &audit::AuditActor(format!("anonymous@{ip}")),
            "user",
            uid,
            "two_factor_failed",
            json!({"ip": ip, "method": method, "outcome": "failure"}),
        )
        .await?;
        self.count_failure(&mut tx, username, ip, now, by_user_here)
            .await?;
        tx.commit().await?;
        Err(Error::field(
            field,
            "wrong_code",
            if method == "totp" {
                "动态验证码不正确或已使用过：请输入认证器应用中当前显示的 6 位数字"
            } else {
                "恢复码不正确或已使用过"
            },
        ))
    }

    /// The signed-in user's second factor.
    pub async fn two_factor_status(&self, actor: &Actor) -> Result<TwoFactorStatus> {
        let uid = own_session_user(actor)?;
        let mut c = self.conn().await?;
        let row = store::two_factor(&mut c, uid).await?;
        Ok(TwoFactorStatus {
            enabled: row.as_ref().is_some_and(|t| t.enabled_at.is_some()),
            required: self.policy_requires(&actor.roles),
            recovery_codes_left: store::recovery_codes_left(&mut c, uid).await?,
            available: self.seal.is_some(),
        })
    }

    /// Begins (or shows again) the signed-in user's enrolment: a new 160-bit secret, sealed and
    /// kept as pending until a code confirms it.
    pub async fn begin_enrolment(&self, actor: &Actor) -> Result<Enrolment> {
        actor.authorize::<OwnAccount>()?;
        let uid = own_session_user(actor)?;
        let seal = self.seal()?;
        let mut c = self.conn().await?;
        let existing = store::two_factor(&mut c, uid).await?;
        drop(c);
        if existing.as_ref().is_some_and(|t| t.enabled_at.is_some()) {
            return Err(Error::conflict(
                "already_enabled",
                None,
                "双因素认证已启用；如需更换手机，请先停用再重新绑定",
            ));
        }
        let pending = existing.and_then(|t| seal.open(uid, &t.secret_sealed));
        let secret = match pending {
            Some(s) => s,
            None => {
                let mut b = zeroize::Zeroizing::new(vec![0u8; totp::SECRET_BYTES]);
                rand::rngs::OsRng.fill_bytes(&mut b);
                let mut tx = self.db.begin().await?;
                store::put_pending_two_factor(&mut tx, uid, &seal.seal(uid, &b), self.db.now())
                    .await?;
                tx.commit().await?;
                b
            }
        };
        let b32 = totp::base32_encode(&secret);
        let uri = totp::otpauth_uri(&actor.username, &b32);
        Ok(Enrolment {
            qr_svg: totp::qr_svg(&uri),
            uri,
            secret: b32,
        })
    }

    /// Completes the enrolment with a current code; returns the recovery codes, shown this
    /// once (only their hashes are kept). The user's sessions lose any enrolment-only limit.
    pub async fn confirm_enrolment(&self, actor: &Actor, typed: &str) -> Result<Vec<String>> {
        actor.authorize::<OwnAccount>()?;
        let uid = own_session_user(actor)?;
        let code = totp::parse_code(typed).map_err(|m| Error::field("code", "invalid_code", m))?;
        let mut c = self.conn().await?;
        let row = store::two_factor(&mut c, uid).await?;
        drop(c);
        let Some(row) = row.filter(|t| t.enabled_at.is_none()) else {
            return Err(Error::conflict(
                "no_enrolment",
                Some("code"),
                "没有进行中的绑定（可能已启用），请刷新页面",
            ));
        };
        let secret = self.open_secret(uid, &row)?;
        let now = self.db.now();
        let Some(step) = totp::verify(&secret, &code, now, row.last_step) else {
            return Err(Error::field(
                "code",
                "wrong_code",
                "动态验证码不正确：请确认手机时间准确，并输入认证器应用中当前显示的 6 位数字",
            ));
        };
        let (plain, hashes) = new_recovery_codes();
        let mut tx = self.db.begin().await?;
        store::enable_two_factor(&mut tx, uid, step, now).await?;
        store::replace_recovery_codes(&mut tx, uid, &hashes, now).await?;
        store::set_sessions_enrol_only(&mut tx, uid, false).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            uid,
            "two_factor_enable",
            json!({"method": "totp", "outcome": "success", "recovery_codes": plain.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(plain)
    }

    /// Checks the signed-in user's own current code (for disabling or new recovery codes),
    /// taking its time step.
    async fn check_own_code(&self, uid: i64, typed: &str, field: &str) -> Result<bool> {
        let code = totp::parse_code(typed).map_err(|m| Error::field(field, "invalid_code", m))?;
        let mut c = self.conn().await?;
        let row = store::two_factor(&mut c, uid)
            .await?
            .filter(|t| t.enabled_at.is_some())
            .ok_or_else(|| Error::conflict("not_enabled", None, "尚未启用双因素认证"))?;
        drop(c);
        let secret = self.open_secret(uid, &row)?;
        let Some(step) = totp::verify(&secret, &code, self.db.now(), row.last_step) else {
            return Ok(false);
        };
        let mut tx = self.db.begin().await?;
        let fresh = store::use_step(&mut tx, uid, step).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    async fn audit_own_failure(&self, actor: &Actor, uid: i64, stage: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "user",
            uid,
            "two_factor_failed",
            json!({"stage": stage, "outcome": "failure"}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns the signed-in user's second factor off, with a current code or the password. If
    /// the policy requires one, their sessions are limited to enrolling again.
    pub async fn disable_two_factor(
        &self,
        actor: &Actor,
        code: Option<&str>,
        pw: Option<&str>,
    ) -> Result<()> {
        actor.authorize::<OwnAccount>()?;
        let uid = own_session_user(actor)?;
        let code = code.map(str::trim).filter(|s| !s.is_empty());
        let pw = pw.filter(|s| !s.is_empty());
        let ok = match (code, pw) {
            (Some(c), _) => self.check_own_code(uid, c, "code").await?,
            (None, Some(p)) => {
                let rec = store::user_by_id(&mut *self.conn().await?, self.db.sealer(), uid)
                    .await?
                    .ok_or_else(|| Error::not_found("user", "用户不存在"))?;
                password::verify(p, &rec.password_hash).await
            }
            (None, None) => {
                return Err(Error::field(
                    "code",
                    "required",
                    "请输入当前的动态验证码，或输入登录密码",
                ))
            }
        };
        if !ok {
            self.audit_own_failure(actor, uid, "disable").await?;
            return Err(if code.is_some() {
                Error::field("code", "wrong_code", "动态验证码不正确或已使用过")
            } else {
                Error::field("password", "wrong_password", "登录密码不正确")
            });
        }
        let now = self.db.now();
        let required = self.policy_requires(&actor.roles);
        let mut tx = self.db.begin().await?;
        store::delete_two_factor(&mut tx, uid).await?;
        if required {
            store::set_sessions_enrol_only(&mut tx, uid, true).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            uid,
            "two_factor_disable",
            json!({"by": if code.is_some() { "totp" } else { "password" }, "outcome": "success"}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// New recovery codes for the signed-in user (the old ones stop working), with a current code.
    pub async fn regenerate_recovery_codes(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Vec<String>> {
        actor.authorize::<OwnAccount>()?;
        let uid = own_session_user(actor)?;
        if !self.check_own_code(uid, code, "code").await? {
            self.audit_own_failure(actor, uid, "recovery_codes").await?;
            return Err(Error::field(
                "code",
                "wrong_code",
                "动态验证码不正确或已使用过",
            ));
        }
        let now = self.db.now();
        let (plain, hashes) = new_recovery_codes();
        let mut tx = self.db.begin().await?;
        store::replace_recovery_codes(&mut tx, uid, &hashes, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            uid,
            "recovery_codes_regenerate",
            json!({"count": plain.len(), "outcome": "success"}),
        )
        .await?;
        tx.commit().await?;
        Ok(plain)
    }

    /// Whether a user in the administrator's scope has a second factor (the user page).
    pub async fn user_two_factor_enabled(&self, actor: &Actor, id: i64) -> Result<bool> {
        actor.authorize::<AssignRoles>()?;
        self.user_in_scope(&mut *self.conn().await?, actor, id)
            .await?;
        self.two_factor_enabled(id).await
    }

    /// An administrator removes a user's second factor (a lost phone): the user's sessions end,
    /// and they log in with the password alone, then enrol again where the policy requires it.
    pub async fn reset_two_factor(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.authorize::<ManageSecurity>()?;
        let rec = self
            .user_in_scope(&mut *self.conn().await?, actor, id)
            .await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let had = store::delete_two_factor(&mut tx, id).await?;
        store::delete_user_sessions(&mut tx, id).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            id,
            "two_factor_reset",
            json!({"username": rec.user.username, "had_two_factor": had, "outcome": "success"}),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(user_id = id, by = %actor.username, "two-factor login reset by an administrator");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::OrgService;

    #[test]
    fn a_restricted_session_reaches_only_enrolment() {
        for p in [
            "/account/two-factor",
            "/logout",
            "/assets/app.css",
            "/login",
            "/api/v1/auth/logout",
        ] {
            assert!(OrgService::allowed_while_enrolling(p), "{p}");
        }
        for p in [
            "/",
            "/admin/users",
            "/account/tokens",
            "/account/two-factorx",
            "/api/v1/org/users",
            "/loginx",
        ] {
            assert!(!OrgService::allowed_while_enrolling(p), "{p}");
        }
    }
}
