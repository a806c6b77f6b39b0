//! The `staff_call` event: a patient pressed 係員を呼ぶ. It names the kiosk, the screen, the
//! error shown (or else the one this card's session met earlier) and the tries left, never the patient: no name, no PIN, no 照合番号B, no card
//! data. Queued in the outbox beside the results and documented in `docs/handoff.md`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Outgoing;

/// The `event` value that tells a staff call from a result.
pub const EVENT: &str = "staff_call";

/// Version of the staff-call schema.
pub const SCHEMA_VERSION: u32 = 1;

/// One press of 係員を呼ぶ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffCall {
    /// Always [`EVENT`].
    pub event: String,
    pub schema_version: u32,
    /// `staff-call-<uuid>`: one per press; the receiver keeps the first copy.
    pub idempotency_key: String,
    pub kiosk_id: String,
    pub called_at: DateTime<Utc>,
    /// The screen the patient was on, e.g. `PinEntry`.
    pub screen: String,
    /// The error code on that screen (`E006` …), if one was shown.
    pub error_code: Option<String>,
    /// The adapter's own words on that error (English), e.g. "card exchange failed: the PC/SC
    /// service (pcscd) is not running"; never patient data (see `errors::Failure`).
    #[serde(default)]
    pub cause: Option<String>,
    /// When the screen shows no error: the last error this card's session met and went on
    /// from (a face attempt not matched, a wrong PIN), e.g. back at the method choice after
    /// the face did not match. Never an earlier patient's.
    #[serde(default)]
    pub earlier_error_code: Option<String>,
    /// PIN tries the card has left, when a card with a PIN was read.
    pub pin_retries_left: Option<u8>,
    /// Face capture attempts left after the current one, on the face screens.
    pub face_attempts_left: Option<u8>,
}

impl StaffCall {
    /// A call from `kiosk_id` now.
    pub fn new(kiosk_id: &str, screen: &str) -> Self {
        Self {
            event: EVENT.into(),
            schema_version: SCHEMA_VERSION,
            idempotency_key: format!("staff-call-{}", Uuid::new_v4()),
            kiosk_id: kiosk_id.into(),
            called_at: super::result::now(),
            screen: screen.into(),
            error_code: None,
            cause: None,
            earlier_error_code: None,
            pin_retries_left: None,
            face_attempts_left: None,
        }
    }
}

impl Outgoing for StaffCall {
    fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    fn to_json(&self) -> Vec<u8> {
        // Serialising a plain struct into memory cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_names_the_kiosk_and_screen_and_passes_the_privacy_check() {
        let mut call = StaffCall::new("kiosk-1", "PinEntry");
        call.error_code = Some("E006".into());
        call.pin_retries_left = Some(2);
        let value: serde_json::Value = serde_json::from_slice(&call.to_json()).unwrap();
        assert_eq!(value["event"], "staff_call");
        assert_eq!(value["screen"], "PinEntry");
        assert!(value["idempotency_key"]
            .as_str()
            .unwrap()
            .starts_with("staff-call-"));
        crate::handoff::privacy::check(&value).unwrap();
        let back: StaffCall = serde_json::from_value(value).unwrap();
        assert_eq!(back, call);
    }
}
