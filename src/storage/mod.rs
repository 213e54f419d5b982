//! PostgreSQL access (sqlx): the only module with SQL. Opens the pool, creates
//! the database when it is missing, applies `migrations/`, and maps sqlx
//! errors to [`AppError`].

pub mod api_keys;
pub mod audit;
pub mod audit_access;
pub mod batches;
pub mod private_cluster;
pub mod reference_data;
pub mod x12;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::config::DatabaseArgs;
use crate::error::{AppError, ErrorReason};

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// PostgreSQL error code for "database already exists".
const DUPLICATE_DATABASE: &str = "42P04";

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL is not a PostgreSQL URL.
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// PostgreSQL refused or could not be reached.
    #[error("cannot reach PostgreSQL at {target}: {source}")]
    Connect {
        /// host:port/database, without credentials.
        target: String,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connection options from a URL.
pub fn connect_options(database_url: &str) -> Result<PgConnectOptions, SetupError> {
    PgConnectOptions::from_str(database_url).map_err(SetupError::InvalidUrl)
}

fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    )
}

/// Creates the database named in the URL when it does not exist yet.
/// Returns true when it was created.
pub async fn ensure_database(options: &PgConnectOptions) -> Result<bool, SetupError> {
    let Some(name) = options.get_database() else {
        return Ok(false);
    };
    let maintenance = options.clone().database("postgres");
    let mut conn = PgConnection::connect_with(&maintenance)
        .await
        .map_err(|source| SetupError::Connect {
            target: describe(&maintenance),
            source,
        })?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .map_err(|source| SetupError::Connect {
                target: describe(&maintenance),
                source,
            })?;
    if exists {
        return Ok(false);
    }
    // CREATE DATABASE takes no bind parameters: the name is quoted as an identifier.
    let statement = format!("create database \"{}\"", name.replace('"', "\"\""));
    match sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(&mut conn)
        .await
    {
        Ok(_) => Ok(true),
        // Another process created it between the check and here.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(DUPLICATE_DATABASE) => {
            Ok(false)
        }
        Err(source) => Err(SetupError::Connect {
            target: describe(&maintenance),
            source,
        }),
    }
}

/// Opens the pool, creating the database first when needed.
pub async fn connect(args: &DatabaseArgs) -> Result<PgPool, SetupError> {
    let options = connect_options(args.url())?;
    if ensure_database(&options).await? {
        tracing::info!(database = %describe(&options), "created database");
    }
    PgPoolOptions::new()
        .max_connections(args.db_max_connections)
        .acquire_timeout(args.acquire_timeout())
        // Recycle connections so none lives forever (sqlx issue #4385: a
        // cancelled transaction could stay open on a pooled connection).
        .max_lifetime(std::time::Duration::from_secs(30 * 60))
        .connect_with(options.clone())
        .await
        .map_err(|source| SetupError::Connect {
            target: describe(&options),
            source,
        })
}

/// A pool on a streaming replica for reads, connected on first use (a
/// standby cannot create the database, and a replica that is briefly away
/// fails only the reads sent to it), named `claimscrub-reads` in
/// `pg_stat_activity`.
pub fn connect_reader(url: &str, args: &DatabaseArgs) -> Result<PgPool, SetupError> {
    let options = connect_options(url)?.application_name("claimscrub-reads");
    Ok(PgPoolOptions::new()
        .max_connections(args.db_max_connections)
        .acquire_timeout(args.acquire_timeout())
        .max_lifetime(std::time::Duration::from_secs(30 * 60))
        .connect_lazy_with(options))
}

/// Whether a failed connection may succeed if tried again: the server is
/// not up yet, restarting, or the network is down; not a wrong URL,
/// password or database.
fn worth_retrying(error: &SetupError) -> bool {
    /// "the database system is starting up" / "shutting down".
    const NOT_READY: [&str; 2] = ["57P03", "57P01"];
    match error {
        SetupError::Connect { source, .. } => match source {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(e) => e.code().is_some_and(|c| NOT_READY.contains(&&*c)),
            _ => false,
        },
        _ => false,
    }
}

/// [`connect`], tried again with backoff (a quarter second, doubling to 5 s)
/// while the database cannot be reached, for at most `within`: a primary
/// that is briefly away delays the start, and one that stays away stops it,
/// never a server on some other database.
pub async fn connect_with_retry(
    args: &DatabaseArgs,
    within: std::time::Duration,
) -> Result<PgPool, SetupError> {
    let until = tokio::time::Instant::now() + within;
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        match connect(args).await {
            Err(error) if worth_retrying(&error) && tokio::time::Instant::now() + wait < until => {
                tracing::warn!(%error, retry_in_ms = wait.as_millis(), "PostgreSQL unreachable; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
            }
            answer => return answer,
        }
    }
}

/// Connections for the group-commit writers and batched readers, beside
/// `pool`: their statements have a fixed shape (UNNEST over arrays), so they
/// use generic plans; PostgreSQL would otherwise re-plan every execution as
/// a custom plan, which cost more than executing them. Queries with optional
/// filters keep custom plans on `pool`.
///
/// Where the connecting user may, these connections act as the
/// `claimscrub_app` role, which can append decisions but never change or
/// remove one: the writers run with the least privilege they need.
pub fn bulk_pool(pool: &PgPool, max_connections: u32) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .max_lifetime(std::time::Duration::from_secs(30 * 60))
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query(
                    "do $$ begin \
                       if exists (select 1 from pg_roles where rolname = 'claimscrub_app') \
                          and pg_has_role(current_user, 'claimscrub_app', 'member') then \
                         set role claimscrub_app; \
                       end if; \
                     end $$",
                )
                .execute(connection)
                .await?;
                Ok(())
            })
        })
        .connect_lazy_with(options)
}

/// Applies the pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), SetupError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

fn database_unavailable() -> AppError {
    AppError::Unavailable {
        reason: ErrorReason::DatabaseUnavailable,
        message: "the database is unavailable; retry later".to_owned(),
    }
}

/// A statement PostgreSQL refused because of what the rows carried (a data
/// exception, an integrity violation or a size limit such as an index row
/// too large), as opposed to an outage. Only its own rows are to blame, so
/// a group commit retries the others without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub sqlstate: String,
    /// The constraint named, if any.
    pub constraint: Option<String>,
    /// The table named, if any.
    pub table: Option<String>,
    /// PostgreSQL's message (never its DETAIL, which may quote values).
    pub message: String,
}

impl Refusal {
    /// The caller's answer for a refused row: a value the store cannot hold
    /// (data exception, size limit) is the request's; an integrity
    /// violation is ours.
    pub fn into_error(self) -> AppError {
        if self.sqlstate.starts_with("23") {
            AppError::internal(format!("the audit store refused the row: {}", self.message))
        } else {
            AppError::invalid_field(
                "claim",
                "the claim holds a value the audit store cannot keep; check its text fields",
            )
        }
    }
}

/// Why a write failed: a refusal of its rows, or anything else (an outage
/// maps to UNAVAILABLE through [`AppError`]).
#[derive(Debug)]
pub enum WriteError {
    /// PostgreSQL refused the rows' content.
    Refused(Refusal),
    /// Any other failure.
    Failed(AppError),
}

impl From<sqlx::Error> for WriteError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && let Some(code) = db.code()
            && ["22", "23", "54"]
                .iter()
                .any(|class| code.starts_with(class))
        {
            return Self::Refused(Refusal {
                sqlstate: code.into_owned(),
                constraint: db.constraint().map(str::to_owned),
                table: db.table().map(str::to_owned),
                message: db.message().to_owned(),
            });
        }
        Self::Failed(error.into())
    }
}

impl From<AppError> for WriteError {
    fn from(error: AppError) -> Self {
        Self::Failed(error)
    }
}

/// A connection of `pool` for a sequence of statements.
pub async fn acquire(
    pool: &PgPool,
) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, AppError> {
    Ok(pool.acquire().await?)
}

/// Starts a transaction for a group commit.
pub async fn begin(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, WriteError> {
    Ok(pool.begin().await?)
}

/// Calls that found every pooled connection busy until the acquire
/// timeout (listed with the other metrics in `app::metrics`).
pub const DB_POOL_TIMEOUTS: &str = "claimscrub_db_pool_timeouts_total";

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut => {
                metrics::counter!(DB_POOL_TIMEOUTS).increment(1);
                database_unavailable()
            }
            sqlx::Error::PoolClosed | sqlx::Error::Io(_) => database_unavailable(),
            // Connection exceptions (08), insufficient resources (53) and
            // operator intervention (57: a restart or shutdown) pass; a
            // retry succeeds once PostgreSQL is back.
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|c| {
                    c.starts_with("08") || c.starts_with("53") || c.starts_with("57")
                }) =>
            {
                database_unavailable()
            }
            other => AppError::internal(other),
        }
    }
}
