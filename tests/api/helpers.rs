//! Test harness: start the real server in-process and connect clients.

use std::sync::LazyLock;

use claimscrub::config::{DatabaseArgs, LogFormat, ServeArgs};
use claimscrub::grpc::pb::audit_service_client::AuditServiceClient;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::grpc::pb::code_lookup_service_client::CodeLookupServiceClient;
use claimscrub::grpc::pb::reference_data_service_client::ReferenceDataServiceClient;
use claimscrub::startup::Application;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Logs go to the test output only with TEST_LOG set (zero2prod style).
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        claimscrub::telemetry::init(LogFormat::Text);
    }
});

/// A running server and a channel to it.
pub(crate) struct TestApp {
    pub(crate) address: std::net::SocketAddr,
    pub(crate) channel: Channel,
    stop: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

/// Server settings for tests: port 0, no shutdown grace, short drain.
pub(crate) fn test_settings() -> ServeArgs {
    let mut settings = ServeArgs::new(
        DatabaseArgs::for_url("postgres://unused-the-pool-is-given"),
        "127.0.0.1:0".parse().expect("address"),
    );
    settings.shutdown_grace_secs = 0;
    settings.drain_deadline_secs = 2;
    settings
}

/// Starts the server on `pool` (a fresh database from `#[sqlx::test]`).
pub(crate) async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, test_settings()).await
}

/// Starts the server with explicit settings.
pub(crate) async fn spawn_app_with(pool: PgPool, settings: ServeArgs) -> TestApp {
    LazyLock::force(&TRACING);
    let application = Application::build_with_pool(settings, pool)
        .await
        .expect("server builds");
    let address = application.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("client connects");
    TestApp {
        address,
        channel,
        stop,
        server,
    }
}

impl TestApp {
    pub(crate) fn code_lookup(&self) -> CodeLookupServiceClient<Channel> {
        CodeLookupServiceClient::new(self.channel.clone())
    }

    pub(crate) fn claim_validation(&self) -> ClaimValidationServiceClient<Channel> {
        ClaimValidationServiceClient::new(self.channel.clone())
    }

    pub(crate) fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.channel.clone())
    }

    pub(crate) fn reference_data(&self) -> ReferenceDataServiceClient<Channel> {
        ReferenceDataServiceClient::new(self.channel.clone())
    }

    /// Triggers graceful shutdown and waits for the server to return.
    pub(crate) async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await.expect("server task")
    }
}
