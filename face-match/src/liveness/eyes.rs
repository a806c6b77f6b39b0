//! Eye openness for the blink challenge: MediaPipe FaceMesh (Apache-2.0, converted to ONNX by
//! `models/fetch.py`) on a crop around a YuNet face, reduced to the eye aspect ratio.

use std::path::{Path, PathBuf};

use opencv::core::{Mat, Scalar, Size, BORDER_CONSTANT};
use opencv::imgproc;
use ort::session::Session;
use ort::value::TensorRef;
use zeroize::Zeroizing;

use crate::detector::DetectedFace;
use crate::error::FaceError;
use crate::frame::Frame;
use crate::runtime::OrtRuntime;

/// File name of the converted FaceMesh model in the models folder.
pub const FACEMESH_FILE: &str = "face_landmark.onnx";
/// sha256 of `face_landmark.onnx` as converted by `models/fetch.py`.
pub const FACEMESH_SHA256: &str =
    "bb88a08bc2919b6fc2e9e808ba1627942694b29cde9ce688d85b8fb0fcf46623";

/// Side of FaceMesh's square input.
const SIDE: usize = 192;
/// The crop spans this many times the larger side of the YuNet box (as MediaPipe's ROI).
const CROP_SCALE: f32 = 1.5;
const LANDMARKS: usize = 468;
/// FaceMesh indices of each eye's outer corner, two upper-lid points, inner corner and the two
/// lower-lid points below them (p1…p6 of the eye aspect ratio).
const EYES: [[usize; 6]; 2] = [
    [33, 160, 158, 133, 153, 144],
    [362, 385, 387, 263, 373, 380],
];

/// FaceMesh on ONNX Runtime, measuring how open the eyes are.
pub struct EyeMeter {
    session: Session,
}

impl EyeMeter {
    /// Loads the converted FaceMesh model after verifying its sha256 (normally
    /// [`FACEMESH_SHA256`]) and its inputs and outputs.
    pub fn new(runtime: &OrtRuntime, model: &Path, sha256: &str) -> Result<Self, FaceError> {
        let session = runtime.load_session(model, sha256)?;
        let input_ok = matches!(session.inputs(), [input]
            if input.dtype().tensor_shape().map(|s| s.to_vec()) == Some(vec![1, 3, 192, 192]));
        let outputs_ok = ["conv2d_20", "conv2d_30"]
            .iter()
            .all(|name| session.outputs().iter().any(|o| o.name() == *name));
        if !(input_ok && outputs_ok) {
            return Err(FaceError::ModelInvalid {
                path: PathBuf::from(model),
                reason: "expected FaceMesh: input 1×3×192×192, outputs conv2d_20 and conv2d_30"
                    .into(),
            });
        }
        Ok(Self { session })
    }

    /// The eye aspect ratio of `face` in `frame` (mean of both eyes: about 0.25–0.35 open,
    /// under 0.15 closed), or `None` when FaceMesh finds no face in the crop.
    pub fn openness(
        &mut self,
        frame: &Frame,
        face: &DetectedFace,
    ) -> Result<Option<f32>, FaceError> {
        let input = crop_tensor(frame, face)?;
        let tensor = TensorRef::from_array_view(([1, 3, SIDE, SIDE], &input[..]))
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let output = |name: &str| -> Result<&[f32], FaceError> {
            outputs
                .get(name)
                .ok_or_else(|| FaceError::Inference(format!("FaceMesh returned no {name}")))?
                .try_extract_tensor::<f32>()
                .map(|(_, values)| values)
                .map_err(|e| FaceError::Inference(format!("{name}: {e}")))
        };
        // A positive logit: FaceMesh sees a face in the crop (NaN counts as not).
        let face_seen = output("conv2d_30")?
            .first()
            .is_some_and(|&logit| logit > 0.0);
        if !face_seen {
            return Ok(None);
        }
        let points = output("conv2d_20")?;
        if points.len() != 3 * LANDMARKS {
            return Err(FaceError::Inference(format!(
                "FaceMesh returned {} landmark values, expected {}",
                points.len(),
                3 * LANDMARKS
            )));
        }
        let at = |i: usize| (points[3 * i], points[3 * i + 1]);
        let ratios = EYES.map(|eye| eye_aspect_ratio(eye.map(at)));
        let mean = (ratios[0] + ratios[1]) / 2.0;
        Ok(mean.is_finite().then_some(mean))
    }
}

/// (|p2 − p6| + |p3 − p5|) / (2 |p1 − p4|).
fn eye_aspect_ratio([p1, p2, p3, p4, p5, p6]: [(f32, f32); 6]) -> f32 {
    let d = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
    (d(p2, p6) + d(p3, p5)) / (2.0 * d(p1, p4))
}

/// FaceMesh's input for `face`: a square crop around the box, rotated so the eyes are level,
/// as RGB planes scaled to 0..1. The crop and the tensor are zeroized on drop.
fn crop_tensor(frame: &Frame, face: &DetectedFace) -> Result<Zeroizing<Vec<f32>>, FaceError> {
    let (x, y, w, h) = face.bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let [right_eye, left_eye, ..] = face.landmarks;
    let angle = (left_eye.1 - right_eye.1).atan2(left_eye.0 - right_eye.0);
    let k = SIDE as f32 / (CROP_SCALE * w.max(h)).max(1.0);
    let (sin, cos) = angle.sin_cos();
    let half = SIDE as f32 / 2.0;
    let transform = Mat::from_slice_2d(&[
        [k * cos, k * sin, half - k * (cos * cx + sin * cy)].map(f64::from),
        [-k * sin, k * cos, half - k * (-sin * cx + cos * cy)].map(f64::from),
    ])
    .map_err(|e| FaceError::Inference(e.message))?;
    let mut crop = Frame::zeroed(SIDE as u32, SIDE as u32)?;
    let src = frame.as_mat()?;
    crop.write_region(crop.full_region(), |dst| {
        imgproc::warp_affine(
            &src,
            dst,
            &transform,
            Size::new(SIDE as i32, SIDE as i32),
            imgproc::INTER_LINEAR,
            BORDER_CONSTANT,
            Scalar::all(0.0),
        )
    })?;
    let plane = SIDE * SIDE;
    let mut tensor = Zeroizing::new(vec![0.0f32; 3 * plane]);
    for row in 0..SIDE {
        let Some(pixels) = crop.row(row as u32) else {
            break;
        };
        for (col, bgr) in pixels.chunks_exact(3).enumerate() {
            for (channel, &value) in bgr.iter().rev().enumerate() {
                tensor[channel * plane + row * SIDE + col] = f32::from(value) / 255.0;
            }
        }
    }
    Ok(tensor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eye_aspect_ratio_is_lid_gap_over_eye_width() {
        // A 30 px wide eye with lids 9 px apart at both measuring points.
        let open = [
            (0.0, 0.0),
            (10.0, -4.5),
            (20.0, -4.5),
            (30.0, 0.0),
            (20.0, 4.5),
            (10.0, 4.5),
        ];
        assert!((eye_aspect_ratio(open) - 0.3).abs() < 1e-6);
        let closed = open.map(|(x, y)| (x, y / 9.0));
        assert!((eye_aspect_ratio(closed) - 1.0 / 30.0).abs() < 1e-6);
    }
}
