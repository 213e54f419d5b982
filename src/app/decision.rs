//! A decision and what it is made of: the prepared claim (member id
//! replaced by its keyed hash, canonical JSON, checksum), the rules' verdict,
//! the audit row to store, and what a decision rests on so the group
//! commit can decide it again (`app::audit_writer`): an accepted one, or
//! any made before its history was read.

use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::catalog::CatalogSnapshot;
use crate::domain::claim::{Claim, PriorClaim};
use crate::domain::code_system::{CodeSystem, UsedVersion};
use crate::domain::codes;
use crate::domain::finding::{Disposition, Finding, NotChecked};
use crate::error::AppError;
use crate::rules::RuleSet;
use crate::storage::audit::{self, AuditRow, BatchItemKey, HistoryQuery};

/// A decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub audit_record_id: Uuid,
    pub disposition: Disposition,
    pub findings: Vec<Finding>,
    /// The edits that could not run, and why.
    pub not_checked: Vec<NotChecked>,
    pub ruleset_version: String,
    /// Releases read.
    pub versions: Vec<UsedVersion>,
}

/// What a decision knows of its member's history when it is made.
#[derive(Debug, Clone)]
pub enum KnownHistory {
    /// The member's accepted claims, read before deciding.
    Read(Vec<PriorClaim>),
    /// Not read: the claim is decided without history, and the group
    /// commit, which reads the member's history under the member's lock
    /// anyway, decides it again if that history holds anything. A unary
    /// call saves a round trip to the database this way.
    Deferred,
}

/// Where a decision comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A unary call with its request id (may be empty).
    Request(&'a str),
    /// An item of a batch.
    BatchItem(BatchItemKey),
}

/// What a decision of a known member rests on (an accepted one, or any
/// made before its history was read), kept until the decision is stored:
/// the group commit decides it again if the member's history, read under
/// the member's lock, holds a claim the decision did not see (a concurrent
/// twin, here or on another replica).
#[derive(Debug, Clone)]
pub struct DecisionBasis {
    prepared: PreparedClaim,
    snapshot: Arc<CatalogSnapshot>,
    /// The history the current decision was made with.
    history: Vec<PriorClaim>,
    /// Whether `history` is what a group commit read (or nothing, when it
    /// was deferred): then the decision must match the next read exactly,
    /// also when a claim it saw is gone (a twin whose row the database
    /// refused, so the group was tried again without it). History read
    /// before deciding may reach further than the commit's read, so it is
    /// only checked for claims it lacks.
    from_commit: bool,
}

/// A decision on its way to the audit store.
#[derive(Debug, Clone)]
pub struct PendingDecision {
    /// The row to store.
    pub row: AuditRow,
    /// The answer once the row is stored.
    pub decision: Decision,
    /// Set for claims of a known member that more history can change:
    /// accepted ones (the history edits only add findings), and every one
    /// decided before its history was read.
    basis: Option<DecisionBasis>,
}

impl PendingDecision {
    /// The history lookup (its member included) to check again under the
    /// lock; `None` when the decision cannot change.
    pub(crate) fn recheck_query(&self) -> Option<HistoryQuery> {
        self.basis.as_ref()?.prepared.history_query()
    }

    /// Decides again with `history` if it differs from what the decision
    /// saw ([`DecisionBasis::from_commit`]); the row keeps its id and time
    /// (its request id already points at it). Returns the claim as later
    /// claims of the member see it, while it stays accepted. A group tried
    /// again calls it again.
    pub(crate) fn recheck(
        &mut self,
        rules: &RuleSet,
        history: Vec<PriorClaim>,
    ) -> Result<Option<PriorClaim>, AppError> {
        let Some(basis) = &mut self.basis else {
            return Ok(None);
        };
        let unseen = !history.iter().all(|prior| basis.history.contains(prior));
        let gone = basis.from_commit && !basis.history.iter().all(|seen| history.contains(seen));
        if unseen || gone {
            let (mut row, decision) = decide_claim(
                rules,
                &basis.snapshot,
                &basis.prepared,
                &history,
                self.row.request_id.clone(),
                self.row.batch_item,
                &self.row.submitter,
            )?;
            row.id = self.row.id;
            row.create_time = self.row.create_time;
            row.claim = std::mem::take(&mut self.row.claim);
            self.row = row;
            self.decision = Decision {
                audit_record_id: self.row.id,
                ..decision
            };
            basis.history = history;
            basis.from_commit = true;
        }
        // A rejected claim is no one's history. It keeps its basis: if the
        // group is tried again, it is decided again.
        if !self.decision.disposition.is_accepted() {
            return Ok(None);
        }
        Ok(basis.prepared.as_prior().map(|(_, prior)| prior))
    }
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
            from: history_start(date),
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
                    .map(|l| (l.procedure_code.clone(), l.modifiers.clone()))
                    .collect(),
            },
        ))
    }
}

/// How far back the history edits look: the longest global period.
const HISTORY_DAYS: u64 = 90;

/// Systems whose release in effect a decision records.
const USED_SYSTEMS: [CodeSystem; 8] = [
    CodeSystem::Icd10Cm,
    CodeSystem::Cpt,
    CodeSystem::Hcpcs,
    CodeSystem::Modifier,
    CodeSystem::Pos,
    CodeSystem::Taxonomy,
    CodeSystem::Mce,
    CodeSystem::NcciAoc,
];

pub(crate) fn versions_used(
    catalog: &CatalogSnapshot,
    date: Option<NaiveDate>,
) -> Vec<UsedVersion> {
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
            system: v.system,
            version: v.version.clone(),
        })
        .collect()
}

impl PreparedClaim {
    /// The checksum that tells a retry of this claim from another claim
    /// under the same request id.
    pub(crate) fn claim_sha256(&self) -> &[u8] {
        &self.claim_sha256
    }

    /// A claim whose member id is already replaced by `member_hash`, with
    /// its canonical JSON and checksum (over the JSON and the hash).
    pub(crate) fn new(claim: Claim, member_hash: Option<Vec<u8>>) -> Result<Self, AppError> {
        let started = Instant::now();
        let canonical = serde_json::to_string(&claim).map_err(AppError::internal)?;
        let mut digest = Sha256::new();
        digest.update(canonical.as_bytes());
        digest.update(member_hash.as_deref().unwrap_or_default());
        Ok(Self {
            claim,
            member_hash,
            canonical,
            claim_sha256: digest.finalize().to_vec(),
            started,
        })
    }
}

impl PendingDecision {
    /// Decides a prepared claim with the member's `history`; a claim of a
    /// known member keeps what it rests on for the re-check when it is
    /// accepted or its history was deferred.
    pub(crate) fn new(
        rules: &RuleSet,
        snapshot: &Arc<CatalogSnapshot>,
        mut prepared: PreparedClaim,
        history: KnownHistory,
        origin: Origin<'_>,
        submitter: &str,
    ) -> Result<Self, AppError> {
        let (history, deferred) = match history {
            KnownHistory::Read(history) => (history, false),
            KnownHistory::Deferred => (Vec::new(), true),
        };
        let (request_id, batch_item) = match origin {
            Origin::Request(id) => (Some(id.to_owned()).filter(|id| !id.is_empty()), None),
            Origin::BatchItem(key) => (None, Some(key)),
        };
        let (mut row, decision) = decide_claim(
            rules, snapshot, &prepared, &history, request_id, batch_item, submitter,
        )?;
        // The canonical JSON moves into the row once; a re-check takes it
        // from there.
        row.claim = std::mem::take(&mut prepared.canonical);
        let rechecked = deferred || decision.disposition.is_accepted();
        let basis = (rechecked && prepared.member_hash.is_some()).then(|| DecisionBasis {
            prepared,
            snapshot: Arc::clone(snapshot),
            history,
            from_commit: deferred,
        });
        Ok(Self {
            row,
            decision,
            basis,
        })
    }
}

/// The first date of service the history edits look at for a claim of `date`.
pub(crate) fn history_start(date: NaiveDate) -> NaiveDate {
    date.checked_sub_days(chrono::Days::new(HISTORY_DAYS))
        .unwrap_or(date)
}

/// The rules over one prepared claim: the audit row (its `claim` JSON left
/// for the caller to move in) and the decision.
fn decide_claim(
    rules: &RuleSet,
    snapshot: &CatalogSnapshot,
    prepared: &PreparedClaim,
    history: &[PriorClaim],
    request_id: Option<String>,
    batch_item: Option<BatchItemKey>,
    submitter: &str,
) -> Result<(AuditRow, Decision), AppError> {
    let claim = &prepared.claim;
    let evaluation = rules.evaluate(claim, snapshot, history);
    let disposition = evaluation.disposition;
    let findings = evaluation.findings;
    let versions = versions_used(snapshot, claim.date_of_service);
    let mut rule_ids: Vec<String> = findings.iter().map(|f| f.rule_id.clone()).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let row = AuditRow {
        // Time-ordered (UUIDv7): each new id lands at the end of the id
        // index instead of on a random page, which in a bulk load cost a
        // full-page image in the WAL after every checkpoint.
        id: Uuid::now_v7(),
        create_time: Utc::now(),
        request_id,
        batch_item,
        claim_sha256: prepared.claim_sha256.clone(),
        submitter: submitter.to_owned(),
        claim_id: claim.claim_id.clone(),
        payer_id: claim.payer_id.to_string(),
        date_of_service: claim.date_of_service,
        member_hash: prepared.member_hash.clone(),
        rendering_npi: Some(claim.rendering_provider.npi.to_string()).filter(|n| !n.is_empty()),
        disposition: disposition.as_i16(),
        ruleset_version: rules.version.to_owned(),
        code_set_versions: serde_json::to_string(&versions).map_err(AppError::internal)?,
        claim: String::new(),
        findings: serde_json::to_string(&findings).map_err(AppError::internal)?,
        not_checked: serde_json::to_string(&evaluation.not_checked).map_err(AppError::internal)?,
        rule_ids,
        procedure_codes: claim
            .lines
            .iter()
            .map(|l| l.procedure_code.to_string())
            .collect(),
        diagnosis_codes: claim
            .diagnosis_codes
            .iter()
            .map(|d| codes::canonical(CodeSystem::Icd10Cm, d))
            .collect(),
        processing_micros: i64::try_from(prepared.started.elapsed().as_micros())
            .unwrap_or(i64::MAX),
    };
    let decision = Decision {
        audit_record_id: row.id,
        disposition,
        findings,
        not_checked: evaluation.not_checked,
        ruleset_version: rules.version.to_owned(),
        versions,
    };
    Ok((row, decision))
}

impl Decision {
    /// A decision as stored in the audit record.
    pub fn from_stored(record: audit::StoredDecision) -> Result<Self, AppError> {
        Ok(Self {
            audit_record_id: record.id,
            disposition: Disposition::from_i16(record.disposition)
                .ok_or_else(|| AppError::internal("stored disposition out of range"))?,
            findings: record.findings.0,
            not_checked: record.not_checked.0,
            ruleset_version: record.ruleset_version,
            versions: record.code_set_versions.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{catalog, clean_claim, date, line};

    const MEMBER: [u8; 32] = [7; 32];

    /// An office visit five days into the 010 global period of the
    /// excision of [`excision`], its line pointing at diagnosis `pointer`.
    fn visit(pointer: u32) -> PreparedClaim {
        let mut claim = clean_claim();
        claim.claim_id = "CLM-VISIT".into();
        claim.date_of_service = Some(date("2026-01-20"));
        claim.lines = vec![line("99213", &[], &[pointer])];
        PreparedClaim::new(claim, Some(MEMBER.to_vec())).expect("prepared")
    }

    /// The member's excision on 2026-01-15, as history.
    fn excision() -> PriorClaim {
        let prepared = PreparedClaim::new(clean_claim(), Some(MEMBER.to_vec())).expect("prepared");
        prepared.as_prior().expect("a member and a date").1
    }

    fn deferred(prepared: PreparedClaim) -> PendingDecision {
        PendingDecision::new(
            &RuleSet::standard(),
            &Arc::new(catalog()),
            prepared,
            KnownHistory::Deferred,
            Origin::Request("r-1"),
            "submitter",
        )
        .expect("decided")
    }

    fn fired(pending: &PendingDecision) -> Vec<&str> {
        let findings = &pending.decision.findings;
        findings.iter().map(|f| f.rule_id.as_str()).collect()
    }

    #[test]
    fn a_rejected_claim_decided_without_history_gets_its_history_findings_and_is_no_ones_history() {
        let rules = RuleSet::standard();
        let mut pending = deferred(visit(9));
        assert!(!pending.decision.disposition.is_accepted());
        assert!(!fired(&pending).contains(&"EM_IN_GLOBAL_PERIOD"));

        let as_history = pending
            .recheck(&rules, vec![excision()])
            .expect("rechecked");
        assert!(as_history.is_none(), "a rejected claim is no one's history");
        let found = fired(&pending);
        assert!(found.contains(&"DX_POINTER_INVALID"), "{found:?}");
        assert!(found.contains(&"EM_IN_GLOBAL_PERIOD"), "{found:?}");
        assert_eq!(pending.decision.audit_record_id, pending.row.id);
    }

    /// The first try saw a twin in the group; the database refused the
    /// twin's row, so the group is tried again without it: the claim is
    /// decided from what the second try reads, not left a duplicate.
    #[test]
    fn a_group_tried_again_decides_from_what_the_second_try_reads() {
        let rules = RuleSet::standard();
        let mut pending = deferred(visit(1));
        assert!(
            pending.decision.disposition.is_accepted(),
            "{:?}",
            fired(&pending)
        );
        let twin = visit(1).as_prior().expect("prior").1;

        let first_try = pending.recheck(&rules, vec![twin]).expect("rechecked");
        assert!(first_try.is_none());
        assert!(fired(&pending).contains(&"DUPLICATE_CLAIM"));

        let second_try = pending.recheck(&rules, Vec::new()).expect("rechecked");
        assert!(
            pending.decision.disposition.is_accepted(),
            "{:?}",
            fired(&pending)
        );
        assert!(!fired(&pending).contains(&"DUPLICATE_CLAIM"));
        assert_eq!(
            second_try.map(|prior| prior.claim_id),
            Some("CLM-VISIT".into())
        );
    }
}
