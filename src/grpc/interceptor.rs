//! The authentication interceptor: reads the caller's API key from the
//! metadata, or the SANs of its verified client certificate (mTLS), refuses
//! the call when its credential lacks the scope the RPC needs
//! (`domain::access::RPC_SCOPES`), and puts the [`Caller`] it stands for
//! into the request's extensions, where handlers read it.

use std::sync::Arc;

use tonic::codegen::{Context, Poll, Service, http};
use tonic::server::NamedService;
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::app::api_keys::{ApiKeys, Caller};
use crate::app::rate_limit::RateLimiter;
use crate::domain::access;
use crate::error::AppError;
use crate::tls;

/// Authenticates each call against `keys`, then holds it to its scope and
/// to its caller's rate.
#[derive(Clone)]
pub struct Authenticate {
    keys: Arc<ApiKeys>,
    rate: Option<Arc<RateLimiter>>,
}

impl Authenticate {
    /// An interceptor over `keys`, limiting each caller by `rate` if given.
    pub fn new(keys: Arc<ApiKeys>, rate: Option<Arc<RateLimiter>>) -> Self {
        Self { keys, rate }
    }
}

/// The key of a call: `authorization: Bearer <key>`, else `x-api-key`.
fn presented_key<T>(request: &Request<T>) -> Option<&str> {
    let metadata = request.metadata();
    metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| metadata.get("x-api-key").and_then(|v| v.to_str().ok()))
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let certificate_sans = || {
            request
                .peer_certs()
                .and_then(|chain| chain.first().map(|leaf| tls::certificate_sans(leaf)))
                .unwrap_or_default()
        };
        let caller = self
            .keys
            .authenticate(presented_key(&request), certificate_sans)?;
        // Fail closed: a service mounted without `ScopeOfPath` serves nothing.
        let NeededScope(needed) = *request
            .extensions()
            .get::<NeededScope>()
            .ok_or_else(|| AppError::internal("a call without its needed scope"))?;
        // A method the table does not name is no RPC of ours: the server
        // answers UNIMPLEMENTED.
        if let Some(scope) = needed {
            caller.may(scope)?;
        }
        if let Some(rate) = &self.rate {
            rate.take(&caller.submitter)?;
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The scope the RPC of a request needs, put there by [`ScopeOfPath`].
#[derive(Debug, Clone, Copy)]
struct NeededScope(Option<access::Scope>);

/// Wraps a service so each request carries the scope its RPC needs, read
/// from the request path: tonic's interceptors do not see the URI, so this
/// runs in front of [`Authenticate`].
#[derive(Debug, Clone)]
pub struct ScopeOfPath<S> {
    inner: S,
}

impl<S> ScopeOfPath<S> {
    /// `inner` (an intercepted service) behind the path check.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> Service<http::Request<B>> for ScopeOfPath<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let needed = request
            .uri()
            .path()
            .strip_prefix('/')
            .and_then(|path| path.split_once('/'))
            .and_then(|(service, method)| access::required_scope(service, method));
        request.extensions_mut().insert(NeededScope(needed));
        self.inner.call(request)
    }
}

impl<S: NamedService> NamedService for ScopeOfPath<S> {
    const NAME: &'static str = S::NAME;
}

/// The caller of a request that passed [`Authenticate`].
pub fn caller<T>(request: &Request<T>) -> Caller {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}
