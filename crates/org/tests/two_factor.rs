//! Two-factor login on SQLite and PostgreSQL: enrolment needs a valid code, a user with a
//! second factor cannot log in without it, wrong codes are refused and counted towards the
//! lockout, a code is never accepted twice, a recovery code works once, the policy forces
//! administrators (or all staff) to enrol, and an administrator's reset.

use kernel::config::{AuthConfig, TwoFactorPolicy};
use kernel::{Error, Role};
use org::service::SecondFactor;
use org::totp;
use testkit::city;

const MASTER: &str = "00112233445566778899aabbccddeeff";
const IP: &str = "10.0.0.9";
const UA: &str = "Mozilla/5.0 Chrome/120.0";

fn migrations() -> Vec<kernel::migrate::Migration> {
    org::migrations()
}

testkit::on_both_backends!(migrations;
    enrolment_needs_a_valid_code_and_login_then_needs_the_code,
    wrong_codes_are_refused_counted_and_lock,
    recovery_codes_work_once_and_can_be_regenerated,
    the_policy_forces_whom_it_names,
    an_administrator_resets_a_lost_phone,
);

fn auth(policy: TwoFactorPolicy) -> AuthConfig {
    let mut a = city::fast_auth();
    a.two_factor = policy;
    a
}

async fn world(mut db: kernel::Db, policy: TwoFactorPolicy) -> (city::City, org::OrgService) {
    db.clock = kernel::clock::Clock::manual(1_767_225_600_000); // 2026-01-01T00:00:00Z
    let c = city::standard().auth(auth(policy)).build(db.clone()).await;
    let org = org::OrgService::new(db, auth(policy)).with_master_key(MASTER);
    (c, org)
}

/// The code an authenticator app shows `steps` time steps from now.
fn code(db: &kernel::Db, secret: &[u8], steps: i64) -> String {
    totp::code_at_step(secret, totp::step_of(db.now()) + steps)
}

fn field_of(e: &Error) -> Option<&str> {
    e.field_errors().first().map(|f| f.field.as_str())
}

/// Logs a user in by password (an enrol-only session when the policy requires a factor) and
/// enrols them; returns the secret and the recovery codes.
async fn enrol(c: &city::City, org: &org::OrgService, who: &str) -> (Vec<u8>, Vec<String>) {
    let s = org.login(who, city::PASSWORD, IP, UA).await.unwrap();
    let e = org.begin_enrolment(&s.actor).await.unwrap();
    assert!(
        e.uri.starts_with("otpauth://totp/%E4%B8%80%E7%BD%91:"),
        "{}",
        e.uri
    );
    assert!(e.qr_svg.contains("<svg"), "a QR code");
    let secret = totp::base32_decode(&e.secret).unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    // Shown again (a reload) it is the same secret: the app already holds it.
    assert_eq!(
        org.begin_enrolment(&s.actor).await.unwrap().secret,
        e.secret
    );
    let codes = org
        .confirm_enrolment(&s.actor, &code(&c.db, &secret, 0))
        .await
        .unwrap();
    (secret, codes)
}

async fn enrolment_needs_a_valid_code_and_login_then_needs_the_code(db: kernel::Db) {
    let (c, org) = world(db, TwoFactorPolicy::Admins).await;
    let s = org.login("han_x", city::PASSWORD, IP, UA).await.unwrap();
    assert!(!s.enrol_only, "handlers are not forced under `admins`");
    let e = org.begin_enrolment(&s.actor).await.unwrap();
    let secret = totp::base32_decode(&e.secret).unwrap();

    // Bad shapes name the field; a wrong code does not enrol.
    for bad in ["", "abcdef", "12345", "1234567"] {
        let err = org.confirm_enrolment(&s.actor, bad).await.unwrap_err();
        assert_eq!(field_of(&err), Some("code"), "{bad:?}: {err:?}");
        assert!(!err.detail().is_empty());
    }
    let right = code(&c.db, &secret, 0);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let err = org.confirm_enrolment(&s.actor, &wrong).await.unwrap_err();
    assert_eq!(field_of(&err), Some("code"));
    // Not enrolled yet: the password alone still logs in.
    org.login("han_x", city::PASSWORD, IP, UA).await.unwrap();

    let codes = org.confirm_enrolment(&s.actor, &right).await.unwrap();
    assert_eq!(codes.len(), 10);
    assert!(org.two_factor_status(&s.actor).await.unwrap().enabled);

    // Now the password alone is not enough, on the API and on the page.
    let err = org
        .login("han_x", city::PASSWORD, IP, UA)
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("totp"), "{err:?}");
    match org
        .login_start("han_x", city::PASSWORD, IP, UA)
        .await
        .unwrap()
    {
        org::service::LoginStep::SecondFactor { challenge } => {
            // The code used for enrolment is spent; the next step's code is not.
            let err = org
                .login_finish(&challenge, SecondFactor::Totp(&right), IP, UA)
                .await
                .unwrap_err();
            assert_eq!(field_of(&err), Some("totp"), "reuse refused: {err:?}");
            let next = code(&c.db, &secret, 1);
            let s2 = org
                .login_finish(&challenge, SecondFactor::Totp(&next), IP, UA)
                .await
                .unwrap();
            assert_eq!(s2.actor.username, "han_x");
            // The challenge is over once used.
            let err = org
                .login_finish(&challenge, SecondFactor::Totp(&next), IP, UA)
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
            // …and the same code is refused on the API too.
            let err = org
                .login_with("han_x", city::PASSWORD, SecondFactor::Totp(&next), IP, UA)
                .await
                .unwrap_err();
            assert_eq!(field_of(&err), Some("totp"));
        }
        _ => panic!("a user with a second factor must be asked for it"),
    }
    // A wrong password with the right code is still a wrong password.
    c.db.clock.advance(30_000);
    let err = org
        .login_with(
            "han_x",
            "wrong-Password1",
            SecondFactor::Totp(&code(&c.db, &secret, 1)),
            IP,
            UA,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    let s3 = org
        .login_with(
            "han_x",
            city::PASSWORD,
            SecondFactor::Totp(&code(&c.db, &secret, 1)),
            IP,
            UA,
        )
        .await
        .unwrap();
    assert!(!s3.enrol_only);
    let audit = kernel::audit::history(&c.db, "user", &c.user_id("han_x").to_string())
        .await
        .unwrap();
    assert!(
        audit.iter().any(|r| r.action == "two_factor_enable"),
        "{:?}",
        audit.iter().map(|r| &r.action).collect::<Vec<_>>()
    );
    // The secret is sealed at rest: not in base32 nor hex in the table.
    let sealed: String =
        sqlx::query_scalar("SELECT secret_sealed FROM org_two_factor WHERE user_id = $1")
            .bind(c.user_id("han_x"))
            .fetch_one(c.db.pool())
            .await
            .unwrap();
    assert!(!sealed.contains(&hex::encode(&secret)) && !sealed.contains(&e.secret));
}

async fn wrong_codes_are_refused_counted_and_lock(db: kernel::Db) {
    let (c, org) = world(db, TwoFactorPolicy::Admins).await;
    let (secret, _) = enrol(&c, &org, "han_y").await;
    c.db.clock.advance(60_000);
    let right = code(&c.db, &secret, 0);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 7) % 1_000_000);
    // Malformed input is a clear error, not a counted failure.
    for bad in ["", "12ab56", "123"] {
        let err = org
            .login_with("han_y", city::PASSWORD, SecondFactor::Totp(bad), IP, UA)
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), Some("totp"), "{bad:?}");
    }
    let max = city::fast_auth().max_login_failures;
    for i in 0..max {
        let err = org
            .login_with("han_y", city::PASSWORD, SecondFactor::Totp(&wrong), IP, UA)
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), Some("totp"), "failure {i}: {err:?}");
    }
    // Locked now, even with the right code.
    let err = org
        .login_with("han_y", city::PASSWORD, SecondFactor::Totp(&right), IP, UA)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let audit = kernel::audit::history(&c.db, "user", &c.user_id("han_y").to_string())
        .await
        .unwrap();
    let failed = audit
        .iter()
        .filter(|r| r.action == "two_factor_failed")
        .count();
    assert_eq!(failed as i64, max);
    let locks = kernel::audit::history(&c.db, "session", "han_y")
        .await
        .unwrap();
    assert!(locks.iter().any(|r| r.action == "lockout"));
    // From another address the owner still gets in.
    org.login_with(
        "han_y",
        city::PASSWORD,
        SecondFactor::Totp(&right),
        "10.9.9.9",
        UA,
    )
    .await
    .unwrap();
}

async fn recovery_codes_work_once_and_can_be_regenerated(db: kernel::Db) {
    let (c, org) = world(db, TwoFactorPolicy::Admins).await;
    let (secret, codes) = enrol(&c, &org, "admin").await;
    // Stored only as hashes.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM org_recovery_codes WHERE code_hash = $1")
        .bind(codes[0].replace('-', ""))
        .fetch_one(c.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let first = codes[0].to_uppercase();
    let s = org
        .login_with(
            "admin",
            city::PASSWORD,
            SecondFactor::Recovery(&first),
            IP,
            UA,
        )
        .await
        .unwrap();
    assert!(!s.enrol_only);
    let err = org
        .login_with(
            "admin",
            city::PASSWORD,
            SecondFactor::Recovery(&codes[0]),
            IP,
            UA,
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("recovery_code"), "spent: {err:?}");
    let err = org
        .login_with(
            "admin",
            city::PASSWORD,
            SecondFactor::Recovery("nonsense!"),
            IP,
            UA,
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("recovery_code"));
    assert_eq!(
        org.two_factor_status(&s.actor)
            .await
            .unwrap()
            .recovery_codes_left,
        9
    );
    let audit = kernel::audit::history(&c.db, "user", &c.user_id("admin").to_string())
        .await
        .unwrap();
    assert!(audit.iter().any(|r| r.action == "recovery_code_used"));

    // New codes need a current code; the old ones stop working.
    c.db.clock.advance(60_000);
    assert!(org
        .regenerate_recovery_codes(&s.actor, "000000x")
        .await
        .is_err());
    let fresh = org
        .regenerate_recovery_codes(&s.actor, &code(&c.db, &secret, 0))
        .await
        .unwrap();
    assert_eq!(fresh.len(), 10);
    let err = org
        .login_with(
            "admin",
            city::PASSWORD,
            SecondFactor::Recovery(&codes[1]),
            IP,
            UA,
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("recovery_code"));
    org.login_with(
        "admin",
        city::PASSWORD,
        SecondFactor::Recovery(&fresh[3]),
        IP,
        UA,
    )
    .await
    .unwrap();
    let audit = kernel::audit::history(&c.db, "user", &c.user_id("admin").to_string())
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|r| r.action == "recovery_codes_regenerate"));

    // Disabling needs a current code or the password; under `admins` the admin's sessions are
    // then limited to enrolling again.
    let err = org
        .disable_two_factor(&s.actor, None, Some("wrong-Password1"))
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("password"));
    org.disable_two_factor(&s.actor, None, Some(city::PASSWORD))
        .await
        .unwrap();
    let again = org.login("admin", city::PASSWORD, IP, UA).await.unwrap();
    assert!(again.enrol_only);
    let info = org.resolve_session(&again.token).await.unwrap().unwrap();
    assert!(info.enrol_only);
}

async fn the_policy_forces_whom_it_names(db: kernel::Db) {
    let (c, org) = world(db.clone(), TwoFactorPolicy::Admins).await;
    assert!(
        org.login("admin", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only
    );
    assert!(
        !org.login("han_x", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only
    );
    assert!(
        !org.login("citizen", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only
    );
    // Enrolling lifts the limit from the session that enrolled.
    let s = org.login("admin", city::PASSWORD, IP, UA).await.unwrap();
    assert!(
        org.resolve_session(&s.token)
            .await
            .unwrap()
            .unwrap()
            .enrol_only
    );
    let e = org.begin_enrolment(&s.actor).await.unwrap();
    let secret = totp::base32_decode(&e.secret).unwrap();
    org.confirm_enrolment(&s.actor, &code(&c.db, &secret, 0))
        .await
        .unwrap();
    assert!(
        !org.resolve_session(&s.token)
            .await
            .unwrap()
            .unwrap()
            .enrol_only
    );

    let all =
        org::OrgService::new(c.db.clone(), auth(TwoFactorPolicy::All)).with_master_key(MASTER);
    assert!(
        all.login("han_x", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only
    );
    assert!(
        !all.login("citizen", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only,
        "residents never"
    );
    let off =
        org::OrgService::new(c.db.clone(), auth(TwoFactorPolicy::Off)).with_master_key(MASTER);
    assert!(
        !off.login("operator", city::PASSWORD, IP, UA)
            .await
            .unwrap()
            .enrol_only
    );
    assert!(!off.policy_requires(&[Role::SysAdmin]));
    // Without a master key nobody can enrol, and says so.
    let keyless = org::OrgService::new(c.db.clone(), auth(TwoFactorPolicy::Admins));
    let h = keyless
        .login("han_z", city::PASSWORD, IP, UA)
        .await
        .unwrap();
    let err = keyless.begin_enrolment(&h.actor).await.unwrap_err();
    assert!(err.detail().contains("主密钥"), "{err:?}");
}

async fn an_administrator_resets_a_lost_phone(db: kernel::Db) {
    let (c, org) = world(db, TwoFactorPolicy::Admins).await;
    let (_secret, _) = enrol(&c, &org, "approver").await;
    let err = org
        .login("approver", city::PASSWORD, IP, UA)
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), Some("totp"));
    let id = c.user_id("approver");
    // Only the security administrator (三员分立: not the system administrator either).
    assert!(org.reset_two_factor(c.actor("han_x"), id).await.is_err());
    assert!(org.reset_two_factor(c.actor("admin"), id).await.is_err());
    assert!(org
        .user_two_factor_enabled(c.actor("admin"), id)
        .await
        .unwrap());
    org.reset_two_factor(c.actor("secadmin"), id).await.unwrap();
    assert!(!org
        .user_two_factor_enabled(c.actor("admin"), id)
        .await
        .unwrap());
    // The password alone logs in again.
    org.login("approver", city::PASSWORD, IP, UA).await.unwrap();
    let audit = kernel::audit::history(&c.db, "user", &id.to_string())
        .await
        .unwrap();
    let reset = audit
        .iter()
        .find(|r| r.action == "two_factor_reset")
        .expect("audited");
    assert_eq!(reset.actor, c.actor("secadmin").audit_actor().0);
}
