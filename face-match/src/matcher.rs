//! Matching the live face against the chip photo: detection, quality gate, alignment,
//! embedding and the decision policy (threshold, best of N frames, time limit, attempts).
//!
//! The comparison API takes the chip photo bytes and the frames by value and drops each as
//! soon as it is used, so no pixels survive it; the outcome holds scores and timings only.
//! Liveness is judged by its own module: it can watch every frame through the observer
//! passed to [`MatchSession::attempt`], and the caller combines both results.

use std::path::Path;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::align::{align_face, AlignError};
use crate::best_of::BestOfFrames;
use crate::camera::CameraError;
use crate::chip_photo::{decode_jp2, PhotoError};
use crate::detector::YUNET_2023MAR_SHA256;
use crate::detector::{DetectedFace, DetectorConfig, FaceDetector, FaceTrack, YUNET_2023MAR_FILE};
use crate::embedder::{Embedding, FaceEmbedder, SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256};
use crate::error::FaceError;
use crate::frame::{Frame, RgbImage};
pub use crate::policy::{Decision, MatchPolicy};
use crate::quality::{Guidance, QualityConfig, QualityMeasures};
use crate::runtime::OrtRuntime;

/// Why a comparison could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The chip photo could not be decoded.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The chip photo decoded, but no face was found in it.
    #[error("no face was found in the card photo")]
    NoFaceInChipPhoto,
    /// The camera failed or stopped during the attempt.
    #[error(transparent)]
    Camera(#[from] CameraError),
    /// The models failed.
    #[error(transparent)]
    Face(#[from] FaceError),
    /// Every attempt allowed by the policy has been used.
    #[error("all {0} face matching attempts have been used")]
    AttemptsExhausted(u32),
}

/// Where the time of an attempt went (sums over its frames).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MatchTimings {
    /// Decoding, detecting and embedding the chip photo (once per session).
    pub chip: Duration,
    pub detect: Duration,
    /// The closer look ([`FaceDetector::refined`]) at a single picture's face and at each live
    /// face the quality gate accepts.
    pub refine: Duration,
    pub align: Duration,
    pub embed: Duration,
    /// The whole attempt, including waiting for frames.
    pub attempt: Duration,
}

/// The result of one attempt: scores and timings, never pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOutcome {
    pub decision: Decision,
    /// Best cosine score of the attempt (`None` when no frame was usable).
    pub best_score: Option<f32>,
    pub threshold: f32,
    /// Frames received, and frames that passed the gate and were compared.
    pub frames_seen: u32,
    pub frames_used: u32,
    /// This attempt's number (from 1), and how many the policy still allows.
    pub attempt: u32,
    pub attempts_left: u32,
    /// The guidance of the last rejected frame, if any.
    pub last_guidance: Option<Guidance>,
    pub timings: MatchTimings,
}

/// What the pipeline saw in one frame, for the UI and for liveness.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameCheck {
    /// Every detected face, best score first.
    pub faces: Vec<DetectedFace>,
    /// The measures of the chosen face, or what the patient should change.
    pub verdict: Result<QualityMeasures, Guidance>,
    /// When the frame was checked.
    pub at: Instant,
}

/// Why no face was embedded from a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum NotAcquired {
    /// No face was found, also after the detector's retries.
    #[error("no face found")]
    NoFace,
    /// A face was found but its landmarks are degenerate or do not fit a face's layout.
    #[error("face landmarks refused by the alignment check")]
    BadLandmarks,
}

/// The detector, the embedder and the policy, loaded once at start.
pub struct FaceMatcher {
    detector: FaceDetector,
    embedder: FaceEmbedder,
    quality: QualityConfig,
    policy: MatchPolicy,
    timings: MatchTimings,
    /// The face followed across live frames ([`FaceMatcher::check_followed_frame`]).
    track: FaceTrack,
}

impl FaceMatcher {
    pub fn new(
        detector: FaceDetector,
        embedder: FaceEmbedder,
        quality: QualityConfig,
        policy: MatchPolicy,
    ) -> Self {
        Self {
            detector,
            embedder,
            quality,
            policy,
            timings: MatchTimings::default(),
            track: FaceTrack::new(),
        }
    }

    /// Loads YuNet and SFace from `models_dir` (file names and checksums of this release).
    pub fn load(
        runtime: &OrtRuntime,
        models_dir: &Path,
        quality: QualityConfig,
        policy: MatchPolicy,
    ) -> Result<Self, FaceError> {
        let detector = FaceDetector::new(
            runtime,
            &models_dir.join(YUNET_2023MAR_FILE),
            YUNET_2023MAR_SHA256,
            DetectorConfig::default(),
        )?;
        let embedder = FaceEmbedder::new(
            runtime,
            &models_dir.join(SFACE_2021DEC_FILE),
            SFACE_2021DEC_SHA256,
        )?;
        Ok(Self::new(detector, embedder, quality, policy))
    }

    pub fn policy(&self) -> MatchPolicy {
        self.policy
    }

    /// Where the time went since the last session started (or since loading).
    pub fn timings(&self) -> MatchTimings {
        self.timings
    }

    /// Embeds the largest face of `frame` without any quality gate (chip photos, evaluation);
    /// `None` when there is no face.
    pub fn embed_largest_face(&mut self, frame: &Frame) -> Result<Option<Embedding>, FaceError> {
        Ok(self.acquire_largest_face(frame)?.ok())
    }

    /// As [`FaceMatcher::embed_largest_face`], with the reason when nothing was embedded.
    pub fn acquire_largest_face(
        &mut self,
        frame: &Frame,
    ) -> Result<Result<Embedding, NotAcquired>, FaceError> {
        self.acquire(frame, false)
    }

    /// [`FaceMatcher::acquire_largest_face`]; for a chip photo (`chip`), taken as upright.
    fn acquire(
        &mut self,
        frame: &Frame,
        chip: bool,
    ) -> Result<Result<Embedding, NotAcquired>, FaceError> {
        match self.face_crop(frame, chip)? {
            Ok((_, crop)) => self.embed_picture_crop(&crop).map(Ok),
            Err(why) => Ok(Err(why)),
        }
    }

    /// The largest face of `frame` and the quality gate's measures of it, whatever their
    /// verdict (evaluation); `None` when there is no face.
    pub fn measure_largest_face(
        &mut self,
        frame: &Frame,
    ) -> Result<Option<(DetectedFace, QualityMeasures)>, FaceError> {
        Ok(self
            .largest_face_crop(frame)?
            .ok()
            .map(|(face, crop)| (face, QualityMeasures::of(&crop))))
    }

    /// Decodes the chip photo, drops its bytes and pixels, and returns its face's embedding
    /// (as [`FaceMatcher::embed_largest_face`], the photo taken as upright:
    /// [`FaceDetector::refined_chip_photo`]).
    pub fn chip_embedding(&mut self, jp2: Zeroizing<Vec<u8>>) -> Result<Embedding, MatchError> {
        let photo = decode_jp2(&jp2)?;
        drop(jp2);
        let frame = photo.to_bgr().map_err(FaceError::from)?;
        drop(photo);
        self.acquire(&frame, true)?
            .map_err(|_| MatchError::NoFaceInChipPhoto)
    }

    /// Starts a session on a chip photo (consumed): up to [`MatchPolicy::max_attempts`]
    /// attempts against its embedding, which is zeroized when the session ends.
    pub fn session(&mut self, jp2: Zeroizing<Vec<u8>>) -> Result<MatchSession<'_>, MatchError> {
        self.timings = MatchTimings::default();
        let started = Instant::now();
        let chip = self.chip_embedding(jp2)?;
        let chip_time = started.elapsed();
        Ok(MatchSession {
            matcher: self,
            chip,
            chip_time,
            attempts_used: 0,
        })
    }

    /// One attempt on a chip photo: [`FaceMatcher::session`] then [`MatchSession::attempt`].
    pub fn compare<I>(
        &mut self,
        jp2: Zeroizing<Vec<u8>>,
        frames: I,
        observer: impl FnMut(&Frame, &FrameCheck),
    ) -> Result<MatchOutcome, MatchError>
    where
        I: IntoIterator<Item = Result<Frame, CameraError>>,
    {
        // On an error with the photo, `frames` is dropped with whatever it holds.
        self.session(jp2)?.attempt(frames, observer)
    }

    /// Runs the detector on the whole of `frame` (every face in it, as the liveness judge
    /// needs) and the quality gate; the embedding of an accepted face. A frame the gate refuses
    /// is not embedded. The face found is followed by [`FaceMatcher::check_followed_frame`].
    pub fn check_frame(
        &mut self,
        frame: &Frame,
    ) -> Result<(FrameCheck, Option<Embedding>), FaceError> {
        let faces = self.detect_whole_frame(frame)?;
        self.gate_and_embed(frame, faces, true)
    }

    /// As [`FaceMatcher::check_frame`] without the closer look and the embedding, for frames
    /// whose score cannot change the decision any more (the kiosk's frames after a match,
    /// while the liveness judge finishes): the detector on the whole frame and the gate only.
    pub fn gate_frame(&mut self, frame: &Frame) -> Result<FrameCheck, FaceError> {
        let faces = self.detect_whole_frame(frame)?;
        Ok(self.gate_and_embed(frame, faces, false)?.0)
    }

    /// Every face in the whole of `frame`, timed; the largest is followed from then on.
    fn detect_whole_frame(&mut self, frame: &Frame) -> Result<Vec<DetectedFace>, FaceError> {
        let started = Instant::now();
        let faces = self.detector.detect(frame)?;
        self.timings.detect += started.elapsed();
        self.track.follow(&faces);
        Ok(faces)
    }

    /// As [`FaceMatcher::check_frame`] for a live frame that follows the previous ones: the
    /// detector looks only around the face found last, at a reduced size
    /// ([`FaceDetector::detect_tracked`]), so a face elsewhere in the frame is not seen.
    pub fn check_followed_frame(
        &mut self,
        frame: &Frame,
    ) -> Result<(FrameCheck, Option<Embedding>), FaceError> {
        let started = Instant::now();
        let faces = self.detector.detect_tracked(frame, &mut self.track)?;
        self.timings.detect += started.elapsed();
        self.gate_and_embed(frame, faces, true)
    }

    /// Follows no face any more: the next [`FaceMatcher::check_followed_frame`] searches the
    /// whole frame (a new person, e.g. a new match attempt).
    pub fn forget_followed_face(&mut self) {
        self.track = FaceTrack::new();
    }

    /// The quality gate on the chosen one of `faces`, and if it passes and `embed` is set the
    /// embedding, aligned from the closer look's landmarks.
    fn gate_and_embed(
        &mut self,
        frame: &Frame,
        faces: Vec<DetectedFace>,
        embed: bool,
    ) -> Result<(FrameCheck, Option<Embedding>), FaceError> {
        let at = Instant::now();
        let chosen = self
            .quality
            .select_face(frame.width(), frame.height(), &faces);
        let (verdict, embedding) = match chosen {
            Err(guidance) => (Err(guidance), None),
            Ok(face) => match self.timed_align(frame, &face)? {
                None => (Err(Guidance::NoFace), None),
                Some(crop) => match self.quality.check_crop(&crop) {
                    Err(guidance) => (Err(guidance), None),
                    Ok(measures) if !embed => (Ok(measures), None),
                    Ok(measures) => {
                        // Aligned again from the closer look's landmarks: YuNet's own are
                        // placed as if a head tilted in the image plane were upright.
                        let refined = self.timed_refine(frame, face)?;
                        let crop = self.timed_align(frame, &refined)?.unwrap_or(crop);
                        (Ok(measures), Some(self.embed_crop(&crop)?))
                    }
                },
            },
        };
        Ok((FrameCheck { faces, verdict, at }, embedding))
    }

    /// The embedding of `face` in `frame` as its landmarks place it, as a single picture's
    /// ([`FaceMatcher::embed_picture_crop`]; evaluation); `None` when the alignment check
    /// refuses them.
    pub fn embed_face(
        &mut self,
        frame: &Frame,
        face: &DetectedFace,
    ) -> Result<Option<Embedding>, FaceError> {
        match self.timed_align(frame, face)? {
            Some(crop) => self.embed_picture_crop(&crop).map(Some),
            None => Ok(None),
        }
    }

    /// The largest face of `frame` (detected with retries, its landmarks measured again
    /// upright at YuNet's best size) and its aligned crop, or why there is none.
    pub fn largest_face_crop(
        &mut self,
        frame: &Frame,
    ) -> Result<Result<(DetectedFace, RgbImage), NotAcquired>, FaceError> {
        self.face_crop(frame, false)
    }

    /// [`FaceMatcher::largest_face_crop`]; for a chip photo (`chip`), taken as upright.
    fn face_crop(
        &mut self,
        frame: &Frame,
        chip: bool,
    ) -> Result<Result<(DetectedFace, RgbImage), NotAcquired>, FaceError> {
        let started = Instant::now();
        let (faces, prepared) = self.detector.detect_with_retries(frame)?;
        self.timings.detect += started.elapsed();
        let frame = prepared.as_ref().unwrap_or(frame);
        let Some(face) = faces
            .into_iter()
            .max_by(|a, b| a.bbox.2.total_cmp(&b.bbox.2))
        else {
            return Ok(Err(NotAcquired::NoFace));
        };
        let started = Instant::now();
        let face = match chip {
            true => self.detector.refined_chip_photo(frame, face)?,
            false => self.detector.refined_picture(frame, face)?,
        };
        self.timings.refine += started.elapsed();
        Ok(self
            .timed_align(frame, &face)?
            .map(|crop| (face, crop))
            .ok_or(NotAcquired::BadLandmarks))
    }

    /// `face` after the closer look ([`FaceDetector::refined`]), timed.
    fn timed_refine(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
    ) -> Result<DetectedFace, FaceError> {
        let started = Instant::now();
        let face = self.detector.refined(frame, face)?;
        self.timings.refine += started.elapsed();
        Ok(face)
    }

    /// The aligned crop of `face`; `None` when its landmarks are degenerate or implausible.
    fn timed_align(
        &mut self,
        frame: &Frame,
        face: &DetectedFace,
    ) -> Result<Option<RgbImage>, FaceError> {
        let started = Instant::now();
        let crop = match align_face(frame, face) {
            Ok(crop) => crop,
            Err(AlignError::DegenerateLandmarks | AlignError::ImplausibleLandmarks { .. }) => {
                return Ok(None)
            }
            Err(AlignError::Image(e)) => return Err(e.into()),
        };
        self.timings.align += started.elapsed();
        Ok(Some(crop))
    }

    /// The embedding of an aligned crop of a single picture (the chip photo, evaluation),
    /// averaged with its mirror's ([`FaceEmbedder::embed_with_mirror`]) when the detector's
    /// [`DetectorConfig::mirrors`] is on, timed.
    pub fn embed_picture_crop(&mut self, crop: &RgbImage) -> Result<Embedding, FaceError> {
        let started = Instant::now();
        let embedding = match self.detector.config().mirrors {
            true => self.embedder.embed_with_mirror(crop)?,
            false => self.embedder.embed(crop)?,
        };
        self.timings.embed += started.elapsed();
        Ok(embedding)
    }

    /// The embedding of an aligned crop, timed.
    pub fn embed_crop(&mut self, crop: &RgbImage) -> Result<Embedding, FaceError> {
        let started = Instant::now();
        let embedding = self.embedder.embed(crop)?;
        self.timings.embed += started.elapsed();
        Ok(embedding)
    }
}

/// Attempts against one chip photo's embedding (zeroized when the session is dropped).
pub struct MatchSession<'m> {
    matcher: &'m mut FaceMatcher,
    chip: Embedding,
    chip_time: Duration,
    attempts_used: u32,
}

impl MatchSession<'_> {
    /// Attempts the policy still allows.
    pub fn attempts_left(&self) -> u32 {
        self.matcher
            .policy
            .max_attempts
            .saturating_sub(self.attempts_used)
    }

    /// One attempt: takes frames (each dropped right after its check) until a usable frame
    /// matches, [`MatchPolicy::frames_per_attempt`] usable frames were compared, the time
    /// limit passed or the frames end. `observer` sees every frame and its check before the
    /// frame is dropped. Frames not taken are dropped with the iterator.
    pub fn attempt<I>(
        &mut self,
        frames: I,
        mut observer: impl FnMut(&Frame, &FrameCheck),
    ) -> Result<MatchOutcome, MatchError>
    where
        I: IntoIterator<Item = Result<Frame, CameraError>>,
    {
        if self.attempts_left() == 0 {
            return Err(MatchError::AttemptsExhausted(
                self.matcher.policy.max_attempts,
            ));
        }
        self.attempts_used += 1;
        self.matcher.forget_followed_face();
        let policy = self.matcher.policy;
        let limit = Duration::from_secs_f32(policy.attempt_seconds.max(0.0));
        self.matcher.timings = MatchTimings {
            chip: self.chip_time,
            ..MatchTimings::default()
        };
        let started = Instant::now();
        let mut best = BestOfFrames::new(&policy);
        let (mut seen, mut last_guidance) = (0, None);
        for frame in frames {
            if started.elapsed() > limit {
                break;
            }
            let frame = frame?;
            seen += 1;
            let (check, embedding) = self.matcher.check_followed_frame(&frame)?;
            observer(&frame, &check);
            drop(frame);
            if let Err(guidance) = check.verdict {
                last_guidance = Some(guidance);
            }
            if let Some(embedding) = embedding {
                if best.push(embedding.cosine(&self.chip)) {
                    break;
                }
            }
        }
        let mut timings = self.matcher.timings;
        timings.attempt = started.elapsed();
        Ok(MatchOutcome {
            decision: best.decision(),
            best_score: best.best_score(),
            threshold: policy.threshold,
            frames_seen: seen,
            frames_used: best.frames_used(),
            attempt: self.attempts_used,
            attempts_left: self.attempts_left(),
            last_guidance,
            timings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_reads_from_partial_toml_and_refuses_unknown_keys() {
        let policy: MatchPolicy = toml::from_str("threshold = 0.45\nmax_attempts = 2\n").unwrap();
        assert_eq!(policy.threshold, 0.45);
        assert_eq!(policy.max_attempts, 2);
        assert_eq!(
            policy.frames_per_attempt,
            MatchPolicy::default().frames_per_attempt
        );
        assert!(toml::from_str::<MatchPolicy>("treshold = 0.4\n").is_err());
        let quality: QualityConfig =
            toml::from_str("min_face_px = 100.0\n[guide_oval]\nradius_x = 0.3\n").unwrap();
        assert_eq!(quality.min_face_px, 100.0);
        assert_eq!(quality.guide_oval.radius_x, 0.3);
        assert_eq!(quality.guide_oval.center_y, 0.45);
    }
}
