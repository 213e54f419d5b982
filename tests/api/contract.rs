//! The v1 contract as a client sees it: reflection (v1 and v1alpha), health,
//! every RPC of every service, error details, request ids and size limits.

use std::collections::BTreeSet;

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::reference_data_service_client::ReferenceDataServiceClient;
use prost::Message as _;
use sqlx::PgPool;
use tokio_stream::StreamExt as _;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
use tonic_types::StatusExt as _;

use crate::helpers::{assert_invalid_field, spawn_app};

/// The RPCs the v1 contract promises, per service.
const CONTRACT: [(&str, &[&str]); 5] = [
    (
        "claimscrub.v1.CodeLookupService",
        &[
            "LookupCode",
            "ValidateCode",
            "BatchValidateCodes",
            "SearchCodes",
            "GetProcedureProfile",
            "SuggestProcedureCode",
        ],
    ),
    (
        "claimscrub.v1.ClaimValidationService",
        &[
            "ValidateClaim",
            "ValidateClaimBatch",
            "GetBatch",
            "ListBatchResults",
            "ListRules",
        ],
    ),
    (
        "claimscrub.v1.AuditService",
        &[
            "GetAuditRecord",
            "ListAuditRecords",
            "ExportAuditRecords",
            "GetAuditStats",
            "ReplayAuditRecord",
            "ListAuditAccess",
        ],
    ),
    (
        "claimscrub.v1.ReferenceDataService",
        &["ListCodeSystemVersions", "GetCodeSystemVersion"],
    ),
    (
        "claimscrub.v1.X12Service",
        &["ValidateInterchange", "ListStatusMappings"],
    ),
];

async fn reflect(app: &crate::helpers::TestApp, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let outbound = tokio_stream::iter([ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    }]);
    let mut inbound = client
        .server_reflection_info(outbound)
        .await
        .expect("reflection answers")
        .into_inner();
    let response = inbound.next().await.expect("one response").expect("ok");
    response.message_response.expect("a message")
}

#[sqlx::test]
async fn v1alpha_reflection_lists_every_service_with_health(pool: PgPool) {
    let app = spawn_app(pool).await;
    let MessageResponse::ListServicesResponse(list) =
        reflect(&app, MessageRequest::ListServices(String::new())).await
    else {
        panic!("expected a service list");
    };
    let names: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for (service, _) in CONTRACT {
        assert!(names.contains(service), "{service} missing from {names:?}");
    }
    assert!(names.contains("grpc.health.v1.Health"), "{names:?}");
    assert!(
        names.contains("grpc.reflection.v1alpha.ServerReflection"),
        "{names:?}"
    );
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn v1_reflection_is_served_too(pool: PgPool) {
    use tonic_reflection::pb::v1 as r1;
    let app = spawn_app(pool).await;
    let mut client = r1::server_reflection_client::ServerReflectionClient::new(app.channel.clone());
    let outbound = tokio_stream::iter([r1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    }]);
    let mut inbound = client
        .server_reflection_info(outbound)
        .await
        .expect("v1 answers")
        .into_inner();
    let response = inbound.next().await.expect("response").expect("ok");
    let Some(r1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("expected a service list");
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "claimscrub.v1.ClaimValidationService")
    );
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn reflection_describes_exactly_the_contracted_rpcs(pool: PgPool) {
    let app = spawn_app(pool).await;
    for (service, rpcs) in CONTRACT {
        let MessageResponse::FileDescriptorResponse(files) = reflect(
            &app,
            MessageRequest::FileContainingSymbol(service.to_owned()),
        )
        .await
        else {
            panic!("expected descriptors for {service}");
        };
        let short_name = service.rsplit('.').next().expect("name");
        let methods: BTreeSet<String> = files
            .file_descriptor_proto
            .iter()
            .map(|bytes| {
                prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("descriptor")
            })
            .flat_map(|file| file.service)
            .filter(|s| s.name() == short_name)
            .flat_map(|s| s.method)
            .map(|m| m.name().to_owned())
            .collect();
        let expected: BTreeSet<String> = rpcs.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(methods, expected, "{service}");
    }
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn health_reports_serving_overall_and_per_service(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in std::iter::once("").chain(CONTRACT.iter().map(|(s, _)| *s)) {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health answers")
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn a_malformed_request_names_its_field_with_error_info(pool: PgPool) {
    let app = spawn_app(pool).await;
    let status = app
        .get_audit_stats(pb::GetAuditStatsRequest::default())
        .await
        .expect_err("group_by is required");
    assert_invalid_field(&status, "group_by");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "INVALID_REQUEST");
    assert_eq!(info.domain, "claimscrub");
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn every_response_carries_a_request_id_and_echoes_the_callers(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The raw client: this test reads the response metadata.
    let mut client = ReferenceDataServiceClient::new(app.channel.clone());
    let response = client
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest::default())
        .await
        .expect("ok");
    let generated = response
        .metadata()
        .get("x-request-id")
        .expect("generated id")
        .to_str()
        .expect("ascii");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let mut request = tonic::Request::new(pb::ListCodeSystemVersionsRequest::default());
    request
        .metadata_mut()
        .insert("x-request-id", "caller-chosen-17".parse().expect("value"));
    let response = client.list_code_system_versions(request).await.expect("ok");
    assert_eq!(
        response.metadata().get("x-request-id").expect("echoed"),
        "caller-chosen-17"
    );
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn requests_over_the_size_limit_are_refused(pool: PgPool) {
    let mut settings = crate::helpers::test_settings();
    settings.max_request_bytes = 1024;
    let app = crate::helpers::spawn_app_with(pool, settings).await;
    let status = app
        .get_code_system_version(pb::GetCodeSystemVersionRequest {
            name: "x".repeat(4096),
        })
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    app.shutdown().await.expect("clean shutdown");
}
