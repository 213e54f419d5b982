//! Command line and environment: every flag is also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::access::Scopes;
use crate::domain::limits::ClaimLimits;
use crate::import::ImportKind;

/// Where `serve` and `migrate` connect when nothing else is said.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/claimscrub";

/// The server [`DEFAULT_DATABASE_URL`] names.
pub const DEFAULT_DATABASE_ADDRESS: &str = "127.0.0.1:5432";

/// The `claimscrub` command line.
#[derive(Debug, Parser)]
#[command(
    name = "claimscrub",
    version,
    about = "Claim scrubber and terminology service (gRPC)"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log line format.
    #[arg(long, env = "CLAIMSCRUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// What the binary does: serve, or run one administrative task and exit.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if needed, migrate it, load reference data and serve gRPC.
    Serve(Box<ServeArgs>),
    /// Create the database if needed and apply the migrations, then exit.
    Migrate(DatabaseArgs),
    /// Load an official code-set file as a release (one transaction; same file again = no-op).
    Import(ImportArgs),
    /// Ask a running server's gRPC health service; exit 0 when SERVING (for container health checks).
    HealthCheck(HealthCheckArgs),
    /// Create, list or revoke the API keys callers present.
    ApiKey(ApiKeyArgs),
    /// Send X12 files to a running server.
    X12(X12Args),
}

/// Settings of `x12`.
#[derive(Debug, Clone, Args)]
pub struct X12Args {
    /// What to do.
    #[command(subcommand)]
    pub action: X12Action,
}

/// `x12` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum X12Action {
    /// Validate an 837P file against a server (ValidateInterchange): prints
    /// each claim's disposition and the summary; writes the 999 and 277CA.
    Check(X12CheckArgs),
}

/// Settings of `x12 check`.
#[derive(Debug, Clone, Args)]
pub struct X12CheckArgs {
    /// The 837P file.
    pub file: std::path::PathBuf,
    /// Where to write the TA1/999 reply.
    #[arg(long = "999")]
    pub ack_999: Option<std::path::PathBuf>,
    /// Where to write the 277CA reply.
    #[arg(long = "277ca")]
    pub ack_277ca: Option<std::path::PathBuf>,
    /// The file was sent before and its stream broke: answer the claims
    /// already stored from the store and decide the rest.
    #[arg(long)]
    pub resume: bool,
    /// Server address.
    #[arg(long, env = "CLAIMSCRUB_ADDRESS", default_value = "127.0.0.1:50051")]
    pub address: SocketAddr,
    /// API key (sent as `authorization: Bearer`).
    #[arg(long, env = "CLAIMSCRUB_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// TLS to the server.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// How a command-line client reaches a server over TLS.
#[derive(Debug, Clone, Default, Args)]
pub struct ClientTlsArgs {
    /// Speak TLS, trusting the CA certificates of this PEM file.
    #[arg(long, env = "CLAIMSCRUB_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// The name the server's certificate must carry; by default the
    /// address's IP.
    #[arg(long, env = "CLAIMSCRUB_TLS_DOMAIN", requires = "tls_ca")]
    pub tls_domain: Option<String>,
    /// PEM client certificate to present (mTLS).
    #[arg(long = "tls-client-cert", env = "CLAIMSCRUB_TLS_CLIENT_CERT", requires_all = ["tls_ca", "tls_client_key"])]
    pub tls_client_cert: Option<PathBuf>,
    /// PEM key of the client certificate.
    #[arg(
        long = "tls-client-key",
        env = "CLAIMSCRUB_TLS_CLIENT_KEY",
        requires = "tls_client_cert"
    )]
    pub tls_client_key: Option<PathBuf>,
}

fn parse_scopes(list: &str) -> Result<Scopes, String> {
    Scopes::parse_list(list)
}

/// Settings of `api-key`.
#[derive(Debug, Clone, Args)]
pub struct ApiKeyArgs {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: ApiKeyAction,
}

/// `api-key` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyAction {
    /// Create a key for a submitter and print it (it is shown only this once).
    Create {
        /// Name recorded as the submitter of every decision made with the key.
        #[arg(long)]
        submitter: String,
        /// What the key may call, comma-separated: lookup, validate,
        /// audit:read, admin.
        #[arg(long, value_parser = parse_scopes)]
        scopes: Scopes,
        /// Days until the key stops working (none: until revoked).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Register a client certificate SAN (DNS name or URI) instead of
        /// making a key: a call over mTLS whose verified certificate
        /// carries it needs no key.
        #[arg(long)]
        cert_san: Option<String>,
    },
    /// List the keys and certificates (id, submitter, scopes, SAN, created, expiry, revoked); never the keys themselves.
    List,
    /// Revoke a key by id; running servers refuse it within seconds.
    Revoke {
        /// Key id as printed by `create` or `list`.
        id: uuid::Uuid,
    },
}

/// Settings of `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// What the file is.
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// The file, plain or gzip-compressed (detected by content).
    pub file: PathBuf,
    /// Version label; by default derived from the file (e.g. FY2026, 2025-10).
    #[arg(long = "version")]
    pub release_version: Option<String>,
    /// First date of service the release answers for (YYYY-MM-DD); by default from the file.
    #[arg(long)]
    pub effective_from: Option<NaiveDate>,
    /// Last date of service (YYYY-MM-DD); by default until the next release of the system.
    #[arg(long)]
    pub effective_to: Option<NaiveDate>,
}

/// Settings of `health-check`.
#[derive(Debug, Clone, Args)]
pub struct HealthCheckArgs {
    /// Server address.
    #[arg(
        long,
        env = "CLAIMSCRUB_HEALTH_ADDRESS",
        default_value = "127.0.0.1:50051"
    )]
    pub address: SocketAddr,
    /// Service to check; empty for the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
    /// TLS to the server.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// How to reach PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL; the database is created when it does not exist.
    /// Default: postgres://postgres:postgres@127.0.0.1:5432/claimscrub (and
    /// for `serve --dev`, a private cluster when nothing answers there).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Pool size. PostgreSQL allows 100 connections by default, summed over every replica.
    #[arg(long, env = "CLAIMSCRUB_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Seconds to wait for a pooled connection before answering UNAVAILABLE.
    #[arg(long, env = "CLAIMSCRUB_DB_ACQUIRE_TIMEOUT", default_value_t = 5)]
    pub db_acquire_timeout_secs: u64,
}

impl DatabaseArgs {
    /// Arguments for a database URL with the default pool settings.
    pub fn for_url(database_url: impl Into<String>) -> Self {
        Self {
            database_url: Some(database_url.into()),
            db_max_connections: 16,
            db_acquire_timeout_secs: 5,
        }
    }

    /// The URL to connect to: the one given, else [`DEFAULT_DATABASE_URL`].
    pub fn url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    /// The acquire timeout as a duration.
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.db_acquire_timeout_secs)
    }
}

/// The import kinds on the command line; the kinds themselves are the
/// importers' ([`ImportKind`]), which know nothing of clap.
impl ValueEnum for ImportKind {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.description()))
    }
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// PostgreSQL URL of a streaming replica for the audit reads (List,
    /// Export, Stats, Get, Replay); everything else, the audit of those
    /// reads included, goes to the primary. Connected on first use.
    #[arg(long, env = "CLAIMSCRUB_READ_DATABASE_URL", hide_env_values = true)]
    pub read_database_url: Option<String>,
    /// Serve Prometheus metrics over HTTP on this address (`/metrics`); none: off.
    #[arg(long, env = "CLAIMSCRUB_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds `serve` keeps trying an unreachable database (with backoff)
    /// before it exits non-zero.
    #[arg(long, env = "CLAIMSCRUB_DB_STARTUP_TIMEOUT", default_value_t = 60)]
    pub db_startup_timeout_secs: u64,
    /// Data directory of the private PostgreSQL cluster `serve --dev` runs
    /// when no DATABASE_URL is given and nothing answers at
    /// --default-database-address.
    #[arg(
        long,
        env = "CLAIMSCRUB_PRIVATE_PG_DIR",
        default_value = ".claimscrub/pg"
    )]
    pub private_pg_dir: PathBuf,
    /// Where the default DATABASE_URL points; `serve --dev` looks there
    /// before it starts a private cluster.
    #[arg(long, env = "CLAIMSCRUB_DEFAULT_DATABASE_ADDRESS", default_value = DEFAULT_DATABASE_ADDRESS)]
    pub default_database_address: SocketAddr,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "CLAIMSCRUB_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Seconds between health NOT_SERVING and refusing new work, so load balancers notice.
    #[arg(long, env = "CLAIMSCRUB_SHUTDOWN_GRACE", default_value_t = 1)]
    pub shutdown_grace_secs: u64,
    /// Seconds open streams get to finish after shutdown begins; then the process exits anyway.
    #[arg(long, env = "CLAIMSCRUB_DRAIN_DEADLINE", default_value_t = 10)]
    pub drain_deadline_secs: u64,
    /// Largest request message accepted, in bytes (one claim is far smaller).
    #[arg(long, env = "CLAIMSCRUB_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024)]
    pub max_request_bytes: usize,
    /// Largest response message sent, in bytes: the 4 MiB that grpc-js,
    /// grpcio and grpc-go accept by default. Pages and export chunks are cut
    /// well below it (see the proto comments).
    #[arg(long, env = "CLAIMSCRUB_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// Most service lines in one claim (an 837P carries 50; a lower limit may be set).
    #[arg(long, env = "CLAIMSCRUB_MAX_SERVICE_LINES", default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=50))]
    pub max_service_lines: usize,
    /// Most diagnosis codes in one claim (an 837P carries 12).
    #[arg(long, env = "CLAIMSCRUB_MAX_DIAGNOSES", default_value_t = 12, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=12))]
    pub max_diagnoses: usize,
    /// Most modifiers on one line (an 837P carries 4).
    #[arg(long, env = "CLAIMSCRUB_MAX_MODIFIERS", default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4))]
    pub max_modifiers: usize,
    /// Most diagnosis pointers on one line (an 837P carries 4).
    #[arg(long, env = "CLAIMSCRUB_MAX_POINTERS", default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4))]
    pub max_pointers: usize,
    /// Most units on one line.
    #[arg(long, env = "CLAIMSCRUB_MAX_UNITS", default_value_t = 9_999, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=9999))]
    pub max_units: u32,
    /// Largest excised diameter or repair length, in cm.
    #[arg(long, env = "CLAIMSCRUB_MAX_SIZE_CM", default_value_t = 100.0)]
    pub max_size_cm: f64,
    /// Seconds between HTTP/2 keepalive pings, so dead peers of long streams are noticed.
    #[arg(long, env = "CLAIMSCRUB_KEEPALIVE_INTERVAL", default_value_t = 30)]
    pub keepalive_interval_secs: u64,
    /// Seconds to wait for a keepalive answer before closing the connection.
    #[arg(long, env = "CLAIMSCRUB_KEEPALIVE_TIMEOUT", default_value_t = 10)]
    pub keepalive_timeout_secs: u64,
    /// Secret key of the HMAC that replaces member ids in the audit store.
    /// The default is for development only: set your own in production.
    #[arg(long, env = "CLAIMSCRUB_MEMBER_HASH_KEY", default_value = DEVELOPMENT_MEMBER_HASH_KEY, hide_env_values = true, hide_default_value = true)]
    pub member_hash_key: String,
    /// Development mode: calls without a key are served as `anonymous`,
    /// the built-in member-hash key is allowed, and only a loopback address
    /// may be listened on. Never for real traffic.
    #[arg(long, env = "CLAIMSCRUB_DEV")]
    pub dev: bool,
    /// Serve plaintext gRPC on a non-loopback address: TLS ends in front of
    /// claimscrub (a proxy or a mesh).
    #[arg(long, env = "CLAIMSCRUB_ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
    /// PEM certificate chain (leaf first) to serve TLS with; read again
    /// when it changes.
    #[arg(long, env = "CLAIMSCRUB_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the TLS certificate.
    #[arg(long, env = "CLAIMSCRUB_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates to verify client certificates against (mTLS). A
    /// verified certificate whose SAN is registered (`api-key create
    /// --cert-san`) identifies its caller without a key.
    #[arg(long, env = "CLAIMSCRUB_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Refuse TLS clients without a certificate (otherwise they may still
    /// call with an API key).
    #[arg(
        long,
        env = "CLAIMSCRUB_TLS_REQUIRE_CLIENT_CERT",
        requires = "tls_client_ca"
    )]
    pub tls_require_client_cert: bool,
    /// Seconds between looks at the TLS files for a change.
    #[arg(long, env = "CLAIMSCRUB_TLS_RELOAD_INTERVAL", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub tls_reload_interval_secs: u64,
    /// Calls a second each caller (API key's submitter) may make, in bursts
    /// of as many; more are RESOURCE_EXHAUSTED with RetryInfo. 0: no limit.
    #[arg(long, env = "CLAIMSCRUB_KEY_REQUESTS_PER_SECOND", default_value_t = 0)]
    pub key_requests_per_second: u32,
    /// Batch streams (ValidateClaimBatch, ValidateInterchange) each caller
    /// may have open at once; one more is RESOURCE_EXHAUSTED with
    /// RetryInfo. 0: no limit.
    #[arg(long, env = "CLAIMSCRUB_KEY_CONCURRENT_STREAMS", default_value_t = 8)]
    pub key_concurrent_streams: usize,
    /// Longest a unary call may run, in seconds: the client's deadline
    /// (grpc-timeout) when shorter, else this; past it DEADLINE_EXCEEDED.
    /// Streams have no total deadline, only the idle timeout.
    #[arg(long, env = "CLAIMSCRUB_MAX_UNARY_DEADLINE", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_unary_deadline_secs: u64,
    /// Seconds a batch stream or an X12 upload may send nothing while the
    /// server waits for it; then it is closed (a batch after a final
    /// checkpoint, so it resumes) with DEADLINE_EXCEEDED (STREAM_IDLE).
    #[arg(long, env = "CLAIMSCRUB_STREAM_IDLE_TIMEOUT", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub stream_idle_timeout_secs: u64,
    /// CSV `x12_payer_id,payer_id` translating an 837P's 2010BB payer id
    /// (NM1*PR NM109) into claimscrub's payer ids; the shipped
    /// reference/default/x12_payers.csv when not given.
    #[arg(long, env = "CLAIMSCRUB_X12_PAYER_MAP")]
    pub x12_payer_map: Option<std::path::PathBuf>,
}

impl ServeArgs {
    /// The claim limits these settings configure.
    pub fn claim_limits(&self) -> ClaimLimits {
        ClaimLimits {
            max_service_lines: self.max_service_lines,
            max_diagnoses: self.max_diagnoses,
            max_modifiers: self.max_modifiers,
            max_pointers: self.max_pointers,
            max_units: self.max_units,
            max_size_cm: self.max_size_cm,
        }
    }
}

impl ServeArgs {
    /// Whether `serve` should run a private cluster: development mode, no
    /// DATABASE_URL, and nothing at the default address (`answers`).
    pub fn wants_private_cluster(&self, answers: impl FnOnce(SocketAddr) -> bool) -> bool {
        self.dev && self.database.database_url.is_none() && !answers(self.default_database_address)
    }

    /// The TLS files, when TLS is configured.
    pub fn tls_files(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
            client_ca: self.tls_client_ca.clone(),
            require_client_cert: self.tls_require_client_cert,
        })
    }
}

/// The files TLS is served from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the leaf.
    pub key: PathBuf,
    /// PEM CA certificates client certificates are verified against; none:
    /// no client certificates are asked for.
    pub client_ca: Option<PathBuf>,
    /// Refuse the handshake of a client without a certificate (otherwise it
    /// may still call with an API key).
    pub require_client_cert: bool,
}

/// The member-hash key used when none is configured (development only).
pub const DEVELOPMENT_MEMBER_HASH_KEY: &str = "claimscrub-development-member-hash-key";

impl ServeArgs {
    /// Refuses settings that are unsafe outside development mode, with what
    /// to set instead; and development mode anywhere but loopback.
    pub fn check_safety(&self) -> Result<(), String> {
        let loopback = self.listen.ip().is_loopback();
        if self.dev {
            if !loopback {
                return Err(format!(
                    "development mode (--dev) listens on loopback only, not {}: use 127.0.0.1, or leave --dev out",
                    self.listen
                ));
            }
            return Ok(());
        }
        if self.member_hash_key == DEVELOPMENT_MEMBER_HASH_KEY {
            return Err(
                "the member-hash key is the built-in development key: set CLAIMSCRUB_MEMBER_HASH_KEY \
                 (or --member-hash-key) to a secret of your own (e.g. `openssl rand -hex 32`), \
                 or run `serve --dev` on loopback"
                    .into(),
            );
        }
        if !loopback && !self.allow_plaintext && self.tls_files().is_none() {
            return Err(format!(
                "refusing plaintext gRPC on {}: serve TLS (--tls-cert and --tls-key), listen on loopback, \
                 or pass --allow-plaintext (CLAIMSCRUB_ALLOW_PLAINTEXT=true) when TLS ends in front of \
                 claimscrub (a proxy or a mesh)",
                self.listen
            ));
        }
        Ok(())
    }

    /// Defaults for everything but the database and the listen address.
    pub fn new(database: DatabaseArgs, listen: SocketAddr) -> Self {
        let limits = ClaimLimits::default();
        Self {
            database,
            metrics_listen: None,
            read_database_url: None,
            db_startup_timeout_secs: 60,
            private_pg_dir: PathBuf::from(".claimscrub/pg"),
            default_database_address: DEFAULT_DATABASE_ADDRESS.parse().expect("a socket address"),
            listen,
            shutdown_grace_secs: 1,
            drain_deadline_secs: 10,
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            max_service_lines: limits.max_service_lines,
            max_diagnoses: limits.max_diagnoses,
            max_modifiers: limits.max_modifiers,
            max_pointers: limits.max_pointers,
            max_units: limits.max_units,
            max_size_cm: limits.max_size_cm,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
            member_hash_key: DEVELOPMENT_MEMBER_HASH_KEY.to_owned(),
            dev: false,
            allow_plaintext: false,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_require_client_cert: false,
            tls_reload_interval_secs: 10,
            key_requests_per_second: 0,
            key_concurrent_streams: 8,
            max_unary_deadline_secs: 60,
            stream_idle_timeout_secs: 300,
            x12_payer_map: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_match_the_documented_ones() {
        let cli = Cli::try_parse_from(["claimscrub", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(cli.log_format, LogFormat::Text);
        assert_eq!(
            args.drain_deadline_secs,
            ServeArgs::new(args.database.clone(), args.listen).drain_deadline_secs
        );
    }

    #[test]
    fn claim_limit_defaults_are_the_837p_ones() {
        let cli = Cli::try_parse_from(["claimscrub", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.claim_limits(), ClaimLimits::default());
        assert_eq!(
            ServeArgs::new(args.database.clone(), args.listen).claim_limits(),
            ClaimLimits::default()
        );
    }

    #[test]
    fn unsafe_settings_are_refused_outside_development_mode() {
        let parse = |args: &[&str]| {
            let cli =
                Cli::try_parse_from([&["claimscrub", "serve"][..], args].concat()).expect("parses");
            let Command::Serve(args) = cli.command else {
                panic!("expected serve");
            };
            args.check_safety()
        };
        assert!(parse(&["--dev"]).is_ok());
        let refused = parse(&[]).expect_err("the development key");
        assert!(refused.contains("CLAIMSCRUB_MEMBER_HASH_KEY"), "{refused}");
        let key = ["--member-hash-key", "a-secret-of-our-own"];
        assert!(parse(&key).is_ok());
        let open = [&key[..], &["--listen", "0.0.0.0:50051"]].concat();
        let refused = parse(&open).expect_err("plaintext off loopback");
        assert!(refused.contains("--allow-plaintext"), "{refused}");
        assert!(parse(&[&open[..], &["--allow-plaintext"]].concat()).is_ok());
        let tls = ["--tls-cert", "server.pem", "--tls-key", "server.key"];
        assert!(parse(&[&open[..], &tls[..]].concat()).is_ok());
        let refused = parse(&["--dev", "--listen", "0.0.0.0:50051"]).expect_err("dev off loopback");
        assert!(refused.contains("loopback only"), "{refused}");
    }

    #[test]
    fn only_development_mode_without_a_url_or_a_server_runs_a_private_cluster() {
        // Built, not parsed: DATABASE_URL in the environment (CI sets it)
        // would fill the URL in.
        let serve = |dev: bool, url: Option<&str>| {
            let mut args = ServeArgs::new(
                DatabaseArgs::for_url("postgres://unused"),
                "127.0.0.1:0".parse().expect("address"),
            );
            args.database.database_url = url.map(str::to_owned);
            args.dev = dev;
            args
        };
        let nothing_answers = |_| false;
        assert!(serve(true, None).wants_private_cluster(nothing_answers));
        assert!(!serve(true, None).wants_private_cluster(|_| true));
        assert!(!serve(false, None).wants_private_cluster(nothing_answers));
        let given = Some("postgres://db.example/claimscrub");
        assert!(!serve(true, given).wants_private_cluster(nothing_answers));
    }

    #[test]
    fn log_format_accepts_json() {
        let cli =
            Cli::try_parse_from(["claimscrub", "--log-format", "json", "migrate"]).expect("parses");
        assert_eq!(cli.log_format, LogFormat::Json);
    }
}
