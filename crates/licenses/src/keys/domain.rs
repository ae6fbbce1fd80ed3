//! Sealing private keys at rest, pure.
//!
//! A private key is stored as hex(nonce ‖ SM4-GCM(key, nonce, secret, aad = kid)): SM4 in GCM
//! mode (RFC 8998's SM4-GCM) with a 96-bit random nonce and a 128-bit tag. The kid as
//! associated data binds a sealed key to its row, so swapping two rows' sealed keys is detected.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use serde::Serialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// The configured master key (16 bytes). Its `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 16]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// From the configuration's 32 hex characters; `None` when it is not set or malformed.
    pub fn from_hex(s: &str) -> Option<MasterKey> {
        let v = Zeroizing::new(hex::decode(s.trim()).ok()?);
        let arr: [u8; 16] = v.as_slice().try_into().ok()?;
        Some(MasterKey(Zeroizing::new(arr)))
    }

    pub fn seal(&self, kid: &str, secret: &[u8]) -> String {
        let nonce: [u8; 12] = rand::random();
        let cipher = Sm4Gcm::new_from_slice(&self.0[..]).expect("16-byte key");
        let ct = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: secret,
                    aad: kid.as_bytes(),
                },
            )
            .expect("SM4-GCM encryption of a short message");
        let mut out = nonce.to_vec();
        out.extend(ct);
        hex::encode(out)
    }

    /// The private key, or `Err` when the master key is another or the row was changed.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let bytes = hex::decode(sealed).map_err(|_| "密钥记录已损坏".to_owned())?;
        if bytes.len() < 12 + 16 {
            return Err("密钥记录已损坏".into());
        }
        let cipher = Sm4Gcm::new_from_slice(&self.0[..]).expect("16-byte key");
        let nonce: [u8; 12] = bytes[..12].try_into().expect("12 bytes");
        cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &bytes[12..],
                    aad: kid.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| "无法用主密钥解开签发密钥（主密钥不符或记录被改动）".to_owned())
    }
}

/// An issuing key as people see it: never the private part.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct IssuerKey {
    pub kid: String,
    pub dept_id: i64,
    /// Uncompressed SEC1 public key, hex (04‖X‖Y).
    pub public_key: String,
    pub active: bool,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// The kid of a department's n-th key: `d{dept}-k{n}`.
pub fn kid_for(dept_id: i64, n: i64) -> String {
    format!("d{dept_id}-k{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_master_key_and_kid() {
        let m = MasterKey::from_hex("00112233445566778899aabbccddeeff").unwrap();
        let sealed = m.seal("d1-k1", b"secret key bytes");
        assert!(!sealed.contains(&hex::encode(b"secret key bytes")));
        assert_eq!(&m.open("d1-k1", &sealed).unwrap()[..], b"secret key bytes");
        assert!(m.open("d1-k2", &sealed).is_err(), "another kid");
        let other = MasterKey::from_hex("ffeeddccbbaa99887766554433221100").unwrap();
        assert!(other.open("d1-k1", &sealed).is_err(), "another master key");
        let mut flipped = hex::decode(&sealed).unwrap();
        flipped[14] ^= 1;
        assert!(
            m.open("d1-k1", &hex::encode(flipped)).is_err(),
            "changed ciphertext"
        );
        assert!(MasterKey::from_hex("abc").is_none());
        assert_eq!(format!("{m:?}"), "MasterKey(…)");
    }

    #[test]
    fn sm4_matches_the_standard_example() {
        // SM4 itself: GB/T 32907's example (key = plaintext = 0123456789abcdeffedcba9876543210).
        use sm4::cipher::{BlockCipherEncrypt, KeyInit};
        let k = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let c = sm4::Sm4::new_from_slice(&k).unwrap();
        let mut block = sm4::cipher::Array::try_from(&k[..]).unwrap();
        c.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }
}
