//! The authentication interceptor: reads the caller's API key from the
//! metadata and puts the [`Caller`] it stands for into the request's
//! extensions, where handlers read it.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::app::api_keys::{ApiKeys, Caller};

/// Authenticates each call against `keys`.
#[derive(Clone)]
pub struct Authenticate {
    keys: Arc<ApiKeys>,
}

impl Authenticate {
    /// An interceptor over `keys`.
    pub fn new(keys: Arc<ApiKeys>) -> Self {
        Self { keys }
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
        let caller = self.keys.authenticate(presented_key(&request))?;
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller of a request that passed [`Authenticate`].
pub fn caller<T>(request: &Request<T>) -> Caller {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}
