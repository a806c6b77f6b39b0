//! [`CardPort`] over card-io: the My Number card in a PC/SC reader, through pcscd.
//!
//! Each step is one PC/SC transaction. The connection stays open between steps (its card
//! reset on disconnect clears verified PINs), so a card swapped mid-session is caught by
//! pcscd as a removal.

use std::time::{SystemTime, UNIX_EPOCH};

use card_io::certificate::{CertificateSummary, ChainVerdict, TrustAnchors};
use card_io::mynumber::{self, CardError, CardKind, MyNumberCard, RetryCounter, VerifyOutcome};
use card_io::pcsc_transport::{PcscTransaction, PcscTransport};
use card_io::transport::TransportError;
use zeroize::Zeroizing;

use super::ports::CardPort;
use crate::errors::{Failure, KioskError};
use crate::session::{
    CardIdentity, Certificate, PinB, PinBOutcome, PinEntry, PinOutcome, PinProof, PinState,
};

const SECONDS_PER_DAY: i64 = 86_400;

/// The card in the session's reader, checked against `anchors`.
pub struct PcscCard {
    anchors: TrustAnchors,
    connection: Option<Connection>,
}

/// What one card session keeps between steps.
struct Connection {
    transport: PcscTransport,
    certificate: Vec<u8>,
    /// The chip photo, read right after 照合番号B opened the card face; zeroized on drop.
    photo: Option<Zeroizing<Vec<u8>>>,
}

impl PcscCard {
    /// A port that trusts the user-authentication certificates `anchors` vouch for.
    pub fn new(anchors: TrustAnchors) -> Self {
        Self {
            anchors,
            connection: None,
        }
    }

    fn connection(&mut self) -> Result<&mut Connection, Failure> {
        let gone = || Failure::new(KioskError::CardRemoved, "no card session is open");
        self.connection.as_mut().ok_or_else(gone)
    }
}

impl CardPort for PcscCard {
    fn read_identity(&mut self, reader: &str) -> Result<CardIdentity, Failure> {
        self.connection = None;
        let mut transport = PcscTransport::connect(reader).map_err(transport_error)?;
        let (certificate, pin, pin_b) = {
            let mut card = session(&mut transport)?;
            match card.detect().map_err(card_error)? {
                CardKind::MyNumberCard => {}
                kind => {
                    let cause = format!("the card answers as {kind:?}");
                    return Err(Failure::new(KioskError::NotMyNumberCard, cause));
                }
            }
            let mut jpki = card.jpki().map_err(card_error)?;
            let certificate = jpki.user_auth_certificate().map_err(card_error)?;
            let pin = jpki.pin_retries().map_err(card_error)?;
            (certificate, pin, pin_b_counter(&mut card)?)
        };
        let now = unix_now();
        let checked = check_certificate(&self.anchors, &certificate, now)?;
        let identity = CardIdentity {
            certificate: checked,
            pin: pin_state(pin)?,
            pin_b_retries: pin_b,
        };
        self.connection = Some(Connection {
            transport,
            certificate,
            photo: None,
        });
        Ok(identity)
    }

    fn pin_b_retries(&mut self) -> Result<Option<u8>, Failure> {
        let connection = self.connection()?;
        pin_b_counter(&mut session(&mut connection.transport)?)
    }

    fn submit_pin_b(&mut self, pin_b: &PinB) -> Result<PinBOutcome, Failure> {
        let digits = mynumber::PinB::new(pin_b.expose()).map_err(|e| {
            Failure::new(
                KioskError::PinBUnreadable,
                format!("照合番号B not presented: {e}"),
            )
        })?;
        let connection = self.connection()?;
        let mut card = session(&mut connection.transport)?;
        let mut surface = card.surface().map_err(card_error)?;
        let outcome = match surface.verify_pin_b(&digits).map_err(card_error)? {
            VerifyOutcome::Verified => {
                // Read while the card face is open, in the same transaction.
                let mut record = surface.read_record().map_err(card_error)?;
                connection.photo = record.photo.take();
                PinBOutcome::Accepted
            }
            VerifyOutcome::Wrong { remaining } => PinBOutcome::Rejected { remaining },
            VerifyOutcome::Locked => PinBOutcome::Rejected { remaining: 0 },
        };
        Ok(outcome)
    }

    fn read_face_photo(&mut self) -> Result<Zeroizing<Vec<u8>>, Failure> {
        self.connection()?
            .photo
            .take()
            .ok_or_else(|| Failure::new(KioskError::NoFaceInPhoto, "the card record has no photo"))
    }

    fn verify_pin(&mut self, pin: &PinEntry) -> Result<PinOutcome, Failure> {
        // A malformed entry never reaches the card, so it spends no try.
        let digits = mynumber::Pin::new(pin.expose())
            .map_err(|e| Failure::new(KioskError::PinWrong, format!("PIN not presented: {e}")))?;
        let connection = self.connection()?;
        let mut card = session(&mut connection.transport)?;
        let mut jpki = card.jpki().map_err(card_error)?;
        Ok(match jpki.verify_pin(&digits).map_err(card_error)? {
            VerifyOutcome::Verified => {
                let proof = jpki
                    .prove_possession(&connection.certificate)
                    .map_err(card_error)?;
                PinOutcome::Verified(PinProof {
                    challenge: proof.challenge.to_vec(),
                    signature: proof.signature,
                })
            }
            VerifyOutcome::Wrong { remaining } => PinOutcome::Wrong { remaining },
            VerifyOutcome::Locked => PinOutcome::Locked,
        })
    }

    fn release(&mut self) {
        self.connection = None;
    }
}

/// 照合番号B tries left on the 券面事項確認AP (an empty VERIFY); `None` when the card has no
/// such application or does not report a count.
fn pin_b_counter(card: &mut MyNumberCard<PcscTransaction<'_>>) -> Result<Option<u8>, Failure> {
    match card.surface() {
        Ok(mut surface) => Ok(surface.pin_b_retries().map_err(card_error)?.remaining()),
        Err(CardError::NoApplication(_)) => Ok(None),
        Err(e) => Err(card_error(e)),
    }
}

/// One card session inside an exclusive PC/SC transaction.
fn session(transport: &mut PcscTransport) -> Result<MyNumberCard<PcscTransaction<'_>>, Failure> {
    Ok(MyNumberCard::new(
        transport.transaction().map_err(transport_error)?,
    ))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The certificate as the session sees it, or the catalogue error for its verdict.
fn check_certificate(anchors: &TrustAnchors, der: &[u8], now: i64) -> Result<Certificate, Failure> {
    let verdict = anchors.check(der, now);
    if !verdict.is_acceptable() {
        let cause = format!("certificate refused: {}", verdict.code());
        return Err(Failure::new(verdict_error(verdict), cause));
    }
    let summary = CertificateSummary::of(der)
        .ok_or_else(|| Failure::new(KioskError::CertificateUntrusted, "certificate unreadable"))?;
    let not_after = chrono::DateTime::from_timestamp(summary.not_after, 0)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default();
    Ok(Certificate {
        serial: summary.serial.replace(':', ""),
        not_after,
        days_left: (summary.not_after - now).div_euclid(SECONDS_PER_DAY),
        der: der.to_vec(),
    })
}

/// The catalogue error for a certificate that may not be relied on.
fn verdict_error(verdict: ChainVerdict) -> KioskError {
    match verdict {
        ChainVerdict::Expired => KioskError::CertificateExpired,
        ChainVerdict::Revoked => KioskError::CertificateRevoked,
        _ => KioskError::CertificateUntrusted,
    }
}

fn pin_state(counter: RetryCounter) -> Result<PinState, Failure> {
    match counter {
        RetryCounter::Remaining(n) => Ok(PinState::Remaining(n)),
        RetryCounter::Locked => Ok(PinState::Remaining(0)),
        RetryCounter::NotSet => Ok(PinState::NotSet),
        // A fresh connection has verified nothing: another application holds the card.
        RetryCounter::AlreadyVerified => Err(Failure::new(
            KioskError::CardNotRecognised,
            "the PIN is already verified on a fresh connection",
        )),
    }
}

/// The catalogue error for a failed card operation, with its cause.
fn card_error(e: CardError) -> Failure {
    let error = match e {
        CardError::Transport(t) => return transport_error(t),
        CardError::NoApplication(_) => KioskError::NotMyNumberCard,
        CardError::BadSignature => KioskError::CertificateUntrusted,
        _ => KioskError::CardNotRecognised,
    };
    Failure::new(error, format!("card read failed: {e}"))
}

/// The catalogue error for a failed exchange with the reader, with its cause.
fn transport_error(e: TransportError) -> Failure {
    let error = match e {
        TransportError::CardRemoved | TransportError::CardReset => KioskError::CardRemoved,
        TransportError::NoService => KioskError::PcscdDown,
        TransportError::ReaderUnavailable => KioskError::ReaderMissing,
        _ => KioskError::CardNotRecognised,
    };
    Failure::new(error, format!("card exchange failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_keep_their_cause() {
        assert_eq!(
            verdict_error(ChainVerdict::Expired),
            KioskError::CertificateExpired
        );
        assert_eq!(
            verdict_error(ChainVerdict::Revoked),
            KioskError::CertificateRevoked
        );
        for v in [
            ChainVerdict::Untrusted,
            ChainVerdict::NotYetValid,
            ChainVerdict::Malformed,
            ChainVerdict::WrongKeyUsage,
            ChainVerdict::UnsupportedAlgorithm,
        ] {
            assert_eq!(verdict_error(v), KioskError::CertificateUntrusted, "{v:?}");
        }
    }

    #[test]
    fn counters_map_to_pin_states() {
        assert_eq!(
            pin_state(RetryCounter::Remaining(2)),
            Ok(PinState::Remaining(2))
        );
        assert_eq!(pin_state(RetryCounter::Locked), Ok(PinState::Remaining(0)));
        assert_eq!(pin_state(RetryCounter::NotSet), Ok(PinState::NotSet));
        let refused = pin_state(RetryCounter::AlreadyVerified).unwrap_err();
        assert_eq!(refused.error, KioskError::CardNotRecognised);
        assert!(refused.cause.unwrap().contains("already verified"));
    }

    /// Each failure keeps its code and, for staff, the cause in the layer's own words.
    #[test]
    fn transport_failures_map_to_the_catalogue_with_their_cause() {
        let removed = card_error(CardError::Transport(TransportError::CardRemoved));
        assert_eq!(removed.error, KioskError::CardRemoved);
        let pcscd = transport_error(TransportError::NoService);
        assert_eq!(pcscd.error, KioskError::PcscdDown);
        assert_eq!(
            pcscd.cause.as_deref(),
            Some("card exchange failed: the PC/SC service (pcscd) is not running")
        );
        let reader = transport_error(TransportError::ReaderUnavailable);
        assert_eq!(reader.error, KioskError::ReaderMissing);
        let missing = card_error(CardError::NoApplication("JPKI AP"));
        assert_eq!(missing.error, KioskError::NotMyNumberCard);
        assert!(
            missing.cause.unwrap().contains("JPKI AP"),
            "the missing AP is named"
        );
    }
}
