//! PINs, 照合番号B, retry counters and VERIFY.
//!
//! Secrets are zeroized on drop and their `Debug` shows no digit. The retry counter is read with
//! an empty VERIFY, which never spends a try.

use std::fmt;

use zeroize::Zeroizing;

use super::CardError;
use crate::apdu::{Command, StatusWord};
use crate::transport::CardTransport;

/// Why a PIN or 照合番号B was not accepted before reaching the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinFormatError {
    /// Not the number of digits the key takes.
    #[error("expected {expected} digits, got {got} characters")]
    WrongLength {
        /// Digits the key takes.
        expected: usize,
        /// Characters given.
        got: usize,
    },
    /// A character other than `0`–`9`.
    #[error("only the digits 0-9 are allowed")]
    NotDigits,
}

/// ASCII digits of a fixed count, zeroized on drop.
fn digits<const N: usize>(text: &str) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
    let bytes = Zeroizing::new(text.as_bytes().to_vec());
    if bytes.len() != N {
        return Err(PinFormatError::WrongLength {
            expected: N,
            got: text.chars().count(),
        });
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(PinFormatError::NotDigits);
    }
    Ok(bytes)
}

/// The 4-digit 利用者証明用 PIN of the JPKI AP.
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// Digits of the PIN.
    pub const LEN: usize = 4;

    /// The PIN `text` (exactly 4 digits).
    pub fn new(text: &str) -> Result<Self, PinFormatError> {
        digits::<{ Self::LEN }>(text).map(Self)
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// 照合番号B: birth date `YYMMDD` + card expiry year `YYYY` + security code, 14 digits.
pub struct PinB(Zeroizing<Vec<u8>>);

impl PinB {
    /// Digits of 照合番号B.
    pub const LEN: usize = 14;

    /// 照合番号B `text` (exactly 14 digits).
    pub fn new(text: &str) -> Result<Self, PinFormatError> {
        digits::<{ Self::LEN }>(text).map(Self)
    }
}

impl fmt::Debug for PinB {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinB(**************)")
    }
}

/// What the card says about a key's remaining tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCounter {
    /// This many wrong entries are still allowed (`63Cx`, x > 0).
    Remaining(u8),
    /// The key is blocked (`63C0` or `6984`): only the municipal office can unblock it.
    Locked,
    /// Already verified in this card session (`9000`).
    AlreadyVerified,
    /// The card has no such key, e.g. the PIN of a 顔認証マイナンバーカード (`6A88`/`6A82`).
    NotSet,
}

impl RetryCounter {
    /// Tries left, when the card reports a number.
    pub fn remaining(self) -> Option<u8> {
        match self {
            Self::Remaining(n) => Some(n),
            Self::Locked => Some(0),
            Self::AlreadyVerified | Self::NotSet => None,
        }
    }
}

/// The card's answer to a VERIFY with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// Accepted: the files behind the key are open until another DF is selected.
    Verified,
    /// Rejected; this many tries are left (> 0).
    Wrong {
        /// Tries left.
        remaining: u8,
    },
    /// Rejected and the key is now (or was already) blocked.
    Locked,
}

/// VERIFY P2 naming a key by its short EF id.
fn sfi_p2(ief: u16) -> u8 {
    0x80 | (ief & 0x1F) as u8
}

/// Asks the card for the tries left on key `ief` of the current DF, spending none.
pub(crate) fn retries(
    t: &mut dyn CardTransport,
    ief: u16,
    step: &'static str,
) -> Result<RetryCounter, CardError> {
    let sw = t.transmit(&Command::verify_status(sfi_p2(ief)))?.sw();
    match (sw.retries_left(), sw) {
        (Some(0), _) | (None, StatusWord::KEY_LOCKED) => Ok(RetryCounter::Locked),
        (Some(n), _) => Ok(RetryCounter::Remaining(n)),
        (None, StatusWord::OK) => Ok(RetryCounter::AlreadyVerified),
        (None, StatusWord::REFERENCED_DATA_NOT_FOUND | StatusWord::FILE_NOT_FOUND) => {
            Ok(RetryCounter::NotSet)
        }
        (None, sw) => Err(CardError::Status { step, sw }),
    }
}

/// Presents `secret` to key `ief` of the current DF: exactly one VERIFY, never repeated.
pub(crate) fn verify(
    t: &mut dyn CardTransport,
    ief: u16,
    secret: &Zeroizing<Vec<u8>>,
    step: &'static str,
) -> Result<VerifyOutcome, CardError> {
    let sw = t.transmit(&Command::verify(sfi_p2(ief), secret)?)?.sw();
    match (sw.retries_left(), sw) {
        (None, StatusWord::OK) => Ok(VerifyOutcome::Verified),
        (Some(0), _) | (None, StatusWord::KEY_LOCKED) => Ok(VerifyOutcome::Locked),
        (Some(remaining), _) => Ok(VerifyOutcome::Wrong { remaining }),
        (None, sw) => Err(CardError::Status { step, sw }),
    }
}

impl Pin {
    pub(crate) fn secret(&self) -> &Zeroizing<Vec<u8>> {
        &self.0
    }
}

impl PinB {
    pub(crate) fn secret(&self) -> &Zeroizing<Vec<u8>> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{RawTransport, TransportError};

    #[test]
    fn formats_are_checked_and_debug_hides_digits() {
        assert!(Pin::new("1234").is_ok());
        assert_eq!(
            Pin::new("123").unwrap_err(),
            PinFormatError::WrongLength {
                expected: 4,
                got: 3
            }
        );
        assert_eq!(Pin::new("12a4").unwrap_err(), PinFormatError::NotDigits);
        assert_eq!(
            Pin::new("１２３４").unwrap_err(),
            PinFormatError::WrongLength {
                expected: 4,
                got: 4
            }
        );
        let b = PinB::new("55021720352285").unwrap();
        assert!(!format!("{b:?}").contains('5'));
        assert!(!format!("{:?}", Pin::new("1234").unwrap()).contains('1'));
        assert!(PinB::new("5502172035228").is_err());
    }

    struct Answer(u16, Vec<Vec<u8>>);

    impl RawTransport for Answer {
        fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.1.push(apdu.to_vec());
            Ok(self.0.to_be_bytes().to_vec())
        }
    }

    #[test]
    fn retry_counter_answers_map_to_states() {
        for (sw, expected) in [
            (0x63C3, RetryCounter::Remaining(3)),
            (0x63C1, RetryCounter::Remaining(1)),
            (0x63C0, RetryCounter::Locked),
            (0x6984, RetryCounter::Locked),
            (0x9000, RetryCounter::AlreadyVerified),
            (0x6A88, RetryCounter::NotSet),
        ] {
            let mut t = Answer(sw, Vec::new());
            assert_eq!(retries(&mut t, 0x18, "q"), Ok(expected), "{sw:04X}");
            assert_eq!(t.1, [vec![0x00, 0x20, 0x00, 0x98]], "empty VERIFY only");
        }
        assert!(matches!(
            retries(&mut Answer(0x6F00, Vec::new()), 0x18, "q"),
            Err(CardError::Status { .. })
        ));
    }

    #[test]
    fn verify_answers_map_to_outcomes() {
        let pin = Pin::new("4321").unwrap();
        for (sw, expected) in [
            (0x9000, VerifyOutcome::Verified),
            (0x63C2, VerifyOutcome::Wrong { remaining: 2 }),
            (0x63C0, VerifyOutcome::Locked),
            (0x6984, VerifyOutcome::Locked),
        ] {
            let mut t = Answer(sw, Vec::new());
            assert_eq!(verify(&mut t, 0x18, pin.secret(), "v"), Ok(expected));
            assert_eq!(t.1, [b"\x00\x20\x00\x98\x044321".to_vec()]);
        }
    }
}
