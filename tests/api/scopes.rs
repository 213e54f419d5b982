//! Scoped API keys, table-driven: every RPC of every claimscrub service (read
//! from the served descriptor set) is called with a key of each scope; the
//! key whose scope `domain::access::RPC_SCOPES` names gets through the key
//! check, every other one is PERMISSION_DENIED (`SCOPE_MISSING`, naming the
//! scope). An expired key is UNAUTHENTICATED; health needs no key.

use bytes::{Buf as _, BufMut as _};
use claimscrub::app::api_keys;
use claimscrub::domain::access::{self, Scope, Scopes};
use claimscrub::grpc::pb;
use prost::Message as _;
use sqlx::PgPool;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::helpers::spawn_app_with;

/// Sends and receives messages as bytes: an empty message is the default
/// of any request type.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

/// Every claimscrub RPC: (service, method, client streams, server streams).
fn rpcs() -> Vec<(String, String, bool, bool)> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET).expect("descriptors");
    let mut rpcs = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "claimscrub.v1") {
        for service in &file.service {
            for method in &service.method {
                rpcs.push((
                    format!("claimscrub.v1.{}", service.name()),
                    method.name().to_owned(),
                    method.client_streaming(),
                    method.server_streaming(),
                ));
            }
        }
    }
    rpcs
}

/// Calls `service/method` with one empty message and `key`; the status the
/// call ends with at its start (Ok when the key check let it through and
/// the handler answered or began to).
async fn call(
    channel: &tonic::transport::Channel,
    rpc: &(String, String, bool, bool),
    key: &str,
) -> Result<(), Status> {
    let (service, method, client_streams, server_streams) = rpc;
    let path = PathAndQuery::try_from(format!("/{service}/{method}")).expect("path");
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    fn with_key<T>(mut request: tonic::Request<T>, key: &str) -> tonic::Request<T> {
        request.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
        );
        request
    }
    match (client_streams, server_streams) {
        (false, false) => grpc
            .unary(with_key(tonic::Request::new(Vec::new()), key), path, Raw)
            .await
            .map(drop),
        (false, true) => grpc
            .server_streaming(with_key(tonic::Request::new(Vec::new()), key), path, Raw)
            .await
            .map(drop),
        (true, false) => grpc
            .client_streaming(
                with_key(
                    tonic::Request::new(tokio_stream::iter(vec![Vec::new()])),
                    key,
                ),
                path,
                Raw,
            )
            .await
            .map(drop),
        (true, true) => grpc
            .streaming(
                with_key(
                    tonic::Request::new(tokio_stream::iter(vec![Vec::new()])),
                    key,
                ),
                path,
                Raw,
            )
            .await
            .map(drop),
    }
}

#[sqlx::test]
async fn every_rpc_takes_the_scope_the_table_names_and_refuses_the_others(pool: PgPool) {
    let mut keys = Vec::new();
    for scope in Scope::ALL {
        let scopes = Scopes::parse_list(scope.as_str()).expect("scope");
        let (_, key) = api_keys::create(&pool, &format!("only-{scope}"), scopes, None)
            .await
            .expect("key");
        keys.push((scope, key));
    }
    let expired = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (_, expired_key) = api_keys::create(&pool, "expired", Scopes::all(), Some(expired))
        .await
        .expect("key");
    let settings = crate::helpers::production_settings();
    let app = spawn_app_with(pool, settings).await;

    let rpcs = rpcs();
    assert!(rpcs.len() >= 20, "{} RPCs in the descriptors", rpcs.len());
    let mut wrong = Vec::new();
    for rpc in &rpcs {
        let needed = access::required_scope(&rpc.0, &rpc.1)
            .unwrap_or_else(|| panic!("{}/{} is not in the scope table", rpc.0, rpc.1));
        for (scope, key) in &keys {
            let answer = call(&app.channel, rpc, key).await;
            let refused = matches!(&answer, Err(s) if s.code() == Code::PermissionDenied);
            if *scope == needed {
                if refused || matches!(&answer, Err(s) if s.code() == Code::Unauthenticated) {
                    wrong.push(format!("{}/{} with {scope}: {answer:?}", rpc.0, rpc.1));
                }
                continue;
            }
            let status = match answer {
                Err(status) if refused => status,
                other => {
                    wrong.push(format!(
                        "{}/{} with {scope} got through: {other:?}",
                        rpc.0, rpc.1
                    ));
                    continue;
                }
            };
            let info = status.get_details_error_info().expect("ErrorInfo");
            if info.reason != "SCOPE_MISSING"
                || info.metadata.get("scope").map(String::as_str) != Some(needed.as_str())
            {
                wrong.push(format!("{}/{}: {info:?}", rpc.0, rpc.1));
            }
        }
        let expired_answer = call(&app.channel, rpc, &expired_key).await;
        if !matches!(&expired_answer, Err(s) if s.code() == Code::Unauthenticated) {
            wrong.push(format!(
                "{}/{} with an expired key: {expired_answer:?}",
                rpc.0, rpc.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Health needs no key, even where keys are required.
    let health = tonic_health::pb::health_client::HealthClient::new(app.channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health without a key");
    assert_eq!(
        health.into_inner().status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
    app.shutdown().await.expect("shutdown");
}
