//! Batches: the `validation_batch` row (submitter, counts, state,
//! durable_through_sequence) and one `batch_item` per sequence, written with
//! the item's audit record in one transaction per chunk.
//!
//! A chunk commits only if the batch is still durable through the sequence
//! just before it (a compare-and-set on `durable_through_sequence`), so two
//! streams writing one batch can never both store a sequence, and a chunk
//! that died with its connection leaves no trace: exactly one stored result
//! per `(batch_id, sequence)`.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row as _};
use uuid::Uuid;

use crate::domain::batch_state::BatchState;
use crate::error::{AppError, ErrorReason, FieldViolation};
use crate::storage::WriteError;
use crate::storage::audit::{AuditRow, StoredDecision, insert_records};

/// A batch as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    /// The client's batch id.
    pub batch_id: Uuid,
    /// Who opened it.
    pub submitter: String,
    /// Rule set its items were decided with.
    pub ruleset_version: String,
    /// As announced in the first header.
    pub expected_item_count: Option<i64>,
    /// Open or completed.
    #[sqlx(try_from = "String")]
    pub state: BatchState,
    /// Items stored.
    pub items_received: i64,
    /// ACCEPT decisions.
    pub accepted: i64,
    /// ACCEPT_WITH_WARNINGS decisions.
    pub accepted_with_warnings: i64,
    /// REJECT decisions.
    pub rejected: i64,
    /// Items that were not readable claims.
    pub item_errors: i64,
    /// Highest sequence through which every item is stored; -1 before the first.
    pub durable_through_sequence: i64,
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
    /// Set once, when the end marker is stored.
    pub complete_time: Option<DateTime<Utc>>,
}

const BATCH_COLUMNS: &str = "batch_id, submitter, ruleset_version, expected_item_count, state, items_received, \
     accepted, accepted_with_warnings, rejected, item_errors, durable_through_sequence, create_time, \
     update_time, complete_time";

/// The new batch, or the stored one when `batch_id` exists; true when created.
pub async fn open(
    pool: &PgPool,
    batch_id: Uuid,
    submitter: &str,
    ruleset_version: &str,
    expected_item_count: Option<i64>,
) -> Result<(BatchRow, bool), AppError> {
    let created: Option<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into validation_batch (batch_id, submitter, ruleset_version, expected_item_count) \
         values ($1, $2, $3, $4) on conflict (batch_id) do nothing returning {BATCH_COLUMNS}"
    )))
    .bind(batch_id)
    .bind(submitter)
    .bind(ruleset_version)
    .bind(expected_item_count)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = created {
        return Ok((row, true));
    }
    let stored = get(pool, batch_id)
        .await?
        .ok_or_else(|| AppError::internal("batch vanished between insert and read"))?;
    Ok((stored, false))
}

/// A batch by id.
pub async fn get(pool: &PgPool, batch_id: Uuid) -> Result<Option<BatchRow>, AppError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {BATCH_COLUMNS} from validation_batch where batch_id = $1"
    )))
    .bind(batch_id)
    .fetch_optional(pool)
    .await?)
}

/// One stored item of a chunk: a decision (its audit row) or an item error.
#[derive(Debug, Clone)]
pub struct ItemRow<'a> {
    pub sequence: i64,
    /// The client's id for the claim.
    pub correlation_id: &'a str,
    /// The decision's audit record, for a readable claim.
    pub record: Option<&'a AuditRow>,
    /// google.rpc.Status as JSON, for an item that was not a readable claim.
    pub error: Option<String>,
    /// When the item was decided.
    pub create_time: DateTime<Utc>,
}

/// Moves the batch past one chunk (consecutive sequences) and adds its
/// counts, if the batch is still durable through the sequence just before
/// the chunk; `None` when another stream wrote it meanwhile. Part of the
/// chunk's transaction, with [`insert_items`].
pub async fn advance(
    connection: &mut PgConnection,
    batch_id: Uuid,
    items: &[ItemRow<'_>],
) -> Result<Option<BatchRow>, WriteError> {
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Err(AppError::internal("empty chunk").into());
    };
    let count = |disposition: i16| {
        items
            .iter()
            .filter(|i| i.record.is_some_and(|r| r.disposition == disposition))
            .count() as i64
    };
    let errors = items.iter().filter(|i| i.record.is_none()).count() as i64;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update validation_batch \
            set durable_through_sequence = $3, items_received = items_received + $4, \
                accepted = accepted + $5, accepted_with_warnings = accepted_with_warnings + $6, \
                rejected = rejected + $7, item_errors = item_errors + $8, update_time = now() \
          where batch_id = $1 and durable_through_sequence = $2 and state = 'open' \
          returning {BATCH_COLUMNS}"
    )))
    .bind(batch_id)
    .bind(first.sequence - 1)
    .bind(last.sequence)
    .bind(items.len() as i64)
    .bind(count(1))
    .bind(count(2))
    .bind(count(3))
    .bind(errors)
    .fetch_optional(&mut *connection)
    .await?)
}

/// Stores a chunk's items and their audit records. Only after [`advance`]
/// returned the batch in the same transaction: that locked row is what
/// keeps the items' reference to their batch (no foreign key is checked
/// per item, migration 0017).
pub async fn insert_items(
    connection: &mut PgConnection,
    batch_id: Uuid,
    items: &[ItemRow<'_>],
) -> Result<(), WriteError> {
    let records: Vec<&AuditRow> = items.iter().filter_map(|i| i.record).collect();
    insert_records(&mut *connection, &records).await?;
    sqlx::query(
        "insert into batch_item (batch_id, sequence, correlation_id, audit_record_id, disposition, error, create_time) \
         select $1, seq, cid, rid, disp, err::jsonb, ct \
           from unnest($2::int8[], $3::text[], $4::uuid[], $5::int2[], $6::text[], $7::timestamptz[]) \
                as t(seq, cid, rid, disp, err, ct)",
    )
    .bind(batch_id)
    .bind(items.iter().map(|i| i.sequence).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.correlation_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.record.map(|r| r.id)).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|i| i.record.map(|r| r.disposition))
            .collect::<Vec<_>>(),
    )
    .bind(items.iter().map(|i| i.error.as_deref()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.create_time).collect::<Vec<_>>())
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Marks an open batch completed; returns it as it now stands.
pub async fn complete(pool: &PgPool, batch_id: Uuid) -> Result<Option<BatchRow>, AppError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update validation_batch set state = 'completed', complete_time = now(), update_time = now() \
          where batch_id = $1 and state = 'open' returning {BATCH_COLUMNS}"
    )))
    .bind(batch_id)
    .fetch_optional(pool)
    .await?)
}

/// An item error as stored in `batch_item.error`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredItemError {
    message: String,
    violations: Vec<(String, String)>,
}

impl StoredItemError {
    /// The stored form of an item's error.
    pub fn of(error: &AppError) -> Self {
        let violations = match error {
            AppError::InvalidArgument { violations, .. } => violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            message: error.to_string(),
            violations,
        }
    }

    /// The error again, as INVALID_ARGUMENT with its field violations.
    pub fn into_error(self) -> AppError {
        AppError::InvalidArgument {
            reason: ErrorReason::InvalidRequest,
            violations: if self.violations.is_empty() {
                vec![FieldViolation::new("item", self.message)]
            } else {
                self.violations
                    .into_iter()
                    .map(|(field, description)| FieldViolation::new(field, description))
                    .collect()
            },
        }
    }
}

/// A stored item: its decision (a readable claim) or its error.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub sequence: i64,
    /// The client's id for the claim.
    pub correlation_id: String,
    /// google.rpc.Status as JSON, for an item error.
    pub error: Option<Json<StoredItemError>>,
    pub decision: Option<StoredDecision>,
}

/// By hand, because the decision columns come from a left join: they are
/// all null for an item error, and the record's id says which it is.
impl sqlx::FromRow<'_, PgRow> for StoredItem {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let decided: Option<Uuid> = row.try_get("id")?;
        Ok(Self {
            sequence: row.try_get("sequence")?,
            correlation_id: row.try_get("correlation_id")?,
            error: row.try_get("error")?,
            decision: decided.map(|_| StoredDecision::from_row(row)).transpose()?,
        })
    }
}

/// Stored items of a batch after `after_sequence`, in sequence order.
pub async fn items(
    pool: &PgPool,
    batch_id: Uuid,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StoredItem>, AppError> {
    Ok(sqlx::query_as(
        "select b.sequence, b.correlation_id, b.error, \
                a.id, a.disposition, a.ruleset_version, a.code_set_versions, a.findings, a.not_checked \
           from batch_item b \
           left join audit_record a on a.id = b.audit_record_id \
          where b.batch_id = $1 and b.sequence > $2 \
          order by b.sequence \
          limit $3",
    )
    .bind(batch_id)
    .bind(after_sequence)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
