//! Events every state handles first: readers and pcscd, placing and removing the card, the
//! language, 係員を呼ぶ and its acknowledgement, staff cards and the idle timeout.

use super::effect::{Effect, Notice, TimerId};
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Card, Paused, State, Step};
use super::steps::StaffStep;
use super::types::{AuditRecord, Credential, Ending, Lang};
use super::{face, staff};
use crate::errors::KioskError;

/// How often an unwritable audit log is tried again; the kiosk takes no card meanwhile.
pub(super) const AUDIT_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether an event was one every state shares.
pub(super) enum Shared {
    Handled(Next),
    /// Not shared: the state's own sub-flow handles it.
    Own(State, Event),
}

pub(super) fn handle(s: &mut Session, state: State, event: Event, fx: &mut Vec<Effect>) -> Shared {
    Shared::Handled(match event {
        Event::ReaderAdded { .. } => {
            s.reader_fault = None;
            match state {
                State::Unavailable(e) if e != KioskError::AuditLogUnwritable => {
                    Next::Go(State::Idle)
                }
                state => Next::Stay(state),
            }
        }
        // Without its reader the kiosk takes no card: a patient's session ends.
        Event::ReaderRemoved { .. } => reader_lost(s, state, KioskError::ReaderMissing, fx),
        Event::ServiceLost => reader_lost(s, state, KioskError::PcscdDown, fx),
        // Until a reader is added again, the reader is what is missing.
        Event::ServiceRestored => {
            if s.reader_fault == Some(KioskError::PcscdDown) {
                s.reader_fault = Some(KioskError::ReaderMissing);
            }
            match state {
                State::Unavailable(KioskError::PcscdDown) => {
                    unavailable(s, state, KioskError::ReaderMissing, fx)
                }
                state => Next::Stay(state),
            }
        }
        Event::CardInserted { reader } => match state {
            // One patient at a time: a second card elsewhere waits; none without a reader.
            State::Idle | State::Staff(_, Paused::NoCard) => {
                s.idle_notices.clear();
                fx.push(Effect::AuditStart);
                s.go(State::Reading(Card::new(reader.clone())), fx);
                // After the view: reading takes seconds, the patient sees it is under way.
                fx.push(Effect::ReadCardIdentity { reader });
                Next::Entered
            }
            state => Next::Stay(state),
        },
        Event::CardRemoved { reader } => {
            if state.card().is_none_or(|c| c.reader != reader) {
                return Shared::Handled(Next::Stay(state));
            }
            let finished = matches!(
                state,
                State::CardRefused { .. }
                    | State::Patient(_, Step::Failed { .. } | Step::Result(_) | Step::RemoveCard)
            );
            s.leave_staff_mode(fx);
            end_patient(s, state, fx);
            s.idle_notices = if finished {
                Vec::new()
            } else {
                vec![Notice::CardRemoved]
            };
            Next::Go(State::Idle)
        }
        Event::Touch(Touch::Language(lang)) => {
            s.lang = lang;
            fx.push(Effect::SetLanguage(lang));
            let screen = state.screen();
            // Everything is said again in the new language.
            s.heard.clear();
            s.go(state, fx);
            fx.push(Effect::Speak(super::Prompt::Screen(screen), lang));
            s.heard_card_notices();
            Next::Entered
        }
        Event::Touch(Touch::CallStaff) => call_staff(s, state, fx),
        Event::AuditUnwritable => {
            fx.push(Effect::StartTimer(TimerId::AuditRetry, AUDIT_RETRY));
            match state {
                State::Unavailable(KioskError::AuditLogUnwritable) => Next::Stay(state),
                state => unavailable(s, state, KioskError::AuditLogUnwritable, fx),
            }
        }
        Event::TimerFired(TimerId::AuditRetry) => {
            fx.push(Effect::ProbeAudit);
            Next::Stay(state)
        }
        // The log takes records again: the reader's own state shows, 待機 if it is there.
        Event::AuditWritable => match state {
            State::Unavailable(KioskError::AuditLogUnwritable) => {
                Next::Go(s.reader_fault.map_or(State::Idle, State::Unavailable))
            }
            state => Next::Stay(state),
        },
        Event::StaffAcknowledged => {
            s.raise(state.screen(), Notice::StaffComing);
            Next::Go(state)
        }
        Event::StaffCardInserted { reader } => {
            fx.push(Effect::ReadStaffCard { reader });
            Next::Stay(state)
        }
        Event::StaffCardPresented(operator) => {
            staff::unlocked(s, state, operator, Credential::Card, fx)
        }
        Event::StaffCardRefused => staff::card_refused(state, fx),
        Event::TimerFired(TimerId::Idle) => {
            s.idle_armed = false;
            if !state.waits_for_touch() {
                return Shared::Handled(Next::Stay(state));
            }
            s.leave_staff_mode(fx);
            let state = match state {
                State::Staff(_, paused) => paused.resume(),
                state => state,
            };
            match state.card() {
                Some(_) => s.fail(state, KioskError::TimedOut, fx),
                None => Next::Go(state),
            }
        }
        event => return Shared::Own(state, event),
    })
}

/// 係員を呼ぶ: alerts staff; the staff login comes up unless the kiosk waits for a device.
fn call_staff(s: &mut Session, state: State, fx: &mut Vec<Effect>) -> Next {
    if matches!(state, State::Staff(..)) {
        return Next::Stay(state);
    }
    fx.push(Effect::NotifyStaff);
    fx.push(Effect::Audit(AuditRecord::StaffCalled));
    if state.is_busy() {
        s.raise(state.screen(), Notice::StaffCalled);
        return Next::Go(state);
    }
    let state = face::leave(state, fx);
    Next::Go(State::Staff(StaffStep::login(), Paused::of(state)))
}

/// The reader or pcscd is gone (`error`): the patient's session ends; kept until it is back.
fn reader_lost(s: &mut Session, state: State, error: KioskError, fx: &mut Vec<Effect>) -> Next {
    s.reader_fault = Some(error);
    unavailable(s, state, error, fx)
}

/// The kiosk cannot take cards (`error`): the patient's session ends.
fn unavailable(s: &mut Session, state: State, error: KioskError, fx: &mut Vec<Effect>) -> Next {
    s.leave_staff_mode(fx);
    end_patient(s, state, fx);
    fx.push(Effect::Audit(AuditRecord::Error(error)));
    Next::Go(State::Unavailable(error))
}

/// The patient is gone: zeroize what they left, stop every timer, close the audit record.
fn end_patient(s: &mut Session, state: State, fx: &mut Vec<Effect>) {
    let state = face::leave(state, fx);
    fx.push(Effect::CancelTimer(TimerId::FaceTick));
    fx.push(Effect::CancelTimer(TimerId::ResultHold));
    fx.push(Effect::CancelTimer(TimerId::VerifiedHold));
    if let Some(end) = audit_end(state) {
        fx.push(Effect::ReleaseCard);
        fx.push(end);
    }
    s.lang = Lang::Ja;
    fx.push(Effect::SetLanguage(Lang::Ja));
}

/// The end of the audit record of the card in `state`, if a card is in.
fn audit_end(state: State) -> Option<Effect> {
    match state {
        State::Idle | State::Unavailable(_) => None,
        State::Reading(_) => Some(Effect::AuditEnd {
            outcome: Ending::Aborted,
            certificate_serial: None,
        }),
        State::CardRefused { serial, .. } => Some(Effect::AuditEnd {
            outcome: Ending::Failed,
            certificate_serial: serial,
        }),
        State::Patient(p, step) => Some(p.audit_end(matches!(step, Step::Failed { .. }))),
        State::Staff(_, paused) => audit_end(paused.resume()),
    }
}
