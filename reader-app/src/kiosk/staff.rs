//! Staff credentials: PINs stored as PBKDF2-HMAC-SHA256 hashes in the config file.

use serde::Deserialize;
use std::num::NonZeroU32;

use crate::session::{Operator, PinEntry};

/// `[staff]`: who may unlock staff mode.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    pub members: Vec<StaffMember>,
}

/// One staff member.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    /// Operator id written to the audit log and the hand-off.
    pub id: String,
    /// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
    pub pin_hash: String,
}

/// Why a stored hash cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("staff {id}: pin_hash must be pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>")]
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
    /// Every hash is well formed.
    pub fn validate(&self) -> Result<(), BadHash> {
        match self.members.iter().find(|m| parse(&m.pin_hash).is_none()) {
            Some(m) => Err(BadHash { id: m.id.clone() }),
            None => Ok(()),
        }
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
            members: vec![StaffMember {
                id: "nurse-7".into(),
                pin_hash: hash_pin("24680", b"salt-salt", NonZeroU32::new(1000).unwrap()),
            }],
        }
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
        .unwrap_err();
        assert!(
            e.starts_with("line 1, key staff.members: expected pin_hash = pbkdf2-sha256$"),
            "{e}"
        );
        assert!(e.ends_with("found member \"nurse-7\""), "{e}");
    }

    #[test]
    fn malformed_hash_is_rejected() {
        let c = StaffConfig {
            members: vec![StaffMember {
                id: "x".into(),
                pin_hash: "sha1$1$00$00".into(),
            }],
        };
        assert_eq!(c.validate(), Err(BadHash { id: "x".into() }));
        assert_eq!(c.check(&PinEntry::new("1234")), None);
    }
}
