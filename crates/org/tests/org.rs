//! Organisation and identity on SQLite and PostgreSQL: the data scope a user gets from their
//! department or region (checked against the one rule in `kernel::Scope`), bad input refused
//! whole, sessions and API tokens.

use kernel::{Error, Role, Scope};
use org::{NewApiToken, NewUser};
use testkit::city;

fn migrations() -> Vec<kernel::migrate::Migration> {
    org::migrations()
}

testkit::on_both_backends!(migrations;
    scope_follows_departments_and_regions,
    bad_input_is_refused_whole,
    sessions_and_tokens_carry_the_user,
    idle_sessions_end_and_owners_end_their_own,
    a_place_is_named_from_the_county_down,
    residents_register_themselves_once,
);

fn registration(username: &str, id_card: &str) -> org::Registration {
    org::Registration {
        username: username.into(),
        display_name: "李小梅".into(),
        id_card: id_card.into(),
        phone: "13912345678".into(),
        password: "Qingshan#2026x".into(),
        password_again: Some("Qingshan#2026x".into()),
    }
}

/// 自助注册: a 市民 account with nothing more; one per 身份证号; bad input named and nothing
/// written; too many from one address refused; off when the configuration says so.
async fn residents_register_themselves_once(db: kernel::Db) {
    let c = city::standard().build(db.clone()).await;
    let users = |org: &org::OrgService| {
        let org = org.clone();
        async move {
            org.users(
                &kernel::Actor::cli(),
                &Default::default(),
                &kernel::page::PageQuery {
                    page: None,
                    per_page: Some(100),
                },
            )
            .await
            .unwrap()
            .total
        }
    };
    let before = users(&c.org).await;
    // Lower case x in the 身份证号 is taken as upper case.
    let id = kernel::codes::id_card_with_check("36012319900307123");
    let u = c
        .org
        .register_resident(registration("limei", &id.to_lowercase()), "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(u.roles, vec![Role::Citizen]);
    assert_eq!(u.dept_id, None);
    assert_eq!(
        u.id_card.as_deref(),
        Some(id.as_str()),
        "their own, in full"
    );
    let s = c
        .org
        .login("limei", "Qingshan#2026x", "10.0.0.1", "test")
        .await
        .unwrap();
    let me = c
        .org
        .resolve_session(&s.token)
        .await
        .unwrap()
        .unwrap()
        .actor;
    assert_eq!(me.roles, vec![Role::Citizen]);
    assert_eq!(
        org::directory::active_user_by_id_card(
            &mut db.pool().acquire().await.unwrap(),
            db.sealer(),
            &id
        )
        .await
        .unwrap(),
        Some(u.id),
        "found by 身份证号 (licenses reach holders this way)"
    );
    let audit = kernel::audit::history(&db, "user", &u.id.to_string())
        .await
        .unwrap();
    assert_eq!(audit[0].action, "self_register");
    assert_eq!(audit[0].actor, format!("user:{}", u.id));

    // The same person again, under another name: refused on the 身份证号.
    let again = c
        .org
        .register_resident(registration("limei2", &id), "10.0.0.2")
        .await
        .unwrap_err();
    assert_eq!(again.field_name(), Some("id_card"), "{again:?}");
    // A taken user name, a bad check digit, a bad phone, a weak or mistyped password.
    let other = kernel::codes::id_card_with_check("36012319910307123");
    let taken = c
        .org
        .register_resident(registration("limei", &other), "10.0.0.2")
        .await
        .unwrap_err();
    assert!(
        taken.field_name() == Some("username") || matches!(taken, Error::Conflict { .. }),
        "{taken:?}"
    );
    let wrong_digit = {
        let mut v = other.clone();
        let last = if v.ends_with('1') { "2" } else { "1" };
        v.replace_range(17.., last);
        v
    };
    let mut bad = registration("wangwu", &wrong_digit);
    bad.phone = "1391234567".into();
    bad.password_again = Some("Qingshan#2026y".into());
    match c.org.register_resident(bad, "10.0.0.2").await {
        Err(Error::Validation(f)) => {
            let fields: Vec<&str> = f.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"id_card"), "{fields:?}");
            assert!(fields.contains(&"phone"), "{fields:?}");
            assert!(fields.contains(&"password_again"), "{fields:?}");
        }
        r => panic!("{r:?}"),
    }
    let mut weak = registration("wangwu", &other);
    weak.password = "12345678".into();
    weak.password_again = None;
    assert_eq!(
        c.org
            .register_resident(weak, "10.0.0.2")
            .await
            .unwrap_err()
            .field_name(),
        Some("password")
    );
    assert_eq!(users(&c.org).await, before + 1, "nothing half-written");

    // At most `registrations_per_hour` from one address; another address is not held back.
    let limited = org::OrgService::new(
        db.clone(),
        kernel::config::AuthConfig {
            registrations_per_hour: 2,
            ..Default::default()
        },
    );
    for (i, name) in ["zhao1", "zhao2"].iter().enumerate() {
        let id = kernel::codes::id_card_with_check(&format!("3601231992030712{i}"));
        limited
            .register_resident(registration(name, &id), "10.9.9.9")
            .await
            .unwrap();
    }
    let id = kernel::codes::id_card_with_check("36012319920307129");
    assert!(matches!(
        limited
            .register_resident(registration("zhao3", &id), "10.9.9.9")
            .await
            .unwrap_err(),
        Error::RateLimited { .. }
    ));
    limited
        .register_resident(registration("zhao3", &id), "10.9.9.8")
        .await
        .unwrap();
    // Off: refused whatever the input.
    let closed = org::OrgService::new(
        db.clone(),
        kernel::config::AuthConfig {
            self_registration: false,
            ..Default::default()
        },
    );
    let id = kernel::codes::id_card_with_check("36012319930307129");
    assert!(matches!(
        closed
            .register_resident(registration("qian", &id), "10.0.0.3")
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
}

/// Places read "A1区 · 青河街道 · 东河社区", never as a raw code.
async fn a_place_is_named_from_the_county_down(db: kernel::Db) {
    let c = city::standard()
        .region("690102001000", "青河街道")
        .region("690102001001", "东河社区")
        .build(db.clone())
        .await;
    let org = org::OrgService::new(db, Default::default());
    let name = |code: &'static str| {
        let org = org.clone();
        async move { org.place_name(code).await.unwrap() }
    };
    assert_eq!(
        name("690102001001").await.as_deref(),
        Some("A1区 · 青河街道 · 东河社区")
    );
    assert_eq!(
        name("690102001000").await.as_deref(),
        Some("A1区 · 青河街道")
    );
    assert_eq!(name("690102").await.as_deref(), Some("A1区"));
    assert_eq!(name("690100").await.as_deref(), Some("A市"));
    assert_eq!(name("690199").await, None);
    drop(c);
}

/// The five cases of the scope rule with real departments: own department, sub-department,
/// other department, region-wide role, record without a region.
async fn scope_follows_departments_and_regions(db: kernel::Db) {
    let c = city::standard()
        .user("district_supervisor", "A2区人民政府", Role::Supervisor)
        .build(db)
        .await;
    let (x, x1, y) = (c.dept("住建局"), c.dept("住建局物业科"), c.dept("城管局"));

    let hx = &c.actor("han_x").scope;
    assert!(hx.can_see(&[x], Some("690102")), "own department");
    assert!(hx.can_see(&[x1], Some("690102")), "its sub-department");
    assert!(!hx.can_see(&[y], Some("690102")), "another department");
    assert!(
        hx.can_see(&[x], None),
        "own department's record without a place"
    );

    let hx1 = &c.actor("han_x1").scope;
    assert!(hx1.can_see(&[x1], None));
    assert!(
        !hx1.can_see(&[x], Some("690102")),
        "not the parent department's"
    );

    let dispatcher = &c.actor("dispatcher").scope;
    assert!(matches!(dispatcher, Scope::Region { .. }), "{dispatcher:?}");
    assert!(
        dispatcher.can_see(&[y], Some("690103")),
        "anywhere in the city"
    );
    assert!(
        dispatcher.can_see(&[], None),
        "the city's staff see unplaced records"
    );

    let district = &c.actor("district_supervisor").scope;
    assert_eq!(
        district,
        &Scope::Region {
            prefix: "690103".into()
        }
    );
    assert!(district.can_see(&[], Some("690103001001")));
    assert!(!district.can_see(&[x], Some("690102")), "another district");
    assert!(
        !district.can_see(&[], None),
        "unplaced is not known to be the district's"
    );

    assert_eq!(c.actor("citizen").scope, Scope::Own);
    assert!(!c.actor("citizen").scope.can_see(&[x], Some("690102")));
}

async fn bad_input_is_refused_whole(db: kernel::Db) {
    let c = city::standard().build(db).await;
    let before = c.org.count_users().await.unwrap();
    let err = c
        .org
        .create_user(
            c.actor("admin"),
            NewUser {
                username: "x".into(),
                display_name: String::new(),
                password: "1".into(),
                dept_id: Some(c.dept("住建局")),
                roles: vec![Role::Handler],
                phone: Some("12345".into()),
                id_card: Some("110101199003070000".into()),
            },
        )
        .await
        .unwrap_err();
    let Error::Validation(fields) = &err else {
        panic!("expected field errors, got {err:?}");
    };
    let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    for f in ["username", "password", "phone"] {
        assert!(named.contains(&f), "{f} not named in {named:?}");
    }
    assert_eq!(
        c.org.count_users().await.unwrap(),
        before,
        "nothing written"
    );

    // A handler may not create users at all.
    let denied = c
        .org
        .create_user(
            c.actor("han_x"),
            NewUser {
                username: "newbie".into(),
                display_name: "新人".into(),
                password: "Abc@12345678".into(),
                dept_id: Some(c.dept("住建局")),
                roles: vec![Role::Handler],
                phone: None,
                id_card: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::Forbidden { .. }), "{denied:?}");
    assert_eq!(c.org.count_users().await.unwrap(), before);
}

async fn sessions_and_tokens_carry_the_user(db: kernel::Db) {
    let c = city::standard().build(db).await;
    let s = c
        .org
        .login("han_x", city::PASSWORD, "127.0.0.1", "test")
        .await
        .unwrap();
    let resolved = c.org.resolve_session(&s.token).await.unwrap().unwrap();
    assert_eq!(resolved.actor.user_id, Some(c.user_id("han_x")));
    assert_eq!(resolved.actor.scope, c.actor("han_x").scope);
    assert_eq!(resolved.csrf, s.csrf);
    c.org.logout(&s.token).await.unwrap();
    assert!(c.org.resolve_session(&s.token).await.unwrap().is_none());

    assert!(c
        .org
        .login("han_x", "wrong-password", "127.0.0.1", "test")
        .await
        .is_err());

    let (plain, t) = c
        .org
        .create_token(
            c.actor("han_x"),
            NewApiToken {
                name: "对接".into(),
                scopes: vec!["org:read".into()],
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    let a = c.org.resolve_token(&plain).await.unwrap().unwrap();
    assert_eq!(a.user_id, Some(c.user_id("han_x")));
    assert!(a.require_scope("org:read").is_ok());
    assert!(a.require_scope("org:write").is_err());
    c.org.revoke_token(c.actor("han_x"), t.id).await.unwrap();
    assert!(c.org.resolve_token(&plain).await.unwrap().is_none());
}

/// 等保: a session unused for `idle_minutes` ends; the owner sees their sessions with the
/// previous login's time and address, and ends another one; a token can do neither.
async fn idle_sessions_end_and_owners_end_their_own(mut db: kernel::Db) {
    db.clock = kernel::clock::Clock::manual(kernel::clock::Clock::system().now());
    let c = city::standard().build(db.clone()).await;
    let org = &c.org;
    let minute = 60_000;
    assert!(org
        .previous_login(c.actor("han_x"))
        .await
        .unwrap()
        .is_none());
    let first = org
        .login(
            "han_x",
            city::PASSWORD,
            "10.0.0.7",
            "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36",
        )
        .await
        .unwrap();
    let at_first = db.now();
    db.clock.advance(5 * minute);
    let second = org.login("han_x", city::PASSWORD, "10.0.0.9", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1").await.unwrap();
    // 上次登录 is the one before this: the first, from its address.
    assert_eq!(
        org.previous_login(&second.actor).await.unwrap(),
        Some((at_first, "10.0.0.7".to_owned()))
    );

    // Used within the idle limit (default 30 minutes) the session lives on, each use counting.
    db.clock.advance(29 * minute);
    assert!(org.resolve_session(&second.token).await.unwrap().is_some());
    db.clock.advance(29 * minute);
    assert!(org.resolve_session(&second.token).await.unwrap().is_some());
    // The first, untouched for 63 minutes, is over — while its absolute end is hours away.
    assert!(org.resolve_session(&first.token).await.unwrap().is_none());
    assert!(first.expires_at > db.now());

    let third = org
        .login("han_x", city::PASSWORD, "10.0.0.11", "curl/8.0")
        .await
        .unwrap();
    let mine = org.my_sessions(&second.actor, &second.csrf).await.unwrap();
    assert_eq!(mine.len(), 2, "the idle one is not listed: {mine:?}");
    assert_eq!(mine.iter().filter(|s| s.current).count(), 1);
    let current = mine.iter().find(|s| s.current).unwrap();
    assert_eq!(
        (current.ip.as_str(), current.browser.as_str()),
        ("10.0.0.9", "Safari · iPhone")
    );
    let other = mine.iter().find(|s| !s.current).unwrap();
    assert_eq!(other.ip, "10.0.0.11");
    assert!(!other.id.contains(&third.token), "the cookie never leaves");

    // Nobody ends another user's session, not even by knowing its identifier.
    let theirs = org
        .login("han_y", city::PASSWORD, "10.0.0.12", "")
        .await
        .unwrap();
    let err = org
        .end_my_session(&theirs.actor, &other.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(org.resolve_session(&third.token).await.unwrap().is_some());
    org.end_my_session(&second.actor, &other.id).await.unwrap();
    assert!(org.resolve_session(&third.token).await.unwrap().is_none());
    assert!(org.resolve_session(&second.token).await.unwrap().is_some());

    // An API token is not a browser: it lists no sessions.
    let (plain, _) = org
        .create_token(
            &second.actor,
            NewApiToken {
                name: "对接".into(),
                scopes: vec!["org:read".into()],
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    let by_token = org.resolve_token(&plain).await.unwrap().unwrap();
    assert!(matches!(
        org.my_sessions(&by_token, "").await,
        Err(Error::Forbidden(_))
    ));

    // The sweep removes the idle sessions as well as the expired ones.
    db.clock.advance(31 * minute);
    assert!(org.sweep().await.unwrap() >= 2);
    assert!(org.resolve_session(&second.token).await.unwrap().is_none());
}
