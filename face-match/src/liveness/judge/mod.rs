//! The frame-by-frame judge of one liveness challenge.

use std::time::Duration;

use super::signature::FrameSignature;
use super::{uniform, LivenessChallenge, LivenessConfig, LivenessError, RandomSource};
use crate::detector::DetectedFace;
use crate::frame::Frame;
use crate::pose::HeadPose;

/// What the kiosk should show after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum LivenessProgress {
    /// "Look straight at the camera": waiting for a steady neutral pose.
    LookStraight,
    /// "Do the action now"; `progress` runs from 0 to 1 as it is being done.
    Act {
        challenge: LivenessChallenge,
        progress: f32,
    },
    /// "Now look straight again" after a head turn.
    LookStraightAgain,
    /// Decided: later frames change nothing.
    Done(LivenessResult),
}

/// The decision on one challenge. Holds numbers only, never pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessResult {
    pub passed: bool,
    pub challenge: LivenessChallenge,
    /// Why it failed (`None` when passed).
    pub reason: Option<LivenessFailure>,
    pub timings: LivenessTimings,
}

/// When things happened. `prompted` is from the first frame; the action times are from the
/// prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LivenessTimings {
    /// Frames observed.
    pub frames: u32,
    /// First frame to the prompt (neutral pose held).
    pub prompted: Option<Duration>,
    /// Prompt to the start of the action.
    pub action_started: Option<Duration>,
    /// Prompt to the completed action.
    pub action_completed: Option<Duration>,
    /// First frame to the decision.
    pub total: Duration,
}

/// Why a challenge failed; each is one message the kiosk can show or log.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum LivenessFailure {
    #[error("did not look straight at the camera in time")]
    NoNeutralPose,
    #[error("the requested action did not start in time")]
    ActionNotStarted,
    #[error("the requested action was not completed in time")]
    ActionNotCompleted,
    #[error("did not look straight again after the head turn")]
    NoReturnToNeutral,
    #[error("the liveness check took too long")]
    TotalTimeLimit,
    #[error("the face narrowed like a tilted photo, without the nose moving like a head turn")]
    FlatFace,
    #[error("the eyes could not be measured for the blink challenge")]
    EyesNotMeasured,
    #[error("another action was done: {observed}")]
    WrongAction { observed: LivenessChallenge },
    #[error("{count} faces in the picture; only one person may be in front of the camera")]
    SeveralFaces { count: usize },
    #[error("the face was lost")]
    FaceLost,
    #[error("the face jumped between frames (not one continuous person)")]
    TrackJump,
    #[error("the picture is frozen ({repeats} identical frames in a row)")]
    FrozenFrames { repeats: u32 },
    #[error("no frame for {} ms", gap.as_millis())]
    FrameGap { gap: Duration },
    #[error("frame times went backwards")]
    ClockWentBack,
}

/// The neutral pose the action is measured against.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    yaw: f32,
    aspect: f32,
    size: f32,
    /// Eye openness (0 when not measured).
    eyes: f32,
}

#[derive(Debug)]
enum Phase {
    /// Waiting for the neutral pose to be held for the hold time.
    Neutral {
        since: Option<Duration>,
        sum: Baseline,
        count: u32,
    },
    Act {
        prompted: Duration,
        base: Baseline,
        /// Blink: the eyes have been seen closed.
        eyes_closed: bool,
    },
    Return {
        completed: Duration,
        base: Baseline,
    },
    Done(LivenessResult),
}

/// Follows one challenge over frames; see [`LivenessJudge::observe`].
#[derive(Debug)]
pub struct LivenessJudge {
    challenge: LivenessChallenge,
    config: LivenessConfig,
    hold: Duration,
    phase: Phase,
    timings: LivenessTimings,
    first: Option<Duration>,
    last_time: Option<Duration>,
    last_pose: Option<HeadPose>,
    missing_since: Option<Duration>,
    last_signature: Option<FrameSignature>,
    repeats: u32,
}

impl LivenessJudge {
    /// A judge for `challenge` that asks for the shortest neutral hold of `config`.
    pub fn new(
        challenge: LivenessChallenge,
        config: LivenessConfig,
    ) -> Result<Self, LivenessError> {
        config.validate()?;
        Ok(Self {
            challenge,
            hold: config.min_neutral_hold,
            config,
            phase: Phase::Neutral {
                since: None,
                sum: Baseline::ZERO,
                count: 0,
            },
            timings: LivenessTimings::default(),
            first: None,
            last_time: None,
            last_pose: None,
            missing_since: None,
            last_signature: None,
            repeats: 0,
        })
    }

    /// A judge for a challenge drawn from `config.challenges`, with a neutral hold drawn
    /// between `min_neutral_hold` and `max_neutral_hold` (in whole milliseconds).
    pub fn random(
        config: LivenessConfig,
        rng: &mut impl RandomSource,
    ) -> Result<Self, LivenessError> {
        config.validate()?;
        let challenge = LivenessChallenge::choose(&config.challenges, rng)?;
        let spread = config
            .max_neutral_hold
            .saturating_sub(config.min_neutral_hold);
        let spread_ms = u32::try_from(spread.as_millis()).unwrap_or(u32::MAX);
        let extra = uniform(rng, spread_ms.saturating_add(1).max(1))?;
        let hold = config.min_neutral_hold + Duration::from_millis(extra.into());
        let mut judge = Self::new(challenge, config)?;
        judge.hold = hold.min(judge.config.max_neutral_hold);
        Ok(judge)
    }

    /// The challenge being judged.
    pub fn challenge(&self) -> LivenessChallenge {
        self.challenge
    }

    /// How long the neutral pose must be held before the prompt.
    pub fn neutral_hold(&self) -> Duration {
        self.hold
    }

    /// Judges one frame: `t` is its capture time on any monotonic clock, `faces` what the
    /// detector found in it. Returns what to show next; once [`LivenessProgress::Done`], the
    /// same result is returned for every later frame. A blink challenge needs
    /// [`LivenessJudge::observe_with_eyes`].
    pub fn observe(
        &mut self,
        t: Duration,
        faces: &[DetectedFace],
        frame: &Frame,
    ) -> LivenessProgress {
        self.observe_inner(t, faces, frame, None)
    }

    /// [`LivenessJudge::observe`] with the eye openness of the face measured by an
    /// [`EyeMeter`](super::EyeMeter): `None` when it could not be measured in this frame (e.g.
    /// FaceMesh found no face in a strongly turned head); a blink is judged on the others.
    pub fn observe_with_eyes(
        &mut self,
        t: Duration,
        faces: &[DetectedFace],
        frame: &Frame,
        eyes: Option<f32>,
    ) -> LivenessProgress {
        self.observe_inner(t, faces, frame, Some(eyes))
    }

    /// `meter` is `None` when the caller measures no eyes at all, else this frame's openness.
    fn observe_inner(
        &mut self,
        t: Duration,
        faces: &[DetectedFace],
        frame: &Frame,
        meter: Option<Option<f32>>,
    ) -> LivenessProgress {
        if let Phase::Done(result) = &self.phase {
            return LivenessProgress::Done(result.clone());
        }
        self.timings.frames += 1;
        let first = *self.first.get_or_insert(t);
        let elapsed = t.saturating_sub(first);
        let Some(eyes) = meter.or((self.challenge != LivenessChallenge::Blink).then_some(None))
        else {
            return self.finish(elapsed, Some(LivenessFailure::EyesNotMeasured));
        };
        match self.check_frame(t, elapsed, faces, frame) {
            Ok(pose) => match self.advance(t, elapsed, pose.map(|p| (p, eyes))) {
                Ok(progress) => progress,
                Err(Verdict::Pass) => self.finish(elapsed, None),
                Err(Verdict::Fail(reason)) => self.finish(elapsed, Some(reason)),
            },
            Err(reason) => self.finish(elapsed, Some(reason)),
        }
    }

    /// The checks every frame must pass whatever the phase: time, freshness, one
    /// continuous face. Returns the face's pose, or `None` while it is briefly missing.
    fn check_frame(
        &mut self,
        t: Duration,
        elapsed: Duration,
        faces: &[DetectedFace],
        frame: &Frame,
    ) -> Result<Option<HeadPose>, LivenessFailure> {
        if let Some(last) = self.last_time.replace(t) {
            if t < last {
                return Err(LivenessFailure::ClockWentBack);
            }
            if t - last > self.config.max_frame_gap {
                return Err(LivenessFailure::FrameGap { gap: t - last });
            }
        }
        if elapsed > self.config.max_total {
            return Err(LivenessFailure::TotalTimeLimit);
        }
        let signature = FrameSignature::of(frame);
        if self.last_signature.as_ref() == Some(&signature) {
            self.repeats += 1;
            if self.repeats > self.config.max_repeats {
                return Err(LivenessFailure::FrozenFrames {
                    repeats: self.repeats + 1,
                });
            }
        } else {
            self.repeats = 0;
        }
        self.last_signature = Some(signature);
        if faces.len() > 1 {
            return Err(LivenessFailure::SeveralFaces { count: faces.len() });
        }
        let Some(pose) = faces.first().and_then(HeadPose::of) else {
            let since = *self.missing_since.get_or_insert(t);
            if t - since > self.config.max_missing {
                return Err(LivenessFailure::FaceLost);
            }
            return Ok(None);
        };
        self.missing_since = None;
        if let Some(last) = self.last_pose.replace(pose) {
            let step = pose.size / last.size;
            let steps_too_far = step > self.config.max_size_step
                || step < 1.0 / self.config.max_size_step
                || pose.shift_from(&last) > self.config.max_shift;
            if steps_too_far {
                return Err(LivenessFailure::TrackJump);
            }
        }
        Ok(Some(pose))
    }

    /// Moves the phase on with this frame's pose.
    fn advance(
        &mut self,
        t: Duration,
        elapsed: Duration,
        seen: Option<(HeadPose, Option<f32>)>,
    ) -> Result<LivenessProgress, Verdict> {
        let blink = self.challenge == LivenessChallenge::Blink;
        let pose = seen.map(|(p, _)| p);
        // A blink is judged on the frames where the eyes could be measured.
        let eyes = seen.and_then(|(_, eyes)| eyes);
        let config = &self.config;
        match &mut self.phase {
            Phase::Neutral { since, sum, count } => {
                if elapsed > config.neutral_window {
                    return Err(Verdict::Fail(LivenessFailure::NoNeutralPose));
                }
                let measured = !blink || eyes.is_some();
                match pose.filter(|p| p.yaw.abs() <= config.neutral_yaw && measured) {
                    Some(p) => {
                        let start = *since.get_or_insert(t);
                        sum.yaw += p.yaw;
                        sum.aspect += p.aspect;
                        sum.size += p.size;
                        sum.eyes += eyes.unwrap_or(0.0);
                        *count += 1;
                        if t - start >= self.hold {
                            let n = *count as f32;
                            let base = Baseline {
                                yaw: sum.yaw / n,
                                aspect: sum.aspect / n,
                                size: sum.size / n,
                                eyes: sum.eyes / n,
                            };
                            self.timings.prompted = Some(elapsed);
                            self.phase = Phase::Act {
                                prompted: t,
                                base,
                                eyes_closed: false,
                            };
                            return Ok(self.act_progress(0.0));
                        }
                    }
                    None => {
                        *since = None;
                        (*sum, *count) = (Baseline::ZERO, 0);
                    }
                }
                Ok(LivenessProgress::LookStraight)
            }
            Phase::Act {
                prompted,
                base,
                eyes_closed,
            } => {
                let (prompted, base) = (*prompted, *base);
                let since_prompt = t - prompted;
                let done = match pose {
                    Some(p) if blink => {
                        let openness = eyes.map(|e| e / base.eyes);
                        *eyes_closed |= openness.is_some_and(|o| o <= config.closed_eyes);
                        let closed = *eyes_closed;
                        let reopened = closed && openness.is_some_and(|o| o >= config.open_eyes);
                        self.check_not_other_action(p, base)?;
                        [0.0, 0.5, 1.0][usize::from(closed) + usize::from(reopened)]
                    }
                    Some(p) => {
                        self.check_not_other_action(p, base)?;
                        self.action_fraction(p, base)
                    }
                    None => 0.0,
                };
                if done >= self.config.start_fraction {
                    self.timings.action_started.get_or_insert(since_prompt);
                }
                if done >= 1.0 {
                    self.timings.action_completed = Some(since_prompt);
                    let is_turn = matches!(
                        self.challenge,
                        LivenessChallenge::TurnLeft | LivenessChallenge::TurnRight
                    );
                    return match self.config.return_window {
                        Some(_) if is_turn => {
                            self.phase = Phase::Return { completed: t, base };
                            Ok(LivenessProgress::LookStraightAgain)
                        }
                        _ => Err(Verdict::Pass),
                    };
                }
                if self.timings.action_started.is_none() && since_prompt > self.config.start_window
                {
                    return Err(Verdict::Fail(LivenessFailure::ActionNotStarted));
                }
                if since_prompt > self.config.completion_window {
                    return Err(Verdict::Fail(LivenessFailure::ActionNotCompleted));
                }
                Ok(self.act_progress(done))
            }
            Phase::Return { completed, base } => {
                let (completed, base) = (*completed, *base);
                if let Some(p) = pose {
                    self.check_not_other_action(p, base)?;
                    if (p.yaw - base.yaw).abs() <= self.config.neutral_yaw {
                        return Err(Verdict::Pass);
                    }
                }
                let window = self.config.return_window.unwrap_or_default();
                if t - completed > window {
                    return Err(Verdict::Fail(LivenessFailure::NoReturnToNeutral));
                }
                Ok(LivenessProgress::LookStraightAgain)
            }
            Phase::Done(result) => Ok(LivenessProgress::Done(result.clone())),
        }
    }

    fn act_progress(&self, done: f32) -> LivenessProgress {
        LivenessProgress::Act {
            challenge: self.challenge,
            progress: done.clamp(0.0, 1.0),
        }
    }

    /// How much of the action `pose` shows: 0 at the neutral pose, 1 when complete.
    fn action_fraction(&self, pose: HeadPose, base: Baseline) -> f32 {
        let turned = (pose.yaw - base.yaw) / self.config.turn_yaw;
        match self.challenge {
            LivenessChallenge::TurnLeft => turned,
            LivenessChallenge::TurnRight => -turned,
            LivenessChallenge::MoveCloser => {
                (pose.size / base.size - 1.0) / (self.config.closer_ratio - 1.0)
            }
            // Judged from the eyes in `advance`.
            LivenessChallenge::Blink => 0.0,
        }
    }

    /// Fails when `pose` completes an action other than the one asked for (a replayed clip of
    /// another challenge, or the person misunderstood), or narrowed like a flat photo.
    fn check_not_other_action(&self, pose: HeadPose, base: Baseline) -> Result<(), Verdict> {
        let yaw = pose.yaw - base.yaw;
        // Turning by θ narrows the eye distance to about cos θ and moves the nose sideways by
        // about tan θ times its depth; tilting a photo narrows it alike but leaves the nose on
        // the midline.
        let narrowing = pose.aspect / base.aspect;
        if narrowing <= self.config.flat_check_below {
            let tan = (1.0 - narrowing * narrowing).max(0.0).sqrt() / narrowing;
            if yaw.abs() < self.config.min_parallax * tan {
                return Err(Verdict::Fail(LivenessFailure::FlatFace));
            }
        }
        let turned = yaw / self.config.turn_yaw;
        let observed = if turned <= -1.0 {
            Some(LivenessChallenge::TurnRight)
        } else if turned >= 1.0 {
            Some(LivenessChallenge::TurnLeft)
        } else if pose.size / base.size >= self.config.closer_ratio {
            Some(LivenessChallenge::MoveCloser)
        } else {
            None
        };
        match observed {
            Some(observed) if observed != self.challenge => {
                Err(Verdict::Fail(LivenessFailure::WrongAction { observed }))
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self, elapsed: Duration, reason: Option<LivenessFailure>) -> LivenessProgress {
        self.timings.total = elapsed;
        let result = LivenessResult {
            passed: reason.is_none(),
            challenge: self.challenge,
            reason,
            timings: self.timings.clone(),
        };
        self.phase = Phase::Done(result.clone());
        self.last_signature = None;
        LivenessProgress::Done(result)
    }
}

impl Baseline {
    const ZERO: Self = Self {
        yaw: 0.0,
        aspect: 0.0,
        size: 0.0,
        eyes: 0.0,
    };
}

/// The end of a challenge, carried out of the phase logic.
enum Verdict {
    Pass,
    Fail(LivenessFailure),
}

#[cfg(test)]
mod tests;
