//! X12Service: an 837P file streamed in, its claims' decisions and the
//! TA1/999 and 277CA streamed out (`app::x12` does the work).

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt as _};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::app::stream_limit::StreamLimits;
use crate::app::x12::{AckKind, IntakeOutput, Spool, X12Intake};
use crate::error::AppError;
use crate::grpc::claim_validation::idle_error;
use crate::grpc::pb::x12_service_server::X12Service;
use crate::grpc::{convert, interceptor, pb};

/// The X12Service implementation.
#[derive(Clone)]
pub struct X12Api {
    intake: Arc<X12Intake>,
    streams: StreamLimits,
    stop: CancellationToken,
}

impl X12Api {
    /// Serves with `intake`, holding uploads to `streams`; streams end
    /// (UNAVAILABLE, resumable) when `stop` is cancelled.
    pub fn new(intake: Arc<X12Intake>, streams: StreamLimits, stop: CancellationToken) -> Self {
        Self {
            intake,
            streams,
            stop,
        }
    }
}

/// Response stream of ValidateInterchange.
pub type InterchangeResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateInterchangeResponse, Status>> + Send>>;

fn output_to_pb(output: IntakeOutput) -> Result<pb::ValidateInterchangeResponse, Status> {
    use pb::validate_interchange_response::Kind;
    let kind = match output {
        IntakeOutput::Claim(claim) => {
            let (result, error) = match claim.outcome {
                Ok(decision) => (Some(convert::decision_to_pb(decision)), None),
                Err(error) => (None, Some(convert::rpc_status(error))),
            };
            Kind::Claim(pb::X12ClaimResult {
                claim_id: claim.claim_id,
                origin: Some(convert::x12_origin_to_pb(claim.origin)),
                result,
                error,
                from_store: claim.from_store,
            })
        }
        IntakeOutput::Acknowledgement { kind, text, last } => {
            Kind::Acknowledgement(pb::X12Acknowledgement {
                kind: match kind {
                    AckKind::Ack999 => pb::AcknowledgementKind::Implementation,
                    AckKind::Ca277 => pb::AcknowledgementKind::Claim,
                }
                .into(),
                text,
                last,
            })
        }
        IntakeOutput::Summary(summary) => Kind::Summary(pb::InterchangeSummary {
            batch: summary
                .batch_id
                .map(|id| format!("batches/{id}"))
                .unwrap_or_default(),
            interchanges: summary.interchanges,
            transaction_sets: summary.transaction_sets,
            transaction_sets_rejected: summary.transaction_sets_rejected,
            claims: summary.claims,
            claims_accepted: summary.claims_accepted,
            claims_rejected: summary.claims_rejected,
            claims_from_store: summary.claims_from_store,
        }),
        IntakeOutput::Failed(error) => return Err(error.into()),
    };
    Ok(pb::ValidateInterchangeResponse { kind: Some(kind) })
}

#[tonic::async_trait]
impl X12Service for X12Api {
    type ValidateInterchangeStream = InterchangeResponseStream;

    async fn validate_interchange(
        &self,
        request: Request<Streaming<pb::ValidateInterchangeRequest>>,
    ) -> Result<Response<Self::ValidateInterchangeStream>, Status> {
        let caller = interceptor::caller(&request);
        let permit = self.streams.open.open(&caller.submitter)?;
        let idle = self.streams.idle_timeout;
        let mut stream = request.into_inner();
        let first = tokio::time::timeout(idle, stream.message())
            .await
            .map_err(|_| idle_error(idle))??
            .ok_or_else(|| {
                AppError::invalid_field("data", "the stream ended before the file's first bytes")
            })?;
        let resume = first.resume;
        // An upload that stalls is closed before anything is decided: the
        // file is only read once it is whole.
        let rest =
            tokio_stream::StreamExt::timeout(stream, idle).map(move |message| match message {
                Ok(message) => message
                    .map(|m| m.data)
                    .map_err(|status| AppError::invalid_field("data", status.message().to_owned())),
                Err(_) => Err(idle_error(idle)),
            });
        let chunks = futures::stream::once(async move { Ok(first.data) }).chain(rest);
        let spool = Spool::write(Box::pin(chunks)).await?;
        let outputs = self.intake.run(
            spool,
            resume,
            caller.submitter.to_string(),
            self.stop.child_token(),
        );
        Ok(Response::new(Box::pin(outputs.map(move |output| {
            let _open = &permit;
            output_to_pb(output)
        }))))
    }

    async fn list_status_mappings(
        &self,
        _request: Request<pb::ListStatusMappingsRequest>,
    ) -> Result<Response<pb::ListStatusMappingsResponse>, Status> {
        Ok(Response::new(pb::ListStatusMappingsResponse {
            mappings: self
                .intake
                .statuses()
                .entries()
                .map(|(rule, code)| pb::StatusMapping {
                    rule_id: rule.to_owned(),
                    category: code.category.clone(),
                    status_code: code.code.clone(),
                    entity_code: code.entity.clone(),
                    meaning: code.meaning.clone(),
                })
                .collect(),
        }))
    }
}
