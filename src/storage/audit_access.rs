//! The access log of the audit store: one row per read, append-only.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;

/// One read of the audit store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    pub id: Uuid,
    pub access_time: DateTime<Utc>,
    /// Who read (the API key's submitter).
    pub submitter: String,
    /// The call's x-request-id.
    pub request_id: String,
    /// The RPC, e.g. `ListAuditRecords`.
    pub method: String,
    /// Its filter or record name, JSON.
    pub parameters: serde_json::Value,
    /// Records it returned.
    pub record_count: i64,
}

/// Appends one read.
pub async fn insert(
    pool: &PgPool,
    submitter: &str,
    request_id: &str,
    method: &str,
    parameters: &serde_json::Value,
    record_count: u64,
) -> Result<(), AppError> {
    sqlx::query(
        "insert into audit_access (id, submitter, request_id, method, parameters, record_count) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::new_v4())
    .bind(submitter)
    .bind(request_id)
    .bind(method)
    .bind(parameters)
    .bind(i64::try_from(record_count).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}

/// Reads newest first, after `after` (a row's time and id), of `submitter`
/// when given; at most `limit`.
pub async fn list(
    pool: &PgPool,
    submitter: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<AccessRow>, AppError> {
    let (time, id) = after.unzip();
    Ok(sqlx::query_as(
        "select id, access_time, submitter, request_id, method, parameters, record_count \
         from audit_access \
         where ($1::text is null or submitter = $1) \
           and ($2::timestamptz is null or (access_time, id) < ($2, $3)) \
         order by access_time desc, id desc limit $4",
    )
    .bind(submitter)
    .bind(time)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
