//! Group commit for audit rows: the writer takes every decision queued while
//! the previous transaction was committing and stores them in one
//! transaction, so concurrent requests share commits. Each caller waits for
//! its own row to be durable before it replies.
//!
//! Two guarantees hold inside the transaction:
//! - **Isolation.** A row PostgreSQL refuses fails only its own request:
//!   the group is split and tried again without it ([`Isolation`]).
//! - **History under concurrency.** Before storing, the writer takes each
//!   member's advisory lock and reads the member's accepted history (for a
//!   ValidateClaim call the only read; a batch chunk read it once before),
//!   so of N identical claims decided at once (here or on another replica)
//!   exactly one is accepted and the others become `DUPLICATE_CLAIM`
//!   (`lock_and_recheck`, shared with the batch writer).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{PgConnection, PgPool};

use crate::app::batcher::{Batcher, BatcherSettings, Isolation};
use crate::app::decision::{Decision, PendingDecision};
use crate::domain::claim::PriorClaim;
use crate::error::AppError;
use crate::rules::RuleSet;
use crate::storage::audit::{self, AppendOutcome, AuditRow};
use crate::storage::{self, WriteError};

/// One transaction at a time, at most 1,000 rows each.
const SETTINGS: BatcherSettings = BatcherSettings {
    max_batch: 1_000,
    queue: 4_096,
    in_flight: 1,
    name: "audit writer",
    retry_message: "the decision could not be stored; retry with the same request_id",
};

/// Handle to the writer task.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    batcher: Batcher<PendingDecision, Option<Decision>>,
    commits: Arc<AtomicU64>,
}

impl AuditWriter {
    /// Starts the writer; `rules` decide a claim again when its member's
    /// history changed. It stops when every handle is dropped.
    pub fn spawn(pool: PgPool, rules: Arc<RuleSet>) -> Self {
        let commits = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&commits);
        Self {
            batcher: Batcher::spawn(SETTINGS, move |mut group: Vec<PendingDecision>| {
                let (pool, rules, counter) =
                    (pool.clone(), Arc::clone(&rules), Arc::clone(&counter));
                async move {
                    let mut isolation = Isolation::new(SETTINGS.name, group.len());
                    while let Some(part) = isolation.next_group() {
                        let outcome = commit_group(&pool, &rules, &mut group[part.clone()]).await;
                        if outcome.is_ok() {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        isolation.settle(part, outcome)?;
                    }
                    Ok(isolation.finish())
                }
            }),
            commits,
        }
    }

    /// Stores `pending`; returns the decision once it is durable (decided
    /// again if a concurrent claim of the member was stored first), or
    /// `None` when its request id was already taken.
    pub async fn append(&self, pending: PendingDecision) -> Result<Option<Decision>, AppError> {
        self.batcher.call(pending).await
    }

    /// Transactions committed so far (group commits share them).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

/// One transaction: request ids first (a taken one is not stored), then the
/// member locks and the history check, then the records.
async fn commit_group(
    pool: &PgPool,
    rules: &RuleSet,
    group: &mut [PendingDecision],
) -> Result<Vec<Option<Decision>>, WriteError> {
    let mut tx = storage::begin(pool).await?;
    let rows: Vec<&AuditRow> = group.iter().map(|p| &p.row).collect();
    let outcomes = audit::claim_request_ids(&mut tx, &rows).await?;
    let mut kept: Vec<&mut PendingDecision> = group
        .iter_mut()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == AppendOutcome::Stored)
        .map(|(pending, _)| pending)
        .collect();
    lock_and_recheck(&mut tx, rules, &mut kept).await?;
    let records: Vec<&AuditRow> = kept.iter().map(|p| &p.row).collect();
    audit::insert_records(&mut tx, &records).await?;
    tx.commit().await?;
    let mut kept = kept.into_iter();
    Ok(outcomes
        .iter()
        .map(|outcome| match outcome {
            AppendOutcome::Stored => kept.next().map(|p| p.decision.clone()),
            AppendOutcome::RequestIdTaken => None,
        })
        .collect())
}

/// Takes the advisory lock of every member whose claim is about to be
/// stored and could still change (accepted, or decided before its history
/// was read), reads those members' histories (now complete: every writer
/// of a member holds its lock until it commits) and decides again each
/// claim whose history holds something it did not see. Earlier accepted
/// claims of the group count as history of later ones, in group order.
pub(crate) async fn lock_and_recheck(
    connection: &mut PgConnection,
    rules: &RuleSet,
    group: &mut [&mut PendingDecision],
) -> Result<(), WriteError> {
    let (checked, queries): (Vec<usize>, Vec<audit::HistoryQuery>) = group
        .iter()
        .enumerate()
        .filter_map(|(i, pending)| Some((i, pending.recheck_query()?)))
        .unzip();
    if checked.is_empty() {
        return Ok(());
    }
    let members: Vec<&[u8]> = queries.iter().map(|q| q.member_hash.as_slice()).collect();
    audit::lock_members(connection, &members).await?;
    let fresh = audit::accepted_histories_on(connection, &queries).await?;
    let mut earlier: HashMap<&[u8], Vec<PriorClaim>> = HashMap::new();
    for ((i, query), mut history) in checked.into_iter().zip(&queries).zip(fresh) {
        let member = query.member_hash.as_slice();
        history.extend(earlier.get(member).into_iter().flatten().cloned());
        if let Some(prior) = group[i].recheck(rules, history)? {
            earlier.entry(member).or_default().push(prior);
        }
    }
    Ok(())
}
