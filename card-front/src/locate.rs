//! Finding the card in a photo (on a copy at most [`WORK_SIDE`] wide: edges → closed contours →
//! convex quadrilaterals, the bright card stock, the card's straight sides, then the colour
//! edges' contours; the corners refined at full resolution) and rectifying it to the canonical
//! layout.

use crate::error::OcrError;
use crate::layout::{CARD_H, CARD_W};
use crate::quad::{card_like, order, MIN_AREA_FRAC};
use crate::scrub::ScrubbedMat;
use crate::sides::side_quads;
use opencv::core::{self, Mat, MatTraitConst, Point, Point2f, Rect, Scalar, Size, Vector};
use opencv::imgproc;

/// Dilations of the edge map that close gaps in the card's outline (each moves the inner
/// outline 2 px inwards, well within the field regions' slack).
const CLOSING_ITERATIONS: i32 = 2;
/// How many candidate quadrilaterals the reader tries, largest first.
pub const MAX_CANDIDATES: usize = 5;
/// Simplification tolerances tried on a convex hull, as fractions of its perimeter.
const HULL_EPS: [f64; 4] = [0.02, 0.035, 0.05, 0.08];

/// The longest side (pixels) of the copy of the photo the outlines are looked for in.
pub const WORK_SIDE: i32 = 960;

/// Where a candidate outline was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutlineSource {
    /// A closed contour of the edge map, or the convex hull of a broken one.
    Contour,
    /// A bright, nearly colourless region (the card's stock).
    BrightStock,
    /// Four straight sides fitted from edge segments ([`crate::sides`]).
    Sides,
    /// A closed contour of the colour edge map: a card as bright as what it lies on, of another
    /// colour.
    ColourContour,
}

/// The candidate card outlines of a photo (`image` as given, `grey` its grey version) the
/// reader tries first: see [`outlines`].
pub fn card_outlines(image: &Mat, grey: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let found = first_outlines(image, grey, WORK_SIDE)?;
    Ok(found.into_iter().map(|(q, _)| q).collect())
}

/// The candidate card outlines of a colour photo that only its colour edges give, none
/// already in `found`: the reader's second chance ([`OutlineSource::ColourContour`]).
pub fn colour_card_outlines(
    image: &Mat,
    grey: &Mat,
    found: &[[Point2f; 4]],
) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let found: Vec<_> = found.iter().map(|&q| (q, OutlineSource::Contour)).collect();
    let more = colour_outlines(image, grey, WORK_SIDE, &found)?;
    Ok(more.into_iter().map(|(q, _)| q).collect())
}

/// Every candidate card outline of a photo and where it was found, in the order the reader
/// tries them: the grey edge map's contours, then for a colour photo the two largest
/// bright-stock ones, then the two best-covered of straight sides (corners may lie outside
/// the photo), then the colour edge map's contours. Found on a copy of the photo at most
/// `work_side` ([`WORK_SIDE`] for the reader) wide; the corners are refined on the full photo.
pub fn outlines(
    image: &Mat,
    grey: &Mat,
    work_side: i32,
) -> Result<Vec<([Point2f; 4], OutlineSource)>, OcrError> {
    let mut found = first_outlines(image, grey, work_side)?;
    let more = colour_outlines(image, grey, work_side, &found)?;
    found.extend(more);
    Ok(found)
}

/// The outlines [`outlines`] gives before the colour edge map's.
fn first_outlines(
    image: &Mat,
    grey: &Mat,
    work_side: i32,
) -> Result<Vec<([Point2f; 4], OutlineSource)>, OcrError> {
    let scale = work_scale(grey, work_side);
    let edges = edge_map(&*shrunk(grey, scale)?)?;
    let mut quads: Vec<([Point2f; 4], OutlineSource)> = card_quads(&edges)?
        .into_iter()
        .map(|q| (q, OutlineSource::Contour))
        .collect();
    if image.channels() == 3 {
        let bright = bright_quads(&*shrunk(image, scale)?)?;
        quads.extend(
            bright
                .into_iter()
                .take(2)
                .map(|q| (q, OutlineSource::BrightStock)),
        );
    }
    quads.extend(
        side_quads(&edges)?
            .into_iter()
            .map(|q| (q, OutlineSource::Sides)),
    );
    refined(grey, scale, &quads, &[])
}

/// The contours of a colour photo's colour edge map not already in `found`: a card as bright
/// as what it lies on, of another colour, whose grey edges are too weak.
fn colour_outlines(
    image: &Mat,
    grey: &Mat,
    work_side: i32,
    found: &[([Point2f; 4], OutlineSource)],
) -> Result<Vec<([Point2f; 4], OutlineSource)>, OcrError> {
    if image.channels() != 3 {
        return Ok(Vec::new());
    }
    let scale = work_scale(grey, work_side);
    let quads: Vec<_> = card_quads(&*edge_map(&*shrunk(image, scale)?)?)?
        .into_iter()
        .map(|q| (q, OutlineSource::ColourContour))
        .collect();
    refined(grey, scale, &quads, found)
}

/// The scale of the copy at most `work_side` wide outlines are found in.
fn work_scale(grey: &Mat, work_side: i32) -> f64 {
    let longest = grey.cols().max(grey.rows()).max(1);
    (f64::from(work_side) / f64::from(longest)).min(1.0)
}

/// `quads` found on the copy at `scale`, their corners refined on the full photo `grey`,
/// without those on the same edges as one before them or in `found`.
fn refined(
    grey: &Mat,
    scale: f64,
    quads: &[([Point2f; 4], OutlineSource)],
    found: &[([Point2f; 4], OutlineSource)],
) -> Result<Vec<([Point2f; 4], OutlineSource)>, OcrError> {
    // Pixel centres of the copy onto those of the photo.
    let full = |p: Point2f| {
        let f = |v: f32| ((f64::from(v) + 0.5) / scale - 0.5) as f32;
        Point2f::new(f(p.x), f(p.y))
    };
    let search = ((f64::from(EDGE_SEARCH) / scale).ceil() as i32).min(MAX_EDGE_SEARCH);
    let mut smooth = ScrubbedMat::default();
    imgproc::gaussian_blur(
        grey,
        &mut *smooth,
        Size::new(3, 3),
        0.0,
        0.0,
        core::BORDER_DEFAULT,
    )?;
    let mut refined: Vec<([Point2f; 4], OutlineSource)> = Vec::with_capacity(quads.len());
    for (quad, source) in quads {
        let quad = refine_corners(&smooth, &quad.map(full), search)?;
        // Outlines that meet on the same edges read the same; straight sides near an outline
        // already found add only the cost of reading it again.
        let same = match source {
            OutlineSource::Sides => SAME_SIDES * (quad[1] - quad[0]).norm(),
            _ => SAME_CORNER,
        };
        if !found
            .iter()
            .chain(&refined)
            .any(|(q, _)| (0..4).all(|i| (q[i] - quad[i]).norm() < same))
        {
            refined.push((quad, *source));
        }
    }
    Ok(refined)
}

/// `image` scaled by `scale` (at most 1), averaged.
fn shrunk(image: &Mat, scale: f64) -> Result<ScrubbedMat, OcrError> {
    let mut out = ScrubbedMat::default();
    if scale >= 1.0 {
        image.copy_to(&mut *out)?;
    } else {
        imgproc::resize(
            image,
            &mut *out,
            Size::default(),
            scale,
            scale,
            imgproc::INTER_AREA,
        )?;
    }
    Ok(out)
}

/// Refined corners closer than this (pixels) are one outline.
const SAME_CORNER: f64 = 3.0;
/// Straight sides' corners closer than this share of the card's width to an outline's are
/// that outline.
const SAME_SIDES: f64 = 0.01;

/// The corners of `quad` moved onto the card's edges: along each side, the strongest step in
/// brightness within `search` pixels of it is taken as the edge, a line is fitted through
/// those steps, and the corners are where the four lines meet. A contour's polygon sits inside
/// the edge (the closing of the edge map) and cuts a rounded corner; this puts the corners where
/// the straight edges meet. A side with too few steps, or a corner that would move too far,
/// keeps the outline as it was.
fn refine_corners(grey: &Mat, quad: &[Point2f; 4], search: i32) -> Result<[Point2f; 4], OcrError> {
    let mut sides = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (quad[i], quad[(i + 1) % 4]);
        let length = (b - a).norm() as f32;
        let along = (b - a) * (1.0 / length.max(1.0));
        let normal = Point2f::new(-along.y, along.x);
        let mut steps = Vector::<Point2f>::new();
        for k in 0..EDGE_SAMPLES {
            let t = 0.1 + 0.8 * k as f32 / (EDGE_SAMPLES - 1) as f32;
            let p = a + (b - a) * t;
            if let Some(o) = strongest_step(grey, p, normal, search)? {
                steps.push(p + normal * o);
            }
        }
        if steps.len() < EDGE_SAMPLES / 2 {
            return Ok(*quad);
        }
        let mut line = core::Vec4f::default();
        imgproc::fit_line(&steps, &mut line, imgproc::DIST_HUBER, 0.0, 0.01, 0.01)?;
        sides.push(line);
    }
    let mut refined = *quad;
    for (i, corner) in refined.iter_mut().enumerate() {
        let (l1, l2) = (sides[(i + 3) % 4], sides[i]);
        let Some(p) = meet(l1, l2) else {
            return Ok(*quad);
        };
        let short = ((quad[3] - quad[0]).norm() as f32).min((quad[2] - quad[1]).norm() as f32);
        if ((p - *corner).norm() as f32) > MAX_CORNER_MOVE * short {
            return Ok(*quad);
        }
        *corner = p;
    }
    Ok(refined)
}

/// Points sampled along each side (its middle 80 %) when refining the corners.
const EDGE_SAMPLES: usize = 40;
/// How far from the outline (pixels of the copy outlines are found in, both ways along the
/// normal) the edge is looked for, and the most in the photo's pixels.
const EDGE_SEARCH: i32 = 8;
const MAX_EDGE_SEARCH: i32 = 24;
/// The least step in brightness (grey levels over 2 pixels) taken as the card's edge.
const EDGE_STEP: f32 = 12.0;
/// The farthest a refined corner may move, as a fraction of the card's short side.
const MAX_CORNER_MOVE: f32 = 0.05;

/// Where along `normal` from `p`, within `search` pixels, the brightness steps most (to a
/// fraction of a pixel), if it steps at least [`EDGE_STEP`].
fn strongest_step(
    grey: &Mat,
    p: Point2f,
    normal: Point2f,
    search: i32,
) -> Result<Option<f32>, OcrError> {
    let mut all = [0.0f32; (2 * MAX_EDGE_SEARCH + 3) as usize];
    let values = &mut all[..(2 * search + 3) as usize];
    for (k, v) in values.iter_mut().enumerate() {
        let q = p + normal * (k as i32 - search - 1) as f32;
        let Some(sample) = bilinear(grey, q)? else {
            return Ok(None);
        };
        *v = sample;
    }
    let step = |k: usize| (values[k + 1] - values[k - 1]).abs();
    let best = (1..values.len() - 1).max_by(|&i, &j| step(i).total_cmp(&step(j)));
    let Some(k) = best.filter(|&k| step(k) >= EDGE_STEP) else {
        return Ok(None);
    };
    // A parabola through the steps around the strongest one.
    let offset = if k > 1 && k < values.len() - 2 {
        let (l, c, r) = (step(k - 1), step(k), step(k + 1));
        let curve = l - 2.0 * c + r;
        if curve < 0.0 {
            0.5 * (l - r) / curve
        } else {
            0.0
        }
    } else {
        0.0
    };
    Ok(Some(k as f32 - (search + 1) as f32 + offset))
}

/// The grey level at a point between pixels, None outside the image.
fn bilinear(grey: &Mat, p: Point2f) -> Result<Option<f32>, OcrError> {
    let (x0, y0) = (p.x.floor() as i32, p.y.floor() as i32);
    if x0 < 0 || y0 < 0 || x0 + 1 >= grey.cols() || y0 + 1 >= grey.rows() {
        return Ok(None);
    }
    let (fx, fy) = (p.x - x0 as f32, p.y - y0 as f32);
    let at = |x: i32, y: i32| grey.at_2d::<u8>(y, x).map(|v| f32::from(*v));
    let top = at(x0, y0)? * (1.0 - fx) + at(x0 + 1, y0)? * fx;
    let bottom = at(x0, y0 + 1)? * (1.0 - fx) + at(x0 + 1, y0 + 1)? * fx;
    Ok(Some(top * (1.0 - fy) + bottom * fy))
}

/// Where two lines (direction x, y, then a point x, y, as `fit_line` gives them) meet.
fn meet(a: core::Vec4f, b: core::Vec4f) -> Option<Point2f> {
    let cross = a[0] * b[1] - a[1] * b[0];
    if cross.abs() < 1e-3 {
        return None;
    }
    let (dx, dy) = (b[2] - a[2], b[3] - a[3]);
    let t = (dx * b[1] - dy * b[0]) / cross;
    Some(Point2f::new(a[2] + t * a[0], a[3] + t * a[1]))
}

/// Canny's edges of a grey or BGR photo (of a BGR one, where the channel that changes most
/// changes), lightly blurred first.
fn edge_map(image: &Mat) -> Result<ScrubbedMat, OcrError> {
    let mut blurred = ScrubbedMat::default();
    imgproc::gaussian_blur(
        image,
        &mut *blurred,
        Size::new(5, 5),
        0.0,
        0.0,
        core::BORDER_DEFAULT,
    )?;
    let mut edges = ScrubbedMat::default();
    imgproc::canny(&*blurred, &mut *edges, 30.0, 90.0, 3, false)?;
    Ok(edges)
}

/// Candidate card outlines (TL, TR, BR, BL) of closed contours of the edge map `edges`,
/// largest first.
fn card_quads(edges: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let kernel =
        imgproc::get_structuring_element(imgproc::MORPH_RECT, Size::new(5, 5), Point::new(-1, -1))?;
    let mut closed = ScrubbedMat::default();
    imgproc::dilate(
        edges,
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
    let min_area = MIN_AREA_FRAC * f64::from(edges.rows()) * f64::from(edges.cols());
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
            return Ok(card_like(&quad).then_some(quad));
        }
        if approx.len() < 4 {
            break;
        }
    }
    Ok(None)
}

/// Warps the card inside `quad` to the canonical size.
pub fn rectify(grey: &Mat, quad: &[Point2f; 4]) -> Result<ScrubbedMat, OcrError> {
    warp(grey, quad, imgproc::INTER_LINEAR)
}

/// One way to warp a card to the canonical size once more, from other samples of the photo:
/// the outline moved by `shift` pixels down and right (up and left when negative), the photo
/// interpolated with `interpolation`. Every pixel of the card is made afresh, the printed lines
/// stay where [`rectify`] put them (within a pixel).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resampling {
    shift: f32,
    interpolation: i32,
}

/// The resamplings a second look tries in turn: half a pixel down and right, bicubic; half a
/// pixel up and left, Lanczos (both unlike [`rectify`]'s bilinear samples at the outline).
pub(crate) const RESAMPLINGS: [Resampling; 2] = [
    Resampling {
        shift: 0.5,
        interpolation: imgproc::INTER_CUBIC,
    },
    Resampling {
        shift: -0.5,
        interpolation: imgproc::INTER_LANCZOS4,
    },
];

/// The card inside `quad` warped to the canonical size once more, resampled `how`.
pub(crate) fn rectify_again(
    grey: &Mat,
    quad: &[Point2f; 4],
    how: Resampling,
) -> Result<ScrubbedMat, OcrError> {
    let shifted = quad.map(|p| Point2f::new(p.x + how.shift, p.y + how.shift));
    warp(grey, &shifted, how.interpolation)
}

fn warp(grey: &Mat, quad: &[Point2f; 4], interpolation: i32) -> Result<ScrubbedMat, OcrError> {
    let m = imgproc::get_perspective_transform_slice_def(*quad, card_corners())?;
    let mut card = ScrubbedMat::default();
    imgproc::warp_perspective(
        grey,
        &mut *card,
        &m,
        Size::new(CARD_W, CARD_H),
        interpolation,
        core::BORDER_REPLICATE,
        Default::default(),
    )?;
    Ok(card)
}

/// The part of a rectified card that lay inside the photo: the photo's four edges, mapped
/// onto the card ([`CARD_W`] × [`CARD_H`]) through the outline's perspective, as lines
/// `a·x + b·y + c = 0` (`a² + b² = 1`) with the photo on their positive side. A card whose
/// corners lie outside the frame was cut off there, and anything printed near the cut may be
/// a part of what was printed.
#[derive(Debug, Clone)]
pub struct VisiblePart {
    edges: Vec<[f64; 3]>,
}

impl VisiblePart {
    /// A card seen whole (a card rectified from its true corners, a printed card).
    pub fn whole() -> Self {
        Self { edges: Vec::new() }
    }

    /// The part of the card at `quad` (TL, TR, BR, BL in the photo, as [`rectify`] takes it)
    /// inside a photo of `size`.
    pub fn of(quad: &[Point2f; 4], size: Size) -> Result<Self, OcrError> {
        // Card → photo. A photo line l (l·p ≥ 0 inside) is the card line Mᵀ·l; the card lies
        // in front of the camera, so the homogeneous scale is positive on the whole card and
        // the sides keep their signs.
        let m = imgproc::get_perspective_transform_slice_def(card_corners(), *quad)?;
        let (w, h) = (f64::from(size.width), f64::from(size.height));
        let mut edges = Vec::with_capacity(4);
        for l in [
            [1.0, 0.0, 0.0],
            [-1.0, 0.0, w],
            [0.0, 1.0, 0.0],
            [0.0, -1.0, h],
        ] {
            let mut card_line = [0.0f64; 3];
            for (j, v) in card_line.iter_mut().enumerate() {
                for (i, li) in l.iter().enumerate() {
                    *v += li * *m.at_2d::<f64>(i as i32, j as i32)?;
                }
            }
            let norm = card_line[0].hypot(card_line[1]);
            if norm > 1e-12 {
                edges.push(card_line.map(|v| v / norm));
            } else if card_line[2] < 0.0 {
                // The photo's edge maps to the card's line at infinity with the card outside it.
                edges.push([0.0, 0.0, -1.0]);
            }
        }
        Ok(Self { edges })
    }

    /// How far (card pixels) the box `r` of the rectified card stays from the part of the
    /// card outside the photo: negative if it reaches into it, infinite on a card seen whole.
    pub fn clearance(&self, r: Rect) -> f64 {
        let (x0, y0) = (f64::from(r.x), f64::from(r.y));
        let (x1, y1) = (x0 + f64::from(r.width), y0 + f64::from(r.height));
        let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
        self.edges
            .iter()
            .flat_map(|[a, b, c]| corners.map(|(x, y)| a * x + b * y + c))
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether the text line `r` stays at least its own height (about a character) clear of
    /// the part of the card outside the photo: a line nearer than that may have lost a
    /// character, or part of one, to the frame's edge.
    pub fn holds_whole(&self, r: Rect) -> bool {
        self.clearance(r) >= f64::from(r.height)
    }
}

/// The canonical card's corners, TL, TR, BR, BL.
pub(crate) fn card_corners() -> [Point2f; 4] {
    [
        Point2f::new(0.0, 0.0),
        Point2f::new(CARD_W as f32, 0.0),
        Point2f::new(CARD_W as f32, CARD_H as f32),
        Point2f::new(0.0, CARD_H as f32),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visible_part_is_where_the_photo_saw_the_card() {
        // A card at 1.2 times its canonical size, turned 10°, whose right part (beyond
        // x = 1200 of the photo) lies outside the frame.
        let (s, c) = 10f32.to_radians().sin_cos();
        let at = |x: f32, y: f32| {
            Point2f::new(500.0 + 1.2 * (x * c - y * s), 80.0 + 1.2 * (x * s + y * c))
        };
        let quad = card_corners().map(|p| at(p.x, p.y));
        let visible = VisiblePart::of(&quad, Size::new(1200, 1080)).unwrap();
        // The photo's right edge crosses the card's top edge where x·cos 10° = 700 / 1.2.
        let cut_x = 700.0 / 1.2 / c;
        let line = |x: f32| Rect::new(x as i32, 0, 40, 20);
        // A line whose top right corner is 10 card px short of the cut is 10·cos 10° clear.
        let near = visible.clearance(line(cut_x - 50.0));
        assert!((near - 10.0 * f64::from(c)).abs() < 1.0, "{near}");
        assert!(!visible.holds_whole(line(cut_x - 50.0)));
        assert!(visible.clearance(line(cut_x - 30.0)) < 0.0);
        assert!(visible.holds_whole(line(cut_x - 100.0)));
        // Lower on the card the frame's edge cuts further right (the card is turned clockwise
        // on screen).
        let low = Rect::new((cut_x - 100.0) as i32, 500, 40, 20);
        assert!(visible.clearance(low) > visible.clearance(line(cut_x - 100.0)) + 50.0);
        // The photo's other edges are far from the card.
        assert!(visible.clearance(Rect::new(10, 10, 10, 10)) > 50.0);
        // A card seen whole holds every line whole.
        assert!(VisiblePart::whole().holds_whole(Rect::new(0, 0, CARD_W, CARD_H)));
        let inside = [
            (100.0, 100.0),
            (900.0, 100.0),
            (900.0, 600.0),
            (100.0, 600.0),
        ]
        .map(|(x, y)| Point2f::new(x, y));
        let framed = VisiblePart::of(&inside, Size::new(1280, 720)).unwrap();
        assert!(framed.clearance(Rect::new(0, 0, CARD_W, CARD_H)) > 100.0);
    }

    /// A card of `colour` drawn into `photo` at `corners` (TL, TR, BR, BL), which it returns.
    fn drawn_card(photo: &mut Mat, corners: [(f32, f32); 4], colour: Scalar) -> [Point2f; 4] {
        let truth = corners.map(|(x, y)| Point2f::new(x, y));
        let outline: Vector<Point> = truth
            .iter()
            .map(|p| Point::new(p.x.round() as i32, p.y.round() as i32))
            .collect();
        imgproc::fill_convex_poly_def(photo, &outline, colour).unwrap();
        truth
    }

    #[test]
    fn corners_move_onto_the_edges_of_a_card_with_rounded_corners() {
        // A light card with rounded corners (radius 20 px) on a dark ground, turned 5°.
        let mut photo =
            Mat::new_rows_cols_with_default(480, 640, core::CV_8UC1, Scalar::all(40.0)).unwrap();
        let corners = [
            (120.0, 100.0),
            (520.0, 135.0),
            (498.0, 386.0),
            (98.0, 351.0),
        ];
        let truth = drawn_card(&mut photo, corners, Scalar::all(210.0));
        for corner in truth {
            // Cut the corner off and round it: a disc of radius 20 set 22 px inside.
            let inward = (truth[0] + truth[2]) * 0.5 - corner;
            let inward = inward * (1.0 / inward.norm() as f32);
            let cut = corner + inward * 22.0;
            for (centre, radius, grey) in [(corner, 14, 40.0), (cut, 20, 210.0)] {
                let centre = Point::new(centre.x as i32, centre.y as i32);
                imgproc::circle(
                    &mut photo,
                    centre,
                    radius,
                    Scalar::all(grey),
                    -1,
                    imgproc::LINE_8,
                    0,
                )
                .unwrap();
            }
        }
        // An outline 6 px inside the edges, as the closed edge map's contour gives.
        let centre = (truth[0] + truth[2]) * 0.5;
        let inset = truth.map(|p| p + (centre - p) * (6.0 / (centre - p).norm() as f32));
        let refined = refine_corners(&photo, &inset, EDGE_SEARCH).unwrap();
        for (r, t) in refined.iter().zip(truth) {
            assert!((*r - t).norm() < 1.5, "{r:?} is not at {t:?}");
        }
        for (i, t) in inset.iter().zip(truth) {
            assert!((*i - t).norm() > 5.0);
        }
    }

    #[test]
    fn a_card_as_bright_as_the_cloth_it_lies_on_is_found_by_its_colour() {
        // A bluish white card on a pale pink cloth of the same grey (216 against 217): no grey
        // edge, no bright stock apart from the cloth (both nearly colourless), but the red and
        // blue channels step by 30 and 20 at the card's edges (held-out seed 777's cards 23,
        // 51 and 134 lay so, each found by no outline before).
        let cloth = Scalar::new(215.0, 205.0, 240.0, 0.0);
        let mut photo = Mat::new_rows_cols_with_default(480, 640, core::CV_8UC3, cloth).unwrap();
        let corners = [
            (130.0, 110.0),
            (530.0, 140.0),
            (512.0, 392.0),
            (112.0, 362.0),
        ];
        let truth = drawn_card(&mut photo, corners, Scalar::new(235.0, 215.0, 210.0, 0.0));
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&photo, &mut grey, imgproc::COLOR_BGR2GRAY).unwrap();
        // Within 1.5 % of the card's width, as `card-front locate` counts: the corners are
        // refined on the grey photo, where these edges do not show.
        let at_truth = |q: &[Point2f; 4]| (0..4).all(|i| (q[i] - truth[i]).norm() < 6.0);
        let first = first_outlines(&photo, &grey, WORK_SIDE).unwrap();
        assert!(!first.iter().any(|(q, _)| at_truth(q)), "{first:?}");
        let all = outlines(&photo, &grey, WORK_SIDE).unwrap();
        let found: Vec<_> = all.iter().filter(|(q, _)| at_truth(q)).collect();
        assert!(!found.is_empty(), "{all:?}");
        assert!(
            found
                .iter()
                .all(|(_, by)| *by == OutlineSource::ColourContour),
            "{all:?}"
        );
        let quads = card_outlines(&photo, &grey).unwrap();
        let more = colour_card_outlines(&photo, &grey, &quads).unwrap();
        assert!(more.iter().any(at_truth), "{more:?}");
        // A grey photo has no colour edges.
        assert!(colour_card_outlines(&grey, &grey, &[]).unwrap().is_empty());
    }

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
