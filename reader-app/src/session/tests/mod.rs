//! Every transition family of the session, without hardware: helpers that drive a session
//! through the flow, and a module of tests per sub-flow.

use super::*;
use crate::errors::KioskError;

mod audit;
mod face;
mod flows;
mod keypad;
mod notices;

const R: &str = "Virtual PCD 00 00";

fn identity(pin: PinState, days_left: i64) -> CardIdentity {
    CardIdentity {
        certificate: Certificate {
            serial: "0A1B".into(),
            not_after: "2030-01-01".into(),
            days_left,
            der: vec![0x30, 0x82],
        },
        pin,
        pin_b_retries: Some(10),
    }
}

fn touch(s: &mut Session, t: Touch) -> Vec<Effect> {
    s.handle(Event::Touch(t))
}

fn last_view(fx: &[Effect]) -> View {
    fx.iter()
        .rev()
        .find_map(|e| match e {
            Effect::Show(v) => Some(v.clone()),
            _ => None,
        })
        .expect("a view is shown")
}

fn screen(s: &Session) -> Screen {
    s.view().screen
}

/// A session at the method choice with a card of `pin` state.
fn at_choice(pin: PinState) -> Session {
    let mut s = Session::default();
    let fx = s.handle(Event::CardInserted { reader: R.into() });
    assert!(fx.contains(&Effect::ReadCardIdentity { reader: R.into() }));
    assert_eq!(last_view(&fx).screen, Screen::Reading);
    s.handle(Event::CardIdentityRead(Ok(identity(pin, 500))));
    assert_eq!(screen(&s), Screen::MethodChoice);
    s
}

fn type_pin(s: &mut Session, pin: &str) -> Vec<Effect> {
    for d in pin.bytes() {
        touch(s, Touch::Digit(d - b'0'));
    }
    touch(s, Touch::Submit)
}

fn verify_pin_effect(fx: &[Effect]) -> &PinEntry {
    fx.iter()
        .find_map(|e| match e {
            Effect::VerifyPin(p) => Some(p),
            _ => None,
        })
        .expect("VerifyPin")
}

fn proof() -> PinProof {
    PinProof {
        challenge: vec![1; 32],
        signature: vec![2; 256],
    }
}

/// A read of 照合番号B that two frames gave, whose least confident digit has `min_confidence`.
fn read_front(min_confidence: f32) -> CardFrontReading {
    CardFrontReading::Read {
        pin_b: PinB::new("90010120291234"),
        min_confidence,
        agreeing_frames: 2,
        second_look: false,
    }
}

fn submitted(fx: &[Effect]) -> bool {
    fx.iter().any(|e| matches!(e, Effect::SubmitPinB(_)))
}

/// `fx` queries the 照合番号B counter first; the card reports `counter`, then the card front
/// is read.
fn query_then_read(s: &mut Session, fx: &[Effect], counter: Option<u8>) {
    assert_eq!(fx[0], Effect::QueryPinBCounter);
    assert_eq!(
        s.handle(Event::PinBCounterRead(Ok(counter))),
        vec![Effect::ReadCardFront]
    );
}

/// Face path up to the capture screen.
fn to_capture(s: &mut Session) {
    let fx = touch(s, Touch::ChooseFace);
    query_then_read(s, &fx, Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
    assert!(matches!(fx[0], Effect::SubmitPinB(_)));
    assert_eq!(
        s.handle(Event::PinBSubmitted(Ok(PinBOutcome::Accepted))),
        vec![Effect::ReadFacePhoto]
    );
    let fx = s.handle(Event::FacePhotoRead(Ok(())));
    assert!(matches!(fx[0], Effect::StartFaceCapture { .. }));
    assert_eq!(screen(s), Screen::FaceCapture);
}

/// One face attempt: a live frame captured that does not match the card's photo.
fn attempt_not_matched(s: &mut Session) -> Vec<Effect> {
    s.handle(Event::FaceCaptured(Ok(Capture::Captured {
        liveness: LivenessCheck::Passed,
    })));
    s.handle(Event::FacesCompared(Ok(FaceMatch {
        score: 0.1,
        matched: false,
    })))
}

fn delivered(fx: &[Effect]) -> VerificationResult {
    fx.iter()
        .find_map(|e| match e {
            Effect::DeliverResult(r) => Some(r.clone()),
            _ => None,
        })
        .expect("DeliverResult")
}

/// After a face match: 本人確認ができました is shown and spoken, the consent follows its timer.
fn past_confirmation(s: &mut Session, fx: &[Effect]) {
    assert_eq!(last_view(fx).screen, Screen::Verified);
    assert!(fx.contains(&Effect::Speak(Prompt::Screen(Screen::Verified), Lang::Ja)));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::StartTimer(TimerId::VerifiedHold, _))));
    s.handle(Event::TimerFired(TimerId::VerifiedHold));
}

fn consent_all(s: &mut Session) -> VerificationResult {
    assert_eq!(screen(s), Screen::ConsentChoice);
    touch(s, Touch::ConsentAll);
    assert_eq!(screen(s), Screen::ConsentSummary);
    delivered(&touch(s, Touch::ConsentConfirm))
}
