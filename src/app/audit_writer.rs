//! Group commit for audit rows: one writer task takes every row queued while
//! the previous transaction was committing and stores them in one
//! transaction, so concurrent requests share commits. Each caller waits for
//! its own row to be durable before it replies.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, ErrorReason};
use crate::storage::audit::{self, AppendOutcome, AuditRow};

/// Most rows in one transaction.
const MAX_GROUP: usize = 1_000;
/// Rows that may wait for the writer; callers beyond it wait to enqueue.
const QUEUE: usize = 4_096;

/// Err(true): the database is unavailable, retry; Err(false): a bug.
type Reply = oneshot::Sender<Result<AppendOutcome, bool>>;

/// Handle to the writer task.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<(AuditRow, Reply)>,
}

impl AuditWriter {
    /// Starts the writer; it stops when every handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        let (queue, mut rows) = mpsc::channel::<(AuditRow, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(MAX_GROUP);
            while rows.recv_many(&mut group, MAX_GROUP).await > 0 {
                let (batch, replies): (Vec<AuditRow>, Vec<Reply>) = group.drain(..).unzip();
                match audit::append(&pool, &batch).await {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(Ok(outcome));
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, rows = batch.len(), "audit group commit failed");
                        let retryable = matches!(error, AppError::Unavailable { .. });
                        for reply in replies {
                            let _ = reply.send(Err(retryable));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Stores `row`; returns once it is durable (or refused).
    pub async fn append(&self, row: AuditRow) -> Result<AppendOutcome, AppError> {
        let unavailable = |message: &str| AppError::Unavailable {
            reason: ErrorReason::DatabaseUnavailable,
            message: message.to_owned(),
        };
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send((row, reply))
            .await
            .map_err(|_| unavailable("the audit writer has stopped"))?;
        outcome
            .await
            .map_err(|_| unavailable("the audit writer has stopped"))?
            .map_err(|retryable| {
                if retryable {
                    unavailable("the decision could not be stored; retry with the same request_id")
                } else {
                    AppError::internal("storing the decision failed")
                }
            })
    }
}
