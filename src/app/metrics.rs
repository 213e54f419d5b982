//! What the server counts, for Prometheus (the `metrics` facade; the
//! exporter is installed by `startup` when `--metrics-listen` is set, and
//! without it every call here is a no-op). Every name is here, so the
//! README's list and the code cannot drift apart. Labels take only bounded
//! values: RPC paths of the descriptors, dispositions, rule ids, and payers
//! the catalog knows (others count as `other`), so no submitter can grow
//! the series without bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::app::catalog::Catalog;
use crate::app::decision::Decision;
use crate::domain::catalog::CatalogSnapshot;
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};

/// RPCs answered, by `method` (the gRPC path) and `code`.
pub const RPC_REQUESTS: &str = "claimscrub_rpc_requests_total";
/// Seconds from request to the end of the response (a stream's whole life).
pub const RPC_DURATION: &str = "claimscrub_rpc_duration_seconds";
/// Decisions made, by `disposition` and `payer`.
pub const DECISIONS: &str = "claimscrub_decisions_total";
/// Findings reported, by `rule`.
pub const FINDINGS: &str = "claimscrub_findings_total";
/// Edits that could not run, by `rule`.
pub const NOT_CHECKED: &str = "claimscrub_not_checked_total";
/// Batch items stored (results and item errors); `rate()` is items/s.
pub const BATCH_ITEMS: &str = "claimscrub_batch_items_total";
/// Batch streams (ValidateClaimBatch, ValidateInterchange) open now.
pub const BATCH_STREAMS_OPEN: &str = "claimscrub_batch_streams_open";
/// Requests waiting in a batcher's queue (`batcher`: audit_writer, history_reader).
pub const BATCHER_QUEUE_DEPTH: &str = "claimscrub_batcher_queue_depth";
/// Seconds one batch (a group commit of the audit writer) took.
pub const BATCHER_BATCH_DURATION: &str = "claimscrub_batcher_batch_duration_seconds";
/// Requests in one batch (rows per commit of the audit writer).
pub const BATCHER_BATCH_SIZE: &str = "claimscrub_batcher_batch_size";
/// The release in effect today, by `system` and `version`: its first date
/// of service as a Unix time (`time() - x` is its age).
pub const CATALOG_RELEASE_EFFECTIVE: &str =
    "claimscrub_catalog_release_effective_timestamp_seconds";
/// When the release in effect today was imported, by `system` and `version`.
pub const CATALOG_RELEASE_LOADED: &str = "claimscrub_catalog_release_load_timestamp_seconds";
/// Pool connections, by `pool` (main, bulk) and `state` (idle, in_use).
pub const DB_POOL_CONNECTIONS: &str = "claimscrub_db_pool_connections";
/// The most connections a pool opens, by `pool`.
pub const DB_POOL_MAX: &str = "claimscrub_db_pool_max_connections";
/// Calls that found every connection busy until the acquire timeout (the
/// waiting callers that gave up; sqlx does not expose the waiters).
pub use crate::storage::DB_POOL_TIMEOUTS;

/// Set once the exporter is installed: without it nothing is counted, so
/// the per-decision and per-call paths build no labels for a no-op recorder.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Says that a recorder is installed (`startup`, with `--metrics-listen`).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether a recorder is installed.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How often the gauges read from state (pools, catalog) are refreshed.
const GAUGES_EVERY: Duration = Duration::from_secs(5);

/// The payer label of `payer_id`: itself when the catalog knows it.
fn payer_label(snapshot: &CatalogSnapshot, payer_id: &str) -> String {
    if snapshot.payers.contains_key(payer_id) {
        payer_id.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Counts a decision, its findings and what it could not check.
pub fn record_decision(snapshot: &CatalogSnapshot, payer_id: &str, decision: &Decision) {
    if !enabled() {
        return;
    }
    metrics::counter!(
        DECISIONS,
        "disposition" => decision.disposition.as_str(),
        "payer" => payer_label(snapshot, payer_id),
    )
    .increment(1);
    for finding in &decision.findings {
        metrics::counter!(FINDINGS, "rule" => finding.rule_id.clone()).increment(1);
    }
    for not_checked in &decision.not_checked {
        metrics::counter!(NOT_CHECKED, "rule" => not_checked.rule_id.clone()).increment(1);
    }
}

/// Per code system, the release that answers for today's date of service:
/// the latest to start on or before today that has not ended.
fn in_effect_today(snapshot: &CatalogSnapshot) -> Vec<CodeSystemVersion> {
    let today = Utc::now().date_naive();
    let mut latest: HashMap<CodeSystem, CodeSystemVersion> = HashMap::new();
    for version in snapshot.versions() {
        if version.effective_from > today || version.effective_to.is_some_and(|to| to < today) {
            continue;
        }
        match latest.get(&version.system) {
            Some(known) if known.effective_from >= version.effective_from => {}
            _ => {
                latest.insert(version.system, version);
            }
        }
    }
    latest.into_values().collect()
}

/// The label of a batcher's name ("audit writer" → "audit_writer").
pub fn batcher_label(name: &'static str) -> String {
    name.replace(' ', "_")
}

/// Refreshes the pool and catalog gauges every few seconds until `stop`.
pub fn spawn_gauges(
    pools: [(&'static str, PgPool); 2],
    catalog: Arc<Catalog>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    super::spawn_every(GAUGES_EVERY, stop, move || {
        for (name, pool) in &pools {
            let (size, idle) = (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            );
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => *name, "state" => "idle")
                .set(f64::from(idle));
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => *name, "state" => "in_use")
                .set(f64::from(size.saturating_sub(idle)));
            metrics::gauge!(DB_POOL_MAX, "pool" => *name)
                .set(f64::from(pool.options().get_max_connections()));
        }
        for version in in_effect_today(&catalog.snapshot()) {
            let effective = version
                .effective_from
                .and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp());
            let labels = [
                ("system", version.system.as_str().to_owned()),
                ("version", version.version.clone()),
            ];
            metrics::gauge!(CATALOG_RELEASE_EFFECTIVE, &labels).set(effective as f64);
            metrics::gauge!(CATALOG_RELEASE_LOADED, &labels)
                .set(version.load_time.timestamp() as f64);
        }
        async {}
    })
}
