//! The decision policy of a face comparison, and the verdict of one attempt.

use serde::Deserialize;

/// The decision policy; every key is optional in the kiosk's TOML.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchPolicy {
    /// Cosine score at or above which the faces match (ORL: FMR 1e-3 at ≈0.38, 1e-4 at ≈0.46).
    pub threshold: f32,
    /// Best of this many usable frames per attempt (an attempt stops early on a match).
    pub frames_per_attempt: u32,
    /// Longest time one attempt may take, in seconds.
    pub attempt_seconds: f32,
    /// Attempts per chip photo before the caller falls back to the PIN.
    pub max_attempts: u32,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self {
            threshold: 0.42,
            frames_per_attempt: 5,
            attempt_seconds: 10.0,
            max_attempts: 3,
        }
    }
}

/// The verdict of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The best score reached the threshold.
    Match,
    /// Usable frames were compared and none reached the threshold.
    NoMatch,
    /// No frame passed the quality gate before the time limit or the end of the frames.
    NoUsableFrame,
}
