//! SIMULATORS, clearly labelled: stand-ins for the parts not wired yet (the face pipeline and
//! the card-front OCR) so the whole flow runs; and what the demo strip picked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use zeroize::Zeroizing;

use super::ports::{CaptureProgress, CardFrontPort, FacePort};
use crate::errors::KioskError;
use crate::session::{Capture, CardFrontReading, Challenge, FaceMatch, Guidance, PinB};

/// What the demo strip picked: the next card's profile and who faces the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoChoice {
    /// The virtual card's profile (`card_io::sim::Profile::names()`): TEST data.
    pub profile: &'static str,
    /// The card holder (true) or an impostor (false).
    pub holder: bool,
}

impl Default for DemoChoice {
    fn default() -> Self {
        Self {
            profile: "normal",
            holder: true,
        }
    }
}

/// Shared between the demo strip and the simulators.
pub type SharedChoice = Arc<Mutex<DemoChoice>>;

/// The current pick.
pub fn choice(shared: &SharedChoice) -> DemoChoice {
    *shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Card-front OCR: SIMULATED, reads the 照合番号B of the demo card's profile with full
/// confidence (what a perfect OCR of that card's front would give).
pub struct SimCardFront {
    choice: SharedChoice,
}

impl SimCardFront {
    pub fn new(choice: SharedChoice) -> Self {
        Self { choice }
    }
}

impl CardFrontPort for SimCardFront {
    fn read(&mut self) -> Result<CardFrontReading, KioskError> {
        let profile = card_io::sim::Profile::load(choice(&self.choice).profile).map_err(|e| {
            tracing::warn!(error = %e, "demo card profile");
            KioskError::PinBUnreadable
        })?;
        Ok(CardFrontReading {
            pin_b: PinB::new(&profile.pin_b),
            all_digits_confident: !profile.pin_b.is_empty(),
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
