//! PIN, staff, consent, hand-off, devices and languages.

use super::*;

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
    // Back at the pad, which shows no error: a staff call would say the PIN was wrong.
    assert_eq!((v.error, v.card_error), (None, Some(KioskError::PinWrong)));
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
        method: MethodKind::Pin
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
fn card_removed_during_pin_entry_clears_the_pad() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    touch(&mut s, Touch::Digit(4));
    let fx = s.handle(Event::CardRemoved { reader: R.into() });
    assert_eq!(last_view(&fx).screen, Screen::Waiting);
    assert!(s.state.patient().is_none());
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
fn proxy_is_not_taken_without_a_usable_pin() {
    for pin in [PinState::Remaining(0), PinState::NotSet] {
        let mut s = at_choice(pin);
        touch(&mut s, Touch::Proxy(true));
        let v = s.view();
        assert!(!v.proxy && v.face_available, "{pin:?}: face stays offered");
        assert!(!v.notices.contains(&Notice::Proxy));
    }
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
    assert!(fx.contains(&Effect::Speak(
        Prompt::Screen(Screen::MethodChoice),
        Lang::Vi
    )));
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
fn an_acknowledged_staff_call_says_staff_are_coming_until_another_screen() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::CallStaff);
    let fx = s.handle(Event::StaffAcknowledged);
    let v = last_view(&fx);
    assert_eq!(v.screen, Screen::StaffLogin);
    assert!(v.notices.contains(&Notice::StaffComing), "{:?}", v.notices);
    let fx = touch(&mut s, Touch::Cancel);
    assert!(!last_view(&fx).notices.contains(&Notice::StaffComing));
}
