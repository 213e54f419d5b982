//! Micro-batching: callers queue single requests; a task takes every request
//! queued while the previous batch ran and handles them with one database
//! statement, so concurrent calls share round trips and commits. Each
//! caller waits for its own answer. The audit writer (group commit) and the
//! history reader are both built on it.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::app::metrics;
use crate::error::{AppError, ErrorReason};
use crate::storage::WriteError;

type Reply<R> = oneshot::Sender<Result<R, AppError>>;

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
    /// request, in order, or fails the whole batch (an outage). It stops
    /// when every handle is dropped.
    pub fn spawn<F, Fut>(settings: BatcherSettings, handle: F) -> Self
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Result<R, AppError>>, AppError>> + Send + 'static,
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
                let label = metrics::enabled().then(|| {
                    let label = metrics::batcher_label(settings.name);
                    ::metrics::gauge!(metrics::BATCHER_QUEUE_DEPTH, "batcher" => label.clone())
                        .set(requests.len() as f64);
                    label
                });
                let (items, replies): (Vec<Q>, Vec<Reply<R>>) = batch.drain(..).unzip();
                let handle = Arc::clone(&handle);
                tokio::spawn(async move {
                    let size = items.len();
                    let started = std::time::Instant::now();
                    let outcome = handle(items).await;
                    if let Some(label) = label {
                        ::metrics::histogram!(metrics::BATCHER_BATCH_SIZE, "batcher" => label.clone())
                            .record(size as f64);
                        ::metrics::histogram!(metrics::BATCHER_BATCH_DURATION, "batcher" => label)
                            .record(started.elapsed().as_secs_f64());
                    }
                    match outcome {
                        Ok(results) => {
                            for (reply, result) in replies.into_iter().zip(results) {
                                let _ = reply.send(result);
                            }
                        }
                        Err(error) => {
                            tracing::error!(error = ?error, batch = settings.name, size, "batch failed");
                            let retryable = matches!(error, AppError::Unavailable { .. });
                            for reply in replies {
                                let _ = reply.send(Err(if retryable {
                                    unavailable(settings.retry_message)
                                } else {
                                    AppError::internal(format!("{} failed", settings.name))
                                }));
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
        answer.await.map_err(|_| stopped())?
    }
}

/// Splits a group of items for storing, so that where the database refuses
/// a group for the content of some of its rows only those rows fail and the
/// others never notice: the caller stores each [`next_group`](Self::next_group)
/// and reports it with [`settle`](Self::settle); a refused group is split in
/// halves and tried again. An outage (anything but a refusal) fails what is
/// not stored yet.
///
/// A group that succeeds is tried once; one with k refused rows out of n
/// costs about 2k·log2(n) more attempts, on the failure path only.
pub struct Isolation<R> {
    name: &'static str,
    results: Vec<Option<Result<R, AppError>>>,
    groups: VecDeque<Range<usize>>,
    resolved: bool,
}

impl<R> Isolation<R> {
    /// Isolation over `len` items, first tried as one group.
    pub fn new(name: &'static str, len: usize) -> Self {
        Self {
            name,
            results: (0..len).map(|_| None).collect(),
            groups: std::iter::once(0..len).collect(),
            resolved: false,
        }
    }

    /// The next group to store, in item order.
    pub fn next_group(&mut self) -> Option<Range<usize>> {
        self.groups.pop_front()
    }

    /// Records how storing `group` went. Err only when nothing of the
    /// whole group is stored and it failed for want of the database.
    pub fn settle(
        &mut self,
        group: Range<usize>,
        outcome: Result<Vec<R>, WriteError>,
    ) -> Result<(), AppError> {
        match outcome {
            Ok(stored) => {
                for (slot, result) in self.results[group].iter_mut().zip(stored) {
                    *slot = Some(Ok(result));
                }
                self.resolved = true;
            }
            Err(WriteError::Refused(_)) if group.len() > 1 => {
                let middle = group.start + group.len() / 2;
                self.groups.push_front(middle..group.end);
                self.groups.push_front(group.start..middle);
            }
            Err(WriteError::Refused(refusal)) => {
                tracing::warn!(
                    batch = self.name,
                    sqlstate = %refusal.sqlstate,
                    constraint = refusal.constraint.as_deref().unwrap_or(""),
                    table = refusal.table.as_deref().unwrap_or(""),
                    cause = %refusal.message,
                    "the database refused one row; the rest of its group is stored without it"
                );
                self.results[group.start] = Some(Err(refusal.into_error()));
                self.resolved = true;
            }
            Err(WriteError::Failed(error)) if !self.resolved => return Err(error),
            Err(WriteError::Failed(error)) => {
                tracing::error!(error = ?error, batch = self.name, "group failed after part of it was stored");
                let retryable = matches!(error, AppError::Unavailable { .. });
                for slot in self.results.iter_mut().filter(|slot| slot.is_none()) {
                    *slot = Some(Err(if retryable {
                        unavailable("the database became unavailable; retry")
                    } else {
                        AppError::internal(format!("{} failed", self.name))
                    }));
                }
                self.groups.clear();
            }
        }
        Ok(())
    }

    /// One result per item, in order.
    pub fn finish(self) -> Vec<Result<R, AppError>> {
        self.results
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| Err(AppError::internal("item left unresolved"))))
            .collect()
    }
}
