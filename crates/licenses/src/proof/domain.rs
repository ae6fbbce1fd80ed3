//! The `sm2-jcs-2026` Data Integrity cryptosuite, pure: no storage, no clock.
//!
//! hashData = SM3(JCS(proof options)) ‖ SM3(JCS(document without `proof`)); the signature is
//! SM2 (GB/T 32918) with the user id `1234567812345678` over hashData, and `proofValue` is the
//! 64-byte r‖s in multibase base58btc (`z…`). docs/licenses-cryptosuite.md says it for verifiers.

use serde_json::{Map, Value};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

/// The cryptosuite's name in `proof.cryptosuite`.
pub const CRYPTOSUITE: &str = "sm2-jcs-2026";
/// The SM2 distinguishing identifier (GB/T 35276's default user id).
pub const DIST_ID: &str = "1234567812345678";

/// RFC 8785 canonical bytes of a JSON value.
pub fn jcs(v: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its keys are strings and its numbers finite.
    serde_json_canonicalizer::to_vec(v).unwrap_or_default()
}

/// SM3 of the canonical form.
pub fn sm3_jcs(v: &Value) -> [u8; 32] {
    Sm3::digest(jcs(v)).into()
}

/// hashData: SM3(JCS(proof options)) ‖ SM3(JCS(unsecured document)).
pub fn hash_data(proof_options: &Value, unsecured: &Value) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&sm3_jcs(proof_options));
    out[32..].copy_from_slice(&sm3_jcs(unsecured));
    out
}

/// A fresh SM2 private key (32 bytes), kept zeroized on drop.
pub fn generate_secret() -> Zeroizing<[u8; 32]> {
    loop {
        let mut b = Zeroizing::new([0u8; 32]);
        rand::Rng::fill(&mut rand::thread_rng(), &mut b[..]);
        // Out-of-range scalars (≥ n, or 0) are rejected: draw again.
        if SigningKey::from_slice(DIST_ID, &b[..]).is_ok() {
            return b;
        }
    }
}

pub fn signing_key(secret: &[u8]) -> Result<SigningKey, String> {
    SigningKey::from_slice(DIST_ID, secret).map_err(|_| "SM2 私钥无效".to_owned())
}

/// The uncompressed SEC1 public key 04‖X‖Y (65 bytes) of a private key.
pub fn public_key_of(key: &SigningKey) -> Vec<u8> {
    key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
}

pub fn verifying_key(sec1: &[u8]) -> Result<VerifyingKey, String> {
    VerifyingKey::from_sec1_bytes(DIST_ID, sec1).map_err(|_| "SM2 公钥无效".to_owned())
}

/// `{"kty":"EC","crv":"SM2","x","y"}` with base64url (no padding) coordinates.
pub fn jwk(sec1: &[u8]) -> Value {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (x, y) = if sec1.len() == 65 {
        (&sec1[1..33], &sec1[33..])
    } else {
        (&[][..], &[][..])
    };
    serde_json::json!({"kty": "EC", "crv": "SM2", "x": b.encode(x), "y": b.encode(y)})
}

/// The SEC1 public key of a JWK, checked to be an SM2 point.
pub fn from_jwk(jwk: &Value) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if jwk["kty"] != "EC" || jwk["crv"] != "SM2" {
        return Err("公钥不是 SM2 的 JWK（kty 应为 EC，crv 应为 SM2）".into());
    }
    let coord = |k: &str| -> Result<Vec<u8>, String> {
        let v = b
            .decode(jwk[k].as_str().unwrap_or_default())
            .map_err(|_| format!("JWK 的 {k} 不是 base64url"))?;
        if v.len() != 32 {
            return Err(format!("JWK 的 {k} 应为 32 字节"));
        }
        Ok(v)
    };
    let mut sec1 = vec![4u8];
    sec1.extend(coord("x")?);
    sec1.extend(coord("y")?);
    verifying_key(&sec1)?;
    Ok(sec1)
}

/// Multibase base58btc: `z` + base58 (Bitcoin alphabet).
pub fn multibase_b58(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

pub fn from_multibase_b58(s: &str) -> Result<Vec<u8>, String> {
    let rest = s
        .strip_prefix('z')
        .ok_or("proofValue 应以 z 开头（multibase base58btc）")?;
    bs58::decode(rest)
        .into_vec()
        .map_err(|_| "proofValue 不是合法的 base58btc".to_owned())
}

/// The proof options: everything the proof will say except `proofValue`.
pub fn proof_options(verification_method: &str, created: &str) -> Value {
    serde_json::json!({
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    })
}

/// Signs `unsecured` (which must have no `proof`) and returns it with its proof.
pub fn sign(key: &SigningKey, unsecured: Value, options: Value) -> Value {
    let data = hash_data(&options, &unsecured);
    let sig: Signature = key.sign(&data);
    let mut proof = options;
    proof["proofValue"] = Value::String(multibase_b58(&sig.to_bytes()));
    let mut doc = unsecured;
    if let Value::Object(m) = &mut doc {
        m.insert("proof".into(), proof);
    }
    doc
}

/// A secured document split into what was signed.
#[derive(Debug, Clone)]
pub struct Secured {
    pub unsecured: Value,
    pub options: Value,
    pub verification_method: String,
    pub signature: Vec<u8>,
}

/// Splits a secured document; `Err` with a zh-CN reason when the proof is malformed.
pub fn split(doc: &Value) -> Result<Secured, String> {
    let Value::Object(m) = doc else {
        return Err("凭证不是 JSON 对象".into());
    };
    let Some(Value::Object(proof)) = m.get("proof") else {
        return Err("凭证没有 proof（数据完整性证明）".into());
    };
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof") {
        return Err("proof.type 应为 DataIntegrityProof".into());
    }
    if proof.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE) {
        return Err(format!("proof.cryptosuite 应为 {CRYPTOSUITE}"));
    }
    if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
        return Err("proof.proofPurpose 应为 assertionMethod".into());
    }
    let vm = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or("proof 缺少 verificationMethod")?
        .to_owned();
    let pv = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or("proof 缺少 proofValue")?;
    let signature = from_multibase_b58(pv)?;
    if signature.len() != 64 {
        return Err("proofValue 应为 64 字节的 r‖s".into());
    }
    let mut options: Map<String, Value> = proof.clone();
    options.remove("proofValue");
    let mut unsecured = m.clone();
    unsecured.remove("proof");
    Ok(Secured {
        unsecured: Value::Object(unsecured),
        options: Value::Object(options),
        verification_method: vm,
        signature,
    })
}

/// Whether the signature of `s` verifies with the SEC1 public key.
pub fn verify(s: &Secured, public_key: &[u8]) -> bool {
    let Ok(vk) = verifying_key(public_key) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&s.signature) else {
        return false;
    };
    vk.verify(&hash_data(&s.options, &s.unsecured), &sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> SigningKey {
        signing_key(&generate_secret()[..]).unwrap()
    }

    #[test]
    fn jcs_sorts_keys_and_writes_numbers_as_ecmascript() {
        let v = json!({"b": 1.0, "a": [true, null, "中"], "c": 1e21});
        assert_eq!(
            String::from_utf8(jcs(&v)).unwrap(),
            r#"{"a":[true,null,"中"],"b":1,"c":1e+21}"#
        );
    }

    #[test]
    fn a_signed_document_verifies_and_any_change_breaks_it() {
        let k = key();
        let pk = public_key_of(&k);
        assert_eq!(pk.len(), 65);
        let doc = json!({"id": "urn:x", "credentialSubject": {"name": "张三", "n": 3}});
        let signed = sign(
            &k,
            doc,
            proof_options("https://h/api/v1/licenses/keys/k1", "2026-01-01T00:00:00Z"),
        );
        let s = split(&signed).unwrap();
        assert!(verify(&s, &pk));
        for (path, v) in [
            ("/credentialSubject/name", json!("李四")),
            ("/credentialSubject/n", json!(4)),
            ("/proof/created", json!("2026-01-02T00:00:00Z")),
            (
                "/proof/verificationMethod",
                json!("https://h/api/v1/licenses/keys/k2"),
            ),
        ] {
            let mut t = signed.clone();
            *t.pointer_mut(path).unwrap() = v;
            assert!(
                !verify(&split(&t).unwrap(), &pk),
                "{path} changed but verified"
            );
        }
        // Another key does not verify it either.
        assert!(!verify(&s, &public_key_of(&key())));
    }

    #[test]
    fn jwk_round_trips_and_multibase_is_base58btc() {
        let pk = public_key_of(&key());
        assert_eq!(from_jwk(&jwk(&pk)).unwrap(), pk);
        assert!(from_jwk(&json!({"kty": "EC", "crv": "P-256", "x": "", "y": ""})).is_err());
        assert_eq!(multibase_b58(&[0, 0, 1]), "z112");
        assert_eq!(from_multibase_b58("z112").unwrap(), vec![0, 0, 1]);
        assert!(from_multibase_b58("u112").is_err());
    }

    #[test]
    fn malformed_proofs_are_named() {
        assert!(split(&json!({"a": 1})).unwrap_err().contains("proof"));
        let bad = json!({"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}});
        assert!(split(&bad).unwrap_err().contains("cryptosuite"));
    }
}
