//! [`CardFrontPort`] over card-front: photos from the card-front camera (`[card_front_camera]`)
//! read by the 照合番号B OCR. Whether a read may be presented to the card is the session's
//! submit policy ([`card_front::PinBAttempts`]); this port only reports the best read.
//!
//! Each frame is copied into an OpenCV image for the reader and both are zeroized after the
//! read; the camera is closed after every read. The digits leave only in a zeroizing [`PinB`].

use card_front::{read_card_front, OcrError, PinBRead};
use face_match::Frame;
use opencv::core::{no_array, MatTrait, MatTraitConst, Scalar};

use super::camera::{CameraOpener, LazyCamera};
use super::ports::CardFrontPort;
use crate::errors::KioskError;
use crate::session::{CardFrontReading, PinB};

/// The card-front camera and the OCR.
pub struct OcrCardFront {
    camera: LazyCamera,
    /// Frames looked at per read, at most.
    frames: u32,
    /// A read this confident ends the read early (the policy's submit threshold).
    enough: f32,
}

impl OcrCardFront {
    /// Reads up to `frames` frames per read, stopping at the first read of at least `enough`
    /// confidence in every digit.
    pub fn new(open_camera: CameraOpener, frames: u32, enough: f32) -> Self {
        Self {
            camera: LazyCamera::new(open_camera),
            frames: frames.max(1),
            enough,
        }
    }
}

impl CardFrontPort for OcrCardFront {
    fn read(&mut self) -> Result<CardFrontReading, KioskError> {
        let mut best: Option<PinBRead> = None;
        for _ in 0..self.frames {
            let frame = match self.camera.next_frame() {
                Ok(frame) => frame,
                Err(e) => {
                    self.camera.close();
                    return Err(e);
                }
            };
            match read_frame(&frame) {
                Ok(read) => {
                    tracing::info!(min_confidence = read.min_confidence(), "card front read");
                    if best
                        .as_ref()
                        .is_none_or(|b| read.min_confidence() > b.min_confidence())
                    {
                        best = Some(read);
                    }
                }
                Err(e) => tracing::info!(error = %e, "card front not read"),
            }
            if best
                .as_ref()
                .is_some_and(|b| b.min_confidence() >= self.enough)
            {
                break;
            }
        }
        self.camera.close();
        Ok(match best {
            Some(read) => CardFrontReading::Read {
                pin_b: PinB::new(&read.pin_b()),
                min_confidence: read.min_confidence(),
            },
            None => CardFrontReading::Unreadable,
        })
    }
}

/// Reads one frame; the reader's copy of the pixels is zeroized afterwards.
fn read_frame(frame: &Frame) -> Result<PinBRead, OcrError> {
    let view = frame.as_mat().map_err(|e| OcrError::Image(e.to_string()))?;
    let mut image = view.clone_pointee();
    let read = read_card_front(&image);
    if !image.empty() {
        image.set_to(&Scalar::all(0.0), &no_array())?;
    }
    read
}
