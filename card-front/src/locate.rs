//! Finding the card in a photo (edges → closed contours → convex quadrilaterals) and
//! rectifying it to the canonical layout.

use crate::error::OcrError;
use crate::layout::{CARD_H, CARD_W};
use crate::scrub::ScrubbedMat;
use opencv::core::{self, Mat, MatTraitConst, Point, Point2f, Scalar, Size, Vector};
use opencv::imgproc;

/// Smallest card, as a fraction of the photo's area.
const MIN_AREA_FRAC: f64 = 0.06;
/// Accepted ratio of long to short side (ID-1 is 1.585), allowing for perspective.
const ASPECT: std::ops::RangeInclusive<f32> = 1.35..=2.0;
/// Dilations of the edge map that close gaps in the card's outline (each moves the inner
/// outline 2 px inwards, well within the field regions' slack).
const CLOSING_ITERATIONS: i32 = 2;
/// How many candidate quadrilaterals the reader tries, largest first.
pub const MAX_CANDIDATES: usize = 5;
/// Simplification tolerances tried on a convex hull, as fractions of its perimeter.
const HULL_EPS: [f64; 4] = [0.02, 0.035, 0.05, 0.08];

/// Every candidate card outline of a photo (`image` as given, `grey` its grey version): the
/// edge-based ones, then for a colour photo the two largest bright-stock ones.
pub fn card_outlines(image: &Mat, grey: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let mut quads = card_quads(grey)?;
    if image.channels() == 3 {
        quads.extend(bright_quads(image)?.into_iter().take(2));
    }
    Ok(quads)
}

/// Candidate card outlines (TL, TR, BR, BL), largest first.
fn card_quads(grey: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let mut blurred = ScrubbedMat::default();
    imgproc::gaussian_blur(
        grey,
        &mut *blurred,
        Size::new(5, 5),
        0.0,
        0.0,
        core::BORDER_DEFAULT,
    )?;
    let mut edges = ScrubbedMat::default();
    imgproc::canny(&*blurred, &mut *edges, 30.0, 90.0, 3, false)?;
    let kernel =
        imgproc::get_structuring_element(imgproc::MORPH_RECT, Size::new(5, 5), Point::new(-1, -1))?;
    let mut closed = ScrubbedMat::default();
    imgproc::dilate(
        &*edges,
        &mut *closed,
        &kernel,
        Point::new(-1, -1),
        CLOSING_ITERATIONS,
        core::BORDER_CONSTANT,
        imgproc::morphology_default_border_value()?,
    )?;
    let mut contours = Vector::<Vector<Point>>::new();
    imgproc::find_contours(
        &*closed,
        &mut contours,
        imgproc::RETR_LIST,
        imgproc::CHAIN_APPROX_SIMPLE,
        Point::default(),
    )?;
    let min_area = MIN_AREA_FRAC * f64::from(grey.rows()) * f64::from(grey.cols());
    // Clean quadrilateral contours first (the inside of the card's outline), then the convex
    // hulls of broken ones (a finger over the edge, clutter touching the card); largest first.
    let mut quads: Vec<(bool, f64, [Point2f; 4])> = Vec::new();
    for contour in contours {
        let area = imgproc::contour_area_def(&contour)?;
        if area < min_area {
            continue;
        }
        let mut hull = Vector::<Point>::new();
        imgproc::convex_hull_def(&contour, &mut hull)?;
        let candidates = [
            (true, quadrilateral(&contour, &[0.02])?),
            (false, quadrilateral(&hull, &HULL_EPS)?),
        ];
        for (clean, quad) in candidates {
            let Some(quad) = quad else { continue };
            let duplicate = quads
                .iter()
                .any(|(_, _, q)| (0..4).all(|i| (q[i] - quad[i]).norm() < 12.0));
            if !duplicate {
                quads.push((clean, area, quad));
            }
        }
    }
    quads.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    Ok(quads
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(_, _, q)| q)
        .collect())
}

/// Outlines of bright, nearly colourless regions of a BGR photo (the card's white-pink stock),
/// a second opinion for photos where the card's edges are broken; largest first.
fn bright_quads(bgr: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let mut hsv = ScrubbedMat::default();
    imgproc::cvt_color_def(bgr, &mut *hsv, imgproc::COLOR_BGR2HSV)?;
    let mut mask = ScrubbedMat::default();
    let (low, high) = (
        Scalar::new(0.0, 0.0, 110.0, 0.0),
        Scalar::new(180.0, 70.0, 255.0, 0.0),
    );
    core::in_range(&*hsv, &low, &high, &mut *mask)?;
    let kernel =
        imgproc::get_structuring_element(imgproc::MORPH_RECT, Size::new(9, 9), Point::new(-1, -1))?;
    let mut cleaned = ScrubbedMat::default();
    let border = imgproc::morphology_default_border_value()?;
    imgproc::morphology_ex(
        &*mask,
        &mut *cleaned,
        imgproc::MORPH_CLOSE,
        &kernel,
        Point::new(-1, -1),
        1,
        core::BORDER_CONSTANT,
        border,
    )?;
    imgproc::morphology_ex(
        &*cleaned,
        &mut *mask,
        imgproc::MORPH_OPEN,
        &kernel,
        Point::new(-1, -1),
        1,
        core::BORDER_CONSTANT,
        border,
    )?;
    let mut contours = Vector::<Vector<Point>>::new();
    imgproc::find_contours(
        &*mask,
        &mut contours,
        imgproc::RETR_EXTERNAL,
        imgproc::CHAIN_APPROX_SIMPLE,
        Point::default(),
    )?;
    let min_area = MIN_AREA_FRAC * f64::from(bgr.rows()) * f64::from(bgr.cols());
    let mut quads = Vec::new();
    for contour in contours {
        let area = imgproc::contour_area_def(&contour)?;
        if area < min_area {
            continue;
        }
        let mut hull = Vector::<Point>::new();
        imgproc::convex_hull_def(&contour, &mut hull)?;
        if let Some(quad) = quadrilateral(&hull, &HULL_EPS)? {
            quads.push((area, quad));
        }
    }
    quads.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(quads.into_iter().map(|(_, q)| q).collect())
}

/// The curve simplified (at the first tolerance, a fraction of the perimeter, giving four corners) to four corners with a card-like aspect, ordered TL, TR, BR, BL.
fn quadrilateral(
    curve: &Vector<Point>,
    tolerances: &[f64],
) -> Result<Option<[Point2f; 4]>, OcrError> {
    let perimeter = imgproc::arc_length(curve, true)?;
    for eps in tolerances {
        let mut approx = Vector::<Point>::new();
        imgproc::approx_poly_dp(curve, &mut approx, eps * perimeter, true)?;
        if approx.len() == 4 {
            let pts: Vec<Point2f> = approx
                .iter()
                .map(|p| Point2f::new(p.x as f32, p.y as f32))
                .collect();
            let quad = order(&pts);
            let long = ((quad[1] - quad[0]).norm() + (quad[2] - quad[3]).norm()) as f32;
            let short = ((quad[3] - quad[0]).norm() + (quad[2] - quad[1]).norm()) as f32;
            return Ok((short > 0.0 && ASPECT.contains(&(long / short))).then_some(quad));
        }
        if approx.len() < 4 {
            break;
        }
    }
    Ok(None)
}

/// Orders four corners TL, TR, BR, BL, with TL→TR along the long side.
fn order(pts: &[Point2f]) -> [Point2f; 4] {
    let cx = pts.iter().map(|p| p.x).sum::<f32>() / 4.0;
    let cy = pts.iter().map(|p| p.y).sum::<f32>() / 4.0;
    let mut sorted = pts.to_vec();
    // Clockwise on screen (y down), starting from the corner with the smallest x + y.
    sorted.sort_by(|a, b| {
        (a.y - cy)
            .atan2(a.x - cx)
            .total_cmp(&(b.y - cy).atan2(b.x - cx))
    });
    let start = (0..4)
        .min_by(|&i, &j| (sorted[i].x + sorted[i].y).total_cmp(&(sorted[j].x + sorted[j].y)))
        .unwrap_or(0);
    let mut q: [Point2f; 4] = std::array::from_fn(|i| sorted[(start + i) % 4]);
    if (q[1] - q[0]).norm() < (q[2] - q[1]).norm() {
        q.rotate_left(3);
    }
    q
}

/// Warps the card inside `quad` to the canonical size.
pub fn rectify(grey: &Mat, quad: &[Point2f; 4]) -> Result<ScrubbedMat, OcrError> {
    let dst = [
        Point2f::new(0.0, 0.0),
        Point2f::new(CARD_W as f32, 0.0),
        Point2f::new(CARD_W as f32, CARD_H as f32),
        Point2f::new(0.0, CARD_H as f32),
    ];
    let m = imgproc::get_perspective_transform_slice_def(*quad, dst)?;
    let mut card = ScrubbedMat::default();
    imgproc::warp_perspective(
        grey,
        &mut *card,
        &m,
        Size::new(CARD_W, CARD_H),
        imgproc::INTER_LINEAR,
        core::BORDER_REPLICATE,
        Default::default(),
    )?;
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_are_ordered_from_top_left_clockwise_along_the_long_side() {
        let pts = [
            Point2f::new(300.0, 210.0),
            Point2f::new(10.0, 20.0),
            Point2f::new(12.0, 200.0),
            Point2f::new(310.0, 15.0),
        ];
        let q = order(&pts);
        assert_eq!(q, [pts[1], pts[3], pts[0], pts[2]]);
    }
}
