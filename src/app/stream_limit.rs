//! Per-caller open batch streams: a caller may hold `per_caller` batch
//! streams (ValidateClaimBatch, ValidateInterchange) at once. Each is a
//! pipeline with its own queues and database transactions, so one
//! submitter opening hundreds would take the server from the others. One
//! more is refused with RESOURCE_EXHAUSTED and RetryInfo; the slot frees
//! when the stream ends, however it ends (the permit is dropped with it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::app::metrics;
use crate::error::{AppError, ErrorReason};

/// When a refused caller should try again: streams last minutes, so any
/// sooner would only be refused again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What holds a batch stream in: how many a caller may open, and how long
/// one may send nothing.
#[derive(Clone)]
pub struct StreamLimits {
    /// Open streams per caller.
    pub open: Arc<StreamLimiter>,
    /// How long the server waits for a stream's next message.
    pub idle_timeout: Duration,
}

/// Open streams by submitter.
pub struct StreamLimiter {
    per_caller: usize,
    open: Mutex<HashMap<Arc<str>, usize>>,
}

/// One open stream of a caller; dropping it frees the slot.
pub struct StreamPermit {
    limiter: Arc<StreamLimiter>,
    submitter: Arc<str>,
}

impl StreamLimiter {
    /// `per_caller` streams per submitter; 0 for no limit.
    pub fn new(per_caller: usize) -> Arc<Self> {
        Arc::new(Self {
            per_caller,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more stream of `submitter`, or RESOURCE_EXHAUSTED.
    pub fn open(self: &Arc<Self>, submitter: &Arc<str>) -> Result<StreamPermit, AppError> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| AppError::internal("stream limiter lock poisoned"))?;
        let count = open.entry(Arc::clone(submitter)).or_default();
        if self.per_caller > 0 && *count >= self.per_caller {
            return Err(AppError::ResourceExhausted {
                reason: ErrorReason::TooManyStreams,
                retry_after: RETRY_AFTER,
                message: format!(
                    "this key has {} batch streams open, its limit; finish one first",
                    self.per_caller
                ),
            });
        }
        *count += 1;
        ::metrics::gauge!(metrics::BATCH_STREAMS_OPEN).increment(1);
        Ok(StreamPermit {
            limiter: Arc::clone(self),
            submitter: Arc::clone(submitter),
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        ::metrics::gauge!(metrics::BATCH_STREAMS_OPEN).decrement(1);
        let Ok(mut open) = self.limiter.open.lock() else {
            return;
        };
        if let Some(count) = open.get_mut(&self.submitter) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.submitter);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_past_its_streams_waits_for_one_to_end() {
        let limiter = StreamLimiter::new(2);
        let (busy, calm): (Arc<str>, Arc<str>) = (Arc::from("busy"), Arc::from("calm"));
        let first = limiter.open(&busy).expect("first");
        let _second = limiter.open(&busy).expect("second");
        let refused = limiter.open(&busy).err().expect("third refused");
        assert!(matches!(
            refused,
            AppError::ResourceExhausted {
                reason: ErrorReason::TooManyStreams,
                retry_after,
                ..
            } if !retry_after.is_zero()
        ));
        limiter
            .open(&calm)
            .expect("another caller has its own slots");
        drop(first);
        limiter
            .open(&busy)
            .expect("a slot freed by the stream that ended");
    }

    #[test]
    fn zero_is_no_limit_and_ended_streams_leave_nothing_behind() {
        let limiter = StreamLimiter::new(0);
        let caller: Arc<str> = Arc::from("caller");
        let permits: Vec<_> = (0..100)
            .map(|_| limiter.open(&caller).expect("open"))
            .collect();
        drop(permits);
        assert!(limiter.open.lock().expect("lock").is_empty());
    }
}
