//! Abuse protection for the public portal: a per-address sliding-window limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sliding-window limit per key (the client's address). Kept in the router that owns it, so
/// each server instance limits on its own; enough against a script hammering one instance.
pub struct RateLimiter {
    window: Duration,
    max: usize,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Arc<Self> {
        Arc::new(RateLimiter {
            window,
            max,
            hits: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one hit for `key` at `now`; refused (with the seconds to wait) beyond `max` in
    /// the window. Refused hits are not counted, so waiting out the window always helps.
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        // Forget idle addresses now and then so the map cannot grow without bound.
        if hits.len() > 10_000 {
            hits.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = hits.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = *q.front().expect("non-empty");
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_refuses_beyond_the_window_and_recovers() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(l.hit("1.2.3.4", t0).is_ok());
        assert!(l.hit("1.2.3.4", t0 + Duration::from_secs(1)).is_ok());
        let wait = l.hit("1.2.3.4", t0 + Duration::from_secs(2)).unwrap_err();
        assert_eq!(wait, 58);
        // Another address is not affected.
        assert!(l.hit("5.6.7.8", t0 + Duration::from_secs(2)).is_ok());
        // After the window the first hit has expired.
        let later = t0 + Duration::from_millis(60_500);
        assert!(l.hit("1.2.3.4", later).is_ok());
        // The hit at t0+1 s still counts, so the window is full again.
        assert_eq!(l.hit("1.2.3.4", later), Err(1));
    }
}
