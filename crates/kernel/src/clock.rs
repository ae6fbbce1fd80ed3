//! Time as yiwang sees it: UTC milliseconds in storage, China Standard Time (UTC+8, no DST) for
//! people. The clock can be frozen or moved by tests, so deadline logic is testable.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, UTC. Stored as BIGINT on every backend.
pub type Millis = i64;

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None` follows the system clock; `Some` is a manual clock for tests and simulations.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock { manual: None }
    }

    pub fn manual(start: Millis) -> Self {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    pub fn now(&self) -> Millis {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => Utc::now().timestamp_millis(),
        }
    }

    /// Moves a manual clock; does nothing to the system clock.
    pub fn advance(&self, ms: i64) {
        if let Some(t) = &self.manual {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }

    pub fn set(&self, at: Millis) {
        if let Some(t) = &self.manual {
            t.store(at, Ordering::SeqCst);
        }
    }
}

pub fn to_china(ms: Millis) -> DateTime<FixedOffset> {
    china()
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(|| china().timestamp_opt(0, 0).unwrap())
}

/// `2025-03-14 09:30` in China time, for pages and reports.
pub fn format_minute(ms: Millis) -> String {
    to_china(ms).format("%Y-%m-%d %H:%M").to_string()
}

/// RFC 3339 with the +08:00 offset, for APIs.
pub fn rfc3339(ms: Millis) -> String {
    to_china(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
