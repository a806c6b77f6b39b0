//! After verification: the consent screens (包括同意 or per item), the hand-off to the
//! reception system, the 初回利用登録 offer and the result.

use std::time::Duration;

use super::effect::{Effect, TimerId};
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Patient, State, Step, Verified};
use super::steps::ConsentStep;
use super::types::{AuditRecord, Consent, Method, Qualification, VerificationResult};

/// How long 本人確認ができました stays before the consent: about as long as it is spoken.
const VERIFIED_HOLD: Duration = Duration::from_secs(2);

/// The patient was verified by `method` (audited now): consent, or the hand-off if the
/// facility shows no consent items.
pub(super) fn verified(s: &mut Session, p: Patient, method: Method, fx: &mut Vec<Effect>) -> Next {
    let v = audited(s, method, fx);
    to_consent(s, p, v, fx)
}

/// The face matched (audited now): 本人確認ができました is shown and spoken, then the consent.
pub(super) fn confirm(p: Patient, method: Method, s: &Session, fx: &mut Vec<Effect>) -> Next {
    let v = audited(s, method, fx);
    fx.push(Effect::StartTimer(
        TimerId::VerifiedHold,
        s.longer(VERIFIED_HOLD),
    ));
    Next::Go(State::Patient(p, Step::Confirmed(v)))
}

/// The verified patient's choices, the method audited.
fn audited(s: &Session, method: Method, fx: &mut Vec<Effect>) -> Verified {
    fx.push(Effect::Audit(AuditRecord::MethodChosen(method.kind())));
    Verified::new(method, &s.settings)
}

/// Consent, or the hand-off if the facility shows no consent items.
fn to_consent(s: &Session, p: Patient, v: Verified, fx: &mut Vec<Effect>) -> Next {
    if s.settings.consent_items.is_empty() {
        deliver(p, v, fx)
    } else {
        Next::Go(State::Patient(p, Step::Consent(v, ConsentStep::Choice)))
    }
}

/// Events of the steps after verification.
pub(super) fn handle(
    s: &mut Session,
    mut p: Patient,
    step: Step,
    event: Event,
    fx: &mut Vec<Effect>,
) -> Next {
    match (step, event) {
        (Step::Confirmed(v), Event::TimerFired(TimerId::VerifiedHold)) => to_consent(s, p, v, fx),
        (Step::Consent(v, screen), Event::Touch(touch)) => consent(s, p, v, screen, touch, fx),
        (Step::Delivering(v), Event::Delivered(Ok(Qualification::NotRegistered)))
            if !v.register =>
        {
            p.delivered = true;
            Next::Go(State::Patient(p, Step::RegistrationOffer(v)))
        }
        (Step::Delivering(_), Event::Delivered(Ok(answer))) => {
            p.delivered = true;
            result(s, p, answer, fx)
        }
        (step @ Step::Delivering(_), Event::Delivered(Err(e))) => {
            s.fail(State::Patient(p, step), e, fx)
        }
        (Step::RegistrationOffer(mut v), Event::Touch(Touch::Register(true))) => {
            v.register = true;
            deliver(p, v, fx)
        }
        (Step::RegistrationOffer(_), Event::Touch(Touch::Register(false))) => {
            result(s, p, Qualification::NotRegistered, fx)
        }
        (Step::Result(_), Event::TimerFired(TimerId::ResultHold)) => {
            Next::Go(State::Patient(p, Step::RemoveCard))
        }
        (step, event) => Next::ignore(State::Patient(p, step), &event),
    }
}

fn consent(
    s: &mut Session,
    p: Patient,
    mut v: Verified,
    screen: ConsentStep,
    touch: Touch,
    fx: &mut Vec<Effect>,
) -> Next {
    let next = match (screen, touch) {
        (ConsentStep::Choice, Touch::ConsentAll) => {
            v.consent.comprehensive = true;
            v.consent
                .items
                .iter_mut()
                .for_each(|(_, agreed)| *agreed = true);
            ConsentStep::Summary
        }
        (ConsentStep::Choice, Touch::ConsentPerItem) => {
            v.consent.comprehensive = false;
            ConsentStep::Items
        }
        (ConsentStep::Items, Touch::ConsentToggle(item)) => {
            if let Some((_, agreed)) = v.consent.items.iter_mut().find(|(i, _)| *i == item) {
                *agreed = !*agreed;
            }
            ConsentStep::Items
        }
        (ConsentStep::Items, Touch::ConsentSet(item, yes)) => {
            if let Some((_, agreed)) = v.consent.items.iter_mut().find(|(i, _)| *i == item) {
                *agreed = yes;
            }
            ConsentStep::Items
        }
        (ConsentStep::Items, Touch::ConsentReview) => ConsentStep::Summary,
        (ConsentStep::Items | ConsentStep::Summary, Touch::Cancel) => {
            v.consent = Consent::defaults(&s.settings.consent_items);
            ConsentStep::Choice
        }
        (ConsentStep::Summary, Touch::ConsentConfirm) => return deliver(p, v, fx),
        (screen, touch) => {
            let state = State::Patient(p, Step::Consent(v, screen));
            return Next::ignore(state, &Event::Touch(touch));
        }
    };
    Next::Go(State::Patient(p, Step::Consent(v, next)))
}

/// Hands the verified result to the reception system.
fn deliver(p: Patient, v: Verified, fx: &mut Vec<Effect>) -> Next {
    fx.push(Effect::DeliverResult(VerificationResult {
        certificate: p.identity.certificate.clone(),
        method: v.method.clone(),
        consent: v.consent.clone(),
        proxy: p.proxy,
        register: v.register,
    }));
    Next::Go(State::Patient(p, Step::Delivering(v)))
}

fn result(s: &mut Session, p: Patient, answer: Qualification, fx: &mut Vec<Effect>) -> Next {
    fx.push(Effect::StartTimer(
        TimerId::ResultHold,
        s.longer(s.settings.result_hold()),
    ));
    Next::Go(State::Patient(p, Step::Result(answer)))
}
