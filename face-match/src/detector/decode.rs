//! Turning YuNet 2023mar's per-stride output heads into faces in frame coordinates.

use super::letterbox::Letterbox;
use super::DetectedFace;
use crate::error::FaceError;

/// The feature-map strides of YuNet's three heads.
pub(crate) const STRIDES: [u32; 3] = [8, 16, 32];

/// One stride's outputs, each flattened from `[1, N, k]` with N = (H/stride)·(W/stride)
/// anchors of the H×W input in row-major order (index = row·cols + col).
pub(crate) struct Head<'a> {
    pub(crate) stride: u32,
    /// `cls_<stride>`: one class score per anchor.
    pub(crate) cls: &'a [f32],
    /// `obj_<stride>`: one objectness score per anchor.
    pub(crate) obj: &'a [f32],
    /// `bbox_<stride>`: dx, dy, log w, log h per anchor.
    pub(crate) bbox: &'a [f32],
    /// `kps_<stride>`: five (dx, dy) landmark offsets per anchor.
    pub(crate) kps: &'a [f32],
}

impl Head<'_> {
    /// Appends every anchor scoring at least `threshold` to `faces`, mapped to frame
    /// coordinates through `letterbox`. Fails if a tensor has the wrong length.
    pub(crate) fn decode_into(
        &self,
        threshold: f32,
        letterbox: Letterbox,
        faces: &mut Vec<DetectedFace>,
    ) -> Result<(), FaceError> {
        let cols = (letterbox.input_width / self.stride) as usize;
        let anchors = cols * (letterbox.input_height / self.stride) as usize;
        for (name, values, per_anchor) in [
            ("cls", self.cls, 1),
            ("obj", self.obj, 1),
            ("bbox", self.bbox, 4),
            ("kps", self.kps, 10),
        ] {
            if values.len() != anchors * per_anchor {
                return Err(FaceError::Inference(format!(
                    "output {name}_{} has {} values, expected {}",
                    self.stride,
                    values.len(),
                    anchors * per_anchor
                )));
            }
        }
        let stride = self.stride as f32;
        for index in 0..anchors {
            let score = (self.cls[index].clamp(0.0, 1.0) * self.obj[index].clamp(0.0, 1.0)).sqrt();
            if score.is_nan() || score < threshold {
                continue;
            }
            let (row, col) = ((index / cols) as f32, (index % cols) as f32);
            let b = &self.bbox[index * 4..index * 4 + 4];
            let (cx, cy) = ((col + b[0]) * stride, (row + b[1]) * stride);
            let (w, h) = (b[2].exp() * stride, b[3].exp() * stride);
            if !(cx.is_finite() && cy.is_finite() && w.is_finite() && h.is_finite()) {
                continue;
            }
            let (x, y) = letterbox.to_frame(cx - w / 2.0, cy - h / 2.0);
            let (w, h) = (w / letterbox.scale, h / letterbox.scale);
            let k = &self.kps[index * 10..index * 10 + 10];
            let landmarks = std::array::from_fn(|i| {
                letterbox.to_frame((k[2 * i] + col) * stride, (k[2 * i + 1] + row) * stride)
            });
            faces.push(DetectedFace {
                bbox: (x, y, w, h),
                landmarks,
                score,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zeroed stride-32 outputs (20×20 anchors) with one anchor set by `set`.
    struct Outputs {
        cls: Vec<f32>,
        obj: Vec<f32>,
        bbox: Vec<f32>,
        kps: Vec<f32>,
    }

    impl Outputs {
        fn stride32() -> Self {
            let n = 400;
            Self {
                cls: vec![0.0; n],
                obj: vec![0.0; n],
                bbox: vec![0.0; 4 * n],
                kps: vec![0.0; 10 * n],
            }
        }

        fn head(&self) -> Head<'_> {
            Head {
                stride: 32,
                cls: &self.cls,
                obj: &self.obj,
                bbox: &self.bbox,
                kps: &self.kps,
            }
        }
    }

    fn unit_letterbox() -> Letterbox {
        Letterbox::for_frame(640, 640, 640)
    }

    #[test]
    fn decodes_one_anchor_as_the_spec_says() {
        let mut out = Outputs::stride32();
        // Anchor at row 3, col 5.
        let i = 3 * 20 + 5;
        out.cls[i] = 0.81;
        out.obj[i] = 1.0;
        out.bbox[i * 4..i * 4 + 4].copy_from_slice(&[0.5, 0.25, 2f32.ln(), 0.0]);
        for k in 0..5 {
            out.kps[i * 10 + 2 * k] = k as f32 * 0.1;
            out.kps[i * 10 + 2 * k + 1] = -(k as f32) * 0.1;
        }
        let mut faces = Vec::new();
        out.head()
            .decode_into(0.6, unit_letterbox(), &mut faces)
            .unwrap();
        assert_eq!(faces.len(), 1);
        let face = &faces[0];
        assert!((face.score - 0.9).abs() < 1e-6);
        // cx = (5 + 0.5)·32 = 176, cy = (3 + 0.25)·32 = 104, w = 2·32 = 64, h = 32.
        let (x, y, w, h) = face.bbox;
        assert!(
            (x - 144.0).abs() < 1e-4 && (y - 88.0).abs() < 1e-4,
            "{:?}",
            face.bbox
        );
        assert!(
            (w - 64.0).abs() < 1e-4 && (h - 32.0).abs() < 1e-4,
            "{:?}",
            face.bbox
        );
        for (k, &(lx, ly)) in face.landmarks.iter().enumerate() {
            assert!((lx - (5.0 + k as f32 * 0.1) * 32.0).abs() < 1e-4);
            assert!((ly - (3.0 - k as f32 * 0.1) * 32.0).abs() < 1e-4);
        }
    }

    #[test]
    fn coordinates_are_divided_by_the_letterbox_scale() {
        let mut out = Outputs::stride32();
        out.cls[0] = 1.0;
        out.obj[0] = 1.0;
        let mut faces = Vec::new();
        // A 1280×1280 frame is scaled by 0.5.
        let letterbox = Letterbox::for_frame(1280, 1280, 640);
        out.head().decode_into(0.5, letterbox, &mut faces).unwrap();
        // cx = cy = 0, w = h = 32 in the input → (-32, -32, 64, 64) in the frame.
        assert_eq!(faces[0].bbox, (-32.0, -32.0, 64.0, 64.0));
        assert_eq!(faces[0].landmarks[4], (0.0, 0.0));
    }

    #[test]
    fn scores_are_clamped_and_thresholded_and_broken_boxes_dropped() {
        let mut out = Outputs::stride32();
        out.cls[0..5].copy_from_slice(&[1.5, 0.35, -1.0, f32::NAN, 1.0]);
        out.obj[0..5].copy_from_slice(&[2.0, 1.0, 1.0, 1.0, 1.0]);
        // The fifth scores 1 but its box overflows.
        out.bbox[4 * 4 + 2] = 1e6;
        let mut faces = Vec::new();
        out.head()
            .decode_into(0.6, unit_letterbox(), &mut faces)
            .unwrap();
        // Only the first: clamped to 1·1; the second is sqrt(0.35) ≈ 0.59; then 0, NaN, ∞.
        assert_eq!(faces.len(), 1);
        assert_eq!(faces[0].score, 1.0);
    }

    #[test]
    fn wrong_tensor_length_is_an_error_not_a_panic() {
        let mut out = Outputs::stride32();
        out.kps.pop();
        let err = out
            .head()
            .decode_into(0.6, unit_letterbox(), &mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("kps_32"), "{err}");
    }
}
