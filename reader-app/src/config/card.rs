//! `[reader]` and `[card]`: which PC/SC reader the kiosk uses, and the CA certificates and CRLs
//! the card's user-authentication certificate is checked against (the one loader of them).

use card_io::certificate::{CertificateSummary, TrustAnchors, TrustError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::capped_file::{self, Refusal};

/// The largest certificate or CRL file read (a J-LIS CRL is a few MiB at most).
const MAX_TRUST_FILE_BYTES: u64 = 16 << 20;

/// Which PC/SC reader the kiosk uses.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderConfig {
    /// Case-insensitive substring of the reader name; empty means every reader.
    pub name: String,
}

impl ReaderConfig {
    /// The readers the kiosk uses.
    pub fn filter(&self) -> card_io::monitor::ReaderFilter {
        use card_io::monitor::ReaderFilter;
        if self.name.is_empty() {
            ReaderFilter::Any
        } else {
            ReaderFilter::Contains(self.name.clone())
        }
    }
}

/// How the user-authentication certificate is checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CardConfig {
    /// The J-LIS user-authentication CA certificates (PEM or DER files); none: every card is
    /// refused as untrusted.
    pub trust_anchors: Vec<PathBuf>,
    /// Intermediate CA certificates between an anchor and the card's certificate (J-LIS cards
    /// need none).
    pub intermediates: Vec<PathBuf>,
    /// CRLs of those CAs (PEM or DER files), each signed by one of them.
    pub crls: Vec<PathBuf>,
}

/// A trust file that could not be loaded, with the key that names it.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct TrustFileError {
    /// `card.trust_anchors`, `card.intermediates` or `card.crls`.
    pub key: &'static str,
    pub reason: TrustFileReason,
}

/// Why a trust file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustFileReason {
    #[error("{path}: {refusal}")]
    Refused { path: String, refusal: Refusal },
    #[error(transparent)]
    Load(#[from] TrustError),
}

impl CardConfig {
    /// Loads the anchors and intermediates, then the CRLs; the error names the key and the file.
    /// Each file must be a regular file of at most [`MAX_TRUST_FILE_BYTES`].
    pub fn trust_anchors(&self) -> Result<TrustAnchors, TrustFileError> {
        let mut anchors = TrustAnchors::new();
        let lists: [(&'static str, &[PathBuf], AddFile); 3] = [
            (
                "card.trust_anchors",
                &self.trust_anchors,
                TrustAnchors::add_file,
            ),
            (
                "card.intermediates",
                &self.intermediates,
                TrustAnchors::add_intermediate_file,
            ),
            ("card.crls", &self.crls, TrustAnchors::add_crl_file),
        ];
        for (key, paths, add) in lists {
            for path in paths {
                load(&mut anchors, path, add).map_err(|reason| TrustFileError { key, reason })?;
            }
        }
        Ok(anchors)
    }
}

/// One of `TrustAnchors`' file loaders.
type AddFile = fn(&mut TrustAnchors, &Path) -> Result<(), TrustError>;

fn load(anchors: &mut TrustAnchors, path: &Path, add: AddFile) -> Result<(), TrustFileReason> {
    capped_file::check(path, MAX_TRUST_FILE_BYTES).map_err(|refusal| TrustFileReason::Refused {
        path: path.display().to_string(),
        refusal,
    })?;
    Ok(add(anchors, path)?)
}

/// The CA certificate of `anchors` that expires first, and in how many days from `now`
/// (seconds since the Unix epoch; negative: expired).
pub fn first_expiry(anchors: &TrustAnchors, now: i64) -> Option<(CertificateSummary, i64)> {
    anchors
        .certificates()
        .filter_map(CertificateSummary::of)
        .min_by_key(|summary| summary.not_after)
        .map(|summary| {
            let days = (summary.not_after - now).div_euclid(86_400);
            (summary, days)
        })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn card_trust_anchors_load_and_name_a_bad_file() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-anchors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let anchor = dir.join("ca.der");
        std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
        let text = format!(
            "[card]\ntrust_anchors = [{:?}]\n",
            anchor.display().to_string()
        );
        let c = Config::parse(&text).unwrap();
        assert!(!c.card.trust_anchors().unwrap().is_empty());
        assert!(Config::default().card.trust_anchors().unwrap().is_empty());
        let (summary, days) = super::first_expiry(&c.card.trust_anchors().unwrap(), 0).unwrap();
        assert!(days > 0 && summary.not_after > 0, "{days}");
        let missing = dir.join("missing.pem");
        let text = format!("[card]\ncrls = [{:?}]\n", missing.display().to_string());
        let e = Config::parse(&text)
            .unwrap()
            .card
            .trust_anchors()
            .unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
        assert_eq!(e.key, "card.crls");
        let not_a_ca = dir.join("not-a-ca.der");
        std::fs::write(&not_a_ca, card_sim::pki::ChainFixture::NotACa.der()).unwrap();
        for key in ["trust_anchors", "intermediates"] {
            let text = format!("[card]\n{key} = [{:?}]\n", not_a_ca.display().to_string());
            let e = Config::parse(&text)
                .unwrap()
                .card
                .trust_anchors()
                .unwrap_err();
            assert!(e.to_string().contains("not-a-ca.der"), "{e}");
            assert!(e.to_string().contains("not a CA certificate"), "{e}");
        }
        let text = "[card]\ntrust_anchors = [\"/dev/zero\"]\n";
        let e = Config::parse(text)
            .unwrap()
            .card
            .trust_anchors()
            .unwrap_err();
        assert!(
            e.to_string().contains("/dev/zero: not a regular file"),
            "{e}"
        );
        let e = Config::parse("[card]\nanchors = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("anchors"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
