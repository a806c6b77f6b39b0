//! `[face]`, `[face.quality]` and `[face.challenge]`: ONNX Runtime, the face models, the match
//! threshold, the quality gate and the liveness challenge, each value checked against its range.

use face_match::liveness::LivenessConfig;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

use crate::session::Challenge;
use crate::setting::Invalid;

/// ONNX Runtime and the face models.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    /// Path of `libonnxruntime.so`.
    pub onnx_runtime: PathBuf,
    /// Folder holding the folded YuNet and SFace models.
    pub models_dir: PathBuf,
    /// Threads ONNX Runtime may use per inference.
    pub threads: usize,
    /// SFace cosine similarity at or above which the live face matches the chip photo.
    pub match_threshold: f32,
    /// Best of this many usable frames per attempt (the capture stops early on a match). The
    /// attempts and their time limit are `session.face_attempts` and `session.face_seconds`.
    pub frames_per_attempt: u32,
    /// Active liveness: `on`, or `off` (demo mode only: still images cannot turn a head).
    pub liveness: Liveness,
    /// `[face.quality]`: the thresholds of the quality gate and its guidance.
    pub quality: face_match::QualityConfig,
    /// `[face.challenge]`: the liveness challenges offered and their time limits.
    pub challenge: ChallengeConfig,
}

/// The active liveness challenge: which actions are asked and how long each step may take.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChallengeConfig {
    /// Drawn at random for each attempt: `turn_left`, `turn_right`, `closer`.
    pub offered: Vec<ChallengeKind>,
    /// From the first frame, seconds to look straight at the camera.
    pub neutral_seconds: f32,
    /// From the prompt, seconds to start the action.
    pub start_seconds: f32,
    /// From the prompt, seconds to complete it.
    pub complete_seconds: f32,
    /// After a head turn, seconds to look straight again (0: not required).
    pub return_seconds: f32,
    /// From the first frame, the longest the whole challenge may take.
    pub total_seconds: f32,
}

/// A liveness challenge as named in the configuration.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    TurnLeft,
    TurnRight,
    Closer,
    /// Refused by validation: the eye model is not validated on real blinks.
    Blink,
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        let judge = LivenessConfig::default();
        Self {
            // Not `closer`: a photo brought towards the camera passes it (face-match README).
            offered: vec![ChallengeKind::TurnLeft, ChallengeKind::TurnRight],
            neutral_seconds: judge.neutral_window.as_secs_f32(),
            start_seconds: judge.start_window.as_secs_f32(),
            complete_seconds: judge.completion_window.as_secs_f32(),
            return_seconds: judge.return_window.unwrap_or_default().as_secs_f32(),
            total_seconds: judge.max_total.as_secs_f32(),
        }
    }
}

impl ChallengeConfig {
    /// The session's challenges, in the configured order.
    pub fn session_challenges(&self) -> Vec<Challenge> {
        self.offered
            .iter()
            .map(|kind| match kind {
                ChallengeKind::TurnLeft => Challenge::TurnLeft,
                ChallengeKind::TurnRight => Challenge::TurnRight,
                ChallengeKind::Closer => Challenge::Closer,
                ChallengeKind::Blink => Challenge::Blink,
            })
            .collect()
    }

    /// The liveness judge's settings with these time limits.
    pub fn judge_config(&self) -> LivenessConfig {
        let seconds = Duration::from_secs_f32;
        LivenessConfig {
            neutral_window: seconds(self.neutral_seconds),
            start_window: seconds(self.start_seconds),
            completion_window: seconds(self.complete_seconds),
            return_window: (self.return_seconds > 0.0).then(|| seconds(self.return_seconds)),
            max_total: seconds(self.total_seconds),
            ..LivenessConfig::default()
        }
    }
}

/// Whether the active liveness challenge is judged.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    #[default]
    On,
    Off,
}

impl Default for FaceConfig {
    fn default() -> Self {
        let policy = face_match::MatchPolicy::default();
        Self {
            onnx_runtime: built_in_path(
                option_env!("MYNAKIOSK_ORT_DYLIB"),
                "/usr/lib/mynakiosk/libonnxruntime.so.1.31.1",
            ),
            models_dir: built_in_path(
                option_env!("MYNAKIOSK_MODELS_DIR"),
                "/usr/share/mynakiosk/models",
            ),
            threads: 2,
            match_threshold: policy.threshold,
            frames_per_attempt: policy.frames_per_attempt,
            liveness: Liveness::On,
            quality: face_match::QualityConfig::default(),
            challenge: ChallengeConfig::default(),
        }
    }
}

/// A development build knows where `scripts/setup.sh` put its files; an installed one
/// uses the packaged location.
fn built_in_path(from_build: Option<&str>, installed: &str) -> PathBuf {
    PathBuf::from(from_build.unwrap_or(installed))
}

impl FaceConfig {
    pub(super) fn validate(&self) -> Result<(), Invalid> {
        Invalid::check_range("face.threads", self.threads, 1..=16)?;
        if !(self.match_threshold > 0.0 && self.match_threshold < 1.0) {
            let found = self.match_threshold;
            return Err(Invalid::new("face.match_threshold", "0 < x < 1", found));
        }
        Invalid::check_range("face.frames_per_attempt", self.frames_per_attempt, 1..=30)?;
        validate_quality(&self.quality)?;
        self.challenge.validate()
    }
}

/// `[face.quality]`: each threshold in its range, each minimum below its maximum.
fn validate_quality(q: &face_match::QualityConfig) -> Result<(), Invalid> {
    let within = |key: &'static str, value: f32, low: f32, high: f32| {
        if (low..=high).contains(&value) {
            Ok(())
        } else {
            Err(Invalid::new(key, format!("{low} to {high}"), value))
        }
    };
    within("face.quality.min_face_px", q.min_face_px, 16.0, 2048.0)?;
    within(
        "face.quality.other_face_ratio",
        q.other_face_ratio,
        0.0,
        1.0,
    )?;
    within("face.quality.min_brightness", q.min_brightness, 0.0, 255.0)?;
    within("face.quality.max_brightness", q.max_brightness, 0.0, 255.0)?;
    if q.min_brightness >= q.max_brightness {
        let expected = format!("more than min_brightness ({})", q.min_brightness);
        return Err(Invalid::new(
            "face.quality.max_brightness",
            expected,
            q.max_brightness,
        ));
    }
    within("face.quality.min_sharpness", q.min_sharpness, 0.0, 10_000.0)?;
    within("face.quality.max_yaw", q.max_yaw, 0.0, 1.0)?;
    let (low, high) = q.pitch_range;
    if !(0.0 <= low && low < high && high <= 1.0) {
        let found = format!("[{low}, {high}]");
        return Err(Invalid::new(
            "face.quality.pitch_range",
            "[low, high] with 0 ≤ low < high ≤ 1",
            found,
        ));
    }
    within("face.quality.max_flat_eyes", q.max_flat_eyes, 0.0, 1.0)?;
    within("face.quality.min_eye_edges", q.min_eye_edges, 0.0, 5.0)?;
    let oval = q.guide_oval;
    within("face.quality.guide_oval.center_x", oval.center_x, 0.0, 1.0)?;
    within("face.quality.guide_oval.center_y", oval.center_y, 0.0, 1.0)?;
    within("face.quality.guide_oval.radius_x", oval.radius_x, 0.05, 1.0)?;
    within("face.quality.guide_oval.radius_y", oval.radius_y, 0.05, 1.0)
}

impl ChallengeConfig {
    fn validate(&self) -> Result<(), Invalid> {
        if self.offered.is_empty() {
            let expected = "at least one of turn_left, turn_right, closer";
            return Err(Invalid::new("face.challenge.offered", expected, "[]"));
        }
        if self.offered.contains(&ChallengeKind::Blink) {
            let expected =
                "turn_left, turn_right or closer (blink is not validated on real blinks)";
            return Err(Invalid::new("face.challenge.offered", expected, "blink"));
        }
        let seconds = [
            ("face.challenge.neutral_seconds", self.neutral_seconds),
            ("face.challenge.start_seconds", self.start_seconds),
            ("face.challenge.complete_seconds", self.complete_seconds),
            ("face.challenge.total_seconds", self.total_seconds),
        ];
        for (key, value) in seconds {
            if !(0.5..=120.0).contains(&value) {
                return Err(Invalid::new(key, "0.5 to 120", value));
            }
        }
        if !(0.0..=120.0).contains(&self.return_seconds) {
            let found = self.return_seconds;
            return Err(Invalid::new(
                "face.challenge.return_seconds",
                "0 to 120",
                found,
            ));
        }
        if self.start_seconds > self.complete_seconds {
            let expected = format!("at least start_seconds ({})", self.start_seconds);
            let found = self.complete_seconds;
            return Err(Invalid::new(
                "face.challenge.complete_seconds",
                expected,
                found,
            ));
        }
        if self.total_seconds < self.neutral_seconds {
            let expected = format!("at least neutral_seconds ({})", self.neutral_seconds);
            let found = self.total_seconds;
            return Err(Invalid::new(
                "face.challenge.total_seconds",
                expected,
                found,
            ));
        }
        Ok(())
    }
}
