//! The own line recogniser: a small convolutional network trained on the generator's lines
//! (`card-front/scripts/train_line_model.sh`, provenance in `models/README.md`), run by ONNX
//! Runtime, whose per-column class probabilities are decoded by CTC best path with a
//! confidence per character. Its reads have the shape of PP-OCR's (`ppocr::PpOcrRec::read`):
//! the same classes, the same decoding.

use crate::error::OcrError;
use crate::line_input::{ALPHABET, LINE_H};
use crate::scrub::ScrubbedMat;
use opencv::core::{MatTraitConst, MatTraitConstManual, Size};
use opencv::imgproc;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::{Mutex, PoisonError};
use zeroize::{Zeroize, Zeroizing};

/// The trained model, built into the crate so that reader and model always match.
const MODEL: &[u8] = include_bytes!("../../models/card-front-line.onnx");
/// sha256 of [`MODEL`], as recorded in `models/checksums.sha256`.
pub const MODEL_SHA256: &str = "e5ff1a957231ae00874d095ea358506d7d14decd421a04277e3140ad1ba18047";

/// A character read on a line (zeroized when dropped inside `Zeroizing`, as the reader keeps
/// it: the lines spell 照合番号B).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadChar {
    pub ch: char,
    /// How sure the decoder is that the line reads this character here, with nothing missed
    /// or added since the previous one (see `decode`).
    pub confidence: f32,
}

impl Zeroize for ReadChar {
    fn zeroize(&mut self) {
        self.ch.zeroize();
        self.confidence.zeroize();
    }
}

/// Columns of the line's own right edge added after it: the model was trained on lines padded
/// so (`card-front dataset` stores them padded with their edge), and without them it misses
/// the last character far more often.
const RIGHT_ROOM: i32 = 4 * LINE_H;

/// The loaded own line recogniser. One inference at a time, on one thread.
pub struct LineModel {
    session: Mutex<Session>,
}

impl LineModel {
    /// Builds the recogniser's session in ONNX Runtime environment `env`, one thread.
    pub fn load(env: &Environment) -> Result<Self, OcrError> {
        let session = Session::builder(env)
            .map_err(failed)?
            .with_intra_threads(1)
            .map_err(failed)?
            .commit_from_memory(MODEL)
            .map_err(failed)?;
        let alphabet = session
            .metadata()
            .map_err(failed)?
            .custom("alphabet")
            .unwrap_or_default();
        if alphabet != ALPHABET {
            return Err(OcrError::Model(format!(
                "the model reads the alphabet {alphabet:?}, the reader expects {ALPHABET:?}"
            )));
        }
        Ok(Self {
            session: Mutex::new(session),
        })
    }

    /// Reads line images (8-bit grey; best made at [`LINE_H`] rows with
    /// `line_input::CNN_PAD`, as it was trained; other heights are scaled to it), one read per
    /// line in their order: the characters of [`ALPHABET`] (every other one as
    /// `line_input::OTHER`, spaces not at all) with a confidence each. A drop-in for
    /// `ppocr::PpOcrRec::read`.
    pub fn read(&self, lines: &[ScrubbedMat]) -> Result<Vec<Zeroizing<Vec<ReadChar>>>, OcrError> {
        lines.iter().map(|line| self.read_line(line)).collect()
    }

    fn read_line(&self, line: &ScrubbedMat) -> Result<Zeroizing<Vec<ReadChar>>, OcrError> {
        if line.typ() != opencv::core::CV_8UC1 || line.rows() < 1 {
            return Err(OcrError::Image("a line image must be 8-bit grey".into()));
        }
        let mut scaled = ScrubbedMat::default();
        let width = ((line.cols() * LINE_H + line.rows() / 2) / line.rows()).max(LINE_H);
        let interpolation = if line.rows() > LINE_H {
            imgproc::INTER_AREA
        } else {
            imgproc::INTER_LINEAR
        };
        imgproc::resize(
            &**line,
            &mut *scaled,
            Size::new(width, LINE_H),
            0.0,
            0.0,
            interpolation,
        )?;
        let mut image = ScrubbedMat::default();
        opencv::core::copy_make_border(
            &*scaled,
            &mut *image,
            0,
            0,
            0,
            RIGHT_ROOM,
            opencv::core::BORDER_REPLICATE,
            opencv::core::Scalar::default(),
        )?;
        let width = image.cols() as usize;
        let input: Zeroizing<Vec<f32>> =
            Zeroizing::new(image.data_bytes()?.iter().map(|&v| f32::from(v)).collect());
        let tensor = TensorRef::from_array_view(([1, 1, LINE_H as usize, width], &input[..]))
            .map_err(failed)?;
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let mut outputs = session.run(ort::inputs![tensor]).map_err(failed)?;
        let mut probs = outputs
            .remove("probs")
            .ok_or_else(|| OcrError::Model("the model returned no probs".into()))?;
        let (shape, values) = probs.try_extract_tensor_mut::<f32>().map_err(failed)?;
        let classes = ALPHABET.chars().count() + 1;
        let read = match **shape {
            [1, c, 1, steps] if c as usize == classes => {
                let alphabet: Vec<char> = ALPHABET.chars().collect();
                Ok(decode(values, &alphabet, steps as usize))
            }
            _ => Err(OcrError::Model(format!(
                "unexpected output shape {shape:?}"
            ))),
        };
        // ONNX Runtime owns the output buffer: wipe it before it is released.
        values.zeroize();
        read
    }
}

pub(crate) fn failed(e: impl std::fmt::Display) -> OcrError {
    OcrError::Model(e.to_string())
}

/// CTC best-path decoding of `probs` (`alphabet.len() + 1` classes × `steps`, class-major;
/// class 0 is the blank, class `i` is `alphabet[i - 1]`).
///
/// A character's confidence is the probability that the text around it reads as decoded: its
/// best column's probability of being it, and for every column from the previous character's
/// last one to its own last one, the probability of a class that leaves the text unchanged
/// there (the blank, or a character lengthening the run next to it; not the character across
/// a blank from its run, nor a blank inside it, which would read it twice). Two equal
/// characters need a blank between them, so for those it is also the surest blank of the gap.
pub(crate) fn decode(probs: &[f32], alphabet: &[char], steps: usize) -> Zeroizing<Vec<ReadChar>> {
    let classes = alphabet.len() + 1;
    let p = |c: usize, t: usize| probs[c * steps + t];
    // The best classes and runs spell the line: zeroized like the characters.
    let best: Zeroizing<Vec<usize>> = Zeroizing::new(
        (0..steps)
            .map(|t| {
                (0..classes)
                    .max_by(|&a, &b| p(a, t).total_cmp(&p(b, t)))
                    .unwrap_or(0)
            })
            .collect(),
    );
    // [class, first column, last column] of each emitted character.
    let mut runs: Zeroizing<Vec<[usize; 3]>> = Zeroizing::new(Vec::new());
    for (t, &c) in best.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if c != 0 && run[0] == c && run[2] + 1 == t => run[2] = t,
            _ if c != 0 => runs.push([c, t, t]),
            _ => {}
        }
    }
    let mut out = Zeroizing::new(Vec::with_capacity(runs.len()));
    let mut gap_start = 0;
    let mut previous = 0;
    for &[c, first, last] in runs.iter() {
        let peak = (first..=last).map(|t| p(c, t)).fold(0.0f32, f32::max);
        let mut confidence = peak;
        // The gap since the previous character: a blank leaves the text as it is, and so does
        // a character that only lengthens the run it touches (the previous one right after
        // it, this one right before it); the same character across a blank from its run would
        // be one more character.
        for t in gap_start..first {
            let mut safe = p(0, t);
            if t + 1 == first && !(previous == c && t == gap_start) {
                safe += p(c, t);
            }
            if t == gap_start && previous != 0 && previous != c {
                safe += p(previous, t);
            }
            confidence = confidence.min(safe);
        }
        // The run: a blank at either end of a longer run shortens it, and so does the previous
        // character at its start when their runs touch; a blank inside splits it.
        for t in first..=last {
            let mut safe = p(c, t);
            if first < last && (t == first || t == last) {
                safe += p(0, t);
            }
            if first < last && t == first && t == gap_start && previous != 0 && previous != c {
                safe += p(previous, t);
            }
            confidence = confidence.min(safe);
        }
        if previous == c {
            let blank = (gap_start..first).map(|t| p(0, t)).fold(0.0f32, f32::max);
            confidence = confidence.min(blank);
        }
        out.push(ReadChar {
            ch: alphabet[c - 1],
            confidence: confidence.min(1.0),
        });
        (gap_start, previous) = (last + 1, c);
    }
    out
}

/// The ONNX Runtime environment of this crate's tests (`.cargo/config.toml` points them at the
/// library): one per process, shared by every test.
#[cfg(test)]
pub(crate) fn test_environment() -> &'static Environment {
    static ENV: std::sync::OnceLock<Environment> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        ort::init_from(env!("MYNAKIOSK_ORT_DYLIB"))
            .unwrap()
            .with_telemetry(false)
            .build()
            .unwrap()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;
    use crate::line_input::{line_image, printed_line, CNN_PAD};
    use crate::lines::find_lines;
    use crate::{rectify, synthetic_card, Date, Split};
    use opencv::imgproc;

    /// Probabilities for a column sequence given as (class, probability of that class); the
    /// rest of each column is spread over the other classes.
    fn columns(cols: &[(usize, f32)], classes: usize) -> Vec<f32> {
        let steps = cols.len();
        let mut probs = vec![0.0; classes * steps];
        for (t, &(c, p)) in cols.iter().enumerate() {
            for k in 0..classes {
                probs[k * steps + t] = if k == c {
                    p
                } else {
                    (1.0 - p) / (classes - 1) as f32
                };
            }
        }
        probs
    }

    #[test]
    fn the_built_in_model_is_the_recorded_one() {
        let sha: String = ring::digest::digest(&ring::digest::SHA256, MODEL)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sha, MODEL_SHA256);
        let recorded = include_str!("../../models/checksums.sha256");
        assert!(recorded
            .lines()
            .any(|l| l == format!("{MODEL_SHA256}  models/card-front-line.onnx")));
    }

    #[test]
    fn repeats_collapse_blanks_separate_and_doubt_is_charged_to_the_next_character() {
        let classes = ALPHABET.chars().count() + 1;
        // "1", blank, "1", "1", unsure blank, "7": reads "117".
        let probs = columns(
            &[
                (2, 0.99),
                (0, 0.9),
                (2, 0.97),
                (2, 0.95),
                (0, 0.6),
                (8, 0.99),
            ],
            classes,
        );
        let read = decode(&probs, &ALPHABET.chars().collect::<Vec<_>>(), 6);
        let text: String = read.iter().map(|c| c.ch).collect();
        assert_eq!(text, "117");
        assert!((read[0].confidence - 0.99).abs() < 1e-6);
        // The second "1" needed the blank before it: 0.9 sure.
        assert!((read[1].confidence - 0.9).abs() < 1e-6);
        // The unsure blank before "7" was 0.6 blank; a "1" or "7" there would not change the
        // text, anything else would.
        let spread = 0.4 / (classes - 1) as f32;
        assert!((read[2].confidence - (0.6 + 2.0 * spread)).abs() < 1e-6);
    }

    /// The decoding of `steps` columns whose every class is 0 but `cells` (class, column,
    /// probability).
    fn decoded(steps: usize, cells: &[(usize, usize, f32)]) -> Zeroizing<Vec<ReadChar>> {
        let classes = ALPHABET.chars().count() + 1;
        let mut probs = vec![0.0; classes * steps];
        for &(c, t, p) in cells {
            probs[c * steps + t] = p;
        }
        decode(&probs, &ALPHABET.chars().collect::<Vec<_>>(), steps)
    }

    #[test]
    fn a_character_almost_read_again_across_a_blank_is_unsure() {
        // "年", then a column barely blank over "1", a blank, "1", "月": reads "年1月", but a
        // "1" in that column would read "年11月" (held-out seed 20261264, card 135: its birth
        // month 11 read 1 at 0.996 when the gap counted any "1" as leaving the text alone).
        let read = decoded(
            6,
            &[
                (20, 0, 1.0),
                (0, 1, 1.0),
                (0, 2, 0.51),
                (2, 2, 0.49),
                (0, 3, 1.0),
                (2, 4, 1.0),
                (21, 5, 1.0),
            ],
        );
        let text: String = read.iter().map(|c| c.ch).collect();
        assert_eq!(text, "年1月");
        assert!((read[1].confidence - 0.51).abs() < 1e-6, "{read:?}");
        assert!(read[2].confidence > 0.99, "{read:?}");
    }

    #[test]
    fn a_blank_inside_a_run_would_read_it_twice() {
        // "1" over three columns, the middle one 0.3 blank: "11" there.
        let read = decoded(3, &[(2, 0, 1.0), (2, 1, 0.7), (0, 1, 0.3), (2, 2, 1.0)]);
        assert_eq!(read.len(), 1);
        assert!((read[0].confidence - 0.7).abs() < 1e-6, "{read:?}");
    }

    #[test]
    fn a_boundary_column_split_between_neighbours_costs_nothing() {
        // "5" then "年" (class 20), the middle column torn between them.
        let read = decoded(
            3,
            &[
                (6, 0, 1.0),
                (6, 1, 0.45),
                (20, 1, 0.45),
                (0, 1, 0.1),
                (20, 2, 1.0),
            ],
        );
        let text: String = read.iter().map(|c| c.ch).collect();
        assert_eq!(text, "5年");
        assert!(read.iter().all(|c| c.confidence > 0.99), "{read:?}");
    }
    /// The field lines (birth, expiry, code) of the first photo of held-out synthetic cards
    /// (typefaces and layout family never trained on), rectified at their true corners, read
    /// by the built-in model: how many, how many exactly, and how many wrong at least
    /// `sure` in every character.
    fn held_out_field_lines(cards: u32, sure: f32) -> (usize, usize, usize) {
        let model = LineModel::load(test_environment()).unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let (mut lines, mut exact, mut sure_wrong) = (0, 0, 0);
        for index in 0..cards {
            let (_, printed, mut frames) =
                synthetic_card(Split::HeldOut, 2718, index, today).unwrap();
            let shot = frames.next().unwrap().unwrap();
            let mut grey = ScrubbedMat::default();
            imgproc::cvt_color_def(&shot.image, &mut *grey, imgproc::COLOR_BGR2GRAY).unwrap();
            let card = rectify(&grey, &shot.corners).unwrap();
            for line in find_lines(&card).unwrap() {
                let (item, label) = printed_line(&printed.glyphs, line);
                if item == Item::Other {
                    continue;
                }
                let image = line_image(&card, line, CNN_PAD, LINE_H).unwrap();
                let read = model.read(std::slice::from_ref(&image)).unwrap();
                let right = read[0].iter().map(|c| c.ch).eq(label.chars());
                let least = read[0].iter().map(|c| c.confidence).fold(1.0, f32::min);
                lines += 1;
                exact += usize::from(right);
                sure_wrong += usize::from(!right && least >= sure);
            }
        }
        (lines, exact, sure_wrong)
    }

    /// Held-out cards read; floors at the committed model's level on them: the share of their
    /// field lines read exactly, and the most lines read wrong at least [`SURE`] sure.
    const CARDS: u32 = 12;
    const MIN_EXACT_PERCENT: usize = 55;
    const SURE: f32 = 0.95;
    const MAX_SURE_WRONG: usize = 1;

    #[test]
    fn reads_the_field_lines_of_held_out_typefaces() {
        let (lines, exact, sure_wrong) = held_out_field_lines(CARDS, SURE);
        println!(
            "{exact} of {lines} field lines read exactly, {sure_wrong} wrong at {SURE} or surer"
        );
        assert!(lines >= 3 * CARDS as usize - 2, "{lines} field lines found");
        assert!(
            exact * 100 >= lines * MIN_EXACT_PERCENT,
            "{exact} of {lines} read exactly"
        );
        assert!(
            sure_wrong <= MAX_SURE_WRONG,
            "{sure_wrong} lines read wrong at {SURE} or surer"
        );
    }
}
