//! SIMULATORS, clearly labelled: stand-ins for the parts other branches build (the JPKI and
//! 券面 card applications, the face pipeline, the card-front OCR, the hand-off) so the whole
//! flow runs in the demo. Card detection itself is real: through pcscd, by the JPKI token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use card_io::mynumber::{self, CardKind};
use card_io::pcsc_transport::PcscTransport;
use card_io::transport::TransportError;
use zeroize::Zeroizing;

use super::ports::{CaptureProgress, CardFrontPort, CardPort, FacePort, HandOffPort};
use crate::errors::KioskError;
use crate::session::{
    Capture, CardFrontReading, CardIdentity, Certificate, Challenge, FaceMatch, Guidance, PinB,
    PinBOutcome, PinEntry, PinOutcome, PinProof, PinState, Qualification, VerificationResult,
};

/// The PIN of every simulated card.
pub const SIM_PIN: &str = "1234";

/// A virtual card profile the demo can plug in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Standard,
    OneTryLeft,
    PinLocked,
    FaceOnly,
    ExpiringSoon,
    Expired,
    NotRegistered,
    Invalid,
}

impl Profile {
    pub const ALL: [Profile; 8] = [
        Profile::Standard,
        Profile::OneTryLeft,
        Profile::PinLocked,
        Profile::FaceOnly,
        Profile::ExpiringSoon,
        Profile::Expired,
        Profile::NotRegistered,
        Profile::Invalid,
    ];

    /// Name on the demo strip.
    pub fn label(self) -> &'static str {
        match self {
            Profile::Standard => "標準",
            Profile::OneTryLeft => "暗証番号 残り1回",
            Profile::PinLocked => "暗証番号ロック",
            Profile::FaceOnly => "顔認証カード",
            Profile::ExpiringSoon => "期限間近",
            Profile::Expired => "期限切れ",
            Profile::NotRegistered => "未登録",
            Profile::Invalid => "資格無効",
        }
    }

    fn identity(self) -> CardIdentity {
        let days_left = match self {
            Profile::ExpiringSoon => 12,
            Profile::Expired => -3,
            _ => 900,
        };
        CardIdentity {
            certificate: Certificate {
                serial: format!("SIM-{:?}", self).to_uppercase(),
                not_after: "2029-03-31".into(),
                days_left,
                der: Vec::new(),
            },
            pin: match self {
                Profile::OneTryLeft => PinState::Remaining(1),
                Profile::PinLocked => PinState::Remaining(0),
                Profile::FaceOnly => PinState::NotSet,
                _ => PinState::Remaining(3),
            },
            pin_b_retries: Some(10),
        }
    }
}

/// What the demo strip picked: the next card's profile and who faces the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoChoice {
    pub profile: Profile,
    /// The card holder (true) or an impostor (false).
    pub holder: bool,
}

impl Default for DemoChoice {
    fn default() -> Self {
        Self {
            profile: Profile::Standard,
            holder: true,
        }
    }
}

/// Shared between the demo strip and the simulators.
pub type SharedChoice = Arc<Mutex<DemoChoice>>;

fn choice(shared: &SharedChoice) -> DemoChoice {
    *shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Card port: real detection through pcscd, then the profile's certificate and counters
/// (SIMULATED until card-io reads certificates and counters).
pub struct SimCard {
    choice: SharedChoice,
    pin_tries: Option<u8>,
}

impl SimCard {
    pub fn new(choice: SharedChoice) -> Self {
        Self {
            choice,
            pin_tries: None,
        }
    }
}

impl CardPort for SimCard {
    fn read_identity(&mut self, reader: &str) -> Result<CardIdentity, KioskError> {
        let mut card = PcscTransport::connect(reader).map_err(transport_error)?;
        match mynumber::detect(&mut card) {
            Ok(CardKind::MyNumberCard) => {}
            Ok(kind) => {
                tracing::info!(?kind, "not a My Number card");
                return Err(KioskError::NotMyNumberCard);
            }
            Err(e) => {
                tracing::warn!(error = %e, "card read failed");
                return Err(KioskError::CardNotRecognised);
            }
        }
        let identity = choice(&self.choice).profile.identity();
        self.pin_tries = match identity.pin {
            PinState::Remaining(n) => Some(n),
            PinState::NotSet => None,
        };
        Ok(identity)
    }

    fn submit_pin_b(&mut self, _pin_b: &PinB) -> Result<PinBOutcome, KioskError> {
        Ok(PinBOutcome::Accepted)
    }

    fn read_face_photo(&mut self) -> Result<Zeroizing<Vec<u8>>, KioskError> {
        Ok(Zeroizing::new(vec![0; 16]))
    }

    fn verify_pin(&mut self, pin: &PinEntry) -> Result<PinOutcome, KioskError> {
        let tries = self.pin_tries.ok_or(KioskError::CardNotRecognised)?;
        if tries == 0 {
            return Ok(PinOutcome::Locked);
        }
        if pin.expose() == SIM_PIN {
            self.pin_tries = Some(3);
            return Ok(PinOutcome::Verified(PinProof {
                challenge: vec![0x5A; 32],
                signature: vec![0xA5; 256],
            }));
        }
        let remaining = tries - 1;
        self.pin_tries = Some(remaining);
        Ok(PinOutcome::Wrong { remaining })
    }

    fn release(&mut self) {
        self.pin_tries = None;
    }
}

fn transport_error(e: TransportError) -> KioskError {
    tracing::warn!(error = %e, "cannot connect to the card");
    match e {
        TransportError::CardRemoved => KioskError::CardRemoved,
        TransportError::NoService => KioskError::PcscdDown,
        TransportError::ReaderUnavailable => KioskError::ReaderMissing,
        _ => KioskError::CardNotRecognised,
    }
}

/// Card-front OCR: SIMULATED, always reads 14 confident digits.
pub struct SimCardFront;

impl CardFrontPort for SimCardFront {
    fn read(&mut self) -> Result<CardFrontReading, KioskError> {
        Ok(CardFrontReading {
            pin_b: PinB::new("90010120291234"),
            all_digits_confident: true,
        })
    }
}

/// Face pipeline: SIMULATED. Reports a few guidance codes, then matches when the demo
/// says the card holder faces the camera.
pub struct SimFace {
    choice: SharedChoice,
    reference: Option<Zeroizing<Vec<u8>>>,
    step: Duration,
}

impl SimFace {
    pub fn new(choice: SharedChoice, step: Duration) -> Self {
        Self {
            choice,
            reference: None,
            step,
        }
    }
}

impl FacePort for SimFace {
    fn set_reference(&mut self, photo: Zeroizing<Vec<u8>>) -> Result<(), KioskError> {
        self.reference = Some(photo);
        Ok(())
    }

    fn capture(
        &mut self,
        _challenge: Challenge,
        report: &mut dyn FnMut(CaptureProgress),
        stop: &AtomicBool,
    ) -> Result<Capture, KioskError> {
        for g in [Guidance::NoFace, Guidance::MoveCloser, Guidance::HoldStill] {
            if stop.load(Ordering::Relaxed) {
                return Ok(Capture::LivenessFailed);
            }
            report(CaptureProgress::Guidance(g));
            std::thread::sleep(self.step);
        }
        Ok(Capture::Captured {
            liveness_score: 0.93,
        })
    }

    fn compare(&mut self) -> Result<FaceMatch, KioskError> {
        if self.reference.is_none() {
            return Err(KioskError::NoFaceInPhoto);
        }
        let holder = choice(&self.choice).holder;
        Ok(FaceMatch {
            score: if holder { 0.71 } else { 0.12 },
            matched: holder,
        })
    }

    fn discard(&mut self) {
        self.reference = None;
    }
}

/// Qualification simulator: answers by the demo profile.
pub struct SimHandOff {
    choice: SharedChoice,
}

impl SimHandOff {
    pub fn new(choice: SharedChoice) -> Self {
        Self { choice }
    }
}

impl HandOffPort for SimHandOff {
    fn deliver(&mut self, result: &VerificationResult) -> Result<Qualification, KioskError> {
        tracing::info!(
            serial = %result.certificate.serial,
            method = ?std::mem::discriminant(&result.method),
            "result handed off (simulator)"
        );
        Ok(match choice(&self.choice).profile {
            Profile::NotRegistered if !result.register => Qualification::NotRegistered,
            Profile::Invalid => Qualification::Invalid,
            _ => Qualification::Valid,
        })
    }
}
