//! What the audit log records. No personal data beyond the certificate serial: no name, no
//! My Number, no image, no PIN.

use crate::handoff::result::SessionId;
use serde::{Deserialize, Serialize};

/// One audited event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    KioskStarted {
        version: String,
    },
    /// The configuration in force (SHA-256 of its parsed form, defaults included); a changed
    /// hash between starts is a configuration change.
    ConfigLoaded {
        sha256: String,
    },
    SessionStarted {
        session_id: SessionId,
    },
    MethodChosen {
        session_id: SessionId,
        /// `face`, `pin` or `visual`.
        method: String,
    },
    SessionEnded {
        session_id: SessionId,
        outcome: Outcome,
        /// The user-authentication certificate serial (hex), when the card was read.
        certificate_serial: Option<String>,
    },
    /// An error code from the catalogue was shown.
    ErrorShown {
        session_id: Option<SessionId>,
        code: String,
    },
    /// A staff action (目視確認, settings, …) by staff id.
    StaffAction {
        session_id: Option<SessionId>,
        operator_id: String,
        action: String,
        reason_code: Option<String>,
    },
    /// The patient confirmed sending: the result goes to the outbox next (`result_queued`
    /// once it is there). Written first, so no result leaves without its record.
    ResultConfirmed {
        session_id: SessionId,
    },
    ResultQueued {
        session_id: SessionId,
    },
    /// A sign-in at the reception console was refused (`credential`: `staff` or `token`),
    /// from the reception PC at `address`.
    ConsoleSignInRefused {
        address: String,
        credential: String,
    },
    /// Bytes of a torn last line (a crash mid-write) cut off when the log was reopened.
    TornLineRemoved {
        bytes: u64,
    },
}

impl AuditEvent {
    /// [`AuditEvent::ConfigLoaded`] for `config` as parsed (so comments and layout do not
    /// count, every value and default does).
    pub fn config_loaded(config: &impl std::fmt::Debug) -> Self {
        Self::ConfigLoaded {
            sha256: super::sha256_hex(format!("{config:?}").as_bytes()),
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Verified,
    Failed,
    /// Card removed, timeout or cancel.
    Aborted,
}
