//! The pipeline of one stream: the inputs read into a bounded queue, the
//! evaluator deciding chunks (one history query per chunk), the writer
//! committing each chunk in one transaction (member locks and history
//! re-check, compare-and-set on the durable sequence, isolation of refused
//! items) and sending its results, then a checkpoint.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use futures::{Stream, StreamExt as _};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::sequence_gate::{Admission, SequenceGate};
use super::{BatchInput, BatchOutput, BatchRow, BatchValidator, ItemResult, OpenedBatch, as_u64};
use crate::app::audit_writer::lock_and_recheck;
use crate::app::decision::{Origin, PendingDecision};
use crate::app::metrics;
use crate::domain::batch_state::BatchState;
use crate::domain::claim::{Claim, PriorClaim};
use crate::error::{AppError, ErrorReason};
use crate::storage::audit::BatchItemKey;
use crate::storage::batches::{self, ItemRow, StoredItemError};
use crate::storage::{self, WriteError, audit};

/// Most items evaluated and committed together.
const MAX_CHUNK: usize = 500;
/// Chunks evaluated but not yet committed.
const CHUNKS_IN_FLIGHT: usize = 2;
/// Items read ahead of the pipeline; when full, the input stream is not
/// polled and HTTP/2 flow control holds the client back.
const INPUT_QUEUE: usize = 1_024;
/// Outputs waiting for a slow client; when full, the pipeline stops.
const OUTPUT_QUEUE: usize = 1_024;

/// Moves the front door's inputs into the pipeline's bounded queue until
/// the batch ends (End or a protocol error), the inputs end (the client
/// broke the stream: the closed queue says so) or `stop`.
async fn read_inputs(
    inputs: impl Stream<Item = BatchInput> + Send + 'static,
    queue: mpsc::Sender<BatchInput>,
    stop: CancellationToken,
) {
    let mut inputs = std::pin::pin!(inputs);
    loop {
        let input = tokio::select! {
            () = stop.cancelled() => return,
            input = inputs.next() => input,
        };
        let Some(input) = input else { return };
        let last = matches!(
            input,
            BatchInput::End | BatchInput::Invalid(_) | BatchInput::Idle { .. }
        );
        if queue.send(input).await.is_err() || last {
            return;
        }
    }
}

/// How the evaluator ended.
enum Ending {
    /// The client ended the batch.
    Complete,
    /// The stream ends with an error after the chunks before it.
    Failed(AppError),
    /// The server is shutting down.
    ShuttingDown,
    /// The client sent nothing for this long.
    Idle(std::time::Duration),
    /// The client went away: nothing more can be sent.
    Disconnected,
}

/// One decided item of a chunk, on its way to the writer.
struct ChunkItem {
    sequence: u64,
    correlation_id: String,
    create_time: chrono::DateTime<chrono::Utc>,
    outcome: Result<PendingDecision, AppError>,
}

impl ChunkItem {
    /// The item as `storage::batches` stores it.
    fn row(&self) -> Result<ItemRow<'_>, AppError> {
        let (record, error) = match &self.outcome {
            Ok(pending) => (Some(&pending.row), None),
            Err(error) => (
                None,
                Some(
                    serde_json::to_string(&StoredItemError::of(error))
                        .map_err(AppError::internal)?,
                ),
            ),
        };
        Ok(ItemRow {
            sequence: i64::try_from(self.sequence).unwrap_or(i64::MAX),
            correlation_id: &self.correlation_id,
            record,
            error,
            create_time: self.create_time,
        })
    }

    /// A refused item becomes an item error; if it is one already, its
    /// correlation id is what was refused and is dropped. False when there
    /// is nothing left to drop.
    fn refused(&mut self, refusal: crate::storage::Refusal) -> bool {
        if self.outcome.is_ok() {
            self.outcome = Err(refusal.into_error());
            true
        } else if !self.correlation_id.is_empty() {
            self.correlation_id.clear();
            true
        } else {
            false
        }
    }

    fn into_output(self) -> BatchOutput {
        BatchOutput::Item(ItemResult {
            sequence: self.sequence,
            correlation_id: self.correlation_id,
            outcome: self.outcome.map(|pending| pending.decision),
        })
    }
}

enum ToWriter {
    Chunk(Vec<ChunkItem>),
    End(Ending),
}

impl BatchValidator {
    /// Runs one stream of an opened batch: `inputs` (the front door's
    /// reading of the client's messages, in order; the stream ends early
    /// when the client breaks it) through the pipeline. The outputs are
    /// the results, item errors and checkpoints in sequence order, then a
    /// summary, or an error. They stop when the batch ends, the client goes
    /// away or `stop` is cancelled (then a final checkpoint and
    /// UNAVAILABLE). The front door builds no channels: every queue is here
    /// and bounded.
    pub fn stream(
        self: &Arc<Self>,
        opened: OpenedBatch,
        submitter: String,
        inputs: impl Stream<Item = BatchInput> + Send + 'static,
        stop: CancellationToken,
    ) -> ReceiverStream<BatchOutput> {
        let (to_pipeline, received) = mpsc::channel(INPUT_QUEUE);
        let (outputs, sent) = mpsc::channel(OUTPUT_QUEUE);
        tokio::spawn(read_inputs(inputs, to_pipeline, stop.clone()));
        let (to_writer, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let durable = Arc::new(AtomicI64::new(opened.batch.durable_through_sequence));
        let writer = tokio::spawn(Arc::clone(self).write(
            opened.batch.clone(),
            chunks,
            outputs,
            Arc::clone(&durable),
        ));
        let this = Arc::clone(self);
        tokio::spawn(async move {
            this.evaluate(opened, submitter, received, to_writer, durable, stop)
                .await;
            let _ = writer.await;
        });
        ReceiverStream::new(sent)
    }

    async fn evaluate(
        &self,
        opened: OpenedBatch,
        submitter: String,
        mut inputs: mpsc::Receiver<BatchInput>,
        to_writer: mpsc::Sender<ToWriter>,
        durable: Arc<AtomicI64>,
        stop: CancellationToken,
    ) {
        let batch_id = opened.batch.batch_id;
        let mut gate = SequenceGate::new(
            opened.next_expected_sequence,
            opened.batch.expected_item_count.map(as_u64),
            opened.batch.state == BatchState::Completed,
        );
        let mut recent = RecentClaims::default();
        let mut received = Vec::with_capacity(MAX_CHUNK);
        loop {
            let mut ending = None;
            let count = tokio::select! {
                biased;
                () = stop.cancelled() => 0,
                count = inputs.recv_many(&mut received, MAX_CHUNK) => count,
            };
            if count == 0 {
                ending = Some(if stop.is_cancelled() {
                    Ending::ShuttingDown
                } else {
                    Ending::Disconnected
                });
            }
            let mut items = Vec::with_capacity(received.len());
            for input in received.drain(..) {
                match input {
                    BatchInput::Item {
                        sequence,
                        correlation_id,
                        claim,
                    } => match gate.admit(sequence) {
                        Admission::Take => items.push((sequence, correlation_id, *claim)),
                        Admission::Skip => {}
                        Admission::Refuse(error) => {
                            ending = Some(Ending::Failed(error));
                            break;
                        }
                    },
                    BatchInput::End => {
                        ending = Some(Ending::Complete);
                        break;
                    }
                    BatchInput::Invalid(error) => {
                        ending = Some(Ending::Failed(error));
                        break;
                    }
                    BatchInput::Idle { after } => {
                        ending = Some(Ending::Idle(after));
                        break;
                    }
                }
            }
            if !items.is_empty() {
                recent.forget_through(durable.load(Ordering::Acquire));
                let message = match self
                    .decide_chunk(batch_id, &submitter, items, &mut recent)
                    .await
                {
                    Ok(chunk) => ToWriter::Chunk(chunk),
                    Err(error) => {
                        let _ = to_writer.send(ToWriter::End(Ending::Failed(error))).await;
                        return;
                    }
                };
                if to_writer.send(message).await.is_err() {
                    return;
                }
            }
            if let Some(ending) = ending {
                let _ = to_writer.send(ToWriter::End(ending)).await;
                return;
            }
        }
    }

    /// Decides a chunk: one history query for every member in it, plus the
    /// claims of this stream not yet known to be stored.
    async fn decide_chunk(
        &self,
        batch_id: Uuid,
        submitter: &str,
        items: Vec<(u64, String, Result<Claim, AppError>)>,
        recent: &mut RecentClaims,
    ) -> Result<Vec<ChunkItem>, AppError> {
        let mut prepared = Vec::with_capacity(items.len());
        for (sequence, correlation_id, claim) in items {
            let claim = match claim {
                Ok(claim) => Ok(self.validator.prepare(claim)?),
                Err(error) => Err(error),
            };
            prepared.push((sequence, correlation_id, claim));
        }
        let lookups: Vec<(usize, audit::HistoryQuery)> = prepared
            .iter()
            .enumerate()
            .filter_map(|(i, (_, _, p))| Some((i, p.as_ref().ok()?.history_query()?)))
            .collect();
        let mut stored_history: HashMap<usize, Vec<PriorClaim>> = HashMap::new();
        if !lookups.is_empty() {
            let queries: Vec<audit::HistoryQuery> =
                lookups.iter().map(|(_, q)| q.clone()).collect();
            let histories = self.validator.histories(queries).await?;
            stored_history.extend(lookups.iter().map(|(i, _)| *i).zip(histories));
        }
        let snapshot = self.validator.catalog().snapshot();
        let last = prepared
            .last()
            .map_or(-1, |(s, _, _)| i64::try_from(*s).unwrap_or(i64::MAX));
        let mut chunk_claims = ClaimsByMember::new();
        let mut chunk = Vec::with_capacity(prepared.len());
        for (i, (sequence, correlation_id, claim)) in prepared.into_iter().enumerate() {
            let create_time = chrono::Utc::now();
            let outcome = match claim {
                Err(error) => Err(error),
                Ok(claim) => {
                    let prior = claim.as_prior();
                    let mut history = stored_history.remove(&i).unwrap_or_default();
                    if let Some((hash, _)) = &prior {
                        history.extend(recent.of(hash).cloned());
                        history.extend(chunk_claims.get(hash).into_iter().flatten().cloned());
                    }
                    let pending = self.validator.decide(
                        &snapshot,
                        claim,
                        history,
                        Origin::BatchItem(BatchItemKey {
                            batch_id,
                            sequence: i64::try_from(sequence).unwrap_or(i64::MAX),
                        }),
                        submitter,
                    )?;
                    if pending.decision.disposition.is_accepted()
                        && let Some((hash, prior)) = prior
                    {
                        chunk_claims.entry(hash).or_default().push(prior);
                    }
                    Ok(pending)
                }
            };
            chunk.push(ChunkItem {
                sequence,
                correlation_id,
                create_time,
                outcome,
            });
        }
        recent.remember(last, chunk_claims);
        Ok(chunk)
    }

    /// Stores part of a chunk in one transaction: the member locks and the
    /// history check (as the unary writer does), then the batch's
    /// compare-and-set with the counts, the audit records and the items.
    /// `None` when another stream wrote the batch meanwhile.
    async fn commit_items(
        &self,
        batch_id: Uuid,
        items: &mut [ChunkItem],
    ) -> Result<Option<BatchRow>, WriteError> {
        let mut tx = storage::begin(&self.pool).await?;
        let mut pending: Vec<&mut PendingDecision> = items
            .iter_mut()
            .filter_map(|item| item.outcome.as_mut().ok())
            .collect();
        lock_and_recheck(&mut tx, self.validator.rules(), &mut pending).await?;
        let rows = items
            .iter()
            .map(ChunkItem::row)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(stored) = batches::advance(&mut tx, batch_id, &rows).await? else {
            return Ok(None);
        };
        batches::insert_items(&mut tx, batch_id, &rows).await?;
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// Commits a chunk in sequence order. A part the database refuses for
    /// an item's content is split until the item is found; that item is
    /// stored as an item error instead, and the stream goes on. Results
    /// leave after their part commits, each part followed by a Checkpoint.
    /// Returns how the chunk ended when it did not store.
    async fn commit_chunk(
        &self,
        batch: &mut BatchRow,
        mut items: Vec<ChunkItem>,
        outputs: &mpsc::Sender<BatchOutput>,
        durable: &AtomicI64,
    ) -> Option<Ending> {
        let batch_id = batch.batch_id;
        // Parts are committed front to back, so the one being tried always
        // starts at the front of what is left of `items`.
        let mut parts = VecDeque::from([(0, items.len())]);
        while let Some((start, end)) = parts.pop_front() {
            match self.commit_items(batch_id, &mut items[..end - start]).await {
                Ok(Some(stored)) => {
                    ::metrics::counter!(metrics::BATCH_ITEMS).increment((end - start) as u64);
                    *batch = stored;
                    durable.store(batch.durable_through_sequence, Ordering::Release);
                    for item in items.drain(..end - start) {
                        if outputs.send(item.into_output()).await.is_err() {
                            return Some(Ending::Disconnected);
                        }
                    }
                    let checkpoint =
                        BatchOutput::Checkpoint(as_u64(batch.durable_through_sequence));
                    if outputs.send(checkpoint).await.is_err() {
                        return Some(Ending::Disconnected);
                    }
                }
                Ok(None) => {
                    return Some(Ending::Failed(AppError::Aborted {
                        reason: ErrorReason::BatchConcurrentStream,
                        message: "another stream stored items of this batch; resume it".into(),
                    }));
                }
                Err(WriteError::Refused(_)) if end - start > 1 => {
                    let middle = start + (end - start) / 2;
                    parts.push_front((middle, end));
                    parts.push_front((start, middle));
                }
                Err(WriteError::Refused(refusal)) => {
                    tracing::warn!(
                        %batch_id,
                        sequence = items[0].sequence,
                        sqlstate = %refusal.sqlstate,
                        constraint = refusal.constraint.as_deref().unwrap_or(""),
                        table = refusal.table.as_deref().unwrap_or(""),
                        cause = %refusal.message,
                        "the database refused a batch item; it is stored as an item error"
                    );
                    if !items[0].refused(refusal) {
                        return Some(Ending::Failed(AppError::internal(
                            "an item error could not be stored",
                        )));
                    }
                    parts.push_front((start, end));
                }
                Err(WriteError::Failed(error)) => {
                    tracing::warn!(%batch_id, error = ?error, "batch chunk not stored");
                    return Some(Ending::Failed(error));
                }
            }
        }
        None
    }

    async fn write(
        self: Arc<Self>,
        mut batch: BatchRow,
        mut chunks: mpsc::Receiver<ToWriter>,
        outputs: mpsc::Sender<BatchOutput>,
        durable: Arc<AtomicI64>,
    ) {
        let started = Instant::now();
        let batch_id = batch.batch_id;
        while let Some(message) = chunks.recv().await {
            let ending = match message {
                ToWriter::Chunk(items) => {
                    match self
                        .commit_chunk(&mut batch, items, &outputs, &durable)
                        .await
                    {
                        None => continue,
                        Some(ending) => ending,
                    }
                }
                ToWriter::End(ending) => ending,
            };
            let last = match ending {
                Ending::Complete => self.complete(batch, started).await,
                Ending::ShuttingDown | Ending::Idle(_) => {
                    let checkpoint =
                        BatchOutput::Checkpoint(as_u64(batch.durable_through_sequence));
                    if batch.durable_through_sequence >= 0
                        && outputs.send(checkpoint).await.is_err()
                    {
                        return;
                    }
                    BatchOutput::Failed(match ending {
                        Ending::Idle(after) => AppError::DeadlineExceeded {
                            reason: ErrorReason::StreamIdle,
                            message: format!(
                                "the stream sent nothing for {} s; resume the batch from its last checkpoint",
                                after.as_secs()
                            ),
                        },
                        _ => AppError::Unavailable {
                            reason: ErrorReason::ShuttingDown,
                            message:
                                "the server is shutting down; resume the batch on another instance"
                                    .into(),
                        },
                    })
                }
                Ending::Failed(error) => BatchOutput::Failed(error),
                Ending::Disconnected => {
                    tracing::info!(%batch_id, durable_through = batch.durable_through_sequence, "batch client went away");
                    return;
                }
            };
            let _ = outputs.send(last).await;
            return;
        }
    }

    async fn complete(&self, batch: BatchRow, started: Instant) -> BatchOutput {
        let received = batch.durable_through_sequence + 1;
        if let Some(expected) = batch.expected_item_count
            && received != expected
            && batch.state == BatchState::Open
        {
            return BatchOutput::Failed(AppError::FailedPrecondition {
                reason: ErrorReason::BatchIncomplete,
                message: format!(
                    "the batch ended after {received} of the {expected} items its header announced; \
                     resume it and send the rest"
                ),
            });
        }
        let completed = if batch.state == BatchState::Open {
            match batches::complete(&self.pool, batch.batch_id).await {
                Ok(Some(row)) => row,
                Ok(None) => batch,
                Err(error) => return BatchOutput::Failed(error),
            }
        } else {
            batch
        };
        tracing::info!(
            batch_id = %completed.batch_id,
            items = completed.items_received,
            rejected = completed.rejected,
            item_errors = completed.item_errors,
            "batch completed"
        );
        BatchOutput::Summary {
            batch: Box::new(completed),
            elapsed: started.elapsed(),
        }
    }
}

/// Accepted claims of this stream whose chunks may not be committed yet,
/// by member hash, kept per chunk until the writer reports the chunk
/// durable (then the history query finds them). Bounded by the chunks in
/// flight.
#[derive(Default)]
struct RecentClaims {
    /// Per chunk: its last sequence and its accepted claims by member hash.
    chunks: VecDeque<(i64, ClaimsByMember)>,
}

type ClaimsByMember = HashMap<Vec<u8>, Vec<PriorClaim>>;

impl RecentClaims {
    fn forget_through(&mut self, durable: i64) {
        while self
            .chunks
            .front()
            .is_some_and(|(last, _)| *last <= durable)
        {
            self.chunks.pop_front();
        }
    }

    fn remember(&mut self, last: i64, claims: ClaimsByMember) {
        if !claims.is_empty() {
            self.chunks.push_back((last, claims));
        }
    }

    fn of<'a>(&'a self, member_hash: &'a [u8]) -> impl Iterator<Item = &'a PriorClaim> + 'a {
        self.chunks
            .iter()
            .filter_map(move |(_, claims)| claims.get(member_hash))
            .flatten()
    }
}
