//! Graceful shutdown: on SIGINT or SIGTERM the server reports NOT_SERVING,
//! waits a grace period so load balancers stop routing to it, cancels
//! long-running work (batch streams end with a final checkpoint), stops
//! accepting, and gives open streams a drain deadline before exiting.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::grpc::SERVICE_NAMES;

/// Resolves on the first SIGINT or SIGTERM.
pub async fn termination_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => tracing::info!("SIGINT received"),
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
        tracing::info!("interrupt received");
    }
}

/// Timings of the shutdown sequence.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownTimings {
    /// Between NOT_SERVING and cancelling work.
    pub grace: Duration,
    /// How long open streams may take after that.
    pub drain_deadline: Duration,
}

/// Runs the first half of the sequence once `trigger` resolves: health
/// NOT_SERVING for every service, the grace period, then cancellation of
/// `work`. The caller stops accepting when this returns.
pub async fn begin(
    trigger: impl Future<Output = ()>,
    health: HealthReporter,
    work: CancellationToken,
    timings: ShutdownTimings,
) {
    trigger.await;
    tracing::info!(grace = ?timings.grace, drain_deadline = ?timings.drain_deadline, "shutting down");
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    for name in SERVICE_NAMES {
        health
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }
    tokio::time::sleep(timings.grace).await;
    work.cancel();
}
