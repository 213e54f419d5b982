//! The in-memory catalog: an immutable snapshot of the loaded reference data,
//! swapped atomically when a new release is loaded. Readers never wait.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::code_system::CodeSystemVersion;
use crate::error::AppError;
use crate::storage;

/// One consistent view of the reference data.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Every loaded release, ordered by system, then newest effective date first.
    pub versions: Vec<CodeSystemVersion>,
    /// When the snapshot was built.
    pub built_at: DateTime<Utc>,
}

/// Shared handle to the current snapshot.
#[derive(Debug)]
pub struct Catalog {
    current: ArcSwap<Snapshot>,
}

impl Catalog {
    /// Builds the first snapshot from PostgreSQL.
    pub async fn load(pool: &PgPool) -> Result<Self, AppError> {
        Ok(Self {
            current: ArcSwap::from_pointee(build_snapshot(pool).await?),
        })
    }

    /// The current snapshot; cheap, lock-free.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuilds the snapshot from PostgreSQL and swaps it in.
    pub async fn reload(&self, pool: &PgPool) -> Result<Arc<Snapshot>, AppError> {
        let snapshot = Arc::new(build_snapshot(pool).await?);
        self.current.store(Arc::clone(&snapshot));
        Ok(snapshot)
    }
}

async fn build_snapshot(pool: &PgPool) -> Result<Snapshot, AppError> {
    let versions = storage::reference_data::list_code_system_versions(pool).await?;
    Ok(Snapshot {
        versions,
        built_at: Utc::now(),
    })
}
