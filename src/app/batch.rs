//! ValidateClaimBatch: one bidirectional stream per batch, modelled on
//! BigQuery AppendRows (architecture §2.4, §3.2).
//!
//! ```text
//! reader (grpc) ──inputs (bounded)──▶ evaluator ──chunks (bounded)──▶ writer ──outputs (bounded)──▶ client
//!                                    rules, one history         one transaction per chunk,
//!                                    query per chunk            then results + Checkpoint
//! ```
//!
//! Every channel is bounded, so a client that stops reading stalls the
//! writer, then the evaluator, then the reader, and HTTP/2 flow control
//! pushes back on the sender: memory does not grow with the batch. Results
//! leave only after their chunk is committed, in sequence order, each
//! chunk followed by a Checkpoint. The writer is its own task, so a client
//! that goes away never cancels a transaction half way.
//!
//! Exactly once: a chunk commits only if the batch is still durable through
//! the sequence before it (`storage::batches`), and a resumed stream starts
//! at `durable_through_sequence + 1`; resent items below it are skipped.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::audit_writer::lock_and_recheck;
use crate::app::decision::{Decision, Origin, PendingDecision};
use crate::app::page_token;
use crate::app::validate::ClaimValidator;
use crate::domain::claim::{Claim, PriorClaim};
use crate::error::{AppError, ErrorReason, FieldViolation};
use crate::storage::batches::{self, ItemRow};
use crate::storage::{self, WriteError, audit};

pub use crate::storage::batches::BatchRow;

/// Most items evaluated and committed together.
const MAX_CHUNK: usize = 500;
/// Chunks evaluated but not yet committed.
const CHUNKS_IN_FLIGHT: usize = 2;
/// Default and largest ListBatchResults page.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1_000;

/// The header of a stream, as read by the gRPC layer.
#[derive(Debug, Clone)]
pub struct BatchHeader {
    /// The client's batch id.
    pub batch_id: Uuid,
    /// Continue a batch whose stream broke.
    pub resume: bool,
    /// Items the client will send, when known.
    pub expected_item_count: Option<u64>,
}

/// A batch opened (or reopened) for a stream.
#[derive(Debug, Clone)]
pub struct OpenedBatch {
    /// The batch as stored.
    pub batch: BatchRow,
    /// The first sequence this stream must send.
    pub next_expected_sequence: u64,
}

/// What the stream reader hands the pipeline.
#[derive(Debug)]
pub enum BatchInput {
    /// An item; `claim` is the error when it could not be read as a claim.
    Item {
        /// Sequence.
        sequence: u64,
        /// The client's id for the claim.
        correlation_id: String,
        /// The claim, or why it could not be read.
        claim: Box<Result<Claim, AppError>>,
    },
    /// The client ended the batch (BatchEnd or half-close).
    End,
    /// A message that breaks the protocol; the stream ends with this error.
    Invalid(AppError),
}

/// One item's outcome: its decision, or why it was not a readable claim.
#[derive(Debug)]
pub struct ItemResult {
    /// Sequence.
    pub sequence: u64,
    /// The client's id for the claim.
    pub correlation_id: String,
    /// The decision, or the item error.
    pub outcome: Result<Decision, AppError>,
}

/// What the pipeline sends back, in this order per chunk.
#[derive(Debug)]
pub enum BatchOutput {
    /// An item's result.
    Item(ItemResult),
    /// Every item through this sequence is stored.
    Checkpoint(u64),
    /// The batch is complete.
    Summary {
        /// The batch as stored.
        batch: Box<BatchRow>,
        /// How long this stream was open.
        elapsed: Duration,
    },
    /// The stream ends with this error, after everything before it.
    Failed(AppError),
}

/// An item error as stored in `batch_item.error`.
#[derive(Serialize, Deserialize)]
struct StoredItemError {
    message: String,
    violations: Vec<(String, String)>,
}

impl StoredItemError {
    fn of(error: &AppError) -> Self {
        let violations = match error {
            AppError::InvalidArgument { violations, .. } => violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            message: error.to_string(),
            violations,
        }
    }

    fn into_error(self) -> AppError {
        AppError::InvalidArgument {
            reason: ErrorReason::InvalidRequest,
            violations: if self.violations.is_empty() {
                vec![FieldViolation::new("item", self.message)]
            } else {
                self.violations
                    .into_iter()
                    .map(|(field, description)| FieldViolation::new(field, description))
                    .collect()
            },
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

/// Batches: opening, the stream pipeline and the stored results.
pub struct BatchValidator {
    validator: Arc<ClaimValidator>,
    pool: PgPool,
}

fn mismatch(message: String) -> AppError {
    AppError::FailedPrecondition {
        reason: ErrorReason::BatchHeaderMismatch,
        message,
    }
}

fn not_found(batch_id: Uuid) -> AppError {
    AppError::NotFound {
        resource_type: "batch",
        name: format!("batches/{batch_id}"),
    }
}

fn as_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl BatchValidator {
    /// Batches over `validator`, stored through `pool`.
    pub fn new(validator: Arc<ClaimValidator>, pool: PgPool) -> Self {
        Self { validator, pool }
    }

    /// Opens a new batch or reopens a stored one for `submitter`. A stored
    /// batch must match the header: same submitter, same announced count,
    /// the rule set this server runs, and `resume` once items are stored.
    pub async fn open(
        &self,
        header: &BatchHeader,
        submitter: &str,
    ) -> Result<OpenedBatch, AppError> {
        let ruleset = self.validator.rules().version;
        let expected = header
            .expected_item_count
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let (batch, created) =
            batches::open(&self.pool, header.batch_id, submitter, ruleset, expected).await?;
        if !created {
            if batch.submitter != submitter {
                return Err(mismatch(
                    "the batch belongs to another submitter".to_owned(),
                ));
            }
            if let (Some(stored), Some(given)) = (batch.expected_item_count, expected)
                && stored != given
            {
                return Err(mismatch(format!(
                    "the batch was opened with expected_item_count {stored}, not {given}"
                )));
            }
            if batch.ruleset_version != ruleset {
                return Err(mismatch(format!(
                    "the batch was decided with rule set {}; this server runs {ruleset}",
                    batch.ruleset_version
                )));
            }
            if !header.resume && batch.durable_through_sequence >= 0 {
                return Err(mismatch(format!(
                    "the batch exists with {} stored items; reconnect with resume = true",
                    batch.durable_through_sequence + 1
                )));
            }
        }
        tracing::info!(
            batch_id = %batch.batch_id,
            resume = header.resume,
            durable_through = batch.durable_through_sequence,
            "batch stream opened"
        );
        Ok(OpenedBatch {
            next_expected_sequence: as_u64(batch.durable_through_sequence + 1),
            batch,
        })
    }

    /// Runs the pipeline for one stream until the batch ends, the client
    /// goes away or `stop` is cancelled (then a final Checkpoint and
    /// UNAVAILABLE).
    pub fn run(
        self: &Arc<Self>,
        opened: OpenedBatch,
        submitter: String,
        inputs: mpsc::Receiver<BatchInput>,
        outputs: mpsc::Sender<BatchOutput>,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
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
            this.evaluate(opened, submitter, inputs, to_writer, durable, stop)
                .await;
            let _ = writer.await;
        })
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
        let expected = opened.batch.expected_item_count.map(as_u64);
        let completed = opened.batch.state == "completed";
        let mut next = opened.next_expected_sequence;
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
                    BatchInput::Item { sequence, .. } if sequence < next => {}
                    BatchInput::Item { sequence, .. } if sequence > next => {
                        ending = Some(Ending::Failed(AppError::OutOfRange {
                            reason: ErrorReason::SequenceGap,
                            message: format!(
                                "sequence {sequence} received; {next} was expected next"
                            ),
                        }));
                        break;
                    }
                    BatchInput::Item { .. } if completed => {
                        ending = Some(Ending::Failed(AppError::FailedPrecondition {
                            reason: ErrorReason::BatchCompleted,
                            message: "the batch is completed and takes no more items".into(),
                        }));
                        break;
                    }
                    BatchInput::Item { sequence, .. }
                        if expected.is_some_and(|e| sequence >= e) =>
                    {
                        ending = Some(Ending::Failed(AppError::OutOfRange {
                            reason: ErrorReason::SequenceGap,
                            message: format!(
                                "sequence {sequence} is beyond the {} items the header announced",
                                expected.unwrap_or_default()
                            ),
                        }));
                        break;
                    }
                    BatchInput::Item {
                        sequence,
                        correlation_id,
                        claim,
                    } => {
                        items.push((sequence, correlation_id, *claim));
                        next += 1;
                    }
                    BatchInput::End => {
                        ending = Some(Ending::Complete);
                        break;
                    }
                    BatchInput::Invalid(error) => {
                        ending = Some(Ending::Failed(error));
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
            let histories = audit::accepted_histories(&self.pool, &queries).await?;
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
                        Origin::BatchItem(batch_id, i64::try_from(sequence).unwrap_or(i64::MAX)),
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
                Ending::ShuttingDown => {
                    let checkpoint =
                        BatchOutput::Checkpoint(as_u64(batch.durable_through_sequence));
                    if batch.durable_through_sequence >= 0
                        && outputs.send(checkpoint).await.is_err()
                    {
                        return;
                    }
                    BatchOutput::Failed(AppError::Unavailable {
                        reason: ErrorReason::ShuttingDown,
                        message:
                            "the server is shutting down; resume the batch on another instance"
                                .into(),
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
            && batch.state == "open"
        {
            return BatchOutput::Failed(AppError::FailedPrecondition {
                reason: ErrorReason::BatchIncomplete,
                message: format!(
                    "the batch ended after {received} of the {expected} items its header announced; \
                     resume it and send the rest"
                ),
            });
        }
        let completed = if batch.state == "open" {
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

    /// A batch by id.
    pub async fn get(&self, batch_id: Uuid) -> Result<BatchRow, AppError> {
        batches::get(&self.pool, batch_id)
            .await?
            .ok_or_else(|| not_found(batch_id))
    }

    /// A page of a batch's stored results in sequence order, and whether
    /// more follow. The transport may send fewer (to stay inside a message
    /// size) and continues after the last one it sent with
    /// [`Self::results_token`].
    pub async fn results(
        &self,
        batch_id: Uuid,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<ItemResult>, bool), AppError> {
        let size = page_token::page_size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let after: i64 =
            page_token::decode(page_token, &("ListBatchResults", batch_id))?.unwrap_or(-1);
        self.get(batch_id).await?;
        let limit = i64::try_from(size).unwrap_or(i64::MAX);
        let items = batches::items(&self.pool, batch_id, after, limit + 1).await?;
        let more = items.len() > size;
        let mut results = Vec::with_capacity(size);
        for item in items.into_iter().take(size) {
            let sequence = as_u64(item.sequence);
            let outcome = match (item.decision(), item.error) {
                (Some(decision), _) => Ok(Decision::from_stored(decision)?),
                (None, Some(error)) => Err(serde_json::from_value::<StoredItemError>(error)
                    .map_err(AppError::internal)?
                    .into_error()),
                (None, None) => {
                    return Err(AppError::internal("batch item without result or error"));
                }
            };
            results.push(ItemResult {
                sequence,
                correlation_id: item.correlation_id,
                outcome,
            });
        }
        Ok((results, more))
    }

    /// The token of the page after sequence `last` of `batch_id`.
    pub fn results_token(batch_id: Uuid, last: u64) -> String {
        page_token::encode(
            &("ListBatchResults", batch_id),
            &i64::try_from(last).unwrap_or(i64::MAX),
        )
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
