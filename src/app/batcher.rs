//! Micro-batching: callers queue single requests; a task takes every request
//! queued while the previous batch ran and handles them with one database
//! statement, so concurrent calls share round trips and commits. Each
//! caller waits for its own answer. The audit writer (group commit) and the
//! history reader are both built on it.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::error::{AppError, ErrorReason};

/// Err(true): the database is unavailable, retry; Err(false): a bug.
type Reply<R> = oneshot::Sender<Result<R, bool>>;

/// How a batcher runs.
#[derive(Debug, Clone, Copy)]
pub struct BatcherSettings {
    /// Most requests in one batch.
    pub max_batch: usize,
    /// Requests that may wait; callers beyond it wait to enqueue.
    pub queue: usize,
    /// Batches handled at once; while all are busy the next batch grows.
    pub in_flight: usize,
    /// What the batch does, for the log.
    pub name: &'static str,
    /// The message a caller gets when its batch failed for want of the
    /// database.
    pub retry_message: &'static str,
}

/// Handle to a batching task; cheap to clone.
#[derive(Debug)]
pub struct Batcher<Q, R> {
    queue: mpsc::Sender<(Q, Reply<R>)>,
    settings: BatcherSettings,
}

impl<Q, R> Clone for Batcher<Q, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            settings: self.settings,
        }
    }
}

fn unavailable(message: &str) -> AppError {
    AppError::Unavailable {
        reason: ErrorReason::DatabaseUnavailable,
        message: message.to_owned(),
    }
}

impl<Q: Send + 'static, R: Send + 'static> Batcher<Q, R> {
    /// Starts the task; `handle` answers a batch with one result per
    /// request, in order. It stops when every handle is dropped.
    pub fn spawn<F, Fut>(settings: BatcherSettings, handle: F) -> Self
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>, AppError>> + Send + 'static,
    {
        let (queue, mut requests) = mpsc::channel::<(Q, Reply<R>)>(settings.queue);
        let in_flight = Arc::new(Semaphore::new(settings.in_flight));
        let handle = Arc::new(handle);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(settings.max_batch);
            // A free slot first, then the requests: while every slot is
            // busy the requests pile up in the queue and make one batch.
            while let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await {
                if requests.recv_many(&mut batch, settings.max_batch).await == 0 {
                    return;
                }
                let (items, replies): (Vec<Q>, Vec<Reply<R>>) = batch.drain(..).unzip();
                let handle = Arc::clone(&handle);
                tokio::spawn(async move {
                    let size = items.len();
                    match handle(items).await {
                        Ok(results) => {
                            for (reply, result) in replies.into_iter().zip(results) {
                                let _ = reply.send(Ok(result));
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, batch = settings.name, size, "batch failed");
                            let retryable = matches!(error, AppError::Unavailable { .. });
                            for reply in replies {
                                let _ = reply.send(Err(retryable));
                            }
                        }
                    }
                    drop(permit);
                });
            }
        });
        Self { queue, settings }
    }

    /// Queues `request` and waits for its answer.
    pub async fn call(&self, request: Q) -> Result<R, AppError> {
        let stopped = || unavailable(&format!("the {} task has stopped", self.settings.name));
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((request, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|retryable| {
            if retryable {
                unavailable(self.settings.retry_message)
            } else {
                AppError::internal(format!("{} failed", self.settings.name))
            }
        })
    }
}
