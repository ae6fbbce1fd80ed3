//! The QR text of a presentation, pure:
//! `YWP1.` + base64url(JCS(payload)) + `.` + base64url(SM2 signature r‖s), the signature over
//! the JCS bytes with the user id `1234567812345678` (docs/licenses-cryptosuite.md §6).

use crate::proof::domain as proof;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey};

pub const PREFIX: &str = "YWP1.";

/// What a presentation says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    /// The license identifier.
    pub i: String,
    /// The signing key's kid.
    pub k: String,
    /// The type name.
    pub t: String,
    /// The holder's name.
    pub n: String,
    /// The fields the holder chose to show.
    pub f: Map<String, Value>,
    /// Expiry, Unix milliseconds.
    pub exp: i64,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

pub fn encode(p: &Payload, key: &SigningKey) -> String {
    let body = proof::jcs(&serde_json::to_value(p).unwrap_or_default());
    let sig: Signature = key.sign(&body);
    format!(
        "{PREFIX}{}.{}",
        b64().encode(&body),
        b64().encode(sig.to_bytes())
    )
}

/// The payload, unchecked, and a function that checks the signature with a SEC1 key.
pub fn decode(text: &str) -> Result<(Payload, Vec<u8>, Vec<u8>), String> {
    let rest = text
        .trim()
        .strip_prefix(PREFIX)
        .ok_or("不是亮证码（应以 YWP1. 开头）")?;
    let (body, sig) = rest.split_once('.').ok_or("亮证码不完整")?;
    let body = b64().decode(body).map_err(|_| "亮证码已损坏".to_owned())?;
    let sig = b64().decode(sig).map_err(|_| "亮证码已损坏".to_owned())?;
    let p: Payload = serde_json::from_slice(&body).map_err(|_| "亮证码内容无法识别".to_owned())?;
    Ok((p, body, sig))
}

pub fn verify_signature(body: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
    let (Ok(vk), Ok(sig)) = (proof::verifying_key(public_key), Signature::from_slice(sig)) else {
        return false;
    };
    vk.verify(body, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presentation_round_trips_and_a_changed_one_fails() {
        let key = proof::signing_key(&proof::generate_secret()[..]).unwrap();
        let pk = proof::public_key_of(&key);
        let p = Payload {
            i: "1.2.156.3005.2.x".into(),
            k: "d1-k1".into(),
            t: "健康证明".into(),
            n: "张三".into(),
            f: serde_json::from_str(r#"{"occupation":"餐饮服务"}"#).unwrap(),
            exp: 1,
        };
        let text = encode(&p, &key);
        assert!(text.len() < 600, "compact: {}", text.len());
        let (q, body, sig) = decode(&text).unwrap();
        assert_eq!(q, p);
        assert!(verify_signature(&body, &sig, &pk));
        let mut forged = p.clone();
        forged.n = "李四".into();
        let forged_body = proof::jcs(&serde_json::to_value(&forged).unwrap());
        assert!(!verify_signature(&forged_body, &sig, &pk));
        assert!(decode("hello").is_err());
    }
}
