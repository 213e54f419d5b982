//! API keys: only the sha256 of a key is stored, with the submitter name
//! it stands for.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;

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
}

/// A key that is not revoked, as the server holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveKey {
    pub key_sha256: Vec<u8>,
    pub submitter: String,
    pub scopes: Vec<String>,
    pub expire_time: Option<DateTime<Utc>>,
}

/// Stores a new key's hash for `submitter`.
pub async fn insert(
    pool: &PgPool,
    id: Uuid,
    submitter: &str,
    key_sha256: &[u8],
    scopes: &[&str],
    expire_time: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    sqlx::query(
        "insert into api_key (id, submitter, key_sha256, scopes, expire_time) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(submitter)
    .bind(key_sha256)
    .bind(scopes)
    .bind(expire_time)
    .execute(pool)
    .await?;
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
        "select id, submitter, create_time, revoke_time, scopes, expire_time \
         from api_key order by create_time desc",
    )
    .fetch_all(pool)
    .await?)
}

/// The keys not revoked (expired ones too: the server compares the expiry
/// itself, so a key stops at its time, not at the next refresh).
pub async fn active(pool: &PgPool) -> Result<Vec<ActiveKey>, AppError> {
    Ok(sqlx::query_as(
        "select key_sha256, submitter, scopes, expire_time from api_key where revoke_time is null",
    )
    .fetch_all(pool)
    .await?)
}
