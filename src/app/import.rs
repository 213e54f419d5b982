//! `claimscrub import`: loads one official file as a release, in one
//! transaction. A bad file is refused with its line and the database is left
//! exactly as it was; the same file again is a no-op (checksum).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::domain::catalog::{FeeScheduleRow, MueLimit, PtpEdit};
use crate::domain::code_system::CodeSystem;
use crate::domain::concept::Concept;
use crate::error::AppError;
use crate::import::{self, ConceptRecord, ImportKind, ParseError, ReleaseHint, Skipped};
use crate::storage::reference_data::{self as store, NewRelease};

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The file kind.
    pub kind: ImportKind,
    /// The file (gzip detected by content).
    pub path: PathBuf,
    /// Version label; derived from the file when absent.
    pub version: Option<String>,
    /// First date of service; derived from the file when absent.
    pub effective_from: Option<NaiveDate>,
    /// Last date of service; none = until the next release.
    pub effective_to: Option<NaiveDate>,
}

/// What happened to one release of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Loaded,
    /// The same file was loaded before, under this version label.
    AlreadyLoaded(String),
}

/// One release written (or found) by an import.
#[derive(Debug, Clone)]
pub struct ImportedRelease {
    /// The system.
    pub system: CodeSystem,
    /// Version label.
    pub version: String,
    /// Loaded or already there.
    pub outcome: ReleaseOutcome,
    /// Rows of this release.
    pub rows: u64,
    /// Billable rows (ICD-10-CM).
    pub billable: Option<u64>,
}

/// The import summary.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The file.
    pub file: String,
    /// Data records read.
    pub records_read: u64,
    /// Releases written or found.
    pub releases: Vec<ImportedRelease>,
    /// Records deliberately not loaded, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Why an import was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is malformed at a line.
    #[error("{file}:{line}: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        reason: String,
    },
    /// The release cannot be placed (label clash, unknown dates).
    #[error("{file}: {reason}")]
    Release {
        /// The file.
        file: String,
        reason: String,
    },
    /// The database failed; the transaction was rolled back.
    #[error("{0}")]
    Database(#[from] AppError),
}

/// Receives progress while rows are written.
pub trait ImportProgress: Sync {
    /// Writing `total` rows begins.
    fn start(&self, total: u64);
    /// `rows` more were written.
    fn advance(&self, rows: u64);
    /// Every row is written and committed.
    fn finish(&self);
}

/// Progress that goes nowhere, for imports nobody watches (tests, tools).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ImportProgress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Rows of one release, ready for the database.
enum ReleaseRows {
    Concepts(Vec<Concept>),
    FeeSchedule(Vec<(String, String, FeeScheduleRow)>),
    Ptp(Vec<(String, PtpEdit, bool)>),
    Mue(Vec<(String, MueLimit)>),
}

impl ReleaseRows {
    fn len(&self) -> usize {
        match self {
            Self::Concepts(rows) => rows.len(),
            Self::FeeSchedule(rows) => rows.len(),
            Self::Ptp(rows) => rows.len(),
            Self::Mue(rows) => rows.len(),
        }
    }

    fn billable(&self, system: CodeSystem) -> Option<u64> {
        match self {
            Self::Concepts(rows) if system == CodeSystem::Icd10Cm => {
                Some(rows.iter().filter(|c| c.billable).count() as u64)
            }
            _ => None,
        }
    }
}

/// A parsed file: its release hint, its releases (HCPCS has two) and skips.
struct ParsedFile {
    hint: ReleaseHint,
    releases: Vec<(CodeSystem, ReleaseRows)>,
    records_read: u64,
    skipped: Vec<Skipped>,
}

/// Imports one file.
pub async fn import_file(
    pool: &PgPool,
    request: &ImportRequest,
    progress: &dyn ImportProgress,
) -> Result<ImportSummary, ImportError> {
    let file = request.path.display().to_string();
    let data =
        import::source::read_decompressed(&request.path).map_err(|source| ImportError::Read {
            file: file.clone(),
            source,
        })?;
    let sha256 = import::source::sha256_hex(&data);
    let file_name = base_name(&request.path);
    let parsed = parse(request.kind, &data, &file_name).map_err(|e| ImportError::Parse {
        file: file.clone(),
        line: e.line,
        reason: e.reason,
    })?;
    drop(data);

    let release_error = |reason: String| ImportError::Release {
        file: file.clone(),
        reason,
    };
    let version = request
        .version
        .clone()
        .or(parsed.hint.version.clone())
        .ok_or_else(|| {
            release_error("the file name does not say which release it is; pass --version".into())
        })?;
    let effective_from = request
        .effective_from
        .or(parsed.hint.effective_from)
        .ok_or_else(|| {
            release_error(
                "the file does not say when it takes effect; pass --effective-from".into(),
            )
        })?;
    if request.effective_to.is_some_and(|to| to < effective_from) {
        return Err(release_error(format!(
            "--effective-to is before the effective date {effective_from}"
        )));
    }

    let mut summary = ImportSummary {
        file: file.clone(),
        records_read: parsed.records_read,
        releases: Vec::new(),
        skipped: parsed.skipped,
    };
    let mut pending = Vec::new();
    for (system, rows) in parsed.releases {
        let billable = rows.billable(system);
        let count = rows.len() as u64;
        if let Some(existing) = store::version_with_checksum(pool, system, &sha256).await? {
            summary.releases.push(ImportedRelease {
                system,
                version: existing.clone(),
                outcome: ReleaseOutcome::AlreadyLoaded(existing),
                rows: count,
                billable,
            });
            continue;
        }
        if store::version_exists(pool, system, &version).await? {
            return Err(release_error(format!(
                "{system} version {version} is already loaded from another file; pass --version to load this one \
                 under another label"
            )));
        }
        let release = NewRelease {
            system,
            version: version.clone(),
            effective_from,
            effective_to: request.effective_to,
            builtin: false,
            source_file_name: file_name.clone(),
            sha256: sha256.clone(),
            concept_count: count,
            billable_count: billable,
        };
        pending.push((release, rows));
    }

    if !pending.is_empty() {
        progress.start(pending.iter().map(|(_, rows)| rows.len() as u64).sum());
        let advance = |n: u64| progress.advance(n);
        // One transaction for the whole file: all rows or none.
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        for (release, rows) in &pending {
            let version_id = store::insert_release(&mut tx, release).await?;
            match rows {
                ReleaseRows::Concepts(concepts) => {
                    store::insert_concepts(&mut tx, version_id, concepts, &advance).await?
                }
                ReleaseRows::FeeSchedule(rows) => {
                    store::insert_fee_schedule(&mut tx, version_id, rows, &advance).await?
                }
                ReleaseRows::Ptp(rows) => {
                    store::insert_ptp_edits(&mut tx, version_id, rows, &advance).await?
                }
                ReleaseRows::Mue(rows) => {
                    store::insert_mue_limits(&mut tx, version_id, rows, &advance).await?
                }
            }
        }
        tx.commit().await.map_err(AppError::from)?;
        progress.finish();
    }
    for (release, rows) in pending {
        summary.releases.push(ImportedRelease {
            system: release.system,
            version: release.version,
            outcome: ReleaseOutcome::Loaded,
            rows: rows.len() as u64,
            billable: release.billable_count,
        });
    }
    Ok(summary)
}

fn base_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn parse(kind: ImportKind, data: &[u8], file_name: &str) -> Result<ParsedFile, ParseError> {
    let concepts = |system: CodeSystem, file: import::ConceptFile| ParsedFile {
        hint: file.release,
        records_read: file.lines_read,
        skipped: file.skipped,
        releases: vec![(
            system,
            ReleaseRows::Concepts(file.concepts.into_iter().map(concept).collect()),
        )],
    };
    Ok(match kind {
        ImportKind::Icd10CmOrder => concepts(
            CodeSystem::Icd10Cm,
            import::icd10cm_order::parse(data, file_name)?,
        ),
        ImportKind::Icd10CmTabular => concepts(
            CodeSystem::Icd10Cm,
            import::icd10cm_tabular::parse(data, file_name)?,
        ),
        ImportKind::Nucc => concepts(CodeSystem::Taxonomy, import::nucc::parse(data, file_name)?),
        ImportKind::Pos => concepts(CodeSystem::Pos, import::pos::parse(data, file_name)?),
        ImportKind::Cpt => concepts(CodeSystem::Cpt, import::cpt::parse(data, file_name)?),
        ImportKind::Mce => concepts(CodeSystem::Mce, import::mce::parse(data, file_name)?),
        ImportKind::NcciAoc => concepts(CodeSystem::NcciAoc, import::aoc::parse(data, file_name)?),
        ImportKind::Hcpcs => {
            let file = import::hcpcs::parse(data, file_name)?;
            ParsedFile {
                hint: file.release,
                records_read: file.lines_read,
                skipped: file.skipped,
                releases: vec![
                    (
                        CodeSystem::Hcpcs,
                        ReleaseRows::Concepts(file.procedures.into_iter().map(concept).collect()),
                    ),
                    (
                        CodeSystem::Modifier,
                        ReleaseRows::Concepts(file.modifiers.into_iter().map(concept).collect()),
                    ),
                ],
            }
        }
        ImportKind::Mpfs => {
            let file = import::mpfs::parse(data, file_name)?;
            let rows = file
                .rows
                .into_iter()
                .map(|r| {
                    (
                        r.code,
                        r.modifier.unwrap_or_default(),
                        FeeScheduleRow {
                            status: r.status,
                            pctc: r.pctc,
                            global_days: r.global_days,
                            mult_proc: r.mult_proc,
                            bilat: r.bilat,
                            asst: r.asst,
                            co_surg: r.co_surg,
                            team_surg: r.team_surg,
                            work_rvu: r.work_rvu,
                        },
                    )
                })
                .collect();
            ParsedFile {
                hint: file.release,
                records_read: file.lines_read,
                skipped: file.skipped,
                releases: vec![(CodeSystem::Mpfs, ReleaseRows::FeeSchedule(rows))],
            }
        }
        ImportKind::NcciPtp => {
            let file = import::ncci_ptp::parse(data, file_name)?;
            let rows = file
                .rows
                .into_iter()
                .map(|r| {
                    (
                        r.column1,
                        PtpEdit {
                            column2: r.column2,
                            effective_date: r.effective_date,
                            deletion_date: r.deletion_date,
                            modifier_indicator: r.modifier_indicator,
                            rationale: r.rationale,
                        },
                        r.prior_to_1996,
                    )
                })
                .collect();
            ParsedFile {
                hint: file.release,
                records_read: file.lines_read,
                skipped: file.skipped,
                releases: vec![(CodeSystem::NcciPtp, ReleaseRows::Ptp(rows))],
            }
        }
        ImportKind::Mue => {
            let file = import::mue::parse(data, file_name)?;
            let rows = file
                .rows
                .into_iter()
                .map(|r| {
                    (
                        r.code,
                        MueLimit {
                            value: r.mue_value,
                            mai: r.mai,
                            rationale: r.rationale,
                        },
                    )
                })
                .collect();
            ParsedFile {
                hint: file.release,
                records_read: file.lines_read,
                skipped: file.skipped,
                releases: vec![(CodeSystem::Mue, ReleaseRows::Mue(rows))],
            }
        }
    })
}

fn concept(record: ConceptRecord) -> Concept {
    Concept {
        code: record.code,
        display: record.display,
        long_description: record.long_description,
        billable: record.billable.unwrap_or(true),
        parent_code: record.parent_code,
        added_date: record.added_date,
        effective_date: record.effective_date,
        termination_date: record.termination_date,
        properties: record.properties,
    }
}
