//! Group commit for audit rows: the writer takes every row queued while the
//! previous transaction was committing and stores them in one transaction,
//! so concurrent requests share commits. Each caller waits for its own row
//! to be durable before it replies.

use sqlx::PgPool;

use crate::app::batcher::{Batcher, BatcherSettings};
use crate::error::AppError;
use crate::storage::audit::{self, AppendOutcome, AuditRow};

/// One transaction at a time, at most 1,000 rows each.
const SETTINGS: BatcherSettings = BatcherSettings {
    max_batch: 1_000,
    queue: 4_096,
    in_flight: 1,
    name: "audit writer",
    retry_message: "the decision could not be stored; retry with the same request_id",
};

/// Handle to the writer task.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    batcher: Batcher<AuditRow, AppendOutcome>,
}

impl AuditWriter {
    /// Starts the writer; it stops when every handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        Self {
            batcher: Batcher::spawn(SETTINGS, move |rows: Vec<AuditRow>| {
                let pool = pool.clone();
                async move { audit::append(&pool, &rows).await }
            }),
        }
    }

    /// Stores `row`; returns once it is durable (or refused).
    pub async fn append(&self, row: AuditRow) -> Result<AppendOutcome, AppError> {
        self.batcher.call(row).await
    }
}
