//! ValidateClaimBatch: one bidirectional stream per batch, modelled on
//! BigQuery's AppendRows. `open` opens or reopens a batch, `pipeline` runs
//! a stream ([`BatchValidator::stream`] is the one entry point), `results`
//! reads the stored batch back, and `sequence_gate` holds the sequence rules.
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

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::app::decision::Decision;
use crate::app::validate::ClaimValidator;
use crate::domain::claim::Claim;
use crate::error::{AppError, ErrorReason};

pub use crate::storage::batches::BatchRow;

mod open;
mod pipeline;
mod results;
mod sequence_gate;

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
    /// The client sent nothing for `after` while the server waited: the
    /// stream ends after a final checkpoint, resumable.
    Idle {
        /// The idle timeout that passed.
        after: Duration,
    },
}

/// One item's outcome: its decision, or why it was not a readable claim.
#[derive(Debug)]
pub struct ItemResult {
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
}
