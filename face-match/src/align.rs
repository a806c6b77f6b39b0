//! Aligning a detected face to SFace's 112×112 input: a least-squares similarity transform
//! (rotation, uniform scale, translation; never a reflection) from the five YuNet landmarks
//! to the ArcFace template, then a bilinear warp into a zeroizing RGB crop.

use opencv::core::{Mat, Scalar, Size, BORDER_CONSTANT, CV_64F};
use opencv::imgproc;

use crate::detector::DetectedFace;
use crate::frame::{Frame, FrameError, RgbImage};

/// Side of the aligned crop, in pixels.
pub const CROP_SIDE: u32 = 112;

/// Largest root-mean-square distance, in crop pixels, between the aligned landmarks and
/// [`ARCFACE_TEMPLATE`] that is still embedded; beyond it the crop would not be a face aligned
/// as SFace expects.
pub const MAX_LANDMARK_RESIDUAL: f64 = 12.0;

/// Where the five landmarks land in the 112×112 crop (right eye, left eye, nose tip, right
/// and left mouth corners), as used to train ArcFace-style models such as SFace.
pub const ARCFACE_TEMPLATE: [(f64, f64); 5] = [
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
];

/// A 2×3 affine matrix `[[a, -b, tx], [b, a, ty]]`: scale·rotation plus translation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    /// The similarity that maps `from` onto `to` with the least squared error (Umeyama's
    /// estimate restricted to proper rotations; in 2-D it has this closed form). `None` when
    /// every `from` point is the same (no scale can be found).
    pub fn estimate(from: &[(f64, f64); 5], to: &[(f64, f64); 5]) -> Option<Self> {
        let mean = |points: &[(f64, f64); 5]| {
            let (sx, sy) = points
                .iter()
                .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
            (sx / 5.0, sy / 5.0)
        };
        let (fx, fy) = mean(from);
        let (tx, ty) = mean(to);
        let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
        for (&(px, py), &(qx, qy)) in from.iter().zip(to) {
            let (px, py, qx, qy) = (px - fx, py - fy, qx - tx, qy - ty);
            dot += px * qx + py * qy;
            cross += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if norm <= f64::EPSILON || !norm.is_finite() {
            return None;
        }
        let (a, b) = (dot / norm, cross / norm);
        Some(Self {
            a,
            b,
            tx: tx - (a * fx - b * fy),
            ty: ty - (b * fx + a * fy),
        })
    }

    /// Applies the transform to a point.
    pub fn apply(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        )
    }

    /// Root-mean-square distance between `to` and `from` mapped by this transform.
    pub fn rms_residual(&self, from: &[(f64, f64); 5], to: &[(f64, f64); 5]) -> f64 {
        let squares: f64 = from
            .iter()
            .zip(to)
            .map(|(&p, &(qx, qy))| {
                let (x, y) = self.apply(p);
                (x - qx).powi(2) + (y - qy).powi(2)
            })
            .sum();
        (squares / 5.0).sqrt()
    }

    /// Uniform scale factor.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    fn to_mat(self) -> opencv::Result<Mat> {
        let mut mat = Mat::new_rows_cols_with_default(2, 3, CV_64F, Scalar::all(0.0))?;
        let values = [self.a, -self.b, self.tx, self.b, self.a, self.ty];
        for (i, value) in values.into_iter().enumerate() {
            use opencv::core::MatTrait;
            *mat.at_2d_mut::<f64>(i as i32 / 3, i as i32 % 3)? = value;
        }
        Ok(mat)
    }
}

/// Why a face could not be aligned.
#[derive(Debug, thiserror::Error)]
pub enum AlignError {
    /// The landmarks are degenerate (all in one point, or not finite).
    #[error("the face landmarks are degenerate")]
    DegenerateLandmarks,
    /// The five points are too far from a face's layout to align (e.g. a detection on
    /// something else, or landmarks thrown off by a strong turn or occlusion).
    #[error("the face landmarks do not fit a face's layout (residual {residual:.1} px)")]
    ImplausibleLandmarks { residual: f64 },
    #[error(transparent)]
    Image(#[from] FrameError),
}

/// Warps `face` out of `frame` into a 112×112 RGB crop aligned to [`ARCFACE_TEMPLATE`];
/// outside the frame is black. The intermediate BGR crop is zeroized too.
pub fn align_face(frame: &Frame, face: &DetectedFace) -> Result<RgbImage, AlignError> {
    let from = face.landmarks.map(|(x, y)| (f64::from(x), f64::from(y)));
    let transform =
        Similarity::estimate(&from, &ARCFACE_TEMPLATE).ok_or(AlignError::DegenerateLandmarks)?;
    let residual = transform.rms_residual(&from, &ARCFACE_TEMPLATE);
    if residual.is_nan() || residual > MAX_LANDMARK_RESIDUAL {
        return Err(AlignError::ImplausibleLandmarks { residual });
    }
    let matrix = transform.to_mat().map_err(FrameError::from)?;
    let src = frame.as_mat()?;
    let mut bgr = Frame::zeroed(CROP_SIDE, CROP_SIDE)?;
    let side = CROP_SIDE as i32;
    bgr.write_region(bgr.full_region(), |dst| {
        imgproc::warp_affine(
            &src,
            dst,
            &matrix,
            Size::new(side, side),
            imgproc::INTER_LINEAR,
            BORDER_CONSTANT,
            Scalar::all(0.0),
        )
    })?;
    Ok(bgr.to_rgb()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn recovers_a_known_similarity_exactly() {
        let truth = Similarity {
            a: 0.8 * 0.3f64.cos(),
            b: 0.8 * 0.3f64.sin(),
            tx: 12.0,
            ty: -7.5,
        };
        let from = [
            (10.0, 20.0),
            (50.0, 22.0),
            (30.0, 40.0),
            (15.0, 60.0),
            (47.0, 61.0),
        ];
        let to = from.map(|p| truth.apply(p));
        let found = Similarity::estimate(&from, &to).unwrap();
        for (p, q) in from.iter().zip(&to) {
            assert!(close(found.apply(*p), *q), "{found:?}");
        }
        assert!((found.scale() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn never_reflects_a_mirrored_face() {
        // The template mirrored left-right: a reflection would fit exactly; a similarity cannot.
        let mirrored = ARCFACE_TEMPLATE.map(|(x, y)| (112.0 - x, y));
        let found = Similarity::estimate(&mirrored, &ARCFACE_TEMPLATE).unwrap();
        // Determinant a² + b² is always positive: orientation is kept.
        assert!(found.a * found.a + found.b * found.b > 0.0);
        let worst = mirrored
            .iter()
            .zip(&ARCFACE_TEMPLATE)
            .map(|(p, q)| {
                let r = found.apply(*p);
                (r.0 - q.0).hypot(r.1 - q.1)
            })
            .fold(0.0, f64::max);
        assert!(worst > 5.0, "a reflection slipped through: error {worst}");
    }

    #[test]
    fn landmarks_far_from_a_face_layout_are_refused() {
        let frame = Frame::from_raw(112, 112, 336, Zeroizing::new(vec![90; 112 * 336])).unwrap();
        let face = |nose: (f32, f32)| {
            let mut landmarks = ARCFACE_TEMPLATE.map(|(x, y)| (x as f32, y as f32));
            landmarks[2] = nose;
            DetectedFace {
                bbox: (20.0, 20.0, 72.0, 90.0),
                landmarks,
                score: 0.9,
            }
        };
        // A nose a little off (a turned head) still aligns; one below the chin does not.
        assert!(align_face(&frame, &face((66.0, 72.0))).is_ok());
        let err = align_face(&frame, &face((56.0, 150.0))).err();
        assert!(
            matches!(err, Some(AlignError::ImplausibleLandmarks { residual }) if residual > MAX_LANDMARK_RESIDUAL),
            "{err:?}"
        );
    }

    #[test]
    fn degenerate_landmarks_are_refused() {
        assert_eq!(
            Similarity::estimate(&[(3.0, 3.0); 5], &ARCFACE_TEMPLATE),
            None
        );
        let frame = Frame::zeroed(64, 64).unwrap();
        let face = DetectedFace {
            bbox: (0.0, 0.0, 10.0, 10.0),
            landmarks: [(5.0, 5.0); 5],
            score: 0.9,
        };
        assert!(matches!(
            align_face(&frame, &face),
            Err(AlignError::DegenerateLandmarks)
        ));
    }

    #[test]
    fn landmarks_at_the_template_give_the_frame_itself_in_rgb() {
        // A 112×112 BGR frame whose pixel (x, y) is (x, y, 7): identity warp, channels swapped.
        let mut pixels = Vec::with_capacity(112 * 112 * 3);
        for y in 0..112u8 {
            for x in 0..112u8 {
                pixels.extend([x, y, 7]);
            }
        }
        let frame = Frame::from_raw(112, 112, 336, Zeroizing::new(pixels)).unwrap();
        let face = DetectedFace {
            bbox: (0.0, 0.0, 112.0, 112.0),
            landmarks: ARCFACE_TEMPLATE.map(|(x, y)| (x as f32, y as f32)),
            score: 1.0,
        };
        let crop = align_face(&frame, &face).unwrap();
        assert_eq!((crop.width(), crop.height()), (112, 112));
        let row = crop.row(40).unwrap();
        for x in [0usize, 55, 111] {
            let px = &row[x * 3..x * 3 + 3];
            assert!(px[0] == 7 && px[2].abs_diff(x as u8) <= 1 && px[1].abs_diff(40) <= 1);
        }
    }

    #[test]
    fn outside_the_frame_is_black() {
        let frame = Frame::from_raw(20, 20, 60, Zeroizing::new(vec![200; 1200])).unwrap();
        // Identity warp of a 20×20 frame: most of the 112×112 crop lies outside it.
        let face = DetectedFace {
            bbox: (0.0, 0.0, 20.0, 20.0),
            landmarks: ARCFACE_TEMPLATE.map(|(x, y)| (x as f32, y as f32)),
            score: 1.0,
        };
        let crop = align_face(&frame, &face).unwrap();
        assert!(crop.row(111).unwrap().iter().all(|&v| v == 0));
        assert!(crop.row(0).unwrap()[..3].iter().all(|&v| v == 200));
    }
}
