//! X.509 checks of the JPKI user-authentication certificate: the chain to configured trust
//! anchors (the J-LIS user-authentication CA generations; tests use their own CA), validity
//! against a given clock, signature algorithm, key usage and optional CRLs.
//!
//! The chain is one link deep, as on the card: the end-entity certificate is signed directly by
//! a trust anchor.

use std::path::Path;

use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA,
};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

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
    /// The CRL was not issued by any trust anchor, or its signature does not verify.
    #[error("the CRL in {path} is not signed by a configured trust anchor")]
    CrlNotTrusted {
        /// The file.
        path: String,
    },
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

/// Trust anchors and the CRLs they signed.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
}

impl TrustAnchors {
    /// No anchors: every certificate is [`ChainVerdict::Untrusted`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one DER certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), TrustError> {
        X509Certificate::from_der(der).map_err(|_| TrustError::NotParsable {
            path: "<DER>".into(),
            kind: "certificate",
        })?;
        self.anchors.push(der.to_vec());
        Ok(())
    }

    /// Adds the certificates of a DER file or a PEM file (one or more `CERTIFICATE` blocks).
    pub fn add_file(&mut self, path: &Path) -> Result<(), TrustError> {
        for der in objects(path, "CERTIFICATE", "certificate")? {
            if X509Certificate::from_der(&der).is_err() {
                return Err(not_parsable(path, "certificate"));
            }
            self.anchors.push(der);
        }
        Ok(())
    }

    /// Adds a CRL (DER or PEM `X509 CRL`); its signature must verify with one of the anchors
    /// added before.
    pub fn add_crl_file(&mut self, path: &Path) -> Result<(), TrustError> {
        for der in objects(path, "X509 CRL", "CRL")? {
            let crl = CertificateRevocationList::from_der(&der)
                .map_err(|_| not_parsable(path, "CRL"))?
                .1;
            let signed = self.parsed_anchors().any(|anchor| {
                anchor.subject() == crl.issuer()
                    && crl.verify_signature(anchor.public_key()).is_ok()
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

    fn parsed_anchors(&self) -> impl Iterator<Item = X509Certificate<'_>> {
        self.anchors
            .iter()
            .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
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
        let Some(anchor) = self.parsed_anchors().find(|anchor| {
            anchor.subject() == cert.issuer()
                && cert.verify_signature(Some(anchor.public_key())).is_ok()
        }) else {
            return ChainVerdict::Untrusted;
        };
        let not_after = cert
            .validity()
            .not_after
            .timestamp()
            .min(anchor.validity().not_after.timestamp());
        let not_before = cert
            .validity()
            .not_before
            .timestamp()
            .max(anchor.validity().not_before.timestamp());
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
        if self.is_revoked(&cert) {
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

/// The DER objects of a file: the whole file if it parses as DER, else its PEM blocks labelled
/// `label`.
fn objects(path: &Path, label: &str, kind: &'static str) -> Result<Vec<Vec<u8>>, TrustError> {
    let bytes = std::fs::read(path).map_err(|source| TrustError::Io {
        path: path.display().to_string(),
        source,
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
