//! Internal elementary files (IEFs): a secret (PIN, 照合番号) with its retry counter.

use std::fmt;

use zeroize::Zeroizing;

use crate::sw;
use card_io::apdu::StatusWord;

/// Highest retry count a `63Cx` status word can report.
pub const MAX_TRIES: u8 = 15;

/// A credential of the card with its retry counter (the secret never appears in `Debug`).
///
/// Semantics (spec §2.2): a wrong value answers `63Cx` with the tries left after it, so the try
/// that exhausts the counter answers `63C0`; any VERIFY after that answers `6984`. The right
/// value resets the counter to its maximum. An empty VERIFY queries without spending a try:
/// `63Cx`, `63C0` when blocked, and `9000` when this IEF was already verified in the current
/// DF session (the spec's "may answer 9000": the simulator always does).
///
/// An IEF without a secret models the PIN of a 顔認証マイナンバーカード, which is issued with
/// no PIN set. How a real card answers is UNCERTAIN; the simulator answers `6A88` (referenced
/// data not found) to both forms of VERIFY and never spends a try.
#[derive(Clone)]
pub struct Ief {
    secret: Option<Zeroizing<Vec<u8>>>,
    max: u8,
    left: u8,
}

impl fmt::Debug for Ief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ief")
            .field("set", &self.secret.is_some())
            .field("max", &self.max)
            .field("left", &self.left)
            .finish()
    }
}

impl Ief {
    /// A credential `secret` (ASCII bytes as sent in VERIFY) allowing `max` tries, `left` of
    /// them remaining (both capped at 15; `left` at `max`).
    pub fn new(secret: &str, max: u8, left: u8) -> Self {
        let max = max.min(MAX_TRIES);
        Self {
            secret: Some(Zeroizing::new(secret.as_bytes().to_vec())),
            max,
            left: left.min(max),
        }
    }

    /// A credential slot with no value set (顔認証マイナンバーカード PIN).
    pub fn unset() -> Self {
        Self {
            secret: None,
            max: 0,
            left: 0,
        }
    }

    /// Tries left (`None` when no value is set).
    pub fn tries_left(&self) -> Option<u8> {
        self.secret.as_ref().map(|_| self.left)
    }

    /// Answer to the empty VERIFY.
    pub(crate) fn query(&self, verified: bool) -> StatusWord {
        match self.secret {
            None => StatusWord::REFERENCED_DATA_NOT_FOUND,
            Some(_) if self.left == 0 => sw::retries(0),
            Some(_) if verified => StatusWord::OK,
            Some(_) => sw::retries(self.left),
        }
    }

    /// Checks `attempt`: `9000` (and the counter reset) when it matches.
    pub(crate) fn verify(&mut self, attempt: &[u8]) -> StatusWord {
        let Some(secret) = &self.secret else {
            return StatusWord::REFERENCED_DATA_NOT_FOUND;
        };
        if self.left == 0 {
            StatusWord::KEY_LOCKED
        } else if secret.as_slice() == attempt {
            self.left = self.max;
            StatusWord::OK
        } else {
            self.left -= 1;
            sw::retries(self.left)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_values_count_down_to_63c0_then_6984() {
        let mut ief = Ief::new("1234", 3, 3);
        assert_eq!(ief.query(false), sw::retries(3));
        assert_eq!(ief.verify(b"0000"), sw::retries(2));
        assert_eq!(ief.query(false), sw::retries(2), "query does not spend");
        assert_eq!(ief.verify(b"0000"), sw::retries(1));
        assert_eq!(ief.verify(b"0000"), sw::retries(0), "exhausting try");
        assert_eq!(
            ief.verify(b"1234"),
            StatusWord::KEY_LOCKED,
            "even the right PIN"
        );
        assert_eq!(ief.verify(b"0000"), StatusWord::KEY_LOCKED);
        assert_eq!(ief.query(false), sw::retries(0));
        assert_eq!(ief.tries_left(), Some(0));
    }

    #[test]
    fn the_right_value_resets_the_counter() {
        let mut ief = Ief::new("1234", 3, 1);
        assert_eq!(ief.verify(b"1234"), StatusWord::OK);
        assert_eq!(ief.tries_left(), Some(3));
        assert_eq!(ief.query(true), StatusWord::OK, "already verified");
    }

    #[test]
    fn unset_credential_answers_6a88_and_spends_nothing() {
        let mut ief = Ief::unset();
        assert_eq!(ief.query(false), StatusWord::REFERENCED_DATA_NOT_FOUND);
        assert_eq!(ief.verify(b"1234"), StatusWord::REFERENCED_DATA_NOT_FOUND);
        assert_eq!(ief.tries_left(), None);
    }

    #[test]
    fn counters_are_capped_and_debug_hides_the_secret() {
        let ief = Ief::new("987654", 20, 30);
        assert_eq!(ief.tries_left(), Some(15));
        assert!(!format!("{ief:?}").contains("987654"));
    }
}
