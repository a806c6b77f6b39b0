//! A card's outline from its four straight sides: edge segments grouped into lines, two
//! near-parallel pairs of lines meeting in a quadrilateral of card-like aspect. For cards whose
//! outline is no closed contour: an edge broken by clutter of like brightness, a corner under a
//! finger or outside the frame.

use crate::error::OcrError;
use crate::quad::{card_like, order, MIN_AREA_FRAC};
use opencv::core::{Mat, MatTraitConst, Point2f, Vec4i, Vector};
use opencv::imgproc;

/// Shortest edge segment taken, as a fraction of the photo's shorter side.
const MIN_SEGMENT: f64 = 0.06;
/// Segments within this angle (degrees) and distance (pixels) of a line lie on it.
const SAME_LINE_DEG: f32 = 2.5;
const SAME_LINE_PX: f32 = 3.0;
/// Lines kept (the longest-supported).
const MAX_LINES: usize = 24;
/// Opposite sides of a card in perspective differ in direction by at most this (degrees).
const PARALLEL_DEG: f32 = 15.0;
/// The least share of each side's length (of its part inside the photo) its segments cover.
const MIN_COVER: f32 = 0.3;
/// The most of a side's length its segments may run on beyond its corners: a longer line is
/// a background line crossing the card, not its side.
const MAX_OVERSHOOT: f32 = 0.25;
/// Candidates returned, best covered first.
const MAX_QUADS: usize = 2;

/// A straight line through edge segments: a point, its unit direction, and its segments as
/// intervals along it.
struct Line {
    at: Point2f,
    dir: Point2f,
    spans: Vec<(f32, f32)>,
    support: f32,
}

impl Line {
    fn angle(&self) -> f32 {
        self.dir.y.atan2(self.dir.x).to_degrees().rem_euclid(180.0)
    }

    fn along(&self, p: Point2f) -> f32 {
        (p - self.at).dot(self.dir)
    }

    fn distance(&self, p: Point2f) -> f32 {
        ((p - self.at).cross(self.dir) as f32).abs()
    }
}

/// Quadrilaterals (TL, TR, BR, BL; corners may lie outside the photo) whose four sides lie on
/// lines of the edge map `edges`, best covered by their segments first.
pub(crate) fn side_quads(edges: &Mat) -> Result<Vec<[Point2f; 4]>, OcrError> {
    let (w, h) = (edges.cols() as f32, edges.rows() as f32);
    let mut segments = Vector::<Vec4i>::new();
    let shorter = f64::from(w.min(h));
    imgproc::hough_lines_p(
        edges,
        &mut segments,
        1.0,
        std::f64::consts::PI / 180.0,
        (MIN_SEGMENT * shorter / 2.0) as i32,
        MIN_SEGMENT * shorter,
        3.0,
    )?;
    let lines = lines_of(&segments);
    let min_area = MIN_AREA_FRAC as f32 * w * h;
    let mut found: Vec<(f32, [Point2f; 4])> = Vec::new();
    let parallel = |a: &Line, b: &Line| {
        let d = (a.angle() - b.angle()).abs();
        d.min(180.0 - d) <= PARALLEL_DEG
    };
    let pairs: Vec<(usize, usize)> = (0..lines.len())
        .flat_map(|i| (i + 1..lines.len()).map(move |j| (i, j)))
        .filter(|&(i, j)| parallel(&lines[i], &lines[j]))
        .filter(|&(i, j)| lines[i].distance(lines[j].at) > 0.1 * w.min(h))
        .collect();
    for (n, &(a, b)) in pairs.iter().enumerate() {
        for &(c, d) in &pairs[n + 1..] {
            if [c, d].iter().any(|k| *k == a || *k == b) || parallel(&lines[a], &lines[c]) {
                continue;
            }
            if let Some(quad) = quad_of([&lines[a], &lines[c], &lines[b], &lines[d]], (w, h)) {
                if area(&quad.1) >= min_area && card_like(&quad.1) {
                    found.push(quad);
                }
            }
        }
    }
    found.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut quads: Vec<[Point2f; 4]> = Vec::new();
    for (_, q) in found {
        if !quads
            .iter()
            .any(|p| (0..4).all(|i| (p[i] - q[i]).norm() < 12.0))
        {
            quads.push(q);
        }
        if quads.len() == MAX_QUADS {
            break;
        }
    }
    Ok(quads)
}

/// The edge segments grouped into lines, the longest-supported first.
fn lines_of(segments: &Vector<Vec4i>) -> Vec<Line> {
    let mut segs: Vec<(Point2f, Point2f)> = segments
        .iter()
        .map(|s| {
            (
                Point2f::new(s[0] as f32, s[1] as f32),
                Point2f::new(s[2] as f32, s[3] as f32),
            )
        })
        .collect();
    segs.sort_by(|a, b| ((b.1 - b.0).norm()).total_cmp(&(a.1 - a.0).norm()));
    let mut lines: Vec<Line> = Vec::new();
    for (p, q) in segs {
        let length = (q - p).norm() as f32;
        if length < 1.0 {
            continue;
        }
        let dir = (q - p) * (1.0 / length);
        let on = lines.iter_mut().find(|l| {
            let d = (l.angle() - dir.y.atan2(dir.x).to_degrees().rem_euclid(180.0)).abs();
            d.min(180.0 - d) <= SAME_LINE_DEG
                && l.distance(p) <= SAME_LINE_PX
                && l.distance(q) <= SAME_LINE_PX
        });
        match on {
            Some(line) => {
                let (s, t) = (line.along(p), line.along(q));
                line.spans.push((s.min(t), s.max(t)));
                line.support += length;
            }
            None => lines.push(Line {
                at: p,
                dir,
                spans: vec![(0.0, length)],
                support: length,
            }),
        }
    }
    lines.sort_by(|a, b| b.support.total_cmp(&a.support));
    lines.truncate(MAX_LINES);
    lines
}

/// The quadrilateral of four lines in turn round it (`sides[k]` between corners k and k + 1 of
/// the cycle), if every side is covered enough by its segments and overshot little: its score
/// (the sides' least cover) and its corners ordered TL, TR, BR, BL.
fn quad_of(sides: [&Line; 4], (w, h): (f32, f32)) -> Option<(f32, [Point2f; 4])> {
    let mut corners = [Point2f::default(); 4];
    for (k, corner) in corners.iter_mut().enumerate() {
        *corner = meet(sides[(k + 3) % 4], sides[k])?;
    }
    let mut least = f32::INFINITY;
    for (k, side) in sides.iter().enumerate() {
        let (p, q) = (corners[k], corners[(k + 1) % 4]);
        let (s, t) = (side.along(p), side.along(q));
        let (s, t) = (s.min(t), s.max(t));
        let length = t - s;
        let seen = visible_length(p, q, (w, h));
        if length < 1.0 || seen < 0.5 * length {
            return None;
        }
        let covered = union_length(side.spans.iter().map(|&(a, b)| (a.max(s), b.min(t))));
        let beyond = union_length(side.spans.iter().map(|&(a, b)| (a, b.min(s))))
            + union_length(side.spans.iter().map(|&(a, b)| (a.max(t), b)));
        if covered < MIN_COVER * seen || beyond > MAX_OVERSHOOT * length {
            return None;
        }
        least = least.min(covered / seen);
    }
    let convex = (0..4).all(|k| {
        let (a, b, c) = (corners[k], corners[(k + 1) % 4], corners[(k + 2) % 4]);
        (b - a).cross(c - b) > 0.0
    }) || (0..4).all(|k| {
        let (a, b, c) = (corners[k], corners[(k + 1) % 4], corners[(k + 2) % 4]);
        (b - a).cross(c - b) < 0.0
    });
    convex.then(|| (least, order(&corners)))
}

/// Where two lines meet, unless nearly parallel.
fn meet(a: &Line, b: &Line) -> Option<Point2f> {
    let cross = a.dir.cross(b.dir) as f32;
    if cross.abs() < 0.2 {
        return None;
    }
    let t = (b.at - a.at).cross(b.dir) as f32 / cross;
    Some(a.at + a.dir * t)
}

/// How much of the segment p–q lies inside a w × h photo.
fn visible_length(p: Point2f, q: Point2f, (w, h): (f32, f32)) -> f32 {
    const STEPS: usize = 32;
    let inside = (0..STEPS)
        .filter(|&i| {
            let r = p + (q - p) * ((i as f32 + 0.5) / STEPS as f32);
            (0.0..w).contains(&r.x) && (0.0..h).contains(&r.y)
        })
        .count();
    (q - p).norm() as f32 * inside as f32 / STEPS as f32
}

/// The length of the union of intervals (empty ones ignored).
fn union_length(spans: impl Iterator<Item = (f32, f32)>) -> f32 {
    let mut spans: Vec<(f32, f32)> = spans.filter(|(a, b)| b > a).collect();
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut total, mut end) = (0.0, f32::NEG_INFINITY);
    for (a, b) in spans {
        if b > end {
            total += b - a.max(end);
            end = b;
        }
    }
    total
}

/// The area of a quadrilateral.
fn area(q: &[Point2f; 4]) -> f32 {
    (0..4)
        .map(|k| q[k].cross(q[(k + 1) % 4]) as f32)
        .sum::<f32>()
        .abs()
        / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{self, Point, Scalar};

    #[test]
    fn a_card_whose_corner_is_covered_and_whose_side_is_broken_is_found_by_its_sides() {
        // A light card (turned 8°) on a dark ground: its bottom-right corner under a finger
        // (a dark disc), its top side broken by a light shape of the card's brightness that
        // joins the card to the edge of the photo; its bottom-left corner outside the frame.
        let mut photo =
            Mat::new_rows_cols_with_default(540, 960, core::CV_8UC1, Scalar::all(50.0)).unwrap();
        let truth = [(39.5, 37.4), (673.3, 126.4), (620.5, 502.6), (-13.3, 413.6)]
            .map(|(x, y)| Point2f::new(x, y));
        let outline: Vector<Point> = truth
            .iter()
            .map(|p| Point::new(p.x.round() as i32, p.y.round() as i32))
            .collect();
        imgproc::fill_convex_poly_def(&mut photo, &outline, Scalar::all(200.0)).unwrap();
        let light = Scalar::all(200.0);
        imgproc::rectangle_def(&mut photo, core::Rect::new(250, 0, 60, 110), light).unwrap();
        let dark = Scalar::all(50.0);
        imgproc::circle(
            &mut photo,
            Point::new(620, 502),
            45,
            dark,
            -1,
            imgproc::LINE_8,
            0,
        )
        .unwrap();
        let mut edges = Mat::default();
        imgproc::canny_def(&photo, &mut edges, 30.0, 90.0).unwrap();
        let quads = side_quads(&edges).unwrap();
        let best = quads.first().expect("a quadrilateral");
        for (q, t) in best.iter().zip(truth) {
            assert!((*q - t).norm() < 4.0, "{best:?}");
        }
    }
}
