//! TLS on the gRPC port (rustls, ring): a certificate chain and key from
//! PEM files, read again whenever they change so a renewed certificate
//! takes effect without a restart, and optionally client certificates
//! verified against a CA file (mTLS), whose SANs name the caller
//! (`app::api_keys`).
//!
//! Handshakes run on their own tasks, each under a timeout, so a client
//! that stalls or fails its handshake holds up no one else's connection;
//! tonic serves the streams that finished theirs.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use crate::config::TlsFiles;

/// How long a client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; past it, accepting waits, so a flood of
/// half-open connections cannot grow memory without bound.
const HANDSHAKES_IN_FLIGHT: usize = 1_024;

/// Connections past their handshake waiting for the server to take them.
const ACCEPTED_QUEUE: usize = 64;

/// What a load of the files produced.
struct Loaded {
    config: ServerConfig,
    fingerprint: [u8; 32],
    not_after: String,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{}: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "{}: no PEM certificate in the file",
            path.display()
        ));
    }
    Ok(certificates)
}

impl TlsFiles {
    /// Hash of the files' bytes, to notice a change; `None` while one of
    /// them cannot be read (e.g. between a delete and a rename).
    fn fingerprint(&self) -> Option<[u8; 32]> {
        let mut hash = Sha256::new();
        for path in self.paths() {
            hash.update(std::fs::read(path).ok()?);
        }
        Some(hash.finalize().into())
    }

    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }

    /// Reads and checks the files into a server configuration; an error
    /// names the file and what is wrong with it.
    fn load(&self) -> Result<Loaded, String> {
        let (cert_pem, key_pem) = (read(&self.cert)?, read(&self.key)?);
        let mut hash = Sha256::new();
        hash.update(&cert_pem);
        hash.update(&key_pem);
        let chain = certificates(&self.cert, &cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|error| format!("{}: {error}", self.key.display()))?;
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| error.to_string())?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let ca_pem = read(path)?;
                hash.update(&ca_pem);
                let mut roots = RootCertStore::empty();
                for certificate in certificates(path, &ca_pem)? {
                    roots
                        .add(certificate)
                        .map_err(|error| format!("{}: {error}", path.display()))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
                let verifier = if self.require_client_cert {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                builder.with_client_cert_verifier(
                    verifier
                        .build()
                        .map_err(|error| format!("{}: {error}", path.display()))?,
                )
            }
        };
        let not_after = not_after(&chain[0]);
        let mut config = builder.with_single_cert(chain, key).map_err(|error| {
            format!(
                "{} with {}: {error}",
                self.cert.display(),
                self.key.display()
            )
        })?;
        // gRPC clients (grpc-go, grpcurl) refuse a server that does not
        // negotiate h2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Loaded {
            config,
            fingerprint: hash.finalize().into(),
            not_after,
        })
    }
}

/// The end of a certificate's validity, for the log; a certificate past
/// it is served (clients will refuse it) with a warning, so a late renewal
/// is loud rather than a server that will not start.
fn not_after(certificate: &CertificateDer<'_>) -> String {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(certificate) else {
        return "unknown".to_owned();
    };
    let validity = parsed.validity();
    if !validity.is_valid() {
        tracing::warn!(
            not_before = %validity.not_before,
            not_after = %validity.not_after,
            "the TLS certificate is not valid now: clients will refuse it; renew it"
        );
    }
    validity.not_after.to_string()
}

/// The DNS and URI SANs of a DER certificate; empty when it cannot be read.
pub fn certificate_sans(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(extension)) = certificate.subject_alternative_name() else {
        return Vec::new();
    };
    extension
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            _ => None,
        })
        .collect()
}

/// The server's TLS: the configuration in effect, swapped when the files
/// change.
pub struct ServerTls {
    files: TlsFiles,
    config: ArcSwap<ServerConfig>,
    /// The files' contents last looked at, loaded or not.
    seen: Mutex<[u8; 32]>,
}

impl ServerTls {
    /// Loads the files; an error says which file and why.
    pub fn load(files: TlsFiles) -> Result<Self, String> {
        let loaded = files.load()?;
        tracing::info!(
            cert = %files.cert.display(),
            not_after = %loaded.not_after,
            client_certificates = files.client_ca.is_some(),
            "TLS certificate loaded"
        );
        Ok(Self {
            files,
            config: ArcSwap::from_pointee(loaded.config),
            seen: Mutex::new(loaded.fingerprint),
        })
    }

    /// Reads the files again if they changed: new connections get the new
    /// certificate; open ones keep theirs. Files that do not load (half
    /// written, a key that does not match) leave the current one in place.
    pub fn reload_if_changed(&self) {
        let Some(fingerprint) = self.files.fingerprint() else {
            return;
        };
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if *seen == fingerprint {
            return;
        }
        *seen = fingerprint;
        match self.files.load() {
            Ok(loaded) => {
                self.config.store(Arc::new(loaded.config));
                tracing::info!(not_after = %loaded.not_after, "TLS certificate reloaded");
            }
            Err(reason) => tracing::warn!(
                %reason,
                "the TLS files changed but cannot be used; serving the previous certificate"
            ),
        }
    }

    /// Looks at the files every `every` until `stop`.
    pub fn spawn_reload(
        self: &Arc<Self>,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = ticks.tick() => {
                        let tls = Arc::clone(&tls);
                        let _ = tokio::task::spawn_blocking(move || tls.reload_if_changed()).await;
                    }
                }
            }
        })
    }

    /// The connections of `listener` past their handshake, for tonic's
    /// `serve_with_incoming`. Accepting stops when the stream is dropped.
    pub fn incoming(
        self: &Arc<Self>,
        listener: TcpListener,
    ) -> ReceiverStream<io::Result<TlsStream<TcpStream>>> {
        let (accepted, incoming) = mpsc::channel(ACCEPTED_QUEUE);
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            let handshakes = Arc::new(Semaphore::new(HANDSHAKES_IN_FLIGHT));
            loop {
                let Ok(permit) = Arc::clone(&handshakes).acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = tokio::select! {
                    () = accepted.closed() => return,
                    connection = listener.accept() => match connection {
                        Ok(connection) => connection,
                        Err(error) => {
                            // Out of file descriptors and the like: pause
                            // rather than spin.
                            tracing::warn!(%error, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = TlsAcceptor::from(tls.config.load_full());
                let accepted = accepted.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = accepted.send(Ok(stream)).await;
                        }
                        Ok(Err(error)) => {
                            tracing::info!(%peer, %error, "TLS handshake refused");
                        }
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(incoming)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        let cert = params.self_signed(&key).expect("certificate");
        (cert.pem(), key.serialize_pem())
    }

    fn files(dir: &Path) -> TlsFiles {
        TlsFiles {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            client_ca: None,
            require_client_cert: false,
        }
    }

    fn write(dir: &Path, (cert, key): &(String, String)) {
        std::fs::write(dir.join("server.pem"), cert).expect("written");
        std::fs::write(dir.join("server.key"), key).expect("written");
    }

    #[test]
    fn changed_files_are_taken_and_unusable_ones_are_not() {
        let dir = tempfile::tempdir().expect("folder");
        write(dir.path(), &certificate("first.example"));
        let tls = ServerTls::load(files(dir.path())).expect("loads");
        let first = tls.config.load_full();
        tls.reload_if_changed();
        assert!(
            Arc::ptr_eq(&first, &tls.config.load_full()),
            "unchanged files"
        );

        let (second_cert, second_key) = certificate("second.example");
        let (_, other_key) = certificate("other.example");
        write(dir.path(), &(second_cert.clone(), other_key));
        tls.reload_if_changed();
        assert!(
            Arc::ptr_eq(&first, &tls.config.load_full()),
            "a key of another certificate is not taken"
        );
        std::fs::write(dir.path().join("server.pem"), "not PEM").expect("written");
        tls.reload_if_changed();
        assert!(
            Arc::ptr_eq(&first, &tls.config.load_full()),
            "a broken file is not taken"
        );

        write(dir.path(), &(second_cert, second_key));
        tls.reload_if_changed();
        assert!(
            !Arc::ptr_eq(&first, &tls.config.load_full()),
            "the renewed pair is taken"
        );
    }

    #[test]
    fn files_that_do_not_load_name_the_file() {
        let dir = tempfile::tempdir().expect("folder");
        let missing = ServerTls::load(files(dir.path())).err().expect("no files");
        assert!(missing.contains("server.pem"), "{missing}");
        std::fs::write(dir.path().join("server.pem"), "no certificate here").expect("written");
        std::fs::write(dir.path().join("server.key"), "").expect("written");
        let empty = ServerTls::load(files(dir.path()))
            .err()
            .expect("no certificate");
        assert!(empty.contains("server.pem: no PEM certificate"), "{empty}");
    }

    #[test]
    fn the_sans_of_a_certificate_are_its_dns_names_and_uris() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec![
            "gateway.example".to_owned(),
            "10.0.0.1".to_owned(),
        ])
        .expect("params");
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://example/gateway"
                .to_owned()
                .try_into()
                .expect("ia5"),
        ));
        let cert = params.self_signed(&key).expect("certificate");
        assert_eq!(
            certificate_sans(cert.der()),
            ["gateway.example", "spiffe://example/gateway"]
        );
        assert!(certificate_sans(b"not DER").is_empty());
    }
}
