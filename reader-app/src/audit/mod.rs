//! The audit log: append-only JSON lines, each carrying the keyed hash (HMAC-SHA256, key
//! outside the log folder) of the line before it (`prev`), fsynced per event, rotated into
//! numbered files without breaking the chain. `audit.head` records the last line's seq and
//! keyed hash, itself keyed, so a cut-off end is detected too. See `docs/audit.md`.

pub mod config;
mod event;
mod key;
mod log;
mod verify;

pub use event::{AuditEvent, Outcome};
pub use key::{default_key_path, AuditKey, KeyError};
pub use log::{AuditError, AuditLog};
pub use verify::{verify, verify_appended, verify_with_key, Checkpoint, Finding, Verified};

/// The file being written.
const CURRENT: &str = "audit.jsonl";
/// The last line's seq and hash, rewritten atomically after each append.
const HEAD: &str = "audit.head";
/// Longest line read: audit lines are a few hundred bytes.
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// `prev` of the very first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// What `audit.head` holds: the last line's seq and keyed hash, and a tag over both so the
/// head cannot be set back to an earlier line without the key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Head {
    seq: u64,
    hash: String,
    mac: String,
}

impl Head {
    fn new(seq: u64, hash: String, key: &AuditKey) -> Self {
        let mac = key.tag(Self::signed(seq, &hash).as_bytes());
        Self { seq, hash, mac }
    }

    fn genesis(key: &AuditKey) -> Self {
        Self::new(0, GENESIS.into(), key)
    }

    /// Whether `mac` was made with `key`.
    fn is_keyed_by(&self, key: &AuditKey) -> bool {
        key.tag(Self::signed(self.seq, &self.hash).as_bytes()) == self.mac
    }

    fn signed(seq: u64, hash: &str) -> String {
        format!("{HEAD} {seq} {hash}")
    }
}

/// `audit-verify FILE...`: prints the outcome; an error names the file and line. `key`:
/// the audit key file (default: `audit.key` beside the first folder or file's folder).
pub fn run_verify(
    paths: &[std::path::PathBuf],
    key: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let result = match key {
        Some(key) => verify_with_key(paths, key),
        None => verify(paths),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            Ok(())
        }
        Err(finding) => anyhow::bail!("audit chain broken: {finding}"),
    }
}
