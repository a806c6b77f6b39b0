//! The facility's choices that shape a session (`[session]` in the config file).

use serde::Deserialize;
use std::time::Duration;

use super::types::{Challenge, ConsentItem};
use crate::setting::Invalid;

/// How sessions run at this facility. Every key is optional.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// A user camera and a card-front camera are fitted: face authentication is offered.
    pub face_enabled: bool,
    /// 照合番号B is presented only while the card has at least this many tries left (3 or
    /// more: the last two tries are never spent automatically).
    pub pin_b_min_retries: u8,
    /// Seconds given to re-place the card on the card-front camera before reading it again.
    pub card_front_reread_seconds: u64,
    /// Capture attempts before falling back to the PIN.
    pub face_attempts: u8,
    /// Seconds per capture attempt (the countdown on the face screen).
    pub face_seconds: u32,
    /// Seconds without a touch before a waiting screen gives up.
    pub idle_seconds: u64,
    /// Seconds the result stays before "カードをお取りください".
    pub result_seconds: u64,
    /// Warn on the method screen when the certificate expires within this many days.
    pub expiry_warning_days: i64,
    /// Consent items shown, in order (a facility setting).
    #[serde(deserialize_with = "consent_items")]
    pub consent_items: Vec<ConsentItem>,
    /// Shuffle the digit keys of the PIN pad each time it is shown.
    pub shuffle_pin_pad: bool,
    /// Assisted mode from the start of every session (else a key or a touch switches it on).
    pub assisted: bool,
    /// Assisted mode multiplies the idle and result timeouts by this.
    pub assisted_timeout_factor: u32,
    /// Assisted mode says the prompt again after this many seconds without a key or touch.
    pub assisted_repeat_seconds: u64,
    /// Liveness challenges drawn from at random: set from `[face.challenge] offered`
    /// ([`crate::config::Config::session_settings`]), not from `[session]`.
    #[serde(skip)]
    pub challenges: Vec<Challenge>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            face_enabled: true,
            pin_b_min_retries: 3,
            card_front_reread_seconds: 3,
            face_attempts: 3,
            face_seconds: 20,
            idle_seconds: 60,
            result_seconds: 8,
            expiry_warning_days: 30,
            consent_items: ConsentItem::ALL.to_vec(),
            shuffle_pin_pad: false,
            assisted: false,
            assisted_timeout_factor: 2,
            assisted_repeat_seconds: 15,
            challenges: vec![Challenge::TurnLeft, Challenge::TurnRight],
        }
    }
}

impl Settings {
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_seconds)
    }

    pub fn result_hold(&self) -> Duration {
        Duration::from_secs(self.result_seconds)
    }

    /// Assisted mode's silence before the prompt is said again.
    pub fn repeat(&self) -> Duration {
        Duration::from_secs(self.assisted_repeat_seconds)
    }

    pub fn card_front_reread(&self) -> Duration {
        Duration::from_secs(self.card_front_reread_seconds)
    }

    /// When a 照合番号B read may be presented to the card (the one policy, in card-front).
    pub fn submit_policy(&self) -> card_front::SubmitPolicy {
        card_front::SubmitPolicy {
            reserved_tries: self.pin_b_min_retries.saturating_sub(1),
            ..card_front::SubmitPolicy::default()
        }
    }

    /// Every count and duration within its range: a timer must fit an `Instant`, and staff must
    /// have time to log in before a waiting screen gives up.
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        Invalid::check_range("session.face_attempts", self.face_attempts, 1..=10)?;
        Invalid::check_range("session.face_seconds", self.face_seconds, 5..=120)?;
        if !(3..=15).contains(&self.pin_b_min_retries) {
            let expected = "3 to 15 (the last two tries are never spent automatically)";
            let found = self.pin_b_min_retries;
            return Err(Invalid::new("session.pin_b_min_retries", expected, found));
        }
        let seconds = self.card_front_reread_seconds;
        Invalid::check_range("session.card_front_reread_seconds", seconds, 1..=60)?;
        Invalid::check_range("session.idle_seconds", self.idle_seconds, 15..=3600)?;
        Invalid::check_range("session.result_seconds", self.result_seconds, 1..=600)?;
        let factor = self.assisted_timeout_factor;
        Invalid::check_range("session.assisted_timeout_factor", factor, 1..=10)?;
        let repeat = self.assisted_repeat_seconds;
        Invalid::check_range("session.assisted_repeat_seconds", repeat, 5..=120)?;
        let days = self.expiry_warning_days;
        Invalid::check_range("session.expiry_warning_days", days, 0..=365)
    }
}

fn consent_items<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ConsentItem>, D::Error> {
    let codes = Vec::<String>::deserialize(d)?;
    codes
        .iter()
        .map(|code| {
            ConsentItem::ALL
                .into_iter()
                .find(|item| item.code() == code)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown consent item `{code}`, expected drug, checkup, clinical or surgery"
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    use super::*;

    #[test]
    fn session_section_sets_facility_choices() {
        let c = Config::parse(
            "[session]\nface_enabled = false\nconsent_items = [\"drug\", \"surgery\"]\nidle_seconds = 30\nshuffle_pin_pad = true\n",
        )
        .unwrap();
        assert!(!c.session.face_enabled && c.session.shuffle_pin_pad);
        assert_eq!(
            c.session.consent_items,
            vec![ConsentItem::Drug, ConsentItem::Surgery]
        );
        assert_eq!(c.session.idle(), Duration::from_secs(30));
        assert_eq!(c.session.face_attempts, Settings::default().face_attempts);
    }

    #[test]
    fn unknown_consent_item_is_named() {
        let e = Config::parse("[session]\nconsent_items = [\"xray\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown consent item `xray`"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }
}
