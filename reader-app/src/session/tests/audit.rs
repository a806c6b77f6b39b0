//! The session opens and closes its audit record itself: completed, failed and aborted told
//! apart; rejections audited as they happen.

use super::*;
use crate::session::common::AUDIT_RETRY;

fn end(fx: &[Effect]) -> (Ending, Option<String>) {
    fx.iter()
        .find_map(|e| match e {
            Effect::AuditEnd {
                outcome,
                certificate_serial,
            } => Some((*outcome, certificate_serial.clone())),
            _ => None,
        })
        .expect("AuditEnd")
}

fn removed(s: &mut Session) -> (Ending, Option<String>) {
    end(&s.handle(Event::CardRemoved { reader: R.into() }))
}

fn audited(fx: &[Effect], record: AuditRecord) -> bool {
    fx.contains(&Effect::Audit(record))
}

#[test]
fn a_delivered_result_completes_the_session_and_the_method_is_audited_when_chosen() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "1234");
    let fx = s.handle(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert!(audited(&fx, AuditRecord::MethodChosen(MethodKind::Pin)));
    let fx = touch(&mut s, Touch::ConsentAll);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Audit(_))));
    touch(&mut s, Touch::ConsentConfirm);
    s.handle(Event::Delivered(Ok(Qualification::Valid)));
    assert_eq!(removed(&mut s), (Ending::Completed, Some("0A1B".into())));
}

#[test]
fn an_expired_certificate_e006_fails_the_session() {
    let mut s = Session::default();
    s.handle(Event::CardInserted { reader: R.into() });
    let fx = s.handle(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        -1,
    ))));
    assert!(audited(
        &fx,
        AuditRecord::Error(KioskError::CertificateExpired)
    ));
    assert_eq!(KioskError::CertificateExpired.text().code, "E006");
    assert_eq!(removed(&mut s), (Ending::Failed, Some("0A1B".into())));
    // A card that is not a My Number card: failed, no serial.
    s.handle(Event::CardInserted { reader: R.into() });
    s.handle(Event::CardIdentityRead(Err(KioskError::NotMyNumberCard)));
    assert_eq!(removed(&mut s), (Ending::Failed, None));
}

#[test]
fn an_impostor_rejected_at_every_attempt_fails_the_session() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    for attempt in 1..=3 {
        let fx = attempt_not_matched(&mut s);
        assert!(audited(
            &fx,
            AuditRecord::FaceRejected {
                attempt,
                error: KioskError::FaceNotMatched
            }
        ));
    }
    assert_eq!(screen(&s), Screen::MethodChoice);
    assert_eq!(removed(&mut s).0, Ending::Failed);
}

#[test]
fn a_photo_refused_by_liveness_is_audited_as_a_rejection() {
    let mut s = at_choice(PinState::Remaining(3));
    to_capture(&mut s);
    let fx = s.handle(Event::FaceCaptured(Ok(Capture::LivenessFailed)));
    assert!(audited(
        &fx,
        AuditRecord::FaceRejected {
            attempt: 1,
            error: KioskError::LivenessFailed
        }
    ));
    // One rejection, then the patient leaves: aborted, not failed.
    assert_eq!(removed(&mut s).0, Ending::Aborted);
}

#[test]
fn wrong_pins_are_audited_and_a_pin_locked_by_them_fails_the_session() {
    let mut s = at_choice(PinState::Remaining(2));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "0000");
    let fx = s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 1 })));
    assert!(audited(&fx, AuditRecord::PinRejected { remaining: 1 }));
    type_pin(&mut s, "0001");
    let fx = s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 0 })));
    assert!(audited(&fx, AuditRecord::PinRejected { remaining: 0 }));
    assert_eq!(removed(&mut s).0, Ending::Failed);
}

#[test]
fn leaving_before_a_result_aborts_the_session() {
    // At the method choice, and after one wrong PIN (not locked).
    let mut s = at_choice(PinState::Remaining(3));
    assert_eq!(removed(&mut s), (Ending::Aborted, Some("0A1B".into())));
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    type_pin(&mut s, "0000");
    s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 2 })));
    assert_eq!(removed(&mut s).0, Ending::Aborted);
    // While the card is read: no serial yet. The record opens before the card is read.
    let mut s = Session::default();
    let fx = s.handle(Event::CardInserted { reader: R.into() });
    let start = fx.iter().position(|e| *e == Effect::AuditStart);
    let read = fx
        .iter()
        .position(|e| matches!(e, Effect::ReadCardIdentity { .. }));
    assert!(start.is_some() && start < read, "{fx:?}");
    assert_eq!(removed(&mut s), (Ending::Aborted, None));
}

#[test]
fn an_error_after_the_card_was_read_fails_the_session_and_losing_pcscd_ends_it() {
    let mut s = at_choice(PinState::Remaining(3));
    touch(&mut s, Touch::ChoosePin);
    s.handle(Event::TimerFired(TimerId::Idle));
    assert_eq!(removed(&mut s).0, Ending::Failed);
    let mut s = at_choice(PinState::Remaining(3));
    let fx = s.handle(Event::ServiceLost);
    assert_eq!(end(&fx).0, Ending::Aborted);
    assert!(audited(&fx, AuditRecord::Error(KioskError::PcscdDown)));
}

/// An audit record that cannot be written ends the session with E024, the kiosk takes no
/// card until a retry writes the log again, and a reader plugged in does not lift that.
#[test]
fn an_unwritable_audit_log_stops_the_kiosk_until_a_retry_writes_it() {
    let mut s = at_choice(PinState::Remaining(3));
    let fx = s.handle(Event::AuditUnwritable);
    let v = last_view(&fx);
    assert_eq!(
        (v.screen, v.error),
        (Screen::Error, Some(KioskError::AuditLogUnwritable))
    );
    assert_eq!(end(&fx).0, Ending::Aborted);
    assert!(fx.contains(&Effect::StartTimer(TimerId::AuditRetry, AUDIT_RETRY)));

    let fx = s.handle(Event::CardInserted { reader: R.into() });
    assert!(!fx.contains(&Effect::AuditStart), "no card is taken");
    s.handle(Event::ReaderAdded { reader: R.into() });
    let fx = s.handle(Event::TimerFired(TimerId::AuditRetry));
    assert_eq!(fx, [Effect::ProbeAudit]);
    // Still unwritable: tried again later, nothing else happens.
    let fx = s.handle(Event::AuditUnwritable);
    assert_eq!(fx, [Effect::StartTimer(TimerId::AuditRetry, AUDIT_RETRY)]);

    let fx = s.handle(Event::AuditWritable);
    assert_eq!(last_view(&fx).screen, Screen::Waiting);
    let fx = s.handle(Event::CardInserted { reader: R.into() });
    assert!(fx.contains(&Effect::AuditStart));
}

/// A reader lost while E024 is shown (its own record failing too, so E024 stays) is what the
/// kiosk shows once the log is writable again, not 待機; its return then leads to 待機.
#[test]
fn after_an_audit_stop_the_kiosk_shows_a_reader_lost_meanwhile() {
    for lost in [
        Event::ReaderRemoved { reader: R.into() },
        Event::ServiceLost,
    ] {
        let mut s = at_choice(PinState::Remaining(3));
        s.handle(Event::AuditUnwritable);
        let fx = s.handle(lost.clone());
        let error = last_view(&fx).error.expect("the reader's error");
        assert!(audited(&fx, AuditRecord::Error(error)), "{lost:?}");
        s.handle(Event::AuditUnwritable);
        assert_eq!(
            last_view(&s.handle(Event::AuditWritable)).error,
            Some(error),
            "{lost:?}"
        );
        let fx = s.handle(Event::CardInserted { reader: R.into() });
        assert!(
            !fx.contains(&Effect::AuditStart),
            "{lost:?}: no card is taken"
        );
        if lost == Event::ServiceLost {
            let fx = s.handle(Event::ServiceRestored);
            assert_eq!(last_view(&fx).error, Some(KioskError::ReaderMissing));
        }
        let fx = s.handle(Event::ReaderAdded { reader: R.into() });
        assert_eq!(last_view(&fx).screen, Screen::Waiting, "{lost:?}");
    }
}
