//! The console's TLS: the certificate chain and key from `[console]`, read with a size cap and
//! checked to belong together, for rustls (ring provider).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::{ConsoleConfig, ConsoleFileError};
use crate::capped_file;

/// The largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 256 * 1024;

/// The rustls server configuration of `[console]`: refused unless both files are usable.
pub fn server_config(c: &ConsoleConfig) -> Result<Arc<rustls::ServerConfig>, ConsoleFileError> {
    let cert_error = |why: String| ConsoleFileError::Cert {
        path: c.tls_cert.display().to_string(),
        why,
    };
    let key_error = |why: String| ConsoleFileError::Key {
        path: c.tls_key.display().to_string(),
        why,
    };
    let certs_pem = capped_file::read_text(&c.tls_cert, MAX_PEM_BYTES)
        .map_err(|e| cert_error(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(certs_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_error("no CERTIFICATE block".into()));
    }
    let key_pem = zeroize::Zeroizing::new(
        capped_file::read_text(&c.tls_key, MAX_PEM_BYTES).map_err(|e| key_error(e.to_string()))?,
    );
    let key =
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| key_error(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| key_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| key_error(format!("does not fit the certificate: {e}")))?;
    Ok(Arc::new(config))
}
