//! Builds, then runs, the server (zero-to-production's split): `build`
//! connects, migrates, loads the catalog and keys, binds the port and wires
//! the whole graph (use cases, the five services behind the key check,
//! health, reflection); `run_until_stopped` only starts the background
//! tasks, serves, and drains on shutdown. Tests get the fully built
//! application.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::net::TcpListener;
use tokio_stream::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::app::api_keys::ApiKeys;
use crate::app::audit::AuditQueries;
use crate::app::batch::BatchValidator;
use crate::app::catalog::Catalog;
use crate::app::metrics;
use crate::app::rate_limit::RateLimiter;
use crate::app::stream_limit::{StreamLimiter, StreamLimits};
use crate::app::validate::ClaimValidator;
use crate::app::x12::X12Intake;
use crate::config::ServeArgs;
use crate::grpc::audit::AuditApi;
use crate::grpc::call::CallLayer;
use crate::grpc::claim_validation::ClaimValidationApi;
use crate::grpc::code_lookup::CodeLookupApi;
use crate::grpc::connection::CoalescingWrites;
use crate::grpc::interceptor::{Authenticate, ScopeOfPath};
use crate::grpc::pb::audit_service_server::AuditServiceServer;
use crate::grpc::pb::claim_validation_service_server::ClaimValidationServiceServer;
use crate::grpc::pb::code_lookup_service_server::CodeLookupServiceServer;
use crate::grpc::pb::reference_data_service_server::ReferenceDataServiceServer;
use crate::grpc::pb::x12_service_server::X12ServiceServer;
use crate::grpc::reference_data::ReferenceDataApi;
use crate::grpc::x12::X12Api;
use crate::grpc::{SERVICE_NAMES, pb};
use crate::shutdown::{self, ShutdownTimings};
use crate::storage;
use crate::storage::private_cluster::{self, PrivateCluster};
use crate::tls::ServerTls;
use crate::x12::ca277::StatusMap;
use crate::x12::payers::PayerMap;

/// Connections of the bulk pool: the audit writer, the history reader's
/// queries in flight and the idempotency lookups.
const BULK_CONNECTIONS: u32 = 8;

/// A server bound to its port with its state loaded and its whole graph
/// wired (use cases, services, health, reflection), ready to run.
pub struct Application {
    listener: TcpListener,
    /// TLS, when configured: loaded and checked before the port is bound.
    tls: Option<Arc<ServerTls>>,
    settings: ServeArgs,
    pool: PgPool,
    bulk: PgPool,
    catalog: Arc<Catalog>,
    api_keys: Arc<ApiKeys>,
    /// Subscription to reference-data changes, opened before the first load.
    changes: PgListener,
    /// Cancelled when shutdown begins: long-running work stops.
    work: CancellationToken,
    health: HealthReporter,
    /// Every gRPC service, behind the key check where it needs one.
    routes: Routes,
    /// The private cluster development mode started, stopped after the drain.
    private_cluster: Option<PrivateCluster>,
}

/// A claimscrub service behind the scope and key checks, with the message limits.
macro_rules! guarded {
    ($server:ident, $api:expr, $settings:expr, $authenticate:expr) => {
        ScopeOfPath::new(InterceptedService::new(
            $server::new($api)
                .max_decoding_message_size($settings.max_request_bytes)
                .max_encoding_message_size($settings.max_response_bytes),
            $authenticate.clone(),
        ))
    };
}

/// Reflection over every proto the server speaks, google.rpc error details
/// included (so clients can decode ErrorInfo and BadRequest).
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

impl Application {
    /// Connects to PostgreSQL (creating the database when missing; trying
    /// again for a bounded time while it cannot be reached), then continues
    /// as [`Application::build_with_pool`]. In development mode without a
    /// DATABASE_URL, when nothing answers at the default address, it first
    /// starts a private cluster (`storage::private_cluster`).
    pub async fn build(mut settings: ServeArgs) -> anyhow::Result<Self> {
        settings.check_safety().map_err(anyhow::Error::msg)?;
        let private_cluster = {
            let probe = settings.clone();
            let dir = settings.private_pg_dir.clone();
            tokio::task::spawn_blocking(move || {
                probe
                    .wants_private_cluster(private_cluster::answers)
                    .then(|| PrivateCluster::start(&dir))
                    .transpose()
            })
            .await?
            .map_err(anyhow::Error::msg)?
        };
        if let Some(cluster) = &private_cluster {
            tracing::warn!(
                data_dir = %cluster.data_dir().display(),
                url = %cluster.url("claimscrub"),
                "DEVELOPMENT MODE: no DATABASE_URL and no PostgreSQL at {}: running a private \
                 PostgreSQL cluster, stopped on shutdown",
                settings.default_database_address
            );
            settings.database.database_url = Some(cluster.url("claimscrub"));
        }
        let pool = storage::connect_with_retry(
            &settings.database,
            Duration::from_secs(settings.db_startup_timeout_secs),
        )
        .await?;
        let mut application = Self::build_with_pool(settings, pool).await?;
        application.private_cluster = private_cluster;
        Ok(application)
    }

    /// Migrates the database, loads the catalog and binds the listen address.
    pub async fn build_with_pool(settings: ServeArgs, pool: PgPool) -> anyhow::Result<Self> {
        settings.check_safety().map_err(anyhow::Error::msg)?;
        if settings.dev {
            tracing::warn!(
                "DEVELOPMENT MODE: calls without an API key are served as `anonymous` and member ids \
                 are hashed with the built-in development key; never use --dev for real traffic"
            );
        }
        storage::migrate(&pool).await?;
        if crate::app::default_data::ensure_loaded(&pool)
            .await
            .context("loading the default data set")?
        {
            tracing::info!("default data set loaded on first start");
        }
        let started = std::time::Instant::now();
        let (catalog, changes) = Catalog::load_and_listen(&pool)
            .await
            .context("loading reference data")?;
        let catalog = Arc::new(catalog);
        tracing::info!(
            releases = catalog.snapshot().versions().len(),
            elapsed_ms = started.elapsed().as_millis(),
            "reference data loaded"
        );
        if let Some(address) = settings.metrics_listen {
            install_metrics(address)?;
            tracing::info!(%address, "Prometheus metrics served at /metrics");
        }
        AuditQueries::create_partitions_ahead(&pool)
            .await
            .context("creating audit partitions")?;
        let api_keys = Arc::new(
            ApiKeys::load(&pool, !settings.dev)
                .await
                .context("loading API keys")?,
        );
        let tls = settings
            .tls_files()
            .map(|files| ServerTls::load(files).map(Arc::new))
            .transpose()
            .map_err(|reason| anyhow::anyhow!("TLS: {reason}"))?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;

        let work = CancellationToken::new();
        let bulk = storage::bulk_pool(&pool, BULK_CONNECTIONS);
        let validator = Arc::new(ClaimValidator::new(
            Arc::clone(&catalog),
            bulk.clone(),
            settings.member_hash_key.clone().into_bytes(),
        ));
        let batches = Arc::new(BatchValidator::new(Arc::clone(&validator), bulk.clone()));
        let payers = match &settings.x12_payer_map {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                PayerMap::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => PayerMap::builtin(),
        };
        let intake = Arc::new(X12Intake::new(
            Arc::clone(&batches),
            pool.clone(),
            settings.claim_limits(),
            payers,
            StatusMap::builtin(),
        ));
        let reads = match &settings.read_database_url {
            Some(url) => {
                let reads = storage::connect_reader(url, &settings.database)?;
                tracing::info!("audit reads go to the replica of --read-database-url");
                reads
            }
            None => pool.clone(),
        };
        let audit_queries = Arc::new(AuditQueries::new(
            pool.clone(),
            reads,
            Arc::clone(&validator),
        ));

        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        for name in SERVICE_NAMES {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let rate = RateLimiter::new(
            settings.key_requests_per_second,
            Arc::new(std::time::Instant::now),
        )
        .map(Arc::new);
        let authenticate = Authenticate::new(Arc::clone(&api_keys), rate);
        let streams = StreamLimits {
            open: StreamLimiter::new(settings.key_concurrent_streams),
            idle_timeout: Duration::from_secs(settings.stream_idle_timeout_secs),
        };
        let routes = Routes::new(health_service)
            .add_service(reflection().build_v1()?)
            // grpcurl 1.8 speaks only v1alpha reflection.
            .add_service(reflection().build_v1alpha()?)
            .add_service(guarded!(
                CodeLookupServiceServer,
                CodeLookupApi::new(Arc::clone(&catalog)),
                settings,
                authenticate
            ))
            .add_service(guarded!(
                ClaimValidationServiceServer,
                ClaimValidationApi::new(
                    validator,
                    batches,
                    settings.claim_limits(),
                    streams.clone(),
                    work.clone()
                ),
                settings,
                authenticate
            ))
            .add_service(guarded!(
                AuditServiceServer,
                AuditApi::new(audit_queries, work.clone()),
                settings,
                authenticate
            ))
            .add_service(guarded!(
                ReferenceDataServiceServer,
                ReferenceDataApi::new(Arc::clone(&catalog)),
                settings,
                authenticate
            ))
            .add_service(guarded!(
                X12ServiceServer,
                X12Api::new(intake, streams, work.clone()),
                settings,
                authenticate
            ));
        Ok(Self {
            listener,
            tls,
            settings,
            pool,
            bulk,
            catalog,
            api_keys,
            changes,
            work,
            health,
            routes,
            private_cluster: None,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `stop` resolves, then shuts down gracefully (see
    /// [`crate::shutdown`]). Returns once the server has drained or the drain
    /// deadline has passed.
    pub async fn run_until_stopped(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            tls,
            settings,
            pool,
            bulk,
            catalog,
            api_keys,
            changes,
            work,
            health,
            routes,
            private_cluster,
        } = self;
        let address = listener.local_addr()?;
        let gauges = settings.metrics_listen.map(|_| {
            metrics::spawn_gauges(
                [("main", pool.clone()), ("bulk", bulk.clone())],
                Arc::clone(&catalog),
                work.clone(),
            )
        });
        let reloader = catalog.spawn_reload_on_change(pool.clone(), changes, work.clone());
        let key_refresher = api_keys.spawn_refresh(pool.clone(), work.clone());
        let partitions = AuditQueries::keep_partitions_ahead(pool.clone(), work.clone());

        let timings = ShutdownTimings {
            grace: Duration::from_secs(settings.shutdown_grace_secs),
            drain_deadline: Duration::from_secs(settings.drain_deadline_secs),
        };
        let tls_reloader = tls.as_ref().map(|tls| {
            tls.spawn_reload(
                Duration::from_secs(settings.tls_reload_interval_secs),
                work.clone(),
            )
        });
        let router = Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(settings.keepalive_interval_secs)))
            .http2_keepalive_timeout(Some(Duration::from_secs(settings.keepalive_timeout_secs)))
            .layer(CallLayer::new(Duration::from_secs(
                settings.max_unary_deadline_secs,
            )))
            .add_routes(routes);
        let stopping = shutdown::begin(stop, health, work.clone(), timings);
        let server: std::pin::Pin<
            Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>,
        > = match &tls {
            Some(tls) => {
                let incoming = tls
                    .incoming(listener)
                    .map(|accepted| accepted.map(CoalescingWrites::new));
                Box::pin(router.serve_with_incoming_shutdown(incoming, stopping))
            }
            None => {
                let incoming = TcpIncoming::from(listener)
                    .with_nodelay(Some(true))
                    .with_keepalive(Some(Duration::from_secs(60)))
                    .map(|accepted| accepted.map(CoalescingWrites::new));
                Box::pin(router.serve_with_incoming_shutdown(incoming, stopping))
            }
        };

        tracing::info!(%address, tls = tls.is_some(), "claimscrub serving");
        tokio::pin!(server);
        let drained = async {
            work.cancelled().await;
            tokio::time::sleep(timings.drain_deadline).await;
        };
        tokio::select! {
            result = &mut server => result.context("gRPC server failed")?,
            () = drained => tracing::warn!(
                deadline = ?timings.drain_deadline,
                "drain deadline passed with streams still open; closing them"
            ),
        }
        let _ = reloader.await;
        let _ = key_refresher.await;
        let _ = partitions.await;
        if let Some(gauges) = gauges {
            let _ = gauges.await;
        }
        if let Some(tls_reloader) = tls_reloader {
            let _ = tls_reloader.await;
        }
        bulk.close().await;
        pool.close().await;
        if let Some(mut cluster) = private_cluster {
            match tokio::task::spawn_blocking(move || cluster.stop()).await? {
                Ok(()) => tracing::info!("private PostgreSQL cluster stopped"),
                Err(error) => tracing::warn!(%error, "the private PostgreSQL cluster did not stop"),
            }
        }
        tracing::info!("claimscrub stopped");
        Ok(())
    }
}

/// Installs the Prometheus recorder and its HTTP listener on `address`.
/// Latencies are histograms (buckets from 1 ms to 60 s) so they add up
/// across replicas; so are the audit writer's rows per commit.
fn install_metrics(address: SocketAddr) -> anyhow::Result<()> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    const SECONDS: [f64; 14] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
    ];
    const ROWS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];
    let (recorder, exporter) = PrometheusBuilder::new()
        .with_http_listener(address)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)?
        .set_buckets_for_metric(Matcher::Full(metrics::BATCHER_BATCH_SIZE.into()), &ROWS)?
        .build()
        .with_context(|| format!("cannot serve metrics on {address}"))?;
    ::metrics::set_global_recorder(recorder)
        .map_err(|_| anyhow::anyhow!("a metrics recorder is installed in this process already"))?;
    metrics::enable();
    tokio::spawn(async move {
        if exporter.await.is_err() {
            tracing::error!("the metrics listener stopped");
        }
    });
    Ok(())
}
