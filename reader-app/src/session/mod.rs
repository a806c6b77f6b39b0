//! The session state machine: every card, camera, timer and touch event goes through
//! [`Session::handle`], which returns the [`Effect`]s the runtime carries out. Pure, so each
//! transition is unit-tested without hardware. The whole patient flow reads top to bottom in
//! `Session::step`:
//!
//! 待機 → read (certificate + retry counters) → method choice → face (照合番号B counter →
//! card-front OCR → 照合番号B → photo → live capture with guidance and a liveness challenge → compare) / PIN /
//! staff 目視 → consent → hand-off → result (初回利用登録 offer when 未登録) →
//! カードをお取りください → 待機. Card removal, reader loss, idle timeouts, language changes
//! and 係員を呼ぶ are handled in every state.

mod effect;
mod event;
mod settings;
#[cfg(test)]
mod tests;
mod types;

pub use effect::{Effect, Notice, Screen, TimerId, View};
pub use event::{Event, Touch};
pub use settings::Settings;
pub use types::*;

use crate::errors::KioskError;
use card_front::{Decision, FallbackReason, PinBAttempts, ReadQuality, RetryCounter};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Digits of the patient PIN.
const PIN_LEN: usize = 4;
/// Longest staff PIN.
const STAFF_PIN_MAX: usize = 8;
const STAFF_PIN_MIN: usize = 4;

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// 待機: no card.
    Idle,
    /// No reader or no pcscd.
    Unavailable(KioskError),
    Reading,
    /// A card-level error, shown until the card is removed.
    Failed(KioskError),
    MethodChoice,
    /// Card-front OCR, 照合番号B and the photo read.
    FacePreparing,
    FaceCapture {
        seconds_left: u32,
    },
    FaceComparing,
    PinEntry,
    PinVerifying,
    StaffLogin,
    StaffChecking,
    StaffMenu,
    ConsentChoice,
    ConsentItems,
    ConsentSummary,
    Delivering,
    RegistrationOffer,
    Result(Qualification),
    RemoveCard,
}

impl State {
    /// States waiting for the card, a camera or the reception system: 係員を呼ぶ alerts staff
    /// there without interrupting.
    fn is_busy(self) -> bool {
        matches!(
            self,
            State::Reading
                | State::FacePreparing
                | State::FaceComparing
                | State::PinVerifying
                | State::Delivering
        )
    }

    /// Screens that wait for a touch and give up after [`Settings::idle_seconds`].
    fn waits_for_touch(self) -> bool {
        matches!(
            self,
            State::MethodChoice
                | State::PinEntry
                | State::StaffLogin
                | State::StaffMenu
                | State::ConsentChoice
                | State::ConsentItems
                | State::ConsentSummary
                | State::RegistrationOffer
        )
    }

    fn screen(self) -> Screen {
        match self {
            State::Idle => Screen::Waiting,
            State::Unavailable(_) | State::Failed(_) => Screen::Error,
            State::Reading => Screen::Reading,
            State::MethodChoice => Screen::MethodChoice,
            State::FacePreparing => Screen::FacePreparing,
            State::FaceCapture { .. } | State::FaceComparing => Screen::FaceCapture,
            State::PinEntry | State::PinVerifying => Screen::PinEntry,
            State::StaffLogin | State::StaffChecking => Screen::StaffLogin,
            State::StaffMenu => Screen::StaffMenu,
            State::ConsentChoice => Screen::ConsentChoice,
            State::ConsentItems => Screen::ConsentItems,
            State::ConsentSummary => Screen::ConsentSummary,
            State::Delivering => Screen::Delivering,
            State::RegistrationOffer => Screen::RegistrationOffer,
            State::Result(_) => Screen::Result,
            State::RemoveCard => Screen::RemoveCard,
        }
    }
}

/// The patient whose card is in the reader.
#[derive(Debug)]
struct Patient {
    reader: String,
    identity: Option<CardIdentity>,
    proxy: bool,
    /// Face authentication failed or cannot be done with this card.
    face_blocked: bool,
    /// The camera was used: biometric buffers must be discarded, the patient told.
    face_used: bool,
    /// 照合番号B reads and refusals under the submit policy, for this card.
    pin_b: PinBAttempts,
    attempt: u8,
    challenge: Option<Challenge>,
    guidance: Option<Guidance>,
    liveness: LivenessCheck,
    method: Option<Method>,
    consent: Consent,
    register: bool,
    pin: PinEntry,
    notices: Vec<Notice>,
}

impl Patient {
    fn new(reader: String, settings: &Settings) -> Self {
        Self {
            reader,
            identity: None,
            proxy: false,
            face_blocked: false,
            face_used: false,
            pin_b: PinBAttempts::new(settings.submit_policy()),
            attempt: 0,
            challenge: None,
            guidance: None,
            liveness: LivenessCheck::NotRun,
            method: None,
            consent: default_consent(settings),
            register: false,
            pin: PinEntry::default(),
            notices: Vec::new(),
        }
    }

    fn pin_state(&self) -> Option<PinState> {
        self.identity.as_ref().map(|i| i.pin)
    }

    fn forget(&mut self, notice: Notice) {
        self.notices.retain(|n| *n != notice);
    }

    fn notice(&mut self, notice: Notice) {
        if !self.notices.contains(&notice) {
            self.notices.push(notice);
        }
    }

    /// The card's 照合番号B retry counter as last reported (queried before each read, or
    /// reported by a refusal).
    fn pin_b_counter(&self) -> RetryCounter {
        match self.identity.as_ref().and_then(|i| i.pin_b_retries) {
            Some(n) => RetryCounter::Remaining(n),
            None => RetryCounter::NotReported,
        }
    }
}

fn default_consent(settings: &Settings) -> Consent {
    Consent {
        comprehensive: false,
        items: settings
            .consent_items
            .iter()
            .map(|&item| (item, item.default_choice()))
            .collect(),
    }
}

/// One kiosk's session state.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    state: State,
    lang: Lang,
    patient: Option<Patient>,
    staff_pin: Secret,
    /// The last staff PIN or staff card was refused (shown on the staff login screen).
    staff_refused: Option<Credential>,
    operator: Option<Operator>,
    /// The last error, in staff wording on the staff screen.
    last_error: Option<KioskError>,
    /// Notices on the waiting screen (e.g. the last card was removed too early).
    idle_notices: Vec<Notice>,
    idle_armed: bool,
    /// Draws each capture's liveness challenge, so the next one cannot be predicted; the
    /// runtime seeds it from the operating system ([`Session::with_challenge_seed`]).
    challenge_draw: ChaCha8Rng,
}

impl Default for Session {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl Session {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            state: State::Idle,
            lang: Lang::Ja,
            patient: None,
            staff_pin: Secret::default(),
            staff_refused: None,
            operator: None,
            last_error: None,
            idle_notices: Vec::new(),
            idle_armed: false,
            challenge_draw: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// Seeds the draw of liveness challenges (a fixed seed makes tests reproducible).
    pub fn with_challenge_seed(mut self, seed: u64) -> Self {
        self.challenge_draw = ChaCha8Rng::seed_from_u64(seed);
        self
    }

    /// The screen and everything on it now.
    pub fn view(&self) -> View {
        let mut view = View::new(self.state.screen(), self.lang);
        view.operator = self.operator.clone();
        view.last_error = self.last_error;
        match self.state {
            State::Unavailable(e) | State::Failed(e) => view.error = Some(e),
            State::Result(q) => view.answer = Some(q),
            State::FaceCapture { seconds_left } => view.seconds_left = seconds_left,
            State::StaffLogin | State::StaffChecking => {
                view.digits_entered = self.staff_pin.len() as u8;
                view.notices.push(Notice::StaffCalled);
                match self.staff_refused {
                    Some(Credential::Pin) => view.notices.push(Notice::StaffRefused),
                    Some(Credential::Card) => view.notices.push(Notice::StaffCardRefused),
                    None => {}
                }
            }
            _ => {}
        }
        view.max_attempts = self.settings.face_attempts;
        let Some(p) = &self.patient else {
            view.notices.extend(self.idle_notices.iter().copied());
            return view;
        };
        view.notices.extend(p.notices.iter().copied());
        if p.proxy {
            view.notices.push(Notice::Proxy);
        }
        view.pin_retries = match p.pin_state() {
            Some(PinState::Remaining(n)) => Some(n),
            _ => None,
        };
        view.face_available = self.face_available();
        view.pin_available = self.pin_available();
        view.proxy = p.proxy;
        if matches!(self.state, State::PinEntry | State::PinVerifying) {
            view.digits_entered = p.pin.len() as u8;
        }
        view.guidance = p.guidance;
        view.challenge = p.challenge;
        view.attempt = p.attempt;
        view.consent = p.consent.items.clone();
        view.comprehensive = p.consent.comprehensive;
        view.visual_available = p.identity.is_some();
        view
    }

    /// Advances the session by one event and returns what the runtime must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.step(event, &mut fx);
        fx
    }

    /// The whole flow: events every state handles first, then each state's own.
    fn step(&mut self, event: Event, fx: &mut Vec<Effect>) {
        match (self.state, event) {
            // ── Devices, in every state ──
            (State::Unavailable(_), Event::ReaderAdded { .. }) => self.go(State::Idle, fx),
            (_, Event::ReaderAdded { .. }) => {}
            (_, Event::ReaderRemoved { reader }) => {
                if self.patient.as_ref().is_some_and(|p| p.reader == reader) {
                    self.end_patient(fx);
                }
                self.go(State::Unavailable(KioskError::ReaderMissing), fx);
            }
            (_, Event::ServiceLost) => {
                self.end_patient(fx);
                self.go(State::Unavailable(KioskError::PcscdDown), fx);
            }
            // Until a reader is added again, the reader is what is missing.
            (State::Unavailable(KioskError::PcscdDown), Event::ServiceRestored) => {
                self.go(State::Unavailable(KioskError::ReaderMissing), fx);
            }
            (_, Event::ServiceRestored) => {}
            (_, Event::CardInserted { reader }) => self.card_inserted(reader, fx),
            (state, Event::CardRemoved { reader }) => {
                if self.patient.as_ref().is_none_or(|p| p.reader != reader) {
                    return;
                }
                let finished = matches!(
                    state,
                    State::Failed(_) | State::Result(_) | State::RemoveCard
                );
                self.end_patient(fx);
                self.leave_staff_mode(fx);
                self.idle_notices = if finished {
                    Vec::new()
                } else {
                    vec![Notice::CardRemoved]
                };
                self.go(State::Idle, fx);
            }

            // ── Touches available everywhere ──
            (_, Event::Touch(Touch::Language(lang))) => {
                self.lang = lang;
                fx.push(Effect::SetLanguage(lang));
                self.show(fx);
                fx.push(Effect::Speak(self.state.screen(), lang));
            }
            (
                State::StaffLogin | State::StaffChecking | State::StaffMenu,
                Event::Touch(Touch::CallStaff),
            ) => {}
            (state, Event::Touch(Touch::CallStaff)) if state.is_busy() => {
                fx.push(Effect::NotifyStaff);
                fx.push(Effect::Audit(AuditRecord::StaffCalled));
                self.patient_mut().notice(Notice::StaffCalled);
                self.show(fx);
            }
            (_, Event::Touch(Touch::CallStaff)) => {
                fx.push(Effect::NotifyStaff);
                fx.push(Effect::Audit(AuditRecord::StaffCalled));
                self.stop_face(fx);
                self.staff_pin.clear();
                if let Some(p) = &mut self.patient {
                    p.pin.clear();
                }
                self.go(State::StaffLogin, fx);
            }
            (_, Event::StaffCardInserted { reader }) => fx.push(Effect::ReadStaffCard { reader }),
            (_, Event::StaffCardPresented(operator)) => {
                self.staff_unlocked(operator, Credential::Card, fx)
            }
            (state, Event::StaffCardRefused) => {
                fx.push(Effect::Audit(AuditRecord::StaffUnlockRefused {
                    credential: Credential::Card,
                }));
                if state == State::StaffLogin {
                    self.staff_refused = Some(Credential::Card);
                    self.show(fx);
                }
            }

            // ── Timers ──
            (state, Event::TimerFired(TimerId::Idle)) => {
                self.idle_armed = false;
                if !state.waits_for_touch() {
                    return;
                }
                self.leave_staff_mode(fx);
                if self.patient.is_some() {
                    self.fail(KioskError::TimedOut, fx);
                } else {
                    self.go(State::Idle, fx);
                }
            }

            // ── Reading the card ──
            (State::Reading, Event::CardIdentityRead(Ok(identity))) => {
                self.card_identified(identity, fx)
            }
            (State::Reading, Event::CardIdentityRead(Err(e))) => self.fail(e, fx),

            // ── Method choice ──
            (State::MethodChoice, Event::Touch(Touch::ChooseFace)) if self.face_available() => {
                self.start_face(fx)
            }
            (State::MethodChoice, Event::Touch(Touch::ChoosePin)) if self.pin_available() => {
                self.go(State::PinEntry, fx)
            }
            (State::MethodChoice, Event::Touch(Touch::Proxy(on))) => {
                self.patient_mut().proxy = on;
                self.show(fx);
            }

            // ── Face ──
            (State::FacePreparing, Event::CardFrontRead(Ok(front))) => {
                self.card_front_read(front, fx)
            }
            (State::FacePreparing, Event::TimerFired(TimerId::CardFrontReread)) => {
                fx.push(Effect::QueryPinBCounter)
            }
            (State::FacePreparing, Event::PinBCounterRead(Ok(retries))) => {
                if let Some(identity) = &mut self.patient_mut().identity {
                    identity.pin_b_retries = retries;
                }
                fx.push(Effect::ReadCardFront)
            }
            (State::FacePreparing, Event::PinBSubmitted(Ok(PinBOutcome::Accepted))) => {
                self.patient_mut().forget(Notice::ReplaceCardFront);
                fx.push(Effect::ReadFacePhoto)
            }
            (
                State::FacePreparing,
                Event::PinBSubmitted(Ok(PinBOutcome::Rejected { remaining })),
            ) => {
                let p = self.patient_mut();
                if let Some(identity) = &mut p.identity {
                    identity.pin_b_retries = Some(remaining);
                }
                let decision = p.pin_b.verify_failed(RetryCounter::Remaining(remaining));
                self.pin_b_decided(decision, None, fx);
            }
            (State::FacePreparing, Event::FacePhotoRead(Ok(()))) => {
                self.patient_mut().attempt = 0;
                self.start_capture(fx);
            }
            (
                State::FacePreparing,
                Event::PinBCounterRead(Err(e))
                | Event::CardFrontRead(Err(e))
                | Event::PinBSubmitted(Err(e))
                | Event::FacePhotoRead(Err(e)),
            ) => self.face_unavailable(e, fx),
            (State::FaceCapture { .. }, Event::FaceGuidance(guidance)) => {
                self.patient_mut().guidance = Some(guidance);
                self.show(fx);
            }
            (State::FaceCapture { seconds_left }, Event::TimerFired(TimerId::FaceTick)) => {
                if seconds_left <= 1 {
                    fx.push(Effect::StopFaceCapture);
                    self.attempt_failed(KioskError::FaceTimedOut, fx);
                } else {
                    self.state = State::FaceCapture {
                        seconds_left: seconds_left - 1,
                    };
                    fx.push(Effect::StartTimer(
                        TimerId::FaceTick,
                        Duration::from_secs(1),
                    ));
                    self.show(fx);
                }
            }
            (
                State::FaceCapture { .. },
                Event::FaceCaptured(Ok(Capture::Captured { liveness })),
            ) => {
                fx.push(Effect::CancelTimer(TimerId::FaceTick));
                fx.push(Effect::StopFaceCapture);
                self.patient_mut().liveness = liveness;
                fx.push(Effect::CompareFaces);
                self.go(State::FaceComparing, fx);
            }
            (State::FaceCapture { .. }, Event::FaceCaptured(Ok(Capture::LivenessFailed))) => {
                fx.push(Effect::CancelTimer(TimerId::FaceTick));
                fx.push(Effect::StopFaceCapture);
                self.attempt_failed(KioskError::LivenessFailed, fx);
            }
            (State::FaceCapture { .. }, Event::FaceCaptured(Err(e))) => {
                fx.push(Effect::CancelTimer(TimerId::FaceTick));
                fx.push(Effect::StopFaceCapture);
                self.face_unavailable(e, fx);
            }
            (State::FaceCapture { .. } | State::FacePreparing, Event::Touch(Touch::Cancel)) => {
                self.stop_face(fx);
                self.go(State::MethodChoice, fx);
            }
            (State::FaceComparing, Event::FacesCompared(Ok(m))) if m.matched => {
                let p = self.patient_mut();
                p.method = Some(Method::Face {
                    score: m.score,
                    liveness: p.liveness,
                    attempts: p.attempt,
                });
                self.stop_face(fx);
                self.start_consent(fx);
            }
            (State::FaceComparing, Event::FacesCompared(Ok(_))) => {
                self.attempt_failed(KioskError::FaceNotMatched, fx)
            }
            (State::FaceComparing, Event::FacesCompared(Err(e))) => self.face_unavailable(e, fx),

            // ── PIN ──
            (
                State::PinEntry,
                Event::Touch(touch @ (Touch::Digit(_) | Touch::Backspace | Touch::Clear)),
            ) => {
                edit_pad(&mut self.patient_mut().pin, touch, PIN_LEN);
                self.show(fx);
            }
            (State::PinEntry, Event::Touch(Touch::Submit))
                if self.patient().pin.len() == PIN_LEN =>
            {
                let pin = std::mem::take(&mut self.patient_mut().pin);
                fx.push(Effect::VerifyPin(pin));
                self.go(State::PinVerifying, fx);
            }
            (State::PinEntry, Event::Touch(Touch::Cancel)) => {
                self.patient_mut().pin.clear();
                self.go(State::MethodChoice, fx);
            }
            (State::PinVerifying, Event::PinVerified(Ok(outcome))) => {
                self.pin_verified(outcome, fx)
            }
            (State::PinVerifying, Event::PinVerified(Err(e))) => self.fail(e, fx),

            // ── Staff ──
            (
                State::StaffLogin,
                Event::Touch(touch @ (Touch::Digit(_) | Touch::Backspace | Touch::Clear)),
            ) => {
                edit_pad(&mut self.staff_pin, touch, STAFF_PIN_MAX);
                self.staff_refused = None;
                self.show(fx);
            }
            (State::StaffLogin, Event::Touch(Touch::Submit))
                if self.staff_pin.len() >= STAFF_PIN_MIN =>
            {
                fx.push(Effect::CheckStaffPin(std::mem::take(&mut self.staff_pin)));
                self.go(State::StaffChecking, fx);
            }
            (State::StaffLogin, Event::Touch(Touch::Cancel)) => {
                self.staff_pin.clear();
                self.resume(fx);
            }
            (State::StaffChecking, Event::StaffPinChecked(Some(operator))) => {
                self.staff_unlocked(operator, Credential::Pin, fx)
            }
            (State::StaffChecking, Event::StaffPinChecked(None)) => {
                fx.push(Effect::Audit(AuditRecord::StaffUnlockRefused {
                    credential: Credential::Pin,
                }));
                self.staff_refused = Some(Credential::Pin);
                self.go(State::StaffLogin, fx);
            }
            (State::StaffMenu, Event::Touch(Touch::StaffVisual(reason))) => {
                if let (Some(operator), Some(p)) = (self.operator.clone(), &mut self.patient) {
                    if p.identity.is_some() {
                        fx.push(Effect::Audit(AuditRecord::VisualCheck {
                            operator: operator.clone(),
                            reason,
                        }));
                        p.method = Some(Method::Visual { operator, reason });
                        self.start_consent(fx);
                    }
                }
            }
            (State::StaffMenu, Event::Touch(Touch::StaffChooseFace)) => {
                if self.settings.face_enabled
                    && self.patient.as_ref().is_some_and(|p| p.identity.is_some())
                {
                    self.audit_staff_choice("face", fx);
                    self.patient_mut().face_blocked = false;
                    self.start_face(fx);
                }
            }
            (State::StaffMenu, Event::Touch(Touch::StaffChoosePin)) if self.pin_available() => {
                self.audit_staff_choice("pin", fx);
                self.go(State::PinEntry, fx);
            }
            (State::StaffMenu, Event::Touch(Touch::StaffExit)) => {
                self.leave_staff_mode(fx);
                self.resume(fx);
            }

            // ── Consent ──
            (State::ConsentChoice, Event::Touch(Touch::ConsentAll)) => {
                let consent = &mut self.patient_mut().consent;
                consent.comprehensive = true;
                consent
                    .items
                    .iter_mut()
                    .for_each(|(_, agreed)| *agreed = true);
                self.go(State::ConsentSummary, fx);
            }
            (State::ConsentChoice, Event::Touch(Touch::ConsentPerItem)) => {
                self.patient_mut().consent.comprehensive = false;
                self.go(State::ConsentItems, fx);
            }
            (State::ConsentItems, Event::Touch(Touch::ConsentToggle(item))) => {
                if let Some((_, agreed)) = self
                    .patient_mut()
                    .consent
                    .items
                    .iter_mut()
                    .find(|(i, _)| *i == item)
                {
                    *agreed = !*agreed;
                }
                self.show(fx);
            }
            (State::ConsentItems, Event::Touch(Touch::ConsentReview)) => {
                self.go(State::ConsentSummary, fx)
            }
            (State::ConsentItems | State::ConsentSummary, Event::Touch(Touch::Cancel)) => {
                self.patient_mut().consent = default_consent(&self.settings);
                self.go(State::ConsentChoice, fx);
            }
            (State::ConsentSummary, Event::Touch(Touch::ConsentConfirm)) => self.deliver(fx),

            // ── Hand-off and result ──
            (State::Delivering, Event::Delivered(Ok(Qualification::NotRegistered)))
                if !self.patient().register =>
            {
                self.go(State::RegistrationOffer, fx)
            }
            (State::Delivering, Event::Delivered(Ok(answer))) => self.show_result(answer, fx),
            (State::Delivering, Event::Delivered(Err(e))) => self.fail(e, fx),
            (State::RegistrationOffer, Event::Touch(Touch::Register(true))) => {
                self.patient_mut().register = true;
                self.deliver(fx);
            }
            (State::RegistrationOffer, Event::Touch(Touch::Register(false))) => {
                self.show_result(Qualification::NotRegistered, fx)
            }
            (State::Result(_), Event::TimerFired(TimerId::ResultHold)) => {
                self.go(State::RemoveCard, fx)
            }

            // Late results of cancelled effects, touches on buttons not shown, stale timers.
            (state, event) => tracing::debug!(?state, ?event, "event ignored"),
        }
    }

    fn card_inserted(&mut self, reader: String, fx: &mut Vec<Effect>) {
        if self.patient.is_some() || matches!(self.state, State::Unavailable(_)) {
            // One patient at a time: a second card elsewhere waits.
            return;
        }
        self.idle_notices.clear();
        self.patient = Some(Patient::new(reader.clone(), &self.settings));
        self.go(State::Reading, fx);
        fx.push(Effect::ReadCardIdentity { reader });
    }

    fn card_identified(&mut self, identity: CardIdentity, fx: &mut Vec<Effect>) {
        let days = identity.certificate.days_left;
        if days < 0 {
            return self.fail(KioskError::CertificateExpired, fx);
        }
        if identity.pin == PinState::Remaining(0) {
            self.last_error = Some(KioskError::PinLocked);
        }
        let warn = days <= self.settings.expiry_warning_days;
        let p = self.patient_mut();
        if warn {
            p.notice(Notice::CertificateExpiresSoon {
                days: u32::try_from(days).unwrap_or(0),
            });
        }
        p.identity = Some(identity);
        self.go(State::MethodChoice, fx);
    }

    fn face_available(&self) -> bool {
        self.settings.face_enabled
            && self
                .patient
                .as_ref()
                .is_some_and(|p| !p.face_blocked && !p.proxy && p.identity.is_some())
    }

    fn pin_available(&self) -> bool {
        matches!(
            self.patient.as_ref().and_then(Patient::pin_state),
            Some(PinState::Remaining(n)) if n > 0
        )
    }

    fn start_face(&mut self, fx: &mut Vec<Effect>) {
        let p = self.patient_mut();
        p.face_used = true;
        p.guidance = None;
        p.challenge = None;
        fx.push(Effect::QueryPinBCounter);
        self.go(State::FacePreparing, fx);
    }

    /// Hands the read to the submit policy ([`PinBAttempts`]) with the card's retry counter:
    /// a try is never spent on uncertain input, nor one of the last tries.
    fn card_front_read(&mut self, front: CardFrontReading, fx: &mut Vec<Effect>) {
        let p = self.patient_mut();
        let counter = p.pin_b_counter();
        let (quality, pin_b) = match front {
            CardFrontReading::Read {
                pin_b,
                min_confidence,
            } => (ReadQuality::Read { min_confidence }, Some(pin_b)),
            CardFrontReading::Unreadable => (ReadQuality::Unreadable, None),
        };
        let decision = p.pin_b.decide(quality, counter);
        self.pin_b_decided(decision, pin_b, fx);
    }

    /// Carries out the submit policy's decision: present `pin_b`, ask to re-place the card
    /// and read again, or withdraw face authentication (PIN or staff remain).
    fn pin_b_decided(&mut self, decision: Decision, pin_b: Option<PinB>, fx: &mut Vec<Effect>) {
        match (decision, pin_b) {
            (Decision::Submit, Some(pin_b)) => fx.push(Effect::SubmitPinB(pin_b)),
            (Decision::Submit, None) | (Decision::Reread(_), _) => {
                self.patient_mut().notice(Notice::ReplaceCardFront);
                fx.push(Effect::StartTimer(
                    TimerId::CardFrontReread,
                    self.settings.card_front_reread(),
                ));
                self.show(fx);
            }
            (Decision::OfferPinOrStaff(reason), _) => {
                let error = match reason {
                    FallbackReason::FewTriesLeft { .. } | FallbackReason::CounterUnknown => {
                        KioskError::PinBCounterLow
                    }
                    FallbackReason::RereadsExhausted => KioskError::PinBUnreadable,
                    FallbackReason::VerifyFailed => KioskError::PinBRejected,
                };
                self.face_unavailable(error, fx);
            }
        }
    }

    fn start_capture(&mut self, fx: &mut Vec<Effect>) {
        let challenges = self.settings.challenges.clone();
        let seconds_left = self.settings.face_seconds;
        let draw = self.challenge_draw.next_u32();
        let p = self.patient_mut();
        p.attempt += 1;
        p.guidance = None;
        let challenge =
            (!challenges.is_empty()).then(|| challenges[draw as usize % challenges.len()]);
        p.challenge = challenge;
        fx.push(Effect::StartFaceCapture(
            challenge.unwrap_or(Challenge::TurnLeft),
        ));
        fx.push(Effect::StartTimer(
            TimerId::FaceTick,
            Duration::from_secs(1),
        ));
        self.go(State::FaceCapture { seconds_left }, fx);
    }

    /// One capture attempt failed: try again while attempts remain, else fall back.
    fn attempt_failed(&mut self, error: KioskError, fx: &mut Vec<Effect>) {
        self.last_error = Some(error);
        if self.patient_mut().attempt < self.settings.face_attempts {
            self.start_capture(fx);
        } else {
            self.face_unavailable(error, fx);
        }
    }

    /// Face authentication ends without a match: back to the method choice (PIN or staff).
    fn face_unavailable(&mut self, error: KioskError, fx: &mut Vec<Effect>) {
        tracing::info!(code = error.text().code, "face authentication unavailable");
        self.last_error = Some(error);
        self.stop_face(fx);
        let p = self.patient_mut();
        p.face_blocked = true;
        p.forget(Notice::ReplaceCardFront);
        p.notice(Notice::FaceUnavailable);
        self.go(State::MethodChoice, fx);
    }

    /// Stops the camera and discards every biometric buffer, once the camera was used.
    fn stop_face(&mut self, fx: &mut Vec<Effect>) {
        match self.state {
            State::FaceCapture { .. } => {
                fx.push(Effect::CancelTimer(TimerId::FaceTick));
                fx.push(Effect::StopFaceCapture);
            }
            State::FacePreparing => fx.push(Effect::CancelTimer(TimerId::CardFrontReread)),
            _ => {}
        }
        if let Some(p) = &mut self.patient {
            p.forget(Notice::ReplaceCardFront);
            if p.face_used {
                p.face_used = false;
                p.guidance = None;
                p.challenge = None;
                fx.push(Effect::DiscardBiometrics);
                p.notice(Notice::ImagesDeleted);
            }
        }
    }

    fn pin_verified(&mut self, outcome: PinOutcome, fx: &mut Vec<Effect>) {
        let remaining = match outcome {
            PinOutcome::Verified(proof) => {
                self.patient_mut().method = Some(Method::Pin(proof));
                return self.start_consent(fx);
            }
            PinOutcome::Wrong { remaining } => remaining,
            PinOutcome::Locked => 0,
        };
        if let Some(identity) = &mut self.patient_mut().identity {
            identity.pin = PinState::Remaining(remaining);
        }
        if remaining == 0 {
            self.last_error = Some(KioskError::PinLocked);
            self.go(State::MethodChoice, fx);
        } else {
            self.last_error = Some(KioskError::PinWrong);
            self.go(State::PinEntry, fx);
        }
    }

    /// Staff mode, unless the card is being read or the kiosk has no reader (a staff card
    /// placed then is ignored: present it again).
    fn staff_unlocked(&mut self, operator: Operator, credential: Credential, fx: &mut Vec<Effect>) {
        if matches!(self.state, State::Reading | State::Unavailable(_)) {
            tracing::info!(?credential, "staff unlock ignored while {:?}", self.state);
            return;
        }
        self.staff_pin.clear();
        self.staff_refused = None;
        fx.push(Effect::Audit(AuditRecord::StaffUnlocked {
            operator: operator.clone(),
            credential,
        }));
        self.stop_face(fx);
        self.operator = Some(operator);
        self.go(State::StaffMenu, fx);
    }

    fn audit_staff_choice(&mut self, method: &'static str, fx: &mut Vec<Effect>) {
        if let Some(operator) = self.operator.clone() {
            fx.push(Effect::Audit(AuditRecord::StaffChoseMethod {
                operator,
                method,
            }));
        }
    }

    fn leave_staff_mode(&mut self, fx: &mut Vec<Effect>) {
        self.staff_pin.clear();
        self.staff_refused = None;
        if let Some(operator) = self.operator.take() {
            fx.push(Effect::Audit(AuditRecord::StaffLeft { operator }));
        }
    }

    /// Back to where the patient was before staff were called.
    fn resume(&mut self, fx: &mut Vec<Effect>) {
        let next = match &self.patient {
            None => State::Idle,
            Some(p) if p.method.is_some() => State::ConsentChoice,
            Some(p) if p.identity.is_some() => State::MethodChoice,
            Some(_) => State::RemoveCard,
        };
        self.go(next, fx);
    }

    fn start_consent(&mut self, fx: &mut Vec<Effect>) {
        if self.settings.consent_items.is_empty() {
            self.deliver(fx);
        } else {
            self.go(State::ConsentChoice, fx);
        }
    }

    fn deliver(&mut self, fx: &mut Vec<Effect>) {
        let p = self.patient_mut();
        let (Some(identity), Some(method)) = (&p.identity, &p.method) else {
            return;
        };
        fx.push(Effect::DeliverResult(VerificationResult {
            certificate: identity.certificate.clone(),
            method: method.clone(),
            consent: p.consent.clone(),
            proxy: p.proxy,
            register: p.register,
        }));
        self.go(State::Delivering, fx);
    }

    fn show_result(&mut self, answer: Qualification, fx: &mut Vec<Effect>) {
        fx.push(Effect::StartTimer(
            TimerId::ResultHold,
            self.settings.result_hold(),
        ));
        self.go(State::Result(answer), fx);
    }

    /// A card-level error: shown until the card is removed.
    fn fail(&mut self, error: KioskError, fx: &mut Vec<Effect>) {
        let text = error.text();
        tracing::warn!(code = text.code, cause = text.staff, "session error");
        self.last_error = Some(error);
        self.stop_face(fx);
        if let Some(p) = &mut self.patient {
            p.pin.clear();
        }
        self.go(State::Failed(error), fx);
    }

    /// The patient is gone: zeroize what they left, stop every timer.
    fn end_patient(&mut self, fx: &mut Vec<Effect>) {
        self.stop_face(fx);
        if matches!(self.state, State::FacePreparing | State::FaceComparing) {
            fx.push(Effect::DiscardBiometrics);
        }
        fx.push(Effect::CancelTimer(TimerId::FaceTick));
        fx.push(Effect::CancelTimer(TimerId::ResultHold));
        if self.patient.take().is_some() {
            fx.push(Effect::ReleaseCard);
        }
        self.lang = Lang::Ja;
        fx.push(Effect::SetLanguage(Lang::Ja));
    }

    fn patient(&self) -> &Patient {
        self.patient
            .as_ref()
            .expect("every state past Reading has a patient")
    }

    fn patient_mut(&mut self) -> &mut Patient {
        self.patient
            .as_mut()
            .expect("every state past Reading has a patient")
    }

    /// Enters `state`: shows it, speaks its prompt if the screen changed, arms the idle timer.
    fn go(&mut self, state: State, fx: &mut Vec<Effect>) {
        let changed = state.screen() != self.state.screen();
        self.state = state;
        self.show(fx);
        if changed {
            fx.push(Effect::Speak(state.screen(), self.lang));
        }
    }

    fn show(&mut self, fx: &mut Vec<Effect>) {
        if self.state.waits_for_touch() {
            self.idle_armed = true;
            fx.push(Effect::StartTimer(TimerId::Idle, self.settings.idle()));
        } else if std::mem::take(&mut self.idle_armed) {
            fx.push(Effect::CancelTimer(TimerId::Idle));
        }
        fx.push(Effect::Show(self.view()));
    }
}

/// A digit, backspace or clear on a pad holding at most `max` digits.
fn edit_pad(pad: &mut Secret, touch: Touch, max: usize) {
    match touch {
        Touch::Digit(d) if d <= 9 && pad.len() < max => pad.push(d),
        Touch::Backspace => pad.pop(),
        Touch::Clear => pad.clear(),
        _ => {}
    }
}
