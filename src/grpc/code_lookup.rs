//! CodeLookupService: terminology operations over the catalog.

use tonic::{Request, Response, Status};

use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::code_lookup_service_server::CodeLookupService;

/// The CodeLookupService implementation.
#[derive(Debug, Clone, Default)]
pub struct CodeLookupApi;

fn unimplemented(rpc: &'static str) -> Status {
    AppError::Unimplemented { rpc }.into()
}

#[tonic::async_trait]
impl CodeLookupService for CodeLookupApi {
    async fn lookup_code(
        &self,
        _: Request<pb::LookupCodeRequest>,
    ) -> Result<Response<pb::LookupCodeResponse>, Status> {
        Err(unimplemented("claimscrub.v1.CodeLookupService/LookupCode"))
    }

    async fn validate_code(
        &self,
        _: Request<pb::ValidateCodeRequest>,
    ) -> Result<Response<pb::ValidateCodeResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.CodeLookupService/ValidateCode",
        ))
    }

    async fn batch_validate_codes(
        &self,
        _: Request<pb::BatchValidateCodesRequest>,
    ) -> Result<Response<pb::BatchValidateCodesResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.CodeLookupService/BatchValidateCodes",
        ))
    }

    async fn search_codes(
        &self,
        _: Request<pb::SearchCodesRequest>,
    ) -> Result<Response<pb::SearchCodesResponse>, Status> {
        Err(unimplemented("claimscrub.v1.CodeLookupService/SearchCodes"))
    }

    async fn get_procedure_profile(
        &self,
        _: Request<pb::GetProcedureProfileRequest>,
    ) -> Result<Response<pb::GetProcedureProfileResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.CodeLookupService/GetProcedureProfile",
        ))
    }

    async fn suggest_procedure_code(
        &self,
        _: Request<pb::SuggestProcedureCodeRequest>,
    ) -> Result<Response<pb::SuggestProcedureCodeResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.CodeLookupService/SuggestProcedureCode",
        ))
    }
}
