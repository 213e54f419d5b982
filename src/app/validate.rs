//! ValidateClaim: run the rule set over one claim, store the decision in the
//! audit store (group commit) before replying, idempotently on request_id.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

use crate::app::audit_writer::AuditWriter;
use crate::app::catalog::Catalog;
use crate::app::decision::{
    Decision, KnownHistory, Origin, PendingDecision, PreparedClaim, history_start, versions_used,
};
use crate::app::history_reader::HistoryReader;
use crate::app::metrics;
use crate::domain::catalog::CatalogSnapshot;
use crate::domain::claim::{Claim, PriorClaim};
use crate::domain::code_system::UsedVersion;
use crate::error::{AppError, ErrorReason};
use crate::rules::{Evaluation, RuleSet};
use crate::storage::audit::{self, HistoryQuery};

/// Validates claims and records the decisions.
pub struct ClaimValidator {
    catalog: Arc<Catalog>,
    rules: Arc<RuleSet>,
    writer: AuditWriter,
    history: HistoryReader,
    pool: PgPool,
    member_key: Vec<u8>,
}

impl ClaimValidator {
    /// A validator storing decisions in group commits and reading member
    /// history in batched queries, both on `pool`; member ids are hashed
    /// with `member_key`.
    pub fn new(catalog: Arc<Catalog>, pool: PgPool, member_key: Vec<u8>) -> Self {
        let rules = Arc::new(RuleSet::standard());
        Self {
            catalog,
            writer: AuditWriter::spawn(pool.clone(), Arc::clone(&rules)),
            rules,
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
        let member_hash = self.member_hash(&claim.patient.member_id);
        claim.patient.member_id.clear();
        PreparedClaim::new(claim, member_hash)
    }

    /// Runs the rules over a prepared claim with the member's history and
    /// builds the audit row to store and the decision to answer with,
    /// counted in the decision metrics now. ValidateClaim does not come
    /// here: it defers the history read to the group commit, which may
    /// change the decision, so it counts the decision once stored.
    pub fn decide(
        &self,
        snapshot: &Arc<CatalogSnapshot>,
        prepared: PreparedClaim,
        history: Vec<PriorClaim>,
        origin: Origin<'_>,
        submitter: &str,
    ) -> Result<PendingDecision, AppError> {
        let pending = PendingDecision::new(
            &self.rules,
            snapshot,
            prepared,
            KnownHistory::Read(history),
            origin,
            submitter,
        )?;
        metrics::record_decision(snapshot, &pending.row.payer_id, &pending.decision);
        Ok(pending)
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
        let claim_sha256 = prepared.claim_sha256().to_vec();
        let snapshot = self.catalog.snapshot();
        // The group commit reads the member's history under its lock in
        // any case; reading it before deciding as well cost a second
        // round trip per call (BENCHMARKS.md, attempt 8).
        let pending = PendingDecision::new(
            &self.rules,
            &snapshot,
            prepared,
            KnownHistory::Deferred,
            Origin::Request(request_id),
            submitter,
        )?;
        let payer_id = metrics::enabled().then(|| pending.row.payer_id.clone());
        match self.store(pending).await? {
            Some(decision) => {
                if let Some(payer_id) = payer_id {
                    metrics::record_decision(&snapshot, &payer_id, &decision);
                }
                Ok(decision)
            }
            // Another call with this request id won the race: answer as it did.
            None => self
                .stored(request_id, &claim_sha256)
                .await?
                .ok_or_else(|| AppError::internal("request id taken but its decision is missing")),
        }
    }

    /// Stores a decision in the next group commit and returns it once it
    /// is durable: decided again if the member's history, read there under
    /// the member's lock, differs from what it was decided with (a claim
    /// stored meanwhile, on any replica), `None` if its request id was
    /// taken.
    pub async fn store(&self, pending: PendingDecision) -> Result<Option<Decision>, AppError> {
        self.writer.append(pending).await
    }

    /// Earlier accepted decisions for each of `queries`, in order.
    pub(crate) async fn histories(
        &self,
        queries: Vec<HistoryQuery>,
    ) -> Result<Vec<Vec<PriorClaim>>, AppError> {
        self.history.accepted_histories(queries).await
    }

    /// Group commits the audit writer has made.
    pub fn audit_commits(&self) -> u64 {
        self.writer.commits()
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
    ) -> Result<(Evaluation, Vec<UsedVersion>), AppError> {
        let history = match (member_hash, claim.date_of_service) {
            (Some(member_hash), Some(date)) => {
                let query = HistoryQuery {
                    member_hash,
                    from: history_start(date),
                    to: date,
                    created_before: Some(decided_at),
                };
                self.history.accepted_history(query).await?
            }
            _ => Vec::new(),
        };
        let snapshot = self.catalog.snapshot();
        Ok((
            self.rules.evaluate(claim, &snapshot, &history),
            versions_used(&snapshot, claim.date_of_service),
        ))
    }
}
