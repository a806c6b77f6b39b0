//! The running kiosk: wires the Slint window, the card monitor and the session thread.
//!
//! Card, camera, timer and touch events flow into one channel; the session thread owns the
//! [`Session`] and its `runtime` carries out the effects through the [`ports`]. `devices`
//! maps reader events, `bridge` is the UI bridge, [`staff_card`] reads staff cards.

mod bridge;
pub mod camera;
pub mod card_front_port;
pub mod card_port;
mod devices;
pub mod face_guide;
pub mod face_on_demand;
pub mod face_port;
pub mod health_probe;
pub mod memory;
mod metrics_server;
pub mod ports;
pub mod reception;
mod runtime;
#[cfg(feature = "demo")]
pub mod sim;
mod staff_card;
mod timers;
pub mod view;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use card_io::monitor::{CardMonitor, ReaderFilter};
use slint::ComponentHandle;

use crate::config::Config;
use crate::session::Session;
use devices::{reader_name, Readers};
use ports::{AuditPort, CardFrontPort, CardPort, FacePort, HandOffPort};
use runtime::Runtime;

/// Whether the kiosk drives a real reader only, or also offers the virtual card controls
/// (the `demo` feature, left out of the package).
#[derive(Debug, Clone)]
pub enum Mode {
    Production,
    /// The virtual card and SIMULATED cameras, following the demo strip's choice.
    #[cfg(feature = "demo")]
    Demo(sim::SharedChoice),
}

impl Mode {
    /// The demo, starting on the `normal` card's holder.
    #[cfg(feature = "demo")]
    pub fn demo() -> Self {
        Self::Demo(sim::SharedChoice::default())
    }

    pub fn is_demo(&self) -> bool {
        match self {
            #[cfg(feature = "demo")]
            Self::Demo(_) => true,
            Self::Production => false,
        }
    }
}

/// The implementations the runtime calls for the session's effects.
pub struct Ports {
    pub card: Box<dyn CardPort>,
    /// The card on the staff-card reader (`[staff] card_reader`).
    pub staff_card: Box<dyn CardPort>,
    pub card_front: Box<dyn CardFrontPort>,
    pub face: Arc<Mutex<Box<dyn FacePort>>>,
    pub hand_off: Box<dyn HandOffPort>,
    pub audit: Box<dyn AuditPort>,
    pub staff: crate::staff::StaffConfig,
    pub voice: crate::voice::Voice,
}

/// Runs the kiosk until its window is closed.
pub fn run(config: &Config, mode: Mode) -> anyhow::Result<()> {
    run_in(&crate::display::open_window()?, config, mode)
}

/// Runs the kiosk in `window` (made by the caller, e.g. a test on the headless backend)
/// until the event loop ends.
pub fn run_in(window: &ui::KioskWindow, config: &Config, mode: Mode) -> anyhow::Result<()> {
    memory::log_after("making the window");
    window.set_demo_mode(mode.is_demo());
    window.set_face_enabled(config.session.face_enabled);
    window.set_face_guide(face_guide::face_guide(&config.camera, &config.face.quality));

    let reader_filter = match mode {
        #[cfg(feature = "demo")]
        Mode::Demo(_) => ReaderFilter::Exact(crate::demo::reader_name(config.demo.vpcd_port)),
        Mode::Production if config.reader.name.is_empty() => ReaderFilter::Any,
        Mode::Production => ReaderFilter::Contains(config.reader.name.clone()),
    };
    let anchors = match mode {
        #[cfg(feature = "demo")]
        Mode::Demo(_) => {
            tracing::warn!("DEMO: trusting only the card simulator's TEST CA");
            demo_trust_anchors()?
        }
        Mode::Production => config.card.trust_anchors()?,
    };
    if anchors.is_empty() {
        tracing::warn!("no [card] trust_anchors configured: every card will be refused");
    }
    let audit = crate::audit::AuditLog::open(&config.audit, &config.kiosk_id)?;
    audit.record_start(config)?;
    let hand_off = reception::Reception::start(config)?;
    let _metrics = metrics_server::start(config)?;
    #[cfg(feature = "demo")]
    let _demo_card = match &mode {
        Mode::Demo(choice) => Some(crate::demo::attach(
            window,
            config.demo.vpcd_port,
            choice.clone(),
        )),
        Mode::Production => None,
    };
    window.set_reader_name(reader_name(&reader_filter).into());

    let (tx, rx) = mpsc::channel();
    bridge::connect_touches(window, &tx, config.keypad.clone());
    let (feed, _console) = console(config, &tx, &audit)?;
    let readers = Readers {
        patient: reader_filter,
        staff: config
            .staff
            .cards_enabled()
            .then(|| ReaderFilter::Contains(config.staff.card_reader.clone())),
    };
    tracing::info!(kiosk_id = %config.kiosk_id, ?readers, "kiosk starting");
    let monitor_tx = tx.clone();
    let watched = match readers.staff {
        Some(_) => ReaderFilter::Any,
        None => readers.patient.clone(),
    };
    let monitor = CardMonitor::spawn(watched, move |event| {
        if let Some(event) = readers.event(event) {
            // The session thread is gone only while the kiosk shuts down.
            let _ = monitor_tx.send(event);
        }
    })?;

    memory::log_after("the audit log, hand-off, console and card monitor");
    let runtime = face_match::OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
    memory::log_after("loading ONNX Runtime");
    let face = face_port(config, &mode, &runtime)?;
    memory::log_after("checking that the face models load (dropped until a face session)");
    let card_front = card_front_port(config, &mode, &runtime)?;
    memory::log_after("checking that the card-front reader loads (dropped until a read)");
    let ports = Ports {
        card: Box::new(card_port::PcscCard::new(anchors.clone())),
        staff_card: Box::new(card_port::PcscCard::new(anchors)),
        card_front: Box::new(card_front),
        face: Arc::new(Mutex::new(Box::new(face))),
        hand_off: Box::new(hand_off),
        audit: Box::new(reception::AuditTrail(audit)),
        staff: config.staff.clone(),
        voice: crate::voice::Voice::start(config.voice.clone()),
    };
    ports
        .voice
        .prerender(view::all_prompts(window, config.keypad.enabled));
    memory::log_after("starting the voice");
    let view = window.as_weak();
    let session = Session::new(config.session_settings()).with_challenge_seed(random_seed()?);
    let pad = (config.session.shuffle_pin_pad, config.keypad.enabled);
    let kiosk_id = config.kiosk_id.clone();
    // The session thread holds a sender of its own channel (for the capture thread), so it
    // never sees the channel close: it is left to end with the process.
    std::thread::Builder::new()
        .name("session".into())
        .spawn(move || {
            Runtime::new(ports, tx, pad, kiosk_id)
                .with_console(feed)
                .run(session, &rx, &view)
        })?;
    window.run()?;
    drop(monitor);
    Ok(())
}

/// The reception console when `[console] enabled`, and the feed the runtime keeps it current
/// with; the console reads the camera and the outbox itself, as the metrics probe does.
fn console(
    config: &Config,
    tx: &mpsc::Sender<crate::session::Event>,
    audit: &crate::audit::AuditLog,
) -> anyhow::Result<(
    Option<crate::console::Feed>,
    Option<crate::console::Console>,
)> {
    if !config.console.enabled {
        return Ok((None, None));
    }
    let feed = crate::console::Feed::new(&config.kiosk_id);
    let camera = health_probe::camera_path(config);
    let outbox = config.handoff.outbox_dir.clone();
    let devices = move || {
        let (census, age) = health_probe::backlog(&outbox).unwrap_or_default();
        crate::console::Devices {
            camera_missing: !camera.exists(),
            outbox_queued: census.queued as u64,
            outbox_oldest_seconds: age.as_secs(),
        }
    };
    let running = crate::console::start(
        &config.console,
        &config.staff,
        &feed,
        tx.clone(),
        audit.clone(),
        devices,
    )?;
    Ok((Some(feed), running))
}

/// The face pipeline on the configured camera; in the demo, image folders of the card holder
/// and of an impostor (SIMULATED camera) and, if configured, no liveness check.
fn face_port(
    config: &Config,
    mode: &Mode,
    runtime: &face_match::OrtRuntime,
) -> anyhow::Result<face_on_demand::FaceOnDemand> {
    use crate::config::Liveness;
    let liveness = match (config.face.liveness, mode) {
        (Liveness::On, _) => Some(config.face.challenge.judge_config()),
        #[cfg(feature = "demo")]
        (Liveness::Off, Mode::Demo(_)) => {
            tracing::warn!("DEMO: face.liveness = \"off\": no liveness check (still images)");
            None
        }
        (Liveness::Off, Mode::Production) => {
            anyhow::bail!("face.liveness = \"off\" is allowed in demo mode only")
        }
    };
    let demo_camera = match mode {
        #[cfg(feature = "demo")]
        Mode::Demo(choice) => sim::face_camera(config, choice),
        Mode::Production => None,
    };
    let camera = config.camera.clone();
    let load = face_on_demand::camera_face_loader(face_on_demand::CameraFaceParts {
        runtime: runtime.clone(),
        models_dir: config.face.models_dir.clone(),
        quality: config.face.quality,
        policy: config.match_policy(),
        open_camera: demo_camera.unwrap_or_else(|| Box::new(move || camera::open(&camera))),
        liveness,
        fps: config.camera.fps,
    });
    face_on_demand::FaceOnDemand::new(load)
}

/// The card-front OCR on the configured card-front camera; in the demo, unless an image
/// folder is configured, photos of the demo card's front rendered in memory (SIMULATED camera).
fn card_front_port(
    config: &Config,
    mode: &Mode,
    runtime: &face_match::OrtRuntime,
) -> anyhow::Result<card_front_port::OcrCardFront> {
    let demo_camera = match mode {
        #[cfg(feature = "demo")]
        Mode::Demo(choice) => sim::card_front_camera(config, choice),
        Mode::Production => None,
    };
    let camera = config.card_front_camera.clone();
    let open = demo_camera.unwrap_or_else(|| Box::new(move || camera::open(&camera)));
    let policy = config.session.submit_policy();
    let (runtime, models) = (runtime.clone(), config.face.models_dir.clone());
    let load: card_front_port::ReaderLoader = Box::new(move || {
        runtime.loading(|| card_front::CardFrontReader::new(runtime.environment(), &models))
    });
    Ok(card_front_port::OcrCardFront::new(load, open, policy)?)
}

/// A seed from the operating system's random source, for the liveness challenge draw.
fn random_seed() -> anyhow::Result<u64> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// The demo's trust anchor: the card simulator's TEST CA (never a real J-LIS CA).
#[cfg(feature = "demo")]
fn demo_trust_anchors() -> anyhow::Result<card_io::certificate::TrustAnchors> {
    let mut anchors = card_io::certificate::TrustAnchors::new();
    anchors.add_der(&card_sim::pki::test_trust_anchor_der())?;
    Ok(anchors)
}

#[cfg(test)]
mod tests {
    /// The configured ONNX Runtime (the tests' default points at `third_party`).
    pub(crate) fn runtime(config: &crate::config::Config) -> face_match::OrtRuntime {
        face_match::OrtRuntime::init(&config.face.onnx_runtime, config.face.threads).unwrap()
    }

    /// A folder `name` (made anew under the temporary folder) of links to the configured
    /// models `models`; [`relink`] puts a removed one back.
    pub(crate) fn linked_models(name: &str, models: &[&str]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        models.iter().for_each(|model| relink(&dir, model));
        dir
    }

    /// Links `model` in `dir` to the configured one.
    pub(crate) fn relink(dir: &std::path::Path, model: &str) {
        let models = crate::config::Config::default().face.models_dir;
        let from = std::fs::canonicalize(models.join(model)).unwrap();
        std::os::unix::fs::symlink(from, dir.join(model)).unwrap();
    }

    #[test]
    fn liveness_off_is_refused_outside_the_demo() {
        let config = crate::config::Config::parse("[face]\nliveness = \"off\"\n").unwrap();
        let runtime = super::tests::runtime(&config);
        let e = super::face_port(&config, &super::Mode::Production, &runtime)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("demo mode only"), "{e}");
    }

    /// `[face]` and `[face.quality]` reach the camera pipeline: the quality gate's size limit
    /// decides the guidance, the threshold decides the match (real models, still images).
    #[test]
    #[cfg(feature = "demo")]
    fn face_settings_reach_the_camera_pipeline() {
        use super::ports::{CaptureProgress, FacePort};
        use crate::session::{Capture, Challenge, Guidance, LivenessCheck};
        use std::sync::atomic::{AtomicBool, Ordering};

        let portraits = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/face-eval/portraits");
        let chip = || {
            let mut photo =
                face_match::ImageFolderSource::open(&portraits.join("obama.jpg")).unwrap();
            let frame = face_match::CameraSource::next_frame(&mut photo).unwrap();
            let simulator = face_match::eval::ChipSimulator::card_like().unwrap();
            simulator.encode(&frame).unwrap()
        };
        let port = |settings: &str| {
            let text = format!(
                "[face]\nliveness = \"off\"\n{settings}\n[camera]\nsource = \"images\"\nfolder = {:?}\nfps = 60\n",
                portraits.join("obama2.jpg").display().to_string()
            );
            let config = crate::config::Config::parse(&text).unwrap();
            let runtime = super::tests::runtime(&config);
            let mut face = super::face_port(&config, &super::Mode::demo(), &runtime).unwrap();
            face.set_reference(chip()).unwrap();
            face
        };
        let capture = |face: &mut super::face_on_demand::FaceOnDemand,
                       guidance: &mut Vec<Guidance>| {
            let stop = AtomicBool::new(false);
            let mut report = |progress| {
                if let CaptureProgress::Guidance(g) = progress {
                    guidance.push(g);
                    stop.store(guidance.len() >= 3, Ordering::Relaxed);
                }
            };
            face.capture(Challenge::TurnLeft, 1, &mut report, &stop)
                .unwrap()
        };

        let mut guidance = Vec::new();
        let mut far = port("[face.quality]\nmin_face_px = 1000.0\n");
        assert_eq!(capture(&mut far, &mut guidance), Capture::LivenessFailed);
        assert_eq!(guidance, [Guidance::MoveCloser; 3]);

        // A match ends the capture at once; without one, it takes the best of 2 usable frames.
        for (threshold, matched, frames) in [(0.42, true, 1), (0.98, false, 2)] {
            let mut face = port(&format!(
                "match_threshold = {threshold}\nframes_per_attempt = 2\n"
            ));
            guidance.clear();
            let captured = capture(&mut face, &mut guidance);
            assert_eq!(
                captured,
                Capture::Captured {
                    liveness: LivenessCheck::NotRun
                }
            );
            assert_eq!(guidance, vec![Guidance::HoldStill; frames]);
            let result = face.compare().unwrap();
            assert_eq!(result.matched, matched, "{threshold}: {result:?}");
        }
    }
}
