//! One notice model: each screen's notices across the flows. A notice belongs to the step that
//! raised it; a view holds at most one instruction, and one the patient can follow there.

use super::*;

/// Every view in `fx` holds at most one instruction, and one that can be followed.
fn assert_followable(fx: &[Effect]) {
    for v in fx.iter().filter_map(|e| match e {
        Effect::Show(v) => Some(v),
        _ => None,
    }) {
        let said: Vec<_> = v.notices.iter().filter(|n| n.is_instruction()).collect();
        assert!(said.len() <= 1, "{:?}: {:?}", v.screen, v.notices);
        match said.first() {
            Some(Notice::UsePin) => assert!(v.pin_available, "{v:?}"),
            Some(Notice::UseFace) => assert!(v.face_available, "{v:?}"),
            Some(Notice::EnterPinAgain) => assert_eq!(v.screen, Screen::PinEntry),
            Some(Notice::TakeCardPlaceAgain | Notice::TakeCardAskReception) => {
                assert_eq!(v.screen, Screen::Error)
            }
            _ => {}
        }
    }
}

/// Handles `event` and checks every view it shows.
fn step(s: &mut Session, event: Event) -> Vec<Effect> {
    let fx = s.handle(event);
    assert_followable(&fx);
    fx
}

fn notices(s: &Session) -> Vec<Notice> {
    s.view().notices
}

/// Fails every face attempt from the capture screen.
fn fail_face(s: &mut Session) {
    for _ in 0..Settings::default().face_attempts {
        step(
            s,
            Event::FaceCaptured(Ok(Capture::Captured {
                liveness: LivenessCheck::Passed,
            })),
        );
        step(
            s,
            Event::FacesCompared(Ok(FaceMatch {
                score: 0.1,
                matched: false,
            })),
        );
    }
    assert_eq!(screen(s), Screen::MethodChoice);
}

fn enter_pin(s: &mut Session, outcome: PinOutcome) -> Vec<Effect> {
    step(s, Event::Touch(Touch::ChoosePin));
    for d in [1, 2, 3, 4] {
        step(s, Event::Touch(Touch::Digit(d)));
    }
    step(s, Event::Touch(Touch::Submit));
    step(s, Event::PinVerified(Ok(outcome)))
}

#[test]
fn a_wrong_pin_says_so_and_what_to_do_until_the_pad_is_left() {
    let mut s = at_choice(PinState::Remaining(3));
    assert_eq!(notices(&s), vec![]);
    let v = last_view(&enter_pin(&mut s, PinOutcome::Wrong { remaining: 2 }));
    assert_eq!((v.screen, v.pin_retries), (Screen::PinEntry, Some(2)));
    assert_eq!(v.notices, vec![Notice::PinWrong, Notice::EnterPinAgain]);
    step(&mut s, Event::Touch(Touch::Digit(5)));
    assert_eq!(notices(&s), vec![Notice::PinWrong, Notice::EnterPinAgain]);
    step(&mut s, Event::Touch(Touch::Cancel));
    assert_eq!(notices(&s), vec![]);
}

#[test]
fn a_successful_pin_after_a_failed_face_leaves_no_face_notice() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    fail_face(&mut s);
    assert_eq!(
        notices(&s),
        vec![Notice::ImagesDeleted, Notice::FaceFailed, Notice::UsePin]
    );
    let fx = enter_pin(&mut s, PinOutcome::Verified(proof()));
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::ConsentChoice);
    assert_eq!(v.notices, vec![Notice::ImagesDeleted]);
}

#[test]
fn a_locked_pin_card_after_a_failed_face_says_only_to_call_staff() {
    let mut s = at_choice(PinState::Remaining(0));
    assert_eq!(notices(&s), vec![Notice::PinUnusable, Notice::UseFace]);
    to_capture(&mut s);
    fail_face(&mut s);
    assert_eq!(
        notices(&s),
        vec![
            Notice::ImagesDeleted,
            Notice::FaceFailed,
            Notice::PinUnusable,
            Notice::CallStaff
        ]
    );
}

#[test]
fn locking_the_pin_says_so_then_offers_face() {
    let mut s = at_choice(PinState::Remaining(1));
    let v = last_view(&enter_pin(&mut s, PinOutcome::Wrong { remaining: 0 }));
    assert_eq!(v.screen, Screen::MethodChoice);
    assert_eq!(v.notices, vec![Notice::PinLocked, Notice::UseFace]);
}

#[test]
fn a_card_without_a_usable_pin_is_described_neutrally() {
    for pin in [PinState::NotSet, PinState::Remaining(0)] {
        let s = at_choice(pin);
        assert_eq!(notices(&s), vec![Notice::PinUnusable, Notice::UseFace]);
        let mut s = Session::new(Settings {
            face_enabled: false,
            ..Settings::default()
        });
        step(&mut s, Event::CardInserted { reader: R.into() });
        step(&mut s, Event::CardIdentityRead(Ok(identity(pin, 500))));
        assert_eq!(notices(&s), vec![Notice::PinUnusable, Notice::CallStaff]);
    }
}

#[test]
fn a_face_match_is_confirmed_on_screen_and_by_voice_before_consent() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    step(
        &mut s,
        Event::FaceCaptured(Ok(Capture::Captured {
            liveness: LivenessCheck::Passed,
        })),
    );
    let fx = step(
        &mut s,
        Event::FacesCompared(Ok(FaceMatch {
            score: 0.8,
            matched: true,
        })),
    );
    assert_eq!(last_view(&fx).notices, vec![Notice::ImagesDeleted]);
    // A touch does not skip it; only its timer leads on.
    step(&mut s, Event::Touch(Touch::ConsentAll));
    assert_eq!(screen(&s), Screen::Verified);
    past_confirmation(&mut s, &fx);
    assert_eq!(screen(&s), Screen::ConsentChoice);
}

#[test]
fn error_screens_say_what_happens_next() {
    for (read, next) in [
        (Err(KioskError::NotMyNumberCard), Notice::TakeCardPlaceAgain),
        (
            Err(KioskError::CardNotRecognised),
            Notice::TakeCardPlaceAgain,
        ),
        (
            Ok(identity(PinState::Remaining(3), -1)),
            Notice::TakeCardAskReception,
        ),
    ] {
        let mut s = Session::default();
        step(&mut s, Event::CardInserted { reader: R.into() });
        let v = last_view(&step(&mut s, Event::CardIdentityRead(read)));
        assert_eq!((v.screen, v.notices), (Screen::Error, vec![next]));
    }
    let mut s = at_choice(PinState::Remaining(3));
    enter_pin(&mut s, PinOutcome::Verified(proof()));
    step(&mut s, Event::Touch(Touch::ConsentAll));
    step(&mut s, Event::Touch(Touch::ConsentConfirm));
    let v = last_view(&step(
        &mut s,
        Event::Delivered(Err(KioskError::ReceptionUnreachable)),
    ));
    assert_eq!(
        (v.screen, v.notices),
        (Screen::Error, vec![Notice::TakeCardAskReception])
    );
}

#[test]
fn the_face_capture_shows_one_prompt_at_a_time() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let v = last_view(&step(&mut s, Event::FaceGuidance(Guidance::HoldStill)));
    assert!(v.challenge.is_some() && v.guidance.is_none(), "{v:?}");
    let v = last_view(&step(&mut s, Event::FaceGuidance(Guidance::MoveCloser)));
    assert_eq!(
        (v.guidance, v.challenge),
        (Some(Guidance::MoveCloser), None)
    );

    // Liveness off: no challenge is drawn, "hold still" is the prompt.
    let mut s = Session::new(Settings {
        challenges: Vec::new(),
        ..Settings::default()
    });
    step(&mut s, Event::CardInserted { reader: R.into() });
    step(
        &mut s,
        Event::CardIdentityRead(Ok(identity(PinState::Remaining(3), 500))),
    );
    to_capture(&mut s);
    let v = last_view(&step(&mut s, Event::FaceGuidance(Guidance::HoldStill)));
    assert_eq!((v.guidance, v.challenge), (Some(Guidance::HoldStill), None));
}

#[test]
fn staff_called_while_the_card_is_read_is_said_on_that_step_only() {
    let mut s = Session::default();
    step(&mut s, Event::CardInserted { reader: R.into() });
    let v = last_view(&step(&mut s, Event::Touch(Touch::CallStaff)));
    assert_eq!(
        (v.screen, v.notices),
        (Screen::Reading, vec![Notice::StaffCalled])
    );
    step(
        &mut s,
        Event::CardIdentityRead(Ok(identity(PinState::Remaining(3), 500))),
    );
    assert_eq!(notices(&s), vec![]);
}
