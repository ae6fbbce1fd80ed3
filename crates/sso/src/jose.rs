//! ID tokens as JWS ES256 (RFC 7515, RFC 7518 §3.4) through `jsonwebtoken`; P-256 key pairs
//! made by `ring`; public keys as JWKs (RFC 7517). Pure: no database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use zeroize::Zeroizing;

pub const ALG: &str = "ES256";

/// A new P-256 key pair: its PKCS#8 private key (to seal) and its public JWK.
pub fn generate(kid: &str) -> Result<(Zeroizing<Vec<u8>>, Value), String> {
    let rng = ring::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "无法生成签名密钥".to_owned())?;
    let pkcs8 = Zeroizing::new(doc.as_ref().to_vec());
    let jwk = public_jwk(kid, &pkcs8)?;
    Ok((pkcs8, jwk))
}

/// The public JWK of a PKCS#8 P-256 private key.
pub fn public_jwk(kid: &str, pkcs8: &[u8]) -> Result<Value, String> {
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
        .map_err(|_| "签名密钥已损坏".to_owned())?;
    // Uncompressed SEC1: 0x04 ‖ X ‖ Y.
    let p = pair.public_key().as_ref();
    if p.len() != 65 || p[0] != 4 {
        return Err("签名公钥格式不正确".into());
    }
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": B64.encode(&p[1..33]),
        "y": B64.encode(&p[33..65]),
        "use": "sig",
        "alg": ALG,
        "kid": kid,
    }))
}

/// Signs `claims` with the PKCS#8 key, naming `kid` in the header.
pub fn sign(kid: &str, pkcs8: &[u8], claims: &Value) -> Result<String, String> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(pkcs8))
        .map_err(|e| format!("签名失败：{e}"))
}

/// The `kid` a compact JWS names in its header.
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Verifies an ID token we issued against the public JWK: signature, issuer and, when given,
/// audience. Expiry is not checked (an `id_token_hint` may have expired).
pub fn verify(
    token: &str,
    jwk: &Value,
    issuer: &str,
    audience: Option<&str>,
) -> Result<Value, String> {
    let (x, y) = (
        jwk["x"].as_str().unwrap_or(""),
        jwk["y"].as_str().unwrap_or(""),
    );
    let key = DecodingKey::from_ec_components(x, y).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    v.set_issuer(&[issuer]);
    match audience {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_with_its_public_key_only() {
        let (sk, jwk) = generate("k1").unwrap();
        let claims = json!({"iss": "http://idp", "sub": "7", "aud": "c1", "exp": 4_000_000_000u64});
        let t = sign("k1", &sk, &claims).unwrap();
        assert_eq!(kid_of(&t).as_deref(), Some("k1"));
        assert_eq!(
            verify(&t, &jwk, "http://idp", Some("c1")).unwrap()["sub"],
            "7"
        );
        assert!(verify(&t, &jwk, "http://other", Some("c1")).is_err());
        assert!(verify(&t, &jwk, "http://idp", Some("c2")).is_err());
        let (_, other) = generate("k2").unwrap();
        assert!(verify(&t, &other, "http://idp", None).is_err());
        assert_eq!(public_jwk("k1", &sk).unwrap(), jwk);
    }
}
