//! The My Number card (マイナンバーカード): its applications and what a reader does with them.
//!
//! [`MyNumberCard`] is one card session. Everything it does goes through a
//! [`PrivacyGuard`], and nothing in this API reads the 12-digit My Number.

pub use crate::aid;
mod cvc;
mod detect;
pub mod jpki;
mod pin;
mod read;
mod surface;
mod tlv;

pub use cvc::{CardVerifiableCertificate, RsaPublicKey};
pub use detect::CardKind;
pub use jpki::{JpkiAp, PossessionProof};
pub use pin::{Pin, PinB, PinFormatError, RetryCounter, VerifyOutcome};
pub use read::ReadMode;
pub use surface::{RecordVerdict, Sex, SurfaceAp, SurfaceRecord};

use crate::apdu::{ApduError, Command, Response, StatusWord};
use crate::guard::PrivacyGuard;
use crate::transport::{CardTransport, TransportError};

/// Why a card operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The command could not be exchanged (card removed, reader gone, refused by the guard…).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A command could not be built.
    #[error(transparent)]
    Apdu(#[from] ApduError),
    /// The card answered a step with an unexpected status word.
    #[error("{step} failed: status {sw}")]
    Status {
        /// What was being done, e.g. "SELECT JPKI AP".
        step: &'static str,
        /// The card's answer.
        sw: StatusWord,
    },
    /// The file ends before the length its header declares.
    #[error("EF {fid:04X} is shorter than its header says")]
    Truncated {
        /// The file.
        fid: u16,
    },
    /// A record read from the card is malformed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The application is not on the card (e.g. not a My Number card).
    #[error("the card has no {0}")]
    NoApplication(&'static str),
    /// The card's signature over a fresh challenge does not verify with its certificate.
    #[error("the card's signature does not match its certificate")]
    BadSignature,
    /// The system random generator failed.
    #[error("no random challenge available")]
    Random,
}

/// Why a record from the card could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The data ends inside a TLV.
    #[error("the record ends inside a field")]
    Truncated,
    /// A length field that is not a definite length of up to three bytes, or is out of range.
    #[error("a length field is invalid")]
    BadLength,
    /// A tag where another was expected, or a constructed field inside a record.
    #[error("unexpected tag in the record")]
    UnexpectedTag,
    /// A required field is missing.
    #[error("field {0:02X} is missing")]
    MissingField(u8),
    /// A field has the wrong length or content.
    #[error("field {0:02X} has a wrong length or content")]
    BadField(u8),
    /// The DF21 offset table does not match the fields.
    #[error("the offset table does not match the fields")]
    BadOffsets,
}

/// One card session: a guarded transport plus what was learned about reading this card.
pub struct MyNumberCard<T> {
    guard: PrivacyGuard<T>,
    read_mode: ReadMode,
}

impl<T: CardTransport> MyNumberCard<T> {
    /// Starts a session on `transport`; every command passes the privacy guard.
    pub fn new(transport: T) -> Self {
        Self {
            guard: PrivacyGuard::new(transport),
            read_mode: ReadMode::Probe,
        }
    }

    /// Ends the session, returning the transport.
    pub fn into_inner(self) -> T {
        self.guard.into_inner()
    }

    /// How long files are read in this session (probed on the first long read).
    pub fn read_mode(&self) -> ReadMode {
        self.read_mode
    }

    /// What kind of card this is (selects the JPKI AP and reads its token label).
    pub fn detect(&mut self) -> Result<CardKind, CardError> {
        detect::detect(&mut self.guard)
    }

    /// Selects the JPKI AP (公的個人認証AP).
    pub fn jpki(&mut self) -> Result<JpkiAp<'_, T>, CardError> {
        self.select(&aid::JPKI, "JPKI AP")?;
        Ok(JpkiAp::new(self))
    }

    /// Selects the 券面事項確認AP (card face, face photo).
    pub fn surface(&mut self) -> Result<SurfaceAp<'_, T>, CardError> {
        self.select(&aid::KENMEN_KAKUNIN, "券面事項確認AP")?;
        Ok(SurfaceAp::new(self))
    }

    fn select(&mut self, aid: &[u8], name: &'static str) -> Result<(), CardError> {
        let sw = self.guard.transmit(&Command::select_df(aid)?)?.sw();
        match sw {
            StatusWord::OK => Ok(()),
            StatusWord::FILE_NOT_FOUND => Err(CardError::NoApplication(name)),
            sw => Err(CardError::Status {
                step: "SELECT DF",
                sw,
            }),
        }
    }

    fn transport(&mut self) -> &mut dyn CardTransport {
        &mut self.guard
    }

    fn read_file(&mut self, fid: u16) -> Result<zeroize::Zeroizing<Vec<u8>>, CardError> {
        read::read_tlv_file(&mut self.guard, &mut self.read_mode, fid)
    }
}

/// What kind of card is on `transport` (through a privacy guard of its own); see
/// [`MyNumberCard::detect`].
pub fn detect(transport: &mut dyn CardTransport) -> Result<CardKind, CardError> {
    detect::detect(&mut PrivacyGuard::new(transport))
}

/// Sends `cmd`; an answer other than `9000` is an error.
pub(crate) fn expect_ok(
    t: &mut dyn CardTransport,
    cmd: &Command,
    step: &'static str,
) -> Result<Response, CardError> {
    let response = t.transmit(cmd)?;
    if response.sw().is_ok() {
        Ok(response)
    } else {
        Err(CardError::Status {
            step,
            sw: response.sw(),
        })
    }
}
