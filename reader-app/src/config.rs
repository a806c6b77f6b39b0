//! The kiosk's TOML configuration: documented defaults, precise errors.

use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    /// Active liveness: `on`, or `off` (demo mode only: still images cannot turn a head).
    pub liveness: Liveness,
}

/// Whether the active liveness challenge is judged.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    #[default]
    On,
    Off,
}

/// The patient camera.
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
            match_threshold: 0.42,
            liveness: Liveness::On,
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
        let camera = &self.camera;
        if !(1..=60).contains(&camera.fps) {
            return Err(Invalid::new("camera.fps", "1 to 60", camera.fps));
        }
        if !(64..=4096).contains(&camera.width) || !(64..=4096).contains(&camera.height) {
            let found = format!("{}x{}", camera.width, camera.height);
            return Err(Invalid::new(
                "camera.width",
                "64 to 4096 (also height)",
                found,
            ));
        }
        if camera.source == CameraKind::Images && camera.folder.as_os_str().is_empty() {
            return Err(Invalid::new(
                "camera.folder",
                "a folder of images",
                "nothing",
            ));
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
            let expected = "pin_hash = pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>";
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
    fn missing_file_is_a_read_error() {
        let e = Config::load(Some(Path::new("/nonexistent/mynakiosk.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(e.to_string().contains("/nonexistent/mynakiosk.toml"));
    }
}
