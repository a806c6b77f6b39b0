//! When a 照合番号B read may be presented to the card. The card blocks the key after a few
//! wrong tries, so the policy spends a try only on a confident, validated read, always keeps
//! the last tries for the municipal office, and otherwise asks for a re-read or a fallback.
//! Every decision is logged without the digits.

use crate::error::OcrError;
use crate::read::{PinBRead, LONE_SURE, SURE_ENOUGH};

/// What a read gave, as far as the policy cares: never the digits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadQuality {
    /// No card, or a field that could not be read or validated.
    Unreadable,
    /// A validated 照合番号B whose least confident digit has this confidence, given on their
    /// own by this many camera frames, one of which, if `second_look`, read it again alike
    /// ([`PinBRead::second_look`]).
    Read {
        min_confidence: f32,
        agreeing_frames: u8,
        second_look: bool,
    },
}

impl ReadQuality {
    /// The quality of one [`crate::CardFrontReader::read`] outcome.
    pub fn of(read: Result<&PinBRead, &OcrError>) -> Self {
        match read {
            Ok(r) => Self::Read {
                min_confidence: r.min_confidence(),
                agreeing_frames: r.agreeing_frames,
                second_look: r.second_look,
            },
            Err(_) => Self::Unreadable,
        }
    }
}

/// Thresholds of the policy. The reader's own search (which outline's read ends it, which read
/// gets a second look: [`crate::CardFrontReader::read`]) uses the default two confidences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubmitPolicy {
    /// Every digit must be at least this confident, in a read that two or more frames gave
    /// on their own, or that one frame gave and read again alike on a second look.
    pub min_confidence: f32,
    /// Every digit must be at least this confident in a read that only one frame gave, with
    /// no second look agreeing: one frame's misread can be sure, and a second frame, or a
    /// second look at the frame's card, agreeing is the evidence a lone read lacks.
    pub lone_frame_confidence: f32,
    /// Tries never spent automatically (the card must have more than this many left).
    pub reserved_tries: u8,
    /// Re-reads (re-place the card, photograph again) before offering PIN or staff.
    pub max_rereads: u8,
    /// Failed VERIFYs after which the kiosk stops trying 照合番号B for this card.
    pub max_failed_verifies: u8,
}

impl Default for SubmitPolicy {
    fn default() -> Self {
        Self {
            min_confidence: SURE_ENOUGH,
            lone_frame_confidence: LONE_SURE,
            reserved_tries: 2,
            max_rereads: 2,
            max_failed_verifies: 1,
        }
    }
}

impl SubmitPolicy {
    /// Whether a read is sure enough to be presented to the card.
    pub fn is_sure(&self, read: ReadQuality) -> bool {
        match read {
            ReadQuality::Unreadable => false,
            ReadQuality::Read {
                min_confidence,
                agreeing_frames,
                second_look,
            } => min_confidence >= self.needed(agreeing_frames, second_look),
        }
    }

    /// The confidence every digit needs in a read that `agreeing_frames` frames gave, one of
    /// them with an agreeing `second_look`.
    pub fn needed(&self, agreeing_frames: u8, second_look: bool) -> f32 {
        if agreeing_frames >= 2 || second_look {
            self.min_confidence
        } else {
            self.lone_frame_confidence
        }
    }
}

/// The card's 照合番号B retry counter, queried with an empty VERIFY before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCounter {
    /// `63Cx`: x tries left (0 = blocked).
    Remaining(u8),
    /// The card gave no count: nothing may be spent blindly.
    NotReported,
}

/// What the kiosk does next; the UI shows each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Present the read 照合番号B to the card.
    Submit,
    /// Ask the patient to re-place the card for another photo.
    Reread(RereadReason),
    /// Offer the PIN or a staff visual check instead.
    OfferPinOrStaff(FallbackReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RereadReason {
    /// No card, or a field could not be read or validated.
    Unreadable,
    /// Some digit was not confident enough.
    LowConfidence,
    /// The card refused the last read.
    VerifyFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackReason {
    /// The card has too few tries left to spend one automatically.
    FewTriesLeft { remaining: u8 },
    /// The card did not report its retry counter.
    CounterUnknown,
    /// The bounded number of re-reads is used up.
    RereadsExhausted,
    /// The card refused 照合番号B as often as the policy allows.
    VerifyFailed,
}

/// One card's 照合番号B attempts under a [`SubmitPolicy`].
#[derive(Debug, Clone)]
pub struct PinBAttempts {
    policy: SubmitPolicy,
    rereads: u8,
    failed_verifies: u8,
}

impl PinBAttempts {
    pub fn new(policy: SubmitPolicy) -> Self {
        Self {
            policy,
            rereads: 0,
            failed_verifies: 0,
        }
    }

    /// Decides on a read, given the card's retry counter.
    pub fn decide(&mut self, read: ReadQuality, counter: RetryCounter) -> Decision {
        let decision = if let Some(fallback) = self.counter_fallback(counter) {
            Decision::OfferPinOrStaff(fallback)
        } else {
            match read {
                ReadQuality::Unreadable => self.reread(RereadReason::Unreadable),
                ReadQuality::Read { .. } if !self.policy.is_sure(read) => {
                    self.reread(RereadReason::LowConfidence)
                }
                ReadQuality::Read { .. } => Decision::Submit,
            }
        };
        tracing::info!(
            ?decision,
            ?counter,
            ?read,
            rereads = self.rereads,
            "照合番号B read decision"
        );
        decision
    }

    /// Decides after the card refused a submitted read; `counter` is what the card reported.
    pub fn verify_failed(&mut self, counter: RetryCounter) -> Decision {
        self.failed_verifies += 1;
        let decision = if let Some(fallback) = self.counter_fallback(counter) {
            Decision::OfferPinOrStaff(fallback)
        } else if self.failed_verifies >= self.policy.max_failed_verifies.saturating_add(1) {
            Decision::OfferPinOrStaff(FallbackReason::VerifyFailed)
        } else {
            self.reread(RereadReason::VerifyFailed)
        };
        tracing::warn!(
            ?decision,
            ?counter,
            failed_verifies = self.failed_verifies,
            "照合番号B refused by the card"
        );
        decision
    }

    fn counter_fallback(&self, counter: RetryCounter) -> Option<FallbackReason> {
        match counter {
            RetryCounter::NotReported => Some(FallbackReason::CounterUnknown),
            RetryCounter::Remaining(n) if n <= self.policy.reserved_tries => {
                Some(FallbackReason::FewTriesLeft { remaining: n })
            }
            RetryCounter::Remaining(_) => None,
        }
    }

    fn reread(&mut self, reason: RereadReason) -> Decision {
        if self.rereads >= self.policy.max_rereads {
            Decision::OfferPinOrStaff(FallbackReason::RereadsExhausted)
        } else {
            self.rereads += 1;
            Decision::Reread(reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldName;

    /// A read that two frames gave.
    fn read(min_confidence: f32) -> ReadQuality {
        ReadQuality::Read {
            min_confidence,
            agreeing_frames: 2,
            second_look: false,
        }
    }

    fn attempts() -> PinBAttempts {
        PinBAttempts::new(SubmitPolicy::default())
    }

    #[test]
    fn a_confident_read_is_submitted_when_tries_are_left() {
        let sample = PinBRead::sample(0.99);
        let read = ReadQuality::of(Ok(&sample));
        assert_eq!(
            read,
            ReadQuality::Read {
                min_confidence: 0.99,
                agreeing_frames: 1,
                second_look: false,
            }
        );
        assert_eq!(
            attempts().decide(read, RetryCounter::Remaining(10)),
            Decision::Submit
        );
        assert_eq!(
            attempts().decide(read, RetryCounter::Remaining(3)),
            Decision::Submit
        );
    }

    #[test]
    fn one_frame_alone_must_be_surer_than_two_agreeing_frames_or_a_second_look() {
        let policy = SubmitPolicy::default();
        let lone = |min_confidence| ReadQuality::Read {
            min_confidence,
            agreeing_frames: 1,
            second_look: false,
        };
        let looked_twice = |min_confidence| ReadQuality::Read {
            min_confidence,
            agreeing_frames: 1,
            second_look: true,
        };
        assert!(policy.is_sure(read(0.95)));
        assert!(!policy.is_sure(read(0.949)));
        assert!(!policy.is_sure(lone(0.95)));
        assert!(!policy.is_sure(lone(0.989)));
        assert!(policy.is_sure(lone(0.99)));
        assert!(policy.is_sure(looked_twice(0.95)));
        assert!(!policy.is_sure(looked_twice(0.949)));
        assert!(!policy.is_sure(ReadQuality::Unreadable));
        assert_eq!(
            attempts().decide(lone(0.98), RetryCounter::Remaining(10)),
            Decision::Reread(RereadReason::LowConfidence)
        );
    }

    #[test]
    fn the_last_two_tries_are_never_spent() {
        for n in 0..=2 {
            assert_eq!(
                attempts().decide(read(1.0), RetryCounter::Remaining(n)),
                Decision::OfferPinOrStaff(FallbackReason::FewTriesLeft { remaining: n })
            );
        }
    }

    #[test]
    fn an_unreported_counter_means_no_try() {
        assert_eq!(
            attempts().decide(read(1.0), RetryCounter::NotReported),
            Decision::OfferPinOrStaff(FallbackReason::CounterUnknown)
        );
    }

    #[test]
    fn uncertain_or_failed_reads_ask_for_a_bounded_number_of_rereads() {
        let mut a = attempts();
        let low = read(0.89);
        let err = ReadQuality::of(Err(&OcrError::FieldUnreadable(FieldName::SecurityCode)));
        assert_eq!(err, ReadQuality::Unreadable);
        let tries = RetryCounter::Remaining(10);
        assert_eq!(
            a.decide(low, tries),
            Decision::Reread(RereadReason::LowConfidence)
        );
        assert_eq!(
            a.decide(err, tries),
            Decision::Reread(RereadReason::Unreadable)
        );
        assert_eq!(
            a.decide(err, tries),
            Decision::OfferPinOrStaff(FallbackReason::RereadsExhausted)
        );
        assert_eq!(
            a.decide(low, tries),
            Decision::OfferPinOrStaff(FallbackReason::RereadsExhausted)
        );
    }

    #[test]
    fn a_refused_read_asks_to_replace_the_card_then_falls_back() {
        let mut a = attempts();
        let read = read(1.0);
        assert_eq!(
            a.decide(read, RetryCounter::Remaining(10)),
            Decision::Submit
        );
        assert_eq!(
            a.verify_failed(RetryCounter::Remaining(9)),
            Decision::Reread(RereadReason::VerifyFailed)
        );
        assert_eq!(a.decide(read, RetryCounter::Remaining(9)), Decision::Submit);
        assert_eq!(
            a.verify_failed(RetryCounter::Remaining(8)),
            Decision::OfferPinOrStaff(FallbackReason::VerifyFailed)
        );
    }

    #[test]
    fn a_refusal_that_leaves_few_tries_falls_back_at_once() {
        let mut a = attempts();
        assert_eq!(
            a.verify_failed(RetryCounter::Remaining(2)),
            Decision::OfferPinOrStaff(FallbackReason::FewTriesLeft { remaining: 2 })
        );
        let mut b = attempts();
        assert_eq!(
            b.verify_failed(RetryCounter::NotReported),
            Decision::OfferPinOrStaff(FallbackReason::CounterUnknown)
        );
    }

    #[test]
    fn a_refusal_after_the_rereads_are_used_up_falls_back() {
        let mut a = PinBAttempts::new(SubmitPolicy {
            max_rereads: 0,
            max_failed_verifies: 3,
            ..SubmitPolicy::default()
        });
        assert_eq!(
            a.verify_failed(RetryCounter::Remaining(9)),
            Decision::OfferPinOrStaff(FallbackReason::RereadsExhausted)
        );
    }
}
