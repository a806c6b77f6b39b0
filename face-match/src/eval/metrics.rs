//! Verification error rates from genuine and impostor scores (accept when score ≥ threshold).

use serde::Serialize;

/// The FMR targets reported by default.
pub const FMR_TARGETS: [f64; 3] = [1e-2, 1e-3, 1e-4];

/// Error rates at one operating point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// The FMR asked for (`None` for a threshold given directly).
    pub target_fmr: Option<f64>,
    pub threshold: f32,
    /// False match rate: impostor pairs scoring at or above the threshold.
    pub fmr: f64,
    /// False non-match rate: genuine pairs scoring below the threshold.
    pub fnmr: f64,
}

/// Equal error rate and the operating points at the FMR targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRates {
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    /// Where FMR and FNMR are closest, their mean.
    pub eer: f64,
    pub eer_threshold: f32,
    pub at_fmr: Vec<OperatingPoint>,
}

/// Sorted scores of one verification experiment.
#[derive(Debug, Clone)]
pub struct Scores {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
}

impl Scores {
    /// Takes the scores (NaNs are dropped); `None` if either side is empty.
    pub fn new(mut genuine: Vec<f32>, mut impostor: Vec<f32>) -> Option<Self> {
        genuine.retain(|s| !s.is_nan());
        impostor.retain(|s| !s.is_nan());
        if genuine.is_empty() || impostor.is_empty() {
            return None;
        }
        genuine.sort_by(f32::total_cmp);
        impostor.sort_by(f32::total_cmp);
        Some(Self { genuine, impostor })
    }

    /// FMR and FNMR when accepting scores ≥ `threshold`.
    pub fn at(&self, threshold: f32) -> OperatingPoint {
        let below = |sorted: &[f32]| sorted.partition_point(|&s| s < threshold);
        OperatingPoint {
            target_fmr: None,
            threshold,
            fmr: (self.impostor.len() - below(&self.impostor)) as f64 / self.impostor.len() as f64,
            fnmr: below(&self.genuine) as f64 / self.genuine.len() as f64,
        }
    }

    /// The lowest threshold whose FMR is at most `target`, and the rates there.
    pub fn at_fmr(&self, target: f64) -> OperatingPoint {
        let n = self.impostor.len();
        // At most `allowed` impostors may reach the threshold: put it just above the next one.
        let allowed = (target * n as f64).floor() as usize;
        let threshold = if allowed >= n {
            self.impostor[0].min(self.genuine[0])
        } else {
            self.impostor[n - 1 - allowed].next_up()
        };
        OperatingPoint {
            target_fmr: Some(target),
            ..self.at(threshold)
        }
    }

    /// The equal error rate: over every score as a threshold, the mean of FMR and FNMR where
    /// they are closest.
    pub fn error_rates(&self, targets: &[f64]) -> ErrorRates {
        let best = self
            .genuine
            .iter()
            .chain(&self.impostor)
            .map(|&t| self.at(t))
            .min_by(|a, b| (a.fmr - a.fnmr).abs().total_cmp(&(b.fmr - b.fnmr).abs()))
            .unwrap_or(self.at(0.0));
        ErrorRates {
            genuine_pairs: self.genuine.len(),
            impostor_pairs: self.impostor.len(),
            eer: (best.fmr + best.fnmr) / 2.0,
            eer_threshold: best.threshold,
            at_fmr: targets.iter().map(|&t| self.at_fmr(t)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_scores_have_zero_eer() {
        let scores = Scores::new(vec![0.8, 0.9, 0.7], vec![0.1, 0.2, 0.3, 0.0]).unwrap();
        let rates = scores.error_rates(&FMR_TARGETS);
        assert_eq!(rates.eer, 0.0);
        assert!(rates.eer_threshold > 0.3 && rates.eer_threshold <= 0.7);
        assert_eq!((rates.genuine_pairs, rates.impostor_pairs), (3, 4));
        for point in rates.at_fmr {
            assert_eq!((point.fmr, point.fnmr), (0.0, 0.0));
        }
    }

    #[test]
    fn rates_at_a_threshold_count_ties_as_accepted() {
        let scores = Scores::new(vec![0.2, 0.5, 0.6, 0.9], vec![0.1, 0.5, 0.3, 0.4]).unwrap();
        let p = scores.at(0.5);
        assert_eq!((p.fmr, p.fnmr), (0.25, 0.25));
        let rates = scores.error_rates(&[]);
        assert_eq!(rates.eer, 0.25);
    }

    #[test]
    fn threshold_at_fmr_lets_through_exactly_the_allowed_impostors() {
        // 1000 impostors 0.000..0.999, genuines all high.
        let impostor: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let scores = Scores::new(vec![0.5, 2.0], impostor).unwrap();
        let p = scores.at_fmr(1e-2);
        assert_eq!(p.fmr, 0.01);
        assert!(p.threshold > 0.989 && p.threshold <= 0.990 + 1e-6, "{p:?}");
        assert_eq!(p.fnmr, 0.5);
        let strict = scores.at_fmr(1e-4);
        assert_eq!(strict.fmr, 0.0);
        assert!(strict.threshold > 0.999);
    }

    #[test]
    fn empty_sides_are_refused_and_nans_dropped() {
        assert!(Scores::new(vec![], vec![0.1]).is_none());
        assert!(Scores::new(vec![f32::NAN], vec![0.1]).is_none());
        assert!(Scores::new(vec![0.5, f32::NAN], vec![0.1]).is_some());
    }
}
