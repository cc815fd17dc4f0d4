//! HTTPS and WSS without a reverse proxy.
//!
//! A hall LAN usually has no domain, so no public authority will sign a
//! certificate for it: `--tls-self-signed` makes one, once, and keeps it in
//! the data directory so that its fingerprint stays the same across
//! restarts. The server prints that fingerprint at every start; the
//! secretary gives it to each device at enrollment, and the device then
//! accepts no other certificate (see `gavel_client::tls`). A server with a
//! real domain is given its certificate and key files instead.
//!
//! The TLS handshake runs in the listener, one task per connection, so that
//! the router, the WebSocket upgrade and the graceful shutdown in
//! [`crate::app`] are the same for plain and TLS connections, and a client
//! that stalls its handshake holds up nobody else.

use anyhow::Context as _;
use gavel_protocol::Fingerprint;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Longest a client may take over its handshake; a hall's Wi-Fi is slow at
/// worst, and a connection that says nothing is not worth a task for long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The generated certificate and its key, in the data directory.
pub const SELF_SIGNED_CERT: &str = "tls-cert.pem";
pub const SELF_SIGNED_KEY: &str = "tls-key.pem";

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files: the certificate chain (the server's own first) and its key.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate in the data directory, made on first use
    /// for `localhost`, `127.0.0.1`, the host's name and `names`.
    SelfSigned { names: Vec<String> },
}

/// The server's TLS settings, and its certificate's fingerprint for people
/// to check.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub fingerprint: Fingerprint,
}

impl TlsSource {
    /// Loads the certificate and key, making the self-signed pair first if
    /// it does not exist yet in `data_dir`.
    pub fn load(&self, data_dir: &Path) -> anyhow::Result<ServerTls> {
        let (cert, key) = match self {
            TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
            TlsSource::SelfSigned { names } => {
                let (cert, key) = (
                    data_dir.join(SELF_SIGNED_CERT),
                    data_dir.join(SELF_SIGNED_KEY),
                );
                if !cert.exists() {
                    generate(&cert, &key, names)?;
                }
                (cert, key)
            }
        };
        let chain = CertificateDer::pem_file_iter(&cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("reading the certificate {}", cert.display()))?;
        let first = chain
            .first()
            .with_context(|| format!("{} holds no certificate", cert.display()))?;
        let fingerprint = Fingerprint::of(first);
        let private = PrivateKeyDer::from_pem_file(&key)
            .with_context(|| format!("reading the private key {}", key.display()))?;
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, private)
                .with_context(|| {
                    format!("{} and {} do not match", cert.display(), key.display())
                })?;
        // HTTP/1.1 only: browsers open WebSockets over it, not over HTTP/2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            fingerprint,
        })
    }
}

/// Makes the self-signed certificate (ECDSA P-256) and writes it, with its
/// key readable by the owner only.
fn generate(cert_path: &Path, key_path: &Path, names: &[String]) -> anyhow::Result<()> {
    let mut all = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if let Ok(host) = gethostname::gethostname().into_string() {
        all.push(host);
    }
    all.extend(names.iter().cloned());
    all.dedup();
    let mut params = rcgen::CertificateParams::new(all.clone())
        .with_context(|| format!("a certificate for {all:?}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Gavel hall server");
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    if let Some(dir) = cert_path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::keyfile::write_private(key_path, &key.serialize_pem())?;
    std::fs::write(cert_path, cert.pem())
        .with_context(|| format!("writing {}", cert_path.display()))?;
    tracing::info!(path = %cert_path.display(), names = ?all, "created a self-signed TLS certificate");
    Ok(())
}

/// A TCP listener that hands axum connections whose TLS handshake is done.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    /// Handshakes under way; dropped (and so abandoned) with the listener
    /// when the server stops taking connections.
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    /// Both branches are cancel-safe, as axum requires: a connection is
    /// either taken whole or left for the next call.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                (tcp, peer) = axum::serve::Listener::accept(&mut self.tcp) => {
                    // Small frames go out at once (see the plain listener in `app`).
                    let _ = tcp.set_nodelay(true);
                    let acceptor = self.acceptor.clone();
                    self.handshakes.spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => Some((tls, peer)),
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                None
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                None
                            }
                        }
                    });
                }
                Some(joined) = self.handshakes.join_next() => {
                    if let Ok(Some(done)) = joined {
                        return done;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_self_signed_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let source = TlsSource::SelfSigned {
            names: vec!["hall.local".into(), "10.0.0.5".into()],
        };
        let first = source.load(dir.path()).unwrap();
        let second = source.load(dir.path()).unwrap();
        assert_eq!(first.fingerprint, second.fingerprint);
        let pem = std::fs::read(dir.path().join(SELF_SIGNED_CERT)).unwrap();
        let der = CertificateDer::from_pem_slice(&pem).unwrap();
        assert_eq!(Fingerprint::of(&der), first.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let key = std::fs::metadata(dir.path().join(SELF_SIGNED_KEY)).unwrap();
            assert_eq!(key.permissions().mode() & 0o077, 0);
        }
    }
}
