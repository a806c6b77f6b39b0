//! `[audit]`: where the hash-chained audit log lives and when its file is rotated.

use serde::Deserialize;
use std::path::PathBuf;

use crate::setting::{absolute, Invalid};

/// The hash-chained audit log.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Folder of `audit.jsonl`, its rotated predecessors and `audit.head`.
    pub dir: PathBuf,
    /// The current file is rotated once it reaches this size, in bytes.
    pub max_file_bytes: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            dir: "/var/lib/mynakiosk/audit".into(),
            max_file_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Smallest audit file before rotation: a few events.
const MIN_AUDIT_FILE_BYTES: u64 = 4096;

/// Largest audit file before rotation.
pub(super) const MAX_AUDIT_FILE_BYTES: u64 = 1 << 30;

impl AuditConfig {
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        absolute("audit.dir", &self.dir)?;
        let found = self.max_file_bytes;
        if found < MIN_AUDIT_FILE_BYTES {
            let expected = format!("at least {MIN_AUDIT_FILE_BYTES}");
            return Err(Invalid::new("audit.max_file_bytes", expected, found));
        }
        Invalid::check_range(
            "audit.max_file_bytes",
            found,
            MIN_AUDIT_FILE_BYTES..=MAX_AUDIT_FILE_BYTES,
        )
    }
}
