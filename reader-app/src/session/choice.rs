//! Reading the card (certificate and retry counters) and the patient's choice of method.

use super::effect::{Effect, Notice};
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Card, Patient, State, Step};
use super::types::{CardIdentity, PinState};
use super::{face, pin};
use crate::errors::KioskError;

/// The card is being read: its identity, or why it is refused.
pub(super) fn reading(s: &mut Session, card: Card, event: Event, fx: &mut Vec<Effect>) -> Next {
    match event {
        Event::CardIdentityRead(Ok(identity)) => identified(s, card, identity, fx),
        Event::CardIdentityRead(Err(e)) => s.fail(State::Reading(card), e, fx),
        event => Next::ignore(State::Reading(card), &event),
    }
}

fn identified(
    s: &mut Session,
    mut card: Card,
    identity: CardIdentity,
    fx: &mut Vec<Effect>,
) -> Next {
    let days = identity.certificate.days_left;
    if days < 0 {
        let error = KioskError::CertificateExpired;
        let refused = State::CardRefused {
            card,
            error,
            serial: Some(identity.certificate.serial),
        };
        return s.fail(refused, error, fx);
    }
    if identity.pin == PinState::Remaining(0) {
        s.went_on_from(&mut card, KioskError::PinLocked);
    }
    if days <= s.settings.expiry_warning_days {
        card.notice(Notice::CertificateExpiresSoon {
            days: u32::try_from(days).unwrap_or(0),
        });
    }
    let patient = Patient::new(card, identity, &s.settings);
    Next::Go(State::Patient(patient, Step::MethodChoice))
}

/// The method choice: face, PIN or 代理で操作 (係員を呼ぶ is common to every screen).
pub(super) fn handle(s: &mut Session, mut p: Patient, event: Event, fx: &mut Vec<Effect>) -> Next {
    match event {
        Event::Touch(Touch::ChooseFace) if p.face_available(&s.settings) => face::start(p, fx),
        Event::Touch(Touch::ChoosePin) if p.pin_available() => pin::start(p),
        // 代理 is PIN only: not offered without a usable PIN.
        Event::Touch(Touch::Proxy(on)) if !on || p.pin_available() => {
            p.proxy = on;
            Next::Go(State::Patient(p, Step::MethodChoice))
        }
        event => Next::ignore(State::Patient(p, Step::MethodChoice), &event),
    }
}
