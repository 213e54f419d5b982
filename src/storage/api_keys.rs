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
}

/// Stores a new key's hash for `submitter`.
pub async fn insert(
    pool: &PgPool,
    id: Uuid,
    submitter: &str,
    key_sha256: &[u8],
) -> Result<(), AppError> {
    sqlx::query("insert into api_key (id, submitter, key_sha256) values ($1, $2, $3)")
        .bind(id)
        .bind(submitter)
        .bind(key_sha256)
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
        "select id, submitter, create_time, revoke_time from api_key order by create_time desc",
    )
    .fetch_all(pool)
    .await?)
}

/// Hashes and submitters of the keys not revoked.
pub async fn active(pool: &PgPool) -> Result<Vec<(Vec<u8>, String)>, AppError> {
    Ok(
        sqlx::query_as("select key_sha256, submitter from api_key where revoke_time is null")
            .fetch_all(pool)
            .await?,
    )
}
