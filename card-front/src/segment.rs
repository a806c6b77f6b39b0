//! Splits one printed text line of a rectified card into glyph blobs and describes their shape.

use crate::error::OcrError;
use crate::scrub::ScrubbedMat;
use opencv::core::{self, Mat, MatTraitConst, MatTraitConstManual, Rect, Scalar, Size, CV_32S};
use opencv::imgproc;

/// How much darker than its neighbourhood a pixel must be to count as ink: the first keeps the
/// faint background pattern out, the second finds washed-out print (glare, dim light).
pub const INK_CONTRASTS: [f64; 4] = [22.0, 15.0, 10.0, 6.0];
/// Width and height of the normalised glyph bitmap.
const FEAT_W: i32 = 12;
const FEAT_H: i32 = 20;
/// Weight of the size cues (aspect ratio, height relative to the type size) in a descriptor.
const SIZE_WEIGHT: f32 = 6.0;

/// One connected ink blob of the line, left to right.
#[derive(Debug, Clone)]
pub struct Blob {
    pub x: i32,
    pub features: Vec<f32>,
}

/// Ink blobs of the dominant text line inside `region` of a grey image, for type of `px` pixels
/// and ink at least `contrast` grey levels darker than its surroundings.
pub fn line_blobs(grey: &Mat, region: Rect, px: f32, contrast: f64) -> Result<Vec<Blob>, OcrError> {
    let roi = Mat::roi(grey, region)?;
    let mut ink = ScrubbedMat::default();
    let block = ((px * 1.2) as i32) | 1;
    imgproc::adaptive_threshold(
        &roi,
        &mut *ink,
        255.0,
        imgproc::ADAPTIVE_THRESH_GAUSSIAN_C,
        imgproc::THRESH_BINARY_INV,
        block,
        contrast,
    )?;
    blobs(&ink, px)
}

/// Blobs of a binary ink image (ink = 255), restricted to the most populated text row.
pub fn blobs(ink: &Mat, px: f32) -> Result<Vec<Blob>, OcrError> {
    let mut labels = ScrubbedMat::default();
    let (mut stats, mut centroids) = (Mat::default(), Mat::default());
    let n = imgproc::connected_components_with_stats(
        ink,
        &mut *labels,
        &mut stats,
        &mut centroids,
        8,
        CV_32S,
    )?;
    let mut boxes = Vec::new();
    for i in 1..n {
        let s = |c: i32| stats.at_2d::<i32>(i, c).copied();
        let r = Rect::new(
            s(imgproc::CC_STAT_LEFT)?,
            s(imgproc::CC_STAT_TOP)?,
            s(imgproc::CC_STAT_WIDTH)?,
            s(imgproc::CC_STAT_HEIGHT)?,
        );
        let area = s(imgproc::CC_STAT_AREA)?;
        let h = r.height as f32;
        // A blob cut by the region's side is a neighbour's part or the card's edge.
        let cut = r.x == 0 || r.x + r.width == ink.cols();
        if !cut
            && h >= 0.18 * px
            && h <= 1.3 * px
            && (r.width as f32) <= 1.4 * px
            && area as f32 >= 0.015 * px * px
        {
            boxes.push((i, r));
        }
    }
    // The text row: the band of the blobs crossing the y crossed by the most blobs; a blob
    // belongs to the line when its centre lies in that band (so kanji pieces stay).
    let crosses = |r: &Rect, y: i32| r.y <= y && y < r.y + r.height;
    let best_y = (0..ink.rows())
        .max_by_key(|&y| boxes.iter().filter(|(_, r)| crosses(r, y)).count())
        .unwrap_or(0);
    let band = boxes.iter().filter(|(_, r)| crosses(r, best_y));
    let top = band.clone().map(|(_, r)| r.y).min().unwrap_or(0);
    let bottom = band.map(|(_, r)| r.y + r.height).max().unwrap_or(0);
    let mut line: Vec<_> = boxes
        .into_iter()
        .filter(|(_, r)| (top..bottom).contains(&(r.y + r.height / 2)))
        .collect();
    line.sort_by_key(|(_, r)| r.x);
    let mut out = Vec::with_capacity(line.len());
    for (i, r) in line {
        let mut mask = ScrubbedMat::default();
        core::compare(
            &Mat::roi(&*labels, r)?,
            &Scalar::all(f64::from(i)),
            &mut *mask,
            core::CMP_EQ,
        )?;
        for part in split_touching(&mask, px)? {
            let tight = tighten(&mask, part)?;
            out.push(Blob {
                x: r.x + tight.x,
                features: describe(&Mat::roi(&*mask, tight)?, px)?,
            });
        }
    }
    Ok(out)
}

/// Two digits that touch (blur, bold type) form one blob wider than tall but only digit-high;
/// it is cut at its thinnest column near the middle. Other blobs are returned whole.
fn split_touching(mask: &Mat, px: f32) -> Result<Vec<Rect>, OcrError> {
    let (w, h) = (mask.cols(), mask.rows());
    let whole = Rect::new(0, 0, w, h);
    if (h as f32) > 0.62 * px || (w as f32) < 1.15 * h as f32 {
        return Ok(vec![whole]);
    }
    let mut cut = w / 2;
    let mut least = i32::MAX;
    for x in (w * 3 / 10)..=(w * 7 / 10) {
        let ink = core::count_non_zero(&Mat::roi(mask, Rect::new(x, 0, 1, h))?)?;
        if ink < least {
            (least, cut) = (ink, x);
        }
    }
    Ok(vec![Rect::new(0, 0, cut, h), Rect::new(cut, 0, w - cut, h)])
}

/// The bounding box of the ink of `mask` inside `part`.
fn tighten(mask: &Mat, part: Rect) -> Result<Rect, OcrError> {
    let mut points = ScrubbedMat::default();
    core::find_non_zero(&Mat::roi(mask, part)?, &mut *points)?;
    let b = imgproc::bounding_rect(&*points)?;
    Ok(Rect::new(
        part.x + b.x,
        part.y + b.y,
        b.width.max(1),
        b.height.max(1),
    ))
}

/// A blob's shape descriptor: its mask scaled to a fixed grid, plus aspect and relative height.
fn describe(
    mask: &(impl MatTraitConst + core::ToInputArray),
    px: f32,
) -> Result<Vec<f32>, OcrError> {
    let (w, h) = (mask.cols() as f32, mask.rows() as f32);
    let mut small = ScrubbedMat::default();
    imgproc::resize(
        mask,
        &mut *small,
        Size::new(FEAT_W, FEAT_H),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )?;
    let mut f: Vec<f32> = small
        .data_typed::<u8>()?
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    f.push(SIZE_WEIGHT * w / h);
    f.push(SIZE_WEIGHT * h / px);
    Ok(f)
}
