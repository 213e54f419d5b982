//! TLS and mTLS end to end, with certificates the tests make (rcgen): a
//! good certificate, a wrong CA, expired certificates, a reload of renewed
//! files, identity from a registered client certificate, and the peers
//! (grpcurl, Python grpcio, the `x12 check` and `health-check` commands)
//! calling over TLS.

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimscrub::config::ServeArgs;
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::grpc::pb::reference_data_service_client::ReferenceDataServiceClient;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use sqlx::PgPool;
use tonic::Code;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_types::StatusExt as _;

use crate::helpers::{
    BINARY, cli, excision_claim, printed, production_settings, shared_data, spawn_app_reached,
    wait_for,
};

/// Years a certificate is valid between.
type Validity = (i32, i32);
const VALID: Validity = (2020, 2099);
const EXPIRED: Validity = (2001, 2002);

/// The names the server's certificate carries.
const SERVER_SANS: &[&str] = &["localhost", "127.0.0.1"];
/// The SAN registered for clearinghouse-a's gateway.
const GATEWAY: &str = "gateway.clearinghouse-a.example";

/// A certificate authority of the test's own.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A certificate and its key, in PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("key");
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Self {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate for `sans` (DNS names, IPs, or URIs with `://`).
    fn leaf(&self, sans: &[&str], validity: Validity, purpose: ExtendedKeyUsagePurpose) -> Leaf {
        let (uris, names): (Vec<&str>, Vec<&str>) = sans.iter().partition(|s| s.contains("://"));
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("SANs");
        for uri in uris {
            params.subject_alt_names.push(SanType::URI(
                uri.to_owned().try_into().expect("an ASCII URI"),
            ));
        }
        params.distinguished_name.push(DnType::CommonName, sans[0]);
        params.not_before = rcgen::date_time_ymd(validity.0, 1, 1);
        params.not_after = rcgen::date_time_ymd(validity.1, 1, 1);
        params.extended_key_usages = vec![purpose];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn server(&self, validity: Validity) -> Leaf {
        self.leaf(SERVER_SANS, validity, ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client(&self, sans: &[&str], validity: Validity) -> Leaf {
        self.leaf(sans, validity, ExtendedKeyUsagePurpose::ClientAuth)
    }
}

/// A folder of PEM files, replaced the way an operator (or certbot) does:
/// written aside, then renamed over the old one.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("temporary folder"))
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        let aside = self.0.path().join(format!(".{name}.new"));
        std::fs::write(&aside, text).expect("written");
        std::fs::rename(&aside, &path).expect("renamed");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// The server's certificate and key, replaced.
    fn serve(&self, leaf: &Leaf) {
        self.write("server.pem", &leaf.cert);
        self.write("server.key", &leaf.key);
    }
}

/// Production settings serving TLS from `files` (server.pem, server.key),
/// verifying client certificates against client-ca.pem, looking at the
/// files every second.
fn tls_settings(files: &Files) -> ServeArgs {
    let mut settings = production_settings();
    settings.tls_cert = Some(files.path("server.pem"));
    settings.tls_key = Some(files.path("server.key"));
    settings.tls_client_ca = Some(files.path("client-ca.pem"));
    settings.tls_reload_interval_secs = 1;
    settings
}

/// An endpoint over TLS trusting `ca`, presenting `identity` if given.
fn endpoint(address: std::net::SocketAddr, ca: &str, identity: Option<&Leaf>) -> Endpoint {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some(leaf) = identity {
        tls = tls.identity(Identity::from_pem(&leaf.cert, &leaf.key));
    }
    Endpoint::from_shared(format!("https://{address}"))
        .expect("uri")
        .tls_config(tls)
        .expect("TLS settings")
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(30))
}

/// How a call over a new connection failed.
#[derive(Debug)]
enum Failure {
    /// The client refused the server's certificate.
    Connect(String),
    /// The server answered with a status.
    Status(tonic::Status),
}

impl Failure {
    /// The server refused the handshake with TLS alert `alert`: under TLS
    /// 1.3 the client has finished its side by then, so the alert surfaces
    /// on the first call, as a transport error without ErrorInfo.
    fn refused_with_alert(&self, alert: &str) -> bool {
        match self {
            Failure::Connect(reason) => reason.contains(&format!("alert: {alert}")),
            Failure::Status(status) => {
                status.get_details_error_info().is_none()
                    && format!("{status:?}").contains(&format!("alert: {alert}"))
            }
        }
    }

    /// The ErrorInfo reason of an UNAUTHENTICATED answer.
    fn unauthenticated_reason(&self) -> Option<String> {
        match self {
            Failure::Status(status) if status.code() == Code::Unauthenticated => {
                Some(status.get_details_error_info()?.reason)
            }
            _ => None,
        }
    }
}

/// ListCodeSystemVersions (scope `lookup`) over a new connection.
async fn list_versions(
    address: std::net::SocketAddr,
    ca: &str,
    identity: Option<&Leaf>,
    key: Option<&str>,
) -> Result<(), Failure> {
    let channel = endpoint(address, ca, identity)
        .connect()
        .await
        .map_err(|error| Failure::Connect(format!("{error:?}")))?;
    let mut request = tonic::Request::new(pb::ListCodeSystemVersionsRequest::default());
    if let Some(key) = key {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {key}").parse().expect("ascii"),
        );
    }
    ReferenceDataServiceClient::new(channel)
        .list_code_system_versions(request)
        .await
        .map(drop)
        .map_err(Failure::Status)
}

/// A key of clearinghouse-b with the scope `lookup`, made with the CLI.
async fn lookup_key(pool: &PgPool) -> String {
    let created = api_key_command(
        pool,
        &[
            "create",
            "--submitter",
            "clearinghouse-b",
            "--scopes",
            "lookup",
        ],
    )
    .await;
    printed(&created, "key:")
}

/// Runs `claimscrub api-key` on the test database; returns its output.
async fn api_key_command(pool: &PgPool, args: &[&str]) -> String {
    cli(pool, &[&["api-key"], args].concat()).await
}

/// A server with TLS and client certificates from `authority`, the gateway's
/// SAN registered for clearinghouse-a and a key for clearinghouse-b.
async fn start(
    pool: &PgPool,
    authority: &Authority,
    files: &Files,
) -> (crate::helpers::TestApp, String) {
    files.serve(&authority.server(VALID));
    files.write("client-ca.pem", &authority.pem);
    let registered = api_key_command(
        pool,
        &[
            "create",
            "--submitter",
            "clearinghouse-a",
            "--scopes",
            "lookup,validate",
            "--cert-san",
            GATEWAY,
        ],
    )
    .await;
    assert_eq!(printed(&registered, "cert SAN:"), GATEWAY);
    assert!(
        !registered.contains("key:"),
        "a certificate has no key: {registered}"
    );
    let key = lookup_key(pool).await;
    let gateway = authority.client(&[GATEWAY], VALID);
    let ca = authority.pem.clone();
    let app = spawn_app_reached(pool.clone(), tls_settings(files), move |address| {
        endpoint(address, &ca, Some(&gateway))
    })
    .await;
    (app, key)
}

#[sqlx::test]
async fn tls_serves_good_certificates_and_refuses_wrong_or_expired_ones(pool: PgPool) {
    let (authority, stranger) = (
        Authority::new("claimscrub test CA"),
        Authority::new("another CA"),
    );
    let files = Files::new();
    let (app, key) = start(&pool, &authority, &files).await;
    let address = app.address;
    let ca = authority.pem.as_str();

    list_versions(address, ca, None, Some(&key))
        .await
        .expect("a key over TLS, no client certificate");
    let gateway = authority.client(&[GATEWAY], VALID);
    list_versions(address, ca, Some(&gateway), None)
        .await
        .expect("a registered client certificate needs no key");

    let anonymous = list_versions(address, ca, None, None)
        .await
        .expect_err("neither key nor certificate");
    assert_eq!(
        anonymous.unauthenticated_reason().as_deref(),
        Some("API_KEY_REQUIRED"),
        "{anonymous:?}"
    );
    let unregistered = authority.client(&["someone-else.example"], VALID);
    let refused = list_versions(address, ca, Some(&unregistered), None)
        .await
        .expect_err("a verified but unregistered certificate");
    assert_eq!(
        refused.unauthenticated_reason().as_deref(),
        Some("CERTIFICATE_UNREGISTERED"),
        "{refused:?}"
    );

    let wrong_ca = list_versions(address, &stranger.pem, None, Some(&key))
        .await
        .expect_err("the client does not trust the server's CA");
    assert!(
        matches!(&wrong_ca, Failure::Connect(reason) if reason.contains("UnknownIssuer")),
        "{wrong_ca:?}"
    );
    let foreign = stranger.client(&[GATEWAY], VALID);
    let foreign = list_versions(address, ca, Some(&foreign), None)
        .await
        .expect_err("a client certificate of another CA, with the registered SAN");
    assert!(foreign.refused_with_alert("UnknownCA"), "{foreign:?}");
    let expired = authority.client(&[GATEWAY], EXPIRED);
    let expired = list_versions(address, ca, Some(&expired), None)
        .await
        .expect_err("an expired client certificate");
    assert!(
        expired.refused_with_alert("CertificateExpired"),
        "{expired:?}"
    );

    // The refusals failed only their own connections.
    let decision = ClaimValidationServiceClient::new(app.channel.clone())
        .validate_claim(pb::ValidateClaimRequest {
            request_id: "tls-1".into(),
            claim: Some(excision_claim("CLM-TLS-1", "", 3.5)),
        })
        .await
        .expect("the gateway's certificate validates a claim");
    assert!(decision.into_inner().result.is_some());
    let submitter: String =
        sqlx::query_scalar("select submitter from audit_record where request_id = 'tls-1'")
            .fetch_one(&pool)
            .await
            .expect("stored decision");
    assert_eq!(
        submitter, "clearinghouse-a",
        "the certificate names the submitter"
    );
}

#[sqlx::test]
async fn renewed_certificate_files_are_served_without_a_restart(pool: PgPool) {
    let (first, second) = (Authority::new("first CA"), Authority::new("second CA"));
    let files = Files::new();
    let (app, key) = start(&pool, &first, &files).await;
    let address = app.address;
    list_versions(address, &first.pem, None, Some(&key))
        .await
        .expect("the first certificate");

    files.serve(&second.server(VALID));
    wait_for(
        "new connections to get the renewed certificate",
        Duration::from_secs(60),
        async || {
            list_versions(address, &second.pem, None, Some(&key))
                .await
                .ok()
        },
    )
    .await;
    let old = list_versions(address, &first.pem, None, Some(&key))
        .await
        .expect_err("the old certificate is no longer served");
    assert!(
        matches!(&old, Failure::Connect(reason) if reason.contains("UnknownIssuer")),
        "{old:?}"
    );

    files.serve(&second.server(EXPIRED));
    let expired = wait_for(
        "the expired certificate to be served",
        Duration::from_secs(60),
        async || {
            list_versions(address, &second.pem, None, Some(&key))
                .await
                .err()
        },
    )
    .await;
    assert!(
        matches!(&expired, Failure::Connect(reason) if reason.contains("Expired")),
        "{expired:?}"
    );
}

/// A peer tool from `$CLAIMSCRUB_PEERS` (the folder `.ci/run` installs them
/// in), or `None` after saying so outside CI.
fn peer_tool(name: &str) -> Option<PathBuf> {
    let folder = std::env::var_os("CLAIMSCRUB_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/bin"));
    let path = folder.join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} not found under CI (.ci/run installs it)",
        path.display()
    );
    eprintln!("SKIPPED: {} not found", path.display());
    None
}

/// A Python grpcio client: calls ListCodeSystemVersions at `argv[1]`
/// trusting `argv[2]`, with the client certificate and key `argv[3..5]`
/// when given; prints the reply's size, or the status code it got.
const PYTHON_CLIENT: &str = r#"
import sys, grpc
target, ca = sys.argv[1], open(sys.argv[2], "rb").read()
identity = [open(p, "rb").read() for p in sys.argv[3:5]]
credentials = grpc.ssl_channel_credentials(ca, *reversed(identity)) if identity \
    else grpc.ssl_channel_credentials(ca)
channel = grpc.secure_channel(target, credentials,
    options=[("grpc.ssl_target_name_override", "localhost")])
call = channel.unary_unary("/claimscrub.v1.ReferenceDataService/ListCodeSystemVersions",
    request_serializer=lambda b: b, response_deserializer=lambda b: b)
try:
    print("OK", len(call(b"", timeout=60)))
except grpc.RpcError as error:
    print(error.code().name)
"#;

#[sqlx::test]
async fn grpcurl_python_and_the_cli_call_over_mtls(pool: PgPool) {
    let (Some(grpcurl), Some(python)) = (peer_tool("grpcurl"), peer_tool("python")) else {
        return;
    };
    let authority = Authority::new("claimscrub test CA");
    let files = Files::new();
    let (app, key) = start(&pool, &authority, &files).await;
    let address = app.address.to_string();
    let ca = files.write("ca.pem", &authority.pem);
    let gateway = authority.client(&[GATEWAY], VALID);
    let (cert, cert_key) = (
        files.write("gateway.pem", &gateway.cert),
        files.write("gateway.key", &gateway.key),
    );
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();

    let grpcurl = |extra: Vec<String>| {
        let mut command = tokio::process::Command::new(&grpcurl);
        command
            .args(["-cacert", &path(&ca), "-servername", "localhost"])
            .args(extra)
            .args(["-d", "{}", &address])
            .arg("claimscrub.v1.ReferenceDataService/ListCodeSystemVersions");
        command
    };
    let with_certificate = grpcurl(vec![
        "-cert".into(),
        path(&cert),
        "-key".into(),
        path(&cert_key),
    ])
    .output()
    .await
    .expect("grpcurl runs");
    assert!(
        with_certificate.status.success()
            && String::from_utf8_lossy(&with_certificate.stdout).contains("codeSystemVersions"),
        "grpcurl with the gateway's certificate: {}",
        String::from_utf8_lossy(&with_certificate.stderr)
    );
    let with_key = grpcurl(vec!["-H".into(), format!("authorization: Bearer {key}")])
        .output()
        .await
        .expect("grpcurl runs");
    assert!(
        with_key.status.success(),
        "grpcurl with a key over TLS: {}",
        String::from_utf8_lossy(&with_key.stderr)
    );
    let without = grpcurl(Vec::new()).output().await.expect("grpcurl runs");
    assert!(!without.status.success());
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("Unauthenticated"),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );

    let python = |identity: &[&Path]| {
        let mut command = tokio::process::Command::new(&python);
        command
            .args(["-c", PYTHON_CLIENT, &address, &path(&ca)])
            .args(identity.iter().map(|p| path(p)));
        command
    };
    let answered = python(&[&cert, &cert_key])
        .output()
        .await
        .expect("python runs");
    let printed = String::from_utf8_lossy(&answered.stdout);
    assert!(
        printed.starts_with("OK ") && printed.trim() != "OK 0",
        "Python with the gateway's certificate: {printed} {}",
        String::from_utf8_lossy(&answered.stderr)
    );
    let refused = python(&[]).output().await.expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&refused.stdout).trim(),
        "UNAUTHENTICATED",
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let health = tokio::process::Command::new(BINARY)
        .args([
            "health-check",
            "--address",
            &address,
            "--tls-ca",
            &path(&ca),
        ])
        .args(["--tls-domain", "localhost"])
        .output()
        .await
        .expect("health-check runs");
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let Some(folder) = shared_data("x12/stupidedi/005010/X222-HC837/pass") else {
        return;
    };
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    examples.sort();
    let checked = tokio::process::Command::new(BINARY)
        .args(["x12", "check"])
        .arg(&examples[0])
        .args(["--address", &address, "--tls-ca", &path(&ca)])
        .args([
            "--tls-client-cert",
            &path(&cert),
            "--tls-client-key",
            &path(&cert_key),
        ])
        .output()
        .await
        .expect("x12 check runs");
    assert!(
        checked.status.success()
            && String::from_utf8_lossy(&checked.stdout).contains("interchange(s)"),
        "x12 check over mTLS: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[sqlx::test]
async fn a_server_requiring_client_certificates_refuses_a_key_alone(pool: PgPool) {
    let authority = Authority::new("claimscrub test CA");
    let files = Files::new();
    files.serve(&authority.server(VALID));
    files.write("client-ca.pem", &authority.pem);
    let key = lookup_key(&pool).await;
    let mut settings = tls_settings(&files);
    settings.tls_require_client_cert = true;
    // Any certificate of the CA gets through the handshake; the key then
    // names the caller.
    let someone = authority.client(&["someone.example"], VALID);
    let ca = authority.pem.clone();
    let app = spawn_app_reached(pool, settings, move |address| {
        endpoint(address, &ca, Some(&someone))
    })
    .await;
    let refused = list_versions(app.address, &authority.pem, None, Some(&key))
        .await
        .expect_err("no client certificate");
    assert!(
        refused.refused_with_alert("CertificateRequired"),
        "{refused:?}"
    );
    let someone = authority.client(&["someone.example"], VALID);
    list_versions(app.address, &authority.pem, Some(&someone), Some(&key))
        .await
        .expect("a certificate of the CA and a key");
}
