//! Active liveness: a random challenge (turn the head left or right; move closer is not offered
//! by default, see [`LivenessConfig::challenges`]) judged from
//! face landmarks over a sequence of frames, with time limits and consistency checks against
//! photos, frozen frames and replayed clips.
//!
//! No passive anti-spoofing model can be installed offline (see `shared/spec/face-pipeline.md`),
//! so liveness is proven by a prompted action: the kiosk picks a [`LivenessChallenge`] at
//! random, shows its prompt when the person looks straight at the camera, and a
//! [`LivenessJudge`] follows the landmarks until the action is done, too late, or wrong.
//! Liveness is reported on its own ([`LivenessResult`]), separately from the face match.
//!
//! Privacy: the judge keeps landmarks-derived numbers and a 16-byte hash of the last frame,
//! never pixels; the hash is zeroized on drop.

mod eyes;
mod judge;
mod signature;

use std::fmt;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

pub use eyes::{EyeMeter, FACEMESH_FILE, FACEMESH_SHA256};
pub use judge::{
    LivenessFailure, LivenessJudge, LivenessProgress, LivenessResult, LivenessTimings,
};

/// The action the person is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LivenessChallenge {
    /// Turn the head to the person's own left (the nose moves to the camera image's right).
    TurnLeft,
    /// Turn the head to the person's own right.
    TurnRight,
    /// Come closer to the camera (the face grows).
    MoveCloser,
    /// Close the eyes and open them again (needs an [`EyeMeter`]).
    Blink,
}

impl LivenessChallenge {
    /// Every challenge this module can judge.
    pub const ALL: [Self; 4] = [
        Self::TurnLeft,
        Self::TurnRight,
        Self::MoveCloser,
        Self::Blink,
    ];
    /// The challenges judged from YuNet's landmarks alone.
    pub const HEAD_MOVES: [Self; 3] = [Self::TurnLeft, Self::TurnRight, Self::MoveCloser];
    /// The head turns: their nose parallax is what a flat picture cannot show.
    pub const TURNS: [Self; 2] = [Self::TurnLeft, Self::TurnRight];

    /// Picks one of `offered` uniformly with `rng`.
    pub fn choose(offered: &[Self], rng: &mut impl RandomSource) -> Result<Self, LivenessError> {
        if offered.is_empty() {
            return Err(LivenessError::InvalidConfig(
                "no liveness challenge is offered".into(),
            ));
        }
        Ok(offered[uniform(rng, offered.len() as u32)? as usize])
    }
}

impl fmt::Display for LivenessChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TurnLeft => "turn head left",
            Self::TurnRight => "turn head right",
            Self::MoveCloser => "move closer",
            Self::Blink => "blink",
        })
    }
}

/// Thresholds and time limits of the judge. Yaw is the nose's offset from the face midline in
/// inter-ocular distances (about 0 looking straight, ±0.3 or more in a clear head turn).
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessConfig {
    /// The challenges [`LivenessJudge::random`] chooses from (add
    /// [`LivenessChallenge::Blink`] when an [`EyeMeter`] is loaded). The default offers the
    /// head turns only: "move closer" is judged from the face's growth alone, which a printed
    /// photo brought towards the camera fakes (`liveness_eval`: 100 % of such attacks pass it).
    pub challenges: Vec<LivenessChallenge>,
    /// |yaw| at most this counts as looking straight.
    pub neutral_yaw: f32,
    /// Yaw change from the neutral pose that completes a head turn.
    pub turn_yaw: f32,
    /// Face size (relative to the neutral pose) that completes "move closer".
    pub closer_ratio: f32,
    /// A face whose eye distance (relative to eyes–mouth) narrows to this fraction of the
    /// neutral pose's or less is checked for the nose parallax of a real head turn.
    pub flat_check_below: f32,
    /// The nose's sideways move (yaw) must be at least this times the tangent of the turn angle
    /// implied by the narrowing; a flat, tilted photo shows almost none. Real turns measured
    /// 0.45–0.9, tilted portraits at most 0.18.
    pub min_parallax: f32,
    /// Eye openness (relative to the neutral pose) at or below which the eyes count as closed.
    pub closed_eyes: f32,
    /// Eye openness at or above which closed eyes count as open again.
    pub open_eyes: f32,
    /// Fraction of the action after which it counts as started.
    pub start_fraction: f32,
    /// The neutral pose must be held this long before the prompt; [`LivenessJudge::random`]
    /// draws a hold uniformly between the two so a replayed clip cannot be timed in advance.
    pub min_neutral_hold: Duration,
    pub max_neutral_hold: Duration,
    /// From the first frame, the time to reach the neutral pose.
    pub neutral_window: Duration,
    /// From the prompt, the time to start the action.
    pub start_window: Duration,
    /// From the prompt, the time to complete the action.
    pub completion_window: Duration,
    /// After a head turn, look straight again within this time (`None`: not required).
    pub return_window: Option<Duration>,
    /// From the first frame, the longest the whole challenge may take.
    pub max_total: Duration,
    /// The longest the face may be missing (e.g. undetected at the far end of a turn).
    pub max_missing: Duration,
    /// The longest gap between two frames (a stalled camera or a spliced clip).
    pub max_frame_gap: Duration,
    /// Largest move of the face centre between two frames, in face sizes.
    pub max_shift: f32,
    /// Largest change of face size between two frames, as a ratio (≥ 1, either way).
    pub max_size_step: f32,
    /// How many exact repeats of a frame in a row are tolerated (a camera may deliver one
    /// buffer twice); one more is a frozen picture.
    pub max_repeats: u32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            challenges: LivenessChallenge::TURNS.to_vec(),
            neutral_yaw: 0.18,
            turn_yaw: 0.3,
            closer_ratio: 1.3,
            flat_check_below: 0.85,
            closed_eyes: 0.6,
            open_eyes: 0.85,
            min_parallax: 0.3,
            start_fraction: 0.3,
            min_neutral_hold: Duration::from_millis(300),
            max_neutral_hold: Duration::from_millis(900),
            neutral_window: Duration::from_secs(8),
            start_window: Duration::from_secs(3),
            completion_window: Duration::from_secs(5),
            return_window: Some(Duration::from_secs(3)),
            max_total: Duration::from_secs(15),
            max_missing: Duration::from_millis(500),
            max_frame_gap: Duration::from_millis(500),
            max_shift: 0.5,
            max_size_step: 1.25,
            max_repeats: 1,
        }
    }
}

impl LivenessConfig {
    /// Checks that the thresholds are consistent.
    pub fn validate(&self) -> Result<(), LivenessError> {
        let checks = [
            (
                self.neutral_yaw > 0.0 && self.turn_yaw > self.neutral_yaw,
                "need 0 < neutral_yaw < turn_yaw",
            ),
            (self.closer_ratio > 1.0, "closer_ratio must exceed 1"),
            (
                self.closed_eyes > 0.0 && self.closed_eyes < self.open_eyes,
                "need 0 < closed_eyes < open_eyes",
            ),
            (
                self.flat_check_below > 0.0
                    && self.flat_check_below < 1.0
                    && self.min_parallax >= 0.0,
                "need 0 < flat_check_below < 1 and min_parallax ≥ 0",
            ),
            (
                self.start_fraction > 0.0 && self.start_fraction < 1.0,
                "start_fraction must lie strictly between 0 and 1",
            ),
            (
                self.min_neutral_hold <= self.max_neutral_hold,
                "min_neutral_hold exceeds max_neutral_hold",
            ),
            (
                self.start_window <= self.completion_window,
                "start_window exceeds completion_window",
            ),
            (
                !self.max_total.is_zero() && !self.neutral_window.is_zero(),
                "time limits must be positive",
            ),
            (
                self.max_shift > 0.0 && self.max_size_step >= 1.0,
                "need max_shift > 0 and max_size_step ≥ 1",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, why)) => Err(LivenessError::InvalidConfig((*why).into())),
            None => Ok(()),
        }
    }
}

/// Why a judge could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LivenessError {
    /// The configuration is inconsistent.
    #[error("invalid liveness configuration: {0}")]
    InvalidConfig(String),
    /// The random number source failed.
    #[error("no random numbers for the liveness challenge")]
    Random,
}

/// Random numbers for choosing a challenge and the hold time; injectable for tests.
pub trait RandomSource {
    /// A uniformly random `u32`.
    fn next_u32(&mut self) -> Result<u32, LivenessError>;
}

/// The operating system's cryptographic random source (through `ring`).
#[derive(Debug)]
pub struct SystemRandomSource(SystemRandom);

impl Default for SystemRandomSource {
    fn default() -> Self {
        Self(SystemRandom::new())
    }
}

impl RandomSource for SystemRandomSource {
    fn next_u32(&mut self) -> Result<u32, LivenessError> {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes).map_err(|_| LivenessError::Random)?;
        Ok(u32::from_le_bytes(bytes))
    }
}

/// A uniform number in `0..n` (n ≥ 1), without modulo bias.
fn uniform(rng: &mut impl RandomSource, n: u32) -> Result<u32, LivenessError> {
    // Reject the top partial block of u32 values.
    let limit = u32::MAX - u32::MAX % n;
    loop {
        let value = rng.next_u32()?;
        if value < limit {
            return Ok(value % n);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Replays fixed numbers.
    pub(crate) struct Script(pub(crate) Vec<u32>);

    impl RandomSource for Script {
        fn next_u32(&mut self) -> Result<u32, LivenessError> {
            if self.0.is_empty() {
                Err(LivenessError::Random)
            } else {
                Ok(self.0.remove(0))
            }
        }
    }

    #[test]
    fn choose_maps_numbers_to_challenges_and_rejects_the_biased_tail() {
        let all = LivenessChallenge::HEAD_MOVES;
        let mut rng = Script(vec![0, 4, u32::MAX, 2]);
        assert_eq!(LivenessChallenge::choose(&all, &mut rng), Ok(all[0]));
        assert_eq!(LivenessChallenge::choose(&all, &mut rng), Ok(all[1]));
        // u32::MAX lies in the rejected tail (2^32 - 1 is ≡ 0 mod 3 but ≥ the limit).
        assert_eq!(LivenessChallenge::choose(&all, &mut rng), Ok(all[2]));
        assert_eq!(
            LivenessChallenge::choose(&all, &mut rng),
            Err(LivenessError::Random)
        );
        assert!(matches!(
            LivenessChallenge::choose(&[], &mut Script(vec![0])),
            Err(LivenessError::InvalidConfig(_))
        ));
    }

    #[test]
    fn system_random_reaches_every_challenge() {
        let mut rng = SystemRandomSource::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.insert(LivenessChallenge::choose(&LivenessChallenge::ALL, &mut rng).unwrap());
        }
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn default_config_is_valid_and_inconsistent_ones_are_refused() {
        LivenessConfig::default().validate().unwrap();
        let broken = [
            LivenessConfig {
                turn_yaw: 0.1,
                ..Default::default()
            },
            LivenessConfig {
                closer_ratio: 1.0,
                ..Default::default()
            },
            LivenessConfig {
                min_neutral_hold: Duration::from_secs(2),
                ..Default::default()
            },
            LivenessConfig {
                start_window: Duration::from_secs(9),
                ..Default::default()
            },
            LivenessConfig {
                max_size_step: 0.5,
                ..Default::default()
            },
        ];
        for config in broken {
            assert!(
                matches!(config.validate(), Err(LivenessError::InvalidConfig(_))),
                "{config:?}"
            );
        }
    }
}
