//! Combining reads of successive camera frames of one card: each digit is voted on by every
//! frame that gave a validated read, weighted by its confidence.

use crate::date::Date;
use crate::error::OcrError;
use crate::policy::{ReadQuality, SubmitPolicy};
use crate::read::{CardFrontReader, PinBRead};
use crate::scrub::ScrubbedMat;
use opencv::core::Mat;
use zeroize::Zeroizing;

/// Most frames read for one card.
pub const MAX_FRAMES: usize = 5;

/// The reads of one card's frames so far.
#[derive(Default)]
pub struct FrameVotes {
    reads: Vec<PinBRead>,
    frames: usize,
    last_error: Option<OcrError>,
    /// A frame showed a second card beside the one read, or a card's back: the whole read is
    /// rejected as that frame was.
    refused: Option<OcrError>,
}

impl FrameVotes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one frame's read (or rejection).
    pub fn add(&mut self, read: Result<PinBRead, OcrError>) {
        self.frames += 1;
        match read {
            Ok(r) => self.reads.push(r),
            Err(e @ (OcrError::SeveralCards | OcrError::CardBack)) => {
                self.refused.get_or_insert(e);
            }
            Err(e) => self.last_error = Some(e),
        }
    }

    /// Frames added so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Whether the combined read is sure enough under `policy` to stop reading frames.
    pub fn is_sure(&self, policy: &SubmitPolicy) -> bool {
        policy.is_sure(ReadQuality::of(self.combined().as_ref()))
    }

    /// Whether no further frame is needed: the combined read is sure under `policy`, or a
    /// frame showed more than one card or a card's back (no later frame can make the read
    /// sure, and a back is not looked at again).
    pub fn is_finished(&self, policy: &SubmitPolicy) -> bool {
        self.refused.is_some() || self.is_sure(policy)
    }

    /// The combined read. Per digit, each frame is taken as independent evidence: it read the
    /// right value with its confidence `c`, else any of the nine others alike, so value `v` has
    /// likelihood `Π c` over the frames that read `v` times `Π (1 − c) / 9` over the others; the
    /// winning value's share of the likelihood of all ten values, capped at the highest `c` of
    /// the frames that read it, is the digit's confidence. The cap: a fixed camera's successive
    /// frames are correlated, so agreement picks the value but never makes it surer than its
    /// surest frame. The combined digits must equal one frame's validated read (the dates of a
    /// mixture are not validated), otherwise the frames disagree and the read is rejected as
    /// unreadable; the frames whose reads equal it are its [`PinBRead::agreeing_frames`], and
    /// it had a [`PinBRead::second_look`] if one of them had. If
    /// any frame showed a second card, the read is rejected as [`OcrError::SeveralCards`] (the
    /// card in the reader may be either); if one showed a card's back, as
    /// [`OcrError::CardBack`]; the first such frame decides.
    pub fn combined(&self) -> Result<PinBRead, OcrError> {
        if let Some(e) = &self.refused {
            return Err(e.clone());
        }
        if self.reads.is_empty() {
            return Err(self.last_error.clone().unwrap_or(OcrError::CardNotFound));
        }
        let mut digits = Zeroizing::new([b'0'; 14]);
        let mut confidence = [0.0f32; 14];
        for p in 0..14 {
            let likelihood = |v: u8| -> f64 {
                self.reads
                    .iter()
                    .map(|r| {
                        let c = f64::from(r.confidence[p]).clamp(1e-6, 1.0 - 1e-6);
                        if r.digits()[p] == v {
                            c
                        } else {
                            (1.0 - c) / 9.0
                        }
                    })
                    .product()
            };
            let all: Vec<f64> = (b'0'..=b'9').map(likelihood).collect();
            let total: f64 = all.iter().sum();
            let (best, &l) = all
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("ten values");
            let value = b'0' + best as u8;
            let surest = self
                .reads
                .iter()
                .filter(|r| r.digits()[p] == value)
                .map(|r| r.confidence[p])
                .fold(0.0, f32::max);
            digits[p] = value;
            confidence[p] = ((l / total) as f32).min(surest);
        }
        let agreeing: Vec<&PinBRead> = self
            .reads
            .iter()
            .filter(|r| r.digits() == &*digits)
            .collect();
        let source = agreeing.first().ok_or(OcrError::FramesDisagree)?;
        let (calendar, era) = (source.calendar, source.era);
        let agreeing_frames = u8::try_from(agreeing.len()).unwrap_or(u8::MAX);
        let mut read = PinBRead::new(digits, confidence, calendar, era, agreeing_frames);
        read.second_look = agreeing.iter().any(|r| r.second_look);
        Ok(read)
    }
}

/// Reads successive frames of one card until the combined read is sure under `policy`, a frame
/// shows more than one card or a card's back, or [`MAX_FRAMES`] frames are read; returns the
/// combined read. Each frame's pixels are zeroed once read.
pub fn read_card_front_frames(
    reader: &CardFrontReader,
    frames: impl IntoIterator<Item = Mat>,
    today: Date,
    policy: &SubmitPolicy,
) -> Result<PinBRead, OcrError> {
    let mut votes = FrameVotes::new();
    for frame in frames.into_iter().take(MAX_FRAMES) {
        let frame = ScrubbedMat::from(frame);
        votes.add(reader.read(&frame, today));
        if votes.is_finished(policy) {
            break;
        }
    }
    votes.combined()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Calendar;

    fn read(digits: &[u8; 14], confidence: f32) -> PinBRead {
        PinBRead::new(
            Zeroizing::new(*digits),
            [confidence; 14],
            Calendar::Gregorian,
            None,
            1,
        )
    }

    #[test]
    fn agreeing_frames_keep_the_confidence_and_rejections_are_kept() {
        let mut votes = FrameVotes::new();
        assert_eq!(votes.combined().unwrap_err(), OcrError::CardNotFound);
        votes.add(Err(OcrError::FieldUnreadable(crate::FieldName::Expiry)));
        assert!(matches!(
            votes.combined(),
            Err(OcrError::FieldUnreadable(_))
        ));
        votes.add(Ok(read(b"55021720352285", 0.8)));
        let one = votes.combined().unwrap();
        assert_eq!(one.digits(), b"55021720352285");
        assert!((one.min_confidence() - 0.8).abs() < 1e-6);
        assert_eq!(one.agreeing_frames, 1);
        // Independent evidence would give 0.8² / (0.8² + 9 · (0.2 / 9)²) = 0.993; capped at 0.8.
        votes.add(Ok(read(b"55021720352285", 0.8)));
        assert_eq!(votes.combined().unwrap().min_confidence(), 0.8);
        assert_eq!(votes.combined().unwrap().agreeing_frames, 2);
        assert_eq!(votes.frames(), 3);
    }

    #[test]
    fn a_lone_sure_frame_is_not_enough_until_a_second_one_agrees() {
        let policy = SubmitPolicy::default();
        let mut votes = FrameVotes::new();
        votes.add(Ok(read(b"55021720352285", 0.97)));
        assert!(
            !votes.is_sure(&policy),
            "one frame at 0.97 is not sure alone"
        );
        votes.add(Ok(read(b"55021720352286", 0.97)));
        assert!(
            !votes.is_sure(&policy),
            "two frames that differ are not sure"
        );
        votes.add(Ok(read(b"55021720352285", 0.96)));
        assert!(votes.is_sure(&policy), "two of three agree, each sure");
        let mut votes = FrameVotes::new();
        votes.add(Ok(read(b"55021720352285", 0.995)));
        assert!(
            votes.is_sure(&policy),
            "one frame surer than the lone-frame bar"
        );
    }

    #[test]
    fn a_second_look_counts_for_the_read_it_agreed_with_only() {
        let policy = SubmitPolicy::default();
        let looked_twice = |digits: &[u8; 14], confidence| {
            let mut r = read(digits, confidence);
            r.second_look = true;
            r
        };
        let mut votes = FrameVotes::new();
        votes.add(Ok(looked_twice(b"55021720352285", 0.96)));
        assert!(votes.combined().unwrap().second_look);
        assert!(votes.is_sure(&policy), "one frame and its second look");
        let mut votes = FrameVotes::new();
        votes.add(Ok(looked_twice(b"55021720352285", 0.94)));
        assert!(!votes.is_sure(&policy), "a second look needs 0.95 too");
        let mut votes = FrameVotes::new();
        votes.add(Ok(looked_twice(b"55021720352285", 0.96)));
        votes.add(Ok(read(b"55021720352286", 0.999)));
        let combined = votes.combined().unwrap();
        assert_eq!(combined.digits(), b"55021720352286");
        assert!(!combined.second_look, "the other frame's read had none");
        assert!(!votes.is_sure(&policy));
    }

    #[test]
    fn a_dissenting_frame_lowers_the_confidence_of_its_digits() {
        let mut votes = FrameVotes::new();
        votes.add(Ok(read(b"55021720352285", 0.9)));
        votes.add(Ok(read(b"55021720352286", 0.6)));
        let combined = votes.combined().unwrap();
        assert_eq!(combined.digits(), b"55021720352285");
        assert_eq!(
            combined.agreeing_frames, 1,
            "the dissenting frame does not agree"
        );
        // 0.9 · 0.4 / (0.9 · 0.4 + 0.6 · 0.1 + 8 · 0.1 · 0.4 / 9), below the surest frame's 0.9.
        assert!((combined.confidence[13] - 0.790_244).abs() < 1e-5);
        assert_eq!(combined.confidence[0], 0.9);
    }

    #[test]
    fn agreement_never_exceeds_the_surest_frame_and_a_sure_frame_still_outvotes() {
        // Below 0.1 a frame's value is less likely than each of the others: agreement with such
        // a frame stays below the cap.
        let grid = [0.08f32, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99, 0.999];
        for a in &grid[1..] {
            for b in grid {
                let mut votes = FrameVotes::new();
                votes.add(Ok(read(b"55021720352285", *a)));
                votes.add(Ok(read(b"55021720352285", b)));
                let c = votes.combined().unwrap().min_confidence();
                if b < 0.1 {
                    assert!(c < *a, "{a} and {b} gave {c}");
                } else {
                    assert_eq!(c, a.max(b), "{a} and {b}");
                }
            }
        }
        let mut votes = FrameVotes::new();
        votes.add(Ok(read(b"55021720352286", 0.6)));
        votes.add(Ok(read(b"55021720352285", 0.99)));
        let combined = votes.combined().unwrap();
        assert_eq!(combined.digits(), b"55021720352285");
        // 0.99 · 0.4 / (0.99 · 0.4 + 0.6 · 0.01 + 8 · 0.01 · 0.4 / 9)
        assert!((combined.confidence[13] - 0.976_438).abs() < 1e-5);
        assert_eq!(combined.confidence[0], 0.99);
    }

    #[test]
    fn two_sure_frames_outvote_an_unsure_wrong_one() {
        let mut votes = FrameVotes::new();
        let mut wrong = read(b"55021720352286", 0.99);
        wrong.confidence[13] = 0.73;
        votes.add(Ok(wrong));
        assert!(votes.combined().unwrap().min_confidence() < 0.95);
        votes.add(Ok(read(b"55021720352285", 0.998)));
        votes.add(Ok(read(b"55021720352285", 0.986)));
        let combined = votes.combined().unwrap();
        assert_eq!(combined.digits(), b"55021720352285");
        assert!(combined.min_confidence() > 0.95, "{combined:?}");
    }

    #[test]
    fn sure_frames_that_disagree_leave_the_digit_unsure() {
        let mut votes = FrameVotes::new();
        votes.add(Ok(read(b"55021720352285", 0.97)));
        votes.add(Ok(read(b"55021720352286", 0.97)));
        assert!(votes.combined().unwrap().confidence[13] <= 0.5);
    }

    #[test]
    fn a_mixture_of_two_frames_is_no_read() {
        let mut votes = FrameVotes::new();
        // Each frame wins the digit the other read less surely: the mixture was never validated.
        let mut a = read(b"55021720352285", 0.9);
        a.confidence[13] = 0.5;
        let mut b = read(b"65021720352286", 0.9);
        b.confidence[0] = 0.5;
        votes.add(Ok(a));
        votes.add(Ok(b));
        assert_eq!(votes.combined().unwrap_err(), OcrError::FramesDisagree);
    }

    #[test]
    fn a_frame_showing_two_cards_rejects_the_whole_read() {
        let mut votes = FrameVotes::new();
        let policy = SubmitPolicy::default();
        votes.add(Ok(read(b"55021720352285", 0.98)));
        assert!(!votes.is_finished(&policy));
        votes.add(Err(OcrError::SeveralCards));
        assert!(votes.is_finished(&policy));
        votes.add(Ok(read(b"55021720352285", 0.999)));
        assert!(!votes.is_sure(&policy));
        assert_eq!(votes.combined().unwrap_err(), OcrError::SeveralCards);
    }

    #[test]
    fn a_frame_showing_a_card_back_ends_the_read_and_is_what_the_read_says() {
        let policy = SubmitPolicy::default();
        let mut votes = FrameVotes::new();
        votes.add(Err(OcrError::FieldUnreadable(crate::FieldName::Expiry)));
        assert!(!votes.is_finished(&policy));
        votes.add(Err(OcrError::CardBack));
        assert!(
            votes.is_finished(&policy),
            "no further frame of a back is read"
        );
        votes.add(Err(OcrError::SeveralCards));
        votes.add(Ok(read(b"55021720352285", 0.999)));
        assert_eq!(
            votes.combined().unwrap_err(),
            OcrError::CardBack,
            "the first refusal decides"
        );
    }
}
