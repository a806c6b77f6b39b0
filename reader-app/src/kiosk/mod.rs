//! The running kiosk: the Slint window, the card monitor and the session thread.
//!
//! Card, camera, timer and touch events flow into one channel; the session thread owns the
//! [`Session`], carries out its effects through the [`ports`] and pushes views to the UI thread.

pub mod camera;
pub mod card_front_port;
pub mod card_port;
pub mod face_port;
pub mod ports;
pub mod reception;
pub mod sim;
pub mod staff;
pub mod view;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use card_io::monitor::{CardEvent, CardMonitor, ReaderFilter};
use slint::ComponentHandle;

use crate::audit::{AuditEvent, Outcome};
use crate::config::Config;
use crate::handoff::result::{SessionId, SessionInfo};
use crate::session::{Effect, Event, Screen, Session, TimerId, Touch, View};
use ports::{AuditPort, CaptureProgress, CardFrontPort, CardPort, FacePort, HandOffPort};

/// Whether the kiosk drives a real reader only, or also offers the virtual card controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Demo,
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
    pub staff: staff::StaffConfig,
    pub voice: crate::voice::Voice,
}

/// Runs the kiosk until its window is closed.
pub fn run(config: &Config, mode: Mode) -> anyhow::Result<()> {
    run_in(&crate::display::open_window()?, config, mode)
}

/// Runs the kiosk in `window` (made by the caller, e.g. a test on the headless backend)
/// until the event loop ends.
pub fn run_in(window: &ui::KioskWindow, config: &Config, mode: Mode) -> anyhow::Result<()> {
    window.set_demo_mode(mode == Mode::Demo);
    window.set_face_enabled(config.session.face_enabled);

    let reader_filter = match mode {
        Mode::Demo => ReaderFilter::Exact(crate::demo::reader_name(config.demo.vpcd_port)),
        Mode::Production if config.reader.name.is_empty() => ReaderFilter::Any,
        Mode::Production => ReaderFilter::Contains(config.reader.name.clone()),
    };
    let anchors = match mode {
        Mode::Demo => {
            tracing::warn!("DEMO: trusting only the card simulator's TEST CA");
            demo_trust_anchors()?
        }
        Mode::Production => config.card.trust_anchors()?,
    };
    if anchors.is_empty() {
        tracing::warn!("no [card] trust_anchors configured: every card will be refused");
    }
    let audit = crate::audit::AuditLog::open(&config.audit, &config.kiosk_id)?;
    let hand_off = reception::Reception::start(config)?;
    let choice = sim::SharedChoice::default();
    let _demo_card = (mode == Mode::Demo)
        .then(|| crate::demo::attach(window, config.demo.vpcd_port, choice.clone()));
    window.set_reader_status(reader_status(&reader_filter).into());

    let (tx, rx) = mpsc::channel();
    connect_touches(window, &tx);
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

    let runtime = face_match::OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
    let face = face_port(config, mode, &choice, &runtime)?;
    let ports = Ports {
        card: Box::new(card_port::PcscCard::new(anchors.clone())),
        staff_card: Box::new(card_port::PcscCard::new(anchors)),
        card_front: Box::new(card_front_port(config, mode, &choice, &runtime)?),
        face: Arc::new(Mutex::new(Box::new(face))),
        hand_off: Box::new(hand_off),
        audit: Box::new(reception::AuditTrail(audit)),
        staff: config.staff.clone(),
        voice: crate::voice::Voice::start(config.voice.clone()),
    };
    let view = window.as_weak();
    let session = Session::new(config.session_settings()).with_challenge_seed(random_seed()?);
    let shuffle = config.session.shuffle_pin_pad;
    let kiosk_id = config.kiosk_id.clone();
    // The session thread holds a sender of its own channel (for the capture thread), so it
    // never sees the channel close: it is left to end with the process.
    std::thread::Builder::new()
        .name("session".into())
        .spawn(move || Runtime::new(ports, tx, shuffle, kiosk_id).run(session, &rx, &view))?;
    window.run()?;
    drop(monitor);
    Ok(())
}

/// The face pipeline on the configured camera; in the demo, image folders of the card holder
/// and of an impostor (SIMULATED camera) and, if configured, no liveness check.
fn face_port(
    config: &Config,
    mode: Mode,
    choice: &sim::SharedChoice,
    runtime: &face_match::OrtRuntime,
) -> anyhow::Result<face_port::CameraFace> {
    use crate::config::{CameraKind, Liveness};
    use face_match::ImageFolderSource;
    let liveness = match (config.face.liveness, mode) {
        (Liveness::On, _) => Some(config.face.challenge.judge_config()),
        (Liveness::Off, Mode::Demo) => {
            tracing::warn!("DEMO: face.liveness = \"off\": no liveness check (still images)");
            None
        }
        (Liveness::Off, Mode::Production) => {
            anyhow::bail!("face.liveness = \"off\" is allowed in demo mode only")
        }
    };
    let matcher = face_match::FaceMatcher::load(
        runtime,
        &config.face.models_dir,
        config.face.quality,
        config.match_policy(),
    )?;
    let camera = config.camera.clone();
    let impostor = config.demo.impostor_folder.clone();
    let demo = (mode == Mode::Demo && !impostor.as_os_str().is_empty()).then(|| choice.clone());
    let open: camera::CameraOpener = Box::new(move || match (camera.source, &demo) {
        (CameraKind::Images, Some(choice)) => Ok(Box::new(sim::DemoCamera {
            choice: choice.clone(),
            holder: ImageFolderSource::open(&camera.folder)?,
            impostor: ImageFolderSource::open(&impostor)?,
        })),
        _ => camera::open(&camera),
    });
    Ok(face_port::CameraFace::new(
        matcher,
        open,
        liveness,
        config.camera.fps,
    ))
}

/// The card-front OCR on the configured card-front camera; in the demo, unless an image
/// folder is configured, photos of the demo card's front rendered in memory (SIMULATED camera).
fn card_front_port(
    config: &Config,
    mode: Mode,
    choice: &sim::SharedChoice,
    runtime: &face_match::OrtRuntime,
) -> anyhow::Result<card_front_port::OcrCardFront> {
    let camera = config.card_front_camera.clone();
    let open: camera::CameraOpener = match (mode, camera.source) {
        (Mode::Demo, crate::config::CameraKind::V4l2) => {
            tracing::warn!("DEMO: the card-front camera shows the demo card's rendered front");
            let choice = choice.clone();
            let fronts = Arc::new(sim::RenderedFronts::default());
            Box::new(move || {
                Ok(Box::new(sim::DemoCardFront {
                    choice: choice.clone(),
                    fronts: fronts.clone(),
                }))
            })
        }
        _ => Box::new(move || camera::open(&camera)),
    };
    let enough = config.session.submit_policy().min_confidence;
    let reader = card_front::CardFrontReader::new(runtime.environment())?;
    Ok(card_front_port::OcrCardFront::new(reader, open, enough))
}

/// A seed from the operating system's random source, for the liveness challenge draw.
fn random_seed() -> anyhow::Result<u64> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// The demo's trust anchor: the card simulator's TEST CA (never a real J-LIS CA).
fn demo_trust_anchors() -> anyhow::Result<card_io::certificate::TrustAnchors> {
    let mut anchors = card_io::certificate::TrustAnchors::new();
    anchors.add_der(&card_sim::pki::test_trust_anchor_der())?;
    Ok(anchors)
}

/// Sends the window's touches to the session.
fn connect_touches(window: &ui::KioskWindow, tx: &mpsc::Sender<Event>) {
    let send = tx.clone();
    window.on_call_staff(move || {
        let _ = send.send(Event::Touch(Touch::CallStaff));
    });
    let send = tx.clone();
    window.on_select_language(move |code| {
        if let Some(lang) = crate::session::Lang::from_code(&code) {
            let _ = send.send(Event::Touch(Touch::Language(lang)));
        }
    });
    let send = tx.clone();
    let weak = window.as_weak();
    window.on_act(move |action, arg| {
        let Some(window) = weak.upgrade() else { return };
        let rows = view::consent_items(&window);
        if let Some(touch) = view::touch(action, arg, &rows) {
            let _ = send.send(Event::Touch(touch));
        }
    });
}

/// The reader line at the bottom of the screen.
fn reader_status(filter: &ReaderFilter) -> String {
    match filter {
        ReaderFilter::Any => "カードリーダー: すべて".into(),
        ReaderFilter::Contains(name) | ReaderFilter::Exact(name) => {
            format!("カードリーダー: {name}")
        }
    }
}

/// The patient reader(s) and the staff-card reader, if staff cards are configured.
#[derive(Debug)]
struct Readers {
    patient: ReaderFilter,
    staff: Option<ReaderFilter>,
}

impl Readers {
    /// The session event of a card monitor event: a card on the staff-card reader is a staff
    /// card (its other events do not concern the session); readers of neither kind are ignored.
    fn event(&self, event: CardEvent) -> Option<Event> {
        let reader = match &event {
            CardEvent::ReaderAdded(r) | CardEvent::ReaderRemoved(r) => r,
            CardEvent::CardInserted { reader } | CardEvent::CardRemoved { reader } => reader,
            CardEvent::ServiceLost => return Some(Event::ServiceLost),
            CardEvent::ServiceRestored => return Some(Event::ServiceRestored),
        };
        if self.staff.as_ref().is_some_and(|f| f.matches(reader)) {
            return match event {
                CardEvent::CardInserted { reader } => Some(Event::StaffCardInserted { reader }),
                _ => None,
            };
        }
        if !self.patient.matches(reader) {
            return None;
        }
        Some(match event {
            CardEvent::ReaderAdded(reader) => Event::ReaderAdded { reader },
            CardEvent::ReaderRemoved(reader) => Event::ReaderRemoved { reader },
            CardEvent::CardInserted { reader } => Event::CardInserted { reader },
            CardEvent::CardRemoved { reader } => Event::CardRemoved { reader },
            CardEvent::ServiceLost => Event::ServiceLost,
            CardEvent::ServiceRestored => Event::ServiceRestored,
        })
    }
}

/// Reads the card on the staff-card reader and looks its certificate up among the
/// configured staff cards.
fn staff_card(card: &mut dyn CardPort, staff: &staff::StaffConfig, reader: &str) -> Event {
    let identity = card.read_identity(reader);
    card.release();
    match identity {
        Ok(id) => match staff.card_operator(&id.certificate.serial) {
            Some(operator) => {
                tracing::info!(operator = %operator.0, "staff card recognised");
                Event::StaffCardPresented(operator)
            }
            None => {
                let serial = &id.certificate.serial;
                tracing::warn!(%serial, "not a configured staff card");
                Event::StaffCardRefused
            }
        },
        Err(e) => {
            tracing::warn!(code = e.text().code, "staff card unreadable");
            Event::StaffCardRefused
        }
    }
}

/// Carries out effects: calls the ports, runs the timers and the capture thread.
struct Runtime {
    ports: Ports,
    shuffle_pad: bool,
    shown: Option<Screen>,
    tx: mpsc::Sender<Event>,
    timers: HashMap<TimerId, Instant>,
    capture_stop: Option<Arc<AtomicBool>>,
    kiosk_id: String,
    /// The patient session in progress, from card reading until the card is released.
    patient: Option<Patient>,
}

/// What the audit log and the hand-off need to know of the current patient.
struct Patient {
    info: SessionInfo,
    serial: Option<String>,
    delivered: bool,
}

impl Runtime {
    fn new(ports: Ports, tx: mpsc::Sender<Event>, shuffle_pad: bool, kiosk_id: String) -> Self {
        Self {
            ports,
            shuffle_pad,
            shown: None,
            tx,
            timers: HashMap::new(),
            capture_stop: None,
            kiosk_id,
            patient: None,
        }
    }

    fn session_id(&self) -> Option<SessionId> {
        self.patient.as_ref().map(|p| p.info.session_id)
    }

    /// A card was placed: a new patient session (ending one left open).
    fn begin_patient(&mut self) {
        self.end_patient();
        let info = SessionInfo {
            kiosk_id: self.kiosk_id.clone(),
            session_id: SessionId::new(),
            started_at: crate::handoff::result::now(),
        };
        let session_id = info.session_id;
        self.patient = Some(Patient {
            info,
            serial: None,
            delivered: false,
        });
        self.ports
            .audit
            .record(AuditEvent::SessionStarted { session_id });
    }

    fn end_patient(&mut self) {
        if let Some(p) = self.patient.take() {
            let outcome = if p.delivered {
                Outcome::Verified
            } else {
                Outcome::Aborted
            };
            self.ports.audit.record(AuditEvent::SessionEnded {
                session_id: p.info.session_id,
                outcome,
                certificate_serial: p.serial,
            });
        }
    }

    fn deliver(&mut self, result: &crate::session::VerificationResult) -> Event {
        let Some(patient) = self.patient.as_mut() else {
            return Event::Delivered(Err(crate::errors::KioskError::CardRemoved));
        };
        let session_id = patient.info.session_id;
        let method = match result.method {
            crate::session::Method::Face { .. } => "face",
            crate::session::Method::Pin(_) => "pin",
            crate::session::Method::Visual { .. } => "visual",
        };
        let answer = self.ports.hand_off.deliver(&patient.info, result);
        self.ports.audit.record(AuditEvent::MethodChosen {
            session_id,
            method: method.into(),
        });
        if answer.is_ok() {
            patient.delivered = true;
            self.ports
                .audit
                .record(AuditEvent::ResultQueued { session_id });
        }
        Event::Delivered(answer)
    }

    /// Feeds events into the session until every sender is gone.
    fn run(
        mut self,
        mut session: Session,
        rx: &mpsc::Receiver<Event>,
        ui: &slint::Weak<ui::KioskWindow>,
    ) {
        let mut pending = Vec::new();
        loop {
            let event = match self.next_deadline() {
                Some((id, at)) => {
                    match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(event) => event,
                        Err(RecvTimeoutError::Timeout) => {
                            self.timers.remove(&id);
                            Event::TimerFired(id)
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match rx.recv() {
                    Ok(event) => event,
                    Err(_) => break,
                },
            };
            pending.push(event);
            while let Some(event) = pending.pop() {
                tracing::debug!(?event, "session event");
                for effect in session.handle(event) {
                    if let Some(next) = self.carry_out(effect, ui) {
                        pending.insert(0, next);
                    }
                }
            }
        }
        self.stop_capture();
    }

    fn next_deadline(&self) -> Option<(TimerId, Instant)> {
        self.timers
            .iter()
            .map(|(&id, &at)| (id, at))
            .min_by_key(|&(_, at)| at)
    }

    /// Does one effect; a synchronous port call returns its result event.
    fn carry_out(&mut self, effect: Effect, ui: &slint::Weak<ui::KioskWindow>) -> Option<Event> {
        let p = &mut self.ports;
        match effect {
            Effect::Show(view) => {
                let entering_pad =
                    view.screen == Screen::PinEntry && self.shown != Some(Screen::PinEntry);
                if entering_pad && self.shuffle_pad {
                    set_pad_keys(ui, shuffled_digits());
                }
                self.shown = Some(view.screen);
                if let (Screen::Error, Some(e)) = (view.screen, view.error) {
                    let session_id = self.session_id();
                    self.ports.audit.record(AuditEvent::ErrorShown {
                        session_id,
                        code: e.text().code.into(),
                    });
                }
                show(ui, view);
            }
            Effect::Speak(screen, lang) => speak(ui, &p.voice, screen, lang),
            Effect::SetLanguage(_) => {}
            Effect::StartTimer(id, after) => {
                self.timers.insert(id, Instant::now() + after);
            }
            Effect::CancelTimer(id) => {
                self.timers.remove(&id);
            }
            Effect::ReadCardIdentity { reader } => {
                self.begin_patient();
                let identity = self.ports.card.read_identity(&reader);
                if let (Ok(id), Some(patient)) = (&identity, self.patient.as_mut()) {
                    patient.serial = Some(id.certificate.serial.clone());
                }
                return Some(Event::CardIdentityRead(identity));
            }
            Effect::QueryPinBCounter => {
                return Some(Event::PinBCounterRead(p.card.pin_b_retries()))
            }
            Effect::ReadCardFront => return Some(Event::CardFrontRead(p.card_front.read())),
            Effect::SubmitPinB(pin_b) => {
                return Some(Event::PinBSubmitted(p.card.submit_pin_b(&pin_b)))
            }
            Effect::ReadFacePhoto => {
                let result = p
                    .card
                    .read_face_photo()
                    .and_then(|photo| lock(&p.face).set_reference(photo));
                return Some(Event::FacePhotoRead(result));
            }
            Effect::StartFaceCapture(challenge) => self.start_capture(challenge, ui),
            Effect::StopFaceCapture => self.stop_capture(),
            Effect::CompareFaces => return Some(Event::FacesCompared(lock(&p.face).compare())),
            Effect::DiscardBiometrics => {
                self.stop_capture();
                lock(&self.ports.face).discard();
                clear_preview(ui);
            }
            Effect::VerifyPin(pin) => return Some(Event::PinVerified(p.card.verify_pin(&pin))),
            Effect::CheckStaffPin(pin) => return Some(Event::StaffPinChecked(p.staff.check(&pin))),
            Effect::ReadStaffCard { reader } => {
                return Some(staff_card(p.staff_card.as_mut(), &p.staff, &reader))
            }
            Effect::DeliverResult(result) => return Some(self.deliver(&result)),
            Effect::ReleaseCard => {
                p.card.release();
                self.end_patient();
            }
            Effect::NotifyStaff => tracing::warn!("patient pressed call-staff"),
            Effect::Audit(record) => {
                let event = reception::staff_event(self.session_id(), &record);
                self.ports.audit.record(event);
            }
        }
        None
    }

    /// Captures on a thread of its own, so timers and card removal keep flowing.
    fn start_capture(
        &mut self,
        challenge: crate::session::Challenge,
        ui: &slint::Weak<ui::KioskWindow>,
    ) {
        self.stop_capture();
        let stop = Arc::new(AtomicBool::new(false));
        self.capture_stop = Some(stop.clone());
        let face = self.ports.face.clone();
        let tx = self.tx.clone();
        let ui = ui.clone();
        let spawned = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                let mut report = |progress| match progress {
                    CaptureProgress::Guidance(g) => {
                        let _ = tx.send(Event::FaceGuidance(g));
                    }
                    CaptureProgress::Preview(buffer) => {
                        let ui = ui.clone();
                        let _ = slint::invoke_from_event_loop(move || {
                            if let Some(w) = ui.upgrade() {
                                show_preview(&w, Some(buffer));
                            }
                        });
                    }
                };
                let outcome = lock(&face).capture(challenge, &mut report, &stop);
                if !stop.load(Ordering::Relaxed) {
                    let _ = tx.send(Event::FaceCaptured(outcome));
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the capture thread");
            let _ = self.tx.send(Event::FaceCaptured(Err(
                crate::errors::KioskError::CameraMissing,
            )));
        }
    }

    fn stop_capture(&mut self) {
        if let Some(stop) = self.capture_stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

fn lock(face: &Mutex<Box<dyn FacePort>>) -> std::sync::MutexGuard<'_, Box<dyn FacePort>> {
    face.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The ten digits in a random order (Fisher–Yates over the system RNG).
pub fn shuffled_digits() -> [i32; 10] {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut keys = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    let mut random = [0u8; 10];
    if SystemRandom::new().fill(&mut random).is_err() {
        tracing::warn!("no system randomness: PIN pad keeps its order");
        return keys;
    }
    for i in (1..keys.len()).rev() {
        keys.swap(i, usize::from(random[i]) % (i + 1));
    }
    keys
}

fn set_pad_keys(ui: &slint::Weak<ui::KioskWindow>, keys: [i32; 10]) {
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            w.set_pad_keys(slint::ModelRc::new(slint::VecModel::from(keys.to_vec())));
        }
    });
}

/// Takes the screen's prompt in `lang` from the window's translations and speaks it.
fn speak(
    ui: &slint::Weak<ui::KioskWindow>,
    voice: &crate::voice::Voice,
    screen: Screen,
    lang: crate::session::Lang,
) {
    let (tx, rx) = mpsc::channel();
    let ui = ui.clone();
    let asked = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            view::select_language(lang);
            let _ = tx.send(
                w.global::<ui::Texts>()
                    .invoke_prompt(view::screen(screen))
                    .to_string(),
            );
        }
    });
    if asked.is_ok() {
        if let Ok(text) = rx.recv_timeout(Duration::from_secs(1)) {
            voice.say(lang, text);
        }
    }
}

type Preview = slint::SharedPixelBuffer<slint::Rgb8Pixel>;

thread_local! {
    /// The preview frame on screen (UI thread), kept to zeroize it once replaced.
    static SHOWN_PREVIEW: std::cell::RefCell<Option<Preview>> = const { std::cell::RefCell::new(None) };
}

/// Shows `next` (or nothing) as the preview, then zeroizes the frame it replaced: once the
/// window no longer shows it, this is its only reference and it is overwritten in place.
fn show_preview(w: &ui::KioskWindow, next: Option<Preview>) {
    let image = next.as_ref().map_or_else(slint::Image::default, |b| {
        slint::Image::from_rgb8(b.clone())
    });
    w.set_preview(image);
    if let Some(mut old) = SHOWN_PREVIEW.with(|shown| shown.replace(next)) {
        zeroize::Zeroize::zeroize(old.make_mut_bytes());
    }
}

/// Drops the last preview frame from the window and zeroizes it.
fn clear_preview(ui: &slint::Weak<ui::KioskWindow>) {
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            show_preview(&w, None);
        }
    });
}

/// Shows `view` on the UI thread; errors are logged with their staff cause.
fn show(ui: &slint::Weak<ui::KioskWindow>, view: View) {
    match view.error {
        Some(e) if view.screen == Screen::Error => {
            let text = e.text();
            tracing::warn!(code = text.code, cause = text.staff, "error shown");
        }
        _ => tracing::info!(screen = ?view.screen, "screen shown"),
    }
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(window) = ui.upgrade() {
            view::apply(&window, &view);
        }
    });
}

#[cfg(test)]
mod tests {
    /// The configured ONNX Runtime (the tests' default points at `third_party`).
    pub(crate) fn runtime(config: &crate::config::Config) -> face_match::OrtRuntime {
        face_match::OrtRuntime::init(&config.face.onnx_runtime, config.face.threads).unwrap()
    }

    #[test]
    fn liveness_off_is_refused_outside_the_demo() {
        let config = crate::config::Config::parse("[face]\nliveness = \"off\"\n").unwrap();
        let choice = super::sim::SharedChoice::default();
        let runtime = super::tests::runtime(&config);
        let e = super::face_port(&config, super::Mode::Production, &choice, &runtime)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("demo mode only"), "{e}");
    }

    /// `[face]` and `[face.quality]` reach the camera pipeline: the quality gate's size limit
    /// decides the guidance, the threshold decides the match (real models, still images).
    #[test]
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
            let choice = super::sim::SharedChoice::default();
            let runtime = super::tests::runtime(&config);
            let mut face = super::face_port(&config, super::Mode::Demo, &choice, &runtime).unwrap();
            face.set_reference(chip()).unwrap();
            face
        };
        let capture = |face: &mut super::face_port::CameraFace, guidance: &mut Vec<Guidance>| {
            let stop = AtomicBool::new(false);
            let mut report = |progress| {
                if let CaptureProgress::Guidance(g) = progress {
                    guidance.push(g);
                    stop.store(guidance.len() >= 3, Ordering::Relaxed);
                }
            };
            face.capture(Challenge::TurnLeft, &mut report, &stop)
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

    #[test]
    fn cards_on_the_staff_reader_are_staff_cards_and_nothing_else() {
        use crate::session::Event;
        use card_io::monitor::{CardEvent, ReaderFilter};
        let readers = super::Readers {
            patient: ReaderFilter::Any,
            staff: Some(ReaderFilter::Contains("staff".into())),
        };
        let staff = || "ACS Staff Reader".to_owned();
        assert_eq!(
            readers.event(CardEvent::CardInserted { reader: staff() }),
            Some(Event::StaffCardInserted { reader: staff() })
        );
        assert_eq!(
            readers.event(CardEvent::CardRemoved { reader: staff() }),
            None
        );
        assert_eq!(readers.event(CardEvent::ReaderRemoved(staff())), None);
        let patient = || "Sony RC-S300".to_owned();
        assert_eq!(
            readers.event(CardEvent::CardInserted { reader: patient() }),
            Some(Event::CardInserted { reader: patient() })
        );
        assert_eq!(
            readers.event(CardEvent::ServiceLost),
            Some(Event::ServiceLost)
        );
        let only = super::Readers {
            patient: ReaderFilter::Exact(patient()),
            staff: None,
        };
        assert_eq!(
            only.event(CardEvent::CardInserted { reader: staff() }),
            None
        );
    }

    #[test]
    fn shuffled_digits_are_a_permutation() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let keys = super::shuffled_digits();
            let mut sorted = keys;
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            seen.insert(keys);
        }
        assert!(seen.len() > 1, "20 shuffles gave one order");
    }
}
