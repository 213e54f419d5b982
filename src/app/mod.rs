//! Use cases: what the API does, independent of gRPC. Reads the in-memory
//! catalog and calls [`crate::storage`] for persistence.

pub mod api_keys;
pub mod audit;
pub mod audit_writer;
pub mod batch;
pub mod batcher;
pub mod catalog;
pub mod decision;
pub mod default_data;
pub mod history_reader;
pub mod import;
pub mod lookup;
pub mod metrics;
pub mod page_token;
pub mod profile;
pub mod rate_limit;
pub mod reference_data;
pub mod stream_limit;
pub mod validate;
pub mod x12;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `task` every `period` (first after one period) until `stop` is
/// cancelled; a run in progress finishes first.
pub(crate) fn spawn_every<F, Fut>(
    period: Duration,
    stop: CancellationToken,
    mut task: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            task().await;
        }
    })
}
