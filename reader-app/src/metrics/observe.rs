//! The session's series, from the effects the runtime carries out and the events it feeds
//! back: sessions, face, OCR, PIN, latencies and the patient readers.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::session::{AuditRecord, Capture, Effect, Ending, Event, PinOutcome};

use super::{global, MethodLabel, ResultLabel, SessionLabels};

/// What the series need to remember between an effect and its result.
#[derive(Debug, Default)]
pub struct SessionObserver {
    /// The method that verified the patient of the open session.
    method: Option<&'static str>,
    /// Card-front reads in the open session (a second one is a re-read).
    front_reads: u32,
    card_read: Option<Instant>,
    decision: Option<(&'static str, Instant)>,
    /// Patient readers present.
    readers: BTreeSet<String>,
}

fn count(
    family: &prometheus_client::metrics::family::Family<
        ResultLabel,
        prometheus_client::metrics::counter::Counter,
    >,
    result: &'static str,
) {
    family.get_or_create(&ResultLabel { result }).inc();
}

impl SessionObserver {
    /// Before the runtime carries out `effect`.
    pub fn effect(&mut self, effect: &Effect) {
        let m = global();
        match effect {
            Effect::AuditStart => {
                self.method = None;
                self.front_reads = 0;
            }
            Effect::AuditEnd { outcome, .. } => {
                let outcome = match outcome {
                    Ending::Completed => "completed",
                    Ending::Failed => "failed",
                    Ending::Aborted => "aborted",
                };
                let method = self.method.take().unwrap_or("none");
                m.sessions
                    .get_or_create(&SessionLabels { method, outcome })
                    .inc();
            }
            Effect::Audit(AuditRecord::MethodChosen(kind)) => self.method = Some(kind.code()),
            Effect::NotifyStaff => {
                m.staff_calls.inc();
            }
            Effect::ReadCardIdentity { .. } => self.card_read = Some(Instant::now()),
            Effect::ReadCardFront => {
                if self.front_reads > 0 {
                    count(&m.ocr_reads, "reread");
                }
                self.front_reads += 1;
            }
            Effect::CompareFaces => self.decision = Some(("face", Instant::now())),
            Effect::VerifyPin(_) => self.decision = Some(("pin", Instant::now())),
            _ => {}
        }
    }

    /// Before the session handles `event`.
    pub fn event(&mut self, event: &Event) {
        let m = global();
        match event {
            Event::ReaderAdded { reader } => {
                self.readers.insert(reader.clone());
            }
            Event::ReaderRemoved { reader } => {
                self.readers.remove(reader);
            }
            Event::ServiceLost => self.readers.clear(),
            Event::CardIdentityRead(_) => {
                if let Some(started) = self.card_read.take() {
                    m.card_read_seconds.observe(started.elapsed().as_secs_f64());
                }
            }
            Event::CardFrontRead(read) => {
                count(&m.ocr_reads, if read.is_ok() { "read" } else { "rejected" });
            }
            Event::FaceCaptured(capture) => count(
                &m.face_captures,
                match capture {
                    Ok(Capture::Captured { .. }) => "captured",
                    Ok(Capture::LivenessFailed) => "liveness_refused",
                    Err(_) => "failed_to_acquire",
                },
            ),
            Event::FacesCompared(compared) => {
                self.decided();
                let matched = compared.as_ref().is_ok_and(|c| c.matched);
                count(
                    &m.face_matches,
                    if matched { "matched" } else { "not_matched" },
                );
            }
            Event::PinVerified(verified) => {
                self.decided();
                count(
                    &m.pin_tries,
                    match verified {
                        Ok(PinOutcome::Verified(_)) => "verified",
                        Ok(PinOutcome::Wrong { .. }) => "wrong",
                        Ok(PinOutcome::Locked) => "locked",
                        Err(_) => "error",
                    },
                );
            }
            _ => {}
        }
        m.reader_up
            .set(self.readers.len().try_into().unwrap_or(i64::MAX));
    }

    fn decided(&mut self) {
        if let Some((method, started)) = self.decision.take() {
            global()
                .decision_seconds
                .get_or_create(&MethodLabel { method })
                .observe(started.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::KioskError;
    use crate::session::MethodKind;

    #[test]
    fn a_session_shows_in_the_series_with_fixed_labels_only() {
        let mut o = SessionObserver::default();
        o.event(&Event::ReaderAdded {
            reader: "Virtual PCD 00 00".into(),
        });
        o.effect(&Effect::AuditStart);
        o.event(&Event::FaceCaptured(Err(KioskError::CameraMissing)));
        o.effect(&Effect::Audit(AuditRecord::MethodChosen(MethodKind::Pin)));
        o.effect(&Effect::AuditEnd {
            outcome: Ending::Completed,
            certificate_serial: None,
        });
        let text = global().encode();
        for line in [
            "mynakiosk_sessions_total{method=\"pin\",outcome=\"completed\"}",
            "mynakiosk_face_captures_total{result=\"failed_to_acquire\"}",
            "mynakiosk_reader_up ",
            "mynakiosk_build_info{version=",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
        for line in text.lines().filter(|l| l.contains('{')) {
            let labels = &line[line.find('{').unwrap() + 1..line.find('}').unwrap()];
            for label in labels.split(',') {
                let name = label.split('=').next().unwrap();
                assert!(
                    ["method", "outcome", "result", "version", "le"].contains(&name),
                    "{line}"
                );
            }
        }
    }
}
