//! API keys and client certificates: only the sha256 of a key is stored,
//! or the SAN a registered client certificate carries, with the submitter
//! name it stands for.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{AppError, ErrorReason};

/// One key as listed (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// Key id.
    pub id: Uuid,
    /// Submitter recorded on the decisions made with the key.
    pub submitter: String,
    /// When it was created.
    pub create_time: DateTime<Utc>,
    /// When it was revoked.
    pub revoke_time: Option<DateTime<Utc>>,
    /// Its scopes by name.
    pub scopes: Vec<String>,
    /// When it stops working, if ever.
    pub expire_time: Option<DateTime<Utc>>,
    /// The client certificate SAN it registers; `None` for a key.
    pub cert_san: Option<String>,
}

/// A key or certificate that is not revoked, as the server holds it:
/// exactly one of `key_sha256` and `cert_san` is set.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveKey {
    pub key_sha256: Option<Vec<u8>>,
    pub cert_san: Option<String>,
    pub submitter: String,
    pub scopes: Vec<String>,
    pub expire_time: Option<DateTime<Utc>>,
}

/// What a new row stands for: a key (its hash) or a client certificate SAN.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The sha256 of a key.
    KeySha256(&'a [u8]),
    /// A SAN a verified client certificate carries.
    CertSan(&'a str),
}

/// Stores a new credential for `submitter`. A SAN registered and not
/// revoked already is refused (FAILED_PRECONDITION).
pub async fn insert(
    pool: &PgPool,
    id: Uuid,
    submitter: &str,
    credential: Credential<'_>,
    scopes: &[&str],
    expire_time: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    let (key_sha256, cert_san) = match credential {
        Credential::KeySha256(sha) => (Some(sha), None),
        Credential::CertSan(san) => (None, Some(san)),
    };
    let inserted = sqlx::query(
        "insert into api_key (id, submitter, key_sha256, cert_san, scopes, expire_time) \
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
    )
    .bind(id)
    .bind(submitter)
    .bind(key_sha256)
    .bind(cert_san)
    .bind(scopes)
    .bind(expire_time)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::FailedPrecondition {
            reason: ErrorReason::CertificateRegistered,
            message: "this certificate SAN is registered already; revoke it first".into(),
        });
    }
    Ok(())
}

/// Revokes key `id`; false when there is no such unrevoked key.
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<bool, AppError> {
    let done =
        sqlx::query("update api_key set revoke_time = now() where id = $1 and revoke_time is null")
            .bind(id)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Every key, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<ApiKeyRow>, AppError> {
    Ok(sqlx::query_as(
        "select id, submitter, create_time, revoke_time, scopes, expire_time, cert_san \
         from api_key order by create_time desc",
    )
    .fetch_all(pool)
    .await?)
}

/// The keys not revoked (expired ones too: the server compares the expiry
/// itself, so a key stops at its time, not at the next refresh).
pub async fn active(pool: &PgPool) -> Result<Vec<ActiveKey>, AppError> {
    Ok(sqlx::query_as(
        "select key_sha256, cert_san, submitter, scopes, expire_time \
         from api_key where revoke_time is null",
    )
    .fetch_all(pool)
    .await?)
}
