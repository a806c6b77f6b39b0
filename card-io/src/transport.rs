//! Sending commands to a card.
//!
//! Two layers:
//! * [`RawTransport`] moves encoded APDU bytes (PC/SC, the in-process simulator, test scripts);
//! * [`CardTransport`] sends a [`Command`] and returns the complete [`Response`]. Every
//!   [`RawTransport`] is a [`CardTransport`]: `61xx` (GET RESPONSE) and `6Cxx` (resend with the
//!   right Le) are handled here, once.
//!
//! A filter (such as a privacy guard) is a [`CardTransport`] that wraps another one and
//! inspects each command before passing it on.

use crate::apdu::{ApduError, Command, Response};

/// Most GET RESPONSE rounds for one command: 256 × 256 bytes covers any extended response.
const MAX_GET_RESPONSE_ROUNDS: usize = 256;

/// Why a command could not be exchanged with the card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The card was removed (the connection is dead: reconnect after a new insertion).
    #[error("the card was removed")]
    CardRemoved,
    /// The card was reset by another application; security state is lost.
    #[error("the card was reset")]
    CardReset,
    /// The reader is gone or unknown.
    #[error("the card reader is unavailable")]
    ReaderUnavailable,
    /// The PC/SC service (pcscd) is not running.
    #[error("the PC/SC service (pcscd) is not running")]
    NoService,
    /// The operation timed out.
    #[error("the card operation timed out")]
    Timeout,
    /// The card or reader broke the APDU protocol.
    #[error("card protocol error: {0}")]
    Protocol(String),
    /// The privacy guard refused the command (it would touch the My Number or 照合番号A).
    #[error(transparent)]
    Forbidden(#[from] crate::forbidden::Forbidden),
    /// Any other failure.
    #[error("card transport error: {0}")]
    Other(String),
}

impl From<ApduError> for TransportError {
    fn from(err: ApduError) -> Self {
        Self::Protocol(err.to_string())
    }
}

/// Sends a command and returns the complete response.
pub trait CardTransport {
    /// Sends `cmd`; the response is complete (no `61xx` left) and, after a `6Cxx`, is the answer
    /// to the command resent with the Le the card asked for.
    fn transmit(&mut self, cmd: &Command) -> Result<Response, TransportError>;
}

/// Moves raw APDU bytes to a card and back.
pub trait RawTransport {
    /// Sends the encoded command `apdu` and returns the raw response (data + SW1 SW2).
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: RawTransport + ?Sized> CardTransport for T {
    fn transmit(&mut self, cmd: &Command) -> Result<Response, TransportError> {
        let mut response = exchange(self, cmd)?;
        if let Some(ne) = response.sw().wrong_le() {
            response = exchange(self, &cmd.clone().with_ne(ne)?)?;
        }
        let mut rounds = 0;
        while let Some(ne) = response.sw().more_data() {
            rounds += 1;
            if rounds > MAX_GET_RESPONSE_ROUNDS {
                return Err(TransportError::Protocol(
                    "the card keeps answering 61xx".into(),
                ));
            }
            let more = exchange(self, &Command::get_response(ne)?)?;
            response.append(more);
        }
        Ok(response)
    }
}

/// A borrowed transport, so a filter can wrap a transport it does not own.
impl CardTransport for &mut dyn CardTransport {
    fn transmit(&mut self, cmd: &Command) -> Result<Response, TransportError> {
        (**self).transmit(cmd)
    }
}

/// One raw round trip of `cmd`.
fn exchange<T: RawTransport + ?Sized>(
    raw: &mut T,
    cmd: &Command,
) -> Result<Response, TransportError> {
    let response = Response::from_bytes(raw.transmit_raw(&cmd.to_bytes())?)?;
    crate::trace::exchange(cmd, &response);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::apdu::StatusWord;

    /// Answers from a script and records what it was sent.
    struct Scripted {
        answers: VecDeque<Vec<u8>>,
        sent: Vec<Vec<u8>>,
    }

    impl Scripted {
        fn new(answers: &[&[u8]]) -> Self {
            Self {
                answers: answers.iter().map(|a| a.to_vec()).collect(),
                sent: Vec::new(),
            }
        }
    }

    impl RawTransport for Scripted {
        fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(apdu.to_vec());
            self.answers
                .pop_front()
                .ok_or_else(|| TransportError::Other("script exhausted".into()))
        }
    }

    #[test]
    fn plain_response_passes_through() {
        let mut t = Scripted::new(&[&[0xAA, 0x90, 0x00]]);
        let r = t.transmit(&Command::read_binary(0, 1).unwrap()).unwrap();
        assert_eq!(r.data(), [0xAA]);
        assert!(r.sw().is_ok());
        assert_eq!(t.sent, vec![vec![0x00, 0xB0, 0x00, 0x00, 0x01]]);
    }

    #[test]
    fn more_data_is_fetched_with_get_response() {
        let mut t = Scripted::new(&[
            &[0x01, 0x02, 0x61, 0x03],
            &[0x03, 0x04, 0x05, 0x61, 0x00],
            &[0x06, 0x90, 0x00],
        ]);
        let r = t.transmit(&Command::select_ef(0x0006)).unwrap();
        assert_eq!(r.data(), [1, 2, 3, 4, 5, 6]);
        assert!(r.sw().is_ok());
        assert_eq!(t.sent[1], [0x00, 0xC0, 0x00, 0x00, 0x03]);
        assert_eq!(t.sent[2], [0x00, 0xC0, 0x00, 0x00, 0x00]);
        assert_eq!(t.sent.len(), 3);
    }

    #[test]
    fn wrong_le_resends_with_the_le_asked_for() {
        let mut t = Scripted::new(&[&[0x6C, 0x20], &[0x41; 0x22]]);
        let r = t.transmit(&Command::read_binary(0, 256).unwrap()).unwrap();
        assert_eq!(r.data(), [0x41; 0x20]);
        assert_eq!(r.sw(), StatusWord::new(0x41, 0x41));
        assert_eq!(t.sent[1], [0x00, 0xB0, 0x00, 0x00, 0x20]);
    }

    #[test]
    fn wrong_le_then_more_data_are_both_handled() {
        let mut t = Scripted::new(&[&[0x6C, 0x02], &[0x01, 0x61, 0x01], &[0x02, 0x90, 0x00]]);
        let r = t.transmit(&Command::read_binary(0, 256).unwrap()).unwrap();
        assert_eq!(r.data(), [1, 2]);
        assert!(r.sw().is_ok());
    }

    #[test]
    fn endless_more_data_is_a_protocol_error() {
        let answers = vec![&[0x61u8, 0x01][..]; MAX_GET_RESPONSE_ROUNDS + 1];
        let mut t = Scripted::new(&answers);
        assert!(matches!(
            t.transmit(&Command::select_ef(1)),
            Err(TransportError::Protocol(_))
        ));
    }

    #[test]
    fn short_raw_response_is_a_protocol_error() {
        let mut t = Scripted::new(&[&[0x90]]);
        assert!(matches!(
            t.transmit(&Command::select_ef(1)),
            Err(TransportError::Protocol(_))
        ));
    }

    #[test]
    fn raw_errors_propagate() {
        let mut t = Scripted::new(&[]);
        assert_eq!(
            t.transmit(&Command::select_ef(1)),
            Err(TransportError::Other("script exhausted".into()))
        );
    }
}
