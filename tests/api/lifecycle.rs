//! The binary as an operator runs it: `serve` creates its database, serves,
//! and on SIGTERM reports NOT_SERVING, drains and exits 0 within the drain
//! deadline; `migrate` creates and migrates a database.

use std::process::Stdio;
use std::time::Duration;

use claimscrub::storage::MIGRATOR;
use sqlx::{Connection as _, PgConnection};
use tokio::process::{Child, Command};
use tokio_stream::StreamExt as _;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{BINARY, database_url, maintenance_url, spawn_app, start_serve};

/// A database name no other test uses, and its URL.
fn fresh_database(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let url = database_url(&name);
    (name, url)
}

async fn drop_database(name: &str) {
    let mut conn = PgConnection::connect(&maintenance_url())
        .await
        .expect("maintenance connection");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists \"{name}\" with (force)"
    )))
    .execute(&mut conn)
    .await
    .expect("database dropped");
}

async fn database_exists(name: &str) -> bool {
    let mut conn = PgConnection::connect(&maintenance_url())
        .await
        .expect("maintenance connection");
    sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .expect("query")
}

fn send_sigterm(child: &Child) {
    let pid = child.id().expect("running child has a pid");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn serve_creates_its_database_and_exits_zero_on_sigterm_with_a_stream_open() {
    let (name, url) = fresh_database("claimscrub_lifecycle");
    let drain_deadline = 3;
    let (mut child, address) = start_serve(&url, drain_deadline).await;
    assert!(database_exists(&name).await, "serve created {name}");

    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let mut health = HealthClient::new(channel);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "claimscrub.v1.ClaimValidationService".into(),
        })
        .await
        .expect("watch opens")
        .into_inner();
    let first = watch.next().await.expect("first status").expect("ok");
    assert_eq!(first.status(), ServingStatus::Serving);

    send_sigterm(&child);
    // Bounds, not timings: CI shares two cores with every other test, so a
    // server may take seconds to be scheduled.
    let next = tokio::time::timeout(Duration::from_secs(60), watch.next())
        .await
        .expect("status change")
        .expect("stream item")
        .expect("ok");
    assert_eq!(
        next.status(),
        ServingStatus::NotServing,
        "health flips before the drain"
    );

    // The watch stays open until after the exit, so only the drain
    // deadline can end the drain.
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("exits with a stream still open")
        .expect("exit status");
    assert!(status.success(), "exit status {status:?}");
    drop(watch);
    drop_database(&name).await;
}

#[tokio::test]
async fn migrate_creates_and_migrates_a_database_and_is_repeatable() {
    let (name, url) = fresh_database("claimscrub_migrate");
    for _ in 0..2 {
        let status = Command::new(BINARY)
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .expect("binary runs");
        assert!(status.success());
    }
    let mut conn = PgConnection::connect(&url).await.expect("connects");
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(
        applied,
        i64::try_from(MIGRATOR.iter().count()).expect("count")
    );
    conn.close().await.expect("close");
    drop_database(&name).await;
}

/// An unreachable database is tried again with backoff for the startup
/// timeout, then `serve` exits non-zero naming it (never a server on some
/// other database, even in development mode when the URL is given).
#[tokio::test]
async fn serve_retries_an_unreachable_database_then_refuses_with_a_clear_error() {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new(BINARY)
            .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
            .args(["--db-startup-timeout-secs", "2"])
            .env(
                "DATABASE_URL",
                "postgres://postgres:postgres@127.0.0.1:1/claimscrub",
            )
            .output(),
    )
    .await
    .expect("serve gives up within its startup timeout")
    .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(
        stderr.contains("cannot reach PostgreSQL at 127.0.0.1:1/postgres"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("postgres:postgres@"),
        "credentials must not be printed: {stderr}"
    );
}

#[sqlx::test]
async fn in_process_shutdown_returns_within_the_drain_deadline(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let mut health = HealthClient::new(app.channel.clone());
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch opens")
        .into_inner();
    assert_eq!(
        watch.next().await.expect("item").expect("ok").status(),
        ServingStatus::Serving
    );
    // test_settings: no grace, 2 s drain deadline. The watch is still open,
    // so only the deadline can end the drain; the bound is for a busy CI
    // machine, not a timing.
    tokio::time::timeout(Duration::from_secs(60), app.shutdown())
        .await
        .expect("shutdown returns with a stream still open")
        .expect("clean shutdown");
    drop(watch);
}

#[sqlx::test]
async fn health_check_command_reports_serving_and_fails_when_nobody_answers(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let output = Command::new(BINARY)
        .args(["health-check", "--address", &app.address.to_string()])
        .output()
        .await
        .expect("binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "SERVING");
    app.shutdown().await.expect("clean shutdown");

    let output = Command::new(BINARY)
        .args([
            "health-check",
            "--address",
            "127.0.0.1:1",
            "--timeout-secs",
            "1",
        ])
        .output()
        .await
        .expect("binary runs");
    assert!(!output.status.success());
}

/// Secure by default: a production start with the built-in member-hash key
/// is refused, naming what to set; development mode refuses any address but
/// loopback; plaintext off loopback needs --allow-plaintext. Each exits
/// before it touches the database.
#[tokio::test]
async fn unsafe_starts_are_refused_with_what_to_set() {
    let refused = async |args: &[&str], env: &[(&str, &str)]| -> String {
        let output = Command::new(BINARY)
            .arg("serve")
            .args(args)
            .envs(env.iter().copied())
            .env(
                "DATABASE_URL",
                "postgres://postgres:postgres@127.0.0.1:1/unused",
            )
            .output()
            .await
            .expect("binary runs");
        assert!(!output.status.success(), "{args:?} started");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = refused(&["--listen", "127.0.0.1:0"], &[]).await;
    assert!(stderr.contains("CLAIMSCRUB_MEMBER_HASH_KEY"), "{stderr}");
    let stderr = refused(&["--dev", "--listen", "0.0.0.0:0"], &[]).await;
    assert!(stderr.contains("loopback only"), "{stderr}");
    let stderr = refused(
        &["--listen", "0.0.0.0:0"],
        &[("CLAIMSCRUB_MEMBER_HASH_KEY", "a-secret-of-our-own")],
    )
    .await;
    assert!(stderr.contains("--allow-plaintext"), "{stderr}");
}

/// `serve --dev` without a DATABASE_URL, where nothing answers at the
/// default address, runs a private cluster: it says so first, serves, and
/// stops the cluster on shutdown.
#[tokio::test]
async fn development_mode_runs_a_private_cluster_when_no_database_answers() {
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "private-pg-serve-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut child = Command::new(BINARY)
        .args([
            "--log-format",
            "json",
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--default-database-address")
        .arg(nowhere.to_string())
        .arg("--private-pg-dir")
        .arg(&data_dir)
        .env_remove("DATABASE_URL")
        .env("CLAIMSCRUB_SHUTDOWN_GRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
        child.stderr.take().expect("stderr"),
    ));
    let mut messages = Vec::new();
    let address = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(line) = lines.next_line().await.expect("log line") {
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            messages.push(entry["message"].as_str().unwrap_or(&line).to_owned());
            if entry["message"] == "claimscrub serving" {
                return entry["address"].as_str().expect("address").to_owned();
            }
        }
        panic!("serve exited before serving: {messages:#?}");
    })
    .await
    .expect("serving within 180 s");
    assert!(
        messages[0].contains("running a private PostgreSQL cluster"),
        "the first line says so: {messages:#?}"
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let versions =
        claimscrub::grpc::pb::reference_data_service_client::ReferenceDataServiceClient::new(
            channel,
        )
        .list_code_system_versions(claimscrub::grpc::pb::ListCodeSystemVersionsRequest::default())
        .await
        .expect("served from the private cluster");
    assert!(!versions.into_inner().code_system_versions.is_empty());

    let pid = i32::try_from(child.id().expect("running")).expect("pid");
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("kill runs");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    let status = child.wait().await.expect("exits");
    assert!(status.success(), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("private PostgreSQL cluster stopped")),
        "{rest:#?}"
    );
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "the cluster is stopped"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
