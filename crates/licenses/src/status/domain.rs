//! Bitstring Status List encoding, pure: bit i is the i-th bit from the left of the
//! uncompressed bitstring (the most significant bit of byte i/8 first); the list is GZIP
//! compressed and written as multibase base64url without padding (`u…`).

use base64::Engine;
use std::io::{Read, Write};

/// Entries per list: the W3C minimum for herd privacy (16 KiB of bits).
pub const LIST_SIZE: usize = 131_072;

/// The two purposes every license has an entry for, at the same index.
pub const PURPOSES: [&str; 2] = ["revocation", "suspension"];

/// A bitstring of `size` bits, all clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstring(Vec<u8>);

impl Bitstring {
    pub fn new(size: usize) -> Self {
        Bitstring(vec![0; size.div_ceil(8)])
    }
    pub fn len(&self) -> usize {
        self.0.len() * 8
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn set(&mut self, i: usize) {
        if let Some(b) = self.0.get_mut(i / 8) {
            *b |= 0x80 >> (i % 8);
        }
    }
    pub fn get(&self, i: usize) -> Option<bool> {
        self.0.get(i / 8).map(|b| b & (0x80 >> (i % 8)) != 0)
    }

    /// `u` + base64url(GZIP(bits)).
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&self.0);
        let bytes = gz.finish().unwrap_or_default();
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    pub fn decode(s: &str) -> Result<Bitstring, String> {
        let b64 = s
            .strip_prefix('u')
            .ok_or("encodedList 应以 u 开头（multibase base64url）")?;
        let gz = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| "encodedList 不是合法的 base64url".to_owned())?;
        let mut out = Vec::new();
        // A bomb guard: no list is larger than 16 MiB of bits.
        flate2::read::GzDecoder::new(&gz[..])
            .take(16 << 20)
            .read_to_end(&mut out)
            .map_err(|_| "encodedList 不是合法的 GZIP 数据".to_owned())?;
        Ok(Bitstring(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_msb_first_and_survive_encoding() {
        let mut b = Bitstring::new(LIST_SIZE);
        b.set(0);
        b.set(9);
        b.set(LIST_SIZE - 1);
        assert_eq!(b.0[0], 0x80);
        assert_eq!(b.0[1], 0x40);
        let s = b.encode();
        assert!(s.starts_with('u') && !s.contains('='));
        let d = Bitstring::decode(&s).unwrap();
        assert_eq!(d.len(), LIST_SIZE);
        assert_eq!(d.get(9), Some(true));
        assert_eq!(d.get(10), Some(false));
        assert_eq!(d.get(LIST_SIZE - 1), Some(true));
        assert_eq!(d.get(LIST_SIZE), None);
        assert!(Bitstring::decode("zabc").is_err());
    }
}
