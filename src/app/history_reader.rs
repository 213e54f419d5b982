//! Batched history reads for the history edits: every member-history lookup
//! queued while the previous query ran is answered by one query (UNNEST of
//! the lookups joined laterally to the member index), so concurrent
//! ValidateClaim calls share round trips the way their audit rows share
//! commits.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::domain::claim::PriorClaim;
use crate::error::{AppError, ErrorReason};
use crate::storage::audit::{self, HistoryQuery};

/// Most lookups in one query.
const MAX_BATCH: usize = 256;
/// Lookups that may wait; callers beyond it wait to enqueue.
const QUEUE: usize = 4_096;
/// Queries in flight at once; more batches wait, growing the next batch.
const IN_FLIGHT: usize = 4;

const STOPPED: &str = "the history reader has stopped";

type Reply = oneshot::Sender<Result<Vec<PriorClaim>, AppError>>;

/// Handle to the reader task.
#[derive(Debug, Clone)]
pub struct HistoryReader {
    queue: mpsc::Sender<(HistoryQuery, Reply)>,
}

fn unavailable(message: &str) -> AppError {
    AppError::Unavailable {
        reason: ErrorReason::DatabaseUnavailable,
        message: message.to_owned(),
    }
}

impl HistoryReader {
    /// Starts the reader; it stops when every handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        let (queue, mut lookups) = mpsc::channel::<(HistoryQuery, Reply)>(QUEUE);
        let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while lookups.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                    return;
                };
                let (queries, replies): (Vec<HistoryQuery>, Vec<Reply>) = batch.drain(..).unzip();
                let pool = pool.clone();
                tokio::spawn(async move {
                    match audit::accepted_histories(&pool, &queries).await {
                        Ok(histories) => {
                            for (reply, history) in replies.into_iter().zip(histories) {
                                let _ = reply.send(Ok(history));
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, lookups = queries.len(), "history lookup failed");
                            let retryable = matches!(error, AppError::Unavailable { .. });
                            for reply in replies {
                                let _ = reply.send(Err(if retryable {
                                    unavailable("member history cannot be read; retry")
                                } else {
                                    AppError::internal("reading member history failed")
                                }));
                            }
                        }
                    }
                    drop(permit);
                });
            }
        });
        Self { queue }
    }

    /// Earlier accepted decisions of the member that `query` names.
    pub async fn accepted_history(&self, query: HistoryQuery) -> Result<Vec<PriorClaim>, AppError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((query, reply))
            .await
            .map_err(|_| unavailable(STOPPED))?;
        answer.await.map_err(|_| unavailable(STOPPED))?
    }
}
