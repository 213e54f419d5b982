//! What the server does around every call, in one layer: the request id,
//! the trace span, the unary deadline, the RPC metrics and the log line of
//! a failed call.
//!
//! They are one layer, not five, so that a call costs one map lookup of its
//! path, one boxed future and one body wrapper, and the five concerns read
//! in one place. It was built to win LookupCode throughput; a same-sitting
//! A/B against the five tower layers it replaced showed no measurable
//! difference (BENCHMARKS.md, attempt 4).
//!
//! - **Request id.** The caller's `x-request-id` is kept; a call without one
//!   gets a UUID. Either is set on the request (handlers and the audit of
//!   audit reads name the call by it) and on the response.
//! - **Span.** Every call runs in an `rpc` span with its method and request
//!   id, entered while its future and its response body are polled (a batch
//!   stream's work happens in the body).
//! - **Unary deadline.** A unary call always has one: the client's
//!   (`grpc-timeout`) when shorter, else the server's maximum, after which it
//!   is answered DEADLINE_EXCEEDED (`DEADLINE_EXCEEDED` in ErrorInfo) and its
//!   work dropped, so a caller that sends no deadline cannot hold a handler, a
//!   pool connection or a lock for ever. Streams are left alone: a
//!   million-claim batch or a long export must finish, so they have an idle
//!   timeout instead (`grpc::claim_validation`). tonic's own
//!   `Server::timeout` would also cut the time to a stream's response
//!   headers, and answers CANCELLED. Which methods are unary is read from the
//!   descriptor set the server is built from, so a new RPC is classified
//!   without a list to keep.
//! - **Metrics and the failure log.** A call ends at its trailers (where a
//!   stream's status is), or at the headers of a trailers-only answer
//!   (tonic's refusals); a response dropped before that (the client went
//!   away) ends as CANCELLED. Then it is counted by method and code with its
//!   duration, and a failure is logged: ERROR for the server's own failures,
//!   INFO for a caller's mistakes, so alerts fire only for ours.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use prost::Message as _;
use tonic::body::Body;
use tonic::codegen::{Body as HttpBody, Bytes, Context, Poll, Service, http};
use tower_layer::Layer;
use tracing::Instrument as _;

use crate::app::metrics::{self as app_metrics, RPC_DURATION, RPC_REQUESTS};
use crate::error::{AppError, ErrorReason};
use crate::grpc::pb;

/// The header that names a call.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The path (`/package.Service/Method`) of every claimscrub RPC, with
/// whether it is unary.
fn rpc_paths() -> Vec<(String, bool)> {
    let descriptors = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set compiled into the binary decodes");
    let mut paths = Vec::new();
    for file in &descriptors.file {
        for service in &file.service {
            for method in &service.method {
                let streaming = method.client_streaming() || method.server_streaming();
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                paths.push((path, !streaming));
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

/// What the layer knows of a path the server serves.
#[derive(Debug, Clone, Copy)]
struct Method {
    /// A unary claimscrub RPC, which gets the deadline.
    capped: bool,
}

/// The paths the server has: claimscrub's RPCs, health and reflection.
fn known_methods() -> HashMap<String, Method> {
    let mut known: HashMap<String, Method> = rpc_paths()
        .into_iter()
        .map(|(path, unary)| (path, Method { capped: unary }))
        .collect();
    for path in [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ] {
        known.insert(path.to_owned(), Method { capped: false });
    }
    known
}

/// Wraps every call (see the module docs).
#[derive(Clone)]
pub struct CallLayer {
    max_unary_deadline: Duration,
    known: Arc<HashMap<String, Method>>,
}

impl CallLayer {
    /// Unary calls last at most `max_unary_deadline`.
    pub fn new(max_unary_deadline: Duration) -> Self {
        Self {
            max_unary_deadline,
            known: Arc::new(known_methods()),
        }
    }
}

impl<S> Layer<S> for CallLayer {
    type Service = CallService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`CallLayer`] makes.
#[derive(Clone)]
pub struct CallService<S> {
    inner: S,
    layer: CallLayer,
}

impl<S, B> Service<http::Request<B>> for CallService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Send,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let max = self.layer.max_unary_deadline;
        let path = request.uri().path();
        let method = self.layer.known.get(path).copied();
        // A caller probing paths adds no metric series.
        let label = method.map_or("unknown", |_| path);
        let deadline = method.filter(|m| m.capped).map(|_| {
            let asked = request
                .headers()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_grpc_timeout);
            asked.map_or(max, |asked| asked.min(max))
        });
        let request_id = request_id(request.headers());
        let span = tracing::info_span!(
            "rpc",
            method = %path,
            request_id = %request_id.to_str().unwrap_or("")
        );
        let ended = Ended {
            method: app_metrics::enabled().then(|| label.to_owned()),
            started,
            done: false,
        };
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, request_id.clone());
        let body_span = span.clone();
        let call = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        let answer = async move {
            let mut ended = ended;
            let mut response = match deadline {
                None => call.await?,
                Some(deadline) => match tokio::time::timeout(deadline, call).await {
                    Ok(response) => response?,
                    Err(_) => past_deadline(deadline, max),
                },
            };
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
            if let Some(code) = grpc_status(response.headers()) {
                ended.end(code);
            }
            Ok(response.map(|body| {
                Body::new(CallBody {
                    body,
                    ended,
                    span: body_span,
                })
            }))
        };
        Box::pin(answer.instrument(span))
    }
}

/// The request id of a call: the caller's, else a new UUID. It is marked
/// never to be indexed: a value new on every call would take a place in
/// HPACK's table of the connection and push out the entries that repeat
/// (0.1–0.2 µs of CPU a call, BENCHMARKS.md).
fn request_id(headers: &http::HeaderMap) -> http::HeaderValue {
    let mut id = match headers.get(REQUEST_ID_HEADER) {
        Some(id) => id.clone(),
        None => {
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            http::HeaderValue::from_str(id).expect("a UUID is a header value")
        }
    };
    id.set_sensitive(true);
    id
}

/// The answer of a unary call past its deadline.
fn past_deadline(deadline: Duration, max: Duration) -> http::Response<Body> {
    tracing::info!(
        deadline_ms = deadline.as_millis(),
        "unary call past its deadline; its work is dropped"
    );
    tonic::Status::from(AppError::DeadlineExceeded {
        reason: ErrorReason::DeadlineExceeded,
        message: format!(
            "the call ran past its deadline of {} ms (the client's, at most the server's {} s)",
            deadline.as_millis(),
            max.as_secs()
        ),
    })
    .into_http()
}

/// The `grpc-status` of a header map.
fn grpc_status(headers: &http::HeaderMap) -> Option<tonic::Code> {
    let code = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    Some(tonic::Code::from_i32(code))
}

/// The end of one call, recorded once.
struct Ended {
    /// The method label, when metrics are recorded.
    method: Option<String>,
    started: Instant,
    done: bool,
}

impl Ended {
    fn end(&mut self, code: tonic::Code) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let latency = self.started.elapsed();
        if let Some(method) = self.method.take() {
            ::metrics::counter!(RPC_REQUESTS, "method" => method.clone(), "code" => format!("{code:?}"))
                .increment(1);
            ::metrics::histogram!(RPC_DURATION, "method" => method).record(latency.as_secs_f64());
        }
        let latency_ms = latency.as_millis();
        match code {
            tonic::Code::Ok => tracing::debug!(latency_ms, "rpc finished"),
            tonic::Code::Internal
            | tonic::Code::Unknown
            | tonic::Code::DataLoss
            | tonic::Code::Unavailable => tracing::error!(?code, latency_ms, "rpc failed"),
            _ => tracing::info!(?code, latency_ms, "rpc refused"),
        }
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.end(tonic::Code::Cancelled);
    }
}

/// A response body polled in its call's span, which ends the call when its
/// trailers pass.
struct CallBody {
    body: Body,
    ended: Ended,
    span: tracing::Span,
}

impl HttpBody for CallBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        let frame = std::task::ready!(Pin::new(&mut this.body).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.ended.end(code);
                }
            }
            Some(Err(error)) => {
                tracing::error!(%error, "rpc transport error");
                this.ended.end(tonic::Code::Unknown);
            }
            None => this.ended.end(tonic::Code::Ok),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
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
        let unary: Vec<String> = rpc_paths()
            .into_iter()
            .filter(|(_, unary)| *unary)
            .map(|(path, _)| path)
            .collect();
        assert!(
            unary
                .iter()
                .any(|p| p == "/claimscrub.v1.ClaimValidationService/ValidateClaim")
        );
        assert!(
            unary
                .iter()
                .any(|p| p == "/claimscrub.v1.AuditService/GetAuditRecord")
        );
        for stream in [
            "/claimscrub.v1.ClaimValidationService/ValidateClaimBatch",
            "/claimscrub.v1.AuditService/ExportAuditRecords",
            "/claimscrub.v1.X12Service/ValidateInterchange",
        ] {
            assert!(!unary.iter().any(|p| p == stream), "{stream}");
        }
    }

    #[test]
    fn a_callers_request_id_is_kept_and_a_missing_one_is_made() {
        let mut headers = http::HeaderMap::new();
        let made = request_id(&headers);
        assert_eq!(made.len(), 36);
        assert!(uuid::Uuid::parse_str(made.to_str().expect("ascii")).is_ok());
        assert!(made.is_sensitive(), "never indexed by HPACK");
        assert_ne!(made, request_id(&headers), "a new id per call");
        headers.insert(
            REQUEST_ID_HEADER,
            "caller-chosen-17".parse().expect("value"),
        );
        let kept = request_id(&headers);
        assert_eq!(kept, "caller-chosen-17");
        assert!(kept.is_sensitive());
    }
}
