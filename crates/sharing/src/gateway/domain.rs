//! The call log's records and chain, pure.

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

pub use kernel::audit::GENESIS;

/// One call as logged (and as written, one JSON line each, to a month's archive file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    pub seq: i64,
    /// YYYYMM, China time: the archive unit.
    pub month: i64,
    pub at: i64,
    /// `user:12` (the token's owner).
    pub caller: String,
    pub consumer_dept_id: Option<i64>,
    pub system: String,
    pub grant_id: Option<i64>,
    pub resource_id: Option<i64>,
    pub resource_code: String,
    /// The fields served.
    pub fields: Vec<String>,
    pub row_count: i64,
    /// SM3 of the request line (method, path, query).
    pub request_hash: String,
    /// SM3 of the body served (of the problem document for a refusal).
    pub response_hash: String,
    /// `ok`, or the refusal's code (`grant_expired`, `grant_revoked`, `rate_limited`, …).
    pub result: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Call {
    /// The bytes hashed: every field but the hashes, canonical JSON (keys sorted, as
    /// `kernel::audit::canonical_json` writes it).
    pub fn canonical(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_canonical(&mut out);
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// [`Call::canonical`] written straight into `out`, keys in sorted order: verification
    /// hashes millions of calls, and building a `serde_json::Value` for each was most of its
    /// time. The test `canonical_is_the_audit_chains` holds it to the generic writer.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        fn int(out: &mut Vec<u8>, key: &str, v: Option<i64>) {
            out.extend_from_slice(key.as_bytes());
            match v {
                Some(v) => {
                    use std::io::Write;
                    write!(out, "{v}").expect("writes to a Vec");
                }
                None => out.extend_from_slice(b"null"),
            }
        }
        fn text(out: &mut Vec<u8>, key: &str, v: &str) {
            out.extend_from_slice(key.as_bytes());
            serde_json::to_writer(&mut *out, v).expect("string serializes");
        }
        int(out, "{\"at\":", Some(self.at));
        text(out, ",\"caller\":", &self.caller);
        int(out, ",\"consumer_dept_id\":", self.consumer_dept_id);
        out.extend_from_slice(b",\"fields\":[");
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, f).expect("string serializes");
        }
        out.push(b']');
        int(out, ",\"grant_id\":", self.grant_id);
        int(out, ",\"month\":", Some(self.month));
        text(out, ",\"request_hash\":", &self.request_hash);
        text(out, ",\"resource_code\":", &self.resource_code);
        int(out, ",\"resource_id\":", self.resource_id);
        text(out, ",\"response_hash\":", &self.response_hash);
        text(out, ",\"result\":", &self.result);
        int(out, ",\"row_count\":", Some(self.row_count));
        int(out, ",\"seq\":", Some(self.seq));
        text(out, ",\"system\":", &self.system);
        out.push(b'}');
    }

    /// SM3(prev_hash ‖ canonical), as the audit chain.
    pub fn chained_hash(&self) -> String {
        let mut buf = Vec::with_capacity(512);
        self.write_canonical(&mut buf);
        let mut h = Sm3::new();
        h.update(self.prev_hash.as_bytes());
        h.update(&buf);
        hex::encode(h.finalize())
    }
}

pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// YYYYMM of a time, China time.
pub fn month_of(ms: i64) -> i64 {
    use chrono::Datelike;
    let t = kernel::clock::to_china(ms);
    t.year() as i64 * 100 + t.month() as i64
}

/// The first broken call of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BrokenCall {
    pub seq: i64,
    /// YYYYMM of the broken call, when the row could be read; for an archived call, the
    /// archive's month.
    pub month: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallVerification {
    /// Calls checked (in the table, or in the archive files for an archive verification).
    pub calls: i64,
    /// The seq the check started from: 1, or the first call after the archived months.
    pub from_seq: i64,
    /// Calls moved to archive files (before `from_seq`).
    pub archived: i64,
    pub head_hash: String,
    pub first_broken: Option<BrokenCall>,
}

/// Walks a chain one call after the other: the seq follows, the link holds, the hash is the
/// content's. The table's, the archiver's and the archive files' checks are this one.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    /// The seq the next call must have.
    pub expected: i64,
    /// The hash the next call must link to.
    pub prev: String,
}

impl ChainWalk {
    pub fn new(expected: i64, prev: impl Into<String>) -> Self {
        ChainWalk {
            expected,
            prev: prev.into(),
        }
    }

    /// Checks the next call; on success moves past it, else says why (zh-CN).
    pub fn step(&mut self, call: &Call) -> Result<(), String> {
        if call.seq != self.expected {
            return Err(format!(
                "调用记录 {} 缺失（下一条为 {}）",
                self.expected, call.seq
            ));
        }
        if call.prev_hash != self.prev {
            return Err("prev_hash 与上一条调用记录的哈希不一致".into());
        }
        if call.chained_hash() != call.hash {
            return Err("内容与哈希不符（调用记录被改动）".into());
        }
        self.prev.clone_from(&call.hash);
        self.expected += 1;
        Ok(())
    }
}

/// What is known of an archived month, in the database and in the manifest beside its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchivedMonth {
    /// YYYYMM.
    pub month: i64,
    pub rows: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// The hash the month's first call links to (the previous month's last).
    pub prev_hash: String,
    /// The month's last call's hash: the boundary the table's first remaining call links to.
    pub last_hash: String,
    /// The file's name in the archive folder.
    pub file: String,
    /// SM3 of the file's bytes, hex.
    pub sm3: String,
}

/// The archive file and manifest names of a month.
pub fn archive_names(month: i64) -> (String, String) {
    (
        format!("sharing-calls-{month}.jsonl"),
        format!("sharing-calls-{month}.manifest.json"),
    )
}

/// A YYYYMM as typed (`202601`), checked.
pub fn parse_month(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m: i64 = s.parse().ok()?;
    (m / 100 >= 1970 && (1..=12).contains(&(m % 100))).then_some(m)
}

/// The month before a YYYYMM.
pub fn previous_month(m: i64) -> i64 {
    if m % 100 == 1 {
        (m / 100 - 1) * 100 + 12
    } else {
        m - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_covers_every_field() {
        let c = Call {
            seq: 1,
            month: 202612,
            at: 5,
            caller: "user:1".into(),
            consumer_dept_id: Some(2),
            system: "s".into(),
            grant_id: Some(3),
            resource_id: Some(4),
            resource_code: "A1-000001.1".into(),
            fields: vec!["a".into()],
            row_count: 7,
            request_hash: "r".into(),
            response_hash: "p".into(),
            result: "ok".into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let h = c.chained_hash();
        let mut d = c.clone();
        d.row_count = 8;
        assert_ne!(d.chained_hash(), h);
        let mut d = c.clone();
        d.fields = vec!["b".into()];
        assert_ne!(d.chained_hash(), h);
        assert_eq!(month_of(1_780_000_000_000), 202605);
    }

    /// The canonical form before it was written by hand: the generic canonical JSON of a
    /// `serde_json::Value`. Stored chains were hashed over it, so the two must never differ.
    fn generic_canonical(c: &Call) -> String {
        let v = json!({
            "seq": c.seq, "month": c.month, "at": c.at, "caller": c.caller,
            "consumer_dept_id": c.consumer_dept_id, "system": c.system,
            "grant_id": c.grant_id, "resource_id": c.resource_id,
            "resource_code": c.resource_code, "fields": c.fields,
            "row_count": c.row_count, "request_hash": c.request_hash,
            "response_hash": c.response_hash, "result": c.result,
        });
        let mut s = String::new();
        kernel::audit::canonical_json(&v, &mut s);
        s
    }

    #[test]
    fn canonical_is_the_audit_chains() {
        let mut c = Call {
            seq: i64::MAX,
            month: 202612,
            at: -5,
            caller: "user:\"1\"\\\n\u{1}民政".into(),
            consumer_dept_id: None,
            system: "救助系统\t<>&'".into(),
            grant_id: None,
            resource_id: Some(0),
            resource_code: "A1-000001.1".into(),
            fields: vec![],
            row_count: 0,
            request_hash: String::new(),
            response_hash: "p".into(),
            result: "ok".into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        assert_eq!(c.canonical(), generic_canonical(&c));
        c.fields = vec!["a".into(), "姓\"名".into()];
        c.consumer_dept_id = Some(-3);
        c.grant_id = Some(9);
        assert_eq!(c.canonical(), generic_canonical(&c));
        assert_eq!(
            c.chained_hash(),
            kernel::audit::chain_hash(&c.prev_hash, &generic_canonical(&c))
        );
    }

    #[test]
    fn months_are_parsed_and_walked_back() {
        assert_eq!(parse_month("202601"), Some(202601));
        assert_eq!(parse_month(" 202612 "), Some(202612));
        for bad in ["202613", "202600", "2026-01", "20261", "abcdef", "196912"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
        assert_eq!(previous_month(202601), 202512);
        assert_eq!(previous_month(202607), 202606);
    }
}
