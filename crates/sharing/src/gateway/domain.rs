//! The call log's records and chain, pure.

use serde::Serialize;
use serde_json::json;
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

pub use kernel::audit::GENESIS;

/// One call as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
    /// The bytes hashed: every field but the hashes, canonical JSON.
    pub fn canonical(&self) -> String {
        let v = json!({
            "seq": self.seq, "month": self.month, "at": self.at, "caller": self.caller,
            "consumer_dept_id": self.consumer_dept_id, "system": self.system,
            "grant_id": self.grant_id, "resource_id": self.resource_id,
            "resource_code": self.resource_code, "fields": self.fields,
            "row_count": self.row_count, "request_hash": self.request_hash,
            "response_hash": self.response_hash, "result": self.result,
        });
        let mut s = String::new();
        kernel::audit::canonical_json(&v, &mut s);
        s
    }

    /// SM3(prev_hash ‖ canonical), as the audit chain.
    pub fn chained_hash(&self) -> String {
        kernel::audit::chain_hash(&self.prev_hash, &self.canonical())
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
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallVerification {
    pub calls: i64,
    pub head_hash: String,
    pub first_broken: Option<BrokenCall>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
