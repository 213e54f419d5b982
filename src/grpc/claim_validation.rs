//! ClaimValidationService: scrubbing single claims and batch streams.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::app::batch::{
    BatchHeader, BatchInput, BatchOutput, BatchRow, BatchValidator, ItemResult,
};
use crate::app::validate::{ClaimValidator, Decision, StoredFinding};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::{Disposition, Severity};
use crate::domain::limits::{self, ClaimLimits, CodeAlphabet, Screen};
use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::claim_validation_service_server::ClaimValidationService;
use crate::grpc::{MESSAGE_BUDGET, convert, element_len, interceptor};
use crate::rules::RuleSource;

/// Items read ahead of the pipeline; when full, the stream is not polled
/// and HTTP/2 flow control holds the client back.
const BATCH_INPUT_QUEUE: usize = 1_024;
/// Responses waiting for a slow client; when full, the pipeline stops.
const BATCH_OUTPUT_QUEUE: usize = 1_024;

/// The ClaimValidationService implementation.
#[derive(Clone)]
pub struct ClaimValidationApi {
    validator: Arc<ClaimValidator>,
    batches: Arc<BatchValidator>,
    limits: ClaimLimits,
    stop: CancellationToken,
}

impl ClaimValidationApi {
    /// Serves with `validator` and `batches`, refusing claims beyond
    /// `limits`; batch streams end (final checkpoint, then UNAVAILABLE) when
    /// `stop` is cancelled.
    pub fn new(
        validator: Arc<ClaimValidator>,
        batches: Arc<BatchValidator>,
        limits: ClaimLimits,
        stop: CancellationToken,
    ) -> Self {
        Self {
            validator,
            batches,
            limits,
            stop,
        }
    }
}

/// Reads a batch stream's messages into the pipeline until the batch ends,
/// the client goes away (then the closed channel says so) or `stop`.
async fn read_batch_items(
    mut stream: Streaming<pb::ValidateClaimBatchRequest>,
    inputs: mpsc::Sender<BatchInput>,
    limits: ClaimLimits,
    stop: CancellationToken,
) {
    use pb::validate_claim_batch_request::Kind;
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => return,
            message = stream.message() => message,
        };
        let (input, last) = match message {
            Ok(Some(pb::ValidateClaimBatchRequest {
                kind: Some(Kind::Item(item)),
            })) => (batch_item_from_pb(item, &limits), false),
            Ok(
                Some(pb::ValidateClaimBatchRequest {
                    kind: Some(Kind::End(_)),
                })
                | None,
            ) => (BatchInput::End, true),
            Ok(Some(_)) => (
                BatchInput::Invalid(AppError::invalid_field(
                    "header",
                    "only the first message of a batch stream may be a header; later ones are items",
                )),
                true,
            ),
            Err(status) => {
                tracing::info!(code = ?status.code(), "batch stream broken by the client");
                return;
            }
        };
        if inputs.send(input).await.is_err() || last {
            return;
        }
    }
}

/// A batch item as the pipeline takes it. An unreadable claim is the item's
/// error (in band; the stream goes on). A correlation id that breaks the
/// limits is part of that error and is not echoed back or stored: the
/// sequence identifies the item.
fn batch_item_from_pb(item: pb::ClaimItem, limits: &ClaimLimits) -> BatchInput {
    let mut screen = Screen::new();
    screen.text(
        "item.correlation_id",
        &item.correlation_id,
        limits::TEXT_MAX,
    );
    let correlation_id = if screen.is_clean() {
        item.correlation_id
    } else {
        String::new()
    };
    BatchInput::Item {
        sequence: item.sequence,
        claim: Box::new(screen.finish_with(convert::claim_from_pb(
            item.claim,
            "item.claim",
            limits,
        ))),
        correlation_id,
    }
}

fn batch_id_from_name(name: &str, field: &str) -> Result<Uuid, AppError> {
    name.trim()
        .strip_prefix("batches/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| AppError::invalid_field(field, "must be batches/{batch_id} with a UUID"))
}

/// An error as the `google.rpc.Status` that its gRPC status carries.
fn rpc_status(error: AppError) -> tonic_types::pb::Status {
    let status = Status::from(error);
    prost::Message::decode(status.details()).unwrap_or_else(|_| tonic_types::pb::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    })
}

fn counts_to_pb(batch: &BatchRow) -> pb::BatchCounts {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    pb::BatchCounts {
        items_received: n(batch.items_received),
        accepted: n(batch.accepted),
        accepted_with_warnings: n(batch.accepted_with_warnings),
        rejected: n(batch.rejected),
        item_errors: n(batch.item_errors),
    }
}

fn durable_to_pb(batch: &BatchRow) -> Option<u64> {
    u64::try_from(batch.durable_through_sequence).ok()
}

fn batch_to_pb(batch: &BatchRow) -> pb::Batch {
    pb::Batch {
        name: format!("batches/{}", batch.batch_id),
        batch_id: batch.batch_id.to_string(),
        submitter: batch.submitter.clone(),
        state: if batch.state == "completed" {
            pb::BatchState::Completed
        } else {
            pb::BatchState::Open
        }
        .into(),
        expected_item_count: batch
            .expected_item_count
            .and_then(|n| u64::try_from(n).ok()),
        counts: Some(counts_to_pb(batch)),
        durable_through_sequence: durable_to_pb(batch),
        ruleset_version: batch.ruleset_version.clone(),
        create_time: Some(convert::timestamp_to_pb(batch.create_time)),
        update_time: Some(convert::timestamp_to_pb(batch.update_time)),
        complete_time: batch.complete_time.map(convert::timestamp_to_pb),
    }
}

/// An item's result as the protobuf message that carries it.
fn item_to_pb(item: ItemResult) -> Result<pb::ClaimResult, pb::ItemError> {
    match item.outcome {
        Ok(decision) => Ok(pb::ClaimResult {
            sequence: item.sequence,
            correlation_id: item.correlation_id,
            result: Some(decision_to_pb(decision)),
        }),
        Err(error) => Err(pb::ItemError {
            sequence: item.sequence,
            correlation_id: item.correlation_id,
            status: Some(rpc_status(error)),
        }),
    }
}

fn batch_output_to_pb(output: BatchOutput) -> Result<pb::ValidateClaimBatchResponse, Status> {
    use pb::validate_claim_batch_response::Kind;
    let kind = match output {
        BatchOutput::Item(item) => match item_to_pb(item) {
            Ok(result) => Kind::Result(result),
            Err(error) => Kind::ItemError(error),
        },
        BatchOutput::Checkpoint(durable_through_sequence) => Kind::Checkpoint(pb::Checkpoint {
            durable_through_sequence,
        }),
        BatchOutput::Summary { batch, elapsed } => Kind::Summary(pb::BatchSummary {
            counts: Some(counts_to_pb(&batch)),
            durable_through_sequence: durable_to_pb(&batch),
            duration: prost_types::Duration::try_from(elapsed).ok(),
        }),
        BatchOutput::Failed(error) => return Err(error.into()),
    };
    Ok(pb::ValidateClaimBatchResponse { kind: Some(kind) })
}

/// Response stream of ValidateClaimBatch.
pub type BatchResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateClaimBatchResponse, Status>> + Send>>;

fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::Error => pb::Severity::Error,
        Severity::Warning => pb::Severity::Warning,
        Severity::Info => pb::Severity::Info,
    }
}

/// A finding as its protobuf form.
pub fn finding_to_pb(f: StoredFinding) -> pb::Finding {
    pb::Finding {
        rule_id: f.rule_id,
        severity: severity_to_pb(f.severity).into(),
        line_number: f.line_number,
        field_path: f.field_path,
        message: f.message,
        suggested_code: f.suggested_code.unwrap_or_default(),
        suggestion: f.suggestion.unwrap_or_default(),
    }
}

/// A decision as its protobuf result.
pub fn decision_to_pb(decision: Decision) -> pb::ValidationResult {
    pb::ValidationResult {
        disposition: match decision.disposition {
            Disposition::Accept => pb::Disposition::Accept,
            Disposition::AcceptWithWarnings => pb::Disposition::AcceptWithWarnings,
            Disposition::Reject => pb::Disposition::Reject,
        }
        .into(),
        findings: decision.findings.into_iter().map(finding_to_pb).collect(),
        ruleset_version: decision.ruleset_version,
        audit_record_id: decision.audit_record_id.to_string(),
        code_system_versions: decision
            .versions
            .into_iter()
            .filter_map(|v| {
                v.system
                    .parse::<CodeSystem>()
                    .ok()
                    .map(|system| pb::CodeSystemVersionRef {
                        system: convert::code_system_to_pb(system).into(),
                        version: v.version,
                    })
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl ClaimValidationService for ClaimValidationApi {
    type ValidateClaimBatchStream = BatchResponseStream;

    async fn validate_claim(
        &self,
        request: Request<pb::ValidateClaimRequest>,
    ) -> Result<Response<pb::ValidateClaimResponse>, Status> {
        let caller = interceptor::caller(&request);
        let request = request.into_inner();
        let mut screen = Screen::new();
        screen.text("request_id", &request.request_id, limits::TEXT_MAX);
        let claim =
            screen.finish_with(convert::claim_from_pb(request.claim, "claim", &self.limits))?;
        let decision = self
            .validator
            .validate(&request.request_id, &caller.0, claim)
            .await?;
        Ok(Response::new(pb::ValidateClaimResponse {
            result: Some(decision_to_pb(decision)),
        }))
    }

    async fn validate_claim_batch(
        &self,
        request: Request<Streaming<pb::ValidateClaimBatchRequest>>,
    ) -> Result<Response<Self::ValidateClaimBatchStream>, Status> {
        let caller = interceptor::caller(&request);
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(pb::ValidateClaimBatchRequest {
                kind: Some(pb::validate_claim_batch_request::Kind::Header(header)),
            }) => header,
            _ => {
                return Err(AppError::invalid_field(
                    "header",
                    "the first message of a batch stream must be its header",
                )
                .into());
            }
        };
        let header = BatchHeader {
            batch_id: Uuid::parse_str(header.batch_id.trim()).map_err(|_| {
                AppError::invalid_field("header.batch_id", "must be a UUID chosen by the client")
            })?,
            resume: header.resume,
            expected_item_count: header.expected_item_count,
        };
        let opened = self.batches.open(&header, &caller.0).await?;
        let accepted = pb::ValidateClaimBatchResponse {
            kind: Some(pb::validate_claim_batch_response::Kind::Accepted(
                pb::BatchAccepted {
                    batch: format!("batches/{}", header.batch_id),
                    next_expected_sequence: opened.next_expected_sequence,
                },
            )),
        };
        let (inputs, received) = mpsc::channel(BATCH_INPUT_QUEUE);
        let (sender, outputs) = mpsc::channel(BATCH_OUTPUT_QUEUE);
        let stop = self.stop.child_token();
        tokio::spawn(read_batch_items(stream, inputs, self.limits, stop.clone()));
        self.batches
            .run(opened, caller.0.to_string(), received, sender, stop);
        let responses = tokio_stream::once(Ok(accepted))
            .chain(ReceiverStream::new(outputs).map(batch_output_to_pb));
        Ok(Response::new(Box::pin(responses)))
    }

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::GetBatchResponse>, Status> {
        let batch_id = batch_id_from_name(&request.get_ref().name, "name")?;
        let batch = self.batches.get(batch_id).await?;
        Ok(Response::new(pb::GetBatchResponse {
            batch: Some(batch_to_pb(&batch)),
        }))
    }

    async fn list_batch_results(
        &self,
        request: Request<pb::ListBatchResultsRequest>,
    ) -> Result<Response<pb::ListBatchResultsResponse>, Status> {
        let request = request.into_inner();
        let batch_id = batch_id_from_name(&request.parent, "parent")?;
        let (stored, mut more) = self
            .batches
            .results(batch_id, request.page_size, &request.page_token)
            .await?;
        let mut response = pb::ListBatchResultsResponse::default();
        let (mut bytes, mut last) = (0, None);
        let count = stored.len();
        for (i, item) in stored.into_iter().enumerate() {
            let sequence = item.sequence;
            let element = item_to_pb(item);
            let len = element.as_ref().map_or_else(element_len, element_len);
            if last.is_some() && bytes + len > MESSAGE_BUDGET {
                more = more || i < count;
                break;
            }
            bytes += len;
            last = Some(sequence);
            match element {
                Ok(result) => response.results.push(result),
                Err(error) => response.item_errors.push(error),
            }
        }
        if let (true, Some(last)) = (more, last) {
            response.next_page_token = BatchValidator::results_token(batch_id, last);
        }
        Ok(Response::new(response))
    }

    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        let request = request.into_inner();
        let date = request.effective_date.as_ref().map_or_else(
            || Ok(chrono::Utc::now().date_naive()),
            |d| convert::date_from_pb(d, "effective_date"),
        )?;
        let mut screen = Screen::new();
        screen.code(
            "payer_id",
            &request.payer_id,
            limits::PAYER_ID_MAX,
            CodeAlphabet::Alphanumeric,
        );
        screen.finish()?;
        let payer = request.payer_id.trim();
        let snapshot = self.validator.catalog().snapshot();
        if !payer.is_empty() && !snapshot.payers.contains_key(payer) {
            return Err(AppError::NotFound {
                resource_type: "payer",
                name: payer.to_owned(),
            }
            .into());
        }
        let rules = self.validator.rules();
        Ok(Response::new(pb::ListRulesResponse {
            ruleset_version: rules.version.to_owned(),
            rules: rules
                .rules
                .iter()
                .map(|rule| {
                    let setting = snapshot.payer_setting(payer, rule.id(), date);
                    pb::Rule {
                        rule_id: rule.id().to_owned(),
                        description: rule.description().to_owned(),
                        default_severity: severity_to_pb(rule.default_severity()).into(),
                        source: match rule.source() {
                            RuleSource::Cms => pb::RuleSource::Cms,
                            RuleSource::Ncci => pb::RuleSource::Ncci,
                            RuleSource::Cpt => pb::RuleSource::Cpt,
                            RuleSource::Payer => pb::RuleSource::Payer,
                            RuleSource::House => pb::RuleSource::House,
                        }
                        .into(),
                        since_version: rules.version.to_owned(),
                        enabled: setting.map_or(rule.enabled_by_default(), |s| s.enabled),
                        effective_severity: severity_to_pb(
                            setting
                                .and_then(|s| s.severity)
                                .unwrap_or(rule.default_severity()),
                        )
                        .into(),
                        parameters: setting
                            .map(|s| s.parameters.clone().into_iter().collect())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        }))
    }
}
