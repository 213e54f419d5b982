//! ClaimValidationService: scrubbing single claims and batch streams.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::claim_validation_service_server::ClaimValidationService;

/// The ClaimValidationService implementation.
#[derive(Debug, Clone, Default)]
pub struct ClaimValidationApi;

/// Response stream of ValidateClaimBatch.
pub type BatchResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateClaimBatchResponse, Status>> + Send>>;

fn unimplemented(rpc: &'static str) -> Status {
    AppError::Unimplemented { rpc }.into()
}

#[tonic::async_trait]
impl ClaimValidationService for ClaimValidationApi {
    type ValidateClaimBatchStream = BatchResponseStream;

    async fn validate_claim(
        &self,
        _: Request<pb::ValidateClaimRequest>,
    ) -> Result<Response<pb::ValidateClaimResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ValidateClaim",
        ))
    }

    async fn validate_claim_batch(
        &self,
        _: Request<Streaming<pb::ValidateClaimBatchRequest>>,
    ) -> Result<Response<Self::ValidateClaimBatchStream>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ValidateClaimBatch",
        ))
    }

    async fn get_batch(
        &self,
        _: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::GetBatchResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/GetBatch",
        ))
    }

    async fn list_batch_results(
        &self,
        _: Request<pb::ListBatchResultsRequest>,
    ) -> Result<Response<pb::ListBatchResultsResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ListBatchResults",
        ))
    }

    async fn list_rules(
        &self,
        _: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ListRules",
        ))
    }
}
