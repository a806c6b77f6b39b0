//! Face embeddings with SFace 2021dec (OpenCV Zoo, Apache-2.0) and their cosine comparison.

use std::fmt;
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::align::CROP_SIDE;
use crate::error::FaceError;
use crate::frame::RgbImage;
use crate::runtime::OrtRuntime;

/// File name of the SFace model in the models folder: folded, with every PRelu written as
/// Relu, Mul and Add, which ONNX Runtime runs about twice as fast, and its last layer kept in
/// the source's 8-bit blocks, at a quarter of the memory (see `models/README.md`).
pub const SFACE_2021DEC_FILE: &str = "face_recognition_sface_2021dec_kiosk.onnx";

/// sha256 of `face_recognition_sface_2021dec_kiosk.onnx` as made by `models/fetch.py`.
pub const SFACE_2021DEC_SHA256: &str =
    "75478b98c7e93a293751ef19a1a239dbd75bb6b718848c7af384f646f52a3a27";

/// Length of an SFace embedding.
pub const EMBEDDING_LEN: usize = 128;

const INPUT: &str = "data";
const OUTPUT: &str = "fc1";

/// A unit-length face embedding; zeroized on drop, and `Debug` never shows the values.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Embedding([f32; EMBEDDING_LEN]);

impl Embedding {
    /// L2-normalises `raw`; `None` if it is zero or not finite.
    pub fn normalised(mut raw: [f32; EMBEDDING_LEN]) -> Option<Self> {
        let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        let usable = norm.is_finite() && norm > f32::EPSILON;
        if usable {
            raw.iter_mut().for_each(|v| *v /= norm);
        }
        let result = usable.then(|| Self(raw));
        raw.zeroize();
        result
    }

    /// Cosine similarity in -1..=1 (the dot product of two unit vectors).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// The values (for evaluation tools and tests; never log or store them).
    pub fn values(&self) -> &[f32; EMBEDDING_LEN] {
        &self.0
    }
}

impl fmt::Debug for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Embedding(..)")
    }
}

/// SFace on ONNX Runtime: a 112×112 aligned RGB crop in, a unit 128-d embedding out.
pub struct FaceEmbedder {
    session: Session,
}

impl FaceEmbedder {
    /// Loads the folded SFace model at `model` after verifying its sha256 (normally
    /// [`SFACE_2021DEC_SHA256`]) and checking its input and output.
    pub fn new(runtime: &OrtRuntime, model: &Path, sha256: &str) -> Result<Self, FaceError> {
        let session = runtime.load_session(model, sha256)?;
        check_interface(&session).map_err(|reason| FaceError::ModelInvalid {
            path: PathBuf::from(model),
            reason,
        })?;
        Ok(Self { session })
    }

    /// The mean of the embeddings of `crop` and of its mirror, normalised: test-time
    /// mirroring for single pictures (on a degraded picture the mean of the two is a steadier
    /// estimate of the face than either alone).
    pub fn embed_with_mirror(&mut self, crop: &RgbImage) -> Result<Embedding, FaceError> {
        let direct = self.embed(crop)?;
        let mirror = crop.mirrored()?;
        let flipped = self.embed(&mirror)?;
        drop(mirror);
        let mut sum = [0.0f32; EMBEDDING_LEN];
        for (total, (a, b)) in sum
            .iter_mut()
            .zip(direct.values().iter().zip(flipped.values()))
        {
            *total = a + b;
        }
        let mean = Embedding::normalised(sum);
        sum.zeroize();
        mean.ok_or_else(|| FaceError::Inference("a crop and its mirror cancel out".into()))
    }

    /// The embedding of an aligned crop (see [`crate::align::align_face`]).
    pub fn embed(&mut self, crop: &RgbImage) -> Result<Embedding, FaceError> {
        let side = CROP_SIDE as usize;
        if (crop.width(), crop.height()) != (CROP_SIDE, CROP_SIDE) {
            return Err(FaceError::Inference(format!(
                "SFace needs a {side}×{side} crop, got {}×{}",
                crop.width(),
                crop.height()
            )));
        }
        let plane = side * side;
        let mut input = Zeroizing::new(vec![0.0f32; 3 * plane]);
        for y in 0..CROP_SIDE {
            let row = crop.row(y).unwrap_or_default();
            for (x, rgb) in row.chunks_exact(3).enumerate() {
                for (channel, &value) in rgb.iter().enumerate() {
                    input[channel * plane + y as usize * side + x] = f32::from(value);
                }
            }
        }
        let tensor = TensorRef::from_array_view(([1, 3, side, side], &input[..]))
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let mut outputs = self
            .session
            .run(ort::inputs![INPUT => tensor])
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let mut output = outputs
            .remove(OUTPUT)
            .ok_or_else(|| FaceError::Inference(format!("model returned no {OUTPUT}")))?;
        let (_, values) = output
            .try_extract_tensor_mut::<f32>()
            .map_err(|e| FaceError::Inference(format!("{OUTPUT}: {e}")))?;
        let mut raw = [0.0f32; EMBEDDING_LEN];
        let copied = values.len() == EMBEDDING_LEN;
        if copied {
            raw.copy_from_slice(values);
        }
        // ONNX Runtime owns the output buffer: wipe it before it is released.
        values.zeroize();
        if !copied {
            return Err(FaceError::Inference(format!(
                "{OUTPUT} has {} values, expected {EMBEDDING_LEN}",
                values.len()
            )));
        }
        let embedding = Embedding::normalised(raw);
        // `normalised` took a copy: wipe this one too.
        raw.zeroize();
        embedding.ok_or_else(|| FaceError::Inference("SFace returned a zero embedding".into()))
    }
}

/// Checks that `session` takes `data` [1, 3, 112, 112] and returns `fc1`.
fn check_interface(session: &Session) -> Result<(), String> {
    let side = i64::from(CROP_SIDE);
    let input_ok = matches!(session.inputs(), [input]
        if input.name() == INPUT
            && input.dtype().tensor_shape().map(|s| &s[..]) == Some(&[1, 3, side, side]));
    let output_ok = session.outputs().iter().any(|o| o.name() == OUTPUT);
    if input_ok && output_ok {
        Ok(())
    } else {
        Err(format!(
            "expected input {INPUT} [1, 3, {side}, {side}] and output {OUTPUT}; is this SFace?"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> [f32; EMBEDDING_LEN] {
        let mut v = [0.0; EMBEDDING_LEN];
        v[i] = 3.0;
        v
    }

    #[test]
    fn normalises_and_compares_by_cosine() {
        let a = Embedding::normalised(unit(0)).unwrap();
        let b = Embedding::normalised(unit(1)).unwrap();
        assert_eq!(a.values()[0], 1.0);
        assert_eq!(a.cosine(&a), 1.0);
        assert_eq!(a.cosine(&b), 0.0);
        let mut both = unit(0);
        both[1] = 3.0;
        let c = Embedding::normalised(both).unwrap();
        assert!((a.cosine(&c) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }

    #[test]
    fn zero_or_broken_vectors_are_refused() {
        assert!(Embedding::normalised([0.0; EMBEDDING_LEN]).is_none());
        let mut nan = unit(2);
        nan[5] = f32::NAN;
        assert!(Embedding::normalised(nan).is_none());
    }

    #[test]
    fn debug_hides_the_values() {
        let a = Embedding::normalised(unit(3)).unwrap();
        assert_eq!(format!("{a:?}"), "Embedding(..)");
    }
}
