//! The face pipeline loaded when a face session first needs it and dropped when that session's
//! biometrics are discarded: YuNet's and SFace's sessions are not held while the kiosk waits,
//! reads a card front or takes a PIN (README.md, "Where the kiosk's memory goes").

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};

use face_match::liveness::LivenessConfig;
use face_match::{FaceMatcher, MatchPolicy, OrtRuntime, QualityConfig};
use zeroize::Zeroizing;

use super::camera::CameraOpener;
use super::face_port::CameraFace;
use super::ports::{CaptureProgress, FacePort};
use crate::errors::{Failure, KioskError};
use crate::session::{Capture, Challenge, FaceMatch};

/// Builds the face pipeline (its model files are checked on every load).
pub type FaceLoader = Box<dyn FnMut() -> Result<Box<dyn FacePort>, Failure> + Send>;

/// A [`FacePort`] whose pipeline is loaded on first use and dropped on [`FacePort::discard`].
pub struct FaceOnDemand {
    load: FaceLoader,
    loaded: Option<Box<dyn FacePort>>,
}

impl FaceOnDemand {
    /// Tries `load` once, so that a missing or altered model stops the start-up rather than a
    /// patient's session, and keeps it for the sessions.
    pub fn new(mut load: FaceLoader) -> anyhow::Result<Self> {
        drop(load().map_err(|failure| anyhow::anyhow!("{failure}"))?);
        super::memory::return_freed();
        Ok(Self { load, loaded: None })
    }

    fn loaded(&mut self) -> Result<&mut Box<dyn FacePort>, Failure> {
        let face = match self.loaded.take() {
            Some(face) => face,
            None => {
                let started = std::time::Instant::now();
                let face = (self.load)()?;
                tracing::debug!(ms = started.elapsed().as_millis(), "face pipeline loaded");
                face
            }
        };
        Ok(self.loaded.insert(face))
    }
}

impl FacePort for FaceOnDemand {
    fn set_reference(&mut self, photo: Zeroizing<Vec<u8>>) -> Result<(), Failure> {
        self.loaded()?.set_reference(photo)
    }

    fn capture(
        &mut self,
        challenge: Challenge,
        slower: u32,
        report: &mut dyn FnMut(CaptureProgress),
        stop: &AtomicBool,
    ) -> Result<Capture, Failure> {
        self.loaded()?.capture(challenge, slower, report, stop)
    }

    fn compare(&mut self) -> Result<FaceMatch, Failure> {
        match &mut self.loaded {
            Some(face) => face.compare(),
            // Nothing was captured since the pipeline was last dropped.
            None => Err(KioskError::FaceTimedOut.into()),
        }
    }

    fn discard(&mut self) {
        if let Some(mut face) = self.loaded.take() {
            face.discard();
        }
    }
}

/// What the kiosk's face pipeline is built from, each time it is loaded.
pub struct CameraFaceParts {
    pub runtime: OrtRuntime,
    pub models_dir: PathBuf,
    pub quality: QualityConfig,
    pub policy: MatchPolicy,
    pub open_camera: CameraOpener,
    /// `None`: liveness off (demo mode only).
    pub liveness: Option<LivenessConfig>,
    pub fps: u32,
}

/// The loader of a [`CameraFace`] on YuNet and SFace; the camera is opened through the one
/// `open_camera` by every pipeline loaded.
pub fn camera_face_loader(parts: CameraFaceParts) -> FaceLoader {
    let open = Arc::new(Mutex::new(parts.open_camera));
    Box::new(move || {
        let matcher = FaceMatcher::load(
            &parts.runtime,
            &parts.models_dir,
            parts.quality,
            parts.policy,
        )
        .map_err(|e| {
            Failure::new(
                KioskError::ModelMissing,
                format!("the face models cannot load: {e}"),
            )
        })?;
        let open = open.clone();
        let camera: CameraOpener =
            Box::new(move || (open.lock().unwrap_or_else(PoisonError::into_inner))());
        Ok(Box::new(CameraFace::new(
            matcher,
            camera,
            parts.liveness.clone(),
            parts.fps,
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::tests::{linked_models, relink};
    use crate::session::LivenessCheck;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The pipeline on the models in `models`, a still portrait of the chip photo's holder as
    /// the camera, liveness off; counts its loads.
    fn on_demand(models: &std::path::Path) -> (FaceOnDemand, Arc<AtomicUsize>) {
        let config = crate::config::Config::default();
        let folder = portraits().join("obama2.jpg");
        let mut load = camera_face_loader(CameraFaceParts {
            runtime: crate::kiosk::tests::runtime(&config),
            models_dir: models.to_path_buf(),
            quality: config.face.quality,
            policy: config.match_policy(),
            open_camera: Box::new(move || {
                Ok(Box::new(face_match::ImageFolderSource::open(&folder)?))
            }),
            liveness: None,
            fps: 60,
        });
        let loads = Arc::new(AtomicUsize::new(0));
        let count = loads.clone();
        let counted: FaceLoader = Box::new(move || {
            count.fetch_add(1, Ordering::Relaxed);
            load()
        });
        (FaceOnDemand::new(counted).unwrap(), loads)
    }

    fn portraits() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval/portraits")
    }

    /// A card-like chip photo of the holder.
    fn chip() -> Zeroizing<Vec<u8>> {
        let mut photo =
            face_match::ImageFolderSource::open(&portraits().join("obama.jpg")).unwrap();
        let frame = face_match::CameraSource::next_frame(&mut photo).unwrap();
        face_match::eval::ChipSimulator::card_like()
            .unwrap()
            .encode(&frame)
            .unwrap()
    }

    /// One face session: the chip photo, a capture, the comparison, the biometrics discarded.
    fn session(face: &mut FaceOnDemand) -> Result<FaceMatch, Failure> {
        let result = face.set_reference(chip()).and_then(|()| {
            let captured =
                face.capture(Challenge::TurnLeft, 1, &mut |_| {}, &AtomicBool::new(false))?;
            assert_eq!(
                captured,
                Capture::Captured {
                    liveness: LivenessCheck::NotRun
                }
            );
            face.compare()
        });
        face.discard();
        result
    }

    #[test]
    fn the_pipeline_loads_per_session_and_a_model_gone_fails_that_session_only() {
        let models = [
            face_match::YUNET_2023MAR_FILE,
            face_match::SFACE_2021DEC_FILE,
        ];
        let dir = linked_models("mynakiosk-face-models", &models);
        let (mut face, loads) = on_demand(&dir);
        assert_eq!(loads.load(Ordering::Relaxed), 1, "tried at start-up");
        assert!(session(&mut face).unwrap().matched);
        assert_eq!(loads.load(Ordering::Relaxed), 2);
        assert!(face.loaded.is_none(), "dropped with the biometrics");
        std::fs::remove_file(dir.join(models[1])).unwrap();
        let gone = session(&mut face).unwrap_err();
        assert_eq!(gone.error, KioskError::ModelMissing);
        // Loaded again from the files: the later sessions match as the first did.
        relink(&dir, models[1]);
        for later in 4..=5 {
            assert!(session(&mut face).unwrap().matched);
            assert_eq!(loads.load(Ordering::Relaxed), later);
        }
        assert_eq!(
            face.compare().unwrap_err().error,
            KioskError::FaceTimedOut,
            "nothing captured since"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
