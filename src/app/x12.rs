//! ValidateInterchange: an 837P file through the X12 reader, the batch
//! pipeline and back out as a TA1/999 and a 277CA.
//!
//! ```text
//! chunks ─▶ spool file ─▶ pass 1: check (999 verdicts) ─▶ open the batch
//!        ─▶ pass 2: claims of accepted sets ─▶ BatchValidator::stream ─▶ results ─▶ 277CA
//! ```
//!
//! The file is spooled to a temporary file and read twice, each time in
//! constant memory: a transaction set's claims may be scrubbed only once
//! its SE has proved the set whole. The claims go through the batch
//! pipeline (bounded queues, group commits), as one batch per file whose id
//! is derived from the submitter and the interchanges' ISA13s; the
//! sequence is the claim's place among the scrubbed claims and the
//! correlation id its (ISA13, GS06, ST02, ordinal). Sent again with
//! `resume`, the file opens the same batch: claims already durable are
//! answered from the store and only the rest are decided.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::sync::Arc;

use chrono::Utc;
use futures::{Stream, StreamExt as _};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::batch::{BatchHeader, BatchInput, BatchOutput, BatchValidator, ItemResult};
use crate::app::decision::Decision;
use crate::domain::claim::{Claim, X12Origin};
use crate::domain::finding::Severity;
use crate::domain::limits::ClaimLimits;
use crate::error::{AppError, ErrorReason};
use crate::storage;
use crate::x12::ack::{self, ReplyEnvelope};
use crate::x12::ca277::{Ca277Writer, ClaimStatus, StatusMap};
use crate::x12::check::{self, InterchangeReport, X12Claim};
use crate::x12::payers::PayerMap;

/// The largest file accepted.
pub const MAX_INTERCHANGE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Bytes of X12 text per acknowledgement message.
const ACK_PIECE: usize = 512 * 1024;
/// Claims read ahead of the pipeline.
const CLAIM_QUEUE: usize = 1_024;
/// Stored results read per page on resume.
const STORED_PAGE: i32 = 1_000;

/// Which acknowledgement a piece of text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckKind {
    /// The TA1 and 999 reply interchanges.
    Ack999,
    /// The 277CA reply interchanges.
    Ca277,
}

/// One claim's answer.
#[derive(Debug)]
pub struct ClaimOutcome {
    pub claim_id: String,
    pub origin: X12Origin,
    pub outcome: Result<Decision, AppError>,
    /// Stored by an earlier stream of the same file.
    pub from_store: bool,
}

/// The counts of a file.
#[derive(Debug, Clone, Default)]
pub struct IntakeSummary {
    pub batch_id: Option<Uuid>,
    pub interchanges: u32,
    pub transaction_sets: u32,
    pub transaction_sets_rejected: u32,
    pub claims: u64,
    pub claims_accepted: u64,
    pub claims_rejected: u64,
    pub claims_from_store: u64,
}

/// What ValidateInterchange sends back, in order.
#[derive(Debug)]
pub enum IntakeOutput {
    Claim(Box<ClaimOutcome>),
    Acknowledgement {
        kind: AckKind,
        text: String,
        last: bool,
    },
    Summary(IntakeSummary),
    /// The stream ends with this error.
    Failed(AppError),
}

/// A spooled interchange file, deleted when dropped.
pub struct Spool {
    file: tempfile::NamedTempFile,
    bytes: u64,
}

impl Spool {
    /// Writes the chunks of `chunks` to a temporary file.
    pub async fn write(
        mut chunks: impl Stream<Item = Result<Vec<u8>, AppError>> + Unpin,
    ) -> Result<Self, AppError> {
        let mut file = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
        let mut bytes = 0u64;
        {
            let mut out = BufWriter::new(file.as_file_mut());
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                bytes += chunk.len() as u64;
                if bytes > MAX_INTERCHANGE_BYTES {
                    return Err(AppError::invalid_field(
                        "data",
                        format!("an interchange file is at most {MAX_INTERCHANGE_BYTES} bytes"),
                    ));
                }
                out.write_all(&chunk).map_err(AppError::internal)?;
            }
            out.flush().map_err(AppError::internal)?;
        }
        Ok(Self { file, bytes })
    }

    /// The file's size.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn reader(&self) -> Result<impl Read + use<>, AppError> {
        let file = self.file.reopen().map_err(AppError::internal)?;
        Ok(std::io::BufReader::with_capacity(256 * 1024, file))
    }
}

/// X12 interchanges through the batch pipeline.
pub struct X12Intake {
    batches: Arc<BatchValidator>,
    pool: PgPool,
    limits: ClaimLimits,
    payers: PayerMap,
    statuses: StatusMap,
}

/// A claim on its way: what the 277CA needs and what the pipeline takes.
struct Pending {
    sequence: u64,
    status: ClaimStatus,
    origin: X12Origin,
    interchange: usize,
    /// Set on a transaction set's first claim: its submitter and BHT03.
    set_header: Option<(check::Party, String)>,
}

impl X12Intake {
    /// Serves with `batches`, refusing claims beyond `limits`; payer ids
    /// are translated by `payers`, rejections coded by `statuses`.
    pub fn new(
        batches: Arc<BatchValidator>,
        pool: PgPool,
        limits: ClaimLimits,
        payers: PayerMap,
        statuses: StatusMap,
    ) -> Self {
        Self {
            batches,
            pool,
            limits,
            payers,
            statuses,
        }
    }

    /// The rule → STC mapping.
    pub fn statuses(&self) -> &StatusMap {
        &self.statuses
    }

    /// Runs a spooled file; the outputs end with a summary or an error.
    pub fn run(
        self: &Arc<Self>,
        spool: Spool,
        resume: bool,
        submitter: String,
        stop: CancellationToken,
    ) -> ReceiverStream<IntakeOutput> {
        let (outputs, received) = mpsc::channel(64);
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let failed = outputs.clone();
            if let Err(error) = this.process(spool, resume, &submitter, stop, outputs).await {
                let _ = failed.send(IntakeOutput::Failed(error)).await;
            }
        });
        ReceiverStream::new(received)
    }

    async fn process(
        &self,
        spool: Spool,
        resume: bool,
        submitter: &str,
        stop: CancellationToken,
        outputs: mpsc::Sender<IntakeOutput>,
    ) -> Result<(), AppError> {
        let spool = Arc::new(spool);
        let reader = spool.reader()?;
        let mut reports = tokio::task::spawn_blocking(move || check::check(reader))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        let mut summary = IntakeSummary {
            interchanges: reports.len() as u32,
            ..IntakeSummary::default()
        };
        let mut expected = 0u64;
        for (i, report) in reports.iter().enumerate() {
            for (g, group) in report.groups.iter().enumerate() {
                for (s, set) in group.sets.iter().enumerate() {
                    summary.transaction_sets += 1;
                    if check::scrubbed(&reports, i, g, s) {
                        expected += set.claims;
                    } else {
                        summary.transaction_sets_rejected += 1;
                    }
                }
            }
        }
        tracing::info!(
            bytes = spool.bytes(),
            interchanges = reports.len(),
            transaction_sets = summary.transaction_sets,
            rejected = summary.transaction_sets_rejected,
            claims = expected,
            "interchange checked"
        );
        let mut ca277 = None;
        if expected > 0 {
            let batch_id = batch_id(submitter, &reports);
            let header = BatchHeader {
                batch_id,
                resume,
                expected_item_count: Some(expected),
            };
            match self.batches.open(&header, submitter).await {
                Ok(opened) => {
                    summary.batch_id = Some(batch_id);
                    ca277 = self
                        .scrub(
                            Arc::clone(&spool),
                            &reports,
                            opened,
                            submitter,
                            stop,
                            &outputs,
                            &mut summary,
                        )
                        .await?;
                }
                Err(AppError::FailedPrecondition {
                    reason: ErrorReason::BatchHeaderMismatch,
                    message,
                }) if !resume => {
                    // The same interchange control numbers again without
                    // resume: a duplicate interchange, refused whole.
                    tracing::info!(%message, "duplicate interchange refused");
                    for report in &mut reports {
                        report.envelope_error = Some("025");
                    }
                    summary.transaction_sets_rejected = summary.transaction_sets;
                }
                Err(error) => return Err(error),
            }
        }
        let mut text = String::new();
        for report in &reports {
            let groups = if report.envelope_error.is_none() {
                report.groups.len() as u32
            } else {
                0
            };
            let first =
                storage::x12::reserve_control_numbers(&self.pool, submitter, 1 + groups).await?;
            text.push_str(&ack::reply(
                report,
                &ReplyEnvelope {
                    interchange_control_number: first,
                    group_control_number: first + 1,
                    now: Utc::now().naive_utc(),
                },
            ));
        }
        send_text(&outputs, AckKind::Ack999, &text).await?;
        if let Some(file) = ca277 {
            send_file(&outputs, AckKind::Ca277, file).await?;
        }
        let _ = outputs.send(IntakeOutput::Summary(summary)).await;
        Ok(())
    }

    /// Pass 2: the claims of the accepted sets through the pipeline, each
    /// answered and written into the 277CA, which is sent at the end.
    #[allow(clippy::too_many_arguments)]
    async fn scrub(
        &self,
        spool: Arc<Spool>,
        reports: &[InterchangeReport],
        opened: crate::app::batch::OpenedBatch,
        submitter: &str,
        stop: CancellationToken,
        outputs: &mpsc::Sender<IntakeOutput>,
        summary: &mut IntakeSummary,
    ) -> Result<Option<File>, AppError> {
        let batch_id = opened.batch.batch_id;
        let next_expected = opened.next_expected_sequence;
        let (claims_tx, mut claims_rx) = mpsc::channel::<(Pending, BatchInput)>(CLAIM_QUEUE);
        let scrub_reports: Vec<InterchangeReport> = reports.to_vec();
        let payers = self.payers.clone();
        let limits = self.limits;
        let reader = spool.reader()?;
        let walker = tokio::task::spawn_blocking(move || {
            let mut sequence = 0u64;
            let mut last_set = None;
            let scrub = |i: usize, g: usize, s: usize| check::scrubbed(&scrub_reports, i, g, s);
            let result = check::claims(reader, &scrub, &mut |claim: X12Claim| {
                let set = (claim.group_index, claim.set_index);
                let key = (claim.interchange_index, set);
                let set_header = (last_set != Some(key)).then(|| {
                    let report = &scrub_reports[claim.interchange_index].groups[set.0].sets[set.1];
                    (report.submitter.clone(), report.reference.clone())
                });
                last_set = Some(key);
                let pending = pending(claim, sequence, &payers, &limits, set_header);
                if claims_tx.blocking_send(pending).is_ok() {
                    sequence += 1;
                }
            });
            drop(claims_tx);
            result
        });
        let (inputs_tx, inputs_rx) = mpsc::channel::<BatchInput>(CLAIM_QUEUE);
        let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(4 * CLAIM_QUEUE);
        tokio::spawn(async move {
            while let Some((pending, input)) = claims_rx.recv().await {
                if pending_tx.send(pending).await.is_err() || inputs_tx.send(input).await.is_err() {
                    return;
                }
            }
            let _ = inputs_tx.send(BatchInput::End).await;
        });
        let mut results = self.batches.stream(
            opened,
            submitter.to_owned(),
            ReceiverStream::new(inputs_rx),
            stop,
        );
        let mut stored: VecDeque<ItemResult> = VecDeque::new();
        let mut stored_token = String::new();
        let mut writer: Option<(usize, Ca277Writer<BufWriter<File>>)> = None;
        let ca277 = tempfile::tempfile().map_err(AppError::internal)?;
        while let Some(pending) = pending_rx.recv().await {
            let (item, from_store) = if pending.sequence < next_expected {
                if stored.is_empty() {
                    let (page, _) = self
                        .batches
                        .results(batch_id, STORED_PAGE, &stored_token)
                        .await?;
                    if let Some(last) = page.last() {
                        stored_token = BatchValidator::results_token(batch_id, last.sequence);
                    }
                    stored.extend(page);
                }
                let item = stored
                    .pop_front()
                    .filter(|item| item.sequence == pending.sequence)
                    .ok_or_else(|| AppError::internal("a stored claim of the batch is missing"))?;
                (item, true)
            } else {
                (next_item(&mut results).await?, false)
            };
            if item.sequence != pending.sequence {
                return Err(AppError::internal("batch results out of order"));
            }
            let expected_id = correlation_id(&pending.origin);
            if from_store && item.correlation_id != expected_id {
                return Err(AppError::FailedPrecondition {
                    reason: ErrorReason::BatchHeaderMismatch,
                    message: format!(
                        "claim {} of the stored interchange is {}, this file has {expected_id}: resume with the same file",
                        pending.sequence, item.correlation_id
                    ),
                });
            }
            if writer
                .as_ref()
                .is_none_or(|(index, _)| *index != pending.interchange)
            {
                if let Some((_, done)) = writer.take() {
                    done.finish().map_err(AppError::internal)?;
                }
                let report = &reports[pending.interchange];
                let first = storage::x12::reserve_control_numbers(&self.pool, submitter, 2).await?;
                let source = report
                    .groups
                    .iter()
                    .flat_map(|g| &g.sets)
                    .map(|s| s.receiver.clone())
                    .next()
                    .unwrap_or_default();
                let file = ca277.try_clone().map_err(AppError::internal)?;
                writer = Some((
                    pending.interchange,
                    Ca277Writer::start(
                        BufWriter::new(file),
                        report,
                        &source,
                        ReplyEnvelope {
                            interchange_control_number: first,
                            group_control_number: first + 1,
                            now: Utc::now().naive_utc(),
                        },
                        self.statuses.clone(),
                    ),
                ));
            }
            let (_, ca) = writer.as_mut().expect("a 277CA is open");
            if let Some((party, reference)) = &pending.set_header {
                ca.begin_set(party, reference).map_err(AppError::internal)?;
            }
            let mut status = pending.status;
            match &item.outcome {
                Ok(decision) => {
                    status.record_id = decision.audit_record_id.to_string();
                    status.errors = decision
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Error)
                        .map(|f| (f.rule_id.clone(), f.message.clone()))
                        .collect();
                }
                Err(error) => status.unreadable = Some(error.to_string()),
            }
            summary.claims += 1;
            summary.claims_from_store += u64::from(from_store);
            if status.errors.is_empty() && status.unreadable.is_none() {
                summary.claims_accepted += 1;
            } else {
                summary.claims_rejected += 1;
            }
            ca.claim(&status);
            let outcome = ClaimOutcome {
                claim_id: status.claim_id,
                origin: pending.origin,
                outcome: item.outcome,
                from_store,
            };
            if outputs
                .send(IntakeOutput::Claim(Box::new(outcome)))
                .await
                .is_err()
            {
                return Ok(None);
            }
        }
        walker
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        // The pipeline's own ending: its summary, or why it stopped.
        while let Some(output) = results.next().await {
            if let BatchOutput::Failed(error) = output {
                return Err(error);
            }
        }
        match writer.take() {
            Some((_, done)) => {
                done.finish().map_err(AppError::internal)?;
                Ok(Some(ca277))
            }
            None => Ok(None),
        }
    }
}

/// The claim as the pipeline and the 277CA take it.
fn pending(
    claim: X12Claim,
    sequence: u64,
    payers: &PayerMap,
    limits: &ClaimLimits,
    set_header: Option<(check::Party, String)>,
) -> (Pending, BatchInput) {
    let status = ClaimStatus::of(&claim);
    let mut domain: Claim = claim.claim;
    let origin = domain
        .x12_origin
        .clone()
        .expect("X12 claims carry their origin");
    let x12_payer = domain.payer_id.to_string();
    domain.payer_id = payers.payer(&x12_payer).into();
    let correlation = correlation_id(&origin);
    let input = BatchInput::Item {
        sequence,
        correlation_id: correlation,
        // Refused as the protobuf door would refuse it.
        claim: Box::new(crate::domain::limits::screen_claim(&domain, limits).map(|()| domain)),
    };
    (
        Pending {
            sequence,
            status,
            origin,
            interchange: claim.interchange_index,
            set_header,
        },
        input,
    )
}

/// The key of a claim in its batch: ISA13/GS06/ST02/ordinal.
fn correlation_id(origin: &X12Origin) -> String {
    format!(
        "{}/{}/{}/{}",
        origin.interchange_control_number,
        origin.group_control_number,
        origin.transaction_set_control_number,
        origin.claim_ordinal
    )
}

/// The batch of a file: the same submitter and interchange control numbers
/// name the same batch, so a resent file reopens it.
fn batch_id(submitter: &str, reports: &[InterchangeReport]) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"claimscrub x12 interchange\0");
    hash.update(submitter.as_bytes());
    for report in reports {
        hash.update(b"\0");
        hash.update(report.header.sender_qualifier.as_bytes());
        hash.update(b":");
        hash.update(report.header.sender_id.as_bytes());
        hash.update(b":");
        hash.update(report.header.control_number.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The pipeline's next item result, past its checkpoints.
async fn next_item(results: &mut ReceiverStream<BatchOutput>) -> Result<ItemResult, AppError> {
    loop {
        match results.next().await {
            Some(BatchOutput::Item(item)) => return Ok(item),
            Some(BatchOutput::Checkpoint(_) | BatchOutput::Summary { .. }) => {}
            Some(BatchOutput::Failed(error)) => return Err(error),
            None => {
                return Err(AppError::Unavailable {
                    reason: ErrorReason::ShuttingDown,
                    message: "the batch pipeline stopped; resume the interchange".into(),
                });
            }
        }
    }
}

/// Sends `text` in pieces of at most [`ACK_PIECE`] bytes, the last marked.
async fn send_text(
    outputs: &mpsc::Sender<IntakeOutput>,
    kind: AckKind,
    text: &str,
) -> Result<(), AppError> {
    let mut pieces = text.as_bytes().chunks(ACK_PIECE).peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        let text = String::from_utf8_lossy(piece).into_owned();
        if outputs
            .send(IntakeOutput::Acknowledgement { kind, text, last })
            .await
            .is_err()
        {
            break;
        }
    }
    Ok(())
}

/// Sends a written acknowledgement file in pieces, never whole in memory.
async fn send_file(
    outputs: &mpsc::Sender<IntakeOutput>,
    kind: AckKind,
    mut file: File,
) -> Result<(), AppError> {
    file.rewind().map_err(AppError::internal)?;
    let mut reader = std::io::BufReader::new(file);
    let mut ahead: Option<String> = None;
    loop {
        let mut piece = vec![0u8; ACK_PIECE];
        let mut filled = 0;
        while filled < ACK_PIECE {
            let read = reader
                .read(&mut piece[filled..])
                .map_err(AppError::internal)?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        let text = (filled > 0).then(|| String::from_utf8_lossy(&piece[..filled]).into_owned());
        if let Some(previous) = ahead.take() {
            let last = text.is_none();
            if outputs
                .send(IntakeOutput::Acknowledgement {
                    kind,
                    text: previous,
                    last,
                })
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        match text {
            Some(text) => ahead = Some(text),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn every_mapped_rule_is_a_rule_of_the_rule_set() {
        let rules = RuleSet::standard();
        let ids: Vec<&str> = rules.rules.iter().map(|r| r.id()).collect();
        for (rule, _) in StatusMap::builtin().entries() {
            assert!(rule == "*" || ids.contains(&rule), "{rule} is no rule");
        }
    }

    #[test]
    fn a_file_names_the_same_batch_each_time_it_is_sent() {
        let reports = check::check(
            &b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*CLAIMSCRUB     *260101*1200*^*00501*000000042*0*T*:~IEA*0*000000042~"[..],
        )
        .expect("read");
        assert_eq!(batch_id("a", &reports), batch_id("a", &reports));
        assert_ne!(batch_id("a", &reports), batch_id("b", &reports));
    }
}
