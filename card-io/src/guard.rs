//! The privacy guard: a [`CardTransport`] filter that keeps the 12-digit My Number out of reach.
//!
//! Every My Number card operation of this crate goes through a [`PrivacyGuard`]. It follows the
//! current application (DF) and EF from the commands that succeed and refuses, before anything
//! reaches the card:
//! * SELECT or VERIFY of 照合番号A: 券面事項確認AP IEF `0013` (SFI form `00 20 00 93`) and
//!   券面事項入力補助AP IEF `0014` (`00 20 00 94`);
//! * SELECT or READ BINARY of the files holding the number: 入力補助AP EF `0001` (SFI form
//!   `00 B0 81 …`) and 券面事項確認AP EF `0005` (`00 B0 85 …`);
//! * any instruction outside SELECT (by DF name or EF id), READ BINARY, VERIFY, the JICSAP
//!   signature, GET CHALLENGE and GET DATA, and every SELECT form that could change the DF
//!   behind the guard's back.
//!
//! When the current DF is not known for sure (after a reset, a failed SELECT, or a partial DF
//! name), the rules of both 券面 applications apply at once.

use crate::aid;
use crate::apdu::{ins, Command, Response};
use crate::transport::{CardTransport, TransportError};

pub use crate::forbidden::Forbidden;

/// The application the guard believes is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Df {
    /// 券面事項確認AP.
    Surface,
    /// 券面事項入力補助AP.
    InputHelper,
    /// An application that cannot be either 券面 AP (JPKI, or a name no 券面 AID starts with).
    Harmless,
    /// Not known: the rules of both 券面 applications apply.
    Unknown,
}

impl Df {
    /// File and key ids that must never be selected, read or verified in this DF.
    fn forbidden(self) -> &'static [u16] {
        match self {
            Self::Surface => &[0x0013, 0x0005],
            Self::InputHelper => &[0x0014, 0x0001],
            Self::Harmless => &[],
            Self::Unknown => &[0x0013, 0x0005, 0x0014, 0x0001],
        }
    }

    /// The DF a successful `SELECT DF by name` of `name` (with `p2`) leaves current.
    fn selected(name: &[u8], p2: u8) -> Self {
        let first_occurrence = p2 & 0x03 == 0;
        let sensitive = [aid::KENMEN_KAKUNIN, aid::KENMEN_NYURYOKU_HOJO];
        if first_occurrence && name == aid::KENMEN_KAKUNIN {
            Self::Surface
        } else if first_occurrence && name == aid::KENMEN_NYURYOKU_HOJO {
            Self::InputHelper
        } else if first_occurrence && !sensitive.iter().any(|aid| aid.starts_with(name)) {
            Self::Harmless
        } else {
            Self::Unknown
        }
    }
}

/// Refuses commands that would touch the My Number; passes everything else to `inner`.
pub struct PrivacyGuard<T> {
    inner: T,
    df: Df,
    ef: Option<u16>,
}

impl<T: CardTransport> PrivacyGuard<T> {
    /// Guards `inner`; the current DF is unknown until a SELECT by DF name succeeds.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            df: Df::Unknown,
            ef: None,
        }
    }

    /// The guarded transport.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Checks `cmd` against the current state.
    fn check(&self, cmd: &Command) -> Result<(), Forbidden> {
        let forbidden = self.df.forbidden();
        let refuse_fid = |fid: u16| {
            if forbidden.contains(&fid) {
                Err(Forbidden::MyNumberFile { fid })
            } else {
                Ok(())
            }
        };
        let current_ef = || self.ef.map_or(Ok(()), refuse_fid);
        match (cmd.cla(), cmd.ins()) {
            (0x00, ins::SELECT) => match cmd.p1() {
                0x04 => Ok(()),
                0x02 => fid_of(cmd.data()).map_or(Ok(()), refuse_fid),
                p1 => Err(Forbidden::SelectForm { p1 }),
            },
            (0x00, ins::READ_BINARY) => match sfi(cmd.p1()) {
                Some(fid) => refuse_fid(fid),
                None => current_ef(),
            },
            (0x00, ins::VERIFY) => match cmd.p2() {
                0x80 => current_ef(),
                p2 @ 0x81..=0x9E => refuse_fid(u16::from(p2 & 0x1F)),
                p2 => Err(Forbidden::VerifyReference { p2 }),
            },
            (0x80, ins::SIGN) => match sfi(cmd.p2()) {
                Some(fid) => refuse_fid(fid),
                None => current_ef(),
            },
            (0x00, ins::GET_CHALLENGE | ins::GET_DATA) => Ok(()),
            (cla, ins) => Err(Forbidden::Instruction { cla, ins }),
        }
    }

    /// Follows the DF and EF after `cmd` got `response` (or failed).
    fn track(&mut self, cmd: &Command, outcome: &Result<Response, TransportError>) {
        let ok = matches!(outcome, Ok(r) if r.sw().is_ok());
        match (cmd.ins(), cmd.p1(), ok) {
            (ins::SELECT, 0x04, true) => {
                self.df = Df::selected(cmd.data(), cmd.p2());
                self.ef = None;
            }
            (ins::SELECT, 0x04, false) => {
                self.df = Df::Unknown;
                self.ef = None;
            }
            (ins::SELECT, 0x02, true) => self.ef = fid_of(cmd.data()),
            (ins::READ_BINARY, p1, true) if sfi(p1).is_some() => self.ef = sfi(p1),
            _ => {}
        }
        if matches!(
            outcome,
            Err(TransportError::CardReset | TransportError::CardRemoved)
        ) {
            self.df = Df::Unknown;
            self.ef = None;
        }
    }
}

impl<T: CardTransport> CardTransport for PrivacyGuard<T> {
    fn transmit(&mut self, cmd: &Command) -> Result<Response, TransportError> {
        if let Err(refused) = self.check(cmd) {
            tracing::warn!(%refused, "privacy guard refused a command");
            return Err(refused.into());
        }
        let outcome = self.inner.transmit(cmd);
        self.track(cmd, &outcome);
        outcome
    }
}

/// A 2-byte file id.
fn fid_of(data: &[u8]) -> Option<u16> {
    <[u8; 2]>::try_from(data).ok().map(u16::from_be_bytes)
}

/// The short EF id in a READ BINARY P1 (or signature P2) with bit 8 set.
fn sfi(p: u8) -> Option<u16> {
    (p & 0x80 != 0).then_some(u16::from(p & 0x1F))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::RawTransport;

    /// Answers `9000` to everything and counts what reached it.
    #[derive(Default)]
    struct Card {
        reached: Vec<Vec<u8>>,
    }

    impl RawTransport for Card {
        fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.reached.push(apdu.to_vec());
            Ok(vec![0x90, 0x00])
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// Sends raw command bytes through a fresh guard after selecting `df`.
    fn through(df: &[u8], apdu: &str) -> (Result<Response, TransportError>, usize) {
        let mut guard = PrivacyGuard::new(Card::default());
        guard.transmit(&Command::select_df(df).unwrap()).unwrap();
        let outcome = guard.transmit(&Command::from_bytes(&hex(apdu)).unwrap());
        (outcome, guard.into_inner().reached.len())
    }

    fn refused(df: &[u8], apdu: &str) -> Forbidden {
        match through(df, apdu) {
            (Err(TransportError::Forbidden(why)), 1) => why,
            other => panic!("{apdu} was not refused before the card: {other:?}"),
        }
    }

    fn allowed(df: &[u8], apdu: &str) {
        let (outcome, reached) = through(df, apdu);
        assert!(outcome.is_ok() && reached == 2, "{apdu}: {outcome:?}");
    }

    #[test]
    fn pin_a_is_never_selected_nor_verified() {
        let surface = aid::KENMEN_KAKUNIN;
        let helper = aid::KENMEN_NYURYOKU_HOJO;
        let pin_a = Forbidden::MyNumberFile { fid: 0x0013 };
        assert_eq!(refused(&surface, "00 A4 02 0C 02 00 13"), pin_a);
        assert_eq!(refused(&surface, "00 20 00 93"), pin_a);
        assert_eq!(
            refused(
                &surface,
                "00 20 00 93 0C 31 32 33 34 35 36 37 38 39 30 31 32"
            ),
            pin_a
        );
        let helper_pin_a = Forbidden::MyNumberFile { fid: 0x0014 };
        assert_eq!(refused(&helper, "00 A4 02 0C 02 00 14"), helper_pin_a);
        assert_eq!(refused(&helper, "00 20 00 94"), helper_pin_a);
    }

    #[test]
    fn files_holding_the_number_are_never_selected_nor_read() {
        let surface = aid::KENMEN_KAKUNIN;
        let helper = aid::KENMEN_NYURYOKU_HOJO;
        let number = Forbidden::MyNumberFile { fid: 0x0001 };
        assert_eq!(refused(&helper, "00 A4 02 0C 02 00 01"), number);
        assert_eq!(refused(&helper, "00 B0 81 00 00"), number);
        assert_eq!(refused(&helper, "00 B0 81 03 0C"), number);
        let image = Forbidden::MyNumberFile { fid: 0x0005 };
        assert_eq!(refused(&surface, "00 A4 02 0C 02 00 05"), image);
        assert_eq!(refused(&surface, "00 B0 85 00 00"), image);
    }

    #[test]
    fn what_the_kiosk_needs_passes() {
        let surface = aid::KENMEN_KAKUNIN;
        allowed(&surface, "00 A4 02 0C 02 00 12");
        allowed(&surface, "00 20 00 92");
        allowed(&surface, "00 20 00 80");
        allowed(&surface, "00 A4 02 0C 02 00 02");
        allowed(&surface, "00 B0 82 00 00");
        allowed(&aid::JPKI, "00 A4 02 0C 02 00 0A");
        allowed(&aid::JPKI, "00 20 00 98");
        allowed(&aid::JPKI, "80 2A 00 97 02 AA BB 00");
        // EF 0001/0005 of the JPKI AP are certificates, not the number.
        allowed(&aid::JPKI, "00 A4 02 0C 02 00 01");
        allowed(&aid::KENMEN_NYURYOKU_HOJO, "00 A4 02 0C 02 00 05");
    }

    #[test]
    fn other_instructions_and_select_forms_are_refused() {
        let surface = aid::KENMEN_KAKUNIN;
        assert_eq!(
            refused(&surface, "00 B2 01 0C 00"),
            Forbidden::Instruction {
                cla: 0x00,
                ins: 0xB2
            }
        );
        assert_eq!(
            refused(&surface, "00 B1 00 05 03 54 01 00 00"),
            Forbidden::Instruction {
                cla: 0x00,
                ins: 0xB1
            }
        );
        assert_eq!(
            refused(&surface, "00 A4 08 0C 04 3F 00 00 05"),
            Forbidden::SelectForm { p1: 0x08 }
        );
        assert_eq!(
            refused(&surface, "00 A4 00 0C 02 00 13"),
            Forbidden::SelectForm { p1: 0x00 }
        );
        assert_eq!(
            refused(&surface, "00 20 00 00"),
            Forbidden::VerifyReference { p2: 0x00 }
        );
    }

    #[test]
    fn an_unknown_df_gets_the_rules_of_both_card_face_aps() {
        // Nothing selected yet (after a reset).
        let mut guard = PrivacyGuard::new(Card::default());
        for apdu in [
            "00 20 00 93",
            "00 20 00 94",
            "00 B0 81 00 00",
            "00 B0 85 00 00",
        ] {
            let cmd = Command::from_bytes(&hex(apdu)).unwrap();
            assert!(
                matches!(guard.transmit(&cmd), Err(TransportError::Forbidden(_))),
                "{apdu}"
            );
        }
        // A partial DF name might select either 券面 AP.
        let partial = &aid::KENMEN_KAKUNIN[..9];
        assert_eq!(
            refused(partial, "00 A4 02 0C 02 00 05"),
            Forbidden::MyNumberFile { fid: 0x0005 }
        );
        assert_eq!(
            refused(&aid::JPKI[..0], "00 20 00 94"),
            Forbidden::MyNumberFile { fid: 0x0014 }
        );
    }

    /// A card whose every answer is `6A82`.
    struct Absent;

    impl RawTransport for Absent {
        fn transmit_raw(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x6A, 0x82])
        }
    }

    #[test]
    fn a_failed_select_makes_the_df_unknown() {
        let mut guard = PrivacyGuard::new(Card::default());
        guard
            .transmit(&Command::select_df(&aid::JPKI).unwrap())
            .unwrap();
        let mut guard = PrivacyGuard {
            inner: Absent,
            df: guard.df,
            ef: None,
        };
        assert_eq!(guard.df, Df::Harmless);
        guard
            .transmit(&Command::select_df(&aid::KENMEN_KAKUNIN).unwrap())
            .unwrap();
        assert_eq!(guard.df, Df::Unknown);
    }
}
