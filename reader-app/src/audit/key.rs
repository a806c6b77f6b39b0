//! The audit key: an HMAC-SHA256 key in a file outside the log folder, readable by the
//! service user only. Every chain link is keyed with it, so a line rewritten (and every later
//! hash recomputed) without the key no longer verifies.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Name of the key file in the state folder (the audit folder's parent) by default.
const DEFAULT_NAME: &str = "audit.key";
/// Key length in bytes (the HMAC-SHA256 block is longer; 32 random bytes are its strength).
const KEY_BYTES: usize = 32;
/// A key file is 64 hex digits and a newline; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 256;

/// The key that tags every line of one kiosk's audit chain.
pub struct AuditKey {
    key: ring::hmac::Key,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("audit key {path}: {problem}")]
pub struct KeyError {
    pub path: PathBuf,
    pub problem: String,
}

/// Where the key of the log in `audit_dir` lives unless configured: beside the folder, in the
/// state folder (`/var/lib/mynakiosk/audit` → `/var/lib/mynakiosk/audit.key`).
pub fn default_key_path(audit_dir: &Path) -> PathBuf {
    audit_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(DEFAULT_NAME)
}

impl AuditKey {
    /// Reads the key at `path`: a regular file of 64 hex digits, mode 0600 or stricter.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let problem = |problem: String| KeyError {
            path: path.to_owned(),
            problem,
        };
        let meta = fs::metadata(path).map_err(|e| problem(format!("cannot read: {e}")))?;
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
            return Err(problem(
                "not a key file (a regular file of 64 hex digits)".into(),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(problem(format!(
                "mode {:o}: readable by others; `chmod 600` it (owner: the service user)",
                meta.mode() & 0o777
            )));
        }
        let text = crate::capped_file::read_text(path, MAX_FILE_BYTES)
            .map_err(|e| problem(format!("cannot read: {e}")))?;
        let text = zeroize::Zeroizing::new(text);
        let bytes = zeroize::Zeroizing::new(
            hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == KEY_BYTES)
                .ok_or_else(|| {
                    problem("not a key file (a regular file of 64 hex digits)".into())
                })?,
        );
        Ok(Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes),
            path: path.to_owned(),
        })
    }

    /// Creates a new random key at `path` (mode 0600); refuses to replace an existing one.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let problem = |e: io::Error| KeyError {
            path: path.to_owned(),
            problem: format!("cannot create: {e}"),
        };
        let mut bytes = zeroize::Zeroizing::new([0u8; KEY_BYTES]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut())
            .map_err(|_| problem(io::Error::other("no system randomness")))?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(problem)?;
        let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(bytes.as_ref())));
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(problem)?;
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::handoff::sync_dir(dir).map_err(problem)?;
        }
        Ok(Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes.as_ref()),
            path: path.to_owned(),
        })
    }

    /// The file the key came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lower-case hex HMAC-SHA256 of `bytes`.
    pub(super) fn tag(&self, bytes: &[u8]) -> String {
        hex::encode(ring::hmac::sign(&self.key, bytes))
    }
}
