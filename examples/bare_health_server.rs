//! Throughput baseline: a tonic server with nothing but the gRPC health
//! service, whose `Check` is as cheap as an echo. `scripts/bench-lookup.sh`
//! measures it and claimscrub's LookupCode the same way in the same run.
//!
//! Usage: `cargo run --release --example bare_health_server [ADDRESS]`
//! (default 127.0.0.1:50099).
//!
//! Built like claimscrub so the ratio measures claimscrub, not the build:
//! the same crate graph (tonic version and features, tokio features), the
//! same allocator, and the same connections (`grpc::connection`: no-delay
//! TCP without vectored writes).

use claimscrub::grpc::connection::CoalescingWrites;
use tokio_stream::StreamExt as _;
use tonic::transport::server::TcpIncoming;

/// The allocator of `src/main.rs`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50099".to_owned())
        .parse()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind(address)?
        .with_nodelay(Some(true))
        .map(|accepted| accepted.map(CoalescingWrites::new));
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
