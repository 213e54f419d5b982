//! AuditService: read-only queries over the append-only audit store.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status};

use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::audit_service_server::AuditService;

/// The AuditService implementation.
#[derive(Debug, Clone, Default)]
pub struct AuditApi;

/// Response stream of ExportAuditRecords.
pub type ExportStream =
    Pin<Box<dyn Stream<Item = Result<pb::ExportAuditRecordsResponse, Status>> + Send>>;

fn unimplemented(rpc: &'static str) -> Status {
    AppError::Unimplemented { rpc }.into()
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    type ExportAuditRecordsStream = ExportStream;

    async fn get_audit_record(
        &self,
        _: Request<pb::GetAuditRecordRequest>,
    ) -> Result<Response<pb::GetAuditRecordResponse>, Status> {
        Err(unimplemented("claimscrub.v1.AuditService/GetAuditRecord"))
    }

    async fn list_audit_records(
        &self,
        _: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        Err(unimplemented("claimscrub.v1.AuditService/ListAuditRecords"))
    }

    async fn export_audit_records(
        &self,
        _: Request<pb::ExportAuditRecordsRequest>,
    ) -> Result<Response<Self::ExportAuditRecordsStream>, Status> {
        Err(unimplemented(
            "claimscrub.v1.AuditService/ExportAuditRecords",
        ))
    }

    async fn get_audit_stats(
        &self,
        _: Request<pb::GetAuditStatsRequest>,
    ) -> Result<Response<pb::GetAuditStatsResponse>, Status> {
        Err(unimplemented("claimscrub.v1.AuditService/GetAuditStats"))
    }

    async fn replay_audit_record(
        &self,
        _: Request<pb::ReplayAuditRecordRequest>,
    ) -> Result<Response<pb::ReplayAuditRecordResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.AuditService/ReplayAuditRecord",
        ))
    }
}
