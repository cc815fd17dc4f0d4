//! How a device decides that a `wss://` server is the real one.
//!
//! A hall LAN rarely has a domain, so its server usually has a self-signed
//! certificate: the device then pins that certificate by its SHA-256
//! fingerprint, read out by the secretary at enrollment and saved with the
//! device's credentials. An organisation with its own certificate authority
//! gives the device that authority's certificate instead. Anything else is
//! checked against Mozilla's roots, compiled in (`webpki-roots`) rather than
//! read from the operating system: the client then behaves the same on every
//! device, including minimal ones with no CA bundle, and an organisation's
//! own authority is covered by [`Trust::CaFile`].

use gavel_protocol::Fingerprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// Which server certificates a device accepts over `wss://`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Certificates for the server's name, signed by a public authority.
    #[default]
    WebPki,
    /// Exactly the certificate with this fingerprint, whatever its name or
    /// dates say: a hall server's self-signed certificate.
    Fingerprint(Fingerprint),
    /// Certificates for the server's name signed by the authority (or
    /// authorities) in this PEM file.
    CaFile(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the CA certificates in {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{0} holds no usable CA certificate")]
    NoCaCertificate(PathBuf),
    #[error("a pinned certificate needs a wss:// address, not {0}")]
    PinnedButPlain(String),
    #[error("TLS settings: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server's certificate is not the one the device pinned.
#[derive(thiserror::Error)]
#[error("the server's certificate has fingerprint {found}, not the pinned {pinned}")]
struct PinMismatch {
    found: Fingerprint,
    pinned: Fingerprint,
}

/// As its message: rustls shows the cause of a refused certificate with
/// `Debug`, and this is what the person at the device reads.
impl std::fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Trust {
    /// The TLS settings for a connection to `url`, or `None` for a plain
    /// `ws://` one. A pinned device refuses plain connections: they would
    /// let anyone on the network stand in for the server.
    pub(crate) fn for_url(&self, url: &str) -> Result<Option<Arc<ClientConfig>>, TlsError> {
        let secure = url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"));
        match (secure, self) {
            (true, _) => self.client_config().map(Some),
            (false, Trust::Fingerprint(_)) => Err(TlsError::PinnedButPlain(url.to_owned())),
            (false, _) => Ok(None),
        }
    }

    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let config = match self {
            Trust::WebPki => builder
                .with_root_certificates(RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                })
                .with_no_client_auth(),
            Trust::CaFile(path) => {
                let ca_error = |source| TlsError::CaFile {
                    path: path.clone(),
                    source,
                };
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(path).map_err(ca_error)? {
                    roots.add(cert.map_err(ca_error)?)?;
                }
                if roots.is_empty() {
                    return Err(TlsError::NoCaCertificate(path.clone()));
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Trust::Fingerprint(pinned) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned {
                    pinned: *pinned,
                    provider,
                }))
                .with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// Accepts exactly one certificate. Its name and dates are not checked: the
/// fingerprint already names the one certificate the secretary showed, and a
/// hall server reached by its LAN address has no name to check. The
/// handshake's signatures are still checked, so only the holder of the
/// certificate's key passes.
#[derive(Debug)]
struct Pinned {
    pinned: Fingerprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let found = Fingerprint::of(end_entity);
        if found == self.pinned {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch {
                    found,
                    pinned: self.pinned,
                })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_device_refuses_plain_connections() {
        let pinned = Trust::Fingerprint(Fingerprint([7; 32]));
        assert!(matches!(
            pinned.for_url("ws://hall:8080/ws"),
            Err(TlsError::PinnedButPlain(_))
        ));
        assert!(pinned.for_url("WSS://hall:8443/ws").unwrap().is_some());
        assert!(
            Trust::WebPki
                .for_url("ws://hall:8080/ws")
                .unwrap()
                .is_none()
        );
        assert!(Trust::WebPki.for_url("wss://hall/ws").unwrap().is_some());
    }

    #[test]
    fn trust_is_saved_in_words() {
        let pinned = Trust::Fingerprint(Fingerprint([0xAB; 32]));
        let json = serde_json::to_string(&pinned).unwrap();
        assert!(json.starts_with(r#"{"fingerprint":"AB:AB:"#), "{json}");
        assert_eq!(serde_json::from_str::<Trust>(&json).unwrap(), pinned);
        assert_eq!(
            serde_json::to_string(&Trust::WebPki).unwrap(),
            r#""web_pki""#
        );
    }
}
