//! [`FacePort`] over face-match: YuNet + SFace on ONNX Runtime, the configured camera,
//! quality guidance, the active liveness judge and face-match's best-of-N decision. The chip
//! photo's embedding and each live one are [`Embedding`]s (zeroized on drop); a live embedding
//! is dropped once scored, and frames right after their check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use face_match::liveness::{LivenessChallenge, LivenessConfig, LivenessJudge, LivenessProgress};
use face_match::{BestOfFrames, Decision, Embedding, FaceMatcher, Frame, MatchError, MatchPolicy};
use slint::{Rgb8Pixel, SharedPixelBuffer};
use zeroize::Zeroizing;

use super::camera::{CameraOpener, LazyCamera};
use super::ports::{CaptureProgress, FacePort};
use crate::errors::{Failure, KioskError};
use crate::session::{Capture, Challenge, FaceMatch, Guidance, LivenessCheck};

/// Size of the on-screen preview.
pub(super) const PREVIEW: (u32, u32) = (320, 240);

/// The face pipeline with a camera.
pub struct CameraFace {
    matcher: FaceMatcher,
    camera: LazyCamera,
    /// `None`: liveness off (allowed in demo mode only, for still images).
    liveness: Option<LivenessConfig>,
    /// The threshold, and the best of how many usable frames a capture takes.
    policy: MatchPolicy,
    /// Shortest time between two frames (the camera's frame rate, also for image folders).
    frame_interval: Duration,
    reference: Option<Embedding>,
    /// The scores of the last completed capture.
    captured: Option<BestOfFrames>,
}

impl CameraFace {
    pub fn new(
        matcher: FaceMatcher,
        open_camera: CameraOpener,
        liveness: Option<LivenessConfig>,
        fps: u32,
    ) -> Self {
        Self {
            policy: matcher.policy(),
            matcher,
            camera: LazyCamera::new(open_camera),
            liveness,
            frame_interval: Duration::from_secs(1) / fps.max(1),
            reference: None,
            captured: None,
        }
    }
}

impl FacePort for CameraFace {
    fn set_reference(&mut self, photo: Zeroizing<Vec<u8>>) -> Result<(), Failure> {
        self.reference = None;
        match self.matcher.chip_embedding(photo) {
            Ok(embedding) => {
                self.reference = Some(embedding);
                Ok(())
            }
            Err(e) => {
                let error = match e {
                    MatchError::Camera(_) => KioskError::CameraMissing,
                    _ => KioskError::NoFaceInPhoto,
                };
                Err(Failure::new(error, format!("chip photo unusable: {e}")))
            }
        }
    }

    fn capture(
        &mut self,
        challenge: Challenge,
        slower: u32,
        report: &mut dyn FnMut(CaptureProgress),
        stop: &AtomicBool,
    ) -> Result<Capture, Failure> {
        self.captured = None;
        let reference = self.reference.as_ref().ok_or(KioskError::NoFaceInPhoto)?;
        let mut judge = match &self.liveness {
            Some(config) => Some(
                LivenessJudge::new(liveness_challenge(challenge), slowed(config, slower)).map_err(
                    |e| {
                        Failure::new(
                            KioskError::ModelMissing,
                            format!("liveness configuration: {e}"),
                        )
                    },
                )?,
            ),
            None => None,
        };
        let interval = self.frame_interval;
        let started = Instant::now();
        let mut best = BestOfFrames::new(&self.policy);
        let mut liveness_done = judge.is_none();
        loop {
            let due = Instant::now() + interval;
            if stop.load(Ordering::Relaxed) {
                return Ok(Capture::LivenessFailed);
            }
            let frame = self.camera.next_frame()?;
            // The liveness judge needs every face in the frame; once it is done, the detector
            // only follows the face.
            let checked = match liveness_done {
                // After a match no score can change the decision: no closer look, no embedding.
                false if best.decision() == Decision::Match => {
                    self.matcher.gate_frame(&frame).map(|check| (check, None))
                }
                false => self.matcher.check_frame(&frame),
                true => self.matcher.check_followed_frame(&frame),
            };
            let (check, embedding) = checked.map_err(|e| {
                Failure::new(
                    KioskError::ModelMissing,
                    format!("face pipeline failed: {e}"),
                )
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
                    return Ok(Capture::LivenessFailed);
                }
                Some(LivenessProgress::Done(_)) => liveness_done = true,
                _ => {}
            }
            if let Some(embedding) = embedding {
                best.push(embedding.cosine(reference));
            }
            if liveness_done && best.is_complete() {
                tracing::debug!(frames = best.frames_used(), "face captured");
                self.captured = Some(best);
                let liveness = if judge.is_some() {
                    LivenessCheck::Passed
                } else {
                    LivenessCheck::NotRun
                };
                return Ok(Capture::Captured { liveness });
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    }

    fn compare(&mut self) -> Result<FaceMatch, Failure> {
        let best = self.captured.take().ok_or(KioskError::FaceTimedOut)?;
        let score = best.best_score().ok_or(KioskError::FaceTimedOut)?;
        Ok(FaceMatch {
            score,
            matched: best.decision() == Decision::Match,
        })
    }

    fn discard(&mut self) {
        self.reference = None;
        self.captured = None;
        // Closing the camera drops any frame it buffered.
        self.camera.close();
    }
}

/// The liveness judge's time limits × `slower` (the neutral hold before the prompt is drawn
/// as configured: it is a wait, not a limit).
fn slowed(config: &LivenessConfig, slower: u32) -> LivenessConfig {
    let longer = |d: Duration| d.saturating_mul(slower);
    LivenessConfig {
        neutral_window: longer(config.neutral_window),
        start_window: longer(config.start_window),
        completion_window: longer(config.completion_window),
        return_window: config.return_window.map(longer),
        max_total: longer(config.max_total),
        max_missing: longer(config.max_missing),
        ..config.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assisted_mode_gives_every_liveness_step_longer_but_the_same_hold() {
        let config = LivenessConfig::default();
        let slow = slowed(&config, 2);
        assert_eq!(slow.neutral_window, config.neutral_window * 2);
        assert_eq!(slow.start_window, config.start_window * 2);
        assert_eq!(slow.completion_window, config.completion_window * 2);
        assert_eq!(slow.return_window, config.return_window.map(|d| d * 2));
        assert_eq!(slow.max_total, config.max_total * 2);
        assert_eq!(slow.max_missing, config.max_missing * 2);
        assert_eq!(slow.min_neutral_hold, config.min_neutral_hold);
        assert_eq!(slowed(&config, 1), config);
        // The judge takes the longer limits (they stay consistent with the hold).
        assert!(LivenessJudge::new(LivenessChallenge::TurnLeft, slow).is_ok());
    }
}
