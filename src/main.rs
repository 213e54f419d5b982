//! The `claimscrub` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use clap::Parser as _;

use anyhow::Context as _;
use claimscrub::config::{Cli, Command, HealthCheckArgs};
use claimscrub::startup::Application;
use claimscrub::{shutdown, storage, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "claimscrub failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let application = Application::build(args).await?;
            application
                .run_until_stopped(shutdown::termination_signal())
                .await
        }
        Command::Migrate(args) => {
            let pool = storage::connect(&args).await?;
            storage::migrate(&pool).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::HealthCheck(args) => health_check(args).await,
    }
}

async fn health_check(args: HealthCheckArgs) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let timeout = std::time::Duration::from_secs(args.timeout_secs);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", args.address))?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .with_context(|| format!("cannot connect to {}", args.address))?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service,
        })
        .await
        .context("health check failed")?
        .into_inner()
        .status();
    anyhow::ensure!(
        status == ServingStatus::Serving,
        "server reports {}",
        status.as_str_name()
    );
    println!("SERVING");
    Ok(())
}
