//! Unary calls always have a deadline: the client's (`grpc-timeout`) when
//! shorter, else the server's maximum, after which the call is answered
//! DEADLINE_EXCEEDED (`DEADLINE_EXCEEDED` in ErrorInfo) and its work
//! dropped. A caller that sends no deadline cannot hold a handler, a pool
//! connection or a lock for ever.
//!
//! Streams are left alone: a million-claim batch or a long export must
//! finish, so they have an idle timeout instead (`grpc::claim_validation`).
//! Which methods are unary is read from the descriptor set the server is
//! built from, so a new RPC is classified without a list to keep.
//!
//! tonic's own `Server::timeout` would also cut the time to a stream's
//! response headers, and answers CANCELLED; hence this layer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use prost::Message as _;
use tonic::codegen::{Context, Poll, Service, http};
use tower_layer::Layer;

use crate::error::{AppError, ErrorReason};
use crate::grpc::pb;

/// The paths (`/package.Service/Method`) of every unary claimscrub RPC.
pub fn unary_paths() -> HashSet<String> {
    rpc_paths(true)
}

/// The paths of every claimscrub RPC, or of the unary ones only.
pub fn rpc_paths(unary_only: bool) -> HashSet<String> {
    let descriptors = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set compiled into the binary decodes");
    let mut paths = HashSet::new();
    for file in &descriptors.file {
        for service in &file.service {
            for method in &service.method {
                let streaming = method.client_streaming() || method.server_streaming();
                if !(unary_only && streaming) {
                    paths.insert(format!(
                        "/{}.{}/{}",
                        file.package(),
                        service.name(),
                        method.name()
                    ));
                }
            }
        }
    }
    paths
}

/// The deadline a `grpc-timeout` value asks for (gRPC over HTTP/2: at
/// most 8 digits, then H, M, S, m, u or n); `None` when it cannot be read.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Caps unary calls at `max` (or the client's shorter deadline).
#[derive(Clone)]
pub struct UnaryDeadlineLayer {
    max: Duration,
    unary: Arc<HashSet<String>>,
}

impl UnaryDeadlineLayer {
    /// Unary calls of claimscrub last at most `max`.
    pub fn new(max: Duration) -> Self {
        Self {
            max,
            unary: Arc::new(unary_paths()),
        }
    }
}

impl<S> Layer<S> for UnaryDeadlineLayer {
    type Service = UnaryDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UnaryDeadline {
            inner,
            max: self.max,
            unary: Arc::clone(&self.unary),
        }
    }
}

/// The service [`UnaryDeadlineLayer`] makes.
#[derive(Clone)]
pub struct UnaryDeadline<S> {
    inner: S,
    max: Duration,
    unary: Arc<HashSet<String>>,
}

impl<S, B, R> Service<http::Request<B>> for UnaryDeadline<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !self.unary.contains(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let asked = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout);
        let deadline = asked.map_or(self.max, |asked| asked.min(self.max));
        let max = self.max;
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(deadline, call).await {
                Ok(answer) => answer,
                Err(_) => {
                    tracing::info!(
                        deadline_ms = deadline.as_millis(),
                        "unary call past its deadline; its work is dropped"
                    );
                    let status = tonic::Status::from(AppError::DeadlineExceeded {
                        reason: ErrorReason::DeadlineExceeded,
                        message: format!(
                            "the call ran past its deadline of {} ms (the client's, at most the server's {} s)",
                            deadline.as_millis(),
                            max.as_secs()
                        ),
                    });
                    Ok(status.into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(
            parse_grpc_timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(parse_grpc_timeout("5n"), Some(Duration::from_nanos(5)));
        for unreadable in ["", "S", "123456789S", "10s", "-1S", "1.5S", "10"] {
            assert_eq!(parse_grpc_timeout(unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn unary_rpcs_are_told_from_streams_by_the_descriptors() {
        let unary = unary_paths();
        assert!(unary.contains("/claimscrub.v1.ClaimValidationService/ValidateClaim"));
        assert!(unary.contains("/claimscrub.v1.AuditService/GetAuditRecord"));
        for stream in [
            "/claimscrub.v1.ClaimValidationService/ValidateClaimBatch",
            "/claimscrub.v1.AuditService/ExportAuditRecords",
            "/claimscrub.v1.X12Service/ValidateInterchange",
        ] {
            assert!(!unary.contains(stream), "{stream}");
        }
    }
}
