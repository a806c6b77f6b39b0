//! Seeded degraded copies of evaluation images, of the kinds that fail at a reception desk:
//! in-plane rotation, dim and washed-out light, gamma, sensor noise, blur, downscaling and heavy
//! JPEG, with parameters drawn from a seed. For evaluation images (public faces), not patients.

use opencv::core::{self, Point2f, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{acquire, load, report, Acquired, EvalError, EvalReport, FtaCause, Sample, Scores};
use crate::frame::{Frame, FrameError};
use crate::matcher::FaceMatcher;
use crate::scrubbed_mat::ScrubbedMat;

/// One kind of degradation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Degradation {
    /// Turned in the image plane by 20–50° either way.
    Rotation,
    /// Brightness × 0.12–0.3.
    Dim,
    /// Washed out: 0.35–0.5 of the contrast on a light grey of 150–190.
    Bright,
    /// Gamma 0.35–0.5 or 2.2–3.
    Gamma,
    /// Gaussian noise with σ 12–25 grey levels.
    Noise,
    /// Gaussian blur with σ 1.5–3 px.
    Blur,
    /// Scaled down to 0.25–0.4 of its size.
    Downscale,
    /// JPEG at quality 4–10.
    Jpeg,
}

impl Degradation {
    pub const ALL: [Self; 8] = [
        Self::Rotation,
        Self::Dim,
        Self::Bright,
        Self::Gamma,
        Self::Noise,
        Self::Blur,
        Self::Downscale,
        Self::Jpeg,
    ];

    /// `frame` degraded this way, with parameters drawn from `rng`.
    pub fn apply(self, frame: &Frame, rng: &mut impl RngCore) -> Result<Frame, FrameError> {
        Ok(self.apply_mapped(frame, rng)?.0)
    }

    /// As [`Degradation::apply`], with the affine map `[a, b, c, d, e, f]` taking a point
    /// (x, y) of `frame` to (ax + by + c, dx + ey + f) in the degraded picture.
    pub fn apply_mapped(
        self,
        frame: &Frame,
        rng: &mut impl RngCore,
    ) -> Result<(Frame, [f64; 6]), FrameError> {
        let (w, h) = (frame.width(), frame.height());
        let src = frame.as_mat()?;
        let mut out = ScrubbedMat::default();
        let mut map = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        match self {
            Self::Rotation => {
                let sign = if rng.next_u32().is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                };
                let centre = Point2f::new(w as f32 / 2.0, h as f32 / 2.0);
                let m =
                    imgproc::get_rotation_matrix_2d(centre, sign * between(rng, 20.0, 50.0), 1.0)?;
                imgproc::warp_affine(
                    &src,
                    out.mat_mut(),
                    &m,
                    Size::new(w as i32, h as i32),
                    imgproc::INTER_LINEAR,
                    core::BORDER_REPLICATE,
                    Scalar::all(0.0),
                )?;
                for (i, value) in map.iter_mut().enumerate() {
                    *value = *m.at_2d::<f64>(i as i32 / 3, i as i32 % 3)?;
                }
            }
            Self::Dim => src.convert_to(out.mat_mut(), -1, between(rng, 0.12, 0.3), 0.0)?,
            Self::Bright => {
                let alpha = between(rng, 0.35, 0.5);
                let grey = between(rng, 150.0, 190.0);
                src.convert_to(out.mat_mut(), -1, alpha, grey * (1.0 - alpha))?;
            }
            Self::Gamma => {
                let gamma = if rng.next_u32().is_multiple_of(2) {
                    between(rng, 0.35, 0.5)
                } else {
                    between(rng, 2.2, 3.0)
                };
                let table: Vec<u8> = (0..=255u8)
                    .map(|v| (255.0 * (f64::from(v) / 255.0).powf(gamma)).round() as u8)
                    .collect();
                core::lut(&src, &Mat::from_slice(&table)?, out.mat_mut())?;
            }
            Self::Noise => {
                let mut noise = ScrubbedMat::from(Mat::new_rows_cols_with_default(
                    h as i32,
                    w as i32,
                    core::CV_16SC3,
                    Scalar::all(0.0),
                )?);
                let sigma = between(rng, 12.0, 25.0);
                let mut cv_rng = core::RNG::new(u64::from(rng.next_u32()))?;
                cv_rng.fill(
                    noise.mat_mut(),
                    core::RNG_NORMAL,
                    &Scalar::all(0.0),
                    &Scalar::all(sigma),
                    false,
                )?;
                let mut wide = ScrubbedMat::default();
                src.convert_to(wide.mat_mut(), core::CV_16SC3, 1.0, 0.0)?;
                let mut sum = ScrubbedMat::default();
                core::add(
                    wide.mat(),
                    noise.mat(),
                    sum.mat_mut(),
                    &core::no_array(),
                    -1,
                )?;
                sum.mat()
                    .convert_to(out.mat_mut(), core::CV_8UC3, 1.0, 0.0)?;
            }
            Self::Blur => {
                let sigma = between(rng, 1.5, 3.0);
                imgproc::gaussian_blur(
                    &src,
                    out.mat_mut(),
                    Size::default(),
                    sigma,
                    sigma,
                    core::BORDER_REPLICATE,
                )?;
            }
            Self::Downscale => {
                let s = between(rng, 0.25, 0.4);
                imgproc::resize(
                    &src,
                    out.mat_mut(),
                    Size::default(),
                    s,
                    s,
                    imgproc::INTER_AREA,
                )?;
                let size = out.mat().size()?;
                map[0] = f64::from(size.width) / f64::from(w);
                map[4] = f64::from(size.height) / f64::from(h);
                // Pixel centres: x + 0.5 scales to x' + 0.5.
                (map[2], map[5]) = (0.5 * map[0] - 0.5, 0.5 * map[4] - 0.5);
            }
            Self::Jpeg => {
                let quality = 4 + (rng.next_u32() % 7) as u8;
                return Ok((crate::jpeg_round_trip(frame, quality)?, map));
            }
        }
        Ok((Frame::from_mat(out.mat())?, map))
    }
}

/// Failures to acquire of one degradation kind (`None`: the clean images).
#[derive(Debug, Clone, Serialize)]
pub struct KindFta {
    pub kind: Option<Degradation>,
    pub tried: usize,
    pub no_face: usize,
    pub bad_landmarks: usize,
    /// Equal error rate of the pairs with at least one picture of this kind (the other of
    /// any kind); `None` without both genuine and impostor pairs.
    pub eer: Option<f64>,
}

/// Accuracy on a degraded copy of an evaluation set, with the failures to acquire by kind
/// and cause.
#[derive(Debug, Clone, Serialize)]
pub struct DegradedReport {
    /// `None`: the images as they are.
    pub seed: Option<u64>,
    pub report: EvalReport,
    pub by_kind: Vec<KindFta>,
}

/// Degrades sample `i` with kind `i mod 8` and parameters from `seed` (or not at all when
/// `seed` is `None`), embeds the largest face of each, and scores every pair.
pub fn degraded_report(
    matcher: &mut FaceMatcher,
    samples: &[Sample],
    seed: Option<u64>,
) -> Result<DegradedReport, EvalError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.unwrap_or(0));
    let kinds: Vec<Option<Degradation>> = match seed {
        Some(_) => Degradation::ALL.map(Some).to_vec(),
        None => vec![None],
    };
    let mut by_kind: Vec<KindFta> = kinds
        .iter()
        .map(|&kind| KindFta {
            kind,
            tried: 0,
            no_face: 0,
            bad_landmarks: 0,
            eer: None,
        })
        .collect();
    let mut probes = Vec::with_capacity(samples.len());
    for (i, sample) in samples.iter().enumerate() {
        let clean = load(&sample.path)?;
        let tally = &mut by_kind[i % kinds.len()];
        let frame = match tally.kind {
            Some(kind) => kind.apply(&clean, &mut rng)?,
            None => clean,
        };
        tally.tried += 1;
        let acquired = acquire(matcher, &frame)?;
        match acquired {
            Err(FtaCause::LandmarksRefused) => tally.bad_landmarks += 1,
            Err(_) => tally.no_face += 1,
            Ok(_) => {}
        }
        probes.push(acquired);
    }
    for (k, tally) in by_kind.iter_mut().enumerate() {
        tally.eer = kind_eer(samples, &probes, |i| i % kinds.len() == k);
    }
    let threshold = matcher.policy().threshold;
    Ok(DegradedReport {
        seed,
        report: report(samples, &probes, None, threshold)?,
        by_kind,
    })
}

/// The equal error rate of the pairs (each once) with at least one picture `of_kind`.
pub(crate) fn kind_eer(
    samples: &[Sample],
    probes: &[Acquired],
    of_kind: impl Fn(usize) -> bool,
) -> Option<f64> {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, a) in probes.iter().enumerate() {
        for (j, b) in probes.iter().enumerate().skip(i + 1) {
            if let (true, Ok(a), Ok(b)) = (of_kind(i) || of_kind(j), a, b) {
                let scores = if samples[i].identity == samples[j].identity {
                    &mut genuine
                } else {
                    &mut impostor
                };
                scores.push(a.cosine(b));
            }
        }
    }
    Scores::new(genuine, impostor).map(|scores| scores.error_rates(&[]).eer)
}

fn between(rng: &mut impl RngCore, low: f64, high: f64) -> f64 {
    low + (high - low) * f64::from(rng.next_u32()) / f64::from(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn mean_grey(frame: &Frame) -> f64 {
        let mat = frame.as_mat().unwrap();
        core::mean(&mat, &core::no_array()).unwrap()[0]
    }

    #[test]
    fn each_kind_changes_the_picture_as_named_and_repeats_with_the_seed() {
        let mut bytes = Vec::new();
        for y in 0..60u32 {
            for x in 0..80u32 {
                let v = ((x * 3 + y * 2) % 200 + 30) as u8;
                bytes.extend([v, v, v]);
            }
        }
        let frame = Frame::from_raw(80, 60, 240, bytes.into()).unwrap();
        let base = mean_grey(&frame);
        let run = |kind: Degradation, seed| {
            kind.apply(&frame, &mut ChaCha8Rng::seed_from_u64(seed))
                .unwrap()
        };
        for kind in Degradation::ALL {
            let a = run(kind, 1);
            let again = run(kind, 1);
            assert_eq!(
                a.as_mat().unwrap().data_bytes().unwrap(),
                again.as_mat().unwrap().data_bytes().unwrap(),
                "{kind:?}"
            );
            let same = a.width() == 80
                && a.as_mat().unwrap().data_bytes().unwrap()
                    == frame.as_mat().unwrap().data_bytes().unwrap();
            assert!(!same, "{kind:?} left the picture as it was");
        }
        assert!(mean_grey(&run(Degradation::Dim, 1)) < 0.3 * base + 1.0);
        assert!(mean_grey(&run(Degradation::Bright, 1)) > base);
        let small = run(Degradation::Downscale, 1);
        assert!(small.width() <= 32 && small.height() <= 24);
    }
}
