//! Personal data sealed at rest (密评, GB/T 39786): 身份证号 and phone numbers are stored
//! encrypted with SM4, carry an HMAC-SM3 integrity tag (encrypt-then-MAC) checked on every
//! read, and are found by an HMAC-SM3 keyed **index** kept in a column of its own.
//!
//! A sealed value is self-describing text:
//!
//! ```text
//! sm4:1:<base64( iv[16] ‖ ciphertext[n] ‖ tag[32] )>
//! ciphertext = SM4-CTR(enc_key, iv as a 128-bit big-endian counter, UTF-8 plaintext)
//! tag        = HMAC-SM3(mac_key, "sm4:1:" ‖ iv ‖ ciphertext)
//! index      = hex(HMAC-SM3(index_key, trimmed, ASCII-upper-cased plaintext))
//! enc_key    = HMAC-SM3(master, "yiwang sealed v1 enc")[..16]
//! mac_key    = HMAC-SM3(master, "yiwang sealed v1 mac")
//! index_key  = HMAC-SM3(master, "yiwang sealed v1 index")
//! ```
//!
//! The 256-bit master key comes from a key file (`crypto.key_file`, 64 hex characters), never
//! from code. Separate keys per purpose: the index key cannot decrypt, the encryption key cannot
//! forge a tag. The index is deterministic on purpose (exact-match search); the ciphertext is
//! not (a random IV per value). An empty value is stored as is: it holds nothing personal.

use crate::error::{Error, Result};
use base64::Engine as _;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sm3::Sm3;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// What every sealed value starts with: the scheme and its version.
pub const PREFIX: &str = "sm4:1:";

type HmacSm3 = Hmac<Sm3>;
type Sm4Ctr = ctr::Ctr128BE<sm4::Sm4>;

struct Keys {
    enc: Zeroizing<[u8; 16]>,
    mac: Zeroizing<[u8; 32]>,
    index: Zeroizing<[u8; 32]>,
}

/// The deployment's sealing keys; cheap to clone. `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Sealer(Option<Arc<Keys>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Sealer(…)"
        } else {
            "Sealer(unconfigured)"
        })
    }
}

fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = HmacSm3::new_from_slice(key).expect("HMAC takes a key of any length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// Whether `value` is already sealed (so a conversion leaves it alone).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The form a value is indexed in: `11010519491231002x` and ` 11010519491231002X` are one.
pub fn normalize(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

impl Sealer {
    /// Keys derived from a 256-bit master key.
    pub fn from_master(master: &[u8; 32]) -> Sealer {
        let enc_full = Zeroizing::new(hmac_sm3(master, &[b"yiwang sealed v1 enc"]));
        let mut enc = Zeroizing::new([0u8; 16]);
        enc.copy_from_slice(&enc_full[..16]);
        Sealer(Some(Arc::new(Keys {
            enc,
            mac: Zeroizing::new(hmac_sm3(master, &[b"yiwang sealed v1 mac"])),
            index: Zeroizing::new(hmac_sm3(master, &[b"yiwang sealed v1 index"])),
        })))
    }

    /// From the key file's text: 64 hex characters.
    pub fn from_hex(text: &str) -> std::result::Result<Sealer, String> {
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| "数据加密密钥应为 64 位十六进制".to_owned())?,
        );
        let master: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| "数据加密密钥应为 64 位十六进制（256 位）".to_owned())?,
        );
        Ok(Sealer::from_master(&master))
    }

    /// A fresh random key and its key-file text (tests and first starts).
    pub fn generate() -> (Sealer, Zeroizing<String>) {
        let master = Zeroizing::new(rand::random::<[u8; 32]>());
        (
            Sealer::from_master(&master),
            Zeroizing::new(hex::encode(&master[..])),
        )
    }

    /// Reads the key file at `path`.
    pub fn load(path: &Path) -> std::result::Result<Sealer, String> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| format!("无法读取数据加密密钥文件 {}：{e}", path.display()))?,
        );
        Sealer::from_hex(&text).map_err(|e| format!("{}：{e}", path.display()))
    }

    /// Reads the key file at `path`, or makes one (mode 0600) if there is none. `true` when
    /// it was made now — the operator must back it up: without it the sealed data is lost.
    pub fn load_or_create(path: &Path) -> std::result::Result<(Sealer, bool), String> {
        if path.exists() {
            return Ok((Sealer::load(path)?, false));
        }
        let (sealer, text) = Sealer::generate();
        std::fs::write(path, format!("{}\n", text.as_str()))
            .map_err(|e| format!("无法写入数据加密密钥文件 {}：{e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok((sealer, true))
    }

    /// A sealer without keys: every use is an error (a tool that opened the database without
    /// reading the key file must not write plaintext).
    pub fn unconfigured() -> Sealer {
        Sealer(None)
    }

    pub fn is_configured(&self) -> bool {
        self.0.is_some()
    }

    fn keys(&self) -> Result<&Keys> {
        self.0.as_deref().ok_or_else(|| {
            Error::internal("数据加密密钥未配置（crypto.key_file），无法读写加密的个人信息")
        })
    }

    /// `value` sealed; an empty value stays empty.
    pub fn seal(&self, value: &str) -> Result<String> {
        if value.is_empty() {
            return Ok(String::new());
        }
        let k = self.keys()?;
        let iv: [u8; 16] = rand::random();
        let mut buf = value.as_bytes().to_vec();
        Sm4Ctr::new_from_slices(&k.enc[..], &iv)
            .expect("16-byte key and IV")
            .apply_keystream(&mut buf);
        let tag = hmac_sm3(&k.mac[..], &[PREFIX.as_bytes(), &iv, &buf]);
        let mut out = Vec::with_capacity(16 + buf.len() + 32);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    /// The plaintext of a sealed value, its tag checked first. `field` (`org_users.phone`) names
    /// the value in the log when the check fails: a tampered value, a value sealed under
    /// another key or plaintext where a sealed value belongs is an error, never served.
    pub fn open(&self, field: &str, stored: &str) -> Result<String> {
        if stored.is_empty() {
            return Ok(String::new());
        }
        let k = self.keys()?;
        let fail = |why: &str| {
            tracing::error!(
                field,
                why,
                "sealed personal data failed its integrity check"
            );
            Error::internal(format!(
                "{field} 的加密数据未通过完整性校验（{why}），可能被篡改或密钥不符"
            ))
        };
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Err(fail("not sealed"));
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| fail("not base64"))?;
        if bytes.len() < 16 + 32 {
            return Err(fail("too short"));
        }
        let (iv, rest) = bytes.split_at(16);
        let (ct, tag) = rest.split_at(rest.len() - 32);
        let mut m = HmacSm3::new_from_slice(&k.mac[..]).expect("HMAC takes any key");
        m.update(PREFIX.as_bytes());
        m.update(iv);
        m.update(ct);
        m.verify_slice(tag).map_err(|_| fail("tag mismatch"))?;
        let mut buf = ct.to_vec();
        Sm4Ctr::new_from_slices(&k.enc[..], iv)
            .expect("16-byte key and IV")
            .apply_keystream(&mut buf);
        String::from_utf8(buf).map_err(|_| fail("not UTF-8"))
    }

    /// The keyed index of `value` for exact-match search (`None` for an empty value).
    pub fn index(&self, value: &str) -> Result<Option<String>> {
        let v = normalize(value);
        if v.is_empty() {
            return Ok(None);
        }
        let k = self.keys()?;
        Ok(Some(hex::encode(hmac_sm3(&k.index[..], &[v.as_bytes()]))))
    }

    /// [`Sealer::seal`] of an optional value; `None` and empty stay `None`.
    pub fn seal_opt(&self, value: Option<&str>) -> Result<Option<String>> {
        match value.filter(|v| !v.is_empty()) {
            Some(v) => Ok(Some(self.seal(v)?)),
            None => Ok(None),
        }
    }

    /// [`Sealer::open`] of an optional column.
    pub fn open_opt(&self, field: &str, stored: Option<String>) -> Result<Option<String>> {
        match stored {
            Some(s) => Ok(Some(self.open(field, &s)?)),
            None => Ok(None),
        }
    }

    /// [`Sealer::index`] of an optional value.
    pub fn index_opt(&self, value: Option<&str>) -> Result<Option<String>> {
        match value {
            Some(v) => self.index(v),
            None => Ok(None),
        }
    }
}

/// Where the key file is when `crypto.key_file` is not set: beside an SQLite database
/// (`yiwang.db.data.key`), else `yiwang-data.key` in the working directory.
pub fn default_key_path(database_url: &str) -> PathBuf {
    let url = crate::db::normalize_url(database_url);
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(rest) if !rest.starts_with(":memory:") => {
            let path = rest.split('?').next().unwrap_or(rest);
            PathBuf::from(format!("{path}.data.key"))
        }
        _ => PathBuf::from("yiwang-data.key"),
    }
}

/// A column of personal data a module keeps sealed, for the start-up conversion of rows
/// written before sealing existed ([`seal_plaintext`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub table: &'static str,
    /// The row's key column (`id`).
    pub key: &'static str,
    pub column: &'static str,
    /// The keyed-index column beside it, if the value is searched by.
    pub index: Option<&'static str>,
}

/// Seals every plaintext value of `columns` in place and fills their index columns, in one
/// transaction per column; a value already sealed is left alone, so running it again does
/// nothing. Returns how many values it sealed.
pub async fn seal_plaintext(db: &crate::Db, columns: &[Column]) -> Result<u64> {
    use sqlx::Row;
    let sealer = db.sealer();
    let mut n = 0;
    for c in columns {
        let mut tx = db.begin().await?;
        let rows = sqlx::query(&format!(
            "SELECT {key} AS k, {col} AS v FROM {table} WHERE {col} IS NOT NULL AND {col} <> '' AND {col} NOT LIKE '{PREFIX}%'",
            key = c.key,
            col = c.column,
            table = c.table
        ))
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let k: i64 = r.get("k");
            let v: String = r.get("v");
            let sealed = sealer.seal(&v)?;
            match c.index {
                Some(ix) => {
                    sqlx::query(&format!(
                        "UPDATE {} SET {} = $1, {ix} = $2 WHERE {} = $3",
                        c.table, c.column, c.key
                    ))
                    .bind(&sealed)
                    .bind(sealer.index(&v)?)
                    .bind(k)
                    .execute(&mut *tx)
                    .await?
                }
                None => {
                    sqlx::query(&format!(
                        "UPDATE {} SET {} = $1 WHERE {} = $2",
                        c.table, c.column, c.key
                    ))
                    .bind(&sealed)
                    .bind(k)
                    .execute(&mut *tx)
                    .await?
                }
            };
            n += 1;
        }
        tx.commit().await?;
    }
    if n > 0 {
        tracing::info!(values = n, "sealed plaintext personal data at rest");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_indexes() {
        let (s, _) = Sealer::generate();
        let a = s.seal("13800138000").unwrap();
        let b = s.seal("13800138000").unwrap();
        assert!(a.starts_with(PREFIX));
        assert_ne!(a, b, "a random IV per value");
        assert!(!a.contains("13800138000"));
        assert_eq!(s.open("t.phone", &a).unwrap(), "13800138000");
        assert_eq!(
            s.index(" 11010519491231002x").unwrap(),
            s.index("11010519491231002X").unwrap()
        );
        assert_ne!(
            s.index("13800138000").unwrap(),
            s.index("13800138001").unwrap()
        );
        assert_eq!(s.seal("").unwrap(), "");
        assert_eq!(s.index("  ").unwrap(), None);
    }

    #[test]
    fn tampering_and_other_keys_are_detected() {
        let (s, _) = Sealer::generate();
        let sealed = s.seal("11010519491231002X").unwrap();
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&sealed[PREFIX.len()..])
            .unwrap();
        raw[17] ^= 1;
        let tampered = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&raw)
        );
        let e = s.open("org_users.id_card", &tampered).unwrap_err();
        assert!(format!("{e:?}").contains("org_users.id_card"), "{e:?}");
        assert!(
            s.open("x", "11010519491231002X").is_err(),
            "plaintext is refused"
        );
        assert!(s.open("x", "sm4:1:!!").is_err());
        let (other, _) = Sealer::generate();
        assert!(other.open("x", &sealed).is_err());
        assert_ne!(other.index("a").unwrap(), s.index("a").unwrap());
        assert!(Sealer::unconfigured().seal("1").is_err());
        assert_eq!(format!("{s:?}"), "Sealer(…)");
    }

    #[test]
    fn key_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let (a, made) = Sealer::load_or_create(&p).unwrap();
        assert!(made);
        let (b, made) = Sealer::load_or_create(&p).unwrap();
        assert!(!made);
        assert_eq!(b.open("x", &a.seal("abc").unwrap()).unwrap(), "abc");
        std::fs::write(&p, "abcd").unwrap();
        assert!(Sealer::load(&p).is_err());
        assert_eq!(
            default_key_path("sqlite:///tmp/y.db?mode=rwc"),
            PathBuf::from("/tmp/y.db.data.key")
        );
        assert_eq!(
            default_key_path("postgres://x/y"),
            PathBuf::from("yiwang-data.key")
        );
    }
}
