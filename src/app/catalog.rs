//! The in-memory catalog: an immutable [`CatalogSnapshot`] swapped atomically
//! when reference data changes. Readers never wait; a reload builds a whole
//! new snapshot and publishes it in one pointer swap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::domain::catalog::CatalogSnapshot;
use crate::error::AppError;
use crate::storage;

/// Notifications that arrive within this window cause one reload, not many
/// (an import of HCPCS announces two releases).
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(200);

/// Shared handle to the current snapshot.
#[derive(Debug)]
pub struct Catalog {
    current: ArcSwap<CatalogSnapshot>,
}

impl Catalog {
    /// A catalog over an already-built snapshot.
    pub fn new(snapshot: CatalogSnapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// Subscribes to reference-data changes, then builds the first snapshot,
    /// so no import can slip between the two unseen.
    pub async fn load_and_listen(pool: &PgPool) -> Result<(Self, PgListener), AppError> {
        let listener = storage::reference_data::listen_for_changes(pool).await?;
        let catalog = Self::new(storage::reference_data::load_snapshot(pool).await?);
        Ok((catalog, listener))
    }

    /// The current snapshot; cheap and lock-free.
    pub fn snapshot(&self) -> Arc<CatalogSnapshot> {
        self.current.load_full()
    }

    /// Rebuilds the snapshot from PostgreSQL and swaps it in.
    pub async fn reload(&self, pool: &PgPool) -> Result<(), AppError> {
        let started = Instant::now();
        let snapshot = storage::reference_data::load_snapshot(pool).await?;
        let releases = snapshot.versions().len();
        self.current.store(Arc::new(snapshot));
        tracing::info!(
            releases,
            elapsed_ms = started.elapsed().as_millis(),
            "catalog reloaded"
        );
        Ok(())
    }

    /// Reloads whenever another process (an import) announces a change
    /// through PostgreSQL NOTIFY, until `stop` is cancelled. A lost listener
    /// connection is re-established, followed by a reload, because
    /// notifications sent while it was down are lost.
    pub fn spawn_reload_on_change(
        self: Arc<Self>,
        pool: PgPool,
        listener: PgListener,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut current = Some(listener);
            while !stop.is_cancelled() {
                let mut listener = match current.take() {
                    Some(listener) => listener,
                    None => match storage::reference_data::listen_for_changes(&pool).await {
                        Ok(listener) => {
                            if let Err(error) = self.reload(&pool).await {
                                tracing::warn!(%error, "catalog reload failed");
                            }
                            listener
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cannot listen for reference-data changes; retrying");
                            tokio::select! {
                                () = stop.cancelled() => return,
                                () = tokio::time::sleep(Duration::from_secs(5)) => continue,
                            }
                        }
                    },
                };
                loop {
                    let notification = tokio::select! {
                        () = stop.cancelled() => return,
                        n = listener.recv() => n,
                    };
                    if let Err(error) = notification {
                        tracing::warn!(%error, "reference-data listener lost; reconnecting");
                        break;
                    }
                    tokio::time::sleep(RELOAD_DEBOUNCE).await;
                    while listener.next_buffered().is_some() {}
                    if let Err(error) = self.reload(&pool).await {
                        tracing::warn!(%error, "catalog reload failed; keeping the previous snapshot");
                    }
                }
            }
        })
    }
}
