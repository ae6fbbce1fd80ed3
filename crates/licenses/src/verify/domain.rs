//! Verification of a license credential, pure: what to look up ([`needs`]) and the checks
//! over what was found ([`evaluate`]). The same code runs online and offline.

use crate::proof::domain as proof;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One check with its result and a zh-CN message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Check {
    /// `signature`, `issuer_key`, `status`, `validity` or `tampering`.
    pub name: String,
    pub ok: bool,
    pub message: String,
}

/// The face of what was verified, for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Default)]
pub struct Summary {
    pub identifier: String,
    pub type_code: String,
    pub type_version: i64,
    pub type_name: String,
    pub holder_name: String,
    pub holder_id_no: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub fields: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Verification {
    /// All checks passed.
    pub valid: bool,
    /// One sentence for people.
    pub message: String,
    pub checks: Vec<Check>,
    pub summary: Option<Summary>,
}

/// A status entry the credential points to.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRef {
    pub purpose: String,
    pub list_url: String,
    pub index: usize,
}

/// What must be looked up to verify a document.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub verification_method: Option<String>,
    pub issuer: Option<String>,
    pub identifier: Option<String>,
    pub statuses: Vec<StatusRef>,
}

pub fn needs(doc: &Value) -> Needs {
    let statuses = match &doc["credentialStatus"] {
        Value::Array(a) => a.iter().collect(),
        v @ Value::Object(_) => vec![v],
        _ => vec![],
    };
    Needs {
        verification_method: doc["proof"]["verificationMethod"]
            .as_str()
            .map(str::to_owned),
        issuer: issuer_id(doc),
        identifier: doc["credentialSubject"]["license"]["identifier"]
            .as_str()
            .map(str::to_owned),
        statuses: statuses
            .into_iter()
            .filter_map(|s| {
                Some(StatusRef {
                    purpose: s["statusPurpose"].as_str()?.to_owned(),
                    list_url: s["statusListCredential"].as_str()?.to_owned(),
                    index: s["statusListIndex"].as_str()?.parse().ok()?,
                })
            })
            .collect(),
    }
}

fn issuer_id(doc: &Value) -> Option<String> {
    match &doc["issuer"] {
        Value::String(s) => Some(s.clone()),
        v => v["id"].as_str().map(str::to_owned),
    }
}

/// A public key as the trust store knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyFact {
    pub kid: String,
    /// The issuer URL the key belongs to.
    pub issuer: String,
    /// SEC1 hex.
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// A status bit as found, with the registry's reason when online.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFact {
    pub purpose: String,
    /// `None`: the list could not be had (or is not the issuer's).
    pub set: Option<bool>,
    pub reason: Option<String>,
}

/// What was found for [`Needs`].
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub key: Option<KeyFact>,
    pub statuses: Vec<StatusFact>,
    /// SM3(JCS(credential without proof)) of the registry's record of this identifier, if any.
    pub registered_hash: Option<[u8; 32]>,
    /// Where the facts come from (`在线` / `离线缓存 2026-…`), said in the messages.
    pub source: String,
    pub now_ms: i64,
}

fn check(name: &str, ok: bool, message: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        message: message.into(),
    }
}

fn parse_time(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn day(ms: i64) -> String {
    kernel::clock::to_china(ms).format("%Y-%m-%d").to_string()
}

pub fn summary(doc: &Value) -> Summary {
    let s = &doc["credentialSubject"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Summary {
        identifier: text(&s["license"]["identifier"]),
        type_code: text(&s["license"]["typeCode"]),
        type_version: s["license"]["typeVersion"].as_i64().unwrap_or_default(),
        type_name: text(&s["license"]["typeName"]),
        holder_name: text(&s["name"]),
        holder_id_no: text(&s["identifier"]),
        issuer: text(&doc["issuer"]["name"]),
        valid_from: parse_time(&doc["validFrom"]).map(day).unwrap_or_default(),
        valid_until: parse_time(&doc["validUntil"]).map(day),
        fields: s["license"]["fields"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

/// The five checks of a credential over the facts.
pub fn evaluate(doc: &Value, facts: &Facts) -> Verification {
    let mut checks = Vec::new();
    let secured = proof::split(doc);
    let n = needs(doc);
    // The issuer key: registered, of the credential's issuer, in force when it signed.
    let created = doc["proof"]["created"].clone();
    let key_ok = match &facts.key {
        None => {
            checks.push(check(
                "issuer_key",
                false,
                format!(
                    "签名密钥“{}”不是已登记的签发密钥",
                    n.verification_method.as_deref().unwrap_or("（缺失）")
                ),
            ));
            false
        }
        // The same department, whatever address the credential was issued under.
        Some(k)
            if n.issuer
                .as_deref()
                .and_then(crate::service::dept_of_issuer_url)
                != crate::service::dept_of_issuer_url(&k.issuer)
                || n.issuer.is_none() =>
        {
            checks.push(check(
                "issuer_key",
                false,
                "签名密钥不属于凭证所称的颁发部门",
            ));
            false
        }
        Some(k) => match parse_time(&created) {
            None => {
                checks.push(check("issuer_key", false, "proof.created 不是合法的时间"));
                false
            }
            Some(t) if t + 60_000 < k.created_at || k.retired_at.is_some_and(|r| t > r) => {
                checks.push(check(
                    "issuer_key",
                    false,
                    format!("签名时间不在密钥 {} 的使用期内", k.kid),
                ));
                false
            }
            Some(_) => {
                let state = if k.retired_at.is_some() {
                    "（已轮换，仍可验证其签发的证照）"
                } else {
                    ""
                };
                checks.push(check(
                    "issuer_key",
                    true,
                    format!("签名密钥 {} 属于颁发部门{state}", k.kid),
                ));
                true
            }
        },
    };
    // The signature.
    let sig_ok = match (&secured, &facts.key) {
        (Err(e), _) => {
            checks.push(check("signature", false, format!("无法验证签名：{e}")));
            false
        }
        (Ok(_), None) => {
            checks.push(check("signature", false, "找不到签名公钥，无法验证签名"));
            false
        }
        (Ok(s), Some(k)) => {
            let ok = proof::verify(s, &hex::decode(&k.public_key).unwrap_or_default());
            checks.push(check(
                "signature",
                ok,
                if ok {
                    "SM2 签名有效"
                } else {
                    "SM2 签名无效：内容与签名不符"
                },
            ));
            ok
        }
    };
    // Tampering: the identifier's check character, the signature over the content, and the
    // registry's record of this identifier.
    let tamper = if let Some(id) = &n.identifier {
        match crate::issue::domain::Identifier::parse(id) {
            Err(e) => Some(e),
            Ok(_) if !sig_ok => Some("内容或证明被改动（签名不符）".to_owned()),
            Ok(_) => match (&secured, facts.registered_hash) {
                (Ok(s), Some(h)) if proof::sm3_jcs(&s.unsecured) != h => {
                    Some("与登记的证照内容不一致".to_owned())
                }
                _ => None,
            },
        }
    } else {
        Some("凭证缺少证照标识".to_owned())
    };
    checks.push(match tamper {
        None => check("tampering", true, "内容完整，未被篡改"),
        Some(m) => check("tampering", false, m),
    });
    // Status.
    let status_ok = if n.statuses.is_empty() {
        checks.push(check(
            "status",
            false,
            "凭证缺少状态信息（credentialStatus）",
        ));
        false
    } else {
        let mut bad = Vec::new();
        for (r, f) in n.statuses.iter().zip(
            facts
                .statuses
                .iter()
                .map(Some)
                .chain(std::iter::repeat(None)),
        ) {
            match f.and_then(|f| f.set.map(|s| (s, f))) {
                None => bad.push(format!("无法取得{}状态列表", purpose_label(&r.purpose))),
                Some((true, f)) => bad.push(format!(
                    "证照{}{}",
                    if r.purpose == "revocation" {
                        "已被撤销"
                    } else {
                        "已暂停"
                    },
                    f.reason
                        .as_deref()
                        .filter(|x| !x.is_empty())
                        .map(|x| format!("：{x}"))
                        .unwrap_or_default()
                )),
                Some((false, _)) => {}
            }
        }
        if bad.is_empty() {
            checks.push(check(
                "status",
                true,
                format!("证照状态正常（{}）", facts.source),
            ));
            true
        } else {
            checks.push(check("status", false, bad.join("；")));
            false
        }
    };
    // Dates.
    let from = parse_time(&doc["validFrom"]);
    let until = parse_time(&doc["validUntil"]);
    let dates_ok = match (from, doc.get("validUntil").is_some(), until) {
        (None, _, _) => {
            checks.push(check("validity", false, "validFrom 缺失或不是合法的时间"));
            false
        }
        (_, true, None) => {
            checks.push(check("validity", false, "validUntil 不是合法的时间"));
            false
        }
        (Some(f), _, _) if f > facts.now_ms => {
            checks.push(check(
                "validity",
                false,
                format!("证照自 {} 起生效，尚未生效", day(f)),
            ));
            false
        }
        (_, _, Some(u)) if u < facts.now_ms => {
            checks.push(check(
                "validity",
                false,
                format!("证照已于 {} 过期", day(u)),
            ));
            false
        }
        (Some(f), _, u) => {
            checks.push(check(
                "validity",
                true,
                match u {
                    Some(u) => format!("在有效期内（{} 至 {}）", day(f), day(u)),
                    None => format!("长期有效（自 {} 起）", day(f)),
                },
            ));
            true
        }
    };
    let valid = key_ok && sig_ok && status_ok && dates_ok && checks.iter().all(|c| c.ok);
    let message = if valid {
        "证照真实有效".to_owned()
    } else {
        let first: Vec<&str> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.message.as_str())
            .collect();
        format!("证照无效：{}", first.join("；"))
    };
    Verification {
        valid,
        message,
        checks,
        summary: doc.is_object().then(|| summary(doc)),
    }
}

fn purpose_label(p: &str) -> &'static str {
    if p == "revocation" {
        "撤销"
    } else {
        "暂停"
    }
}

/// What `yiwang licenses sync-trust` caches for offline 查证: every issuing key (public parts)
/// and every status list credential, as served at `generated_at`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TrustBundle {
    /// The server it came from.
    pub base_url: String,
    /// RFC 3339.
    pub generated_at: String,
    pub keys: Vec<KeyFact>,
    /// Signed `BitstringStatusListCredential`s.
    pub status_lists: Vec<Value>,
}

impl TrustBundle {
    fn key_of(&self, verification_method: &str) -> Option<&KeyFact> {
        let kid = crate::service::kid_of_url(verification_method)?;
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The bits of a cached list, if its own signature verifies with a cached key of the
    /// issuer the credential names.
    fn bits(
        &self,
        url: &str,
        purpose: &str,
        issuer: Option<&str>,
    ) -> Option<crate::status::domain::Bitstring> {
        let list = self.status_lists.iter().find(|l| l["id"] == url)?;
        if list["credentialSubject"]["statusPurpose"] != purpose
            || list["issuer"].as_str() != issuer
        {
            return None;
        }
        let s = proof::split(list).ok()?;
        let key = self.key_of(&s.verification_method)?;
        if Some(key.issuer.as_str()) != issuer
            || !proof::verify(&s, &hex::decode(&key.public_key).ok()?)
        {
            return None;
        }
        crate::status::domain::Bitstring::decode(list["credentialSubject"]["encodedList"].as_str()?)
            .ok()
    }

    /// The facts for `doc` from the cache alone: no network.
    pub fn facts(&self, doc: &Value, now_ms: i64) -> Facts {
        let n = needs(doc);
        Facts {
            key: n
                .verification_method
                .as_deref()
                .and_then(|vm| self.key_of(vm))
                .cloned(),
            statuses: n
                .statuses
                .iter()
                .map(|s| StatusFact {
                    purpose: s.purpose.clone(),
                    set: self
                        .bits(&s.list_url, &s.purpose, n.issuer.as_deref())
                        .and_then(|b| b.get(s.index)),
                    reason: None,
                })
                .collect(),
            registered_hash: None,
            source: format!("离线缓存，同步于 {}", self.generated_at),
            now_ms,
        }
    }
}
