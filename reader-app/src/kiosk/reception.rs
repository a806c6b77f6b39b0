//! [`HandOffPort`] and [`AuditPort`] over the hand-off ([`Courier`], qualification query) and
//! the hash-chained [`AuditLog`].

use std::time::Duration;

use crate::audit::{AuditEvent, AuditLog, Outcome};
use crate::config::Config;
use crate::errors::{Failure, KioskError};
use crate::handoff::courier::Courier;
use crate::handoff::qualification::{self, Qualification as Answer};
use crate::handoff::result::{
    self, Consent, ConsentItems, Evidence, FaceEvidence, Liveness, PinEvidence, SessionId,
    SessionInfo, VisualEvidence,
};
use crate::handoff::staff_call::StaffCall;
use crate::session::{
    AuditRecord, ConsentItem, Ending, LivenessCheck, Method, Qualification, VerificationResult,
    VisualReason,
};

use super::ports::{AuditPort, HandOffPort};

/// Signature scheme of the JPKI user-authentication key.
const PIN_SIGNATURE_ALGORITHM: &str = "rsa-pkcs1-sha256";

/// Queues results in the durable outbox (the courier delivers them) and asks the
/// qualification service about the card.
pub struct Reception {
    courier: Courier,
    qualification_url: String,
    timeout: Duration,
    match_threshold: f32,
}

impl Reception {
    /// Opens the configured outbox and starts its courier.
    pub fn start(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            courier: Courier::start(&config.handoff)?,
            qualification_url: config.qualification.url.clone(),
            timeout: Duration::from_millis(config.handoff.timeout_ms),
            match_threshold: config.face.match_threshold,
        })
    }
}

impl HandOffPort for Reception {
    fn deliver(
        &mut self,
        session: &SessionInfo,
        result: &VerificationResult,
    ) -> Result<Qualification, Failure> {
        let outgoing = to_handoff(session, result, self.match_threshold)?;
        self.courier.enqueue(&outgoing).map_err(|e| {
            Failure::new(
                KioskError::ReceptionUnreachable,
                format!("cannot queue the result: {e}"),
            )
        })?;
        if self.qualification_url.is_empty() {
            // No qualification service configured: the reception system answers itself.
            return Ok(Qualification::Valid);
        }
        let serial = &result.certificate.serial;
        match qualification::query(&self.qualification_url, serial, self.timeout) {
            Ok(answer) => Ok(match answer {
                Answer::Valid => Qualification::Valid,
                Answer::Invalid => Qualification::Invalid,
                Answer::NoRecord => Qualification::NotFound,
                Answer::Unregistered => Qualification::NotRegistered,
            }),
            Err(e) => Err(Failure::new(
                KioskError::ReceptionUnreachable,
                format!("qualification query failed: {e}"),
            )),
        }
    }

    fn call_staff(&mut self, call: &StaffCall) {
        match self.courier.enqueue(call) {
            Ok(()) => {
                tracing::warn!(key = %call.idempotency_key, screen = %call.screen, "patient pressed call-staff; staff call queued")
            }
            Err(e) => {
                tracing::error!(error = %e, "patient pressed call-staff; cannot queue the staff call")
            }
        }
    }
}

/// Whether a TEST CA issued the certificate (every issuer name of the card simulator says
/// TEST; J-LIS's never do): the result of such a card is marked `"test": true`.
fn issued_for_tests(issuer: &str) -> bool {
    issuer.contains("TEST")
}

/// The hand-off JSON for the session's result.
pub fn to_handoff(
    session: &SessionInfo,
    result: &VerificationResult,
    match_threshold: f32,
) -> Result<result::VerificationResult, KioskError> {
    let cert = &result.certificate;
    let summary = card_io::certificate::CertificateSummary::of(&cert.der)
        .ok_or(KioskError::CertificateUntrusted)?;
    let serial = hex::decode(summary.serial.replace(':', ""))
        .map_err(|_| KioskError::CertificateUntrusted)?;
    let not_after = chrono::DateTime::from_timestamp(summary.not_after, 0)
        .ok_or(KioskError::CertificateUntrusted)?;
    let test = issued_for_tests(&summary.issuer);
    let certificate = result::Certificate::new(&cert.der, &serial, summary.issuer, not_after);
    let evidence = match &result.method {
        Method::Face {
            score,
            liveness,
            attempts,
        } => Evidence::Face(FaceEvidence {
            match_score: *score,
            match_threshold,
            liveness: match liveness {
                LivenessCheck::Passed => Liveness::Passed,
                LivenessCheck::NotRun => Liveness::NotRun,
            },
            attempts: u32::from(*attempts),
        }),
        Method::Pin(proof) => Evidence::Pin(PinEvidence::new(
            &proof.challenge,
            &proof.signature,
            PIN_SIGNATURE_ALGORITHM,
        )),
        Method::Visual { operator, reason } => Evidence::Visual(VisualEvidence {
            operator_id: operator.0.clone(),
            reason: visual_reason(*reason),
        }),
    };
    let answer = |item| {
        result
            .consent
            .items
            .iter()
            .find(|(i, _)| *i == item)
            .map(|&(_, yes)| yes)
    };
    let items = ConsentItems {
        medication: answer(ConsentItem::Drug),
        health_checkup: answer(ConsentItem::Checkup),
        medical_care: answer(ConsentItem::Clinical),
        surgery: answer(ConsentItem::Surgery),
    };
    let now = result::now();
    let consent = Consent::new(now, result.consent.comprehensive, items);
    let mut outgoing =
        result::VerificationResult::new(session, now, certificate, evidence, consent);
    outgoing.proxy = result.proxy;
    outgoing.test = test;
    Ok(if result.register {
        outgoing.requesting_registration()
    } else {
        outgoing
    })
}

fn visual_reason(reason: VisualReason) -> result::VisualReason {
    match reason {
        VisualReason::Unconscious => result::VisualReason::PatientCannotOperate,
        VisualReason::FaceUnavailable => result::VisualReason::FaceNotPossible,
        VisualReason::PinLocked => result::VisualReason::PinLocked,
        VisualReason::Other => result::VisualReason::Other,
    }
}

/// The audit log's outcome of a session's end.
pub fn outcome(ending: Ending) -> Outcome {
    match ending {
        Ending::Completed => Outcome::Verified,
        Ending::Failed => Outcome::Failed,
        Ending::Aborted => Outcome::Aborted,
    }
}

/// The audit event of `record` in the patient session `session` (`None` between patients);
/// `None` for a record of a patient when no patient session is open.
pub fn audit_event(session: Option<SessionId>, record: &AuditRecord) -> Option<AuditEvent> {
    let error = |e: KioskError| AuditEvent::ErrorShown {
        session_id: session,
        code: e.text().code.into(),
    };
    let (operator, action, reason) = match record {
        AuditRecord::MethodChosen(method) => {
            return session.map(|session_id| AuditEvent::MethodChosen {
                session_id,
                method: method.code().into(),
            })
        }
        AuditRecord::FaceRejected { error: e, .. } => return Some(error(*e)),
        AuditRecord::PinRejected { remaining: 0 } => return Some(error(KioskError::PinLocked)),
        AuditRecord::PinRejected { .. } => return Some(error(KioskError::PinWrong)),
        AuditRecord::Error(e) => return Some(error(*e)),
        AuditRecord::StaffCalled => (None, "staff_called".to_owned(), None),
        AuditRecord::StaffUnlocked {
            operator,
            credential,
        } => (Some(operator), "unlock".to_owned(), Some(credential.code())),
        AuditRecord::StaffUnlockRefused { credential } => {
            (None, "unlock_refused".to_owned(), Some(credential.code()))
        }
        AuditRecord::VisualCheck { operator, reason } => (
            Some(operator),
            "visual_check".to_owned(),
            Some(reason.code()),
        ),
        AuditRecord::StaffChoseMethod { operator, method } => (
            Some(operator),
            format!("choose_method:{}", method.code()),
            None,
        ),
        AuditRecord::StaffLeft { operator } => (Some(operator), "leave".to_owned(), None),
    };
    Some(AuditEvent::StaffAction {
        session_id: session,
        operator_id: operator.map(|o| o.0.clone()).unwrap_or_default(),
        action,
        reason_code: reason.map(str::to_owned),
    })
}

/// Appends to the audit log; a failed write is logged (the session goes on).
pub struct AuditTrail(pub AuditLog);

impl AuditPort for AuditTrail {
    fn record(&mut self, event: AuditEvent) -> Result<(), Failure> {
        (self.0.record(event)).map_err(|e| Failure::new(KioskError::AuditLogUnwritable, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Certificate, Consent as Answers, Operator};

    fn result(method: Method) -> VerificationResult {
        let der = card_sim::Profile::load("normal")
            .unwrap()
            .certificate
            .unwrap();
        VerificationResult {
            certificate: Certificate {
                serial: "1001".into(),
                not_after: String::new(),
                days_left: 100,
                der,
            },
            method,
            consent: Answers {
                comprehensive: false,
                items: vec![(ConsentItem::Drug, true), (ConsentItem::Surgery, false)],
            },
            proxy: false,
            register: false,
        }
    }

    fn session() -> SessionInfo {
        SessionInfo {
            kiosk_id: "k-1".into(),
            session_id: SessionId::new(),
            started_at: result::now(),
        }
    }

    #[test]
    fn only_test_issuers_mark_results_as_tests() {
        let issuer = |profile| {
            let der = card_sim::Profile::load(profile).unwrap().certificate;
            card_io::certificate::CertificateSummary::of(&der.unwrap())
                .unwrap()
                .issuer
        };
        assert!(issued_for_tests(&issuer("normal")));
        assert!(issued_for_tests(&issuer("face-card")));
        let jlis = "C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local Authority Information Systems";
        assert!(!issued_for_tests(jlis));
    }

    #[test]
    fn visual_check_and_consent_items_reach_the_hand_off() {
        let method = Method::Visual {
            operator: Operator("nurse-7".into()),
            reason: VisualReason::Unconscious,
        };
        let out = to_handoff(&session(), &result(method), 0.42).unwrap();
        assert_eq!(out.certificate.serial, "1001");
        assert_eq!(out.kiosk_id, "k-1");
        assert!(out.test, "the virtual card's certificate is TEST data");
        let Evidence::Visual(visual) = &out.evidence else {
            panic!("{:?}", out.evidence)
        };
        assert_eq!(visual.operator_id, "nurse-7");
        assert_eq!(visual.reason, result::VisualReason::PatientCannotOperate);
        let items = out.consent.items;
        assert_eq!(items.medication, Some(true));
        assert_eq!(items.surgery, Some(false));
        assert_eq!(items.health_checkup, None, "not shown");
        assert!(!out.consent.comprehensive);
    }

    #[test]
    fn face_scores_threshold_attempts_and_liveness_are_recorded() {
        for (liveness, expected) in [
            (LivenessCheck::Passed, Liveness::Passed),
            (LivenessCheck::NotRun, Liveness::NotRun),
        ] {
            let method = Method::Face {
                score: 0.61,
                liveness,
                attempts: 3,
            };
            let out = to_handoff(&session(), &result(method), 0.42).unwrap();
            let Evidence::Face(face) = &out.evidence else {
                panic!("{:?}", out.evidence)
            };
            assert_eq!((face.match_score, face.match_threshold), (0.61, 0.42));
            assert_eq!((face.liveness, face.attempts), (expected, 3));
        }
    }

    #[test]
    fn proxy_and_registration_are_handed_over() {
        let visual = || Method::Visual {
            operator: Operator("nurse-7".into()),
            reason: VisualReason::Other,
        };
        let session = session();
        let first = to_handoff(&session, &result(visual()), 0.42).unwrap();
        assert!(!first.proxy && !first.register);
        assert_eq!(first.idempotency_key, first.session_id.to_string());
        let mut asked = result(visual());
        asked.proxy = true;
        asked.register = true;
        let follow_up = to_handoff(&session, &asked, 0.42).unwrap();
        assert!(follow_up.proxy && follow_up.register);
        assert_eq!(follow_up.session_id, first.session_id);
        assert_eq!(
            follow_up.idempotency_key,
            format!("{}-register", first.session_id),
            "the registration request is not dropped as a repeat of the first result"
        );
    }

    #[test]
    fn an_unparsable_certificate_is_refused() {
        let mut bad = result(Method::Visual {
            operator: Operator("nurse-7".into()),
            reason: VisualReason::Other,
        });
        bad.certificate.der = vec![0x30, 0x00];
        assert_eq!(
            to_handoff(&session(), &bad, 0.42).unwrap_err(),
            KioskError::CertificateUntrusted
        );
    }

    #[test]
    fn staff_actions_name_operator_and_reason() {
        let record = AuditRecord::VisualCheck {
            operator: Operator("nurse-7".into()),
            reason: VisualReason::PinLocked,
        };
        let AuditEvent::StaffAction {
            operator_id,
            action,
            reason_code,
            ..
        } = audit_event(None, &record).unwrap()
        else {
            panic!("not a staff action")
        };
        assert_eq!(operator_id, "nurse-7");
        assert_eq!(action, "visual_check");
        assert_eq!(reason_code.as_deref(), Some("pin_locked"));
    }

    #[test]
    fn the_hand_off_spells_the_method_as_the_session_does() {
        let methods = [
            Method::Face {
                score: 0.6,
                liveness: LivenessCheck::Passed,
                attempts: 1,
            },
            Method::Pin(crate::session::PinProof {
                challenge: vec![1; 32],
                signature: vec![2; 256],
            }),
            Method::Visual {
                operator: Operator("nurse-7".into()),
                reason: VisualReason::Other,
            },
        ];
        for method in methods {
            let code = method.kind().code();
            let out = to_handoff(&session(), &result(method), 0.42).unwrap();
            assert_eq!(out.evidence.method(), code);
        }
    }

    #[test]
    fn rejections_methods_and_endings_reach_the_audit_log() {
        let id = SessionId::new();
        let code = |record| match audit_event(Some(id), &record) {
            Some(AuditEvent::ErrorShown { code, session_id }) => {
                assert_eq!(session_id, Some(id));
                code
            }
            other => panic!("{other:?}"),
        };
        let face = AuditRecord::FaceRejected {
            attempt: 1,
            error: KioskError::FaceNotMatched,
        };
        assert_eq!(code(face), KioskError::FaceNotMatched.text().code);
        let wrong = AuditRecord::PinRejected { remaining: 2 };
        assert_eq!(code(wrong), KioskError::PinWrong.text().code);
        let locked = AuditRecord::PinRejected { remaining: 0 };
        assert_eq!(code(locked), KioskError::PinLocked.text().code);
        let chosen = AuditRecord::MethodChosen(crate::session::MethodKind::Face);
        assert_eq!(
            audit_event(Some(id), &chosen),
            Some(AuditEvent::MethodChosen {
                session_id: id,
                method: "face".into()
            })
        );
        assert_eq!(audit_event(None, &chosen), None, "no patient session open");
        let endings = [Ending::Completed, Ending::Failed, Ending::Aborted].map(outcome);
        assert_eq!(
            endings,
            [Outcome::Verified, Outcome::Failed, Outcome::Aborted]
        );
    }
}
