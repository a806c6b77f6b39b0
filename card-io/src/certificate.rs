//! X.509 checks of the JPKI user-authentication certificate: the chain to configured trust
//! anchors (the J-LIS user-authentication CA generations; tests use their own CA), validity
//! against a given clock, signature algorithm, key usage and optional CRLs.
//!
//! On the card the end-entity certificate is signed directly by a J-LIS CA. Longer chains work
//! too: configured intermediate CAs are tried between the certificate and an anchor, at most
//! [`MAX_INTERMEDIATES`] deep, respecting each CA's pathLenConstraint. Anchors and
//! intermediates must be CA certificates (basicConstraints cA and keyUsage keyCertSign), which
//! is checked when they are added.

use std::path::Path;

use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA,
};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

/// Most intermediate CAs between an end-entity certificate and its trust anchor.
pub const MAX_INTERMEDIATES: usize = 4;

/// A certificate that expires within this many days gets [`ChainVerdict::ExpiringSoon`].
pub const EXPIRY_WARNING_DAYS: i64 = 30;
const SECONDS_PER_DAY: i64 = 86_400;

/// Why a trust anchor or CRL file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither a DER object nor PEM blocks of the expected kind.
    #[error("{path} is not a DER or PEM {kind}")]
    NotParsable {
        /// The file.
        path: String,
        /// "certificate" or "CRL".
        kind: &'static str,
    },
    /// The CRL was not issued by any trust anchor or intermediate, or its signature does not
    /// verify.
    #[error("the CRL in {path} is not signed by a configured trust anchor or intermediate CA")]
    CrlNotTrusted {
        /// The file.
        path: String,
    },
    /// A certificate given as trust anchor or intermediate CA may not issue certificates.
    #[error("{path} holds {subject:?}, which is not a CA certificate: {defect}")]
    NotCa {
        /// The file (`<DER>` for bytes).
        path: String,
        /// The certificate's subject.
        subject: String,
        /// What disqualifies it.
        defect: CaDefect,
    },
}

/// Why a certificate cannot act as a CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaDefect {
    /// basicConstraints is missing or does not set cA.
    #[error("its basicConstraints do not say cA=true")]
    NotCa,
    /// keyUsage is missing.
    #[error("it has no keyUsage extension")]
    NoKeyUsage,
    /// keyUsage does not allow certificate signing.
    #[error("its keyUsage lacks keyCertSign")]
    NoKeyCertSign,
    /// One of those extensions does not parse.
    #[error("its basicConstraints or keyUsage do not parse")]
    Malformed,
}

/// Why `cert` cannot act as a CA, if it cannot.
fn ca_defect(cert: &X509Certificate<'_>) -> Option<CaDefect> {
    match cert.basic_constraints() {
        Ok(Some(constraints)) if constraints.value.ca => {}
        Ok(_) => return Some(CaDefect::NotCa),
        Err(_) => return Some(CaDefect::Malformed),
    }
    match cert.key_usage() {
        Ok(Some(usage)) if usage.value.key_cert_sign() => None,
        Ok(Some(_)) => Some(CaDefect::NoKeyCertSign),
        Ok(None) => Some(CaDefect::NoKeyUsage),
        Err(_) => Some(CaDefect::Malformed),
    }
}

/// Whether `ca` signed `cert`.
fn issued(ca: &X509Certificate<'_>, cert: &X509Certificate<'_>) -> bool {
    ca.subject() == cert.issuer() && cert.verify_signature(Some(ca.public_key())).is_ok()
}

/// Whether `ca` may have `below` intermediate CAs between it and the end-entity certificate.
fn path_length_allows(ca: &X509Certificate<'_>, below: usize) -> bool {
    match ca.basic_constraints() {
        Ok(Some(constraints)) => constraints
            .value
            .path_len_constraint
            .is_none_or(|limit| below <= limit as usize),
        _ => false,
    }
}

/// What the kiosk concluded about a certificate; the UI maps each case to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Chains to a trust anchor, valid now, not revoked.
    Valid,
    /// Valid, but expires in fewer than [`EXPIRY_WARNING_DAYS`] days.
    ExpiringSoon {
        /// Whole days left.
        days_left: i64,
    },
    /// Past its notAfter (or its anchor is).
    Expired,
    /// Before its notBefore.
    NotYetValid,
    /// Not signed by any configured trust anchor.
    Untrusted,
    /// Listed in a configured CRL.
    Revoked,
    /// Signed with an algorithm other than RSA PKCS#1 v1.5 with SHA-256/384/512.
    UnsupportedAlgorithm,
    /// Its key usage does not allow digital signatures.
    WrongKeyUsage,
    /// Not a parsable X.509 certificate.
    Malformed,
}

impl ChainVerdict {
    /// A stable identifier for JSON and logs, e.g. `"expired"`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::ExpiringSoon { .. } => "expiring-soon",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::Untrusted => "untrusted",
            Self::Revoked => "revoked",
            Self::UnsupportedAlgorithm => "unsupported-algorithm",
            Self::WrongKeyUsage => "wrong-key-usage",
            Self::Malformed => "malformed",
        }
    }

    /// Whether the certificate may be relied on (valid, possibly expiring soon).
    pub fn is_acceptable(self) -> bool {
        matches!(self, Self::Valid | Self::ExpiringSoon { .. })
    }
}

/// Trust anchors, intermediate CAs and the CRLs they signed.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
}

impl TrustAnchors {
    /// No anchors: every certificate is [`ChainVerdict::Untrusted`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one DER trust anchor; it must be a CA certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), TrustError> {
        let der = ca_certificate(der, "<DER>")?;
        self.anchors.push(der);
        Ok(())
    }

    /// Adds the trust anchors of a DER file or a PEM file (one or more `CERTIFICATE` blocks);
    /// each must be a CA certificate.
    pub fn add_file(&mut self, path: &Path) -> Result<(), TrustError> {
        let certificates = ca_certificates(path)?;
        self.anchors.extend(certificates);
        Ok(())
    }

    /// Adds one DER intermediate CA (not trusted by itself: it must chain to an anchor).
    pub fn add_intermediate_der(&mut self, der: &[u8]) -> Result<(), TrustError> {
        let der = ca_certificate(der, "<DER>")?;
        self.intermediates.push(der);
        Ok(())
    }

    /// Adds the intermediate CAs of a DER or PEM file, like [`TrustAnchors::add_file`].
    pub fn add_intermediate_file(&mut self, path: &Path) -> Result<(), TrustError> {
        let certificates = ca_certificates(path)?;
        self.intermediates.extend(certificates);
        Ok(())
    }

    /// Adds a CRL (DER or PEM `X509 CRL`); its signature must verify with one of the anchors or
    /// intermediates added before.
    pub fn add_crl_file(&mut self, path: &Path) -> Result<(), TrustError> {
        for der in objects(path, "X509 CRL", "CRL")? {
            let crl = CertificateRevocationList::from_der(&der)
                .map_err(|_| not_parsable(path, "CRL"))?
                .1;
            let signed = self
                .parsed_anchors()
                .chain(parsed(&self.intermediates))
                .any(|ca| {
                    ca.subject() == crl.issuer() && crl.verify_signature(ca.public_key()).is_ok()
                });
            if !signed {
                return Err(TrustError::CrlNotTrusted {
                    path: path.display().to_string(),
                });
            }
            self.crls.push(der);
        }
        Ok(())
    }

    /// Whether no anchor is configured.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The trust anchors and intermediate CAs (DER), e.g. to show when they expire.
    pub fn certificates(&self) -> impl Iterator<Item = &[u8]> {
        self.anchors
            .iter()
            .chain(&self.intermediates)
            .map(Vec::as_slice)
    }

    fn parsed_anchors(&self) -> impl Iterator<Item = X509Certificate<'_>> {
        parsed(&self.anchors)
    }

    /// The CAs from the issuer of `cert` up to a trust anchor (last), with `below` intermediate
    /// CAs already between `cert` and the end-entity certificate.
    fn path_from(
        &self,
        cert: &X509Certificate<'_>,
        below: usize,
    ) -> Option<Vec<X509Certificate<'_>>> {
        if let Some(anchor) = self
            .parsed_anchors()
            .find(|anchor| issued(anchor, cert) && path_length_allows(anchor, below))
        {
            return Some(vec![anchor]);
        }
        if below >= MAX_INTERMEDIATES {
            return None;
        }
        parsed(&self.intermediates)
            .filter(|ca| ca.subject() != cert.subject() && issued(ca, cert))
            .filter(|ca| path_length_allows(ca, below))
            .find_map(|ca| {
                let mut path = self.path_from(&ca, below + 1)?;
                path.insert(0, ca);
                Some(path)
            })
    }

    /// Checks the end-entity certificate `der` at `now` (seconds since the Unix epoch).
    pub fn check(&self, der: &[u8], now: i64) -> ChainVerdict {
        let Ok((rest, cert)) = X509Certificate::from_der(der) else {
            return ChainVerdict::Malformed;
        };
        if !rest.is_empty() {
            return ChainVerdict::Malformed;
        }
        let algorithm = &cert.signature_algorithm.algorithm;
        if ![
            OID_PKCS1_SHA256WITHRSA,
            OID_PKCS1_SHA384WITHRSA,
            OID_PKCS1_SHA512WITHRSA,
        ]
        .contains(algorithm)
        {
            return ChainVerdict::UnsupportedAlgorithm;
        }
        let Some(path) = self.path_from(&cert, 0) else {
            return ChainVerdict::Untrusted;
        };
        let chain = || std::iter::once(&cert).chain(&path);
        let not_after = chain()
            .map(|c| c.validity().not_after.timestamp())
            .min()
            .unwrap_or(i64::MIN);
        let not_before = chain()
            .map(|c| c.validity().not_before.timestamp())
            .max()
            .unwrap_or(i64::MAX);
        if now < not_before {
            return ChainVerdict::NotYetValid;
        }
        if now > not_after {
            return ChainVerdict::Expired;
        }
        match cert.key_usage() {
            Ok(Some(usage)) if !usage.value.digital_signature() => {
                return ChainVerdict::WrongKeyUsage
            }
            Ok(_) => {}
            Err(_) => return ChainVerdict::Malformed,
        }
        // The anchor is trusted as configured; everything it vouches for may be revoked.
        if chain().take(path.len()).any(|c| self.is_revoked(c)) {
            return ChainVerdict::Revoked;
        }
        let days_left = (not_after - now) / SECONDS_PER_DAY;
        if days_left < EXPIRY_WARNING_DAYS {
            ChainVerdict::ExpiringSoon { days_left }
        } else {
            ChainVerdict::Valid
        }
    }

    fn is_revoked(&self, cert: &X509Certificate<'_>) -> bool {
        self.crls
            .iter()
            .filter_map(|der| {
                CertificateRevocationList::from_der(der)
                    .ok()
                    .map(|(_, c)| c)
            })
            .filter(|crl| crl.issuer() == cert.issuer())
            .any(|crl| {
                crl.iter_revoked_certificates()
                    .any(|revoked| revoked.raw_serial() == cert.raw_serial())
            })
    }
}

/// What the kiosk shows of a certificate (no personal data: the user-auth certificate holds
/// none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// Serial number, lower-case hex with `:` separators.
    pub serial: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
}

impl CertificateSummary {
    /// Summarises the DER certificate `der`; `None` if it does not parse.
    pub fn of(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        Some(Self {
            serial: cert.raw_serial_as_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        })
    }
}

/// The RSA public key (PKCS#1 `RSAPublicKey` DER) of the DER certificate `der`.
pub fn rsa_public_key(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

/// The DER certificates of `der` (from `path`), checked to be CA certificates.
fn ca_certificate(der: &[u8], path: &str) -> Result<Vec<u8>, TrustError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| TrustError::NotParsable {
        path: path.to_owned(),
        kind: "certificate",
    })?;
    match ca_defect(&cert) {
        Some(defect) => Err(TrustError::NotCa {
            path: path.to_owned(),
            subject: cert.subject().to_string(),
            defect,
        }),
        None => Ok(der.to_vec()),
    }
}

/// The certificates of a DER or PEM file, each checked to be a CA certificate.
fn ca_certificates(path: &Path) -> Result<Vec<Vec<u8>>, TrustError> {
    let shown = path.display().to_string();
    objects(path, "CERTIFICATE", "certificate")?
        .iter()
        .map(|der| ca_certificate(der, &shown))
        .collect()
}

/// The certificates among `ders` that parse.
fn parsed(ders: &[Vec<u8>]) -> impl Iterator<Item = X509Certificate<'_>> {
    ders.iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
}

/// The largest certificate or CRL file read (a large CA's CRL is a few MB).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The DER objects of a file (a regular file of at most [`MAX_FILE_BYTES`], opened without
/// waiting): the whole file if it parses as DER, else its PEM blocks labelled `label`.
fn objects(path: &Path, label: &str, kind: &'static str) -> Result<Vec<Vec<u8>>, TrustError> {
    let bytes = capped_file::read(path, MAX_FILE_BYTES).map_err(|refusal| TrustError::Io {
        path: path.display().to_string(),
        source: match refusal {
            capped_file::Refusal::Io(e) => e,
            other => std::io::Error::other(other),
        },
    })?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes]);
    }
    let blocks: Vec<Vec<u8>> = Pem::iter_from_buffer(&bytes)
        .map_while(Result::ok)
        .filter(|pem| pem.label == label)
        .map(|pem| pem.contents)
        .collect();
    if blocks.is_empty() {
        Err(not_parsable(path, kind))
    } else {
        Ok(blocks)
    }
}

fn not_parsable(path: &Path, kind: &'static str) -> TrustError {
    TrustError::NotParsable {
        path: path.display().to_string(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_a_fifo_or_an_oversized_file_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ca.pem");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let large = dir.path().join("crl.der");
        std::fs::File::create(&large)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        for (path, expected) in [
            (Path::new("/dev/zero"), "not a regular file"),
            (&fifo, "not a regular file"),
            (&large, "more than the"),
        ] {
            let mut anchors = TrustAnchors::new();
            let e = anchors.add_file(path).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            let e = anchors.add_crl_file(path).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
    }

    #[test]
    fn garbage_is_malformed_and_never_panics() {
        let anchors = TrustAnchors::new();
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x82, 0xFF, 0xFF],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            b"-----BEGIN CERTIFICATE-----",
        ] {
            assert_eq!(anchors.check(input, 0), ChainVerdict::Malformed);
            assert_eq!(CertificateSummary::of(input), None);
        }
    }

    #[test]
    fn verdict_codes_are_distinct() {
        let all = [
            ChainVerdict::Valid,
            ChainVerdict::ExpiringSoon { days_left: 3 },
            ChainVerdict::Expired,
            ChainVerdict::NotYetValid,
            ChainVerdict::Untrusted,
            ChainVerdict::Revoked,
            ChainVerdict::UnsupportedAlgorithm,
            ChainVerdict::WrongKeyUsage,
            ChainVerdict::Malformed,
        ];
        let mut codes: Vec<_> = all.iter().map(|v| v.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(ChainVerdict::ExpiringSoon { days_left: 3 }.is_acceptable());
        assert!(!ChainVerdict::Revoked.is_acceptable());
    }

    #[test]
    fn unreadable_and_unparsable_files_are_typed_errors() {
        let mut anchors = TrustAnchors::new();
        assert!(matches!(
            anchors.add_file(Path::new("/nonexistent/ca.pem")),
            Err(TrustError::Io { .. })
        ));
        let dir = std::env::temp_dir().join(format!("card-io-anchor-{}", std::process::id()));
        std::fs::write(&dir, b"not a certificate").unwrap();
        assert!(matches!(
            anchors.add_file(&dir),
            Err(TrustError::NotParsable { .. })
        ));
        std::fs::remove_file(&dir).unwrap();
        assert!(anchors.is_empty());
    }
}
