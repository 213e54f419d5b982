//! Caller identity: a caller presents an API key (`authorization: Bearer
//! <key>` or `x-api-key`), or, over mTLS, a client certificate whose SAN
//! was registered (`api-key create --cert-san`); the submitter it stands
//! for is recorded on every decision. The active keys and certificates are
//! held in memory (the gRPC interceptor is synchronous) and refreshed from
//! PostgreSQL every few seconds, so a created or revoked one takes effect
//! within [`REFRESH_EVERY`] on every instance.
//!
//! Every call needs a key or a registered certificate; only development
//! mode (`serve --dev`) serves a call with neither, as `anonymous`. A
//! credential that is presented must be valid (known, not revoked, not
//! expired) either way, and a key, when presented, decides over a
//! certificate. Each holds scopes (`domain::access`); the interceptor
//! refuses an RPC whose scope the caller lacks. The anonymous caller of
//! development mode may call everything.

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
use crate::storage::api_keys::Credential;

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

/// A known key or certificate: who it stands for, its scopes and expiry.
#[derive(Debug, Clone)]
struct KnownKey {
    submitter: Arc<str>,
    scopes: Scopes,
    expire_time: Option<DateTime<Utc>>,
}

impl KnownKey {
    fn caller_if_live(&self) -> Option<Caller> {
        self.expire_time
            .is_none_or(|t| Utc::now() < t)
            .then(|| Caller {
                submitter: Arc::clone(&self.submitter),
                scopes: self.scopes,
            })
    }
}

/// The active credentials: keys by sha256, certificates by SAN.
#[derive(Debug, Default)]
struct Known {
    keys: HashMap<[u8; 32], KnownKey>,
    certificates: HashMap<String, KnownKey>,
}

/// The active keys and registered client certificates.
pub struct ApiKeys {
    known: ArcSwap<Known>,
    required: bool,
}

/// A SAN as registered and matched: DNS names compare without case (RFC
/// 4343); a URI (anything with a `:`) compares exactly.
pub fn normalize_san(name: &str) -> String {
    let name = name.trim();
    if name.contains(':') {
        name.to_owned()
    } else {
        name.to_ascii_lowercase()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.trim().as_bytes()).into()
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
            known: ArcSwap::from_pointee(Known::default()),
            required,
        };
        keys.refresh(pool).await?;
        Ok(keys)
    }

    async fn refresh(&self, pool: &PgPool) -> Result<(), AppError> {
        let mut known = Known::default();
        for key in storage::api_keys::active(pool).await? {
            let entry = KnownKey {
                submitter: Arc::from(key.submitter),
                scopes: Scopes::parse_list(&key.scopes.join(",")).unwrap_or_default(),
                expire_time: key.expire_time,
            };
            if let Some(sha) = key.key_sha256 {
                // Only a SHA-256 digest (32 bytes) can match a presented key.
                if let Ok(sha) = <[u8; 32]>::try_from(sha.as_slice()) {
                    known.keys.insert(sha, entry);
                }
            } else if let Some(san) = key.cert_san {
                known.certificates.insert(normalize_san(&san), entry);
            }
        }
        self.known.store(Arc::new(known));
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

    /// The caller a presented key stands for; without a key, the caller of
    /// the first registered SAN of the verified client certificate
    /// (`certificate_sans` reads them, empty without one; it runs only when
    /// no key is presented, so a keyed call over TLS parses no certificate);
    /// with neither, anonymous in development mode and refused otherwise.
    pub fn authenticate(
        &self,
        key: Option<&str>,
        certificate_sans: impl FnOnce() -> Vec<String>,
    ) -> Result<Caller, AppError> {
        let known = self.known.load();
        if let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) {
            return known
                .keys
                .get(&digest(key))
                .and_then(KnownKey::caller_if_live)
                .ok_or_else(|| {
                    unauthenticated(
                        ErrorReason::ApiKeyInvalid,
                        "the API key is unknown, revoked or expired",
                    )
                });
        }
        let certificate_sans = certificate_sans();
        if !certificate_sans.is_empty() {
            return certificate_sans
                .iter()
                .find_map(|san| known.certificates.get(&normalize_san(san))?.caller_if_live())
                .ok_or_else(|| {
                    unauthenticated(
                        ErrorReason::CertificateUnregistered,
                        "the client certificate carries no registered, unrevoked and unexpired SAN; \
                         register one with `api-key create --cert-san`, or send an API key",
                    )
                });
        }
        if self.required {
            return Err(unauthenticated(
                ErrorReason::ApiKeyRequired,
                "an API key (authorization: Bearer <key>) or a registered client certificate is required",
            ));
        }
        Ok(Caller::anonymous())
    }
}

fn checked_submitter(submitter: &str) -> Result<&str, AppError> {
    let submitter = submitter.trim();
    if submitter.is_empty() || submitter.len() > 200 {
        return Err(AppError::invalid_field(
            "submitter",
            "a submitter name of 1 to 200 characters is required",
        ));
    }
    Ok(submitter)
}

/// Creates a key for `submitter` with `scopes`, working until
/// `expire_time` if given; the key itself is returned once and never stored.
pub async fn create(
    pool: &PgPool,
    submitter: &str,
    scopes: Scopes,
    expire_time: Option<DateTime<Utc>>,
) -> Result<(Uuid, String), AppError> {
    let submitter = checked_submitter(submitter)?;
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
        Credential::KeySha256(&digest(&key)),
        &scopes.names(),
        expire_time,
    )
    .await?;
    Ok((id, key))
}

/// Registers the client certificate SAN `san` (a DNS name or a URI) for
/// `submitter` with `scopes`, working until `expire_time` if given: a call
/// over mTLS whose verified certificate carries it needs no key.
pub async fn register_certificate(
    pool: &PgPool,
    submitter: &str,
    san: &str,
    scopes: Scopes,
    expire_time: Option<DateTime<Utc>>,
) -> Result<Uuid, AppError> {
    let submitter = checked_submitter(submitter)?;
    let san = normalize_san(san);
    if san.is_empty()
        || san.len() > 1000
        || san.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::invalid_field(
            "cert_san",
            "a DNS name or URI of 1 to 1000 characters without spaces is required",
        ));
    }
    let id = Uuid::new_v4();
    storage::api_keys::insert(
        pool,
        id,
        submitter,
        Credential::CertSan(&san),
        &scopes.names(),
        expire_time,
    )
    .await?;
    Ok(id)
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
        let expired = Some(Utc::now() - chrono::Duration::seconds(1));
        ApiKeys {
            known: ArcSwap::from_pointee(Known {
                keys: HashMap::from([
                    (digest("csk_good"), known(None)),
                    (digest("csk_expired"), known(expired)),
                ]),
                certificates: HashMap::from([
                    ("gateway.clearinghouse-a.example".to_owned(), known(None)),
                    ("spiffe://a.example/Gateway".to_owned(), known(None)),
                    ("old.clearinghouse-a.example".to_owned(), known(expired)),
                ]),
            }),
            required,
        }
    }

    fn sans(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_known_key_names_its_submitter_and_scopes() {
        let caller = keys(true)
            .authenticate(Some(" csk_good "), Vec::new)
            .expect("valid");
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
        assert!(
            keys(false)
                .authenticate(Some("csk_expired"), Vec::new)
                .is_err()
        );
    }

    #[test]
    fn a_wrong_key_is_refused_even_when_keys_are_optional() {
        let error = keys(false)
            .authenticate(Some("csk_bad"), Vec::new)
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
            keys(false).authenticate(None, Vec::new).expect("anonymous"),
            Caller::anonymous()
        );
        assert!(keys(true).authenticate(Some("  "), Vec::new).is_err());
    }

    #[test]
    fn a_registered_certificate_stands_for_its_submitter() {
        let keys = keys(true);
        let by_dns = keys
            .authenticate(None, || {
                sans(&["other.example", "Gateway.Clearinghouse-A.example"])
            })
            .expect("the DNS SAN matches without case");
        assert_eq!(&*by_dns.submitter, "clearinghouse-a");
        assert!(
            keys.authenticate(None, || sans(&["spiffe://a.example/Gateway"]))
                .is_ok()
        );
        let uri_case = keys
            .authenticate(None, || sans(&["spiffe://a.example/gateway"]))
            .expect_err("a URI matches exactly");
        assert!(matches!(
            uri_case,
            AppError::Unauthenticated {
                reason: ErrorReason::CertificateUnregistered,
                ..
            }
        ));
        assert!(
            keys.authenticate(None, || sans(&["old.clearinghouse-a.example"]))
                .is_err(),
            "an expired registration is refused"
        );
    }

    #[test]
    fn a_presented_key_decides_over_the_certificate() {
        let keys = keys(true);
        let certificate = sans(&["gateway.clearinghouse-a.example"]);
        assert!(keys.authenticate(Some("csk_bad"), || certificate).is_err());
    }

    #[test]
    fn an_unregistered_certificate_is_refused_even_in_development_mode() {
        assert!(
            keys(false)
                .authenticate(None, || sans(&["stranger.example"]))
                .is_err()
        );
    }
}
