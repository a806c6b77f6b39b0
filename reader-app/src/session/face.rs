//! Face authentication: the 照合番号B counter, the card-front read under the submit policy,
//! 照合番号B, the chip photo, then capture attempts (guidance, liveness challenge, countdown)
//! and the comparison. Leaving it in any way discards every biometric buffer.

use std::time::Duration;

use card_front::{Decision, FallbackReason, ReadQuality, RetryCounter};
use rand_chacha::rand_core::RngCore;

use super::consent;
use super::effect::{Effect, Notice, Screen, TimerId};
use super::event::{Event, Touch};
use super::machine::{Next, Session};
use super::state::{Card, Patient, State, Step};
use super::steps::{CardAsk, Face};
use super::types::{AuditRecord, Capture, CardFrontReading, Challenge, Method, PinB, PinBOutcome};
use crate::errors::KioskError;

/// Starts face authentication: the 照合番号B counter is queried before the card front is read.
pub(super) fn start(p: Patient, fx: &mut Vec<Effect>) -> Next {
    fx.push(Effect::QueryPinBCounter);
    let face = Face::Preparing { ask: None };
    Next::Go(State::Patient(p, Step::Face(face)))
}

/// Stops a face step in `state`, if any, and discards what it captured: the patient is back
/// at the method choice. Other states are returned as they are.
pub(super) fn leave(state: State, fx: &mut Vec<Effect>) -> State {
    match state {
        State::Patient(mut p, Step::Face(face)) => {
            stop(face, &mut p.card, fx);
            State::Patient(p, Step::MethodChoice)
        }
        state => state,
    }
}

/// Stops the camera and timers of `face` and discards every biometric buffer.
fn stop(face: Face, card: &mut Card, fx: &mut Vec<Effect>) {
    match face {
        Face::Capture { .. } => {
            fx.push(Effect::CancelTimer(TimerId::FaceTick));
            fx.push(Effect::StopFaceCapture);
        }
        Face::Preparing { .. } => fx.push(Effect::CancelTimer(TimerId::CardFrontReread)),
        Face::Comparing { .. } => {}
    }
    fx.push(Effect::DiscardBiometrics);
    card.notice(Notice::ImagesDeleted);
}

pub(super) fn handle(
    s: &mut Session,
    mut p: Patient,
    face: Face,
    event: Event,
    fx: &mut Vec<Effect>,
) -> Next {
    let stay = |p: Patient, face: Face| Next::Stay(State::Patient(p, Step::Face(face)));
    let go = |p: Patient, face: Face| Next::Go(State::Patient(p, Step::Face(face)));
    match (face, event) {
        (Face::Preparing { ask }, Event::CardFrontRead(Ok(front))) => {
            let mut reread = CardAsk::PlaceAgain;
            let (quality, pin_b) = match front {
                CardFrontReading::Read {
                    pin_b,
                    min_confidence,
                    agreeing_frames,
                    second_look,
                } => {
                    let quality = ReadQuality::Read {
                        min_confidence,
                        agreeing_frames,
                        second_look,
                    };
                    (quality, Some(pin_b))
                }
                CardFrontReading::Unreadable => (ReadQuality::Unreadable, None),
                CardFrontReading::SeveralCards => {
                    reread = CardAsk::OneCardOnly;
                    (ReadQuality::Unreadable, None)
                }
                CardFrontReading::CardBack => {
                    reread = CardAsk::FaceUp;
                    (ReadQuality::Unreadable, None)
                }
            };
            let counter = p.pin_b_counter();
            let decision = p.pin_b.decide(quality, counter);
            pin_b_decided(s, p, (ask, reread), decision, pin_b, fx)
        }
        (Face::Preparing { .. }, Event::TimerFired(TimerId::CardFrontReread)) => {
            fx.push(Effect::QueryPinBCounter);
            stay(p, face)
        }
        (Face::Preparing { .. }, Event::PinBCounterRead(Ok(retries))) => {
            p.identity.pin_b_retries = retries;
            fx.push(Effect::ReadCardFront);
            stay(p, face)
        }
        (Face::Preparing { .. }, Event::PinBSubmitted(Ok(PinBOutcome::Accepted))) => {
            fx.push(Effect::ReadFacePhoto);
            let face = Face::Preparing { ask: None };
            stay(p, face)
        }
        (
            Face::Preparing { ask },
            Event::PinBSubmitted(Ok(PinBOutcome::Rejected { remaining })),
        ) => {
            p.identity.pin_b_retries = Some(remaining);
            let decision = p.pin_b.verify_failed(RetryCounter::Remaining(remaining));
            pin_b_decided(s, p, (ask, CardAsk::PlaceAgain), decision, None, fx)
        }
        (Face::Preparing { .. }, Event::FacePhotoRead(Ok(()))) => start_capture(s, p, 0, fx),
        (
            Face::Preparing { .. },
            Event::PinBCounterRead(Err(e))
            | Event::CardFrontRead(Err(e))
            | Event::PinBSubmitted(Err(e))
            | Event::FacePhotoRead(Err(e)),
        ) => unavailable(s, p, face, e, fx),
        (
            Face::Capture {
                attempt,
                challenge,
                seconds_left,
                ..
            },
            Event::FaceGuidance(g),
        ) => {
            let face = Face::Capture {
                attempt,
                challenge,
                seconds_left,
                guidance: Some(g),
            };
            go(p, face)
        }
        (
            Face::Capture {
                attempt,
                challenge,
                seconds_left,
                guidance,
            },
            Event::TimerFired(TimerId::FaceTick),
        ) => {
            if seconds_left <= 1 {
                fx.push(Effect::StopFaceCapture);
                return attempt_failed(s, p, face, KioskError::FaceTimedOut, fx);
            }
            fx.push(Effect::StartTimer(
                TimerId::FaceTick,
                Duration::from_secs(1),
            ));
            let face = Face::Capture {
                attempt,
                challenge,
                seconds_left: seconds_left - 1,
                guidance,
            };
            go(p, face)
        }
        (
            Face::Capture {
                attempt, challenge, ..
            },
            Event::FaceCaptured(result),
        ) => {
            fx.push(Effect::CancelTimer(TimerId::FaceTick));
            fx.push(Effect::StopFaceCapture);
            match result {
                Ok(Capture::Captured { liveness }) => {
                    fx.push(Effect::CompareFaces);
                    let face = Face::Comparing {
                        attempt,
                        challenge,
                        liveness,
                    };
                    go(p, face)
                }
                Ok(Capture::LivenessFailed) => rejected(s, p, face, KioskError::LivenessFailed, fx),
                Err(e) => unavailable(s, p, face, e, fx),
            }
        }
        (Face::Preparing { .. } | Face::Capture { .. }, Event::Touch(Touch::Cancel)) => {
            stop(face, &mut p.card, fx);
            Next::Go(State::Patient(p, Step::MethodChoice))
        }
        (
            Face::Comparing {
                attempt, liveness, ..
            },
            Event::FacesCompared(Ok(m)),
        ) => {
            if !m.matched {
                return rejected(s, p, face, KioskError::FaceNotMatched, fx);
            }
            stop(face, &mut p.card, fx);
            let method = Method::Face {
                score: m.score,
                liveness,
                attempts: attempt,
            };
            consent::confirm(p, method, s, fx)
        }
        (Face::Comparing { .. }, Event::FacesCompared(Err(e))) => unavailable(s, p, face, e, fx),
        (face, event) => Next::ignore(State::Patient(p, Step::Face(face)), &event),
    }
}

/// Carries out the submit policy's decision: present `pin_b`, ask to re-place the card and
/// read again, or withdraw face authentication (PIN or staff remain).
fn pin_b_decided(
    s: &mut Session,
    p: Patient,
    (ask, reread): (Option<CardAsk>, CardAsk),
    decision: Decision,
    pin_b: Option<PinB>,
    fx: &mut Vec<Effect>,
) -> Next {
    let face = Face::Preparing { ask };
    match (decision, pin_b) {
        (Decision::Submit, Some(pin_b)) => {
            fx.push(Effect::SubmitPinB(pin_b));
            Next::Stay(State::Patient(p, Step::Face(face)))
        }
        (Decision::Submit, None) | (Decision::Reread(_), _) => {
            fx.push(Effect::StartTimer(
                TimerId::CardFrontReread,
                s.longer(s.settings.card_front_reread()),
            ));
            let face = Face::Preparing { ask: Some(reread) };
            Next::Go(State::Patient(p, Step::Face(face)))
        }
        (Decision::OfferPinOrStaff(reason), _) => {
            let error = match reason {
                FallbackReason::FewTriesLeft { .. } | FallbackReason::CounterUnknown => {
                    KioskError::PinBCounterLow
                }
                FallbackReason::RereadsExhausted if reread == CardAsk::FaceUp => {
                    KioskError::CardFaceDown
                }
                FallbackReason::RereadsExhausted => KioskError::PinBUnreadable,
                FallbackReason::VerifyFailed => KioskError::PinBRejected,
            };
            unavailable(s, p, face, error, fx)
        }
    }
}

/// Turns the camera on for the attempt after `previous`, with a freshly drawn challenge.
fn start_capture(s: &mut Session, p: Patient, previous: u8, fx: &mut Vec<Effect>) -> Next {
    let challenges = &s.settings.challenges;
    let draw = s.challenge_draw.next_u32() as usize;
    let challenge = (!challenges.is_empty()).then(|| challenges[draw % challenges.len()]);
    fx.push(Effect::StartFaceCapture {
        challenge: challenge.unwrap_or(Challenge::TurnLeft),
        slower: s.slower(),
    });
    fx.push(Effect::StartTimer(
        TimerId::FaceTick,
        Duration::from_secs(1),
    ));
    let face = Face::Capture {
        attempt: previous.saturating_add(1),
        challenge,
        seconds_left: s.settings.face_seconds.saturating_mul(s.slower()),
        guidance: None,
    };
    Next::Go(State::Patient(p, Step::Face(face)))
}

/// The capture did not match the chip photo or was not live: audited, then like any failed
/// attempt; rejections up to the last attempt fail the session if it ends unverified.
fn rejected(
    s: &mut Session,
    mut p: Patient,
    face: Face,
    error: KioskError,
    fx: &mut Vec<Effect>,
) -> Next {
    let attempt = attempt_of(face);
    fx.push(Effect::Audit(AuditRecord::FaceRejected { attempt, error }));
    if attempt >= s.settings.face_attempts {
        p.rejected = true;
    }
    attempt_failed(s, p, face, error, fx)
}

/// One capture attempt failed: try again while attempts remain, else fall back.
fn attempt_failed(
    s: &mut Session,
    mut p: Patient,
    face: Face,
    error: KioskError,
    fx: &mut Vec<Effect>,
) -> Next {
    s.went_on_from(&mut p.card, error);
    let attempt = attempt_of(face);
    if attempt < s.settings.face_attempts {
        start_capture(s, p, attempt, fx)
    } else {
        unavailable(s, p, face, error, fx)
    }
}

fn attempt_of(face: Face) -> u8 {
    match face {
        Face::Capture { attempt, .. } | Face::Comparing { attempt, .. } => attempt,
        Face::Preparing { .. } => 0,
    }
}

/// Face authentication ends without a match: back to the method choice (PIN or staff).
fn unavailable(
    s: &mut Session,
    mut p: Patient,
    face: Face,
    error: KioskError,
    fx: &mut Vec<Effect>,
) -> Next {
    tracing::info!(code = error.text().code, "face authentication unavailable");
    s.went_on_from(&mut p.card, error);
    stop(face, &mut p.card, fx);
    p.face_blocked = true;
    let notice = match error {
        KioskError::FaceNotMatched | KioskError::LivenessFailed | KioskError::FaceTimedOut => {
            Notice::FaceFailed
        }
        _ => Notice::FaceUnavailable,
    };
    s.raise(Screen::MethodChoice, notice);
    Next::Go(State::Patient(p, Step::MethodChoice))
}
