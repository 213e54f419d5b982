//! Queries over the reference-data tables: loading the catalog snapshot and
//! writing imported releases.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::domain::catalog::{
    CatalogSnapshot, ConceptRelease, CoverageEntry, CoverageEvidence, FeeScheduleRelease,
    FeeScheduleRow, ImplausibleSpecialty, MueLimit, MueRelease, Payer, PayerRuleSetting,
    ProcedureAttributes, ProcedureKnowledge, ProfileLink, PtpEdit, PtpRelease, SiteFamily,
};
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::concept::Concept;
use crate::domain::finding::Severity;
use crate::domain::mpfs_status::MpfsStatus;
use crate::domain::service_type::ServiceType;
use crate::error::AppError;

/// Rows per bulk INSERT: constant SQL text with one array per column (UNNEST).
const CHUNK_ROWS: usize = 10_000;

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
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

const VERSION_COLUMNS: &str = "id, system, version, effective_from, effective_to, builtin, source_file_name, \
                               sha256, concept_count, billable_count, load_time";

#[derive(sqlx::FromRow)]
struct ConceptRow {
    version_id: i64,
    code: String,
    display: String,
    long_description: Option<String>,
    billable: bool,
    parent_code: Option<String>,
    added_date: Option<NaiveDate>,
    effective_date: Option<NaiveDate>,
    termination_date: Option<NaiveDate>,
    properties: Json<Properties>,
}

/// A concept's stored properties (a JSON object of strings), read straight
/// into the catalog's sorted list of pairs. Read as a `BTreeMap`, every
/// concept cost a full map node (about 540 bytes for its one or two
/// entries): 112 MB of transient heap for the 206k concepts of the official
/// releases, which set the server's peak RSS at every catalog load.
struct Properties(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Properties;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of string properties")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Properties, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                // The order a BTreeMap gave, whatever order the JSON has.
                pairs.sort_unstable_by(|(a, _): &(String, String), (b, _)| a.cmp(b));
                pairs.dedup_by(|(a, _), (b, _)| a == b);
                // Kept for the catalog's life: no spare capacity per concept.
                pairs.shrink_to_fit();
                Ok(Properties(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

#[derive(sqlx::FromRow)]
struct FeeScheduleDbRow {
    version_id: i64,
    code: String,
    modifier: String,
    status: String,
    pctc: String,
    global_days: String,
    mult_proc: String,
    bilat: String,
    asst: String,
    co_surg: String,
    team_surg: String,
    work_rvu: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct PtpRow {
    version_id: i64,
    column1: String,
    column2: String,
    effective_date: NaiveDate,
    deletion_date: Option<NaiveDate>,
    modifier_indicator: i16,
    rationale: String,
}

#[derive(sqlx::FromRow)]
struct MueRow {
    version_id: i64,
    code: String,
    mue_value: i32,
    mai: i16,
    rationale: String,
}

#[derive(sqlx::FromRow)]
struct AttributeRow {
    code: String,
    service_type: String,
    lesion_behavior: Option<String>,
    site_family: Option<String>,
    size_measure: Option<String>,
    size_lower_exclusive: Option<f64>,
    size_upper_inclusive: Option<f64>,
    typical_pos: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct SiteFamilyRow {
    site_family: String,
    display: String,
    anatomic_sites: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ProfileLinkRow {
    procedure_scope: String,
    kind: String,
    target: String,
    relevance: String,
    note: String,
}

#[derive(sqlx::FromRow)]
struct CoverageRow {
    policy: String,
    service_type: String,
    lesion_behavior: String,
    diagnosis_prefix: String,
    evidence: String,
    note: String,
}

#[derive(sqlx::FromRow)]
struct ImplausibleSpecialtyRow {
    service_type: String,
    taxonomy_prefix: String,
    classification: String,
    note: String,
}

fn stored_service_type(name: &str) -> Result<ServiceType, AppError> {
    ServiceType::parse(name)
        .ok_or_else(|| AppError::internal(format!("stored service type {name:?} is unknown")))
}

#[derive(sqlx::FromRow)]
struct PayerRuleRow {
    payer_id: String,
    rule_id: String,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
    enabled: bool,
    severity: Option<String>,
    parameters: Json<BTreeMap<String, String>>,
}

#[derive(sqlx::FromRow)]
struct PayerRow {
    payer_id: String,
    name: String,
    payer_type: String,
    notes: String,
}

/// Reads every release into one snapshot. Runs in one REPEATABLE READ
/// transaction so a concurrent import is either wholly in it or not at all.
pub async fn load_snapshot(pool: &PgPool) -> Result<CatalogSnapshot, AppError> {
    let rows = read_snapshot_rows(pool).await?;
    // Building the maps and search indexes of the full code sets is seconds
    // of CPU: off the runtime, so serving (and HTTP/2 keepalives) go on
    // while a replica reloads.
    tokio::task::spawn_blocking(move || rows.into_snapshot())
        .await
        .map_err(AppError::internal)?
}

/// Every row a snapshot is built from.
struct SnapshotRows {
    versions: HashMap<i64, CodeSystemVersion>,
    concepts: Vec<ConceptRow>,
    fees: Vec<FeeScheduleDbRow>,
    ptp: Vec<PtpRow>,
    mue: Vec<MueRow>,
    procedures: ProcedureKnowledge,
    payers: Vec<PayerRow>,
    payer_rules: Vec<PayerRuleRow>,
}

async fn read_snapshot_rows(pool: &PgPool) -> Result<SnapshotRows, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let version_rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {VERSION_COLUMNS} from code_system_version"
    )))
    .fetch_all(&mut *tx)
    .await?;
    let versions = version_rows
        .into_iter()
        .map(|row| Ok((row.id, CodeSystemVersion::try_from(row)?)))
        .collect::<Result<HashMap<_, _>, AppError>>()?;
    let concepts = sqlx::query_as(
        "select version_id, code, display, long_description, billable, parent_code, added_date, \
                effective_date, termination_date, properties \
           from concept",
    )
    .fetch_all(&mut *tx)
    .await?;
    let fees = sqlx::query_as(
        "select version_id, code, modifier, status, pctc, global_days, mult_proc, bilat, asst, co_surg, \
                team_surg, work_rvu from mpfs_indicator",
    )
    .fetch_all(&mut *tx)
    .await?;
    let ptp = sqlx::query_as(
        "select version_id, column1, column2, effective_date, deletion_date, modifier_indicator, rationale \
           from ncci_ptp_edit",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mue = sqlx::query_as("select version_id, code, mue_value, mai, rationale from mue_limit")
        .fetch_all(&mut *tx)
        .await?;
    let procedures = load_procedure_knowledge(&mut tx, &versions).await?;
    let payers = sqlx::query_as("select payer_id, name, payer_type, notes from payer")
        .fetch_all(&mut *tx)
        .await?;
    let payer_rules = sqlx::query_as(
        "select payer_id, rule_id, effective_from, effective_to, enabled, severity, parameters from payer_rule_setting",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SnapshotRows {
        versions,
        concepts,
        fees,
        ptp,
        mue,
        procedures,
        payers,
        payer_rules,
    })
}

impl SnapshotRows {
    fn into_snapshot(self) -> Result<CatalogSnapshot, AppError> {
        let mut concepts_by_version: HashMap<i64, Vec<Concept>> = HashMap::new();
        for row in self.concepts {
            concepts_by_version
                .entry(row.version_id)
                .or_default()
                .push(Concept {
                    code: row.code,
                    display: row.display,
                    long_description: row.long_description,
                    billable: row.billable,
                    parent_code: row.parent_code,
                    added_date: row.added_date,
                    effective_date: row.effective_date,
                    termination_date: row.termination_date,
                    properties: row.properties.0.0,
                });
        }
        let mut fees_by_version: HashMap<i64, HashMap<(String, String), FeeScheduleRow>> =
            HashMap::new();
        for row in self.fees {
            fees_by_version.entry(row.version_id).or_default().insert(
                (row.code, row.modifier),
                FeeScheduleRow {
                    status: MpfsStatus::parse(&row.status).ok_or_else(|| {
                        AppError::internal(format!(
                            "stored MPFS status {:?} is unknown",
                            row.status
                        ))
                    })?,
                    pctc: row.pctc,
                    global_days: row.global_days,
                    mult_proc: row.mult_proc,
                    bilat: row.bilat,
                    asst: row.asst,
                    co_surg: row.co_surg,
                    team_surg: row.team_surg,
                    work_rvu: row.work_rvu,
                },
            );
        }
        let mut ptp_by_version: HashMap<i64, HashMap<String, Vec<PtpEdit>>> = HashMap::new();
        for row in self.ptp {
            ptp_by_version
                .entry(row.version_id)
                .or_default()
                .entry(row.column1)
                .or_default()
                .push(PtpEdit {
                    column2: row.column2,
                    effective_date: row.effective_date,
                    deletion_date: row.deletion_date,
                    modifier_indicator: u8::try_from(row.modifier_indicator)
                        .map_err(AppError::internal)?,
                    rationale: row.rationale,
                });
        }
        let mut mue_by_version: HashMap<i64, HashMap<String, MueLimit>> = HashMap::new();
        for row in self.mue {
            mue_by_version.entry(row.version_id).or_default().insert(
                row.code,
                MueLimit {
                    value: u32::try_from(row.mue_value).map_err(AppError::internal)?,
                    mai: u8::try_from(row.mai).map_err(AppError::internal)?,
                    rationale: row.rationale,
                },
            );
        }

        let mut snapshot = CatalogSnapshot {
            procedures: self.procedures,
            payers: self
                .payers
                .into_iter()
                .map(|p| {
                    (
                        p.payer_id.clone(),
                        Payer {
                            payer_id: p.payer_id,
                            name: p.name,
                            payer_type: p.payer_type,
                            notes: p.notes,
                        },
                    )
                })
                .collect(),
            payer_rules: self
                .payer_rules
                .into_iter()
                .map(|r| PayerRuleSetting {
                    payer_id: r.payer_id,
                    rule_id: r.rule_id,
                    effective_from: r.effective_from,
                    effective_to: r.effective_to,
                    enabled: r.enabled,
                    severity: r.severity.as_deref().and_then(Severity::parse),
                    parameters: r.parameters.0,
                })
                .collect(),
            built_at: Some(Utc::now()),
            ..CatalogSnapshot::default()
        };
        for (id, version) in self.versions {
            match version.system {
                CodeSystem::Mpfs => snapshot.fee_schedules.push(Arc::new(FeeScheduleRelease {
                    version,
                    rows: fees_by_version.remove(&id).unwrap_or_default(),
                })),
                CodeSystem::NcciPtp => snapshot.ptp.push(Arc::new(PtpRelease::new(
                    version,
                    ptp_by_version.remove(&id).unwrap_or_default(),
                ))),
                CodeSystem::Mue => snapshot.mue.push(Arc::new(MueRelease {
                    version,
                    limits: mue_by_version.remove(&id).unwrap_or_default(),
                })),
                system => snapshot.concepts.entry(system).or_default().push(Arc::new(
                    ConceptRelease::new(
                        version,
                        concepts_by_version.remove(&id).unwrap_or_default(),
                    ),
                )),
            }
        }
        Ok(snapshot)
    }
}

/// The procedure knowledge of the newest built-in CPT release (the default
/// data set is the only source of it).
async fn load_procedure_knowledge(
    tx: &mut Transaction<'_, Postgres>,
    versions: &HashMap<i64, CodeSystemVersion>,
) -> Result<ProcedureKnowledge, AppError> {
    let Some(version_id) = versions
        .iter()
        .filter(|(_, v)| v.system == CodeSystem::Cpt && v.builtin)
        .max_by_key(|(_, v)| v.load_time)
        .map(|(id, _)| *id)
    else {
        return Ok(ProcedureKnowledge::default());
    };
    let attributes: Vec<AttributeRow> = sqlx::query_as(
        "select code, service_type, lesion_behavior, site_family, size_measure, \
                size_lower_exclusive::float8 as size_lower_exclusive, \
                size_upper_inclusive::float8 as size_upper_inclusive, typical_pos \
           from procedure_attribute where version_id = $1",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    let families: Vec<SiteFamilyRow> = sqlx::query_as(
        "select site_family, display, anatomic_sites from site_family where version_id = $1",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    let links: Vec<ProfileLinkRow> = sqlx::query_as(
        "select procedure_scope, kind, target, relevance, note from profile_link \
          where version_id = $1 order by ordinal",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    let coverage: Vec<CoverageRow> = sqlx::query_as(
        "select policy, service_type, lesion_behavior, diagnosis_prefix, evidence, note \
           from coverage_policy_entry where version_id = $1",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    let specialties: Vec<ImplausibleSpecialtyRow> = sqlx::query_as(
        "select service_type, taxonomy_prefix, classification, note \
           from implausible_specialty where version_id = $1",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(ProcedureKnowledge {
        coverage: coverage
            .into_iter()
            .map(|row| {
                Ok(CoverageEntry {
                    service_type: stored_service_type(&row.service_type)?,
                    evidence: CoverageEvidence::parse(&row.evidence).ok_or_else(|| {
                        AppError::internal(format!("stored evidence {:?} is unknown", row.evidence))
                    })?,
                    policy: row.policy,
                    lesion_behavior: Some(row.lesion_behavior).filter(|b| !b.is_empty()),
                    diagnosis_prefix: row.diagnosis_prefix,
                    note: row.note,
                })
            })
            .collect::<Result<_, AppError>>()?,
        implausible_specialties: specialties
            .into_iter()
            .map(|row| {
                Ok(ImplausibleSpecialty {
                    service_type: stored_service_type(&row.service_type)?,
                    taxonomy_prefix: row.taxonomy_prefix,
                    classification: row.classification,
                    note: row.note,
                })
            })
            .collect::<Result<_, AppError>>()?,
        attributes: attributes
            .into_iter()
            .map(|row| {
                let service_type = stored_service_type(&row.service_type)?;
                Ok((
                    row.code,
                    ProcedureAttributes {
                        service_type,
                        lesion_behavior: row.lesion_behavior,
                        site_family: row.site_family,
                        size_measure: row.size_measure,
                        size_lower_exclusive: row.size_lower_exclusive,
                        size_upper_inclusive: row.size_upper_inclusive,
                        typical_pos: row.typical_pos,
                    },
                ))
            })
            .collect::<Result<_, AppError>>()?,
        site_families: families
            .into_iter()
            .map(|row| {
                (
                    row.site_family,
                    SiteFamily {
                        display: row.display,
                        anatomic_sites: row.anatomic_sites,
                    },
                )
            })
            .collect(),
        profile_links: links
            .into_iter()
            .map(|row| ProfileLink {
                procedure_scope: row.procedure_scope,
                kind: row.kind,
                target: row.target,
                relevance: row.relevance,
                note: row.note,
            })
            .collect(),
    })
}

/// A release about to be written.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub system: CodeSystem,
    /// Version label.
    pub version: String,
    /// First date of service.
    pub effective_from: NaiveDate,
    /// Last date of service.
    pub effective_to: Option<NaiveDate>,
    /// Part of the default data set.
    pub builtin: bool,
    pub source_file_name: String,
    /// sha256 of the decompressed source.
    pub sha256: String,
    /// Rows loaded.
    pub concept_count: u64,
    /// Billable rows (ICD-10-CM).
    pub billable_count: Option<u64>,
}

/// The version label of the release of `system` loaded from a file with
/// this checksum, if any.
pub async fn version_with_checksum(
    executor: impl sqlx::PgExecutor<'_>,
    system: CodeSystem,
    sha256: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "select version from code_system_version where system = $1 and sha256 = $2",
    )
    .bind(system.as_str())
    .bind(sha256)
    .fetch_optional(executor)
    .await?)
}

/// Namespace of the lock the default data set is loaded under.
const DEFAULT_DATA_LOCK_SPACE: i32 = 0x4353_4444; // "CSDD"

/// Makes the loads of the default data set of replicas starting together
/// take turns (until `tx` ends): the second then finds it loaded.
pub async fn lock_default_data(tx: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("select pg_advisory_xact_lock($1, 0)")
        .bind(DEFAULT_DATA_LOCK_SPACE)
        .execute(tx)
        .await?;
    Ok(())
}

/// Whether `system` already has a release labelled `version`.
pub async fn version_exists(
    pool: &PgPool,
    system: CodeSystem,
    version: &str,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from code_system_version where system = $1 and version = $2)",
    )
    .bind(system.as_str())
    .bind(version)
    .fetch_one(pool)
    .await?)
}

/// Writes the release row; returns its id.
pub async fn insert_release(
    tx: &mut Transaction<'_, Postgres>,
    release: &NewRelease,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "insert into code_system_version \
             (system, version, effective_from, effective_to, builtin, source_file_name, sha256, \
              concept_count, billable_count) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(release.system.as_str())
    .bind(&release.version)
    .bind(release.effective_from)
    .bind(release.effective_to)
    .bind(release.builtin)
    .bind(&release.source_file_name)
    .bind(&release.sha256)
    .bind(i64::try_from(release.concept_count).map_err(AppError::internal)?)
    .bind(
        release
            .billable_count
            .map(i64::try_from)
            .transpose()
            .map_err(AppError::internal)?,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Writes concepts of a release in chunks; `progress` is told each chunk's size.
pub async fn insert_concepts(
    tx: &mut Transaction<'_, Postgres>,
    version_id: i64,
    concepts: &[Concept],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), AppError> {
    for chunk in concepts.chunks(CHUNK_ROWS) {
        let properties: Vec<String> = chunk
            .iter()
            .map(|c| {
                let map: BTreeMap<&str, &str> = c
                    .properties
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                serde_json::to_string(&map).map_err(AppError::internal)
            })
            .collect::<Result<_, _>>()?;
        sqlx::query(
            "insert into concept (version_id, code, display, long_description, billable, parent_code, \
                                  added_date, effective_date, termination_date, properties) \
             select $1, code, display, long_description, billable, parent_code, added, effective, terminated, \
                    props::jsonb \
               from unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::date[], $8::date[], \
                           $9::date[], $10::text[]) \
                    as t(code, display, long_description, billable, parent_code, added, effective, terminated, props)",
        )
        .bind(version_id)
        .bind(chunk.iter().map(|c| c.code.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.display.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.long_description.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.billable).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.parent_code.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.added_date).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.effective_date).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.termination_date).collect::<Vec<_>>())
        .bind(properties)
        .execute(&mut **tx)
        .await?;
        progress(chunk.len() as u64);
    }
    Ok(())
}

/// Writes MPFS rows of a release.
pub async fn insert_fee_schedule(
    tx: &mut Transaction<'_, Postgres>,
    version_id: i64,
    rows: &[(String, String, FeeScheduleRow)],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), AppError> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        let column =
            |f: fn(&FeeScheduleRow) -> &str| chunk.iter().map(|(_, _, r)| f(r)).collect::<Vec<_>>();
        sqlx::query(
            "insert into mpfs_indicator (version_id, code, modifier, status, pctc, global_days, mult_proc, bilat, \
                                         asst, co_surg, team_surg, work_rvu) \
             select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                      $8::text[], $9::text[], $10::text[], $11::text[], $12::float8[])",
        )
        .bind(version_id)
        .bind(chunk.iter().map(|(code, _, _)| code.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, modifier, _)| modifier.as_str()).collect::<Vec<_>>())
        .bind(column(|r| r.status.letter()))
        .bind(column(|r| &r.pctc))
        .bind(column(|r| &r.global_days))
        .bind(column(|r| &r.mult_proc))
        .bind(column(|r| &r.bilat))
        .bind(column(|r| &r.asst))
        .bind(column(|r| &r.co_surg))
        .bind(column(|r| &r.team_surg))
        .bind(chunk.iter().map(|(_, _, r)| r.work_rvu).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        progress(chunk.len() as u64);
    }
    Ok(())
}

/// Writes NCCI PTP edits of a release, as (column 1, edit, prior to 1996).
pub async fn insert_ptp_edits(
    tx: &mut Transaction<'_, Postgres>,
    version_id: i64,
    rows: &[(String, PtpEdit, bool)],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), AppError> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        sqlx::query(
            "insert into ncci_ptp_edit (version_id, column1, column2, effective_date, deletion_date, prior_to_1996, \
                                        modifier_indicator, rationale) \
             select $1, * from unnest($2::text[], $3::text[], $4::date[], $5::date[], $6::bool[], $7::int2[], \
                                      $8::text[])",
        )
        .bind(version_id)
        .bind(chunk.iter().map(|(c1, _, _)| c1.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, e, _)| e.column2.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, e, _)| e.effective_date).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, e, _)| e.deletion_date).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, _, prior)| *prior).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, e, _)| i16::from(e.modifier_indicator)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, e, _)| e.rationale.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        progress(chunk.len() as u64);
    }
    Ok(())
}

/// Writes MUE limits of a release.
pub async fn insert_mue_limits(
    tx: &mut Transaction<'_, Postgres>,
    version_id: i64,
    rows: &[(String, MueLimit)],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), AppError> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        sqlx::query(
            "insert into mue_limit (version_id, code, mue_value, mai, rationale) \
             select $1, * from unnest($2::text[], $3::int4[], $4::int2[], $5::text[])",
        )
        .bind(version_id)
        .bind(
            chunk
                .iter()
                .map(|(code, _)| code.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, l)| i32::try_from(l.value).map_err(AppError::internal))
                .collect::<Result<Vec<_>, _>>()?,
        )
        .bind(
            chunk
                .iter()
                .map(|(_, l)| i16::from(l.mai))
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, l)| l.rationale.as_str())
                .collect::<Vec<_>>(),
        )
        .execute(&mut **tx)
        .await?;
        progress(chunk.len() as u64);
    }
    Ok(())
}

/// Writes the procedure knowledge of the default data set.
pub async fn insert_procedure_knowledge(
    tx: &mut Transaction<'_, Postgres>,
    version_id: i64,
    knowledge: &ProcedureKnowledge,
) -> Result<(), AppError> {
    let attributes: Vec<(&String, &ProcedureAttributes)> = knowledge.attributes.iter().collect();
    sqlx::query(
        "insert into procedure_attribute (version_id, code, service_type, lesion_behavior, site_family, size_measure, \
                                          size_lower_exclusive, size_upper_inclusive, typical_pos) \
         select $1, code, service_type, lesion_behavior, site_family, size_measure, lower_cm::numeric, \
                upper_cm::numeric, string_to_array(pos, ';') \
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], \
                       $9::text[]) \
                as t(code, service_type, lesion_behavior, site_family, size_measure, lower_cm, upper_cm, pos)",
    )
    .bind(version_id)
    .bind(attributes.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.service_type.as_str()).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.lesion_behavior.as_deref()).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.site_family.as_deref()).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.size_measure.as_deref()).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.size_lower_exclusive).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.size_upper_inclusive).collect::<Vec<_>>())
    .bind(attributes.iter().map(|(_, a)| a.typical_pos.join(";")).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let families: Vec<(&String, &SiteFamily)> = knowledge.site_families.iter().collect();
    sqlx::query(
        "insert into site_family (version_id, site_family, display, anatomic_sites) \
         select $1, id, display, string_to_array(sites, ';') from unnest($2::text[], $3::text[], $4::text[]) \
                as t(id, display, sites)",
    )
    .bind(version_id)
    .bind(families.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
    .bind(families.iter().map(|(_, f)| f.display.as_str()).collect::<Vec<_>>())
    .bind(families.iter().map(|(_, f)| f.anatomic_sites.join(";")).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let links = &knowledge.profile_links;
    sqlx::query(
        "insert into profile_link (version_id, procedure_scope, kind, target, relevance, note, ordinal) \
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int4[])",
    )
    .bind(version_id)
    .bind(links.iter().map(|l| l.procedure_scope.as_str()).collect::<Vec<_>>())
    .bind(links.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>())
    .bind(links.iter().map(|l| l.target.as_str()).collect::<Vec<_>>())
    .bind(links.iter().map(|l| l.relevance.as_str()).collect::<Vec<_>>())
    .bind(links.iter().map(|l| l.note.as_str()).collect::<Vec<_>>())
    .bind((0..i32::try_from(links.len()).map_err(AppError::internal)?).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let coverage = &knowledge.coverage;
    sqlx::query(
        "insert into coverage_policy_entry (version_id, policy, service_type, lesion_behavior, diagnosis_prefix, \
                                            evidence, note) \
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
    )
    .bind(version_id)
    .bind(coverage.iter().map(|c| c.policy.as_str()).collect::<Vec<_>>())
    .bind(coverage.iter().map(|c| c.service_type.as_str()).collect::<Vec<_>>())
    .bind(coverage.iter().map(|c| c.lesion_behavior.as_deref().unwrap_or_default()).collect::<Vec<_>>())
    .bind(coverage.iter().map(|c| c.diagnosis_prefix.as_str()).collect::<Vec<_>>())
    .bind(coverage.iter().map(|c| c.evidence.as_str()).collect::<Vec<_>>())
    .bind(coverage.iter().map(|c| c.note.as_str()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let specialties = &knowledge.implausible_specialties;
    sqlx::query(
        "insert into implausible_specialty (version_id, service_type, taxonomy_prefix, classification, note) \
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[])",
    )
    .bind(version_id)
    .bind(specialties.iter().map(|s| s.service_type.as_str()).collect::<Vec<_>>())
    .bind(specialties.iter().map(|s| s.taxonomy_prefix.as_str()).collect::<Vec<_>>())
    .bind(specialties.iter().map(|s| s.classification.as_str()).collect::<Vec<_>>())
    .bind(specialties.iter().map(|s| s.note.as_str()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds payers that are not there yet; existing rows are left as an operator set them.
pub async fn insert_missing_payers(
    tx: &mut Transaction<'_, Postgres>,
    payers: &[Payer],
) -> Result<(), AppError> {
    sqlx::query(
        "insert into payer (payer_id, name, payer_type, notes) \
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
         on conflict (payer_id) do nothing",
    )
    .bind(
        payers
            .iter()
            .map(|p| p.payer_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(payers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
    .bind(
        payers
            .iter()
            .map(|p| p.payer_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(payers.iter().map(|p| p.notes.as_str()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds payer rule settings that are not there yet; settings an operator
/// changed are left as they are.
pub async fn insert_missing_payer_rules(
    tx: &mut Transaction<'_, Postgres>,
    settings: &[PayerRuleSetting],
) -> Result<(), AppError> {
    sqlx::query(
        "insert into payer_rule_setting (payer_id, rule_id, effective_from, effective_to, enabled, severity, parameters) \
         select p, r, f, t, e, s, params::jsonb \
           from unnest($1::text[], $2::text[], $3::date[], $4::date[], $5::bool[], $6::text[], $7::text[]) \
                as x(p, r, f, t, e, s, params) \
         on conflict (payer_id, rule_id, effective_from) do nothing",
    )
    .bind(settings.iter().map(|s| s.payer_id.as_str()).collect::<Vec<_>>())
    .bind(settings.iter().map(|s| s.rule_id.as_str()).collect::<Vec<_>>())
    .bind(settings.iter().map(|s| s.effective_from).collect::<Vec<_>>())
    .bind(settings.iter().map(|s| s.effective_to).collect::<Vec<_>>())
    .bind(settings.iter().map(|s| s.enabled).collect::<Vec<_>>())
    .bind(settings.iter().map(|s| s.severity.map(Severity::as_str)).collect::<Vec<_>>())
    .bind(
        settings
            .iter()
            .map(|s| serde_json::to_string(&s.parameters).map_err(AppError::internal))
            .collect::<Result<Vec<_>, _>>()?,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A listener for the notifications the reference-data triggers send.
pub async fn listen_for_changes(pool: &PgPool) -> Result<sqlx::postgres::PgListener, AppError> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen("claimscrub_reference_data").await?;
    Ok(listener)
}
