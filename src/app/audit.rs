//! Audit queries over the append-only store: one record, filtered pages
//! (newest first, keyset tokens bound to the filter), exports in constant
//! memory, counts by group, and replays under today's rules.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike as _, Months, NaiveDate, Utc};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::decision::Decision;
use crate::app::page_token;
use crate::app::validate::ClaimValidator;
use crate::domain::claim::Claim;
use crate::domain::finding::Disposition;
use crate::domain::finding::Finding;
use crate::error::AppError;
use crate::storage::audit::{self, BatchItemKey, StoredRecord};
use crate::storage::audit_access;

pub use crate::storage::audit::{AuditFilter, StatsGroup};
pub use crate::storage::audit_access::AccessRow;

/// Who reads the audit store, as its access log records it.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The caller's submitter.
    pub submitter: String,
    /// The call's x-request-id.
    pub request_id: String,
}

/// Access-log page size when none is asked for, and the largest.
const DEFAULT_ACCESS_PAGE: usize = 100;
const MAX_ACCESS_PAGE: usize = 1_000;

/// ListAuditRecords page size when none is asked for, and the largest.
pub const DEFAULT_PAGE: usize = 50;
/// Largest ListAuditRecords page.
pub const MAX_PAGE: usize = 500;
/// Records per export query; an export holds no connection between them.
const EXPORT_PAGE: i64 = 1_000;
/// Months of partitions kept ready ahead of the current one.
const PARTITIONS_AHEAD: u32 = 2;
/// How often the partition task looks ahead.
const PARTITION_CHECK_EVERY: Duration = Duration::from_secs(6 * 60 * 60);

/// A stored decision, read back whole.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// When it was stored.
    pub create_time: DateTime<Utc>,
    /// The unary call's request id.
    pub request_id: Option<String>,
    /// Batch and sequence of a batch item.
    pub batch_item: Option<BatchItemKey>,
    /// The API key's name, or "anonymous" when keys are not required.
    pub submitter: String,
    /// The claim as validated, without the member id.
    pub claim: Claim,
    /// The decision.
    pub decision: Decision,
    /// Time spent deciding.
    pub processing_time: Duration,
}

/// How a replayed finding differs from the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only in the replay.
    Added,
    /// Only in the stored record.
    Removed,
    /// Same rule, line and field; another severity, message or suggestion.
    Changed,
}

/// A stored record re-validated today.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The stored record.
    pub record: AuditRecord,
    /// Today's decision (not stored; its record id is the stored one's).
    pub replayed: Decision,
    /// What changed, stored order first, then additions.
    pub differences: Vec<(Change, Option<Finding>, Option<Finding>)>,
}

fn record_from_stored(stored: StoredRecord) -> Result<AuditRecord, AppError> {
    let claim = stored.claim.0;
    Ok(AuditRecord {
        create_time: stored.create_time,
        request_id: stored.request_id,
        batch_item: stored
            .batch_id
            .zip(stored.sequence)
            .map(|(batch_id, sequence)| BatchItemKey { batch_id, sequence }),
        submitter: stored.submitter,
        claim,
        decision: Decision::from_stored(stored.decision)?,
        processing_time: Duration::from_micros(
            u64::try_from(stored.processing_micros).unwrap_or(0),
        ),
    })
}

fn not_found(id: Uuid) -> AppError {
    AppError::NotFound {
        resource_type: "auditRecord",
        name: format!("auditRecords/{id}"),
    }
}

/// The keyset position after a record: (create_time in microseconds, id).
pub type Position = (i64, Uuid);

fn position(record: &AuditRecord) -> Position {
    (
        record.create_time.timestamp_micros(),
        record.decision.audit_record_id,
    )
}

fn after(position: Option<Position>) -> Result<Option<(DateTime<Utc>, Uuid)>, AppError> {
    position
        .map(|(micros, id)| {
            DateTime::from_timestamp_micros(micros)
                .map(|time| (time, id))
                .ok_or_else(|| AppError::invalid_field("page_token", "corrupt position"))
        })
        .transpose()
}

/// Differences between stored and replayed findings, matched by rule, line
/// and field.
pub fn differences(
    stored: &[Finding],
    replayed: &[Finding],
) -> Vec<(Change, Option<Finding>, Option<Finding>)> {
    let key = |f: &Finding| (f.rule_id.clone(), f.line_number, f.field_path.clone());
    let mut out = Vec::new();
    for old in stored {
        match replayed.iter().find(|new| key(new) == key(old)) {
            None => out.push((Change::Removed, Some(old.clone()), None)),
            Some(new) if new != old => {
                out.push((Change::Changed, Some(old.clone()), Some(new.clone())))
            }
            Some(_) => {}
        }
    }
    for new in replayed {
        if !stored.iter().any(|old| key(old) == key(new)) {
            out.push((Change::Added, None, Some(new.clone())));
        }
    }
    out
}

/// The audit use cases. Reads of records (List, Export, Stats, Get,
/// Replay) go to `reads`, a streaming replica when one is configured (else
/// the primary); the access log is written to and read from the primary.
pub struct AuditQueries {
    pool: PgPool,
    reads: PgPool,
    validator: Arc<ClaimValidator>,
}

impl AuditQueries {
    /// Queries on `pool`, record reads on `reads`; replays through
    /// `validator`.
    pub fn new(pool: PgPool, reads: PgPool, validator: Arc<ClaimValidator>) -> Self {
        Self {
            pool,
            reads,
            validator,
        }
    }

    /// A stored record by id. A replica may not have replayed the newest
    /// writes yet, so a record it lacks is looked for on the primary: a Get
    /// right after the ValidateClaim that made the record finds it.
    async fn stored(&self, id: Uuid) -> Result<audit::StoredRecord, AppError> {
        if let Some(stored) = audit::get_record(&self.reads, id).await? {
            return Ok(stored);
        }
        audit::get_record(&self.pool, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// One record.
    pub async fn get(&self, id: Uuid) -> Result<AuditRecord, AppError> {
        record_from_stored(self.stored(id).await?)
    }

    /// A page of records matching `filter`, newest first, and whether more
    /// follow. The transport may send fewer (to stay inside a message size)
    /// and continues after the last one it sent with [`Self::list_token`].
    pub async fn list(
        &self,
        filter: &AuditFilter,
        page_size: i32,
        token: &str,
    ) -> Result<(Vec<AuditRecord>, bool), AppError> {
        let size = page_token::page_size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let start: Option<Position> = page_token::decode(token, &("ListAuditRecords", filter))?;
        let limit = i64::try_from(size).unwrap_or(i64::MAX);
        let stored = audit::list_records(&self.reads, filter, after(start)?, limit + 1).await?;
        let more = stored.len() > size;
        let records = stored
            .into_iter()
            .take(size)
            .map(record_from_stored)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, more))
    }

    /// Where a page that ends with `record` continues.
    pub fn position_of(record: &AuditRecord) -> Position {
        position(record)
    }

    /// The token of the page after `last`, valid only with `filter`.
    pub fn list_token(filter: &AuditFilter, last: Position) -> String {
        page_token::encode(&("ListAuditRecords", filter), &last)
    }

    /// Streams every record matching `filter` into `out`, a page per
    /// message, newest first. One query per page (the next one running
    /// while the current page is converted) and no connection held in
    /// between, so a slow reader costs nothing but its bounded channel;
    /// stops when the reader is gone or `stop` is cancelled.
    pub fn export(
        self: &Arc<Self>,
        filter: AuditFilter,
        out: mpsc::Sender<Result<Vec<AuditRecord>, AppError>>,
        stop: CancellationToken,
        reader: Reader,
    ) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let sent = this.export_pages(&filter, &out, &stop).await;
            // Recorded once its count is known, however the export ended.
            let parameters = serde_json::json!({ "filter": filter });
            if let Err(error) = this
                .record_read(&reader, "ExportAuditRecords", parameters, sent)
                .await
            {
                tracing::error!(%error, "an audit export is missing from the access log");
            }
        });
    }

    /// The pages of an export; returns how many records were sent.
    async fn export_pages(
        &self,
        filter: &AuditFilter,
        out: &mpsc::Sender<Result<Vec<AuditRecord>, AppError>>,
        stop: &CancellationToken,
    ) -> u64 {
        let mut sent = 0u64;
        let fetch = |position| {
            let pool = self.reads.clone();
            let filter = filter.clone();
            tokio::spawn(
                async move { audit::list_records(&pool, &filter, position, EXPORT_PAGE).await },
            )
        };
        let mut pending = fetch(None);
        loop {
            let page = tokio::select! {
                () = stop.cancelled() => None,
                () = out.closed() => None,
                page = &mut pending => Some(page),
            };
            let stored = match page {
                None => {
                    pending.abort();
                    return sent;
                }
                Some(Ok(Ok(stored))) => stored,
                Some(Ok(Err(error))) => {
                    let _ = out.send(Err(error)).await;
                    return sent;
                }
                Some(Err(panicked)) => {
                    let _ = out.send(Err(AppError::internal(panicked))).await;
                    return sent;
                }
            };
            // The next page is read while this one is converted and sent.
            let next = stored
                .last()
                .filter(|_| stored.len() as i64 == EXPORT_PAGE)
                .map(|last| fetch(Some((last.create_time, last.decision.id))));
            let count = stored.len() as u64;
            let records = stored
                .into_iter()
                .map(record_from_stored)
                .collect::<Result<Vec<_>, _>>();
            let failed = records.is_err();
            if out.send(records).await.is_err() || failed {
                if let Some(next) = next {
                    next.abort();
                }
                return sent;
            }
            sent += count;
            match next {
                Some(next) => pending = next,
                None => return sent,
            }
        }
    }

    /// Records that `reader` read `record_count` records with `method` and
    /// `parameters`. Reads are answered only once recorded: an access log
    /// that can miss reads is no audit control.
    pub async fn record_read(
        &self,
        reader: &Reader,
        method: &str,
        parameters: serde_json::Value,
        record_count: u64,
    ) -> Result<(), AppError> {
        audit_access::insert(
            &self.pool,
            &reader.submitter,
            &reader.request_id,
            method,
            &parameters,
            record_count,
        )
        .await
    }

    /// A page of the access log, newest first (of `submitter` when not
    /// empty), and whether more follow.
    pub async fn access_log(
        &self,
        submitter: &str,
        page_size: i32,
        token: &str,
    ) -> Result<(Vec<AccessRow>, bool), AppError> {
        let size = page_token::page_size(page_size, DEFAULT_ACCESS_PAGE, MAX_ACCESS_PAGE)?;
        let after: Option<(DateTime<Utc>, Uuid)> =
            page_token::decode(token, &("ListAuditAccess", submitter))?;
        let submitter = Some(submitter).filter(|s| !s.is_empty());
        let limit = i64::try_from(size).unwrap_or(i64::MAX);
        let mut rows = audit_access::list(&self.pool, submitter, after, limit + 1).await?;
        let more = rows.len() > size;
        rows.truncate(size);
        Ok((rows, more))
    }

    /// The token of the access-log page after `last`.
    pub fn access_token(submitter: &str, last: &AccessRow) -> String {
        page_token::encode(
            &("ListAuditAccess", submitter),
            &(last.access_time, last.id),
        )
    }

    /// Counts per group of the records matching `filter`, largest first
    /// (days in date order), and the total number of matching records.
    pub async fn stats(
        &self,
        filter: &AuditFilter,
        group: StatsGroup,
    ) -> Result<(Vec<(String, u64)>, u64), AppError> {
        let (groups, total) = audit::stats(&self.reads, filter, group).await?;
        let mut groups: Vec<(String, u64)> = groups
            .into_iter()
            .map(|(key, n)| {
                let key = match group {
                    StatsGroup::Disposition => key
                        .parse::<i16>()
                        .ok()
                        .and_then(Disposition::from_i16)
                        .map_or(key, |d| d.as_str().to_owned()),
                    _ => key,
                };
                (key, u64::try_from(n).unwrap_or(0))
            })
            .collect();
        if group == StatsGroup::Day {
            groups.sort();
        } else {
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        Ok((groups, u64::try_from(total).unwrap_or(0)))
    }

    /// A stored record re-validated under today's rules and code sets, with
    /// the differences from its stored findings.
    pub async fn replay(&self, id: Uuid) -> Result<Replay, AppError> {
        let stored = self.stored(id).await?;
        let member_hash = stored.member_hash.clone();
        let record = record_from_stored(stored)?;
        let (evaluation, versions) = self
            .validator
            .replay(&record.claim, member_hash, record.create_time)
            .await?;
        let differences = differences(&record.decision.findings, &evaluation.findings);
        Ok(Replay {
            replayed: Decision {
                audit_record_id: record.decision.audit_record_id,
                disposition: evaluation.disposition,
                findings: evaluation.findings,
                not_checked: evaluation.not_checked,
                ruleset_version: self.validator.rules().version.to_owned(),
                versions,
            },
            differences,
            record,
        })
    }

    /// Creates the monthly partitions of this month and the
    /// `PARTITIONS_AHEAD` next ones that do not exist yet; returns their
    /// names. A month whose records already sit in the default partition
    /// stays there (moving them would mean deleting audit rows).
    pub async fn create_partitions_ahead(pool: &PgPool) -> Result<Vec<String>, AppError> {
        let today = Utc::now().date_naive();
        let months: Vec<NaiveDate> = (0..=PARTITIONS_AHEAD)
            .filter_map(|ahead| today.with_day(1)?.checked_add_months(Months::new(ahead)))
            .collect();
        let created = audit::create_partitions(pool, &months).await?;
        if !created.is_empty() {
            tracing::info!(?created, "audit partitions created");
        }
        Ok(created)
    }

    /// Keeps partitions ready ahead, checking every few hours until `stop`.
    /// A failure is logged: records then go to the default partition, which
    /// is correct, only slower to prune.
    pub fn keep_partitions_ahead(
        pool: PgPool,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        super::spawn_every(PARTITION_CHECK_EVERY, stop, move || {
            let pool = pool.clone();
            async move {
                if let Err(error) = Self::create_partitions_ahead(&pool).await {
                    tracing::warn!(%error, "audit partitions not created");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::Severity;

    fn finding(rule: &str, line: u32, message: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: Severity::Error,
            line_number: line,
            field_path: format!("lines[{}]", line.saturating_sub(1)),
            message: message.into(),
            suggested_code: None,
            suggestion: None,
            fixes: Vec::new(),
        }
    }

    #[test]
    fn differences_are_added_removed_and_changed_by_rule_line_and_field() {
        let stored = [
            finding("A", 1, "same"),
            finding("B", 1, "old wording"),
            finding("C", 2, "gone"),
        ];
        let replayed = [
            finding("A", 1, "same"),
            finding("B", 1, "new wording"),
            finding("D", 1, "new rule"),
        ];
        let found = differences(&stored, &replayed);
        let changes: Vec<(Change, Option<&str>, Option<&str>)> = found
            .iter()
            .map(|(c, old, new)| {
                (
                    *c,
                    old.as_ref().map(|f| f.message.as_str()),
                    new.as_ref().map(|f| f.message.as_str()),
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                (Change::Changed, Some("old wording"), Some("new wording")),
                (Change::Removed, Some("gone"), None),
                (Change::Added, None, Some("new rule")),
            ]
        );
        assert!(differences(&stored, &stored).is_empty());
    }
}
