//! SIMULATORS, clearly labelled, for the demo: the card-front OCR (not wired yet), the
//! patient camera as image folders, and what the demo strip picked.

use std::sync::{Arc, Mutex, PoisonError};

use face_match::{CameraError, CameraSource, Frame, ImageFolderSource};

use super::ports::CardFrontPort;
use crate::errors::KioskError;
use crate::session::{CardFrontReading, PinB};

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

/// The patient camera in the demo: SIMULATED by two image folders, the card holder's or an
/// impostor's, as the demo strip picks.
pub struct DemoCamera {
    pub choice: SharedChoice,
    pub holder: ImageFolderSource,
    pub impostor: ImageFolderSource,
}

impl CameraSource for DemoCamera {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if choice(&self.choice).holder {
            self.holder.next_frame()
        } else {
            self.impostor.next_frame()
        }
    }
}
