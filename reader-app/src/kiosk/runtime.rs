//! The effect interpreter: carries out the session's effects through the [`Ports`], runs its
//! timers and the capture thread, and feeds the results back into the session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::audit::AuditEvent;
use crate::console::Feed;
use crate::errors::{Failure, KioskError};
use crate::handoff::result::{SessionId, SessionInfo};
use crate::handoff::staff_call::StaffCall;
use crate::metrics::SessionObserver;
use crate::session::{AuditRecord, Effect, Event, Screen, Session, View};

use super::bridge::{clear_preview, pad_keys, set_pad_keys, show, show_preview, speak};
use super::ports::{CaptureProgress, FacePort};
use super::timers::Timers;
use super::{reception, Ports};

/// Carries out effects: calls the ports, runs the timers and the capture thread.
pub(super) struct Runtime {
    ports: Ports,
    shuffle_pad: bool,
    /// A keypad is fitted: prompts say its keys too.
    keypad: bool,
    /// The view last shown; a staff call reports its screen, error and tries left.
    last_view: Option<View>,
    tx: mpsc::Sender<Event>,
    timers: Timers,
    capture_stop: Option<Arc<AtomicBool>>,
    kiosk_id: String,
    /// Feeds the metrics from the effects and events.
    observer: SessionObserver,
    /// The patient session the audit record is open for, from `AuditStart` to `AuditEnd`.
    audited: Option<SessionInfo>,
    /// The last failure a port reported, with its cause (the capture thread reports too).
    last_failure: LastFailure,
    /// Keeps the reception console current, when it is on.
    console: Option<Feed>,
}

type LastFailure = Arc<Mutex<Option<Failure>>>;

/// [`Event::AuditUnwritable`] when an audit record could not be written (logged by [`settle`]).
fn unrecorded(last: &LastFailure, written: Result<(), Failure>) -> Option<Event> {
    settle(last, written).err().map(|_| Event::AuditUnwritable)
}

/// A port's result as the session takes it: the catalogue code. The cause goes to the log,
/// and to the staff screen while that code is shown.
fn settle<T>(last: &LastFailure, result: Result<T, Failure>) -> Result<T, KioskError> {
    result.map_err(|failure| {
        let text = failure.error.text();
        let cause = failure.cause.as_deref().unwrap_or(text.staff);
        tracing::warn!(code = text.code, error = text.log, cause, "failure");
        let error = failure.error;
        *last.lock().unwrap_or_else(PoisonError::into_inner) = Some(failure);
        error
    })
}

impl Runtime {
    pub fn new(
        ports: Ports,
        tx: mpsc::Sender<Event>,
        (shuffle_pad, keypad): (bool, bool),
        kiosk_id: String,
    ) -> Self {
        Self {
            ports,
            shuffle_pad,
            keypad,
            last_view: None,
            tx,
            timers: Timers::default(),
            capture_stop: None,
            kiosk_id,
            audited: None,
            observer: SessionObserver::default(),
            last_failure: LastFailure::default(),
            console: None,
        }
    }

    pub fn with_console(mut self, feed: Option<Feed>) -> Self {
        self.console = feed;
        self
    }

    fn shown(&self) -> Option<Screen> {
        self.last_view.as_ref().map(|v| v.screen)
    }

    fn deliver(&mut self, result: &crate::session::VerificationResult) -> Event {
        let Some(info) = &self.audited else {
            return Event::Delivered(Err(KioskError::CardRemoved));
        };
        // Nothing leaves without its audit record: the confirmation is recorded first, and
        // a log that cannot take it stops the kiosk with the result unsent.
        let confirmed = AuditEvent::ResultConfirmed {
            session_id: info.session_id,
        };
        if let Some(stop) = unrecorded(&self.last_failure, self.ports.audit.record(confirmed)) {
            return stop;
        }
        let answer = settle(
            &self.last_failure,
            self.ports.hand_off.deliver(info, result),
        );
        if answer.is_ok() {
            let queued = AuditEvent::ResultQueued {
                session_id: info.session_id,
            };
            // The result is out with its confirmation recorded: the patient sees it, then the
            // kiosk stops taking cards.
            if unrecorded(&self.last_failure, self.ports.audit.record(queued)).is_some() {
                let _ = self.tx.send(Event::AuditUnwritable);
            }
        }
        Event::Delivered(answer)
    }

    /// Feeds events into the session until every sender is gone.
    pub fn run(
        mut self,
        mut session: Session,
        rx: &mpsc::Receiver<Event>,
        ui: &slint::Weak<ui::KioskWindow>,
    ) {
        let mut pending = Vec::new();
        loop {
            let event = match self.timers.next() {
                Some((id, at)) => {
                    match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(event) => event,
                        Err(RecvTimeoutError::Timeout) => {
                            self.timers.cancel(id);
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
                if let Some(failure) = super::devices::failure(&event) {
                    *self
                        .last_failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(failure);
                }
                self.observer.event(&event);
                self.console.iter().for_each(|c| c.event(&event));
                for effect in session.handle(event) {
                    self.observer.effect(&effect);
                    self.console.iter().for_each(|c| c.effect(&effect));
                    if let Some(next) = self.carry_out(effect, ui) {
                        pending.insert(0, next);
                    }
                }
            }
        }
        self.stop_capture();
    }

    /// Does one effect; a synchronous port call returns its result event.
    fn carry_out(&mut self, effect: Effect, ui: &slint::Weak<ui::KioskWindow>) -> Option<Event> {
        let p = &mut self.ports;
        let last = &self.last_failure;
        let session_id = self.audited.as_ref().map(|info| info.session_id);
        match effect {
            Effect::Show(view) => {
                let last = self.last_view.as_ref();
                let entering_pad = view.screen == Screen::PinEntry
                    && (self.shown() != Some(Screen::PinEntry)
                        || last.is_some_and(|v| v.assisted != view.assisted));
                if entering_pad && self.shuffle_pad {
                    set_pad_keys(ui, pad_keys(view.assisted));
                }
                self.last_view = Some(view.clone());
                let (error, shown_error) = (view.last_error, view.error);
                let failure = self
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                show(
                    ui,
                    view,
                    failure.as_ref().filter(|f| Some(f.error) == error),
                );
                if let Some(failure) = failure.as_ref().filter(|f| Some(f.error) == shown_error) {
                    self.console.iter().for_each(|c| c.failure(failure));
                }
            }
            Effect::Speak(prompt, lang) => speak(ui, &p.voice, prompt, lang, self.keypad),
            Effect::SetLanguage(_) => {}
            Effect::StartTimer(id, after) => self.timers.start(id, after),
            Effect::CancelTimer(id) => self.timers.cancel(id),
            Effect::ReadCardIdentity { reader } => {
                let identity = settle(last, p.card.read_identity(&reader));
                return Some(Event::CardIdentityRead(identity));
            }
            Effect::QueryPinBCounter => {
                return Some(Event::PinBCounterRead(settle(last, p.card.pin_b_retries())))
            }
            Effect::ReadCardFront => {
                return Some(Event::CardFrontRead(settle(last, p.card_front.read())))
            }
            Effect::SubmitPinB(pin_b) => {
                return Some(Event::PinBSubmitted(settle(
                    last,
                    p.card.submit_pin_b(&pin_b),
                )))
            }
            Effect::ReadFacePhoto => {
                let result = p
                    .card
                    .read_face_photo()
                    .and_then(|photo| lock(&p.face).set_reference(photo));
                return Some(Event::FacePhotoRead(settle(last, result)));
            }
            Effect::StartFaceCapture { challenge, slower } => {
                self.start_capture(challenge, slower, ui)
            }
            Effect::StopFaceCapture => self.stop_capture(),
            Effect::CompareFaces => {
                return Some(Event::FacesCompared(settle(last, lock(&p.face).compare())))
            }
            Effect::DiscardBiometrics => {
                self.stop_capture();
                lock(&self.ports.face).discard();
                clear_preview(ui);
                super::memory::return_freed();
            }
            Effect::VerifyPin(pin) => {
                return Some(Event::PinVerified(settle(last, p.card.verify_pin(&pin))))
            }
            Effect::CheckStaffPin(pin) => return Some(Event::StaffPinChecked(p.staff.check(&pin))),
            Effect::ReadStaffCard { reader } => {
                return Some(super::staff_card::read(
                    &p.staff,
                    p.staff_card.as_mut(),
                    &reader,
                ))
            }
            Effect::DeliverResult(result) => return Some(self.deliver(&result)),
            Effect::ReleaseCard => p.card.release(),
            Effect::NotifyStaff => {
                let failure = self.last_failure.lock().map_or(None, |f| f.clone());
                let call = staff_call(&self.kiosk_id, self.last_view.as_ref(), failure);
                p.hand_off.call_staff(&call);
                self.console.iter().for_each(|c| c.called(&call));
            }
            Effect::AuditStart => {
                let info = SessionInfo {
                    kiosk_id: self.kiosk_id.clone(),
                    session_id: SessionId::new(),
                    started_at: crate::handoff::result::now(),
                };
                let session_id = info.session_id;
                self.audited = Some(info);
                let started = p.audit.record(AuditEvent::SessionStarted { session_id });
                return unrecorded(last, started);
            }
            Effect::AuditEnd {
                outcome,
                certificate_serial,
            } => {
                if let Some(info) = self.audited.take() {
                    let ended = p.audit.record(AuditEvent::SessionEnded {
                        session_id: info.session_id,
                        outcome: reception::outcome(outcome),
                        certificate_serial,
                    });
                    super::memory::return_freed();
                    return unrecorded(last, ended);
                }
            }
            Effect::Audit(record) => {
                if let Some(event) = reception::audit_event(session_id, &record) {
                    return unrecorded(last, p.audit.record(event));
                }
            }
            Effect::ProbeAudit => {
                let shown = reception::audit_event(
                    session_id,
                    &AuditRecord::Error(KioskError::AuditLogUnwritable),
                );
                let written = shown.map_or(Ok(()), |event| p.audit.record(event));
                return Some(match settle(last, written) {
                    Ok(()) => Event::AuditWritable,
                    Err(_) => Event::AuditUnwritable,
                });
            }
        }
        None
    }

    /// Captures on a thread of its own, so timers and card removal keep flowing.
    fn start_capture(
        &mut self,
        challenge: crate::session::Challenge,
        slower: u32,
        ui: &slint::Weak<ui::KioskWindow>,
    ) {
        self.stop_capture();
        let stop = Arc::new(AtomicBool::new(false));
        self.capture_stop = Some(stop.clone());
        let face = self.ports.face.clone();
        let tx = self.tx.clone();
        let ui = ui.clone();
        let last = self.last_failure.clone();
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
                let outcome = settle(
                    &last,
                    lock(&face).capture(challenge, slower, &mut report, &stop),
                );
                if !stop.load(Ordering::Relaxed) {
                    let _ = tx.send(Event::FaceCaptured(outcome));
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the capture thread");
            let _ = self
                .tx
                .send(Event::FaceCaptured(Err(KioskError::CameraMissing)));
        }
    }

    fn stop_capture(&mut self) {
        if let Some(stop) = self.capture_stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// The staff call for a press on `view` (none shown yet: 待機): screen, error code, the
/// adapter's cause of that error (from the last `failure`), else the error this card's session
/// went on from, and tries left, nothing else.
fn staff_call(kiosk_id: &str, view: Option<&View>, failure: Option<Failure>) -> StaffCall {
    let Some(view) = view else {
        return StaffCall::new(kiosk_id, &format!("{:?}", Screen::Waiting));
    };
    let face = matches!(view.screen, Screen::FacePreparing | Screen::FaceCapture);
    StaffCall {
        error_code: view.error.map(|e| e.text().code.to_owned()),
        earlier_error_code: view
            .card_error
            .filter(|_| view.error.is_none())
            .map(|e| e.text().code.to_owned()),
        cause: failure
            .filter(|f| Some(f.error) == view.error)
            .and_then(|f| f.cause),
        pin_retries_left: view.pin_retries,
        face_attempts_left: face.then(|| view.max_attempts.saturating_sub(view.attempt)),
        ..StaffCall::new(kiosk_id, &format!("{:?}", view.screen))
    }
}

fn lock(face: &Mutex<Box<dyn FacePort>>) -> std::sync::MutexGuard<'_, Box<dyn FacePort>> {
    face.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::KioskError;
    use crate::session::Lang;

    #[test]
    fn a_staff_call_reports_the_screen_error_and_tries_left() {
        let waiting = staff_call("k1", None, None);
        assert_eq!(
            (waiting.screen.as_str(), waiting.error_code),
            ("Waiting", None)
        );
        let mut error = View::new(Screen::Error, Lang::Ja);
        error.error = Some(KioskError::CardRemoved);
        error.pin_retries = Some(2);
        let call = staff_call("k1", Some(&error), None);
        assert_eq!(call.screen, "Error");
        assert_eq!(
            call.error_code.as_deref(),
            Some(KioskError::CardRemoved.text().code)
        );
        assert_eq!(
            (call.pin_retries_left, call.face_attempts_left),
            (Some(2), None)
        );
        let mut face = View::new(Screen::FaceCapture, Lang::Ja);
        (face.attempt, face.max_attempts) = (1, 3);
        assert_eq!(
            staff_call("k1", Some(&face), None).face_attempts_left,
            Some(2)
        );
        assert_ne!(
            call.idempotency_key, waiting.idempotency_key,
            "one key per press"
        );
    }

    #[test]
    fn a_staff_call_from_a_screen_without_an_error_carries_the_cards_earlier_one() {
        let mut choice = View::new(Screen::MethodChoice, Lang::Ja);
        choice.card_error = Some(KioskError::FaceNotMatched);
        let call = staff_call("k1", Some(&choice), None);
        assert_eq!(
            (call.error_code, call.earlier_error_code.as_deref()),
            (None, Some(KioskError::FaceNotMatched.text().code))
        );
        let mut shown = View::new(Screen::Error, Lang::Ja);
        (shown.error, shown.card_error) = (Some(KioskError::CardRemoved), choice.card_error);
        assert_eq!(
            staff_call("k1", Some(&shown), None).earlier_error_code,
            None
        );
    }

    #[test]
    fn a_staff_call_carries_the_adapters_cause_of_the_error_shown_only() {
        let mut shown = View::new(Screen::Error, Lang::Ja);
        shown.error = Some(KioskError::PcscdDown);
        let cause = "the PC/SC service (pcscd) is not running";
        let pcscd = Failure::new(KioskError::PcscdDown, cause);
        let call = staff_call("k1", Some(&shown), Some(pcscd));
        assert_eq!(call.cause.as_deref(), Some(cause));
        let older = Failure::new(KioskError::CardRemoved, "no card session is open");
        assert_eq!(staff_call("k1", Some(&shown), Some(older)).cause, None);
    }
}
