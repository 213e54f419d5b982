//! Batched history reads for the history edits: every member-history lookup
//! queued while the previous query ran is answered by one query (UNNEST of
//! the lookups joined laterally to the member index), so concurrent batch
//! chunks and replays share round trips the way their audit rows share
//! commits. The group commit reads history again, inside its own
//! transaction under the member locks; a ValidateClaim call reads it only
//! there (`KnownHistory::Deferred`).

use sqlx::PgPool;

use crate::app::batcher::{Batcher, BatcherSettings, Isolation};
use crate::domain::claim::PriorClaim;
use crate::error::AppError;
use crate::storage;
use crate::storage::audit::{self, HistoryQuery};

/// One query of at most 256 lookups in flight; while it runs the next batch
/// grows. With 64 ValidateClaim callers, one query at a time made the
/// batches larger and cut the CPU of a claim by 12 % in the server and 14 %
/// in PostgreSQL against four at a time, at a lower p50 (BENCHMARKS.md).
const SETTINGS: BatcherSettings = BatcherSettings {
    max_batch: 256,
    queue: 4_096,
    in_flight: 1,
    name: "history reader",
    retry_message: "member history cannot be read; retry",
};

/// Handle to the reader task.
#[derive(Debug, Clone)]
pub struct HistoryReader {
    batcher: Batcher<HistoryQuery, Vec<PriorClaim>>,
}

impl HistoryReader {
    /// Starts the reader; it stops when every handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        Self {
            batcher: Batcher::spawn(SETTINGS, move |queries: Vec<HistoryQuery>| {
                let pool = pool.clone();
                async move {
                    let mut connection = storage::acquire(&pool).await?;
                    let mut isolation = Isolation::new(SETTINGS.name, queries.len());
                    while let Some(group) = isolation.next_group() {
                        let outcome =
                            audit::accepted_histories_on(&mut connection, &queries[group.clone()])
                                .await;
                        isolation.settle(group, outcome)?;
                    }
                    Ok(isolation.finish())
                }
            }),
        }
    }

    /// Earlier accepted decisions of the member that `query` names.
    pub async fn accepted_history(&self, query: HistoryQuery) -> Result<Vec<PriorClaim>, AppError> {
        self.batcher.call(query).await
    }

    /// [`Self::accepted_history`] for each of `queries`, in order (a batch
    /// chunk's lookups share statements with every other caller's).
    pub async fn accepted_histories(
        &self,
        queries: Vec<HistoryQuery>,
    ) -> Result<Vec<Vec<PriorClaim>>, AppError> {
        futures::future::try_join_all(queries.into_iter().map(|q| self.accepted_history(q))).await
    }
}
