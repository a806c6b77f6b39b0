//! Staff mode over any screen: the staff login (PIN pad or staff card), then the staff menu —
//! 目視確認, or face or PIN chosen for the patient. Every unlock, refusal and choice is audited.

use super::effect::Effect;
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Paused, State};
use super::steps::StaffStep;
use super::types::{AuditRecord, Credential, Method, MethodKind, Operator, Secret};
use super::{consent, face, pin};

/// Longest staff PIN.
const STAFF_PIN_MAX: usize = 8;
const STAFF_PIN_MIN: usize = 4;

pub(super) fn handle(
    s: &mut Session,
    step: StaffStep,
    paused: Paused,
    event: Event,
    fx: &mut Vec<Effect>,
) -> Next {
    match (step, event) {
        (
            StaffStep::Login { mut pad, .. },
            Event::Touch(touch @ (Touch::Digit(_) | Touch::Backspace | Touch::Clear)),
        ) => {
            pin::edit_pad(&mut pad, touch, STAFF_PIN_MAX);
            let step = StaffStep::Login { pad, refused: None };
            Next::Go(State::Staff(step, paused))
        }
        (StaffStep::Login { pad, .. }, Event::Touch(Touch::Submit))
            if pad.len() >= STAFF_PIN_MIN =>
        {
            fx.push(Effect::CheckStaffPin(pad));
            Next::Go(State::Staff(StaffStep::Checking, paused))
        }
        (StaffStep::Login { .. }, Event::Touch(Touch::Cancel)) => Next::Go(paused.resume()),
        (StaffStep::Checking, Event::StaffPinChecked(Some(operator))) => {
            let state = State::Staff(StaffStep::Checking, paused);
            unlocked(s, state, operator, Credential::Pin, fx)
        }
        (StaffStep::Checking, Event::StaffPinChecked(None)) => {
            fx.push(Effect::Audit(AuditRecord::StaffUnlockRefused {
                credential: Credential::Pin,
            }));
            let step = StaffStep::Login {
                pad: Secret::default(),
                refused: Some(Credential::Pin),
            };
            Next::Go(State::Staff(step, paused))
        }
        (StaffStep::Menu, Event::Touch(touch)) => menu(s, paused, touch, fx),
        (step, event) => Next::ignore(State::Staff(step, paused), &event),
    }
}

/// A touch on the staff menu.
fn menu(s: &mut Session, paused: Paused, touch: Touch, fx: &mut Vec<Effect>) -> Next {
    let operator = s.operator.clone();
    match (touch, paused, operator) {
        (Touch::StaffVisual(reason), Paused::Patient(p, _) | Paused::Done(p), Some(operator)) => {
            fx.push(Effect::Audit(AuditRecord::VisualCheck {
                operator: operator.clone(),
                reason,
            }));
            consent::verified(s, p, Method::Visual { operator, reason }, fx)
        }
        (Touch::StaffChooseFace, Paused::Patient(mut p, _), Some(operator))
            if s.settings.face_enabled =>
        {
            chose(operator, MethodKind::Face, fx);
            p.face_blocked = false;
            face::start(p, fx)
        }
        (Touch::StaffChoosePin, Paused::Patient(p, _), Some(operator)) if p.pin_available() => {
            chose(operator, MethodKind::Pin, fx);
            pin::start(p)
        }
        (Touch::StaffExit, paused, _) => {
            s.leave_staff_mode(fx);
            Next::Go(paused.resume())
        }
        (touch, paused, _) => {
            Next::ignore(State::Staff(StaffStep::Menu, paused), &Event::Touch(touch))
        }
    }
}

fn chose(operator: Operator, method: MethodKind, fx: &mut Vec<Effect>) {
    fx.push(Effect::Audit(AuditRecord::StaffChoseMethod {
        operator,
        method,
    }));
}

/// Staff mode, unless the card is being read or the kiosk has no reader (a staff card
/// placed then is ignored: present it again).
pub(super) fn unlocked(
    s: &mut Session,
    state: State,
    operator: Operator,
    credential: Credential,
    fx: &mut Vec<Effect>,
) -> Next {
    if matches!(state, State::Reading(_) | State::Unavailable(_)) {
        tracing::info!(?credential, screen = ?state.screen(), "staff unlock ignored");
        return Next::Stay(state);
    }
    fx.push(Effect::Audit(AuditRecord::StaffUnlocked {
        operator: operator.clone(),
        credential,
    }));
    s.operator = Some(operator);
    let paused = match face::leave(state, fx) {
        State::Staff(_, paused) => paused,
        state => Paused::of(state),
    };
    Next::Go(State::Staff(StaffStep::Menu, paused))
}

/// A card on the staff-card reader is not a staff card: audited, and said on the login.
pub(super) fn card_refused(state: State, fx: &mut Vec<Effect>) -> Next {
    fx.push(Effect::Audit(AuditRecord::StaffUnlockRefused {
        credential: Credential::Card,
    }));
    match state {
        State::Staff(StaffStep::Login { pad, .. }, paused) => {
            let step = StaffStep::Login {
                pad,
                refused: Some(Credential::Card),
            };
            Next::Go(State::Staff(step, paused))
        }
        state => Next::Stay(state),
    }
}
