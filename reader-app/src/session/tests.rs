//! Every transition family of the session, without hardware.

use super::*;

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

/// A confident read of 照合番号B whose least confident digit has `min_confidence`.
fn read_front(min_confidence: f32) -> CardFrontReading {
    CardFrontReading::Read {
        pin_b: PinB::new("90010120291234"),
        min_confidence,
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
    assert!(matches!(fx[0], Effect::StartFaceCapture(_)));
    assert_eq!(screen(s), Screen::FaceCapture);
}

fn delivered(fx: &[Effect]) -> VerificationResult {
    fx.iter()
        .find_map(|e| match e {
            Effect::DeliverResult(r) => Some(r.clone()),
            _ => None,
        })
        .expect("DeliverResult")
}

fn consent_all(s: &mut Session) -> VerificationResult {
    assert_eq!(screen(s), Screen::ConsentChoice);
    touch(s, Touch::ConsentAll);
    assert_eq!(screen(s), Screen::ConsentSummary);
    delivered(&touch(s, Touch::ConsentConfirm))
}

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
    s.handle(Event::FacesCompared(Ok(FaceMatch {
        score: 0.6,
        matched: true,
    })));
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
        s.handle(Event::FaceCaptured(Ok(Capture::Captured {
            liveness: LivenessCheck::Passed,
        })));
        s.handle(Event::FacesCompared(Ok(FaceMatch {
            score: 0.1,
            matched: false,
        })));
    }
    let v = s.view();
    assert_eq!(v.screen, Screen::MethodChoice);
    assert!(!v.face_available && v.pin_available);
    assert!(v.notices.contains(&Notice::FaceUnavailable));
    assert!(v.notices.contains(&Notice::ImagesDeleted));
    assert_eq!(v.last_error, Some(KioskError::FaceNotMatched));
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
    assert!(v.notices.contains(&Notice::FaceUnavailable));
    assert!(!v.notices.contains(&Notice::ReplaceCardFront));
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
fn pin_wrong_then_right_shows_remaining_tries() {
    let mut s = at_choice(PinState::Remaining(3));
    assert_eq!(s.view().pin_retries, Some(3));
    touch(&mut s, Touch::ChoosePin);
    // Submit does nothing before four digits; backspace and clear edit.
    touch(&mut s, Touch::Digit(1));
    touch(&mut s, Touch::Digit(2));
    assert!(!touch(&mut s, Touch::Submit)
        .iter()
        .any(|e| matches!(e, Effect::VerifyPin(_))));
    touch(&mut s, Touch::Backspace);
    assert_eq!(s.view().digits_entered, 1);
    touch(&mut s, Touch::Clear);
    assert_eq!(s.view().digits_entered, 0);
    type_pin(&mut s, "9999");
    let fx = s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 2 })));
    let v = last_view(&fx);
    assert_eq!(
        (v.screen, v.pin_retries, v.digits_entered),
        (Screen::PinEntry, Some(2), 0)
    );
    type_pin(&mut s, "1234");
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert_eq!(screen(&s), Screen::ConsentChoice);
}

#[test]
fn pin_digits_never_appear_in_debug_output() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    let fx = type_pin(&mut s, "8642");
    let debug = format!("{fx:?} {s:?}");
    assert!(!debug.contains("8642"), "{debug}");
    assert!(debug.contains("Secret(4 digits)"));
    let b = PinB::new("90010120291234");
    assert_eq!(format!("{b:?}"), "Secret(14 digits)");
}

#[test]
fn pin_locked_offers_face_or_staff_visual_check() {
    let mut s = at_choice(PinState::Remaining(1));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "0000");
    s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 0 })));
    let v = s.view();
    assert_eq!((v.screen, v.pin_retries), (Screen::MethodChoice, Some(0)));
    assert!(!v.pin_available && v.face_available);
    assert!(touch(&mut s, Touch::ChoosePin).is_empty() || screen(&s) == Screen::MethodChoice);

    let fx = touch(&mut s, Touch::CallStaff);
    assert!(fx.contains(&Effect::NotifyStaff));
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffCalled)));
    assert_eq!(screen(&s), Screen::StaffLogin);
    for d in [2, 4, 6, 8] {
        touch(&mut s, Touch::Digit(d));
    }
    let fx = touch(&mut s, Touch::Submit);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::CheckStaffPin(p) if p.expose() == "2468")));
    let fx = s.handle(Event::StaffPinChecked(None));
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffUnlockRefused {
        credential: Credential::Pin
    })));
    assert!(last_view(&fx).notices.contains(&Notice::StaffRefused));
    for d in [1, 3, 5, 7] {
        touch(&mut s, Touch::Digit(d));
    }
    touch(&mut s, Touch::Submit);
    let nurse = Operator("nurse-7".into());
    let fx = s.handle(Event::StaffPinChecked(Some(nurse.clone())));
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffUnlocked {
        operator: nurse.clone(),
        credential: Credential::Pin,
    })));
    let v = s.view();
    assert_eq!(v.screen, Screen::StaffMenu);
    assert_eq!(v.last_error, Some(KioskError::PinLocked));
    let fx = touch(&mut s, Touch::StaffVisual(VisualReason::PinLocked));
    assert!(fx.contains(&Effect::Audit(AuditRecord::VisualCheck {
        operator: nurse.clone(),
        reason: VisualReason::PinLocked
    })));
    let result = consent_all(&mut s);
    assert_eq!(
        result.method,
        Method::Visual {
            operator: nurse,
            reason: VisualReason::PinLocked
        }
    );
    // Staff never reset counters.
    assert_eq!(s.view().pin_retries, Some(0));
}

#[test]
fn staff_card_unlocks_and_manual_choice_is_audited() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::CallStaff);
    let staff_reader = "Staff Reader 01";
    assert_eq!(
        s.handle(Event::StaffCardInserted {
            reader: staff_reader.into()
        }),
        vec![Effect::ReadStaffCard {
            reader: staff_reader.into()
        }]
    );
    // An unknown card is refused and audited; the login screen says so.
    let fx = s.handle(Event::StaffCardRefused);
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffUnlockRefused {
        credential: Credential::Card
    })));
    assert_eq!(last_view(&fx).screen, Screen::StaffLogin);
    assert!(last_view(&fx).notices.contains(&Notice::StaffCardRefused));
    let op = Operator("card:clerk".into());
    let fx = s.handle(Event::StaffCardPresented(op.clone()));
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffUnlocked {
        operator: op.clone(),
        credential: Credential::Card,
    })));
    assert_eq!(screen(&s), Screen::StaffMenu);
    let fx = touch(&mut s, Touch::StaffChoosePin);
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffChoseMethod {
        operator: op.clone(),
        method: "pin"
    })));
    assert_eq!(screen(&s), Screen::PinEntry);
    let fx = s.handle(Event::CardRemoved { reader: R.into() });
    assert!(fx.contains(&Effect::Audit(AuditRecord::StaffLeft { operator: op })));
}

#[test]
fn face_only_card_offers_face_only() {
    let s = at_choice(PinState::NotSet);
    let v = s.view();
    assert!(v.face_available && !v.pin_available);
    assert_eq!(v.pin_retries, None);
}

#[test]
fn face_only_card_without_face_hardware_needs_staff() {
    let mut s = Session::new(Settings {
        face_enabled: false,
        ..Settings::default()
    });
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Ok(identity(PinState::NotSet, 500))));
    let v = s.view();
    assert!(!v.face_available && !v.pin_available && v.visual_available);
    assert!(touch(&mut s, Touch::ChooseFace)
        .iter()
        .all(|e| !matches!(e, Effect::QueryPinBCounter | Effect::ReadCardFront)));
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
fn card_removed_during_pin_entry_clears_the_pad() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    touch(&mut s, Touch::Digit(4));
    let fx = s.handle(Event::CardRemoved { reader: R.into() });
    assert_eq!(last_view(&fx).screen, Screen::Waiting);
    assert!(s.patient.is_none());
    assert!(touch(&mut s, Touch::Submit).is_empty());
}

#[test]
fn card_errors_stay_until_removal() {
    for (read, error) in [
        (
            Err(KioskError::NotMyNumberCard),
            KioskError::NotMyNumberCard,
        ),
        (
            Ok(identity(PinState::Remaining(3), -1)),
            KioskError::CertificateExpired,
        ),
    ] {
        let mut s = Session::default();
        s.handle(Event::CardInserted { reader: R.into() });
        let fx = s.handle(Event::CardIdentityRead(read));
        let v = last_view(&fx);
        assert_eq!((v.screen, v.error), (Screen::Error, Some(error)));
        assert!(s.handle(Event::TimerFired(TimerId::Idle)).is_empty());
        let fx = s.handle(Event::CardRemoved { reader: R.into() });
        let v = last_view(&fx);
        assert_eq!((v.screen, v.notices.len()), (Screen::Waiting, 0));
    }
}

#[test]
fn certificate_expiring_soon_is_a_notice() {
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        12,
    ))));
    assert!(s
        .view()
        .notices
        .contains(&Notice::CertificateExpiresSoon { days: 12 }));
}

#[test]
fn consent_per_item_starts_from_facility_defaults() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "1234");
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    touch(&mut s, Touch::ConsentPerItem);
    assert_eq!(
        s.view().consent,
        vec![
            (ConsentItem::Drug, true),
            (ConsentItem::Checkup, true),
            (ConsentItem::Clinical, false),
            (ConsentItem::Surgery, false)
        ]
    );
    touch(&mut s, Touch::ConsentToggle(ConsentItem::Drug));
    touch(&mut s, Touch::ConsentToggle(ConsentItem::Surgery));
    touch(&mut s, Touch::ConsentReview);
    assert_eq!(screen(&s), Screen::ConsentSummary);
    let r = delivered(&touch(&mut s, Touch::ConsentConfirm));
    assert!(!r.consent.comprehensive);
    assert_eq!(
        r.consent.items,
        vec![
            (ConsentItem::Drug, false),
            (ConsentItem::Checkup, true),
            (ConsentItem::Clinical, false),
            (ConsentItem::Surgery, true)
        ]
    );
}

#[test]
fn facility_items_and_no_consent_screen() {
    let mut s = Session::new(Settings {
        consent_items: vec![],
        ..Settings::default()
    });
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        500,
    ))));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "1234");
    let fx = s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert!(delivered(&fx).consent.items.is_empty());
}

#[test]
fn not_registered_offers_registration() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "1234");
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    consent_all(&mut s);
    s.handle(Event::Delivered(Ok(Qualification::NotRegistered)));
    assert_eq!(screen(&s), Screen::RegistrationOffer);
    let r = delivered(&touch(&mut s, Touch::Register(true)));
    assert!(r.register);
    s.handle(Event::Delivered(Ok(Qualification::Valid)));
    assert_eq!(s.view().answer, Some(Qualification::Valid));
}

#[test]
fn proxy_path_is_pin_only_and_marked() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::Proxy(true));
    let v = s.view();
    assert!(v.proxy && !v.face_available && v.notices.contains(&Notice::Proxy));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "1234");
    s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert!(consent_all(&mut s).proxy);
}

#[test]
fn idle_timeout_ends_waiting_screens() {
    let mut s = at_choice(PinState::Remaining(3));
    let fx = touch(&mut s, Touch::ChoosePin);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::StartTimer(TimerId::Idle, _))));
    touch(&mut s, Touch::Digit(1));
    let fx = s.handle(Event::TimerFired(TimerId::Idle));
    let v = last_view(&fx);
    assert_eq!(
        (v.screen, v.error),
        (Screen::Error, Some(KioskError::TimedOut))
    );
    // Staff login without a card goes back to 待機.
    let mut s = Session::default();
    touch(&mut s, Touch::CallStaff);
    s.handle(Event::TimerFired(TimerId::Idle));
    assert_eq!(screen(&s), Screen::Waiting);
}

#[test]
fn language_switch_speaks_and_resets_after_the_patient() {
    let mut s = at_choice(PinState::Remaining(3));
    let fx = touch(&mut s, Touch::Language(Lang::Vi));
    assert!(fx.contains(&Effect::SetLanguage(Lang::Vi)));
    assert!(fx.contains(&Effect::Speak(Screen::MethodChoice, Lang::Vi)));
    assert_eq!(last_view(&fx).language, Lang::Vi);
    s.handle(Event::CardRemoved { reader: R.into() });
    assert_eq!(s.view().language, Lang::Ja);
}

#[test]
fn reader_and_pcscd_loss() {
    let mut s = at_choice(PinState::Remaining(3));
    let fx = s.handle(Event::ServiceLost);
    assert_eq!(last_view(&fx).error, Some(KioskError::PcscdDown));
    assert!(s
        .handle(Event::CardInserted { reader: R.into() })
        .iter()
        .all(|e| !matches!(e, Effect::ReadCardIdentity { .. })));
    // pcscd is back without the reader (unplugged meanwhile): the reader is what is missing.
    let fx = s.handle(Event::ServiceRestored);
    assert_eq!(last_view(&fx).error, Some(KioskError::ReaderMissing));
    s.handle(Event::ReaderAdded { reader: R.into() });
    assert_eq!(screen(&s), Screen::Waiting);
    s.handle(Event::CardInserted { reader: R.into() });
    let fx = s.handle(Event::ReaderRemoved { reader: R.into() });
    assert_eq!(last_view(&fx).error, Some(KioskError::ReaderMissing));
}

#[test]
fn second_card_elsewhere_does_not_interrupt() {
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: "A".into() });
    assert!(s
        .handle(Event::CardInserted { reader: "B".into() })
        .is_empty());
    assert!(s
        .handle(Event::CardRemoved { reader: "B".into() })
        .is_empty());
    assert_eq!(screen(&s), Screen::Reading);
}

#[test]
fn call_staff_while_the_card_is_read_does_not_lose_the_answer() {
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: R.into() });
    let fx = touch(&mut s, Touch::CallStaff);
    assert!(fx.contains(&Effect::NotifyStaff));
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::Reading);
    assert!(v.notices.contains(&Notice::StaffCalled));
    s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        500,
    ))));
    assert_eq!(screen(&s), Screen::MethodChoice);
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
            Effect::StartFaceCapture(c) => c,
            ref other => panic!("expected a capture, got {other:?}"),
        }
    };
    let drawn: Vec<Challenge> = (0..24).map(first_challenge).collect();
    assert_eq!(drawn, (0..24).map(first_challenge).collect::<Vec<_>>());
    for c in Settings::default().challenges {
        assert!(drawn.contains(&c), "{c:?} never drawn in {drawn:?}");
    }
}
