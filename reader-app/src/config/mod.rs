//! The kiosk's TOML configuration: it composes the sections, each with its type, defaults and
//! validation beside the code that uses it or in a file of its own here, and locates an error
//! at its line and key. Files are read with a size cap ([`MAX_CONFIG_BYTES`]).

use serde::Deserialize;
use std::path::Path;

mod camera;
mod card;
mod demo;
mod error;
mod face;

pub use crate::audit::config::AuditConfig;
pub use crate::handoff::config::{HandoffConfig, QualificationConfig, SinkKind};
pub use camera::{CameraConfig, CameraKind};
pub use card::{first_expiry, CardConfig, ReaderConfig, TrustFileError};
pub use demo::DemoConfig;
pub use error::{ConfigError, Located, ParseError};
pub use face::{ChallengeConfig, ChallengeKind, FaceConfig, Liveness};

use crate::capped_file;
use crate::setting::Invalid;

/// The largest configuration file read (the shipped example is about 10 KiB); also the cap of
/// the other small text files the commands read (qual-sim's data, a PEM key).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Everything an integrator can set. Unknown keys are errors, so typos never pass silently.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Identifies this kiosk in logs and hand-off results.
    pub kiosk_id: String,
    pub reader: ReaderConfig,
    pub card: CardConfig,
    pub face: FaceConfig,
    pub camera: CameraConfig,
    /// The card-front camera (照合番号B OCR): same keys as `[camera]`.
    pub card_front_camera: CameraConfig,
    pub demo: DemoConfig,
    pub handoff: HandoffConfig,
    pub qualification: QualificationConfig,
    pub audit: AuditConfig,
    pub metrics: crate::metrics::MetricsConfig,
    pub console: crate::console::ConsoleConfig,
    pub session: crate::session::Settings,
    pub staff: crate::staff::StaffConfig,
    pub voice: crate::voice::VoiceConfig,
    pub keypad: crate::keypad::KeypadConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            kiosk_id: "kiosk-1".into(),
            reader: ReaderConfig::default(),
            card: CardConfig::default(),
            camera: CameraConfig::default(),
            card_front_camera: CameraConfig {
                device: "/dev/video1".into(),
                width: 1280,
                height: 960,
                ..CameraConfig::default()
            },
            face: FaceConfig::default(),
            demo: DemoConfig::default(),
            handoff: HandoffConfig::default(),
            qualification: QualificationConfig::default(),
            audit: AuditConfig::default(),
            metrics: Default::default(),
            console: Default::default(),
            session: Default::default(),
            staff: Default::default(),
            voice: Default::default(),
            keypad: Default::default(),
        }
    }
}

/// A run of this many digits looks like a My Number (個人番号); results refuse it.
const MY_NUMBER_DIGITS: usize = 12;

impl Config {
    /// Reads `path` (a regular file of at most [`MAX_CONFIG_BYTES`]), or returns the defaults
    /// when no path is given.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Ok(match path {
            Some(path) => Self::read(path)?.0,
            None => Self::default(),
        })
    }

    /// [`Config::load`], and the trust files of `[card]` loaded too: what `check-config`
    /// accepts, `run` can start with.
    pub fn check(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let (config, text) = Self::read(path)?;
        if let Err(bad) = config.card.trust_anchors() {
            let expected = "CA certificates (PEM or DER) and CRLs signed by them";
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                error: error::locate(Invalid::new(bad.key, expected, &bad), &text),
            });
        }
        if let Err(bad) = config.console.describe() {
            let expected = "the console's TLS certificate and key, and its token file, usable";
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                error: error::locate(Invalid::new("console", expected, &bad), &text),
            });
        }
        Ok(config)
    }

    fn read(path: &Path) -> Result<(Self, String), ConfigError> {
        let text =
            capped_file::read_text(path, MAX_CONFIG_BYTES).map_err(|refusal| match refusal {
                capped_file::Refusal::Io(source) => ConfigError::Read {
                    path: path.to_owned(),
                    source,
                },
                refusal => ConfigError::Refused {
                    path: path.to_owned(),
                    refusal,
                },
            })?;
        let config = Self::parse(&text).map_err(|error| ConfigError::Invalid {
            path: path.to_owned(),
            error,
        })?;
        Ok((config, text))
    }

    /// The session's settings, with the liveness challenges of `[face.challenge]` (none when
    /// liveness is off: the patient is never asked to turn).
    pub fn session_settings(&self) -> crate::session::Settings {
        crate::session::Settings {
            challenges: match self.face.liveness {
                Liveness::On => self.face.challenge.session_challenges(),
                Liveness::Off => Vec::new(),
            },
            ..self.session.clone()
        }
    }

    /// The face match policy: `[face]` threshold and frames, `[session]` attempts and time.
    pub fn match_policy(&self) -> face_match::MatchPolicy {
        face_match::MatchPolicy {
            threshold: self.face.match_threshold,
            frames_per_attempt: self.face.frames_per_attempt,
            attempt_seconds: self.session.face_seconds as f32,
            max_attempts: u32::from(self.session.face_attempts),
        }
    }

    /// Parses TOML text; the error names line, key and what was expected.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let config: Self = toml::from_str(text).map_err(|e| ParseError::syntax(&e.to_string()))?;
        config
            .validate()
            .map_err(|invalid| error::locate(invalid, text))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Invalid> {
        self.validate_kiosk_id()?;
        self.face.validate()?;
        self.session.validate()?;
        self.camera.validate([
            "camera.fps",
            "camera.width",
            "camera.height",
            "camera.folder",
        ])?;
        self.card_front_camera.validate([
            "card_front_camera.fps",
            "card_front_camera.width",
            "card_front_camera.height",
            "card_front_camera.folder",
        ])?;
        self.demo.validate()?;
        self.handoff.validate()?;
        self.qualification.validate()?;
        self.audit.validate()?;
        self.metrics.validate()?;
        self.console.validate()?;
        if let Err(bad) = self.staff.validate() {
            let expected =
                "pin_hash = pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>, or card_serial";
            return Err(Invalid::new(
                "staff.members",
                expected,
                format!("member {:?}", bad.id),
            ));
        }
        self.voice.validate()?;
        self.keypad.validate()
    }

    fn validate_kiosk_id(&self) -> Result<(), Invalid> {
        let id = &self.kiosk_id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Invalid::new(
                "kiosk_id",
                "1 to 64 characters from A-Z a-z 0-9 - _ .",
                format!("{id:?}"),
            ));
        }
        let longest_digit_run = id
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        if longest_digit_run >= MY_NUMBER_DIGITS {
            let expected = "no run of 12 digits (results refuse what looks like a My Number)";
            let found = "field `kiosk_id` holds a run of 12 or more digits (a My Number?)";
            return Err(Invalid::new("kiosk_id", expected, found));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Challenge;
    use face_match::liveness::LivenessConfig;
    use std::time::Duration;

    /// Each text is refused with exactly its message.
    fn refused_with(cases: &[(&str, &str)]) {
        for (text, message) in cases {
            assert_eq!(
                Config::parse(text).unwrap_err().to_string(),
                *message,
                "{text}"
            );
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn values_override_defaults() {
        let c = Config::parse("kiosk_id = \"east-2\"\n[reader]\nname = \"SONY\"\n").unwrap();
        assert_eq!(c.kiosk_id, "east-2");
        assert_eq!(c.reader.name, "SONY");
        assert_eq!(c.face.threads, 2);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = Config::parse("[reader]\nnmae = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("unknown field `nmae`"), "{e}");
        assert!(e.contains("expected `name`"), "{e}");
    }

    #[test]
    fn wrong_type_names_expected_type() {
        let e = Config::parse("[face]\nthreads = \"two\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(
            e.contains("invalid type: string \"two\", expected usize"),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_threads_is_rejected() {
        let e = Config::parse("[face]\nthreads = 0\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 2, key face.threads: expected 1 to 16, found 0");
    }

    #[test]
    fn face_sections_reach_the_pipeline_settings() {
        let c = Config::parse(
            "[face]\nmatch_threshold = 0.45\nframes_per_attempt = 5\n\
             [face.quality]\nmin_face_px = 100.0\ncheck_eyes = true\nmax_flat_eyes = 0.4\nmin_eye_edges = 0.8\n\
             pitch_range = [0.25, 0.75]\n[face.quality.guide_oval]\nradius_x = 0.3\n\
             [face.challenge]\noffered = [\"closer\"]\ncomplete_seconds = 6.5\nreturn_seconds = 0\n\
             [session]\nface_attempts = 2\nface_seconds = 25\n",
        )
        .unwrap();
        let policy = c.match_policy();
        assert_eq!((policy.threshold, policy.frames_per_attempt), (0.45, 5));
        assert_eq!((policy.max_attempts, policy.attempt_seconds), (2, 25.0));
        let q = c.face.quality;
        assert_eq!(
            (
                q.min_face_px,
                q.check_eyes,
                q.max_flat_eyes,
                q.min_eye_edges
            ),
            (100.0, true, 0.4, 0.8)
        );
        assert_eq!(q.pitch_range, (0.25, 0.75));
        assert_eq!((q.guide_oval.radius_x, q.guide_oval.center_y), (0.3, 0.45));
        assert_eq!(c.session_settings().challenges, vec![Challenge::Closer]);
        let judge = c.face.challenge.judge_config();
        assert_eq!(judge.completion_window, Duration::from_millis(6500));
        assert_eq!(judge.return_window, None);
        judge.validate().unwrap();
    }

    #[test]
    fn liveness_off_asks_for_no_challenge() {
        let mut c = Config::default();
        c.face.liveness = Liveness::Off;
        assert!(c.session_settings().challenges.is_empty());
    }

    #[test]
    fn face_defaults_are_those_of_face_match() {
        let c = Config::default();
        assert_eq!(c.face.quality, face_match::QualityConfig::default());
        assert_eq!(c.face.challenge.judge_config(), LivenessConfig::default());
        assert_eq!(c.session_settings().challenges, c.session.challenges);
        assert_eq!(
            c.match_policy().threshold,
            face_match::MatchPolicy::default().threshold
        );
    }

    #[test]
    fn face_values_out_of_range_name_line_and_key() {
        let cases = [
            ("[face]\nframes_per_attempt = 0\n", "line 2, key face.frames_per_attempt: expected 1 to 30, found 0"),
            ("[face.quality]\nmin_face_px = 4.0\n", "line 2, key face.quality.min_face_px: expected 16 to 2048, found 4"),
            ("[face.quality]\nother_face_ratio = 1.5\n", "line 2, key face.quality.other_face_ratio: expected 0 to 1, found 1.5"),
            ("[face.quality]\nmin_brightness = -1.0\n", "line 2, key face.quality.min_brightness: expected 0 to 255, found -1"),
            ("[face.quality]\nmin_brightness = 120.0\nmax_brightness = 100.0\n", "line 3, key face.quality.max_brightness: expected more than min_brightness (120), found 100"),
            ("[face.quality]\nmin_sharpness = -5.0\n", "line 2, key face.quality.min_sharpness: expected 0 to 10000, found -5"),
            ("[face.quality]\nmax_yaw = 2.0\n", "line 2, key face.quality.max_yaw: expected 0 to 1, found 2"),
            ("[face.quality]\npitch_range = [0.7, 0.3]\n", "line 2, key face.quality.pitch_range: expected [low, high] with 0 ≤ low < high ≤ 1, found [0.7, 0.3]"),
            ("[face.quality]\nmax_flat_eyes = 1.2\n", "line 2, key face.quality.max_flat_eyes: expected 0 to 1, found 1.2"),
            ("[face.quality]\nmin_eye_edges = 9.0\n", "line 2, key face.quality.min_eye_edges: expected 0 to 5, found 9"),
            ("[face.quality.guide_oval]\ncenter_x = 1.5\n", "line 2, key face.quality.guide_oval.center_x: expected 0 to 1, found 1.5"),
            ("[face.quality.guide_oval]\nradius_y = 0.0\n", "line 2, key face.quality.guide_oval.radius_y: expected 0.05 to 1, found 0"),
            ("[face.challenge]\noffered = []\n", "line 2, key face.challenge.offered: expected at least one of turn_left, turn_right, closer, found []"),
            ("[face.challenge]\noffered = [\"blink\"]\n", "line 2, key face.challenge.offered: expected turn_left, turn_right or closer (blink is not validated on real blinks), found blink"),
            ("[face.challenge]\nstart_seconds = 0.1\n", "line 2, key face.challenge.start_seconds: expected 0.5 to 120, found 0.1"),
            ("[face.challenge]\nreturn_seconds = -1.0\n", "line 2, key face.challenge.return_seconds: expected 0 to 120, found -1"),
            ("[face.challenge]\nstart_seconds = 4.0\ncomplete_seconds = 3.0\n", "line 3, key face.challenge.complete_seconds: expected at least start_seconds (4), found 3"),
            ("[face.challenge]\nneutral_seconds = 20.0\ntotal_seconds = 10.0\n", "line 3, key face.challenge.total_seconds: expected at least neutral_seconds (20), found 10"),
            ("[session]\nface_attempts = 0\n", "line 2, key session.face_attempts: expected 1 to 10, found 0"),
            ("[session]\nface_seconds = 2\n", "line 2, key session.face_seconds: expected 5 to 120, found 2"),
        ];
        refused_with(&cases);
        let e = Config::parse("[face.challenge]\noffered = [\"nod\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown variant `nod`"),
            "{e}"
        );
        let e = Config::parse("[face.quality]\nmin_face = 80.0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown field `min_face`"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let e = Config::load(Some(Path::new("/nonexistent/mynakiosk.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(e.to_string().contains("/nonexistent/mynakiosk.toml"));
    }

    #[test]
    fn counts_and_durations_out_of_range_name_line_and_key() {
        let cases = [
            ("[session]\nidle_seconds = 9223372036854775807\n", "line 2, key session.idle_seconds: expected 15 to 3600, found 9223372036854775807"),
            ("[session]\nidle_seconds = 0\n", "line 2, key session.idle_seconds: expected 15 to 3600, found 0"),
            ("[session]\nresult_seconds = 0\n", "line 2, key session.result_seconds: expected 1 to 600, found 0"),
            ("[session]\ncard_front_reread_seconds = 86400\n", "line 2, key session.card_front_reread_seconds: expected 1 to 60, found 86400"),
            ("[session]\nexpiry_warning_days = -1\n", "line 2, key session.expiry_warning_days: expected 0 to 365, found -1"),
            ("[session]\npin_b_min_retries = 16\n", "line 2, key session.pin_b_min_retries: expected 3 to 15 (the last two tries are never spent automatically), found 16"),
            ("[audit]\nmax_file_bytes = 9223372036854775807\n", "line 2, key audit.max_file_bytes: expected 4096 to 1073741824, found 9223372036854775807"),
            ("[demo]\nvpcd_port = 0\n", "line 2, key demo.vpcd_port: expected 1 to 65535, found 0"),
            ("[camera]\nfps = 0\n", "line 2, key camera.fps: expected 1 to 60, found 0"),
            ("[camera]\nwidth = 0\n", "line 2, key camera.width: expected 64 to 4096, found 0"),
            ("[camera]\nheight = 4294967295\n", "line 2, key camera.height: expected 64 to 4096, found 4294967295"),
            ("[card_front_camera]\nheight = 8192\n", "line 2, key card_front_camera.height: expected 64 to 4096, found 8192"),
        ];
        refused_with(&cases);
    }

    #[test]
    fn a_huge_value_is_not_echoed() {
        let text = format!("kiosk_id = \"{}\"\n", "k".repeat(900_000));
        let e = Config::parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("line 1, key kiosk_id") && e.len() < 400,
            "{}",
            &e[..400.min(e.len())]
        );
        let text = format!("[face]\nthreads = \"{}\"\n", "t".repeat(900_000));
        let e = Config::parse(&text).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.len() < 2500,
            "{}",
            &e[..2500.min(e.len())]
        );
    }

    #[test]
    fn sink_credentials_are_never_echoed() {
        let text = "[handoff]\nhttp_url = \"http://user:hunter2@192.168.1.5/results\"\n";
        let e = Config::parse(text).unwrap_err().to_string();
        assert!(
            e.contains("http://***@192.168.1.5/results") && !e.contains("hunter2"),
            "{e}"
        );
    }
}
