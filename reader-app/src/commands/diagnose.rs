//! `mynakiosk diagnose`: a self-test of everything the kiosk needs, one PASS/WARN/FAIL line
//! per check and a summary; exits non-zero when a check fails.

use crate::config::{Config, SinkKind};
use crate::handoff::{http, outbox::Outbox, sink};
use crate::setting::redact_credentials;
use card_io::mynumber::{self, CardKind};
use card_io::pcsc_transport::{list_readers, PcscTransport};
use card_io::transport::TransportError;
use face_match::{
    OrtRuntime, SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A check's verdict. `Warn` is a degraded but working kiosk (no camera: PIN and 目視 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

fn check(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
    }
}

/// Runs every check, prints the report and fails if any check failed.
pub fn run(config: &Config, config_path: Option<&Path>) -> anyhow::Result<()> {
    let checks = all_checks(config, config_path);
    for c in &checks {
        let tag = match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        let detail = redact_credentials(&c.detail);
        println!("{tag}  {:<14} {detail}", c.name);
    }
    let count = |v| checks.iter().filter(|c| c.verdict == v).count();
    let failed = count(Verdict::Fail);
    println!(
        "diagnose: {} passed, {} warnings, {failed} failed",
        count(Verdict::Pass),
        count(Verdict::Warn)
    );
    anyhow::ensure!(failed == 0, "{failed} check(s) failed");
    Ok(())
}

fn all_checks(config: &Config, config_path: Option<&Path>) -> Vec<Check> {
    let detail = config_path.map_or("built-in defaults".into(), |p| {
        format!("{} is valid", p.display())
    });
    let mut checks = vec![check("config", Verdict::Pass, detail)];
    checks.extend(readers(config));
    checks.push(trust_anchors(config));
    checks.push(cameras());
    checks.push(card_front_camera(config));
    checks.push(sound(config));
    checks.push(onnx_runtime(config));
    checks.push(models(config));
    checks.push(ocr_model(config));
    checks.push(reception(config));
    checks.push(outbox(config));
    if !config.qualification.url.is_empty() {
        let timeout = Duration::from_millis(config.handoff.timeout_ms);
        checks.push(match http::probe_tcp(&config.qualification.url, timeout) {
            Ok(()) => check(
                "qualification",
                Verdict::Pass,
                format!("{} reachable", config.qualification.url),
            ),
            Err(e) => check("qualification", Verdict::Fail, format!("unreachable: {e}")),
        });
    }
    checks.push(audit(config));
    checks.push(check("metrics", Verdict::Pass, config.metrics.describe()));
    checks.push(match config.console.describe() {
        Ok(detail) => check("console", Verdict::Pass, detail),
        Err(e) => check("console", Verdict::Fail, e.to_string()),
    });
    checks
}

/// pcscd, the configured reader, and the card in it.
fn readers(config: &Config) -> Vec<Check> {
    let readers = match list_readers() {
        Ok(r) => r,
        Err(TransportError::NoService) => {
            return vec![check(
                "pcscd",
                Verdict::Fail,
                "not running (systemctl status pcscd.socket)",
            )]
        }
        Err(TransportError::ReaderUnavailable) => Vec::new(),
        Err(e) => return vec![check("pcscd", Verdict::Fail, e.to_string())],
    };
    let mut checks = vec![check(
        "pcscd",
        Verdict::Pass,
        format!("reachable, {} reader(s)", readers.len()),
    )];
    let filter = config.reader.filter();
    let matching: Vec<&String> = readers.iter().filter(|r| filter.matches(r)).collect();
    let Some(reader) = matching.first() else {
        checks.push(check(
            "reader",
            Verdict::Fail,
            format!(
                "none matches reader.name = {:?} (pcscd has {readers:?})",
                config.reader.name
            ),
        ));
        return checks;
    };
    checks.push(check("reader", Verdict::Pass, format!("{matching:?}")));
    checks.push(match PcscTransport::connect(reader) {
        Ok(mut card) => match mynumber::detect(&mut card) {
            Ok(CardKind::MyNumberCard) => {
                check("card", Verdict::Pass, format!("My Number card in {reader}"))
            }
            Ok(kind) => check(
                "card",
                Verdict::Warn,
                format!("{kind:?} in {reader}: not a My Number card"),
            ),
            Err(e) => check(
                "card",
                Verdict::Warn,
                format!("card in {reader} not readable: {e}"),
            ),
        },
        Err(TransportError::CardRemoved) => check(
            "card",
            Verdict::Warn,
            format!("no card in {reader} (place one to test reading)"),
        ),
        Err(e) => check("card", Verdict::Fail, format!("{reader}: {e}")),
    });
    checks
}

/// The CA certificates and CRLs of `[card]`, and when the first CA certificate expires.
fn trust_anchors(config: &Config) -> Check {
    const NAME: &str = "trust anchors";
    let card = &config.card;
    if card.trust_anchors.is_empty() {
        let detail = "none configured ([card] trust_anchors): every card is refused as untrusted";
        return check(NAME, Verdict::Warn, detail);
    }
    let anchors = match card.trust_anchors() {
        Ok(anchors) => anchors,
        Err(e) => return check(NAME, Verdict::Fail, format!("{}: {e}", e.key)),
    };
    let now = chrono::Utc::now().timestamp();
    let loaded = format!(
        "{} anchor file(s), {} intermediate(s), {} CRL(s)",
        card.trust_anchors.len(),
        card.intermediates.len(),
        card.crls.len()
    );
    let Some((first, days)) = crate::config::first_expiry(&anchors, now) else {
        return check(NAME, Verdict::Fail, format!("{loaded}: no CA certificate"));
    };
    let expiry = format!(
        "{loaded}; the first CA certificate to expire (issued by {}) does in {days} days",
        first.issuer
    );
    let verdict = match days {
        ..0 => Verdict::Fail,
        0..card_io::certificate::EXPIRY_WARNING_DAYS => Verdict::Warn,
        _ => Verdict::Pass,
    };
    check(NAME, verdict, expiry)
}

/// A sound device for the voice guidance.
fn sound(config: &Config) -> Check {
    if !config.voice.enabled || config.voice.volume == 0 {
        return check("sound", Verdict::Pass, "voice guidance muted ([voice])");
    }
    match crate::voice::sound_device() {
        Ok(cards) => check("sound", Verdict::Pass, cards),
        Err(reason) => check(
            "sound",
            Verdict::Warn,
            format!("{reason}: voice guidance silent, screens unaffected"),
        ),
    }
}

/// V4L2 device nodes the kiosk user can open.
fn cameras() -> Check {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev")
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    nodes.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("video"))
    });
    nodes.sort();
    if nodes.is_empty() {
        return check(
            "cameras",
            Verdict::Warn,
            "no V4L2 camera (/dev/video*): face authentication unavailable, PIN and 目視 only",
        );
    }
    let denied: Vec<_> = nodes
        .iter()
        .filter(|p| open_without_waiting(p).is_err())
        .collect();
    if denied.is_empty() {
        check("cameras", Verdict::Pass, format!("{nodes:?}"))
    } else {
        check(
            "cameras",
            Verdict::Fail,
            format!("cannot open {denied:?}: add the kiosk user to group video"),
        )
    }
}

/// The card-front camera the 照合番号B OCR reads (`[card_front_camera]`).
fn card_front_camera(config: &Config) -> Check {
    use crate::config::CameraKind;
    const NAME: &str = "front camera";
    if !config.session.face_enabled {
        return check(
            NAME,
            Verdict::Pass,
            "not used (session.face_enabled = false)",
        );
    }
    let camera = &config.card_front_camera;
    let path = match camera.source {
        CameraKind::V4l2 => &camera.device,
        CameraKind::Images => &camera.folder,
    };
    if !path.exists() {
        let detail = format!(
            "{} missing: 照合番号B cannot be read, face authentication unavailable (PIN and 目視 only)",
            path.display()
        );
        return check(NAME, Verdict::Warn, detail);
    }
    let opened = open_without_waiting(path);
    match (camera.source, opened.and_then(|f| f.metadata())) {
        (CameraKind::V4l2, Err(e)) => check(
            NAME,
            Verdict::Fail,
            format!(
                "cannot open {}: {e} (add the kiosk user to group video)",
                path.display()
            ),
        ),
        (CameraKind::V4l2, Ok(meta)) if !meta.file_type().is_char_device() => check(
            NAME,
            Verdict::Fail,
            format!(
                "{} is not a V4L2 device (a FIFO, file or folder)",
                path.display()
            ),
        ),
        _ => check(NAME, Verdict::Pass, path.display().to_string()),
    }
}

/// Opens `path` for reading without waiting: a FIFO with no writer would block `open`.
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

fn onnx_runtime(config: &Config) -> Check {
    let path = &config.face.onnx_runtime;
    match OrtRuntime::init(path, config.face.threads) {
        Ok(_) => check(
            "onnx runtime",
            Verdict::Pass,
            format!("{} loaded", path.display()),
        ),
        Err(e) => check("onnx runtime", Verdict::Fail, e.to_string()),
    }
}

/// The card-front reader's models load from the models folder in the configured runtime.
fn ocr_model(config: &Config) -> Check {
    const NAME: &str = "ocr model";
    let loaded = OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)
        .map_err(|e| e.to_string())
        .and_then(|runtime| {
            card_front::CardFrontReader::new(runtime.environment(), &config.face.models_dir)
                .map_err(|e| e.to_string())
        });
    match loaded {
        Ok(_) => check(
            NAME,
            Verdict::Pass,
            format!(
                "card-front models loaded: {}",
                card_front::OCR_MODELS
                    .iter()
                    .map(|(file, sha256)| format!("{file} (sha256 {sha256})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Err(e) => check(NAME, Verdict::Fail, e),
    }
}

/// The models the kiosk loads (`FaceMatcher::load`): file name and sha256. FaceMesh
/// (`face_landmark.onnx`) is not among them while blink stays out of the liveness challenges.
const MODELS: [(&str, &str); 2] = [
    (YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256),
    (SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256),
];

/// Largest model file hashed: the face models are a few MB.
const MAX_MODEL_BYTES: u64 = 256 << 20;

fn models(config: &Config) -> Check {
    let dir = &config.face.models_dir;
    let problems: Vec<String> = MODELS
        .iter()
        .filter_map(|(file, sha256)| {
            let path = dir.join(file);
            match crate::capped_file::read(&path, MAX_MODEL_BYTES) {
                Ok(bytes) if crate::audit::sha256_hex(&bytes) == *sha256 => None,
                Ok(_) => Some(format!(
                    "{}: sha256 differs (corrupt or wrong file)",
                    path.display()
                )),
                Err(e) => Some(format!("{}: {e}", path.display())),
            }
        })
        .collect();
    if problems.is_empty() {
        let files: Vec<&str> = MODELS.iter().map(|(file, _)| *file).collect();
        check(
            "models",
            Verdict::Pass,
            format!("{}: {} sha256 ok", dir.display(), files.join(", ")),
        )
    } else {
        check("models", Verdict::Fail, problems.join("; "))
    }
}

fn reception(config: &Config) -> Check {
    let Some(sink) = sink::from_config(&config.handoff) else {
        return check(
            "reception",
            Verdict::Warn,
            "handoff.sink = \"none\": results stay in the outbox",
        );
    };
    match sink.probe() {
        Ok(()) => check(
            "reception",
            Verdict::Pass,
            format!("{} reachable", sink.describe()),
        ),
        Err(e) => {
            let hint = match config.handoff.sink {
                SinkKind::File => "create the folder, writable by the kiosk user",
                _ => "is the reception system running?",
            };
            check("reception", Verdict::Fail, format!("{e} ({hint})"))
        }
    }
}

fn outbox(config: &Config) -> Check {
    let census = match Outbox::open(&config.handoff.outbox_dir).and_then(|o| o.census()) {
        Ok(census) => census,
        Err(e) => return check("outbox", Verdict::Fail, e.to_string()),
    };
    let mut parts = Vec::new();
    if census.queued > 0 {
        parts.push(format!("{} result(s) waiting", census.queued));
    }
    if census.rejected > 0 {
        parts.push(format!("{} refused by the receiver", census.rejected));
    }
    if census.dead > 0 {
        parts.push(format!(
            "{} undeliverable in dead/ (mynakiosk outbox requeue-dead)",
            census.dead
        ));
    }
    if !census.foreign.is_empty() {
        parts.push(format!(
            "{} foreign entr(ies) in pending/, ignored",
            census.foreign.len()
        ));
    }
    if parts.is_empty() {
        check("outbox", Verdict::Pass, "empty")
    } else {
        check("outbox", Verdict::Warn, parts.join(", "))
    }
}

fn audit(config: &Config) -> Check {
    let dir = &config.audit.dir;
    if !dir.exists() {
        return check(
            "audit",
            Verdict::Warn,
            format!("{} does not exist yet", dir.display()),
        );
    }
    match crate::audit::verify(std::slice::from_ref(dir)) {
        Ok(v) if v.events == 0 => check(
            "audit",
            Verdict::Warn,
            format!("{}: no events yet", dir.display()),
        ),
        Ok(v) => check("audit", Verdict::Pass, v.to_string()),
        Err(f) => check("audit", Verdict::Fail, format!("chain broken: {f}")),
    }
}
