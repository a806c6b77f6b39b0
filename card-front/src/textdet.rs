//! PP-OCRv4's text detector (DB, Apache-2.0, from the pinned `rapidocr-onnxruntime` wheel;
//! fetched and checked by `models/fetch.py`): the text lines of a rectified
//! card found by a network trained on real text, where [`crate::lines`] finds them by their ink.

use crate::error::OcrError;
use crate::line_model::failed;
use crate::ppocr::{checked_session, normalised, run_first_output};
use crate::scrub::ScrubbedMat;
use opencv::core::{self, Mat, MatTraitConst, MatTraitConstManual, Point, Rect, Size, Vector};
use opencv::imgproc;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::Path;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// File name of the model under the models directory, and its sha256 (`models/checksums.sha256`).
pub const PPOCR_DET_FILE: &str = "ppocr_v4_det.onnx";
pub const PPOCR_DET_SHA256: &str =
    "d4c83744374feda96217b1ef5eaaf1ea9f2193af5edc89b46775b55893e0f4b2";
/// The size the rectified card (856 × 540) is detected at: multiples of 32, as the network
/// needs, at three quarters of the card's scale (its lines stay 7–48 pixels high). At the
/// card's own scale (864 × 544) it read as many development cards for twice the CPU
/// (card-front/README.md, "Choosing the recogniser and the line finder").
const DET_W: i32 = 640;
const DET_H: i32 = 416;
/// DB's post-processing as the wheel configures it: text where the probability exceeds
/// [`TEXT`], a region kept when its mean probability is at least [`REGION`], and grown back by
/// its area times [`UNCLIP`] over its perimeter (the network is trained on shrunk regions).
const TEXT: f64 = 0.3;
const REGION: f64 = 0.5;
const UNCLIP: f64 = 1.6;
/// The heights a line of card text may have, in pixels of the rectified card.
const MIN_H: i32 = 9;
const MAX_H: i32 = 72;

/// The loaded detector. One inference at a time.
pub struct TextDetector {
    session: Mutex<Session>,
}

impl TextDetector {
    /// Loads the model from `dir` into `env`, checking its sha256.
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, OcrError> {
        let session = checked_session(env, &dir.join(PPOCR_DET_FILE), PPOCR_DET_SHA256)?;
        Ok(Self {
            session: Mutex::new(session),
        })
    }

    /// The boxes of the text lines of a grey rectified card, top to bottom.
    pub fn find_lines(&self, card: &Mat) -> Result<Vec<Rect>, OcrError> {
        let mut small = ScrubbedMat::default();
        imgproc::resize(
            card,
            &mut *small,
            Size::new(DET_W, DET_H),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        let plane = (DET_W * DET_H) as usize;
        let mut input: Zeroizing<Vec<f32>> = Zeroizing::new(vec![0.0; 3 * plane]);
        for (i, &v) in small.data_bytes()?.iter().enumerate() {
            let x = normalised(v);
            for c in 0..3 {
                input[c * plane + i] = x;
            }
        }
        let tensor =
            TensorRef::from_array_view(([1, 3, DET_H as usize, DET_W as usize], &input[..]))
                .map_err(failed)?;
        let copied = run_first_output(
            &self.session,
            tensor,
            "the text detector",
            |shape, values| match *shape {
                [1, 1, h, w] if h == i64::from(DET_H) && w == i64::from(DET_W) => {
                    let mut prob = ScrubbedMat::default();
                    Mat::new_rows_cols_with_data(DET_H, DET_W, values)?.copy_to(&mut *prob)?;
                    Ok(prob)
                }
                _ => Err(OcrError::Model(format!(
                    "unexpected output shape {shape:?}"
                ))),
            },
        )?;
        regions(&copied, card.size()?)
    }
}

/// The text regions of DB's probability map `prob`, as boxes of a card of `size`.
fn regions(prob: &Mat, size: Size) -> Result<Vec<Rect>, OcrError> {
    let mut text = ScrubbedMat::default();
    imgproc::threshold(prob, &mut *text, TEXT, 255.0, imgproc::THRESH_BINARY)?;
    let mut mask = ScrubbedMat::default();
    text.convert_to_def(&mut *mask, core::CV_8U)?;
    // The wheel dilates the text map by 2 × 2 before taking its regions.
    let kernel = imgproc::get_structuring_element_def(imgproc::MORPH_RECT, Size::new(2, 2))?;
    let mut grown = ScrubbedMat::default();
    imgproc::dilate_def(&*mask, &mut *grown, &kernel)?;
    let mut contours = Vector::<Vector<Point>>::new();
    imgproc::find_contours_def(
        &*grown,
        &mut contours,
        imgproc::RETR_LIST,
        imgproc::CHAIN_APPROX_SIMPLE,
    )?;
    let (sx, sy) = (
        f64::from(size.width) / f64::from(DET_W),
        f64::from(size.height) / f64::from(DET_H),
    );
    let mut lines = Vec::new();
    for contour in &contours {
        let r = imgproc::bounding_rect(&contour)?;
        if r.width.min(r.height) < 3 {
            continue;
        }
        if core::mean(&Mat::roi(prob, r)?, &core::no_array())?[0] < REGION {
            continue;
        }
        let area = imgproc::contour_area_def(&contour)?;
        let d = area * UNCLIP / imgproc::arc_length(&contour, true)?.max(1.0);
        let (x0, y0) = (f64::from(r.x) - d, f64::from(r.y) - d);
        let (x1, y1) = (f64::from(r.x + r.width) + d, f64::from(r.y + r.height) + d);
        let line = Rect::new(
            (x0 * sx).round() as i32,
            (y0 * sy).round() as i32,
            ((x1 - x0) * sx).round() as i32,
            ((y1 - y0) * sy).round() as i32,
        ) & Rect::new(0, 0, size.width, size.height);
        if (MIN_H..=MAX_H).contains(&line.height) && line.width >= line.height {
            lines.push(line);
        }
    }
    lines.sort_by_key(|r| (r.y, r.x));
    Ok(lines)
}
