//! The audit store: decisions appended in bulk (one transaction per group
//! commit, one UNNEST statement per table) and read back by id or request id.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::claim::Claim;
use crate::domain::code_system::UsedVersion;
use crate::domain::finding::{Finding, NotChecked};
use crate::error::AppError;
use crate::storage::WriteError;

/// Which batch item a decision is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchItemKey {
    /// The batch.
    pub batch_id: Uuid,
    /// The item's sequence.
    pub sequence: i64,
}

/// One decision to store.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Record id.
    pub id: Uuid,
    /// When it was decided.
    pub create_time: DateTime<Utc>,
    /// The unary call's idempotency key.
    pub request_id: Option<String>,
    /// The batch and sequence of a batch item.
    pub batch_item: Option<BatchItemKey>,
    /// sha256 of the canonical claim (with the member hash), to spot a reused request id.
    pub claim_sha256: Vec<u8>,
    /// The API key's name, or "anonymous".
    pub submitter: String,
    /// CLM01.
    pub claim_id: String,
    pub payer_id: String,
    /// Claim date of service.
    pub date_of_service: Option<NaiveDate>,
    /// HMAC of the member id.
    pub member_hash: Option<Vec<u8>>,
    pub rendering_npi: Option<String>,
    /// claimscrub.v1.Disposition number.
    pub disposition: i16,
    pub ruleset_version: String,
    /// Code-set releases used, JSON text.
    pub code_set_versions: String,
    /// Canonical claim without the member id, JSON text.
    pub claim: String,
    /// Findings, JSON text.
    pub findings: String,
    /// The edits that could not run, JSON text.
    pub not_checked: String,
    /// Rule ids of the findings.
    pub rule_ids: Vec<String>,
    /// Procedure codes of the lines.
    pub procedure_codes: Vec<String>,
    /// Canonical diagnosis codes.
    pub diagnosis_codes: Vec<String>,
    /// Time spent deciding.
    pub processing_micros: i64,
}

/// The columns of [`StoredDecision`], as a literal so that queries are
/// built from it at compile time.
macro_rules! decision_columns {
    () => {
        "id, disposition, ruleset_version, code_set_versions, findings, not_checked"
    };
}

/// The decision columns of a stored record: what a repeated request id or a
/// batch item answers with, without reading the claim back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDecision {
    /// Record id.
    pub id: Uuid,
    /// claimscrub.v1.Disposition number.
    pub disposition: i16,
    pub ruleset_version: String,
    /// Code-set releases used.
    pub code_set_versions: Json<Vec<UsedVersion>>,
    pub findings: Json<Vec<Finding>>,
    pub not_checked: Json<Vec<NotChecked>>,
}

/// What became of a row in a group commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    Stored,
    /// Its request id was already taken: nothing stored.
    RequestIdTaken,
}

/// Lists are passed as comma-joined text (codes never contain commas):
/// UNNEST of a two-dimensional array would need equal lengths.
fn joined(rows: &[&AuditRow], f: fn(&AuditRow) -> &Vec<String>) -> Vec<String> {
    rows.iter().map(|r| f(r).join(",")).collect()
}

/// Claims the request ids of a group: rows whose request id is already
/// taken (by an earlier call, or by an earlier row of the group) must not be
/// stored, and their outcome says so.
pub async fn claim_request_ids(
    connection: &mut PgConnection,
    rows: &[&AuditRow],
) -> Result<Vec<AppendOutcome>, WriteError> {
    let keyed: Vec<&&AuditRow> = rows.iter().filter(|r| r.request_id.is_some()).collect();
    if keyed.is_empty() {
        return Ok(vec![AppendOutcome::Stored; rows.len()]);
    }
    let claimed: Vec<String> = sqlx::query_scalar(
        "insert into audit_request (request_id, claim_sha256, audit_record_id, create_time) \
         select * from unnest($1::text[], $2::bytea[], $3::uuid[], $4::timestamptz[]) \
         on conflict (request_id) do nothing returning request_id",
    )
    .bind(
        keyed
            .iter()
            .map(|r| r.request_id.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
    )
    .bind(
        keyed
            .iter()
            .map(|r| r.claim_sha256.clone())
            .collect::<Vec<_>>(),
    )
    .bind(keyed.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(keyed.iter().map(|r| r.create_time).collect::<Vec<_>>())
    .fetch_all(&mut *connection)
    .await?;
    // A request id repeated inside one group is claimed by its first row only.
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .iter()
        .map(|r| match &r.request_id {
            Some(id) if !claimed.contains(id) || !seen.insert(id.clone()) => {
                AppendOutcome::RequestIdTaken
            }
            _ => AppendOutcome::Stored,
        })
        .collect())
}

/// Namespace of the member advisory locks (the first key of the two-key
/// form), so they never meet another use of advisory locks.
const MEMBER_LOCK_SPACE: i32 = 0x4353_4d42; // "CSMB"

/// The advisory-lock key of a member hash: its first four bytes. Two
/// members sharing a key only wait for each other.
fn member_lock_key(member_hash: &[u8]) -> i32 {
    let mut key = [0_u8; 4];
    for (slot, byte) in key.iter_mut().zip(member_hash) {
        *slot = *byte;
    }
    i32::from_be_bytes(key)
}

/// Takes the transaction-scoped lock of each member, in key order so two
/// transactions never wait for each other in a circle. Every process that
/// stores a decision for a member takes it first, so the history read after
/// it sees every decision committed for that member, on any replica.
pub async fn lock_members(
    connection: &mut PgConnection,
    member_hashes: &[&[u8]],
) -> Result<(), WriteError> {
    let mut keys: Vec<i32> = member_hashes.iter().map(|h| member_lock_key(h)).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query("select pg_advisory_xact_lock($1, k) from unnest($2::int4[]) as k")
        .bind(MEMBER_LOCK_SPACE)
        .bind(keys)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Inserts decisions into `audit_record` with one UNNEST statement.
pub async fn insert_records(
    connection: &mut PgConnection,
    rows: &[&AuditRow],
) -> Result<(), WriteError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into audit_record (id, create_time, request_id, batch_id, sequence, submitter, claim_id, payer_id, \
                                   date_of_service, member_hash, rendering_npi, disposition, ruleset_version, \
                                   code_set_versions, claim, findings, rule_ids, procedure_codes, diagnosis_codes, \
                                   processing_micros, not_checked) \
         select id, ct, rid, bid, seq, sub, cid, pid, dos, mh, npi, disp, rs, csv::json, cl::json, fi::json, \
                coalesce(string_to_array(nullif(ru, ''), ','), '{}'), \
                coalesce(string_to_array(nullif(pc, ''), ','), '{}'), \
                coalesce(string_to_array(nullif(dc, ''), ','), '{}'), pm, nc::json \
           from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::int8[], $6::text[], $7::text[], \
                       $8::text[], $9::date[], $10::bytea[], $11::text[], $12::int2[], $13::text[], $14::text[], \
                       $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::int8[], \
                       $21::text[]) \
                as t(id, ct, rid, bid, seq, sub, cid, pid, dos, mh, npi, disp, rs, csv, cl, fi, ru, pc, dc, pm, nc)",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.create_time).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.request_id.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.batch_item.map(|k| k.batch_id)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.batch_item.map(|k| k.sequence)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.submitter.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.claim_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.payer_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.date_of_service).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.member_hash.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.rendering_npi.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.disposition).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.ruleset_version.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.code_set_versions.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.claim.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.findings.as_str()).collect::<Vec<_>>())
    .bind(joined(rows, |r| &r.rule_ids))
    .bind(joined(rows, |r| &r.procedure_codes))
    .bind(joined(rows, |r| &r.diagnosis_codes))
    .bind(rows.iter().map(|r| r.processing_micros).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.not_checked.as_str()).collect::<Vec<_>>())
    .execute(&mut *connection)
    .await?;
    insert_terms(connection, rows).await
}

/// What a search term is: `audit_term.kind`, and the record's array column
/// holding the same values.
#[derive(Debug, Clone, Copy)]
enum TermKind {
    Rule = 1,
    Procedure = 2,
    Diagnosis = 3,
}

impl TermKind {
    const ALL: [TermKind; 3] = [TermKind::Rule, TermKind::Procedure, TermKind::Diagnosis];

    fn code(self) -> i16 {
        self as i16
    }

    fn column(self) -> &'static str {
        match self {
            TermKind::Rule => "rule_ids",
            TermKind::Procedure => "procedure_codes",
            TermKind::Diagnosis => "diagnosis_codes",
        }
    }

    fn of_row(self, row: &AuditRow) -> &[String] {
        match self {
            TermKind::Rule => &row.rule_ids,
            TermKind::Procedure => &row.procedure_codes,
            TermKind::Diagnosis => &row.diagnosis_codes,
        }
    }

    fn of_filter(self, filter: &AuditFilter) -> Option<&String> {
        match self {
            TermKind::Rule => filter.rule_id.as_ref(),
            TermKind::Procedure => filter.procedure_code.as_ref(),
            TermKind::Diagnosis => filter.diagnosis_code.as_ref(),
        }
    }
}

/// Writes the search terms of `rows` (each term once per record), in the
/// transaction that writes the records.
async fn insert_terms(connection: &mut PgConnection, rows: &[&AuditRow]) -> Result<(), WriteError> {
    let mut kinds = Vec::new();
    let mut terms = Vec::new();
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for row in rows {
        for kind in TermKind::ALL {
            let list = kind.of_row(row);
            // A claim has at most 50 lines and 12 diagnoses: a scan of the
            // terms before is cheaper than a set.
            for (i, term) in list.iter().enumerate() {
                if list[..i].contains(term) {
                    continue;
                }
                kinds.push(kind.code());
                terms.push(term.as_str());
                times.push(row.create_time);
                ids.push(row.id);
            }
        }
    }
    if kinds.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into audit_term (kind, term, create_time, record_id) \
         select * from unnest($1::int2[], $2::text[], $3::timestamptz[], $4::uuid[])",
    )
    .bind(kinds)
    .bind(terms)
    .bind(times)
    .bind(ids)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The claim checksum and record of a request id, when it was used.
pub async fn find_request(
    pool: &PgPool,
    request_id: &str,
) -> Result<Option<(Vec<u8>, Uuid)>, AppError> {
    Ok(sqlx::query_as(
        "select claim_sha256, audit_record_id from audit_request where request_id = $1",
    )
    .bind(request_id)
    .fetch_optional(pool)
    .await?)
}

/// A stored decision by record id.
pub async fn get_decision(pool: &PgPool, id: Uuid) -> Result<Option<StoredDecision>, AppError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        decision_columns!(),
        " from audit_record where id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// One member-history lookup: accepted decisions of `member_hash` dated
/// `from` through `to`.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    /// HMAC of the member id.
    pub member_hash: Vec<u8>,
    /// First date of service.
    pub from: NaiveDate,
    /// Last date of service.
    pub to: NaiveDate,
    /// Only decisions stored before this time (a replay sees what the
    /// original decision saw); all when `None`.
    pub created_before: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PriorRow {
    lookup: i64,
    claim_id: String,
    date_of_service: NaiveDate,
    rendering_npi: Option<String>,
    lines: serde_json::Value,
}

/// Earlier accepted decisions (ACCEPT or ACCEPT_WITH_WARNINGS) for each
/// lookup, in lookup order; per lookup latest date first and at most 200
/// (each lateral subquery follows the `(member_hash, date_of_service)`
/// index, so a member with many claims costs no sort). One statement
/// answers every lookup of a batch.
pub async fn accepted_histories(
    pool: &PgPool,
    lookups: &[HistoryQuery],
) -> Result<Vec<Vec<crate::domain::claim::PriorClaim>>, AppError> {
    let mut connection = pool.acquire().await?;
    accepted_histories_on(&mut connection, lookups)
        .await
        .map_err(|error| match error {
            WriteError::Refused(refusal) => refusal.into_error(),
            WriteError::Failed(error) => error,
        })
}

/// [`accepted_histories`] on a given connection (inside a group commit,
/// after [`lock_members`]).
pub async fn accepted_histories_on(
    connection: &mut PgConnection,
    lookups: &[HistoryQuery],
) -> Result<Vec<Vec<crate::domain::claim::PriorClaim>>, WriteError> {
    if lookups.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PriorRow> = sqlx::query_as(
        "select q.i as lookup, a.claim_id, a.date_of_service, a.rendering_npi, a.lines \
           from unnest($1::bytea[], $2::date[], $3::date[], $4::timestamptz[]) with ordinality as q(h, f, t, b, i) \
           cross join lateral ( \
                select claim_id, date_of_service, rendering_npi, claim -> 'lines' as lines \
                  from audit_record \
                 where member_hash = q.h and date_of_service between q.f and q.t \
                   and disposition in (1, 2) and (q.b is null or create_time < q.b) \
                 order by date_of_service desc limit 200) as a",
    )
    .bind(
        lookups
            .iter()
            .map(|l| l.member_hash.clone())
            .collect::<Vec<_>>(),
    )
    .bind(lookups.iter().map(|l| l.from).collect::<Vec<_>>())
    .bind(lookups.iter().map(|l| l.to).collect::<Vec<_>>())
    .bind(lookups.iter().map(|l| l.created_before).collect::<Vec<_>>())
    .fetch_all(&mut *connection)
    .await?;
    let mut histories = vec![Vec::new(); lookups.len()];
    for row in rows {
        let Some(history) = usize::try_from(row.lookup - 1)
            .ok()
            .and_then(|i| histories.get_mut(i))
        else {
            return Err(AppError::internal("history lookup number out of range").into());
        };
        history.push(crate::domain::claim::PriorClaim {
            claim_id: row.claim_id,
            date_of_service: row.date_of_service,
            rendering_npi: row.rendering_npi.unwrap_or_default().into(),
            lines: row
                .lines
                .as_array()
                .into_iter()
                .flatten()
                .map(|line| {
                    let code = line["procedure_code"].as_str().unwrap_or_default().into();
                    let modifiers = line["modifiers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m.as_str().map(Into::into))
                        .collect();
                    (code, modifiers)
                })
                .collect(),
        });
    }
    Ok(histories)
}

/// Filters of the audit queries; every `Some` must match.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AuditFilter {
    /// Created at or after.
    pub start_time: Option<DateTime<Utc>>,
    /// Created before.
    pub end_time: Option<DateTime<Utc>>,
    /// CLM01.
    pub claim_id: Option<String>,
    pub batch_id: Option<Uuid>,
    pub submitter: Option<String>,
    pub payer_id: Option<String>,
    /// claimscrub.v1.Disposition number.
    pub disposition: Option<i16>,
    /// A finding's rule id.
    pub rule_id: Option<String>,
    /// A line's procedure code.
    pub procedure_code: Option<String>,
    /// A canonical diagnosis code (no dot).
    pub diagnosis_code: Option<String>,
}

/// A whole stored record: its decision and what was decided.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRecord {
    #[sqlx(flatten)]
    pub decision: StoredDecision,
    /// When it was stored.
    pub create_time: DateTime<Utc>,
    /// The unary call's request id.
    pub request_id: Option<String>,
    /// The batch of a batch item.
    pub batch_id: Option<Uuid>,
    /// The item's sequence.
    pub sequence: Option<i64>,
    /// The API key's name, or "anonymous".
    pub submitter: String,
    /// HMAC of the member id.
    pub member_hash: Option<Vec<u8>>,
    /// Canonical claim without the member id.
    pub claim: Json<Claim>,
    /// Time spent deciding.
    pub processing_micros: i64,
}

const RECORD_COLUMNS: &str = concat!(
    decision_columns!(),
    ", create_time, request_id, batch_id, sequence, submitter, member_hash, claim, processing_micros"
);

/// A term filter of `filter`: what the term is, and its value.
type TermFilter<'a> = (TermKind, &'a String);

/// The term filters of `filter`: the first, which selects through the
/// search table, and the others, checked on the records it finds.
fn term_filters(filter: &AuditFilter) -> (Option<TermFilter<'_>>, Vec<TermFilter<'_>>) {
    let mut terms = TermKind::ALL
        .into_iter()
        .filter_map(|kind| Some((kind, kind.of_filter(filter)?)));
    let first = terms.next();
    (first, terms.collect())
}

/// Appends the search-table rows of `term` within the time bounds of
/// `filter` and after `after`, as `(term_time, record_id)`.
fn push_term_selection(
    query: &mut QueryBuilder<Postgres>,
    (kind, term): TermFilter<'_>,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
) {
    query
        .push("select create_time as term_time, record_id from audit_term where kind = ")
        .push_bind(kind.code())
        .push(" and term = ")
        .push_bind(term.clone());
    push_time_and_position(query, ("create_time", "record_id"), filter, after);
}

/// Appends the time bounds of `filter` and the keyset position `after`,
/// over the columns `time` and `id`.
fn push_time_and_position(
    query: &mut QueryBuilder<Postgres>,
    (time, id): (&str, &str),
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
) {
    if let Some(start) = filter.start_time {
        query.push(format!(" and {time} >= ")).push_bind(start);
    }
    if let Some(end) = filter.end_time {
        query.push(format!(" and {time} < ")).push_bind(end);
    }
    if let Some((position_time, position_id)) = after {
        query
            .push(format!(" and ({time}, {id}) < ("))
            .push_bind(position_time)
            .push(", ")
            .push_bind(position_id)
            .push(")");
    }
}

/// Appends the conditions on a record's own columns, and `terms` as array
/// containment: checked on rows another condition already found, they need
/// no index.
fn push_record_conditions(
    query: &mut QueryBuilder<Postgres>,
    filter: &AuditFilter,
    terms: &[TermFilter<'_>],
) {
    if let Some(claim_id) = &filter.claim_id {
        query.push(" and claim_id = ").push_bind(claim_id.clone());
    }
    if let Some(batch_id) = filter.batch_id {
        query.push(" and batch_id = ").push_bind(batch_id);
    }
    if let Some(submitter) = &filter.submitter {
        query.push(" and submitter = ").push_bind(submitter.clone());
    }
    if let Some(payer_id) = &filter.payer_id {
        query.push(" and payer_id = ").push_bind(payer_id.clone());
    }
    if let Some(disposition) = filter.disposition {
        query.push(" and disposition = ").push_bind(disposition);
    }
    for (kind, value) in terms {
        query
            .push(format!(" and {} @> array[", kind.column()))
            .push_bind((*value).clone())
            .push("]::text[]");
    }
}

/// Appends `where` conditions for `filter` (and a keyset position) to a
/// query over `audit_record`. A term filter selects through the search
/// table, within the same time bounds (the planner does not carry range
/// conditions across the join).
fn push_filter(
    query: &mut QueryBuilder<Postgres>,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
) {
    query.push(" where true");
    push_time_and_position(query, ("create_time", "id"), filter, after);
    let (first, others) = term_filters(filter);
    if let Some(first) = first {
        query.push(" and (create_time, id) in (");
        push_term_selection(query, first, filter, None);
        query.push(")");
    }
    push_record_conditions(query, filter, &others);
}

/// A page of records, newest first. With a term filter the page is driven
/// by the search table's index: its newest matches in order, each joined to
/// its record, so a page costs the same whatever the number of matches.
fn list_query(
    prefix: &str,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryBuilder<Postgres> {
    let (first, others) = term_filters(filter);
    let Some(first) = first else {
        let mut query =
            QueryBuilder::new(format!("{prefix}select {RECORD_COLUMNS} from audit_record"));
        push_filter(&mut query, filter, after);
        query
            .push(" order by create_time desc, id desc limit ")
            .push_bind(limit);
        return query;
    };
    let mut query = QueryBuilder::new(format!("{prefix}select r.* from ("));
    push_term_selection(&mut query, first, filter, after);
    // A lateral subquery of one row per term row: joined on (time, id), the
    // planner multiplies the two equalities' selectivities, expects a
    // single row, and sorts every match instead of stopping at the page.
    query.push(format!(
        ") as t cross join lateral (select {RECORD_COLUMNS} from audit_record \
           where create_time = t.term_time and id = t.record_id"
    ));
    push_record_conditions(&mut query, filter, &others);
    query
        .push(" limit 1) as r order by t.term_time desc, t.record_id desc limit ")
        .push_bind(limit);
    query
}

/// The plan PostgreSQL chooses for a page of `filter` on `connection`, as
/// text: what tests and the bench check for index use.
pub async fn explain_list(
    connection: &mut PgConnection,
    filter: &AuditFilter,
    limit: i64,
) -> Result<String, AppError> {
    let lines: Vec<String> = list_query("explain ", filter, None, limit)
        .build_query_scalar()
        .fetch_all(&mut *connection)
        .await?;
    Ok(lines.join("\n"))
}

/// Records matching `filter`, newest first, after the keyset position
/// `after`, at most `limit`.
pub async fn list_records(
    pool: &PgPool,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<StoredRecord>, AppError> {
    Ok(list_query("", filter, after, limit)
        .build_query_as()
        .fetch_all(pool)
        .await?)
}

/// One record by id.
pub async fn get_record(pool: &PgPool, id: Uuid) -> Result<Option<StoredRecord>, AppError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {RECORD_COLUMNS} from audit_record where id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// What GetAuditStats groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// Disposition number.
    Disposition,
    /// Rule id of the findings.
    Rule,
    /// Payer id.
    Payer,
    /// UTC day, YYYY-MM-DD.
    Day,
}

/// Counts of the records matching `filter` per group, and their total.
pub async fn stats(
    pool: &PgPool,
    filter: &AuditFilter,
    group: StatsGroup,
) -> Result<(Vec<(String, i64)>, i64), AppError> {
    let (key, from) = match group {
        StatsGroup::Disposition => ("disposition::text", "audit_record"),
        StatsGroup::Rule => (
            "rule_id",
            "audit_record cross join lateral unnest(rule_ids) as rule_id",
        ),
        StatsGroup::Payer => ("payer_id", "audit_record"),
        StatsGroup::Day => (
            "to_char(create_time at time zone 'UTC', 'YYYY-MM-DD')",
            "audit_record",
        ),
    };
    let mut query = QueryBuilder::new(format!("select {key} as key, count(*) as n from {from}"));
    push_filter(&mut query, filter, None);
    query.push(" group by 1");
    let groups: Vec<(String, i64)> = query.build_query_as().fetch_all(pool).await?;
    // Every record is in exactly one group, except by rule: a record has
    // none or several rules, so only then are the records counted apart.
    let total = if group == StatsGroup::Rule {
        let mut total = QueryBuilder::new("select count(*) from audit_record");
        push_filter(&mut total, filter, None);
        total.build_query_scalar().fetch_one(pool).await?
    } else {
        groups.iter().map(|(_, n)| n).sum()
    };
    Ok((groups, total))
}

/// Creates the monthly partitions of `months` that do not exist yet (a
/// month with rows already in the default partition is left to it);
/// returns the names created.
pub async fn create_partitions(
    pool: &PgPool,
    months: &[NaiveDate],
) -> Result<Vec<String>, AppError> {
    // One replica at a time: the others wait, then find the partitions
    // there and create none (without the lock, concurrent CREATE TABLE ...
    // PARTITION OF statements of one month race to a duplicate error).
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1, 0)")
        .bind(PARTITION_LOCK_SPACE)
        .execute(&mut *tx)
        .await?;
    let mut created = Vec::new();
    for month in months {
        let name: Option<String> =
            sqlx::query_scalar("select claimscrub_create_audit_partition($1)")
                .bind(month)
                .fetch_one(&mut *tx)
                .await?;
        created.extend(name);
    }
    tx.commit().await?;
    Ok(created)
}

/// Namespace of the partition-creation advisory lock.
const PARTITION_LOCK_SPACE: i32 = 0x4353_5054; // "CSPT"
