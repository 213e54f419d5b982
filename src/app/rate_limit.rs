//! Per-caller request rate: a token bucket per submitter, `per_second`
//! tokens a second up to a burst of as many, one token a call (a stream
//! counts once, when it opens). A call without a token is refused with
//! RESOURCE_EXHAUSTED and the wait until the next token as RetryInfo, so
//! one caller's flood never starves the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{AppError, ErrorReason};

/// Where a limiter reads the time (a test passes its own clock).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by submitter.
pub struct RateLimiter {
    per_second: f64,
    buckets: Mutex<HashMap<Arc<str>, Bucket>>,
    clock: Clock,
}

impl RateLimiter {
    /// `per_second` calls a second per submitter, in bursts of as many;
    /// `None` when 0 (no limit).
    pub fn new(per_second: u32, clock: Clock) -> Option<Self> {
        (per_second > 0).then(|| Self {
            per_second: f64::from(per_second),
            buckets: Mutex::new(HashMap::new()),
            clock,
        })
    }

    /// Takes a token for `submitter`, or says how long until there is one.
    pub fn take(&self, submitter: &Arc<str>) -> Result<(), AppError> {
        let now = (self.clock)();
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| AppError::internal("rate limiter lock poisoned"))?;
        let bucket = buckets.entry(Arc::clone(submitter)).or_insert(Bucket {
            tokens: self.per_second,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.per_second);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second);
        Err(AppError::ResourceExhausted {
            reason: ErrorReason::RateLimited,
            retry_after: wait.max(Duration::from_millis(1)),
            message: format!(
                "more than {} calls a second for this key; retry later",
                self.per_second
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_waits_for_the_next_token() {
        let start = Instant::now();
        let now = Arc::new(Mutex::new(start));
        let clock: Clock = {
            let now = Arc::clone(&now);
            Arc::new(move || *now.lock().unwrap())
        };
        let limiter = RateLimiter::new(2, clock).expect("a limit");
        let caller: Arc<str> = Arc::from("clearinghouse-a");
        let other: Arc<str> = Arc::from("clearinghouse-b");
        assert!(limiter.take(&caller).is_ok());
        assert!(limiter.take(&caller).is_ok());
        let Err(AppError::ResourceExhausted { retry_after, .. }) = limiter.take(&caller) else {
            panic!("the third call in the same instant is refused");
        };
        assert_eq!(retry_after, Duration::from_millis(500));
        assert!(
            limiter.take(&other).is_ok(),
            "another caller has its own bucket"
        );
        *now.lock().unwrap() = start + Duration::from_millis(500);
        assert!(limiter.take(&caller).is_ok());
        assert!(limiter.take(&caller).is_err());
        assert!(RateLimiter::new(0, Arc::new(Instant::now)).is_none());
    }
}
