//! [`CardFrontPort`] over card-front: photos from the card-front camera (`[card_front_camera]`)
//! read by the 照合番号B OCR as successive frames of one card
//! ([`card_front::read_card_front_frames`]: up to [`card_front::MAX_FRAMES`], per-digit votes).
//! Whether a read may be presented to the card is the session's submit policy
//! ([`card_front::PinBAttempts`]); this port only reports the combined read.
//!
//! Each frame is copied into an OpenCV image for the reader, which zeroes it once read; the
//! frame itself zeroizes on drop. The camera is closed after every read. The digits leave only
//! in a zeroizing [`PinB`].

use card_front::{read_card_front_frames, CardFrontReader, Date};
use face_match::Frame;
use opencv::core::Mat;

use super::camera::{CameraOpener, LazyCamera};
use super::ports::CardFrontPort;
use crate::errors::Failure;
use crate::session::{CardFrontReading, PinB};

/// The card-front camera and the OCR.
pub struct OcrCardFront {
    reader: CardFrontReader,
    camera: LazyCamera,
    /// A combined read this confident ends the read early (the policy's submit threshold).
    enough: f32,
}

impl OcrCardFront {
    /// Reads frames until the combined read is at least `enough` confident in every digit.
    pub fn new(reader: CardFrontReader, open_camera: CameraOpener, enough: f32) -> Self {
        Self {
            reader,
            camera: LazyCamera::new(open_camera),
            enough,
        }
    }
}

impl CardFrontPort for OcrCardFront {
    fn read(&mut self) -> Result<CardFrontReading, Failure> {
        let mut camera_error = None;
        let mut frames = 0usize;
        let camera = &mut self.camera;
        let images = std::iter::from_fn(|| match camera.next_frame() {
            Ok(frame) => {
                frames += 1;
                Some(image_of(&frame))
            }
            Err(e) => {
                camera_error = Some(e);
                None
            }
        });
        let read = read_card_front_frames(&self.reader, images, Date::today(), self.enough);
        self.camera.close();
        if let Some(e) = camera_error {
            return Err(e);
        }
        Ok(match read {
            Ok(read) => {
                let min_confidence = read.min_confidence();
                tracing::info!(min_confidence, frames, "card front read");
                CardFrontReading::Read {
                    pin_b: PinB::new(&read.pin_b()),
                    min_confidence,
                }
            }
            Err(e) => {
                tracing::info!(error = %e, frames, "card front not read");
                CardFrontReading::Unreadable
            }
        })
    }
}

/// The reader's copy of `frame` (an empty image, which the reader rejects, if OpenCV cannot
/// wrap it).
fn image_of(frame: &Frame) -> Mat {
    match frame.as_mat() {
        Ok(view) => view.clone_pointee(),
        Err(e) => {
            tracing::warn!(error = %e, "card-front frame not usable");
            Mat::default()
        }
    }
}

/// The demo card's fronts come from the demo's simulator.
#[cfg(all(test, feature = "demo"))]
mod tests {
    use super::*;
    use crate::errors::KioskError;
    use face_match::{CameraError, CameraSource};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Photos of the `normal` profile's card front, then the camera stops.
    struct Fronts {
        left: usize,
        seed: u64,
    }

    impl CameraSource for Fronts {
        fn next_frame(&mut self) -> Result<Frame, CameraError> {
            if self.left == 0 {
                return Err(CameraError::Stopped {
                    origin: "test fronts".into(),
                });
            }
            self.left -= 1;
            self.seed += 1;
            let holder = card_sim::Profile::load("normal").unwrap().holder;
            let front = super::super::sim::card_front_identity(&holder.unwrap()).unwrap();
            let shot = card_front::identity_photo(&front, self.seed).unwrap();
            Ok(Frame::from_mat(&shot.image).unwrap())
        }
    }

    /// A port whose camera gives `frames` photos per opening; counts the openings.
    fn port(frames: usize, enough: f32) -> (OcrCardFront, Arc<AtomicUsize>) {
        let opened = Arc::new(AtomicUsize::new(0));
        let count = opened.clone();
        let open: CameraOpener = Box::new(move || {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(Box::new(Fronts {
                left: frames,
                seed: 0,
            }))
        });
        let config = crate::config::Config::default();
        let runtime = crate::kiosk::tests::runtime(&config);
        let reader = CardFrontReader::new(runtime.environment(), &config.face.models_dir).unwrap();
        (OcrCardFront::new(reader, open, enough), opened)
    }

    #[test]
    fn a_read_combines_the_frames_and_closes_the_camera() {
        // Never confident enough to stop early: every frame up to MAX_FRAMES is read.
        let (mut ocr, opened) = port(card_front::MAX_FRAMES, 1.01);
        let pin_b = PinB::new(&card_sim::Profile::load("normal").unwrap().pin_b);
        for reads in 1..=2 {
            match ocr.read().unwrap() {
                CardFrontReading::Read { pin_b: read, .. } => assert!(read == pin_b),
                CardFrontReading::Unreadable => panic!("MAX_FRAMES photos of a clean card"),
            }
            assert_eq!(opened.load(Ordering::Relaxed), reads, "reopened per read");
        }
    }

    #[test]
    fn a_camera_that_stops_mid_read_is_an_error_not_a_partial_read() {
        let (mut ocr, opened) = port(1, 1.01);
        assert!(matches!(
            ocr.read(),
            Err(Failure {
                error: KioskError::CameraMissing,
                ..
            })
        ));
        assert!(matches!(
            ocr.read(),
            Err(Failure {
                error: KioskError::CameraMissing,
                ..
            })
        ));
        assert_eq!(
            opened.load(Ordering::Relaxed),
            2,
            "closed after the failure"
        );
    }
}
