//! The second factor, pure: TOTP codes (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1, 6 digits,
//! 30-second steps), base32 secrets (RFC 4648), the `otpauth://` URI authenticator apps read
//! from the QR code, recovery codes, and the sealing of a secret at rest (SM4-GCM).
//!
//! The algorithm is small and fixed, so it is written here over the RustCrypto `hmac`/`sha1`
//! crates already in the tree rather than through another dependency; the RFC's own test
//! vectors check it below, and `crates/web/tests` checks it against Python's `pyotp`.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// Seconds per time step.
pub const PERIOD: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes given at enrolment (and at each regeneration).
pub const RECOVERY_CODES: usize = 10;
/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "一网";

/// The time step of a moment (UTC milliseconds).
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000).div_euclid(PERIOD)
}

/// HOTP (RFC 4226) of a counter: HMAC-SHA1, dynamic truncation, `digits` decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 10u32.pow(digits)
}

/// The code of a time step, as the six digits people type.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step.max(0) as u64, DIGITS),
        width = DIGITS as usize
    )
}

/// What was typed where a code belongs, checked for shape: spaces and hyphens dropped, then
/// exactly six digits. The error is the zh-CN message for the field.
pub fn parse_code(typed: &str) -> Result<String, &'static str> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if s.is_empty() {
        Err("请输入动态验证码（认证器应用中显示的 6 位数字）")
    } else if !s.chars().all(|c| c.is_ascii_digit()) {
        Err("动态验证码只能是数字")
    } else if s.chars().count() != DIGITS as usize {
        Err("动态验证码应为 6 位数字")
    } else {
        Ok(s)
    }
}

/// The step a typed code (already of the right shape) matches, looking one step either side of
/// `now` (clocks of phones drift) and never at `last_step` or before it: a code once accepted
/// is not accepted again.
pub fn verify(secret: &[u8], code: &str, now_ms: i64, last_step: i64) -> Option<i64> {
    let now = step_of(now_ms);
    (now - 1..=now + 1)
        .filter(|s| *s > last_step)
        .find(|s| constant_time_eq(code_at_step(secret, *s).as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps expect).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | *b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// RFC 4648 base32, case, spaces and padding forgiven; `None` for another character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32
            .iter()
            .position(|x| *x as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The secret in groups of four, as people copy it by hand.
pub fn grouped(b32: &str) -> String {
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key URI authenticator apps read (Google Authenticator's `otpauth://` format).
pub fn otpauth_uri(username: &str, secret_b32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        uri_escape(ISSUER),
        uri_escape(username),
        uri_escape(ISSUER)
    )
}

/// The URI as a QR code, an SVG for the page.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// Recovery codes are ten letters and digits in two groups (`k7m2q-x9d4p`), from an alphabet
/// without look-alikes (no 0/o, 1/l/i); 50 bits each.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789_";

pub fn new_recovery_code(random: &[u8; 10]) -> String {
    let a = &RECOVERY_ALPHABET[..31];
    let s: String = random.iter().map(|b| a[*b as usize % 31] as char).collect();
    format!("{}-{}", &s[..5], &s[5..])
}

/// A typed recovery code in the form it is hashed in (lower case, no spaces); `None` when it
/// cannot be one.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (s.len() == 10 && s.bytes().all(|b| RECOVERY_ALPHABET[..31].contains(&b))).then_some(s)
}

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// The key that seals TOTP secrets at rest: the deployment's master key
/// (`licenses.master_key`, 32 hex characters). org cannot use `licenses::keys::MasterKey`
/// (licenses stands on org), so it seals the same way here — hex(nonce ‖ SM4-GCM(secret,
/// aad = "org-totp:<user id>")), the user id binding a sealed secret to its row.
pub struct SealKey(Zeroizing<[u8; 16]>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

impl SealKey {
    pub fn from_hex(s: &str) -> Option<SealKey> {
        let v = Zeroizing::new(hex::decode(s.trim()).ok()?);
        let arr: [u8; 16] = v.as_slice().try_into().ok()?;
        Some(SealKey(Zeroizing::new(arr)))
    }

    fn aad(user_id: i64) -> String {
        format!("org-totp:{user_id}")
    }

    pub fn seal(&self, user_id: i64, secret: &[u8]) -> String {
        let nonce: [u8; 12] = rand::random();
        let cipher = Sm4Gcm::new_from_slice(&self.0[..]).expect("16-byte key");
        let aad = Self::aad(user_id);
        let ct = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: secret,
                    aad: aad.as_bytes(),
                },
            )
            .expect("SM4-GCM encryption of a short message");
        let mut out = nonce.to_vec();
        out.extend(ct);
        hex::encode(out)
    }

    pub fn open(&self, user_id: i64, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let cipher = Sm4Gcm::new_from_slice(&self.0[..]).expect("16-byte key");
        let nonce: [u8; 12] = bytes[..12].try_into().ok()?;
        let aad = Self::aad(user_id);
        cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &bytes[12..],
                    aad: aad.as_bytes(),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        // RFC 6238 Appendix B, SHA1 rows: the secret is the ASCII "12345678901234567890",
        // codes of 8 digits at the listed Unix times.
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(secret, step_of(t * 1000) as u64, 8), code, "T = {t}");
        }
        // The 6-digit form is the last six digits, zero-padded.
        assert_eq!(code_at_step(secret, step_of(59_000)), "287082");
        assert_eq!(code_at_step(secret, step_of(1_111_111_109_000)), "081804");
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let secret = b"12345678901234567890";
        let expect = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (i, e) in expect.iter().enumerate() {
            assert_eq!(hotp(secret, i as u64, 6), *e);
        }
    }

    #[test]
    fn verify_takes_one_step_either_side_and_never_a_used_step() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_109_000;
        let s = step_of(now);
        assert_eq!(verify(secret, &code_at_step(secret, s), now, 0), Some(s));
        assert_eq!(
            verify(secret, &code_at_step(secret, s - 1), now, 0),
            Some(s - 1)
        );
        assert_eq!(
            verify(secret, &code_at_step(secret, s + 1), now, 0),
            Some(s + 1)
        );
        assert_eq!(verify(secret, &code_at_step(secret, s - 2), now, 0), None);
        assert_eq!(verify(secret, &code_at_step(secret, s + 2), now, 0), None);
        // Used: the same step, or one after it, is over.
        assert_eq!(verify(secret, &code_at_step(secret, s), now, s), None);
        assert_eq!(verify(secret, &code_at_step(secret, s - 1), now, s), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32_encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1W").is_none());
        let b = [7u8; 20];
        assert_eq!(base32_decode(&base32_encode(&b)).unwrap(), b);
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }

    #[test]
    fn the_uri_is_the_standard_one() {
        let u = otpauth_uri("admin", "GEZDGNBV");
        assert_eq!(
            u,
            "otpauth://totp/%E4%B8%80%E7%BD%91:admin?secret=GEZDGNBV&issuer=%E4%B8%80%E7%BD%91&algorithm=SHA1&digits=6&period=30"
        );
        assert!(qr_svg(&u).starts_with("<?xml") || qr_svg(&u).contains("<svg"));
    }

    #[test]
    fn typed_codes_are_checked_for_shape() {
        assert_eq!(parse_code(" 123 456 ").unwrap(), "123456");
        assert!(parse_code("").unwrap_err().contains("请输入"));
        assert!(parse_code("12a456").unwrap_err().contains("数字"));
        assert!(parse_code("12345").unwrap_err().contains("6 位"));
        assert!(parse_code("1234567").unwrap_err().contains("6 位"));
    }

    #[test]
    fn recovery_codes_normalize() {
        let c = new_recovery_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 200]);
        assert_eq!(c.len(), 11);
        assert_eq!(
            normalize_recovery_code(&c.to_uppercase()).unwrap(),
            c.replace('-', "")
        );
        assert!(normalize_recovery_code("abc").is_none());
        assert!(normalize_recovery_code("0000000000").is_none());
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user_and_key() {
        let k = SealKey::from_hex("00112233445566778899aabbccddeeff").unwrap();
        let sealed = k.seal(7, b"12345678901234567890");
        assert!(!sealed.contains(&hex::encode(b"12345678901234567890")));
        assert_eq!(&k.open(7, &sealed).unwrap()[..], b"12345678901234567890");
        assert!(k.open(8, &sealed).is_none());
        let other = SealKey::from_hex("ffeeddccbbaa99887766554433221100").unwrap();
        assert!(other.open(7, &sealed).is_none());
        assert_eq!(format!("{k:?}"), "SealKey(…)");
    }
}
