//! Best of N frames: the decision of one attempt from the scores of its usable frames, shared
//! by [`crate::MatchSession::attempt`] and the kiosk's capture loop.

use crate::policy::{Decision, MatchPolicy};

/// The best cosine score over the usable frames of one attempt against one reference.
///
/// The attempt is complete at the first score reaching the threshold or after
/// [`MatchPolicy::frames_per_attempt`] usable frames (at least one). Scores pushed after that
/// still count, e.g. while the caller waits for liveness to finish. Holds scores only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestOfFrames {
    threshold: f32,
    frames: u32,
    used: u32,
    best: Option<f32>,
}

impl BestOfFrames {
    pub fn new(policy: &MatchPolicy) -> Self {
        Self {
            threshold: policy.threshold,
            frames: policy.frames_per_attempt.max(1),
            used: 0,
            best: None,
        }
    }

    /// Counts one usable frame's score; `true` once the attempt is complete.
    pub fn push(&mut self, score: f32) -> bool {
        self.used += 1;
        self.best = Some(self.best.map_or(score, |best| best.max(score)));
        self.is_complete()
    }

    /// A usable frame matched, or the policy's number of usable frames was reached.
    pub fn is_complete(&self) -> bool {
        self.decision() == Decision::Match || self.used >= self.frames
    }

    /// The verdict on the frames pushed so far.
    pub fn decision(&self) -> Decision {
        match self.best {
            None => Decision::NoUsableFrame,
            Some(score) if score >= self.threshold => Decision::Match,
            Some(_) => Decision::NoMatch,
        }
    }

    /// The best score so far (`None` before the first usable frame).
    pub fn best_score(&self) -> Option<f32> {
        self.best
    }

    /// Usable frames pushed so far.
    pub fn frames_used(&self) -> u32 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best_of(frames: u32) -> BestOfFrames {
        BestOfFrames::new(&MatchPolicy {
            threshold: 0.42,
            frames_per_attempt: frames,
            ..MatchPolicy::default()
        })
    }

    #[test]
    fn a_match_completes_the_attempt_at_once() {
        let mut best = best_of(5);
        assert_eq!(best.decision(), Decision::NoUsableFrame);
        assert!(!best.is_complete());
        assert!(!best.push(0.2));
        assert!(best.push(0.42));
        assert_eq!(best.decision(), Decision::Match);
        assert_eq!((best.best_score(), best.frames_used()), (Some(0.42), 2));
    }

    #[test]
    fn without_a_match_the_best_of_n_frames_decides_and_later_frames_still_count() {
        let mut best = best_of(3);
        assert!(!best.push(0.3));
        assert!(!best.push(0.1));
        assert!(best.push(0.25));
        assert_eq!(best.decision(), Decision::NoMatch);
        assert_eq!(best.best_score(), Some(0.3));
        // E.g. while liveness finishes: a later match still counts.
        assert!(best.push(0.5));
        assert_eq!(best.decision(), Decision::Match);
        assert_eq!(best.frames_used(), 4);
    }

    #[test]
    fn zero_frames_per_attempt_means_one() {
        let mut best = best_of(0);
        assert!(!best.is_complete());
        assert!(best.push(0.1));
        assert_eq!(best.decision(), Decision::NoMatch);
    }
}
