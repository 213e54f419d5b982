//! End-to-end tests: the real server on 127.0.0.1:0 against a fresh, migrated
//! PostgreSQL database per test (`#[sqlx::test]`), called with the generated
//! tonic clients. One binary, so the crate links once.
//!
//! Where neither DATABASE_URL nor a server at the `.env` address is there
//! (a fresh machine), the suite runs its own private PostgreSQL cluster in
//! `target/tmp/private-pg`, as `serve --dev` does, and stops it at exit.

mod api_keys;
mod audit;
mod audit_access;
mod batch_stream;
mod claim_validation;
mod code_lookup;
mod concurrency;
mod contract;
mod helpers;
mod hostile;
mod import;
mod lifecycle;
mod limits;
mod metrics;
mod phi_logs;
mod procedures;
mod read_replica;
mod real_claims;
mod reference_data;
mod replicas;
mod rule_edits;
mod scopes;
mod tls;
mod x12_fixtures;
mod x12_service;

use std::str::FromStr as _;

/// The private cluster of this run, when one was needed.
static PRIVATE_CLUSTER: std::sync::Mutex<
    Option<claimscrub::storage::private_cluster::PrivateCluster>,
> = std::sync::Mutex::new(None);

/// Before any test: when no DATABASE_URL is set and nothing answers at the
/// `.env` one, start the private cluster and point DATABASE_URL at it.
#[ctor::ctor]
unsafe fn database_for_the_suite() {
    use claimscrub::storage::private_cluster::{PrivateCluster, answers};
    if std::env::var_os("DATABASE_URL").is_some() {
        return;
    }
    let configured = dotenvy::var("DATABASE_URL").ok();
    let address = configured
        .as_deref()
        .and_then(|url| sqlx::postgres::PgConnectOptions::from_str(url).ok())
        .and_then(|o| {
            use std::net::ToSocketAddrs as _;
            (o.get_host(), o.get_port()).to_socket_addrs().ok()?.next()
        });
    if address.is_some_and(answers) {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("private-pg");
    match PrivateCluster::start(&dir) {
        Ok(cluster) => {
            eprintln!(
                "no PostgreSQL answers at the .env address: the tests use a private cluster at {}",
                dir.display()
            );
            // SAFETY: before main, no other thread reads the environment.
            unsafe { std::env::set_var("DATABASE_URL", cluster.url("postgres")) };
            *PRIVATE_CLUSTER.lock().expect("lock") = Some(cluster);
        }
        Err(error) => eprintln!("no PostgreSQL for the tests: {error}"),
    }
}

/// After the last test: stop the private cluster, if this run started it.
#[ctor::dtor]
unsafe fn stop_the_private_cluster() {
    if let Ok(mut cluster) = PRIVATE_CLUSTER.lock()
        && let Some(mut cluster) = cluster.take()
    {
        let _ = cluster.stop();
    }
}
