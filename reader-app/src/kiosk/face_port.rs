//! [`FacePort`] over face-match: YuNet + SFace on ONNX Runtime, the configured camera,
//! quality guidance and the active liveness judge. The chip photo's embedding and the live
//! one are [`Embedding`]s (zeroized on drop); frames are dropped right after their check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use face_match::liveness::{LivenessChallenge, LivenessConfig, LivenessJudge, LivenessProgress};
use face_match::{Embedding, FaceMatcher, Frame, MatchError};
use slint::{Rgb8Pixel, SharedPixelBuffer};
use zeroize::Zeroizing;

use super::camera::{CameraOpener, LazyCamera};
use super::ports::{CaptureProgress, FacePort};
use crate::errors::KioskError;
use crate::session::{Capture, Challenge, FaceMatch, Guidance, LivenessCheck};

/// Size of the on-screen preview.
const PREVIEW: (u32, u32) = (320, 240);

/// The face pipeline with a camera.
pub struct CameraFace {
    matcher: FaceMatcher,
    camera: LazyCamera,
    /// `None`: liveness off (allowed in demo mode only, for still images).
    liveness: Option<LivenessConfig>,
    threshold: f32,
    /// Best of this many usable frames per capture (fewer on a match).
    frames_per_attempt: u32,
    /// Shortest time between two frames (the camera's frame rate, also for image folders).
    frame_interval: Duration,
    reference: Option<Embedding>,
    live: Option<Embedding>,
}

impl CameraFace {
    pub fn new(
        matcher: FaceMatcher,
        open_camera: CameraOpener,
        liveness: Option<LivenessConfig>,
        fps: u32,
    ) -> Self {
        let policy = matcher.policy();
        Self {
            matcher,
            camera: LazyCamera::new(open_camera),
            liveness,
            threshold: policy.threshold,
            frames_per_attempt: policy.frames_per_attempt.max(1),
            frame_interval: Duration::from_secs(1) / fps.max(1),
            reference: None,
            live: None,
        }
    }
}

impl FacePort for CameraFace {
    fn set_reference(&mut self, photo: Zeroizing<Vec<u8>>) -> Result<(), KioskError> {
        self.reference = None;
        match self.matcher.chip_embedding(photo) {
            Ok(embedding) => {
                self.reference = Some(embedding);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "chip photo unusable");
                Err(match e {
                    MatchError::Camera(_) => KioskError::CameraMissing,
                    _ => KioskError::NoFaceInPhoto,
                })
            }
        }
    }

    fn capture(
        &mut self,
        challenge: Challenge,
        report: &mut dyn FnMut(CaptureProgress),
        stop: &AtomicBool,
    ) -> Result<Capture, KioskError> {
        self.live = None;
        let mut judge = match &self.liveness {
            Some(config) => Some(
                LivenessJudge::new(liveness_challenge(challenge), config.clone()).map_err(|e| {
                    tracing::error!(error = %e, "liveness configuration");
                    KioskError::ModelMissing
                })?,
            ),
            None => None,
        };
        let interval = self.frame_interval;
        let started = Instant::now();
        // Usable frames of the attempt, and the best score among them.
        let (mut used, mut best) = (0u32, None::<f32>);
        let mut liveness_done = judge.is_none();
        let result = loop {
            let due = Instant::now() + interval;
            if stop.load(Ordering::Relaxed) {
                break Ok(Capture::LivenessFailed);
            }
            let frame = self.camera.next_frame()?;
            let (check, embedding) = self.matcher.check_frame(&frame).map_err(|e| {
                tracing::warn!(error = %e, "face pipeline failed");
                KioskError::ModelMissing
            })?;
            if let Some(buffer) = preview(&frame) {
                report(CaptureProgress::Preview(buffer));
            }
            let guidance = match check.verdict {
                Err(g) => guidance(g),
                Ok(_) => Guidance::HoldStill,
            };
            report(CaptureProgress::Guidance(guidance));
            let progress = judge
                .as_mut()
                .filter(|_| !liveness_done)
                .map(|j| j.observe(started.elapsed(), &check.faces, &frame));
            drop(frame);
            match progress {
                Some(LivenessProgress::Done(r)) if !r.passed => {
                    tracing::info!(reason = ?r.reason, "liveness failed");
                    break Ok(Capture::LivenessFailed);
                }
                Some(LivenessProgress::Done(_)) => liveness_done = true,
                _ => {}
            }
            if let Some(embedding) = embedding {
                let score = self.reference.as_ref().map(|r| embedding.cosine(r));
                if best.zip(score).is_none_or(|(b, s)| s > b) {
                    best = score;
                    self.live = Some(embedding);
                }
                used += 1;
            }
            let matched = best.is_some_and(|b| b >= self.threshold);
            if liveness_done && self.live.is_some() && (matched || used >= self.frames_per_attempt)
            {
                tracing::debug!(frames = used, "face captured");
                let liveness = if judge.is_some() {
                    LivenessCheck::Passed
                } else {
                    LivenessCheck::NotRun
                };
                break Ok(Capture::Captured { liveness });
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        };
        if !matches!(result, Ok(Capture::Captured { .. })) {
            self.live = None;
        }
        result
    }

    fn compare(&mut self) -> Result<FaceMatch, KioskError> {
        let reference = self.reference.as_ref().ok_or(KioskError::NoFaceInPhoto)?;
        let live = self.live.take().ok_or(KioskError::FaceTimedOut)?;
        let score = live.cosine(reference);
        Ok(FaceMatch {
            score,
            matched: score >= self.threshold,
        })
    }

    fn discard(&mut self) {
        self.reference = None;
        self.live = None;
        // Closing the camera drops any frame it buffered.
        self.camera.close();
    }
}

/// A downscaled RGB copy of `frame` for the screen.
fn preview(frame: &Frame) -> Option<SharedPixelBuffer<Rgb8Pixel>> {
    let small = frame.fit_into(PREVIEW.0, PREVIEW.1).ok()?;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(PREVIEW.0, PREVIEW.1);
    let width = PREVIEW.0 as usize;
    for (y, out) in buffer.make_mut_slice().chunks_exact_mut(width).enumerate() {
        let row = small.row(y as u32)?;
        for (pixel, bgr) in out.iter_mut().zip(row.chunks_exact(3)) {
            *pixel = Rgb8Pixel::new(bgr[2], bgr[1], bgr[0]);
        }
    }
    Some(buffer)
}

fn liveness_challenge(challenge: Challenge) -> LivenessChallenge {
    match challenge {
        Challenge::TurnLeft => LivenessChallenge::TurnLeft,
        Challenge::TurnRight => LivenessChallenge::TurnRight,
        Challenge::Closer => LivenessChallenge::MoveCloser,
        Challenge::Blink => LivenessChallenge::Blink,
    }
}

fn guidance(g: face_match::Guidance) -> Guidance {
    use face_match::Guidance as G;
    match g {
        G::NoFace => Guidance::NoFace,
        G::SeveralFaces => Guidance::SeveralFaces,
        G::TooSmall => Guidance::MoveCloser,
        G::OffGuide => Guidance::CenterFace,
        // The session has one lighting hint.
        G::TooDark | G::TooBright => Guidance::TooDark,
        G::Blurred => Guidance::HoldStill,
        G::HeadTurned => Guidance::LookStraight,
        G::EyesCovered => Guidance::UncoverEyes,
    }
}
