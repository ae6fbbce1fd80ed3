//! 电子证照 on both backends: types and versions, issuance and its credential, verification
//! with tampering, status and dates, keys, the holder's view, bad input.

mod common;

use common::*;
use kernel::{Actor, Db, Error};
use licenses::issue::domain::{Identifier, LicenseStatus, StatusAction};
use licenses::issue::service::Amendment;
use licenses::status::domain::Bitstring;
use licenses::verify::domain::Verification;
use serde_json::{json, Value};

testkit::on_both_backends!(migrations;
    published_type_versions_never_change,
    an_issued_credential_is_a_signed_vc_with_a_checked_identifier,
    tampering_with_any_part_is_detected,
    suspended_revoked_and_expired_licenses_fail_with_their_reasons,
    keys_rotate_and_old_licenses_still_verify,
    bad_input_names_the_field_and_writes_nothing,
    the_holder_sees_their_licenses_and_who_used_them,
    uses_are_written_by_the_log_writer_without_a_reader,
    amendment_supersedes_and_source_is_idempotent,
    only_the_issuing_department_changes_status,
    figures_count_issuance_stock_and_uses,
    a_delivered_case_issues_once_and_counts_for_the_issue_rate,
    holders_are_reminded_once_before_expiry,
);

fn check<'a>(v: &'a Verification, name: &str) -> &'a licenses::verify::domain::Check {
    v.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:?}"))
}

async fn published_type_versions_never_change(db: Db) {
    let w = world(db).await;
    let admin = w.actor("admin");
    let t = w.svc.license_type(w.health_type).await.unwrap();
    let mut content = t.versions[0].content.clone();
    content.validity_years = Some(3);
    let e = w
        .svc
        .update_draft(admin, w.health_type, 1, content.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::IllegalTransition { .. }), "{e:?}");
    assert_eq!(
        w.svc
            .type_version(w.health_type, 1)
            .await
            .unwrap()
            .content
            .validity_years,
        Some(1)
    );
    // A new version is a draft that may change, then be published.
    let v = w.svc.new_version(admin, w.health_type).await.unwrap();
    assert_eq!(v.versions.len(), 2);
    w.svc
        .update_draft(admin, w.health_type, 2, content)
        .await
        .unwrap();
    let l1 = w.issue_health(&resident_id()).await;
    assert_eq!(l1.type_version, 1, "a draft is not used");
    w.svc.publish_type(admin, w.health_type, 2).await.unwrap();
    let l2 = w.issue_health(&resident_id()).await;
    assert_eq!(l2.type_version, 2);
    assert_eq!(
        w.svc.license(admin, l1.id).await.unwrap().type_version,
        1,
        "a license keeps its version"
    );
    // A type code with a wrong check character is refused, naming the field.
    let mut bad = health_type(w.health_dept, &format!("{}001", "12690100MB0000031X"));
    bad.name = "错误".into();
    let Err(Error::Validation(errs)) = w.svc.create_type(admin, bad).await else {
        panic!("bad code accepted")
    };
    assert_eq!(errs[0].field, "code");
    assert!(
        errs[0].detail.contains("统一社会信用代码"),
        "{}",
        errs[0].detail
    );
    // Every change is audited.
    let actions: Vec<String> = audit_of(w.db(), "license_type", w.health_type)
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "publish",
            "new_version",
            "update_draft",
            "publish"
        ]
    );
}

async fn an_issued_credential_is_a_signed_vc_with_a_checked_identifier(db: Db) {
    let w = world(db).await;
    let l = w.issue_health(&resident_id()).await;
    let id = Identifier::parse(&l.identifier).expect("identifier checks");
    assert_eq!(id.type_code, w.health_code);
    assert_eq!(id.issuer_code, uscc("11690100MB0000011"));
    assert_eq!((id.serial, id.version), (1, 1));
    let vc = w.credential(&l).await;
    assert_eq!(vc["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert_eq!(vc["id"], format!("urn:oid:{}", l.identifier));
    assert_eq!(
        vc["type"],
        json!(["VerifiableCredential", "ElectronicLicense"])
    );
    assert_eq!(
        vc["issuer"]["id"],
        format!("{BASE}/api/v1/licenses/issuers/{}", w.health_dept)
    );
    assert!(vc["validUntil"].is_string() && vc["validFrom"].is_string());
    assert_eq!(
        vc["credentialSubject"]["license"]["fields"]["occupation"],
        "餐饮服务"
    );
    assert_eq!(vc["credentialStatus"][0]["statusPurpose"], "revocation");
    assert_eq!(vc["credentialStatus"][1]["statusPurpose"], "suspension");
    let proof = &vc["proof"];
    assert_eq!(proof["type"], "DataIntegrityProof");
    assert_eq!(proof["cryptosuite"], "sm2-jcs-2026");
    assert_eq!(
        proof["verificationMethod"],
        format!("{BASE}/api/v1/licenses/keys/{}", l.kid)
    );
    assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));
    let v = w.svc.verify(None, &vc).await.unwrap();
    assert!(v.valid, "{v:?}");
    for name in ["signature", "issuer_key", "status", "validity", "tampering"] {
        assert!(check(&v, name).ok, "{name}: {v:?}");
    }
    assert_eq!(v.summary.as_ref().unwrap().type_name, "健康证明");
    // The served status list is a credential signed the same way, with ≥ 131,072 entries.
    let list = w
        .svc
        .status_list_credential(l.list_id, "revocation")
        .await
        .unwrap();
    assert_eq!(list["type"][1], "BitstringStatusListCredential");
    let bits =
        Bitstring::decode(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
    assert!(bits.len() >= 131_072);
    assert_eq!(bits.get(l.list_index as usize), Some(false));
    let s = licenses::proof::domain::split(&list).unwrap();
    let key = w.svc.key(&l.kid).await.unwrap().unwrap();
    assert!(licenses::proof::domain::verify(
        &s,
        &hex::decode(&key.public_key).unwrap()
    ));
    // Issuance and the first key are audited; the private key is stored sealed, not in clear.
    assert_eq!(audit_of(w.db(), "license", l.id).await[0].0, "issue");
    assert_eq!(audit_of(w.db(), "license_key", &l.kid).await[0].0, "create");
}

async fn tampering_with_any_part_is_detected(db: Db) {
    let w = world(db).await;
    let l = w.issue_health(&resident_id()).await;
    let other = w.issue_health(&resident_id()).await;
    let vc = w.credential(&l).await;
    let cases: Vec<(&str, Value)> = vec![
        ("/credentialSubject/name", json!("李四")),
        (
            "/credentialSubject/license/fields/occupation",
            json!("食品生产"),
        ),
        (
            "/credentialSubject/identifier",
            json!(kernel::codes::id_card_with_check("11010519800101123")),
        ),
        ("/validUntil", json!("2099-12-31T23:59:59+08:00")),
        ("/issuer/name", json!("某某局")),
        (
            "/proof/proofValue",
            json!(licenses::proof::domain::multibase_b58(&[7u8; 64])),
        ),
        ("/proof/created", json!("2020-01-01T00:00:00+08:00")),
        (
            "/proof/verificationMethod",
            json!(format!("{BASE}/api/v1/licenses/keys/d999-k1")),
        ),
        (
            "/credentialStatus/0/statusListIndex",
            json!(other.list_index.to_string()),
        ),
        (
            "/credentialStatus/1/statusListIndex",
            json!(other.list_index.to_string()),
        ),
    ];
    for (path, value) in cases {
        let mut t = vc.clone();
        *t.pointer_mut(path).unwrap_or_else(|| panic!("{path}")) = value;
        let v = w.svc.verify(None, &t).await.unwrap();
        assert!(!v.valid, "{path} changed but valid: {v:?}");
        assert!(
            !check(&v, "signature").ok || !check(&v, "issuer_key").ok,
            "{path}: {v:?}"
        );
        assert!(!check(&v, "tampering").ok, "{path}: {v:?}");
    }
    // A removed proof, and a key of another department.
    let mut t = vc.clone();
    t.as_object_mut().unwrap().remove("proof");
    let v = w.svc.verify(None, &t).await.unwrap();
    assert!(!v.valid && !check(&v, "signature").ok);
    w.svc
        .rotate_key(w.actor("secadmin"), w.market_dept)
        .await
        .unwrap();
    let market_key = format!("d{}-k1", w.market_dept);
    let mut t = vc.clone();
    t["proof"]["verificationMethod"] = json!(format!("{BASE}/api/v1/licenses/keys/{market_key}"));
    let v = w.svc.verify(None, &t).await.unwrap();
    assert!(!check(&v, "issuer_key").ok, "{v:?}");
    assert!(check(&v, "issuer_key").message.contains("颁发部门"));
    // The identifier's check character is part of the check.
    let mut t = vc.clone();
    let bad_id = {
        let s = l.identifier.clone();
        let last = s.chars().last().unwrap();
        format!(
            "{}{}",
            &s[..s.len() - 1],
            if last == '0' { '1' } else { '0' }
        )
    };
    t["credentialSubject"]["license"]["identifier"] = json!(bad_id);
    let v = w.svc.verify(None, &t).await.unwrap();
    assert!(check(&v, "tampering").message.contains("校验位"), "{v:?}");
    // The untouched credential still verifies.
    assert!(w.svc.verify(None, &vc).await.unwrap().valid);
    // Not a credential at all: a 422 naming the body, not a 500.
    let e = w.svc.verify(None, &json!([1, 2])).await.unwrap_err();
    assert_eq!(e.field_name(), Some("credential"));
}

async fn suspended_revoked_and_expired_licenses_fail_with_their_reasons(db: Db) {
    let w = world(db).await;
    let appr = w.actor("appr_h");
    let l = w.issue_health(&resident_id()).await;
    let vc = w.credential(&l).await;
    w.svc
        .change_status(appr, l.id, StatusAction::Suspend, "体检复查中")
        .await
        .unwrap();
    let v = w.svc.verify(None, &vc).await.unwrap();
    assert!(!v.valid);
    let st = check(&v, "status");
    assert!(
        !st.ok && st.message.contains("暂停") && st.message.contains("体检复查中"),
        "{st:?}"
    );
    let (_, bits) = w.svc.status_bits(l.list_id, "suspension").await.unwrap();
    assert_eq!(
        bits.get(l.list_index as usize),
        Some(true),
        "the served list shows it at once"
    );
    w.svc
        .change_status(appr, l.id, StatusAction::Reinstate, "复查合格")
        .await
        .unwrap();
    assert!(w.svc.verify(None, &vc).await.unwrap().valid);
    w.svc
        .change_status(appr, l.id, StatusAction::Revoke, "伪造体检报告")
        .await
        .unwrap();
    let v = w.svc.verify(None, &vc).await.unwrap();
    let st = check(&v, "status");
    assert!(
        !st.ok && st.message.contains("撤销") && st.message.contains("伪造体检报告"),
        "{st:?}"
    );
    let list = w
        .svc
        .status_list_credential(l.list_id, "revocation")
        .await
        .unwrap();
    let bits =
        Bitstring::decode(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
    assert_eq!(bits.get(l.list_index as usize), Some(true));
    // A revoked license cannot be reinstated.
    let e = w
        .svc
        .change_status(appr, l.id, StatusAction::Reinstate, "x")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::IllegalTransition { .. }));
    let actions: Vec<(String, Value)> = audit_of(w.db(), "license", l.id).await;
    let names: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(names, ["issue", "suspend", "reinstate", "revoke"]);
    assert_eq!(actions[3].1["reason"], "伪造体检报告");
    // Expired: issued two years ago with a one-year validity.
    let mut n = w.new_health(&resident_id(), "张三");
    n.valid_from = Some("2024-01-02".into());
    let old = w.svc.issue(appr, n).await.unwrap();
    let v = w.svc.verify(None, &w.credential(&old).await).await.unwrap();
    let d = check(&v, "validity");
    assert!(
        !d.ok && d.message.contains("2025-01-01") && d.message.contains("过期"),
        "{d:?}"
    );
    assert!(check(&v, "signature").ok && check(&v, "status").ok);
    assert_eq!(old.status, LicenseStatus::Valid);
}

async fn keys_rotate_and_old_licenses_still_verify(db: Db) {
    let w = world(db).await;
    let admin = w.actor("secadmin"); // key management: the 安全管理员
    let before = w.issue_health(&resident_id()).await;
    let vc_before = w.credential(&before).await;
    let k2 = w.svc.rotate_key(admin, w.health_dept).await.unwrap();
    assert_ne!(k2.kid, before.kid);
    let after = w.issue_health(&resident_id()).await;
    assert_eq!(after.kid, k2.kid);
    let v = w.svc.verify(None, &vc_before).await.unwrap();
    assert!(
        v.valid,
        "an old license verifies with its retired key: {v:?}"
    );
    assert!(check(&v, "issuer_key").message.contains("已轮换"));
    let keys = w.svc.keys(admin).await.unwrap();
    let old = keys.iter().find(|k| k.kid == before.kid).unwrap();
    assert!(!old.active && old.retired_at.is_some());
    // The key document a verifier resolves.
    let doc = w.svc.key_document(old);
    assert_eq!(doc["publicKeyJwk"]["crv"], "SM2");
    assert_eq!(doc["publicKeyJwk"]["kty"], "EC");
    assert_eq!(
        licenses::proof::domain::from_jwk(&doc["publicKeyJwk"]).unwrap(),
        hex::decode(&old.public_key).unwrap()
    );
    // Only key managers list or rotate keys.
    assert!(w.svc.keys(w.actor("appr_h")).await.is_err());
    assert!(w
        .svc
        .rotate_key(w.actor("appr_h"), w.health_dept)
        .await
        .is_err());
    // Without the master key nothing can be signed, and the sealed key is useless.
    let no_master = licenses::LicensesService::new(w.db().clone(), BASE, "");
    assert!(no_master
        .issue(w.actor("appr_h"), w.new_health(&resident_id(), "张三"))
        .await
        .is_err());
    let wrong =
        licenses::LicensesService::new(w.db().clone(), BASE, "ffeeddccbbaa99887766554433221100");
    assert!(wrong
        .issue(w.actor("appr_h"), w.new_health(&resident_id(), "张三"))
        .await
        .is_err());
    assert_eq!(
        audit_of(w.db(), "license_key", &k2.kid).await[0].0,
        "rotate"
    );
}

async fn count(db: &Db) -> (usize, usize) {
    let audit = kernel::audit::recent(db, 100_000).await.unwrap().len();
    let w = licenses::LicensesService::new(db.clone(), BASE, MASTER);
    let n = w
        .search(&Actor::cli(), None, None, None)
        .await
        .unwrap()
        .len();
    (n, audit)
}

async fn bad_input_names_the_field_and_writes_nothing(db: Db) {
    let w = world(db).await;
    let appr = w.actor("appr_h");
    let before = count(w.db()).await;
    let mut n = w.new_health("110105199003071230", "张三");
    n.fields.insert("occupation".into(), json!("挖掘机"));
    n.fields.insert("exam_date".into(), json!("昨天"));
    n.fields.insert("shoe_size".into(), json!(42));
    let Err(Error::Validation(errs)) = w.svc.issue(appr, n).await else {
        panic!("accepted")
    };
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "holder.id_no",
        "fields.occupation",
        "fields.exam_date",
        "fields.shoe_size",
    ] {
        assert!(fields.contains(&f), "{f} not named in {fields:?}");
    }
    assert!(errs.iter().all(|e| e
        .detail
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))));
    let mut n = w.new_health(&resident_id(), "张三");
    n.type_code = "nope".into();
    assert_eq!(
        w.svc.issue(appr, n).await.unwrap_err().field_name(),
        Some("type_code")
    );
    // Another department is not an issuer of this type.
    let mut n = w.new_health(&resident_id(), "张三");
    n.dept_id = Some(w.market_dept);
    assert!(matches!(
        w.svc.issue(w.actor("appr_m"), n).await.unwrap_err(),
        Error::Validation(_)
    ));
    // A citizen cannot issue.
    assert!(matches!(
        w.svc
            .issue(w.actor("resident1"), w.new_health(&resident_id(), "张三"))
            .await
            .unwrap_err(),
        Error::Forbidden(_)
    ));
    // Empty reason for a status change.
    let l = w.issue_health(&resident_id()).await;
    let after_one = count(w.db()).await;
    assert_eq!(
        w.svc
            .change_status(appr, l.id, StatusAction::Revoke, " ")
            .await
            .unwrap_err()
            .field_name(),
        Some("reason")
    );
    assert_eq!(count(w.db()).await, after_one, "nothing half-written");
    assert_eq!(after_one.0, before.0 + 1);
}

async fn the_holder_sees_their_licenses_and_who_used_them(db: Db) {
    let w = world(db).await;
    let me = w.actor("resident1");
    let l = w.issue_health(&resident_id()).await;
    let _someone_else = w
        .issue_health(&kernel::codes::id_card_with_check("11010519800101123"))
        .await;
    let mine = w.svc.mine(me).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, l.id);
    assert_eq!(
        mine[0].holder_id_no,
        resident_id(),
        "the holder sees their own number"
    );
    assert!(w.svc.mine(w.actor("resident2")).await.unwrap().is_empty());
    // The holder reads the credential; another citizen may not.
    let vc = w.svc.credential(me, l.id, "自查").await.unwrap();
    assert!(w
        .svc
        .credential(w.actor("resident2"), l.id, "")
        .await
        .is_err());
    w.svc.verify(None, &vc).await.unwrap();
    let usage = w.svc.my_usage(me).await.unwrap();
    let kinds: Vec<&str> = usage.iter().map(|u| u.kind.as_str()).collect();
    assert_eq!(kinds, ["verify", "api_read"]);
    assert_eq!(usage[0].actor, "anonymous");
    // Staff outside the full-view roles see the holder masked.
    let seen = w
        .svc
        .search(w.actor("analyst"), None, None, None)
        .await
        .unwrap();
    let row = seen.iter().find(|x| x.id == l.id).unwrap();
    assert_ne!(row.holder_id_no, resident_id());
    assert!(row.holder_id_no.contains('*'));
    assert!(row.holder_name.contains('*'));
    let seen = w
        .svc
        .search(w.actor("appr_h"), None, None, None)
        .await
        .unwrap();
    assert_eq!(
        seen.iter().find(|x| x.id == l.id).unwrap().holder_id_no,
        resident_id()
    );
    // Another department's staff see none of 卫健委's licenses.
    assert!(w
        .svc
        .search(w.actor("appr_m"), None, None, None)
        .await
        .unwrap()
        .is_empty());
}

/// Rows in `licenses_usage`, read straight from the table (no flush of the queue).
async fn usage_rows(db: &Db) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM licenses_usage")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get("n")
}

async fn uses_are_written_by_the_log_writer_without_a_reader(db: Db) {
    let w = world(db).await;
    let me = w.actor("resident1");
    let l = w.issue_health(&resident_id()).await;
    let vc = w.svc.credential(me, l.id, "自查").await.unwrap();
    // 40 verifications at once: each only queues its row.
    let all = futures::future::join_all((0..40).map(|_| w.svc.verify(None, &vc))).await;
    assert!(all.iter().all(|v| v.as_ref().unwrap().valid));
    // The writer task writes them within its window, with nobody reading the log.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while usage_rows(w.db()).await < 41 {
        assert!(
            std::time::Instant::now() < deadline,
            "queued uses were never written: {} of 41",
            usage_rows(w.db()).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A burst after the writer went idle starts a new one; a read writes the queue first, in order.
    w.svc.verify(None, &vc).await.unwrap();
    w.svc.credential(me, l.id, "再查").await.unwrap();
    let usage = w.svc.my_usage(me).await.unwrap();
    assert_eq!(usage.len(), 43);
    assert_eq!(usage[0].kind, "api_read");
    assert_eq!(usage[0].purpose, "再查");
    assert_eq!(usage[1].kind, "verify");
    assert_eq!(usage.last().unwrap().purpose, "自查");
    assert_eq!(usage_rows(w.db()).await, 43, "each use written once");
}

async fn amendment_supersedes_and_source_is_idempotent(db: Db) {
    let w = world(db).await;
    let appr = w.actor("appr_h");
    let mut n = w.new_health(&resident_id(), "张三");
    n.source = Some("case:SQ001".into());
    let a = w.svc.issue(appr, n.clone()).await.unwrap();
    let b = w.svc.issue(appr, n).await.unwrap();
    assert_eq!(a.id, b.id, "the same source issues once");
    let vc_old = w.credential(&a).await;
    let new = w
        .svc
        .amend(
            appr,
            a.id,
            Amendment {
                fields: serde_json::from_value(json!({"occupation": "食品生产"})).unwrap(),
                holder_name: None,
                reason: "从业类别变更".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(new.serial, a.serial);
    assert_eq!(new.version, 2);
    assert!(new.identifier.contains(".002."));
    assert_eq!(new.previous_id, Some(a.id));
    assert_eq!(new.fields["occupation"], "食品生产");
    let old_now = w.svc.license(appr, a.id).await.unwrap();
    assert_eq!(old_now.status, LicenseStatus::Superseded);
    let v = w.svc.verify(None, &vc_old).await.unwrap();
    assert!(!check(&v, "status").ok, "the old version is revoked: {v:?}");
    assert!(
        w.svc
            .verify(None, &w.credential(&new).await)
            .await
            .unwrap()
            .valid
    );
    assert_eq!(audit_of(w.db(), "license", a.id).await[1].0, "amend");
}

async fn only_the_issuing_department_changes_status(db: Db) {
    let w = world(db).await;
    let l = w.issue_health(&resident_id()).await;
    let e = w
        .svc
        .change_status(w.actor("appr_m"), l.id, StatusAction::Revoke, "越权")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    let e = w
        .svc
        .change_status(w.actor("clerk_h"), l.id, StatusAction::Revoke, "无权")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    assert_eq!(
        w.svc.license(w.actor("appr_h"), l.id).await.unwrap().status,
        LicenseStatus::Valid
    );
}

async fn figures_count_issuance_stock_and_uses(db: Db) {
    let w = world(db).await;
    let a = w.issue_health(&resident_id()).await;
    let b = w.issue_health(&resident_id()).await;
    w.svc
        .change_status(w.actor("appr_h"), b.id, StatusAction::Revoke, "注销测试")
        .await
        .unwrap();
    w.svc.verify(None, &w.credential(&a).await).await.unwrap();
    let used = w
        .svc
        .exempt(&resident_id(), &w.health_code, "免证办：测试")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(used.license_id, a.id);
    let now = w.db().now();
    let rows = w
        .svc
        .figures(w.actor("appr_h"), now - 86_400_000, now + 1)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!((r.issued, r.stock), (2, 1), "{r:?}");
    // One credential read (api_read), one verification, one 免证办.
    assert_eq!((r.uses, r.exempt_uses), (3, 1), "{r:?}");
    // 使用率 counts licenses, not uses: the one valid license was used, so 100%, never 300%.
    assert_eq!((r.used_licenses, r.use_rate), (1, Some(1.0)), "{r:?}");
    // No case of an item with this result was delivered: 签发率 has no denominator.
    assert_eq!((r.case_results, r.issue_rate), (0, None), "{r:?}");
    // Another department's staff see no row; a past period has no issuance.
    assert!(w
        .svc
        .figures(w.actor("appr_m"), 0, now + 1)
        .await
        .unwrap()
        .is_empty());
    let past = w
        .svc
        .figures(w.actor("appr_h"), 0, now - 86_400_000)
        .await
        .unwrap();
    assert_eq!(past[0].issued, 0);
}

fn case_result(w: &World, number: &str, form: Value) -> licenses::issue::case::CaseResult {
    licenses::issue::case::CaseResult {
        type_ref: "健康证明".into(),
        dept_id: w.health_dept,
        case_ref: format!("case:{number}"),
        holder: licenses::issue::service::Holder {
            id_no: resident_id(),
            name: "张三".into(),
        },
        holder_user_id: Some(w.city.user_id("resident1")),
        form: serde_json::from_value(form).unwrap(),
        decision_no: Some("卫健〔2026〕1号".into()),
        at: w.db().now(),
    }
}

async fn a_delivered_case_issues_once_and_counts_for_the_issue_rate(db: Db) {
    let w = world(db).await;
    // A 综合窗口 clerk of another department delivers: the license is the deciding department's.
    let clerk = w.actor("appr_m");
    let by: kernel::Authorized = clerk
        .authorize::<licenses::service::Issue>()
        .unwrap()
        .into();
    let form = json!({"name": "张三", "occupation": "餐饮服务", "exam_date": "2026-03-01", "phone": "13800000001"});
    let a = w
        .svc
        .issue_for_case(by, case_result(&w, "B001", form.clone()))
        .await
        .unwrap();
    assert_eq!(a.dept_id, w.health_dept);
    assert_eq!(a.fields.get("occupation"), Some(&json!("餐饮服务")));
    // Fields the type does not have are not carried over.
    assert!(a.fields.get("phone").is_none(), "{:?}", a.fields);
    assert_eq!(a.holder_user_id, Some(w.city.user_id("resident1")));
    let again = w
        .svc
        .issue_for_case(by, case_result(&w, "B001", form))
        .await
        .unwrap();
    assert_eq!(again.id, a.id, "a repeated delivery issues nothing new");
    // A form without a required field: refused naming it, nothing written.
    let e = w
        .svc
        .issue_for_case(
            by,
            case_result(
                &w,
                "B002",
                json!({"name": "张三", "occupation": "餐饮服务"}),
            ),
        )
        .await
        .unwrap_err();
    match &e {
        Error::Validation(f) => {
            assert_eq!(f[0].field, "method", "{e:?}");
            assert!(e.detail().contains("体检日期"), "{}", e.detail());
        }
        other => panic!("{other:?}"),
    }
    // Delivered on paper: counted, no license.
    w.svc
        .note_paper_result(by, &case_result(&w, "B003", json!({})))
        .await
        .unwrap();
    w.svc
        .note_paper_result(by, &case_result(&w, "B003", json!({})))
        .await
        .unwrap();
    let now = w.db().now();
    let rows = w
        .svc
        .figures(w.actor("appr_h"), now - 86_400_000, now + 1)
        .await
        .unwrap();
    let r = &rows[0];
    assert_eq!((r.case_results, r.issued_from_cases), (2, 1), "{r:?}");
    assert_eq!(r.issue_rate, Some(0.5));
    assert!(r.issue_rate.unwrap() <= 1.0);
    // An unknown result type is named.
    let mut bad = case_result(&w, "B004", json!({}));
    bad.type_ref = "不存在的证照".into();
    let e = w.svc.issue_for_case(by, bad).await.unwrap_err();
    assert!(e.detail().contains("不存在的证照"), "{}", e.detail());
}

async fn holders_are_reminded_once_before_expiry(db: Db) {
    let w = world(db).await;
    let now = w.db().now();
    let day = |ms: i64| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string();
    // Valid one year: issued 350 days ago it expires in about 15 days, inside the 30-day window.
    let mut near = w.new_health(&resident_id(), "张三");
    near.valid_from = Some(day(now - 350 * 86_400_000));
    let near = w.svc.issue(w.actor("appr_h"), near).await.unwrap();
    // Issued today: a year away, no reminder.
    let far = w.issue_health(&resident_id()).await;
    // A holder without an account: recorded, nobody to tell.
    let other_id = kernel::codes::id_card_with_check("11010519800101002");
    let mut stranger = w.new_health(&other_id, "李四");
    stranger.valid_from = Some(day(now - 350 * 86_400_000));
    w.svc.issue(w.actor("appr_h"), stranger).await.unwrap();

    assert_eq!(w.svc.send_expiry_reminders(now).await.unwrap(), 1);
    assert_eq!(
        w.svc.send_expiry_reminders(now).await.unwrap(),
        0,
        "once only"
    );
    let notify = notify::NotifyService::new(w.db().clone());
    let inbox = notify
        .inbox(
            w.actor("resident1"),
            &notify::InboxQuery::default(),
            &kernel::page::PageQuery {
                page: None,
                per_page: None,
            },
        )
        .await
        .unwrap()
        .items;
    let mine: Vec<_> = inbox
        .iter()
        .filter(|m| m.event == "license.expiring")
        .collect();
    assert_eq!(mine.len(), 1, "{inbox:?}");
    assert!(mine[0].body.contains(&near.identifier), "{:?}", mine[0]);
    assert!(mine[0].body.contains("健康证明"), "{:?}", mine[0]);
    assert!(!inbox.iter().any(|m| m.body.contains(&far.identifier)));
    let audit = audit_of(w.db(), "license", near.id).await;
    assert!(
        audit.iter().any(|(a, _)| a == "expiry_reminder"),
        "{audit:?}"
    );
}
