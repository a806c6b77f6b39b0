//! [`CardFrontPort`] over card-front: photos from the card-front camera (`[card_front_camera]`)
//! read by the 照合番号B OCR as successive frames of one card
//! ([`card_front::read_card_front_frames`]: up to [`card_front::MAX_FRAMES`], per-digit votes).
//! Whether a read may be presented to the card is the session's submit policy
//! ([`card_front::PinBAttempts`]); this port only reports the combined read.
//!
//! Each frame is copied into an OpenCV image for the reader, which zeroes it once read; the
//! frame itself zeroizes on drop. The camera is closed after every read. The digits leave only
//! in a zeroizing [`PinB`].
//!
//! The reader's models (PP-OCR's recogniser and text detector) are loaded for each read and
//! dropped after it, with the freed memory returned to the system: the kiosk does not hold them
//! while it waits or matches a face (README.md, "Where the kiosk's memory goes").

use card_front::{read_card_front_frames, CardFrontReader, Date, OcrError, SubmitPolicy};
use face_match::Frame;
use opencv::core::Mat;

use super::camera::{CameraOpener, LazyCamera};
use super::ports::CardFrontPort;
use crate::errors::{Failure, KioskError};
use crate::session::{CardFrontReading, PinB};

/// Loads the card-front reader (its models' files are checked on every load).
pub type ReaderLoader = Box<dyn FnMut() -> Result<CardFrontReader, OcrError> + Send>;

/// The card-front camera and the OCR.
pub struct OcrCardFront {
    load: ReaderLoader,
    camera: LazyCamera,
    /// A combined read sure under this policy ends the read early.
    policy: SubmitPolicy,
}

impl OcrCardFront {
    /// Reads frames until the combined read is sure under `policy`, with a reader from
    /// `load` for each read. `load` is tried once here, so that a missing
    /// or altered model stops the start-up rather than a patient's session.
    pub fn new(
        mut load: ReaderLoader,
        open_camera: CameraOpener,
        policy: SubmitPolicy,
    ) -> Result<Self, OcrError> {
        drop(load()?);
        super::memory::return_freed();
        Ok(Self {
            load,
            camera: LazyCamera::new(open_camera),
            policy,
        })
    }
}

impl CardFrontPort for OcrCardFront {
    fn read(&mut self) -> Result<CardFrontReading, Failure> {
        let started = std::time::Instant::now();
        let reader = (self.load)().map_err(|e| {
            Failure::new(
                KioskError::ModelMissing,
                format!("the card-front reader cannot load: {e}"),
            )
        })?;
        tracing::debug!(
            ms = started.elapsed().as_millis(),
            "card-front reader loaded"
        );
        let read = self.read_with(&reader);
        drop(reader);
        super::memory::return_freed();
        read
    }
}

impl OcrCardFront {
    fn read_with(&mut self, reader: &CardFrontReader) -> Result<CardFrontReading, Failure> {
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
        let read = read_card_front_frames(reader, images, Date::today(), &self.policy);
        self.camera.close();
        if let Some(e) = camera_error {
            return Err(e);
        }
        Ok(match read {
            Ok(read) => {
                let min_confidence = read.min_confidence();
                let (agreeing_frames, second_look) = (read.agreeing_frames, read.second_look);
                tracing::info!(
                    min_confidence,
                    agreeing_frames,
                    second_look,
                    frames,
                    "card front read"
                );
                CardFrontReading::Read {
                    pin_b: PinB::new(&read.pin_b()),
                    min_confidence,
                    agreeing_frames,
                    second_look,
                }
            }
            Err(e) => {
                tracing::info!(error = %e, frames, "card front not read");
                match e {
                    OcrError::SeveralCards => CardFrontReading::SeveralCards,
                    OcrError::CardBack => CardFrontReading::CardBack,
                    _ => CardFrontReading::Unreadable,
                }
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
        let config = crate::config::Config::default();
        port_on(&config.face.models_dir, frames, enough)
    }

    /// A policy that stops reading frames once a combined read is `enough` sure, however many
    /// frames gave it.
    fn stopping_at(enough: f32) -> SubmitPolicy {
        SubmitPolicy {
            min_confidence: enough,
            lone_frame_confidence: enough,
            ..SubmitPolicy::default()
        }
    }

    /// [`port`] with the models of `models`.
    fn port_on(
        models: &std::path::Path,
        frames: usize,
        enough: f32,
    ) -> (OcrCardFront, Arc<AtomicUsize>) {
        let opened = Arc::new(AtomicUsize::new(0));
        let count = opened.clone();
        let open: CameraOpener = Box::new(move || {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(Box::new(Fronts {
                left: frames,
                seed: 0,
            }))
        });
        let runtime = crate::kiosk::tests::runtime(&crate::config::Config::default());
        let models = models.to_path_buf();
        let load: ReaderLoader =
            Box::new(move || CardFrontReader::new(runtime.environment(), &models));
        (
            OcrCardFront::new(load, open, stopping_at(enough)).unwrap(),
            opened,
        )
    }

    #[test]
    fn the_demo_card_is_read_from_one_frame() {
        // Its first frame is at least 0.99 sure (since PP-OCRv6's recognisers; before, 0.95 with
        // an agreeing second look): no second look and no second frame are taken.
        let (mut ocr, _) = port(card_front::MAX_FRAMES, 1.01);
        ocr.policy = SubmitPolicy::default();
        match ocr.read().unwrap() {
            CardFrontReading::Read {
                min_confidence,
                agreeing_frames,
                second_look,
                ..
            } => {
                assert!(min_confidence >= 0.99, "{min_confidence}");
                assert_eq!((agreeing_frames, second_look), (1, false));
            }
            other => panic!("photos of a clean card: {other:?}"),
        }
    }

    #[test]
    fn a_read_combines_the_frames_and_closes_the_camera() {
        // Never confident enough to stop early: every frame up to MAX_FRAMES is read.
        let (mut ocr, opened) = port(card_front::MAX_FRAMES, 1.01);
        let pin_b = PinB::new(&card_sim::Profile::load("normal").unwrap().pin_b);
        for reads in 1..=3 {
            assert_reads(&mut ocr, &pin_b);
            assert_eq!(opened.load(Ordering::Relaxed), reads, "reopened per read");
        }
    }

    fn assert_reads(ocr: &mut OcrCardFront, pin_b: &PinB) {
        match ocr.read().unwrap() {
            CardFrontReading::Read { pin_b: read, .. } => assert!(read == *pin_b),
            other => panic!("photos of a clean card: {other:?}"),
        }
    }

    #[test]
    fn the_models_load_for_each_read_and_one_gone_fails_that_read_only() {
        use crate::kiosk::tests::{linked_models, relink};
        let models = card_front::OCR_MODELS.map(|(file, _)| file);
        let dir = linked_models("mynakiosk-ocr-models", &models);
        let (mut ocr, _) = port_on(&dir, card_front::MAX_FRAMES, 0.9);
        let pin_b = PinB::new(&card_sim::Profile::load("normal").unwrap().pin_b);
        assert_reads(&mut ocr, &pin_b);
        std::fs::remove_file(dir.join(models[0])).unwrap();
        assert!(matches!(
            ocr.read(),
            Err(Failure {
                error: KioskError::ModelMissing,
                ..
            })
        ));
        // Loaded again from the files: the later reads work as the first did.
        relink(&dir, models[0]);
        assert_reads(&mut ocr, &pin_b);
        assert_reads(&mut ocr, &pin_b);
        std::fs::remove_dir_all(&dir).unwrap();
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
