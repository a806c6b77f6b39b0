//! `[staff]`: who may unlock staff mode. PINs are stored as PBKDF2-HMAC-SHA256 hashes in the
//! config file; staff cards are known by their certificate's serial number (read by
//! `kiosk::staff_card`).

use serde::Deserialize;
use std::num::NonZeroU32;

use crate::session::{Operator, PinEntry};

/// `[staff]`: who may unlock staff mode.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    /// Substring of the name of the reader where staff present their cards (a second reader:
    /// the patient's card stays in the patient reader). Empty: no staff cards.
    pub card_reader: String,
    pub members: Vec<StaffMember>,
}

/// One staff member: a PIN, a card, or both.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    /// Operator id written to the audit log and the hand-off.
    pub id: String,
    /// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`; empty: no staff PIN.
    #[serde(default)]
    pub pin_hash: String,
    /// Serial number (hex, colons and case ignored) of the user-authentication certificate on
    /// the member's staff card, as `mynakiosk card-info` prints it.
    #[serde(default)]
    pub card_serial: Option<String>,
}

/// A member whose credentials cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("staff {id}: pin_hash must be pbkdf2-sha256$<iterations>$<salt hex>$<hash hex> (or give card_serial only)")]
pub struct BadHash {
    pub id: String,
}

struct Parsed {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse(text: &str) -> Option<Parsed> {
    let mut parts = text.split('$');
    if parts.next()? != "pbkdf2-sha256" {
        return None;
    }
    let iterations = NonZeroU32::new(parts.next()?.parse().ok()?)?;
    let salt = hex::decode(parts.next()?).ok()?;
    let hash = hex::decode(parts.next()?).ok()?;
    (parts.next().is_none() && !hash.is_empty()).then_some(Parsed {
        iterations,
        salt,
        hash,
    })
}

impl StaffConfig {
    /// Every member has a credential and every hash is well formed.
    pub fn validate(&self) -> Result<(), BadHash> {
        let unusable = |m: &&StaffMember| {
            if m.pin_hash.is_empty() {
                m.card_serial
                    .as_deref()
                    .is_none_or(|s| normalized(s).is_empty())
            } else {
                parse(&m.pin_hash).is_none()
            }
        };
        match self.members.iter().find(unusable) {
            Some(m) => Err(BadHash { id: m.id.clone() }),
            None => Ok(()),
        }
    }

    /// Staff cards are configured: a reader and at least one card.
    pub fn cards_enabled(&self) -> bool {
        !self.card_reader.is_empty() && self.members.iter().any(|m| m.card_serial.is_some())
    }

    /// The staff member whose card has the certificate `serial` (hex).
    pub fn card_operator(&self, serial: &str) -> Option<Operator> {
        let serial = normalized(serial);
        self.members.iter().find_map(|m| {
            let own = normalized(m.card_serial.as_deref()?);
            (!own.is_empty() && own == serial).then(|| Operator(m.id.clone()))
        })
    }

    /// The staff member whose PIN this is, compared in constant time.
    pub fn check(&self, pin: &PinEntry) -> Option<Operator> {
        self.members.iter().find_map(|m| {
            let p = parse(&m.pin_hash)?;
            ring::pbkdf2::verify(
                ring::pbkdf2::PBKDF2_HMAC_SHA256,
                p.iterations,
                &p.salt,
                pin.expose().as_bytes(),
                &p.hash,
            )
            .ok()
            .map(|()| Operator(m.id.clone()))
        })
    }
}

/// A certificate serial in lower-case hex without separators.
fn normalized(serial: &str) -> String {
    serial
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Hashes `pin` for the config file (used by tests and by integrators through the docs).
pub fn hash_pin(pin: &str, salt: &[u8], iterations: NonZeroU32) -> String {
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        pin.as_bytes(),
        &mut out,
    );
    format!(
        "pbkdf2-sha256${iterations}${}${}",
        hex::encode(salt),
        hex::encode(out)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StaffConfig {
        StaffConfig {
            card_reader: String::new(),
            members: vec![StaffMember {
                id: "nurse-7".into(),
                pin_hash: hash_pin("24680", b"salt-salt", NonZeroU32::new(1000).unwrap()),
                card_serial: None,
            }],
        }
    }

    #[test]
    fn a_staff_card_is_known_by_its_certificate_serial() {
        let c = crate::config::Config::parse(
            "[staff]\ncard_reader = \"Staff\"\n[[staff.members]]\nid = \"clerk-2\"\ncard_serial = \"0A:1B:2c\"\n",
        )
        .unwrap()
        .staff;
        assert!(c.validate().is_ok() && c.cards_enabled());
        assert_eq!(c.card_operator("0a1b2c"), Some(Operator("clerk-2".into())));
        assert_eq!(
            c.card_operator("0A:1B:2C"),
            Some(Operator("clerk-2".into()))
        );
        assert_eq!(c.card_operator("0a1b2d"), None);
        // A card-only member has no PIN.
        assert_eq!(c.check(&PinEntry::new("")), None);
        assert!(!config().cards_enabled());
    }

    #[test]
    fn a_member_without_any_credential_is_refused() {
        let e = crate::config::Config::parse("[[staff.members]]\nid = \"ghost\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("found member \"ghost\""), "{e}");
    }

    #[test]
    fn right_pin_names_the_operator_wrong_pin_does_not() {
        let c = config();
        assert!(c.validate().is_ok());
        assert_eq!(
            c.check(&PinEntry::new("24680")),
            Some(Operator("nurse-7".into()))
        );
        assert_eq!(c.check(&PinEntry::new("24681")), None);
        assert_eq!(c.check(&PinEntry::new("")), None);
    }

    #[test]
    fn config_file_with_a_bad_hash_is_refused() {
        let e = crate::config::Config::parse(
            "[[staff.members]]\nid = \"nurse-7\"\npin_hash = \"plain-1234\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("line 1, key staff.members: expected pin_hash = pbkdf2-sha256$"),
            "{e}"
        );
        assert!(e.ends_with("found member \"nurse-7\""), "{e}");
    }

    #[test]
    fn malformed_hash_is_rejected() {
        let c = StaffConfig {
            card_reader: String::new(),
            members: vec![StaffMember {
                id: "x".into(),
                pin_hash: "sha1$1$00$00".into(),
                card_serial: None,
            }],
        };
        assert_eq!(c.validate(), Err(BadHash { id: "x".into() }));
        assert_eq!(c.check(&PinEntry::new("1234")), None);
    }
}
