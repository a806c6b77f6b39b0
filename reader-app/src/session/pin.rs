//! The patient PIN: the pad, then the card's VERIFY and signature. A wrong PIN is audited;
//! the card's retry counter is the only count.

use super::consent;
use super::effect::{Effect, Notice, Screen};
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Patient, State, Step};
use super::steps::Pin;
use super::types::{AuditRecord, Method, PinEntry, PinOutcome, PinState, Secret};
use crate::errors::KioskError;

/// Digits of the patient PIN.
const PIN_LEN: usize = 4;

/// The PIN pad, empty.
pub(super) fn start(p: Patient) -> Next {
    let pin = Pin::Entry {
        pad: PinEntry::default(),
    };
    Next::Go(State::Patient(p, Step::Pin(pin)))
}

pub(super) fn handle(
    s: &mut Session,
    p: Patient,
    pin: Pin,
    event: Event,
    fx: &mut Vec<Effect>,
) -> Next {
    match (pin, event) {
        (
            Pin::Entry { mut pad },
            Event::Touch(touch @ (Touch::Digit(_) | Touch::Backspace | Touch::Clear)),
        ) => {
            edit_pad(&mut pad, touch, PIN_LEN);
            Next::Go(State::Patient(p, Step::Pin(Pin::Entry { pad })))
        }
        (Pin::Entry { pad }, Event::Touch(Touch::Submit)) if pad.len() == PIN_LEN => {
            fx.push(Effect::VerifyPin(pad));
            Next::Go(State::Patient(p, Step::Pin(Pin::Verifying)))
        }
        (Pin::Entry { .. }, Event::Touch(Touch::Cancel)) => {
            Next::Go(State::Patient(p, Step::MethodChoice))
        }
        (Pin::Verifying, Event::PinVerified(Ok(outcome))) => verified(s, p, outcome, fx),
        (Pin::Verifying, Event::PinVerified(Err(e))) => {
            s.fail(State::Patient(p, Step::Pin(Pin::Verifying)), e, fx)
        }
        (pin, event) => Next::ignore(State::Patient(p, Step::Pin(pin)), &event),
    }
}

fn verified(s: &mut Session, mut p: Patient, outcome: PinOutcome, fx: &mut Vec<Effect>) -> Next {
    let remaining = match outcome {
        PinOutcome::Verified(proof) => return consent::verified(s, p, Method::Pin(proof), fx),
        PinOutcome::Wrong { remaining } => remaining,
        PinOutcome::Locked => 0,
    };
    fx.push(Effect::Audit(AuditRecord::PinRejected { remaining }));
    p.identity.pin = PinState::Remaining(remaining);
    if remaining == 0 {
        s.went_on_from(&mut p.card, KioskError::PinLocked);
        p.rejected = true;
        s.raise(Screen::MethodChoice, Notice::PinLocked);
        Next::Go(State::Patient(p, Step::MethodChoice))
    } else {
        s.went_on_from(&mut p.card, KioskError::PinWrong);
        s.raise(Screen::PinEntry, Notice::PinWrong);
        start(p)
    }
}

/// A digit, backspace or clear on a pad holding at most `max` digits.
pub(super) fn edit_pad(pad: &mut Secret, touch: Touch, max: usize) {
    match touch {
        Touch::Digit(d) if d <= 9 && pad.len() < max => pad.push(d),
        Touch::Backspace => pad.pop(),
        Touch::Clear => pad.clear(),
        _ => {}
    }
}
