//! Test harness: start the real server in-process and connect clients.

use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use claimscrub::config::{DatabaseArgs, LogFormat, ServeArgs};
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::audit_service_client::AuditServiceClient;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::grpc::pb::code_lookup_service_client::CodeLookupServiceClient;
use claimscrub::grpc::pb::google::r#type::Date;
use claimscrub::grpc::pb::reference_data_service_client::ReferenceDataServiceClient;
use claimscrub::import::ImportKind;
use claimscrub::startup::Application;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};
use tonic_types::StatusExt as _;

/// The claimscrub binary under test.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_claimscrub");

/// The server-level URL tests run against (DATABASE_URL or the .env default).
pub(crate) fn maintenance_url() -> String {
    dotenvy::var("DATABASE_URL").expect("DATABASE_URL (or .env) must name a PostgreSQL server")
}

/// The URL of database `name` on the test server.
pub(crate) fn database_url(name: &str) -> String {
    let base = maintenance_url();
    let without_query = base.split('?').next().expect("url");
    let server = without_query
        .rsplit_once('/')
        .map_or(without_query, |(server, _)| server);
    format!("{server}/{name}")
}

/// The URL of the database behind a `#[sqlx::test]` pool.
pub(crate) fn pool_url(pool: &PgPool) -> String {
    database_url(
        pool.connect_options()
            .get_database()
            .expect("test databases are named"),
    )
}

/// A file of the shared fixtures (`../shared/data`, or `$CLAIMSCRUB_SHARED_DATA`).
/// `None`, after saying so, when the folder is absent (a user's clone without
/// the licensed fixtures); under CI (`CI` set) an absent folder fails the
/// test instead, so CI never passes a test it did not run.
pub(crate) fn shared_data(relative: &str) -> Option<std::path::PathBuf> {
    let root = std::env::var_os("CLAIMSCRUB_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if !root.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared test data not found at {} under CI; set CLAIMSCRUB_SHARED_DATA",
            root.display()
        );
        eprintln!(
            "SKIPPED: shared test data not found at {}; set CLAIMSCRUB_SHARED_DATA to run this test",
            root.display()
        );
        return None;
    }
    let path = root.join(relative);
    assert!(
        path.exists(),
        "{} is missing from the shared data",
        path.display()
    );
    Some(path)
}

/// A benign trunk excision (11404) of `diameter` cm with its diagnosis, for
/// BCBS on 2026-01-15. BCBS runs no payer policy by default, so at 3.1 to
/// 4.0 cm the claim is ACCEPT; an empty `member_id` leaves the history edits
/// out.
pub(crate) fn excision_claim(claim_id: &str, member_id: &str, diameter: f64) -> pb::Claim {
    pb::Claim {
        claim_id: claim_id.into(),
        payer_id: "BCBS".into(),
        date_of_service: Some(Date {
            year: 2026,
            month: 1,
            day: 15,
        }),
        place_of_service: "11".into(),
        rendering_provider: Some(pb::Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        }),
        patient: Some(pb::Patient {
            member_id: member_id.into(),
            ..Default::default()
        }),
        diagnosis_codes: vec!["D23.5".into()],
        lines: vec![pb::ServiceLine {
            procedure_code: "11404".into(),
            units: 1,
            diagnosis_pointers: vec![1],
            excised_diameter_cm: Some(diameter),
            anatomic_site: "trunk".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A protobuf date.
pub(crate) fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// A one-unit line of `code` pointing at the first diagnosis.
pub(crate) fn line(code: &str, modifiers: &[&str]) -> pb::ServiceLine {
    pb::ServiceLine {
        procedure_code: code.into(),
        modifiers: modifiers.iter().map(|m| (*m).to_owned()).collect(),
        units: 1,
        diagnosis_pointers: vec![1],
        ..Default::default()
    }
}

/// An excision line with its diameter and site.
pub(crate) fn excision(code: &str, diameter: f64, site: &str) -> pb::ServiceLine {
    pb::ServiceLine {
        excised_diameter_cm: Some(diameter),
        anatomic_site: site.into(),
        ..line(code, &[])
    }
}

/// The decision on `claim` (no request id).
pub(crate) async fn validate(api: &Api, claim: pb::Claim) -> pb::ValidationResult {
    api.validate_claim(pb::ValidateClaimRequest {
        request_id: String::new(),
        claim: Some(claim),
    })
    .await
    .expect("a decision")
    .result
    .expect("result")
}

/// Logs go to the test output only with TEST_LOG set (zero2prod style).
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        claimscrub::telemetry::init(LogFormat::Text);
    }
});

/// A running server and a channel to it; its RPCs are called through
/// [`Api`], which it dereferences to.
pub(crate) struct TestApp {
    pub(crate) address: std::net::SocketAddr,
    pub(crate) channel: Channel,
    api: Api,
    stop: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// One method per RPC over a channel, answering the message itself: a test
/// reads as the calls it makes. Requests are `IntoRequest`, so a test can
/// still attach metadata.
pub(crate) struct Api {
    channel: Channel,
}

macro_rules! unary {
    ($($client:ident :: $rpc:ident($request:ident) -> $response:ident;)*) => {
        $(
            pub(crate) async fn $rpc(
                &self,
                request: impl tonic::IntoRequest<pb::$request>,
            ) -> Result<pb::$response, Status> {
                Ok($client::new(self.channel.clone()).$rpc(request).await?.into_inner())
            }
        )*
    };
}

impl Api {
    pub(crate) fn new(channel: Channel) -> Self {
        Self { channel }
    }

    /// The channel the calls go over.
    pub(crate) fn channel(&self) -> &Channel {
        &self.channel
    }

    unary! {
        CodeLookupServiceClient::lookup_code(LookupCodeRequest) -> LookupCodeResponse;
        CodeLookupServiceClient::validate_code(ValidateCodeRequest) -> ValidateCodeResponse;
        CodeLookupServiceClient::batch_validate_codes(BatchValidateCodesRequest) -> BatchValidateCodesResponse;
        CodeLookupServiceClient::search_codes(SearchCodesRequest) -> SearchCodesResponse;
        CodeLookupServiceClient::get_procedure_profile(GetProcedureProfileRequest) -> GetProcedureProfileResponse;
        CodeLookupServiceClient::suggest_procedure_code(SuggestProcedureCodeRequest) -> SuggestProcedureCodeResponse;
        ClaimValidationServiceClient::validate_claim(ValidateClaimRequest) -> ValidateClaimResponse;
        ClaimValidationServiceClient::get_batch(GetBatchRequest) -> GetBatchResponse;
        ClaimValidationServiceClient::list_batch_results(ListBatchResultsRequest) -> ListBatchResultsResponse;
        ClaimValidationServiceClient::list_rules(ListRulesRequest) -> ListRulesResponse;
        AuditServiceClient::get_audit_record(GetAuditRecordRequest) -> GetAuditRecordResponse;
        AuditServiceClient::list_audit_records(ListAuditRecordsRequest) -> ListAuditRecordsResponse;
        AuditServiceClient::get_audit_stats(GetAuditStatsRequest) -> GetAuditStatsResponse;
        AuditServiceClient::replay_audit_record(ReplayAuditRecordRequest) -> ReplayAuditRecordResponse;
        AuditServiceClient::list_audit_access(ListAuditAccessRequest) -> ListAuditAccessResponse;
        ReferenceDataServiceClient::list_code_system_versions(ListCodeSystemVersionsRequest) -> ListCodeSystemVersionsResponse;
        ReferenceDataServiceClient::get_code_system_version(GetCodeSystemVersionRequest) -> GetCodeSystemVersionResponse;
    }

    /// Opens a batch stream; the answers arrive as the server sends them.
    pub(crate) async fn validate_claim_batch(
        &self,
        requests: impl tonic::IntoStreamingRequest<Message = pb::ValidateClaimBatchRequest>,
    ) -> Result<Streaming<pb::ValidateClaimBatchResponse>, Status> {
        Ok(ClaimValidationServiceClient::new(self.channel.clone())
            .validate_claim_batch(requests)
            .await?
            .into_inner())
    }

    pub(crate) async fn export_audit_records(
        &self,
        request: impl tonic::IntoRequest<pb::ExportAuditRecordsRequest>,
    ) -> Result<Streaming<pb::ExportAuditRecordsResponse>, Status> {
        Ok(AuditServiceClient::new(self.channel.clone())
            .export_audit_records(request)
            .await?
            .into_inner())
    }
}

/// Asserts that `status` is INVALID_ARGUMENT whose BadRequest names `field`
/// first: the refusal points at what the test broke, not at a side effect.
#[track_caller]
pub(crate) fn assert_invalid_field(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("BadRequest details in {status:?}"))
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields.first().map(String::as_str),
        Some(field),
        "{fields:?}"
    );
}

/// Server settings for tests: development mode (calls without a key) on
/// port 0 of loopback, no shutdown grace, short drain.
pub(crate) fn test_settings() -> ServeArgs {
    let mut settings = ServeArgs::new(
        DatabaseArgs::for_url("postgres://unused-the-pool-is-given"),
        "127.0.0.1:0".parse().expect("address"),
    );
    settings.shutdown_grace_secs = 0;
    settings.drain_deadline_secs = 2;
    settings.dev = true;
    settings
}

/// Starts the server on `pool` (a fresh database from `#[sqlx::test]`).
pub(crate) async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, test_settings()).await
}

/// Starts the server with explicit settings.
pub(crate) async fn spawn_app_with(pool: PgPool, settings: ServeArgs) -> TestApp {
    spawn_app_reached(pool, settings, |address| {
        Channel::from_shared(format!("http://{address}")).expect("uri")
    })
    .await
}

/// Starts the server with `settings`; the test's channel goes to the
/// endpoint `reach` makes of its address (e.g. one over TLS).
pub(crate) async fn spawn_app_reached(
    pool: PgPool,
    settings: ServeArgs,
    reach: impl FnOnce(std::net::SocketAddr) -> tonic::transport::Endpoint,
) -> TestApp {
    LazyLock::force(&TRACING);
    let application = Application::build_with_pool(settings, pool)
        .await
        .expect("server builds");
    let address = application.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let channel = reach(address).connect().await.expect("client connects");
    TestApp {
        address,
        api: Api::new(channel.clone()),
        channel,
        stop,
        server,
    }
}

impl TestApp {
    /// Triggers graceful shutdown and waits for the server to return.
    pub(crate) async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await.expect("server task")
    }
}

/// Official files of the shared fixtures, as import lists name them.
pub(crate) const ICD10CM_TABULAR: (ImportKind, &str) = (
    ImportKind::Icd10CmTabular,
    "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
);
pub(crate) const ICD10CM_ORDER: (ImportKind, &str) = (
    ImportKind::Icd10CmOrder,
    "icd10cm/icd10cm-order-2025.txt.gz",
);
pub(crate) const HCPCS: (ImportKind, &str) = (
    ImportKind::Hcpcs,
    "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
);
pub(crate) const NUCC: (ImportKind, &str) = (ImportKind::Nucc, "nucc/nucc_taxonomy_251.csv");
pub(crate) const MPFS: (ImportKind, &str) = (ImportKind::Mpfs, "mpfs/PPRRVU23_JAN.csv.gz");
pub(crate) const NCCI_PTP: (ImportKind, &str) =
    (ImportKind::NcciPtp, "ncci/ccipra-v322r0-f1.excerpt.txt");
pub(crate) const MUE: (ImportKind, &str) = (
    ImportKind::Mue,
    "ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
);

pub(crate) const MCE: (ImportKind, &str) =
    (ImportKind::Mce, "mce/mce_v43.1_icd10dx_code_master.csv.gz");
pub(crate) const AOC: (ImportKind, &str) = (
    ImportKind::NcciAoc,
    "aoc/ncci_aoc_2024-06-03_active.derived.csv",
);

/// Imports shared fixtures through the same code path as `claimscrub
/// import`, in-process. False (after saying so) when the fixtures are absent.
pub(crate) async fn import_shared(
    pool: &PgPool,
    files: &[(claimscrub::import::ImportKind, &str)],
) -> bool {
    import_shared_as(pool, files, None).await
}

/// [`import_shared`] with an explicit version label and effective date, for
/// files that name no release (POS, CPT).
pub(crate) async fn import_shared_as(
    pool: &PgPool,
    files: &[(claimscrub::import::ImportKind, &str)],
    release: Option<(&str, chrono::NaiveDate)>,
) -> bool {
    for (kind, relative) in files {
        let Some(path) = shared_data(relative) else {
            return false;
        };
        let request = claimscrub::app::import::ImportRequest {
            kind: *kind,
            path,
            version: release.map(|(version, _)| version.to_owned()),
            effective_from: release.map(|(_, from)| from),
            effective_to: None,
        };
        claimscrub::app::import::import_file(pool, &request, &claimscrub::app::import::NoProgress)
            .await
            .unwrap_or_else(|e| panic!("importing {relative}: {e}"));
    }
    true
}

/// Starts `claimscrub serve` on a free port and returns it with its address,
/// read from the JSON log line that announces it.
pub(crate) async fn start_serve(database_url: &str, drain_deadline_secs: u64) -> (Child, String) {
    let (child, address, _) = start_serve_logged(database_url, drain_deadline_secs, "info").await;
    (child, address)
}

/// Runs `claimscrub ARGS` (an administrative subcommand) on the database of
/// `pool`, asserts that it succeeds, and returns what it printed.
pub(crate) async fn cli(pool: &PgPool, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", pool_url(pool))
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("binary runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The value `claimscrub api-key create` printed after `name` (e.g. `key:`).
pub(crate) fn printed(output: &str, name: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("{name} missing from {output}"))
}

/// Every log line a server wrote, as it writes them.
pub(crate) type Logs = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// [`start_serve`] logging at `rust_log` (a `RUST_LOG` filter), with the
/// lines it writes kept.
pub(crate) async fn start_serve_logged(
    database_url: &str,
    drain_deadline_secs: u64,
    rust_log: &str,
) -> (Child, String, Logs) {
    start_serve_with(
        database_url,
        &["--drain-deadline-secs", &drain_deadline_secs.to_string()],
        rust_log,
    )
    .await
}

/// `claimscrub serve --dev` on a free port with `extra` arguments, logging
/// at `rust_log`; returns it, its address and the lines it writes.
pub(crate) async fn start_serve_with(
    database_url: &str,
    extra: &[&str],
    rust_log: &str,
) -> (Child, String, Logs) {
    let mut child = Command::new(BINARY)
        .args([
            "--log-format",
            "json",
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env("DATABASE_URL", database_url)
        .env("CLAIMSCRUB_SHUTDOWN_GRACE", "0")
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let logs = Logs::default();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let kept = std::sync::Arc::clone(&logs);
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("log line") {
            kept.lock().expect("logs").push(line.clone());
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if entry["message"] == "claimscrub serving" {
                return entry["address"].as_str().expect("address field").to_owned();
            }
        }
        panic!(
            "server exited before serving: {:#?}",
            kept.lock().expect("logs")
        );
    })
    .await
    .expect("server announces its address within 60 s");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            kept.lock().expect("logs").push(line);
        }
    });
    (child, address, logs)
}

/// How often the waits below look again.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Polls `check` until it answers `Some`, for at most `deadline` (generous:
/// CI runs on a busy machine); panics naming `what` otherwise. Tests wait
/// for conditions this way, never for a fixed time.
pub(crate) async fn wait_for<T>(
    what: &str,
    deadline: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Polls `read` until it gives the same value `polls` times in a row (a
/// process that has stopped moving), for at most `deadline`; returns it.
pub(crate) async fn wait_settled<T: PartialEq + Clone>(
    what: &str,
    deadline: Duration,
    polls: usize,
    mut read: impl AsyncFnMut() -> T,
) -> T {
    let mut last = read().await;
    let mut unchanged = 0;
    wait_for(what, deadline, async || {
        let now = read().await;
        if now == last {
            unchanged += 1;
        } else {
            unchanged = 0;
            last = now.clone();
        }
        (unchanged >= polls).then_some(now)
    })
    .await
}

/// Every response until the stream ends, and how it ended.
pub(crate) async fn drain(
    mut responses: tonic::Streaming<pb::ValidateClaimBatchResponse>,
) -> (
    Vec<pb::validate_claim_batch_response::Kind>,
    Result<(), tonic::Status>,
) {
    let mut out = Vec::new();
    loop {
        match responses.message().await {
            Ok(Some(response)) => out.push(response.kind.expect("kind")),
            Ok(None) => return (out, Ok(())),
            Err(status) => return (out, Err(status)),
        }
    }
}

/// Server settings as in production: keys required, a member-hash key of
/// its own; loopback, so plaintext is allowed.
pub(crate) fn production_settings() -> ServeArgs {
    let mut settings = test_settings();
    settings.dev = false;
    settings.member_hash_key = "a-test-member-hash-key".into();
    settings
}
