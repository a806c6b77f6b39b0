//! Face authentication: 照合番号B under the submit policy, capture attempts, discarding.

use super::*;

#[test]
fn face_success_then_consent_result_and_removal() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let fx = s.handle(Event::FaceGuidance(Guidance::MoveCloser));
    assert_eq!(last_view(&fx).guidance, Some(Guidance::MoveCloser));
    let fx = s.handle(Event::FaceCaptured(Ok(Capture::Captured {
        liveness: LivenessCheck::Passed,
    })));
    assert!(fx.contains(&Effect::CompareFaces));
    let fx = s.handle(Event::FacesCompared(Ok(FaceMatch {
        score: 0.7,
        matched: true,
    })));
    assert!(fx.contains(&Effect::DiscardBiometrics));
    assert!(last_view(&fx).notices.contains(&Notice::ImagesDeleted));
    past_confirmation(&mut s, &fx);
    let result = consent_all(&mut s);
    assert_eq!(
        result.method,
        Method::Face {
            score: 0.7,
            liveness: LivenessCheck::Passed,
            attempts: 1,
        }
    );
    assert!(result.consent.comprehensive);
    assert!(result.consent.items.iter().all(|(_, agreed)| *agreed));
    assert_eq!(screen(&s), Screen::Delivering);
    let fx = s.handle(Event::Delivered(Ok(Qualification::Valid)));
    assert_eq!(last_view(&fx).answer, Some(Qualification::Valid));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::StartTimer(TimerId::ResultHold, _))));
    s.handle(Event::TimerFired(TimerId::ResultHold));
    assert_eq!(screen(&s), Screen::RemoveCard);
    let fx = s.handle(Event::CardRemoved { reader: R.into() });
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::Waiting);
    assert!(v.notices.is_empty());
}

#[test]
fn face_evidence_counts_the_attempts_and_says_when_liveness_did_not_run() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let captured = Capture::Captured {
        liveness: LivenessCheck::NotRun,
    };
    s.handle(Event::FaceCaptured(Ok(captured)));
    s.handle(Event::FacesCompared(Ok(FaceMatch {
        score: 0.1,
        matched: false,
    })));
    assert_eq!(s.view().attempt, 2);
    s.handle(Event::FaceCaptured(Ok(captured)));
    let fx = s.handle(Event::FacesCompared(Ok(FaceMatch {
        score: 0.6,
        matched: true,
    })));
    past_confirmation(&mut s, &fx);
    assert_eq!(
        consent_all(&mut s).method,
        Method::Face {
            score: 0.6,
            liveness: LivenessCheck::NotRun,
            attempts: 2,
        }
    );
}

#[test]
fn face_fails_every_attempt_then_pin_succeeds() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    for attempt in 1..=3 {
        assert_eq!(s.view().attempt, attempt);
        attempt_not_matched(&mut s);
    }
    let v = s.view();
    assert_eq!(v.screen, Screen::MethodChoice);
    assert!(!v.face_available && v.pin_available);
    assert_eq!(
        v.notices,
        vec![Notice::ImagesDeleted, Notice::FaceFailed, Notice::UsePin]
    );
    assert_eq!(v.last_error, Some(KioskError::FaceNotMatched));
    assert_eq!(
        (v.error, v.card_error),
        (None, Some(KioskError::FaceNotMatched))
    );
    touch(&mut s, Touch::ChoosePin);
    let fx = type_pin(&mut s, "1234");
    assert_eq!(verify_pin_effect(&fx).expose(), "1234");
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert_eq!(consent_all(&mut s).method, Method::Pin(proof()));
}

#[test]
fn liveness_failure_and_countdown_use_up_attempts() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    s.handle(Event::FaceCaptured(Ok(Capture::LivenessFailed)));
    assert_eq!(s.view().attempt, 2);
    for _ in 0..Settings::default().face_seconds {
        s.handle(Event::TimerFired(TimerId::FaceTick));
    }
    assert_eq!(s.view().attempt, 3);
    assert_eq!(s.view().seconds_left, Settings::default().face_seconds);
    let fx = s.handle(Event::FaceCaptured(Err(KioskError::CameraMissing)));
    assert!(fx.contains(&Effect::StopFaceCapture));
    assert!(fx.contains(&Effect::DiscardBiometrics));
    assert_eq!(screen(&s), Screen::MethodChoice);
}

/// A session that chose face with a card reporting `retries` 照合番号B tries.
fn at_card_front(retries: Option<u8>) -> Session {
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: R.into() });
    let mut id = identity(PinState::Remaining(3), 500);
    id.pin_b_retries = retries;
    s.handle(Event::CardIdentityRead(Ok(id)));
    let fx = touch(&mut s, Touch::ChooseFace);
    query_then_read(&mut s, &fx, retries);
    s
}

/// The patient is asked to re-place the card; the next read follows the timer and a new
/// query of the counter (the card reports `counter`).
fn assert_reread(s: &mut Session, fx: &[Effect], counter: Option<u8>) {
    assert!(!submitted(fx));
    assert!(fx.contains(&Effect::StartTimer(
        TimerId::CardFrontReread,
        Settings::default().card_front_reread()
    )));
    let v = last_view(fx);
    assert_eq!(v.screen, Screen::FacePreparing);
    assert!(v.notices.contains(&Notice::ReplaceCardFront), "{v:?}");
    let fx = s.handle(Event::TimerFired(TimerId::CardFrontReread));
    query_then_read(s, &fx, counter);
}

/// Face is withdrawn with `error`; the PIN and staff remain.
fn assert_fallback(s: &Session, fx: &[Effect], error: KioskError) {
    assert!(!submitted(fx));
    let v = s.view();
    assert_eq!(v.screen, Screen::MethodChoice);
    assert_eq!(v.last_error, Some(error));
    assert!(!v.face_available && v.pin_available);
    assert_eq!(
        v.notices,
        vec![
            Notice::ImagesDeleted,
            Notice::FaceUnavailable,
            Notice::UsePin
        ]
    );
}

/// The card front read as `reading`: the kiosk asks `asked` of the patient, not to re-place the
/// card, spends no try, and reads again once the re-read timer fires.
fn asks_then_reads_again(reading: CardFrontReading, asked: Notice) -> Session {
    let mut s = at_card_front(Some(10));
    ask_then_read_again(&mut s, reading, asked);
    s
}

/// `reading` makes the session ask `asked` (shown and said), then read again.
fn ask_then_read_again(s: &mut Session, reading: CardFrontReading, asked: Notice) {
    let fx = s.handle(Event::CardFrontRead(Ok(reading)));
    assert!(!submitted(&fx));
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::FacePreparing);
    assert!(v.notices.contains(&asked), "{v:?}");
    assert!(!v.notices.contains(&Notice::ReplaceCardFront), "{v:?}");
    // Said, not only shown (the screen's prompt says its notices first), after the view.
    let said = fx
        .iter()
        .position(|e| matches!(e, Effect::Speak(Prompt::Screen(Screen::FacePreparing), _)));
    let shown = fx.iter().rposition(|e| matches!(e, Effect::Show(_)));
    assert!(said > shown && shown.is_some(), "{fx:?}");
    let fx = s.handle(Event::TimerFired(TimerId::CardFrontReread));
    query_then_read(s, &fx, Some(10));
}

#[test]
fn a_photo_of_two_cards_asks_for_that_card_alone_then_reads_again() {
    let mut s = asks_then_reads_again(CardFrontReading::SeveralCards, Notice::OneCardFrontOnly);
    let fx = s.handle(Event::CardFrontRead(Ok(CardFrontReading::Unreadable)));
    assert_reread(&mut s, &fx, Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
    assert!(submitted(&fx));
}

#[test]
fn a_photo_of_the_card_back_asks_to_turn_it_face_up_then_reads_again() {
    let mut s = asks_then_reads_again(CardFrontReading::CardBack, Notice::TurnCardFaceUp);
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
    assert!(submitted(&fx));
}

#[test]
fn a_card_left_face_down_falls_back_naming_its_back_for_the_staff() {
    let mut s = asks_then_reads_again(CardFrontReading::CardBack, Notice::TurnCardFaceUp);
    ask_then_read_again(&mut s, CardFrontReading::CardBack, Notice::TurnCardFaceUp);
    let fx = s.handle(Event::CardFrontRead(Ok(CardFrontReading::CardBack)));
    assert_fallback(&s, &fx, KioskError::CardFaceDown);

    // Turned over at the last read but still not readable: the front was seen, so E011.
    let mut s = asks_then_reads_again(CardFrontReading::CardBack, Notice::TurnCardFaceUp);
    ask_then_read_again(&mut s, CardFrontReading::CardBack, Notice::TurnCardFaceUp);
    let fx = s.handle(Event::CardFrontRead(Ok(CardFrontReading::Unreadable)));
    assert_fallback(&s, &fx, KioskError::PinBUnreadable);
}

#[test]
fn unreadable_or_uncertain_fronts_are_read_again_then_fall_back_without_a_try() {
    let mut s = at_card_front(Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(CardFrontReading::Unreadable)));
    assert_reread(&mut s, &fx, Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(0.9))));
    assert_reread(&mut s, &fx, Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(0.5))));
    assert_fallback(&s, &fx, KioskError::PinBUnreadable);
}

#[test]
fn one_frame_read_short_of_the_lone_bar_is_tried_only_after_a_second_look_agreed() {
    let lone = |second_look| CardFrontReading::Read {
        pin_b: PinB::new("90010120291234"),
        min_confidence: 0.97,
        agreeing_frames: 1,
        second_look,
    };
    let mut s = at_card_front(Some(10));
    let fx = s.handle(Event::CardFrontRead(Ok(lone(false))));
    assert_reread(&mut s, &fx, Some(10));
    assert!(submitted(&s.handle(Event::CardFrontRead(Ok(lone(true))))));
}

#[test]
fn the_last_two_tries_or_an_unknown_counter_are_never_spent() {
    for retries in [Some(2), Some(0), None] {
        let mut s = at_card_front(retries);
        let fx = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
        assert_fallback(&s, &fx, KioskError::PinBCounterLow);
    }
    let mut s = at_card_front(Some(3));
    assert!(submitted(
        &s.handle(Event::CardFrontRead(Ok(read_front(1.0))))
    ));
}

#[test]
fn a_refused_pin_b_asks_to_replace_the_card_once_then_falls_back() {
    // (tries at reading, why face ends after the second refusal): the policy allows one
    // refusal; a refusal that leaves the last two tries ends it whatever the count.
    for (tries, error) in [
        (10, KioskError::PinBRejected),
        (4, KioskError::PinBCounterLow),
    ] {
        let mut s = at_card_front(Some(tries));
        for refusal in 1..=2 {
            let read = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
            assert!(submitted(&read), "{tries} tries, refusal {refusal}");
            let fx = s.handle(Event::PinBSubmitted(Ok(PinBOutcome::Rejected {
                remaining: tries - refusal,
            })));
            if refusal == 1 {
                assert_reread(&mut s, &fx, Some(tries - refusal));
            } else {
                assert_fallback(&s, &fx, error);
            }
        }
    }
}

#[test]
fn the_counter_queried_before_the_read_decides_not_the_one_at_card_reading() {
    // 10 tries when the card was read; 2 by the time the front is read (spent elsewhere).
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        500,
    ))));
    let fx = touch(&mut s, Touch::ChooseFace);
    query_then_read(&mut s, &fx, Some(2));
    let fx = s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
    assert_fallback(&s, &fx, KioskError::PinBCounterLow);
    // A card that cannot be asked: face is withdrawn with the card's error.
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChooseFace);
    let fx = s.handle(Event::PinBCounterRead(Err(KioskError::CardRemoved)));
    assert_fallback(&s, &fx, KioskError::CardRemoved);
}

#[test]
fn cancelling_while_the_card_is_re_placed_stops_the_reread_timer() {
    let mut s = at_card_front(Some(10));
    s.handle(Event::CardFrontRead(Ok(CardFrontReading::Unreadable)));
    let fx = touch(&mut s, Touch::Cancel);
    assert!(fx.contains(&Effect::CancelTimer(TimerId::CardFrontReread)));
    assert_eq!(screen(&s), Screen::MethodChoice);
    assert!(!s.view().notices.contains(&Notice::ReplaceCardFront));
    // A late timer is ignored.
    assert!(s
        .handle(Event::TimerFired(TimerId::CardFrontReread))
        .is_empty());
}

#[test]
fn card_removed_during_capture_discards_biometrics() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let fx = s.handle(Event::CardRemoved { reader: R.into() });
    assert!(fx.contains(&Effect::StopFaceCapture));
    assert!(fx.contains(&Effect::DiscardBiometrics));
    assert!(fx.contains(&Effect::CancelTimer(TimerId::FaceTick)));
    assert!(fx.contains(&Effect::ReleaseCard));
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::Waiting);
    assert_eq!(v.notices, vec![Notice::CardRemoved]);
    // A late result of the cancelled capture changes nothing.
    assert!(s
        .handle(Event::FaceCaptured(Ok(Capture::LivenessFailed)))
        .is_empty());
}

#[test]
fn liveness_challenges_are_drawn_from_the_seed_not_rotated() {
    let first_challenge = |seed: u64| {
        let mut s = Session::default().with_challenge_seed(seed);
        s.handle(Event::CardInserted { reader: R.into() });
        s.handle(Event::CardIdentityRead(Ok(identity(
            PinState::Remaining(3),
            500,
        ))));
        touch(&mut s, Touch::ChooseFace);
        s.handle(Event::CardFrontRead(Ok(read_front(1.0))));
        s.handle(Event::PinBSubmitted(Ok(PinBOutcome::Accepted)));
        match s.handle(Event::FacePhotoRead(Ok(())))[0] {
            Effect::StartFaceCapture { challenge, .. } => challenge,
            ref other => panic!("expected a capture, got {other:?}"),
        }
    };
    let drawn: Vec<Challenge> = (0..24).map(first_challenge).collect();
    assert_eq!(drawn, (0..24).map(first_challenge).collect::<Vec<_>>());
    for c in Settings::default().challenges {
        assert!(drawn.contains(&c), "{c:?} never drawn in {drawn:?}");
    }
}

/// Every view of a face path that goes on to match, from the card placed to the consent: the
/// method choice is never shown without its face button (the patient would see it flash).
#[test]
fn a_face_path_that_matches_never_shows_a_choice_without_face() {
    // A card with a PIN, and one whose PIN answers as blocked (a 顔認証マイナンバーカード).
    for pin in [PinState::Remaining(3), PinState::Remaining(0)] {
        let mut s = Session::default();
        let mut fx = s.handle(Event::CardInserted { reader: R.into() });
        for event in [
            Event::CardIdentityRead(Ok(identity(pin, 500))),
            Event::Touch(Touch::ChooseFace),
            Event::PinBCounterRead(Ok(Some(10))),
            Event::CardFrontRead(Ok(read_front(1.0))),
            Event::PinBSubmitted(Ok(PinBOutcome::Accepted)),
            Event::FacePhotoRead(Ok(())),
            Event::FaceGuidance(Guidance::MoveCloser),
            Event::FaceCaptured(Ok(Capture::Captured {
                liveness: LivenessCheck::NotRun,
            })),
            Event::FacesCompared(Ok(FaceMatch {
                score: 0.7,
                matched: true,
            })),
            Event::TimerFired(TimerId::VerifiedHold),
        ] {
            fx.extend(s.handle(event));
        }
        assert_eq!(screen(&s), Screen::ConsentChoice, "{pin:?}");
        let views: Vec<(Screen, bool)> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Show(v) => Some((v.screen, v.face_available)),
                _ => None,
            })
            .collect();
        assert!(views.contains(&(Screen::MethodChoice, true)), "{views:?}");
        assert!(
            !views.contains(&(Screen::MethodChoice, false)),
            "{pin:?}: {views:?}"
        );
    }
}

#[test]
fn the_error_a_card_went_on_from_is_that_cards_only() {
    // Staff called from the method choice learn why face authentication ended for this
    // patient; the next patient's screens carry no error of the previous one, in a staff call
    // or on the staff screen, which shows the kiosk's last error only with no card in.
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    for _ in 1..=3 {
        attempt_not_matched(&mut s);
    }
    assert_eq!(s.view().card_error, Some(KioskError::FaceNotMatched));
    s.handle(Event::CardRemoved { reader: R.into() });
    let idle = s.view();
    assert_eq!(
        (idle.card_error, idle.last_error),
        (None, Some(KioskError::FaceNotMatched))
    );
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        500,
    ))));
    let v = s.view();
    assert_eq!(v.screen, Screen::MethodChoice);
    assert_eq!((v.card_error, v.last_error), (None, None));
}
