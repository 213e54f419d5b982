//! The X12 acknowledgements' control numbers, per submitter.

use sqlx::PgPool;

use crate::error::AppError;

/// Reserves `count` consecutive control numbers for `submitter` and returns
/// the first; concurrent callers (on any replica) get disjoint runs.
pub async fn reserve_control_numbers(
    pool: &PgPool,
    submitter: &str,
    count: u32,
) -> Result<u64, AppError> {
    let last: i64 = sqlx::query_scalar(
        "insert into x12_control_number as c (submitter, last_value) values ($1, $2)
         on conflict (submitter) do update set last_value = c.last_value + excluded.last_value
         returning last_value",
    )
    .bind(submitter)
    .bind(i64::from(count))
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(last - i64::from(count) + 1).unwrap_or(1))
}
