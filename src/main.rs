//! The `claimscrub` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use clap::Parser as _;

use anyhow::Context as _;
use claimscrub::app::api_keys;
use claimscrub::app::import::{self as importer, ImportProgress, ImportRequest, ReleaseOutcome};
use claimscrub::config::{
    ApiKeyAction, ApiKeyArgs, Cli, ClientTlsArgs, Command, HealthCheckArgs, ImportArgs, X12Action,
    X12CheckArgs,
};
use claimscrub::startup::Application;
use claimscrub::{shutdown, storage, telemetry};

/// glibc malloc serialises threads on its arena locks under many small
/// per-request allocations; mimalloc keeps them thread-local.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            let application = Application::build(*args).await?;
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
        Command::Import(args) => import(args).await,
        Command::HealthCheck(args) => health_check(args).await,
        Command::ApiKey(args) => api_key(args).await,
        Command::X12(args) => match args.action {
            X12Action::Check(args) => x12_check(args).await,
        },
    }
}

/// The endpoint of a server at `address`, over TLS when `tls` names a CA.
fn endpoint(
    address: std::net::SocketAddr,
    tls: &ClientTlsArgs,
) -> anyhow::Result<tonic::transport::Endpoint> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let read = |path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let Some(ca) = &tls.tls_ca else {
        return Ok(Endpoint::from_shared(format!("http://{address}"))?);
    };
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(ca)?))
        .domain_name(
            tls.tls_domain
                .clone()
                .unwrap_or_else(|| address.ip().to_string()),
        );
    if let (Some(cert), Some(key)) = (&tls.tls_client_cert, &tls.tls_client_key) {
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Endpoint::from_shared(format!("https://{address}"))?.tls_config(config)?)
}

/// Bytes per ValidateInterchange message, well inside the server's 1 MiB.
const X12_CHUNK: usize = 256 * 1024;

/// `x12 check`: streams the file to ValidateInterchange, prints each claim's
/// disposition and the summary, and writes the acknowledgements.
async fn x12_check(args: X12CheckArgs) -> anyhow::Result<()> {
    use claimscrub::grpc::pb;
    use claimscrub::grpc::pb::validate_interchange_response::Kind;
    use std::io::{Read as _, Write as _};

    let mut file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let channel = endpoint(args.address, &args.tls)?
        .connect()
        .await
        .with_context(|| format!("cannot connect to {}", args.address))?;
    let mut client = pb::x12_service_client::X12ServiceClient::new(channel)
        .max_decoding_message_size(8 * 1024 * 1024);
    let resume = args.resume;
    let (chunks, received) = tokio::sync::mpsc::channel(4);
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut first = true;
        loop {
            let mut data = vec![0u8; X12_CHUNK];
            let read = file.read(&mut data)?;
            if read == 0 && !first {
                return Ok(());
            }
            data.truncate(read);
            let message = pb::ValidateInterchangeRequest {
                data,
                resume: resume && first,
            };
            first = false;
            if chunks.blocking_send(message).is_err() || read == 0 {
                return Ok(());
            }
        }
    });
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(received));
    if let Some(key) = &args.api_key {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {key}").parse()?);
    }
    let mut responses = client
        .validate_interchange(request)
        .await
        .context("ValidateInterchange failed")?
        .into_inner();
    let open = |path: &Option<std::path::PathBuf>| -> anyhow::Result<Option<std::fs::File>> {
        path.as_ref()
            .map(|p| {
                std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))
            })
            .transpose()
    };
    let mut ack_999 = open(&args.ack_999)?;
    let mut ack_277 = open(&args.ack_277ca)?;
    let mut stdout = std::io::stdout().lock();
    while let Some(response) = responses.message().await.context("the stream broke")? {
        match response.kind {
            Some(Kind::Claim(claim)) => {
                let verdict = match (&claim.result, &claim.error) {
                    (Some(result), _) => result
                        .disposition()
                        .as_str_name()
                        .trim_start_matches("DISPOSITION_")
                        .to_owned(),
                    (None, Some(error)) => format!("NOT_DECIDED {}", error.message),
                    (None, None) => "UNKNOWN".to_owned(),
                };
                let rules: Vec<&str> = claim
                    .result
                    .iter()
                    .flat_map(|r| &r.findings)
                    .map(|f| f.rule_id.as_str())
                    .collect();
                let origin = claim.origin.unwrap_or_default();
                writeln!(
                    stdout,
                    "{}/{}/{} #{} {}\t{verdict}\t{}{}",
                    origin.interchange_control_number,
                    origin.group_control_number,
                    origin.transaction_set_control_number,
                    origin.claim_ordinal,
                    claim.claim_id,
                    rules.join(","),
                    if claim.from_store { "\t(stored)" } else { "" },
                )?;
            }
            Some(Kind::Acknowledgement(piece)) => {
                let target = match piece.kind() {
                    pb::AcknowledgementKind::Implementation => ack_999.as_mut(),
                    _ => ack_277.as_mut(),
                };
                if let Some(file) = target {
                    file.write_all(piece.text.as_bytes())?;
                }
            }
            Some(Kind::Summary(summary)) => {
                writeln!(
                    stdout,
                    "{} interchange(s), {} transaction set(s) ({} rejected), {} claim(s): {} accepted, {} rejected, {} from the store{}",
                    summary.interchanges,
                    summary.transaction_sets,
                    summary.transaction_sets_rejected,
                    summary.claims,
                    summary.claims_accepted,
                    summary.claims_rejected,
                    summary.claims_from_store,
                    if summary.batch.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", summary.batch)
                    },
                )?;
            }
            None => {}
        }
    }
    reader.await??;
    Ok(())
}

async fn api_key(args: ApiKeyArgs) -> anyhow::Result<()> {
    let pool = storage::connect(&args.database).await?;
    storage::migrate(&pool).await?;
    match args.action {
        ApiKeyAction::Create {
            submitter,
            scopes,
            expires_in_days,
            cert_san: Some(san),
        } => {
            let expire_time = expires_in_days
                .map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            let id = api_keys::register_certificate(&pool, &submitter, &san, scopes, expire_time)
                .await?;
            println!("id:        {id}");
            println!("submitter: {}", submitter.trim());
            println!("scopes:    {}", scopes.names().join(","));
            if let Some(expire_time) = expire_time {
                println!("expires:   {}", expire_time.to_rfc3339());
            }
            println!("cert SAN:  {}", api_keys::normalize_san(&san));
            println!(
                "(a client certificate verified against --tls-client-ca and carrying this SAN needs no key)"
            );
        }
        ApiKeyAction::Create {
            submitter,
            scopes,
            expires_in_days,
            cert_san: None,
        } => {
            let expire_time = expires_in_days
                .map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            let (id, key) = api_keys::create(&pool, &submitter, scopes, expire_time).await?;
            println!("id:        {id}");
            println!("submitter: {}", submitter.trim());
            println!("scopes:    {}", scopes.names().join(","));
            if let Some(expire_time) = expire_time {
                println!("expires:   {}", expire_time.to_rfc3339());
            }
            println!("key:       {key}");
            println!("(the key is shown only now; claimscrub stores its sha256)");
        }
        ApiKeyAction::List => {
            for key in storage::api_keys::list(&pool).await? {
                let revoked = key
                    .revoke_time
                    .map_or_else(String::new, |t| format!("  revoked {}", t.to_rfc3339()));
                let expires = key
                    .expire_time
                    .map_or_else(String::new, |t| format!("  expires {}", t.to_rfc3339()));
                let credential = key
                    .cert_san
                    .map_or_else(|| "key".to_owned(), |san| format!("cert-san {san}"));
                println!(
                    "{}  {}  {}  {credential}  created {}{expires}{revoked}",
                    key.id,
                    key.submitter,
                    key.scopes.join(","),
                    key.create_time.to_rfc3339()
                );
            }
        }
        ApiKeyAction::Revoke { id } => {
            anyhow::ensure!(
                storage::api_keys::revoke(&pool, id).await?,
                "no unrevoked API key with id {id}"
            );
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let pool = storage::connect(&args.database).await?;
    storage::migrate(&pool).await?;
    let request = ImportRequest {
        kind: args.kind,
        path: args.file,
        version: args.release_version,
        effective_from: args.effective_from,
        effective_to: args.effective_to,
    };
    let started = std::time::Instant::now();
    let progress = Progress::new();
    let summary = importer::import_file(&pool, &request, &progress).await?;
    println!(
        "{}: {} lines read in {:.2} s",
        summary.file,
        summary.records_read,
        started.elapsed().as_secs_f64()
    );
    for release in &summary.releases {
        let billable = release
            .billable
            .map(|n| format!(" ({n} billable)"))
            .unwrap_or_default();
        match &release.outcome {
            ReleaseOutcome::Loaded => println!(
                "  {} {}: loaded {} rows{billable}",
                release.system, release.version, release.rows
            ),
            ReleaseOutcome::AlreadyLoaded(version) => println!(
                "  {} {version}: already loaded from the same file (sha256 matches); nothing changed",
                release.system
            ),
        }
    }
    println!("  skipped: {}", summary.skipped.len());
    for skipped in &summary.skipped {
        println!("    line {}: {}", skipped.line, skipped.reason);
    }
    Ok(())
}

/// A progress bar on a terminal, plain log lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    written: std::sync::atomic::AtomicU64,
    total: std::sync::atomic::AtomicU64,
}

impl Progress {
    fn new() -> Self {
        use std::io::IsTerminal as _;
        Self {
            bar: std::io::stderr()
                .is_terminal()
                .then(indicatif::ProgressBar::no_length),
            written: 0.into(),
            total: 0.into(),
        }
    }
}

impl ImportProgress for Progress {
    fn start(&self, total: u64) {
        self.total
            .store(total, std::sync::atomic::Ordering::Relaxed);
        match &self.bar {
            Some(bar) => bar.set_length(total),
            None => tracing::info!(rows = total, "writing rows"),
        }
    }

    fn advance(&self, rows: u64) {
        let written = self
            .written
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed)
            + rows;
        match &self.bar {
            Some(bar) => bar.inc(rows),
            None => tracing::info!(
                written,
                total = self.total.load(std::sync::atomic::Ordering::Relaxed),
                "rows written"
            ),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

async fn health_check(args: HealthCheckArgs) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let timeout = std::time::Duration::from_secs(args.timeout_secs);
    let channel = endpoint(args.address, &args.tls)?
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
