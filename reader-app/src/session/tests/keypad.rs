//! The eyes-free path: whole steps with keypad keys only, the prompts said, assisted mode.

use std::time::Duration;

use super::*;

fn key(s: &mut Session, k: Key) -> Vec<Effect> {
    s.handle(Event::Key(k))
}

fn spoken(fx: &[Effect]) -> Vec<Prompt> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Speak(p, _) => Some(*p),
            _ => None,
        })
        .collect()
}

fn pin_by_keys(s: &mut Session, pin: &str) -> Vec<Prompt> {
    let mut said = Vec::new();
    for d in pin.bytes() {
        said.extend(spoken(&key(s, Key::Digit(d - b'0'))));
    }
    said
}

/// From the method choice: `2`, the PIN by keys and Enter (the card is checking it).
fn pin_submitted_by_keys(s: &mut Session) {
    key(s, Key::Digit(2));
    pin_by_keys(s, "1234");
    key(s, Key::Enter);
}

#[test]
fn the_pin_is_entered_with_tones_and_only_the_count_is_said() {
    let mut s = at_choice(PinState::Remaining(3));
    assert_eq!(
        spoken(&key(&mut s, Key::Digit(2))),
        vec![Prompt::Screen(Screen::PinEntry)]
    );
    let said = pin_by_keys(&mut s, "1234");
    assert_eq!(
        said,
        vec![Prompt::Tone, Prompt::Tone, Prompt::Tone, Prompt::PinEntered]
    );
    assert_eq!(s.view().digits_entered, 4);
    key(&mut s, Key::Back);
    assert_eq!(s.view().digits_entered, 3);
    pin_by_keys(&mut s, "4");
    let fx = key(&mut s, Key::Enter);
    verify_pin_effect(&fx);
    assert_eq!(screen(&s), Screen::PinEntry, "verifying");
}

#[test]
fn consent_items_are_asked_one_at_a_time_one_yes_two_no() {
    let mut s = at_choice(PinState::Remaining(3));
    pin_submitted_by_keys(&mut s);
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert_eq!(screen(&s), Screen::ConsentChoice);
    let mut said = spoken(&key(&mut s, Key::Digit(2)));
    for answer in [1, 2, 1, 2] {
        said.extend(spoken(&key(&mut s, Key::Digit(answer))));
    }
    assert_eq!(
        said,
        vec![
            Prompt::ConsentItem(ConsentItem::Drug),
            Prompt::ConsentItem(ConsentItem::Checkup),
            Prompt::ConsentItem(ConsentItem::Clinical),
            Prompt::ConsentItem(ConsentItem::Surgery),
            Prompt::Screen(Screen::ConsentSummary),
        ]
    );
    let result = delivered(&key(&mut s, Key::Enter));
    assert_eq!(
        result.consent.items,
        vec![
            (ConsentItem::Drug, true),
            (ConsentItem::Checkup, false),
            (ConsentItem::Clinical, true),
            (ConsentItem::Surgery, false),
        ]
    );
}

#[test]
fn repeat_says_the_prompt_again_and_help_calls_staff_in_assisted_mode() {
    let mut s = at_choice(PinState::Remaining(3));
    assert_eq!(
        spoken(&key(&mut s, Key::Repeat)),
        vec![Prompt::Screen(Screen::MethodChoice)]
    );
    assert!(!s.view().assisted);
    let fx = key(&mut s, Key::Help);
    assert!(fx.contains(&Effect::NotifyStaff));
    assert_eq!(spoken(&fx), vec![Prompt::Help]);
    assert!(s.view().assisted);
    assert!(s.view().notices.contains(&Notice::StaffCalled));
    assert_eq!(
        screen(&s),
        Screen::MethodChoice,
        "help does not leave the screen"
    );
    // Cancel and call staff go where the touches go.
    key(&mut s, Key::Digit(2));
    key(&mut s, Key::Cancel);
    assert_eq!(screen(&s), Screen::MethodChoice);
    key(&mut s, Key::CallStaff);
    assert_eq!(screen(&s), Screen::StaffLogin);
}

#[test]
fn assisted_mode_doubles_the_timeouts_repeats_the_prompt_and_calls_staff_on_a_timeout() {
    let settings = Settings {
        assisted: true,
        ..Settings::default()
    };
    let mut s = Session::new(settings.clone());
    s.handle(Event::CardInserted { reader: R.into() });
    let fx = s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        500,
    ))));
    assert!(fx.contains(&Effect::StartTimer(TimerId::Idle, settings.idle() * 2)));
    assert!(fx.contains(&Effect::StartTimer(
        TimerId::RepeatPrompt,
        Duration::from_secs(15)
    )));
    assert!(s.view().assisted);
    assert_eq!(
        spoken(&s.handle(Event::TimerFired(TimerId::RepeatPrompt))),
        vec![Prompt::Screen(Screen::MethodChoice)]
    );
    let fx = s.handle(Event::TimerFired(TimerId::Idle));
    assert!(fx.contains(&Effect::NotifyStaff), "{fx:?}");
    assert_eq!(screen(&s), Screen::Error);
    // Without assisted mode a timeout calls nobody.
    let mut s = at_choice(PinState::Remaining(3));
    assert!(!s
        .handle(Event::TimerFired(TimerId::Idle))
        .contains(&Effect::NotifyStaff));
}

#[test]
fn assisted_mode_lengthens_every_face_time_limit_by_its_factor() {
    // The capture's countdown, the liveness judge's windows (`slower`), the time to re-place
    // the card and the 本人確認ができました hold, each × the factor in assisted mode.
    let limits = |assisted: bool| {
        let settings = Settings {
            assisted,
            assisted_timeout_factor: 3,
            ..Settings::default()
        };
        let mut s = Session::new(settings);
        s.handle(Event::CardInserted { reader: R.into() });
        s.handle(Event::CardIdentityRead(Ok(identity(
            PinState::Remaining(3),
            500,
        ))));
        let fx = key(&mut s, Key::Digit(1));
        query_then_read(&mut s, &fx, Some(10));
        let fx = s.handle(Event::CardFrontRead(Ok(CardFrontReading::Unreadable)));
        let reread = fx.iter().find_map(|e| match e {
            Effect::StartTimer(TimerId::CardFrontReread, d) => Some(*d),
            _ => None,
        });
        let fx = s.handle(Event::TimerFired(TimerId::CardFrontReread));
        query_then_read(&mut s, &fx, Some(10));
        s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
        s.handle(Event::PinBSubmitted(Ok(PinBOutcome::Accepted)));
        let slower = match s.handle(Event::FacePhotoRead(Ok(())))[0] {
            Effect::StartFaceCapture { slower, .. } => slower,
            ref other => panic!("expected a capture, got {other:?}"),
        };
        let countdown = s.view().seconds_left;
        s.handle(Event::FaceCaptured(Ok(Capture::Captured {
            liveness: LivenessCheck::Passed,
        })));
        let fx = s.handle(Event::FacesCompared(Ok(FaceMatch {
            score: 0.9,
            matched: true,
        })));
        let hold = fx.iter().find_map(|e| match e {
            Effect::StartTimer(TimerId::VerifiedHold, d) => Some(*d),
            _ => None,
        });
        (reread.unwrap(), slower, countdown, hold.unwrap())
    };
    let (reread, slower, countdown, hold) = limits(false);
    assert_eq!(slower, 1);
    assert_eq!(countdown, Settings::default().face_seconds);
    assert_eq!(
        limits(true),
        (reread * 3, 3, countdown * 3, hold * 3),
        "assisted"
    );
}

#[test]
fn assisted_mode_asks_one_consent_item_per_screen() {
    let mut s = at_choice(PinState::Remaining(3));
    key(&mut s, Key::Assisted);
    pin_submitted_by_keys(&mut s);
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    touch(&mut s, Touch::ConsentPerItem);
    assert_eq!(s.view().consent, vec![(ConsentItem::Drug, true)]);
    touch(&mut s, Touch::ConsentToggle(ConsentItem::Drug));
    assert_eq!(s.view().consent, vec![(ConsentItem::Drug, false)]);
    let fx = touch(&mut s, Touch::ConsentReview);
    assert_eq!(spoken(&fx), vec![Prompt::ConsentItem(ConsentItem::Checkup)]);
    assert_eq!(s.view().consent, vec![(ConsentItem::Checkup, true)]);
}

#[test]
fn face_guidance_is_said_when_it_changes_and_never_over_the_last_prompt() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let said = |s: &mut Session, e| spoken(&s.handle(e));
    assert!(said(&mut s, Event::FaceGuidance(Guidance::MoveCloser)).is_empty());
    for _ in 0..3 {
        s.handle(Event::TimerFired(TimerId::FaceTick));
    }
    assert_eq!(
        said(&mut s, Event::FaceGuidance(Guidance::MoveCloser)),
        vec![Prompt::Guidance(Guidance::MoveCloser)]
    );
    assert!(said(&mut s, Event::FaceGuidance(Guidance::TooDark)).is_empty());
    for _ in 0..3 {
        s.handle(Event::TimerFired(TimerId::FaceTick));
    }
    assert!(said(&mut s, Event::FaceGuidance(Guidance::MoveCloser)).is_empty());
    assert_eq!(
        said(&mut s, Event::FaceGuidance(Guidance::TooDark)),
        vec![Prompt::Guidance(Guidance::TooDark)]
    );
    assert_eq!(screen(&s), Screen::FaceCapture);
    key(&mut s, Key::Cancel);
    assert_eq!(screen(&s), Screen::MethodChoice);
}

#[test]
fn digits_while_the_card_checks_the_pin_are_dropped_without_a_trace() {
    let mut s = at_choice(PinState::Remaining(3));
    pin_submitted_by_keys(&mut s);
    let fx = key(&mut s, Key::Digit(7));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(format!("{:?}", Event::Key(Key::Digit(7))), "Key(Digit(_))");
    let tapped = Event::Touch(Touch::Digit(7));
    assert_eq!(
        format!("{tapped:?}"),
        "Touch(Digit(_))",
        "a tapped digit is logged as hidden"
    );
    // Switching assisted mode is confirmed, but the repeat key still says the screen's prompt.
    key(&mut s, Key::Assisted);
    s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 2 })));
    assert_eq!(
        spoken(&key(&mut s, Key::Repeat)),
        vec![Prompt::Screen(Screen::PinEntry)]
    );
}
