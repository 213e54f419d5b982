//! Queries over the reference-data tables.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::error::AppError;

#[derive(sqlx::FromRow)]
struct VersionRow {
    system: String,
    version: String,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
    builtin: bool,
    source_file_name: String,
    sha256: String,
    concept_count: i64,
    billable_count: Option<i64>,
    load_time: DateTime<Utc>,
}

impl TryFrom<VersionRow> for CodeSystemVersion {
    type Error = AppError;

    fn try_from(row: VersionRow) -> Result<Self, AppError> {
        Ok(Self {
            system: row
                .system
                .parse::<CodeSystem>()
                .map_err(AppError::internal)?,
            version: row.version,
            effective_from: row.effective_from,
            effective_to: row.effective_to,
            builtin: row.builtin,
            source_file_name: row.source_file_name,
            sha256: row.sha256,
            concept_count: u64::try_from(row.concept_count).unwrap_or_default(),
            billable_count: row.billable_count.and_then(|n| u64::try_from(n).ok()),
            load_time: row.load_time,
        })
    }
}

/// Every loaded release, ordered by system, then newest effective date first.
pub async fn list_code_system_versions(pool: &PgPool) -> Result<Vec<CodeSystemVersion>, AppError> {
    let rows: Vec<VersionRow> = sqlx::query_as(
        "select system, version, effective_from, effective_to, builtin, source_file_name, sha256, \
                concept_count, billable_count, load_time \
           from code_system_version \
          order by system, effective_from desc, builtin, version",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(CodeSystemVersion::try_from).collect()
}
