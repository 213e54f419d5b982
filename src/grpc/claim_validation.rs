//! ClaimValidationService: scrubbing single claims and batch streams.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio_stream::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::app::batch::{BatchHeader, BatchInput, BatchValidator};
use crate::app::stream_limit::StreamLimits;
use crate::app::validate::ClaimValidator;
use crate::domain::limits::{self, ClaimLimits, Screen};
use crate::error::{AppError, ErrorReason};
use crate::grpc::pb;
use crate::grpc::pb::claim_validation_service_server::ClaimValidationService;
use crate::grpc::{convert, element_len, interceptor, take_within_budget};

/// The ClaimValidationService implementation.
#[derive(Clone)]
pub struct ClaimValidationApi {
    validator: Arc<ClaimValidator>,
    batches: Arc<BatchValidator>,
    limits: ClaimLimits,
    streams: StreamLimits,
    stop: CancellationToken,
}

impl ClaimValidationApi {
    /// Serves with `validator` and `batches`, refusing claims beyond
    /// `limits` and batch streams beyond `streams`; batch streams end
    /// (final checkpoint, then UNAVAILABLE) when `stop` is cancelled.
    pub fn new(
        validator: Arc<ClaimValidator>,
        batches: Arc<BatchValidator>,
        limits: ClaimLimits,
        streams: StreamLimits,
        stop: CancellationToken,
    ) -> Self {
        Self {
            validator,
            batches,
            limits,
            streams,
            stop,
        }
    }
}

/// A batch stream's messages after the header, as the pipeline's inputs:
/// a half-close is the end of the batch; a stream the client breaks just
/// ends; one that sends nothing for `idle` while the pipeline waits for it
/// is idle (the timer runs only while the pipeline asks for more, so a
/// client held back by flow control is never idle).
fn batch_inputs(
    stream: Streaming<pb::ValidateClaimBatchRequest>,
    limits: ClaimLimits,
    idle: Duration,
) -> impl futures::Stream<Item = BatchInput> + Send + 'static {
    use pb::validate_claim_batch_request::Kind;
    futures::stream::unfold(Some(stream), move |stream| async move {
        let mut stream = stream?;
        let Ok(message) = tokio::time::timeout(idle, stream.message()).await else {
            tracing::info!(idle_secs = idle.as_secs(), "batch stream idle; closing it");
            return Some((BatchInput::Idle { after: idle }, None));
        };
        let input = match message {
            Ok(Some(pb::ValidateClaimBatchRequest {
                kind: Some(Kind::Item(item)),
            })) => batch_item_from_pb(item, &limits),
            Ok(
                Some(pb::ValidateClaimBatchRequest {
                    kind: Some(Kind::End(_)),
                })
                | None,
            ) => BatchInput::End,
            Ok(Some(_)) => BatchInput::Invalid(AppError::invalid_field(
                "header",
                "only the first message of a batch stream may be a header; later ones are items",
            )),
            Err(status) => {
                tracing::info!(code = ?status.code(), "batch stream broken by the client");
                return None;
            }
        };
        Some((input, Some(stream)))
    })
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

/// The error of a stream that sent nothing for `idle`.
pub(crate) fn idle_error(idle: Duration) -> AppError {
    AppError::DeadlineExceeded {
        reason: ErrorReason::StreamIdle,
        message: format!("the stream sent nothing for {} s", idle.as_secs()),
    }
}

/// Response stream of ValidateClaimBatch.
pub type BatchResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateClaimBatchResponse, Status>> + Send>>;

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
            .validate(&request.request_id, &caller.submitter, claim)
            .await?;
        Ok(Response::new(pb::ValidateClaimResponse {
            result: Some(convert::decision_to_pb(decision)),
        }))
    }

    async fn validate_claim_batch(
        &self,
        request: Request<Streaming<pb::ValidateClaimBatchRequest>>,
    ) -> Result<Response<Self::ValidateClaimBatchStream>, Status> {
        let caller = interceptor::caller(&request);
        let permit = self.streams.open.open(&caller.submitter)?;
        let mut stream = request.into_inner();
        let first = tokio::time::timeout(self.streams.idle_timeout, stream.message())
            .await
            .map_err(|_| idle_error(self.streams.idle_timeout))??;
        let header = match first {
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
        let opened = self.batches.open(&header, &caller.submitter).await?;
        let accepted = pb::ValidateClaimBatchResponse {
            kind: Some(pb::validate_claim_batch_response::Kind::Accepted(
                pb::BatchAccepted {
                    batch: format!("batches/{}", header.batch_id),
                    next_expected_sequence: opened.next_expected_sequence,
                },
            )),
        };
        let outputs = self.batches.stream(
            opened,
            caller.submitter.to_string(),
            batch_inputs(stream, self.limits, self.streams.idle_timeout),
            self.stop.child_token(),
        );
        // The permit lives as long as the response stream: the slot frees
        // when the stream ends, however it ends.
        let responses = tokio_stream::once(Ok(accepted)).chain(outputs.map(move |output| {
            let _open = &permit;
            convert::batch_output_to_pb(output)
        }));
        Ok(Response::new(Box::pin(responses)))
    }

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::GetBatchResponse>, Status> {
        let batch_id = batch_id_from_name(&request.get_ref().name, "name")?;
        let batch = self.batches.get(batch_id).await?;
        Ok(Response::new(pb::GetBatchResponse {
            batch: Some(convert::batch_to_pb(&batch)),
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
        let mut elements = stored
            .into_iter()
            .map(|item| {
                let sequence = item.sequence;
                let element = convert::item_to_pb(item);
                let len = element.as_ref().map_or_else(element_len, element_len);
                ((sequence, element), len)
            })
            .peekable();
        let page = take_within_budget(&mut elements);
        more |= elements.peek().is_some();
        let mut response = pb::ListBatchResultsResponse::default();
        if let (true, Some((last, _))) = (more, page.last()) {
            response.next_page_token = BatchValidator::results_token(batch_id, *last);
        }
        for (_, element) in page {
            match element {
                Ok(result) => response.results.push(result),
                Err(error) => response.item_errors.push(error),
            }
        }
        Ok(Response::new(response))
    }

    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        let request = request.into_inner();
        let date = convert::date_or_today(request.effective_date.as_ref(), "effective_date")?;
        let mut screen = Screen::new();
        let payer = screen.payer_id("payer_id", &request.payer_id);
        screen.finish()?;
        let payer = payer.as_str();
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
                .describe(&snapshot, payer, date)
                .into_iter()
                .map(convert::rule_to_pb)
                .collect(),
        }))
    }
}
