//! The kiosk's TOML configuration: documented defaults, precise errors.

use face_match::liveness::LivenessConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::session::Challenge;

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
    pub session: crate::session::Settings,
    pub staff: crate::kiosk::staff::StaffConfig,
    pub voice: crate::voice::VoiceConfig,
}

/// Which PC/SC reader the kiosk uses.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderConfig {
    /// Case-insensitive substring of the reader name; empty means every reader.
    pub name: String,
}

impl ReaderConfig {
    /// The readers the kiosk uses.
    pub fn filter(&self) -> card_io::monitor::ReaderFilter {
        use card_io::monitor::ReaderFilter;
        if self.name.is_empty() {
            ReaderFilter::Any
        } else {
            ReaderFilter::Contains(self.name.clone())
        }
    }
}

/// How the user-authentication certificate is checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CardConfig {
    /// The J-LIS user-authentication CA certificates (PEM or DER files); none: every card is
    /// refused as untrusted.
    pub trust_anchors: Vec<PathBuf>,
    /// Intermediate CA certificates between an anchor and the card's certificate (J-LIS cards
    /// need none).
    pub intermediates: Vec<PathBuf>,
    /// CRLs of those CAs (PEM or DER files), each signed by one of them.
    pub crls: Vec<PathBuf>,
}

impl CardConfig {
    /// Loads the anchors and intermediates, then the CRLs; the error names the file.
    pub fn trust_anchors(
        &self,
    ) -> Result<card_io::certificate::TrustAnchors, card_io::certificate::TrustError> {
        let mut anchors = card_io::certificate::TrustAnchors::new();
        for path in &self.trust_anchors {
            anchors.add_file(path)?;
        }
        for path in &self.intermediates {
            anchors.add_intermediate_file(path)?;
        }
        for path in &self.crls {
            anchors.add_crl_file(path)?;
        }
        Ok(anchors)
    }
}

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

/// A camera: the patient camera (`[camera]`) or the card-front camera (`[card_front_camera]`).
/// Keys left out take the patient camera's defaults (`/dev/video0`, 640×480, 15 fps).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// `v4l2` (a camera) or `images` (a folder of still images, for demos and tests).
    pub source: CameraKind,
    /// `source = "v4l2"`: the device node.
    pub device: PathBuf,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// `source = "images"`: the folder (or one image).
    pub folder: PathBuf,
}

/// The kind of patient camera.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CameraKind {
    V4l2,
    Images,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            source: CameraKind::V4l2,
            device: "/dev/video0".into(),
            width: 640,
            height: 480,
            fps: 15,
            folder: PathBuf::new(),
        }
    }
}

impl CameraConfig {
    /// Checks the section; `keys` name its fps, width and folder keys in errors.
    fn validate(&self, [fps, width, folder]: [&'static str; 3]) -> Result<(), Invalid> {
        if !(1..=60).contains(&self.fps) {
            return Err(Invalid::new(fps, "1 to 60", self.fps));
        }
        if !(64..=4096).contains(&self.width) || !(64..=4096).contains(&self.height) {
            let found = format!("{}x{}", self.width, self.height);
            return Err(Invalid::new(width, "64 to 4096 (also height)", found));
        }
        if self.source == CameraKind::Images && self.folder.as_os_str().is_empty() {
            return Err(Invalid::new(folder, "a folder of images", "nothing"));
        }
        Ok(())
    }
}

/// The demo's virtual card (a simulator, never used by `run`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// TCP port of the vpcd slot the virtual card plugs into.
    pub vpcd_port: u16,
    /// Images of someone else, shown to the camera when the demo strip picks the impostor
    /// (the holder's are `camera.folder`).
    pub impostor_folder: PathBuf,
}

/// Where verified results go and how they wait for the reception system.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HandoffConfig {
    /// The sink: `http`, `unix`, `file`, or `none` (results stay queued in the outbox).
    pub sink: SinkKind,
    /// `sink = "http"`: the receiver's URL (`http://`, loopback unless `allow_non_loopback`).
    pub http_url: String,
    /// Lets `http_url` name another host (results then cross a network without TLS).
    pub allow_non_loopback: bool,
    /// `sink = "unix"`: the receiver's socket (newline-delimited JSON, one ack line per result).
    pub unix_socket: PathBuf,
    /// `sink = "file"`: the folder results are dropped into (write, fsync, rename).
    pub drop_dir: PathBuf,
    /// The durable outbox: results wait here until the sink acknowledges them.
    pub outbox_dir: PathBuf,
    /// Bound on one delivery attempt, in milliseconds.
    pub timeout_ms: u64,
    /// First retry delay after a failed delivery, in milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

/// The kind of hand-off sink.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    Http,
    Unix,
    File,
    None,
}

/// The qualification service (the bundled simulator in a demo).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QualificationConfig {
    /// Base URL (`http://`, loopback); empty: the kiosk does not query qualification itself.
    pub url: String,
}

/// The hash-chained audit log.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Folder of `audit.jsonl`, its rotated predecessors and `audit.head`.
    pub dir: PathBuf,
    /// The current file is rotated once it reaches this size, in bytes.
    pub max_file_bytes: u64,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        Self {
            sink: SinkKind::Http,
            http_url: "http://127.0.0.1:8750/results".into(),
            allow_non_loopback: false,
            unix_socket: "/run/mynakiosk/reception.sock".into(),
            drop_dir: "/var/lib/mynakiosk/drop".into(),
            outbox_dir: "/var/lib/mynakiosk/outbox".into(),
            timeout_ms: 5000,
            retry_initial_ms: 1000,
            retry_max_ms: 60_000,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            dir: "/var/lib/mynakiosk/audit".into(),
            max_file_bytes: 10 * 1024 * 1024,
        }
    }
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
            session: Default::default(),
            staff: Default::default(),
            voice: Default::default(),
        }
    }
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

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            vpcd_port: 35963,
            impostor_folder: PathBuf::new(),
        }
    }
}

/// A development build knows where `scripts/setup.sh` put its files; an installed one
/// uses the packaged location.
fn built_in_path(from_build: Option<&str>, installed: &str) -> PathBuf {
    PathBuf::from(from_build.unwrap_or(installed))
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`, or returns the defaults when no path is given.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// The session's settings, with the liveness challenges of `[face.challenge]`.
    pub fn session_settings(&self) -> crate::session::Settings {
        crate::session::Settings {
            challenges: self.face.challenge.session_challenges(),
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
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate().map_err(|invalid| invalid.message(text))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Invalid> {
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
        if let Err(violation) =
            crate::handoff::privacy::check(&serde_json::json!({ "kiosk_id": id }))
        {
            let expected = "no run of 12 digits (results refuse what looks like a My Number)";
            return Err(Invalid::new("kiosk_id", expected, violation));
        }
        let face = &self.face;
        if !(1..=16).contains(&face.threads) {
            return Err(Invalid::new("face.threads", "1 to 16", face.threads));
        }
        if !(face.match_threshold > 0.0 && face.match_threshold < 1.0) {
            let found = face.match_threshold;
            return Err(Invalid::new("face.match_threshold", "0 < x < 1", found));
        }
        if !(1..=30).contains(&face.frames_per_attempt) {
            let found = face.frames_per_attempt;
            return Err(Invalid::new("face.frames_per_attempt", "1 to 30", found));
        }
        validate_quality(&face.quality)?;
        face.challenge.validate()?;
        let session = &self.session;
        if !(1..=10).contains(&session.face_attempts) {
            let found = session.face_attempts;
            return Err(Invalid::new("session.face_attempts", "1 to 10", found));
        }
        if !(5..=120).contains(&session.face_seconds) {
            let found = session.face_seconds;
            return Err(Invalid::new("session.face_seconds", "5 to 120", found));
        }
        self.camera
            .validate(["camera.fps", "camera.width", "camera.folder"])?;
        self.card_front_camera.validate([
            "card_front_camera.fps",
            "card_front_camera.width",
            "card_front_camera.folder",
        ])?;
        if self.session.pin_b_min_retries < 3 {
            let expected = "3 or more (the last two tries are never spent automatically)";
            let found = self.session.pin_b_min_retries;
            return Err(Invalid::new("session.pin_b_min_retries", expected, found));
        }
        self.handoff.validate()?;
        if !self.qualification.url.is_empty() {
            http_url("qualification.url", &self.qualification.url, false)?;
        }
        absolute("audit.dir", &self.audit.dir)?;
        if self.audit.max_file_bytes < MIN_AUDIT_FILE_BYTES {
            let found = self.audit.max_file_bytes;
            let expected = format!("at least {MIN_AUDIT_FILE_BYTES}");
            return Err(Invalid::new("audit.max_file_bytes", expected, found));
        }
        if let Err(bad) = self.staff.validate() {
            let expected =
                "pin_hash = pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>, or card_serial";
            return Err(Invalid::new(
                "staff.members",
                expected,
                format!("member {:?}", bad.id),
            ));
        }
        if self.voice.volume > 100 {
            return Err(Invalid::new("voice.volume", "0 to 100", self.voice.volume));
        }
        Ok(())
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

/// Smallest audit file before rotation: a few events.
const MIN_AUDIT_FILE_BYTES: u64 = 4096;

impl HandoffConfig {
    fn validate(&self) -> Result<(), Invalid> {
        match self.sink {
            SinkKind::Http => {
                http_url("handoff.http_url", &self.http_url, self.allow_non_loopback)?
            }
            SinkKind::Unix => absolute("handoff.unix_socket", &self.unix_socket)?,
            SinkKind::File => absolute("handoff.drop_dir", &self.drop_dir)?,
            SinkKind::None => {}
        }
        absolute("handoff.outbox_dir", &self.outbox_dir)?;
        if !(100..=120_000).contains(&self.timeout_ms) {
            return Err(Invalid::new(
                "handoff.timeout_ms",
                "100 to 120000",
                self.timeout_ms,
            ));
        }
        if !(100..=3_600_000).contains(&self.retry_initial_ms) {
            let found = self.retry_initial_ms;
            return Err(Invalid::new(
                "handoff.retry_initial_ms",
                "100 to 3600000",
                found,
            ));
        }
        if !(self.retry_initial_ms..=3_600_000).contains(&self.retry_max_ms) {
            let expected = format!("{} (retry_initial_ms) to 3600000", self.retry_initial_ms);
            return Err(Invalid::new(
                "handoff.retry_max_ms",
                expected,
                self.retry_max_ms,
            ));
        }
        Ok(())
    }
}

fn absolute(key: &'static str, path: &Path) -> Result<(), Invalid> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(Invalid::new(key, "an absolute path", format!("{path:?}")))
    }
}

fn http_url(key: &'static str, url: &str, allow_non_loopback: bool) -> Result<(), Invalid> {
    crate::handoff::http::check_url(url, allow_non_loopback)
        .map(drop)
        .map_err(|expected| Invalid::new(key, expected, format!("{url:?}")))
}

/// A value of the right type that is still unacceptable.
#[derive(Debug)]
struct Invalid {
    key: &'static str,
    expected: String,
    found: String,
}

impl Invalid {
    fn new(key: &'static str, expected: impl Into<String>, found: impl std::fmt::Display) -> Self {
        Self {
            key,
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// The message, with the line of the key in `text` (or a note that the default is used).
    fn message(&self, text: &str) -> String {
        let Self {
            key,
            expected,
            found,
        } = self;
        match line_of(text, key) {
            Some(line) => format!("line {line}, key {key}: expected {expected}, found {found}"),
            None => format!("key {key} (not set, default): expected {expected}, found {found}"),
        }
    }
}

/// The 1-based line where the dotted `key` is set in `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (k, item) = table.get_key_value(part)?;
        if parts.peek().is_none() {
            let span = k.span().or_else(|| item.span())?;
            return Some(text[..span.start].matches('\n').count() + 1);
        }
        table = item.as_table_like()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn card_trust_anchors_load_and_name_a_bad_file() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-anchors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let anchor = dir.join("ca.der");
        std::fs::write(&anchor, card_io::sim::pki::test_trust_anchor_der()).unwrap();
        let text = format!(
            "[card]\ntrust_anchors = [{:?}]\n",
            anchor.display().to_string()
        );
        let c = Config::parse(&text).unwrap();
        assert!(!c.card.trust_anchors().unwrap().is_empty());
        assert!(Config::default().card.trust_anchors().unwrap().is_empty());
        let missing = dir.join("missing.pem");
        let text = format!("[card]\ncrls = [{:?}]\n", missing.display().to_string());
        let e = Config::parse(&text)
            .unwrap()
            .card
            .trust_anchors()
            .unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
        let not_a_ca = dir.join("not-a-ca.der");
        std::fs::write(&not_a_ca, card_io::sim::pki::ChainFixture::NotACa.der()).unwrap();
        for key in ["trust_anchors", "intermediates"] {
            let text = format!("[card]\n{key} = [{:?}]\n", not_a_ca.display().to_string());
            let e = Config::parse(&text)
                .unwrap()
                .card
                .trust_anchors()
                .unwrap_err();
            assert!(e.to_string().contains("not-a-ca.der"), "{e}");
            assert!(e.to_string().contains("not a CA certificate"), "{e}");
        }
        let e = Config::parse("[card]\nanchors = []\n").unwrap_err();
        assert!(e.contains("anchors"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = Config::parse("[reader]\nnmae = \"x\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("unknown field `nmae`"), "{e}");
        assert!(e.contains("expected `name`"), "{e}");
    }

    #[test]
    fn wrong_type_names_expected_type() {
        let e = Config::parse("[face]\nthreads = \"two\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(
            e.contains("invalid type: string \"two\", expected usize"),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_threads_is_rejected() {
        let e = Config::parse("[face]\nthreads = 0\n").unwrap_err();
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
        for (text, message) in cases {
            assert_eq!(Config::parse(text).unwrap_err(), message, "{text}");
        }
        let e = Config::parse("[face.challenge]\noffered = [\"nod\"]\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("unknown variant `nod`"),
            "{e}"
        );
        let e = Config::parse("[face.quality]\nmin_face = 80.0\n").unwrap_err();
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
}
