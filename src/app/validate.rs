//! ValidateClaim: run the rule set over one claim, store the decision in the
//! audit store (group commit) before replying, idempotently on request_id.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::app::audit_writer::AuditWriter;
use crate::app::catalog::Catalog;
use crate::app::history_reader::HistoryReader;
use crate::domain::catalog::CatalogSnapshot;
use crate::domain::claim::{Claim, PriorClaim};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{Disposition, Finding, Severity};
use crate::error::{AppError, ErrorReason};
use crate::rules::RuleSet;
use crate::storage::audit::{self, AppendOutcome, AuditRow, HistoryQuery};

/// A finding as stored and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFinding {
    /// Rule id.
    pub rule_id: String,
    /// Severity.
    pub severity: Severity,
    /// Line, 0 for the claim.
    pub line_number: u32,
    /// Field path.
    pub field_path: String,
    /// Message.
    pub message: String,
    /// Code to use instead.
    pub suggested_code: Option<String>,
    /// How to fix it.
    pub suggestion: Option<String>,
}

impl From<Finding> for StoredFinding {
    fn from(f: Finding) -> Self {
        Self {
            rule_id: f.rule_id.to_owned(),
            severity: f.severity,
            line_number: f.line_number,
            field_path: f.field_path,
            message: f.message,
            suggested_code: f.suggested_code,
            suggestion: f.suggestion,
        }
    }
}

/// A release a decision read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsedVersion {
    /// System id (`icd10cm`, ...).
    pub system: String,
    /// Version label.
    pub version: String,
}

/// A decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Audit record id.
    pub audit_record_id: Uuid,
    /// Disposition.
    pub disposition: Disposition,
    /// Findings.
    pub findings: Vec<StoredFinding>,
    /// Rule set version.
    pub ruleset_version: String,
    /// Releases read.
    pub versions: Vec<UsedVersion>,
}

/// Where a decision comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A unary call with its request id (may be empty).
    Request(&'a str),
    /// An item of a batch: batch id and sequence.
    BatchItem(Uuid, i64),
}

/// A claim ready for the rules: the member id replaced by its keyed hash,
/// the canonical JSON and its checksum.
#[derive(Debug, Clone)]
pub struct PreparedClaim {
    claim: Claim,
    member_hash: Option<Vec<u8>>,
    canonical: String,
    claim_sha256: Vec<u8>,
    started: Instant,
}

impl PreparedClaim {
    /// The history the edits need: the member's accepted decisions over
    /// one 090-day global period up to the date of service.
    pub fn history_query(&self) -> Option<HistoryQuery> {
        let (hash, date) = (self.member_hash.as_ref()?, self.claim.date_of_service?);
        Some(HistoryQuery {
            member_hash: hash.clone(),
            from: date
                .checked_sub_days(chrono::Days::new(HISTORY_DAYS))
                .unwrap_or(date),
            to: date,
            created_before: None,
        })
    }

    /// The claim as later claims of the member see it in their history.
    pub fn as_prior(&self) -> Option<(Vec<u8>, PriorClaim)> {
        Some((
            self.member_hash.clone()?,
            PriorClaim {
                claim_id: self.claim.claim_id.clone(),
                date_of_service: self.claim.date_of_service?,
                rendering_npi: self.claim.rendering_provider.npi.clone(),
                lines: self
                    .claim
                    .lines
                    .iter()
                    .map(|l| (l.procedure_code.trim().to_owned(), l.modifiers.clone()))
                    .collect(),
            },
        ))
    }
}

/// Validates claims and records the decisions.
pub struct ClaimValidator {
    catalog: Arc<Catalog>,
    rules: RuleSet,
    writer: AuditWriter,
    history: HistoryReader,
    pool: PgPool,
    member_key: Vec<u8>,
}

/// How far back the history edits look: the longest global period.
const HISTORY_DAYS: u64 = 90;

/// Systems whose release in effect a decision records.
const USED_SYSTEMS: [CodeSystem; 6] = [
    CodeSystem::Icd10Cm,
    CodeSystem::Cpt,
    CodeSystem::Hcpcs,
    CodeSystem::Modifier,
    CodeSystem::Pos,
    CodeSystem::Taxonomy,
];

fn versions_used(catalog: &CatalogSnapshot, date: Option<NaiveDate>) -> Vec<UsedVersion> {
    let Some(date) = date else { return Vec::new() };
    let concept = USED_SYSTEMS
        .iter()
        .filter_map(|s| catalog.concept_release(*s, date).map(|r| &r.version));
    let tables = [
        catalog.fee_schedule(date).map(|r| &r.version),
        catalog.ptp_release(date).map(|r| &r.version),
        catalog.mue_release(date).map(|r| &r.version),
    ];
    concept
        .chain(tables.into_iter().flatten())
        .map(|v| UsedVersion {
            system: v.system.as_str().to_owned(),
            version: v.version.clone(),
        })
        .collect()
}

impl ClaimValidator {
    /// A validator writing through `writer` and reading member history from
    /// `pool` in batched queries; member ids are hashed with `member_key`.
    pub fn new(
        catalog: Arc<Catalog>,
        pool: PgPool,
        writer: AuditWriter,
        member_key: Vec<u8>,
    ) -> Self {
        Self {
            catalog,
            rules: RuleSet::standard(),
            writer,
            history: HistoryReader::spawn(pool.clone()),
            pool,
            member_key,
        }
    }

    /// The catalog the rules read.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    fn member_hash(&self, member_id: &str) -> Option<Vec<u8>> {
        let member_id = member_id.trim();
        if member_id.is_empty() {
            return None;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.member_key).ok()?;
        mac.update(member_id.as_bytes());
        Some(mac.finalize().into_bytes().to_vec())
    }

    /// Replaces the member id by its keyed hash and computes the canonical
    /// form; the raw member id never leaves this function.
    pub fn prepare(&self, mut claim: Claim) -> Result<PreparedClaim, AppError> {
        let started = Instant::now();
        let member_hash = self.member_hash(&claim.patient.member_id);
        claim.patient.member_id.clear();
        let canonical = serde_json::to_string(&claim).map_err(AppError::internal)?;
        let mut digest = Sha256::new();
        digest.update(canonical.as_bytes());
        digest.update(member_hash.as_deref().unwrap_or_default());
        Ok(PreparedClaim {
            claim,
            member_hash,
            canonical,
            claim_sha256: digest.finalize().to_vec(),
            started,
        })
    }

    /// Runs the rules over a prepared claim with the member's history and
    /// builds the audit row to store and the decision to answer with.
    pub fn decide(
        &self,
        snapshot: &CatalogSnapshot,
        prepared: PreparedClaim,
        history: &[PriorClaim],
        origin: Origin<'_>,
        submitter: &str,
    ) -> Result<(AuditRow, Decision), AppError> {
        let PreparedClaim {
            claim,
            member_hash,
            canonical,
            claim_sha256,
            started,
        } = prepared;
        let (disposition, findings) = self.rules.evaluate(&claim, snapshot, history);
        let versions = versions_used(snapshot, claim.date_of_service);
        let findings: Vec<StoredFinding> = findings.into_iter().map(StoredFinding::from).collect();
        let mut rule_ids: Vec<String> = findings.iter().map(|f| f.rule_id.clone()).collect();
        rule_ids.sort();
        rule_ids.dedup();
        let row = AuditRow {
            id: Uuid::new_v4(),
            create_time: Utc::now(),
            request_id: match origin {
                Origin::Request(id) if !id.is_empty() => Some(id.to_owned()),
                _ => None,
            },
            batch_item: match origin {
                Origin::BatchItem(batch, sequence) => Some((batch, sequence)),
                Origin::Request(_) => None,
            },
            claim_sha256,
            submitter: submitter.to_owned(),
            claim_id: claim.claim_id.clone(),
            payer_id: claim.payer_id.clone(),
            date_of_service: claim.date_of_service,
            member_hash,
            rendering_npi: Some(claim.rendering_provider.npi.clone()).filter(|n| !n.is_empty()),
            disposition: disposition.as_i16(),
            ruleset_version: self.rules.version.to_owned(),
            code_set_versions: serde_json::to_string(&versions).map_err(AppError::internal)?,
            claim: canonical,
            findings: serde_json::to_string(&findings).map_err(AppError::internal)?,
            rule_ids,
            procedure_codes: claim
                .lines
                .iter()
                .map(|l| l.procedure_code.trim().to_owned())
                .collect(),
            diagnosis_codes: claim
                .diagnosis_codes
                .iter()
                .map(|d| codes::canonical(CodeSystem::Icd10Cm, d))
                .collect(),
            processing_micros: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        };
        let decision = Decision {
            audit_record_id: row.id,
            disposition,
            findings,
            ruleset_version: self.rules.version.to_owned(),
            versions,
        };
        Ok((row, decision))
    }

    /// Validates `claim` and stores the decision; the same `request_id` with
    /// the same claim returns the stored decision.
    pub async fn validate(
        &self,
        request_id: &str,
        submitter: &str,
        claim: Claim,
    ) -> Result<Decision, AppError> {
        let prepared = self.prepare(claim)?;
        // A repeated request_id is found when its row is stored (one
        // statement in the group commit), not by a lookup before every
        // call: retries are rare, first attempts are not.
        let request_id = request_id.trim();
        let history = match prepared.history_query() {
            Some(query) => self.history.accepted_history(query).await?,
            None => Vec::new(),
        };
        let claim_sha256 = prepared.claim_sha256.clone();
        let snapshot = self.catalog.snapshot();
        let (row, decision) = self.decide(
            &snapshot,
            prepared,
            &history,
            Origin::Request(request_id),
            submitter,
        )?;
        match self.writer.append(row).await? {
            AppendOutcome::Stored => Ok(decision),
            // Another call with this request id won the race: answer as it did.
            AppendOutcome::RequestIdTaken => self
                .stored(request_id, &claim_sha256)
                .await?
                .ok_or_else(|| AppError::internal("request id taken but its decision is missing")),
        }
    }

    async fn stored(
        &self,
        request_id: &str,
        claim_sha256: &[u8],
    ) -> Result<Option<Decision>, AppError> {
        let Some((stored_sha, record_id)) = audit::find_request(&self.pool, request_id).await?
        else {
            return Ok(None);
        };
        if stored_sha != claim_sha256 {
            return Err(AppError::FailedPrecondition {
                reason: ErrorReason::RequestIdReused,
                message: "request_id was already used for a different claim".into(),
            });
        }
        let record = audit::get_decision(&self.pool, record_id)
            .await?
            .ok_or_else(|| AppError::internal("audit record of a request id is missing"))?;
        Ok(Some(Decision::from_stored(record)?))
    }

    /// Re-validates a stored claim under today's rules and code sets, with
    /// the history its original decision could see (the member's accepted
    /// decisions stored before it); nothing is stored.
    pub async fn replay(
        &self,
        claim: &Claim,
        member_hash: Option<Vec<u8>>,
        decided_at: DateTime<Utc>,
    ) -> Result<(Disposition, Vec<StoredFinding>, Vec<UsedVersion>), AppError> {
        let history = match (member_hash, claim.date_of_service) {
            (Some(member_hash), Some(date)) => {
                let query = HistoryQuery {
                    member_hash,
                    from: date
                        .checked_sub_days(chrono::Days::new(HISTORY_DAYS))
                        .unwrap_or(date),
                    to: date,
                    created_before: Some(decided_at),
                };
                audit::accepted_histories(&self.pool, &[query])
                    .await?
                    .pop()
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let snapshot = self.catalog.snapshot();
        let (disposition, findings) = self.rules.evaluate(claim, &snapshot, &history);
        Ok((
            disposition,
            findings.into_iter().map(StoredFinding::from).collect(),
            versions_used(&snapshot, claim.date_of_service),
        ))
    }
}

impl Decision {
    /// A decision as stored in the audit record.
    pub fn from_stored(record: audit::StoredDecision) -> Result<Self, AppError> {
        Ok(Self {
            audit_record_id: record.id,
            disposition: Disposition::from_i16(record.disposition)
                .ok_or_else(|| AppError::internal("stored disposition out of range"))?,
            findings: serde_json::from_str(&record.findings).map_err(AppError::internal)?,
            ruleset_version: record.ruleset_version,
            versions: serde_json::from_str(&record.code_set_versions)
                .map_err(AppError::internal)?,
        })
    }
}
