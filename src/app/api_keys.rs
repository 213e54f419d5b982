//! Caller identity: a caller presents an API key (`authorization: Bearer
//! <key>` or `x-api-key`); the submitter it stands for is recorded on every
//! decision. The active keys are held in memory (the gRPC interceptor is
//! synchronous) and refreshed from PostgreSQL every few seconds, so a
//! created or revoked key takes effect within [`REFRESH_EVERY`] on every
//! instance.
//!
//! Every call needs a key; only development mode (`serve --dev`) serves a
//! call without one, as `anonymous`. A key that is presented must be valid (known, not revoked, not
//! expired) either way. A key holds scopes (`domain::access`); the
//! interceptor refuses an RPC whose scope the caller lacks. The anonymous
//! caller of development mode may call everything.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::access::{Scope, Scopes};
use crate::error::{AppError, ErrorReason};
use crate::storage;

/// How often the key table is read again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// Submitter recorded for calls without a key.
pub const ANONYMOUS: &str = "anonymous";

/// Prefix of generated keys, so a leaked one is recognisable in a scan.
const KEY_PREFIX: &str = "csk_";

/// The submitter a call is made for, and what it may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who the decisions and batches of the call are recorded for.
    pub submitter: Arc<str>,
    /// The scopes of its key.
    pub scopes: Scopes,
}

impl Caller {
    /// The caller of a call without a key.
    pub fn anonymous() -> Self {
        Self {
            submitter: Arc::from(ANONYMOUS),
            scopes: Scopes::all(),
        }
    }

    /// `Ok` when the caller holds `scope`, else PERMISSION_DENIED naming it.
    pub fn may(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        Err(AppError::PermissionDenied {
            reason: ErrorReason::ScopeMissing,
            scope: scope.as_str(),
            message: format!("the API key lacks the scope {scope} this call needs"),
        })
    }
}

/// A known key: who it stands for, its scopes and expiry.
#[derive(Debug, Clone)]
struct KnownKey {
    submitter: Arc<str>,
    scopes: Scopes,
    expire_time: Option<DateTime<Utc>>,
}

/// The active keys, by sha256.
pub struct ApiKeys {
    keys: ArcSwap<HashMap<Vec<u8>, KnownKey>>,
    required: bool,
}

fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

fn unauthenticated(reason: ErrorReason, message: &str) -> AppError {
    AppError::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

impl ApiKeys {
    /// Reads the active keys; `required` refuses calls without one.
    pub async fn load(pool: &PgPool, required: bool) -> Result<Self, AppError> {
        let keys = Self {
            keys: ArcSwap::from_pointee(HashMap::new()),
            required,
        };
        keys.refresh(pool).await?;
        Ok(keys)
    }

    async fn refresh(&self, pool: &PgPool) -> Result<(), AppError> {
        let active = storage::api_keys::active(pool).await?;
        self.keys.store(Arc::new(
            active
                .into_iter()
                .map(|key| {
                    let scopes = Scopes::parse_list(&key.scopes.join(",")).unwrap_or_default();
                    let known = KnownKey {
                        submitter: Arc::from(key.submitter),
                        scopes,
                        expire_time: key.expire_time,
                    };
                    (key.key_sha256, known)
                })
                .collect(),
        ));
        Ok(())
    }

    /// Re-reads the keys every [`REFRESH_EVERY`] until `stop`; a failed read
    /// keeps the keys already known.
    pub fn spawn_refresh(
        self: Arc<Self>,
        pool: PgPool,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        super::spawn_every(REFRESH_EVERY, stop, move || {
            let (keys, pool) = (Arc::clone(&self), pool.clone());
            async move {
                if let Err(error) = keys.refresh(&pool).await {
                    tracing::warn!(%error, "API keys not refreshed; keeping the known keys");
                }
            }
        })
    }

    /// The caller a presented key (or its absence) stands for.
    pub fn authenticate(&self, key: Option<&str>) -> Result<Caller, AppError> {
        match key.map(str::trim).filter(|k| !k.is_empty()) {
            None if self.required => Err(unauthenticated(
                ErrorReason::ApiKeyRequired,
                "an API key is required (authorization: Bearer <key>)",
            )),
            None => Ok(Caller::anonymous()),
            Some(key) => self
                .keys
                .load()
                .get(&digest(key))
                .filter(|known| known.expire_time.is_none_or(|t| Utc::now() < t))
                .map(|known| Caller {
                    submitter: Arc::clone(&known.submitter),
                    scopes: known.scopes,
                })
                .ok_or_else(|| {
                    unauthenticated(
                        ErrorReason::ApiKeyInvalid,
                        "the API key is unknown, revoked or expired",
                    )
                }),
        }
    }
}

/// Creates a key for `submitter` with `scopes`, working until
/// `expire_time` if given; the key itself is returned once and never stored.
pub async fn create(
    pool: &PgPool,
    submitter: &str,
    scopes: Scopes,
    expire_time: Option<DateTime<Utc>>,
) -> Result<(Uuid, String), AppError> {
    let submitter = submitter.trim();
    if submitter.is_empty() || submitter.len() > 200 {
        return Err(AppError::invalid_field(
            "submitter",
            "a submitter name of 1 to 200 characters is required",
        ));
    }
    let secret: String = [Uuid::new_v4(), Uuid::new_v4()]
        .iter()
        .map(|u| u.simple().to_string())
        .collect();
    let key = format!("{KEY_PREFIX}{secret}");
    let id = Uuid::new_v4();
    storage::api_keys::insert(
        pool,
        id,
        submitter,
        &digest(&key),
        &scopes.names(),
        expire_time,
    )
    .await?;
    Ok((id, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(required: bool) -> ApiKeys {
        let lookup = Scopes::parse_list("lookup").expect("scope");
        let known = |expire_time| KnownKey {
            submitter: Arc::from("clearinghouse-a"),
            scopes: lookup,
            expire_time,
        };
        ApiKeys {
            keys: ArcSwap::from_pointee(HashMap::from([
                (digest("csk_good"), known(None)),
                (
                    digest("csk_expired"),
                    known(Some(Utc::now() - chrono::Duration::seconds(1))),
                ),
            ])),
            required,
        }
    }

    #[test]
    fn a_known_key_names_its_submitter_and_scopes() {
        let caller = keys(true).authenticate(Some(" csk_good ")).expect("valid");
        assert_eq!(&*caller.submitter, "clearinghouse-a");
        assert!(caller.may(Scope::Lookup).is_ok());
        assert!(matches!(
            caller.may(Scope::AuditRead),
            Err(AppError::PermissionDenied {
                reason: ErrorReason::ScopeMissing,
                scope: "audit:read",
                ..
            })
        ));
    }

    #[test]
    fn an_expired_key_is_refused() {
        assert!(keys(false).authenticate(Some("csk_expired")).is_err());
    }

    #[test]
    fn a_wrong_key_is_refused_even_when_keys_are_optional() {
        let error = keys(false)
            .authenticate(Some("csk_bad"))
            .expect_err("refused");
        assert!(matches!(
            error,
            AppError::Unauthenticated {
                reason: ErrorReason::ApiKeyInvalid,
                ..
            }
        ));
    }

    #[test]
    fn no_key_is_anonymous_unless_keys_are_required() {
        assert_eq!(
            keys(false).authenticate(None).expect("anonymous"),
            Caller::anonymous()
        );
        assert!(keys(true).authenticate(Some("  ")).is_err());
    }
}
