//! RPC metrics: every call counted by method and status code, with its
//! duration, when its response ends: at the trailers (where a stream's
//! status is), or at the headers of a trailers-only answer (tonic's
//! refusals). A response dropped before it ends (the client went away) is
//! counted as CANCELLED.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::codegen::{Body as HttpBody, Bytes, Context, Poll, Service, http};
use tower_layer::Layer;

use crate::app::metrics::{RPC_DURATION, RPC_REQUESTS};

/// The method label of a path: itself when it is an RPC the server has,
/// else `unknown`, so a caller probing paths adds no series.
fn method_label(known: &HashSet<String>, path: &str) -> String {
    if known.contains(path) {
        path.to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// The `grpc-status` of a header map, as its code name.
fn status_name(headers: &http::HeaderMap) -> Option<String> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(format!("{:?}", tonic::Code::from_i32(code)))
}

/// Counts RPCs (see the module docs).
#[derive(Clone)]
pub struct RpcMetricsLayer {
    known: Arc<HashSet<String>>,
}

impl RpcMetricsLayer {
    /// Labels the RPCs of the descriptors, health and reflection by path.
    pub fn new() -> Self {
        let mut known = super::deadline::rpc_paths(false);
        known.extend(
            [
                "/grpc.health.v1.Health/Check",
                "/grpc.health.v1.Health/Watch",
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            ]
            .map(str::to_owned),
        );
        Self {
            known: Arc::new(known),
        }
    }
}

impl Default for RpcMetricsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            known: Arc::clone(&self.known),
        }
    }
}

/// The service [`RpcMetricsLayer`] makes.
#[derive(Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    known: Arc<HashSet<String>>,
}

impl<S, B, R> Service<http::Request<B>> for RpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
    R: HttpBody<Data = Bytes> + Unpin + Send + 'static,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !crate::app::metrics::enabled() {
            let call = self.inner.call(request);
            return Box::pin(async move { Ok(call.await?.map(Body::new)) });
        }
        let method = method_label(&self.known, request.uri().path());
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            let mut call = Call {
                method,
                started,
                recorded: false,
            };
            if let Some(code) = status_name(response.headers()) {
                call.record(&code);
            }
            Ok(response.map(|body| Body::new(Metered { body, call })))
        })
    }
}

/// One call, recorded once.
struct Call {
    method: String,
    started: Instant,
    recorded: bool,
}

impl Call {
    fn record(&mut self, code: &str) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        metrics::counter!(RPC_REQUESTS, "method" => self.method.clone(), "code" => code.to_owned())
            .increment(1);
        metrics::histogram!(RPC_DURATION, "method" => self.method.clone())
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.record("Cancelled");
    }
}

/// A response body that records its call when its trailers pass.
struct Metered<R> {
    body: R,
    call: Call,
}

impl<R> HttpBody for Metered<R>
where
    R: HttpBody<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = R::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let frame = std::task::ready!(Pin::new(&mut this.body).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(status_name) {
                    this.call.record(&code);
                }
            }
            Some(Err(_)) => this.call.record("Unknown"),
            None => this.call.record("Ok"),
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
