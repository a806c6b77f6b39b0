//! The audit log: append-only JSON lines, each carrying the SHA-256 of the line before it
//! (`prev`), fsynced per event, rotated into numbered files without breaking the chain.
//! `audit.head` records the last line's seq and hash so a cut-off end is detected too.

mod event;
mod log;
mod verify;

pub use event::{AuditEvent, Outcome};
pub use log::{AuditError, AuditLog};
pub use verify::{verify, Finding, Verified};

/// The file being written.
const CURRENT: &str = "audit.jsonl";
/// The last line's seq and hash, rewritten atomically after each append.
const HEAD: &str = "audit.head";
/// `prev` of the very first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `audit.head` holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

/// `audit-verify FILE...`: prints the outcome; an error names the file and line.
pub fn run_verify(paths: &[std::path::PathBuf]) -> anyhow::Result<()> {
    match verify(paths) {
        Ok(v) => {
            println!("{v}");
            Ok(())
        }
        Err(finding) => anyhow::bail!("audit chain broken: {finding}"),
    }
}
