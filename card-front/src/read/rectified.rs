//! A card rectified from one outline with the text lines found on it, either way up, and where
//! a read card lies in the photo (to paint it over before looking for a second card).

use crate::error::OcrError;
use crate::layout::{CARD_H, CARD_W};
use crate::locate::{card_corners, rectify, VisiblePart};
use crate::quad::half_turned;
use crate::scrub::ScrubbedMat;
use opencv::core::{self, Mat, Point, Point2f, Rect, Size, Vector};
use opencv::imgproc;

/// A grey card rectified from `quad`, the part of it inside the photo, and its text lines.
pub(super) struct Rectified {
    pub quad: [Point2f; 4],
    pub card: ScrubbedMat,
    pub visible: VisiblePart,
    pub lines: Result<Vec<Rect>, OcrError>,
}

impl Rectified {
    /// The card at `quad` in `grey` (a photo of `size`), its lines found by `find`.
    pub fn new(
        grey: &Mat,
        quad: &[Point2f; 4],
        size: Size,
        find: impl FnOnce(&Mat) -> Result<Vec<Rect>, OcrError>,
    ) -> Result<Self, OcrError> {
        let card = rectify(grey, quad)?;
        let lines = find(&card);
        Ok(Self {
            quad: *quad,
            visible: VisiblePart::of(quad, size)?,
            card,
            lines,
        })
    }

    /// The same card turned half round (read from the outline's opposite corner): its pixels
    /// and its lines turned, not found again.
    pub fn turned(&self, size: Size) -> Result<Self, OcrError> {
        let mut card = ScrubbedMat::default();
        core::rotate(&*self.card, &mut *card, core::ROTATE_180)?;
        let quad = half_turned(&self.quad);
        let lines = self.lines.clone().map(|lines| {
            lines
                .iter()
                .map(|r| {
                    Rect::new(
                        CARD_W - r.x - r.width,
                        CARD_H - r.y - r.height,
                        r.width,
                        r.height,
                    )
                })
                .collect()
        });
        Ok(Self {
            quad,
            visible: VisiblePart::of(&quad, size)?,
            card,
            lines,
        })
    }
}

/// Where the card read at outline `quad`, whose field lines lay at `fields` on the rectified
/// card, lies in the photo: the whole outline (grown by 5 %) when it is the card's, or — when the
/// outline is more than five times the size of the hull of the field lines, so that it may take
/// in a second card — that hull grown by a quarter about its centre.
pub(super) fn read_card_in_photo(
    quad: &[Point2f; 4],
    fields: &[Rect; 3],
) -> Result<Vector<Point>, OcrError> {
    let mut hull = Vector::<Point2f>::new();
    imgproc::convex_hull_def(&fields_in_photo(quad, fields)?, &mut hull)?;
    let outline: Vector<Point2f> = quad.iter().copied().collect();
    let card_sized =
        imgproc::contour_area_def(&outline)? <= 5.0 * imgproc::contour_area_def(&hull)?;
    let (shape, factor) = if card_sized {
        (outline, 1.05)
    } else {
        (hull, 1.25)
    };
    Ok(grown(&shape, factor))
}

/// The smallest of `outlines` that is smaller than `quad` by [`TIGHTER`] or more of its area
/// and holds every corner of the field lines read at `quad` (at `fields` on the rectified
/// card), if any: then `quad` takes in more than the card (clutter around it), and a read
/// through it sees the card's type through a perspective that is not the card's (development
/// seed 779, card 18: a birth digit read wrong at 0.996 through an outline of most of the
/// photo, right through the card's own).
pub(super) fn tightest_holding(
    quad: &[Point2f; 4],
    fields: &[Rect; 3],
    outlines: &[[Point2f; 4]],
) -> Result<Option<[Point2f; 4]>, OcrError> {
    let corners = fields_in_photo(quad, fields)?;
    let most = TIGHTER * area(quad)?;
    let mut tightest: Option<([Point2f; 4], f64)> = None;
    for other in outlines {
        let size = area(other)?;
        if size > most || tightest.is_some_and(|(_, least)| least <= size) {
            continue;
        }
        let shape: Vector<Point2f> = other.iter().copied().collect();
        let mut inside = true;
        for p in &corners {
            inside &= imgproc::point_polygon_test(&shape, p, false)? >= 0.0;
        }
        if inside {
            tightest = Some((*other, size));
        }
    }
    Ok(tightest.map(|(q, _)| q))
}

/// The field lines read at `fields` on the card rectified from `from`, as boxes on the card
/// rectified from `to`, and `to` turned the way the card lies in `from` (either way up). A box
/// is mapped by the middles of its sides: the two outlines' perspectives differ, and the
/// bounds of a whole box mapped would take in the rows above and below it.
pub(super) fn fields_seen_through(
    from: &[Point2f; 4],
    fields: &[Rect; 3],
    to: &[Point2f; 4],
) -> Result<([Point2f; 4], [Rect; 3]), OcrError> {
    let middles: Vec<Point2f> = fields
        .iter()
        .flat_map(|r| {
            let (x0, y0) = (r.x as f32, r.y as f32);
            let (x1, y1) = (x0 + r.width as f32, y0 + r.height as f32);
            let (xc, yc) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            [(x0, yc), (x1, yc), (xc, y0), (xc, y1)].map(|(x, y)| Point2f::new(x, y))
        })
        .collect();
    let photo = in_photo(from, &middles)?;
    let onto = |to: &[Point2f; 4]| -> Result<Vec<Point2f>, OcrError> {
        let to_card = imgproc::get_perspective_transform_slice_def(*to, card_corners())?;
        let mut mapped = Vector::<Point2f>::new();
        core::perspective_transform(&photo, &mut mapped, &to_card)?;
        Ok(mapped.iter().collect())
    };
    let mut to = *to;
    let mut mapped = onto(&to)?;
    // The first line's left end left of its right end: the same way up.
    if mapped[0].x > mapped[1].x {
        to = half_turned(&to);
        mapped = onto(&to)?;
    }
    let boxes = std::array::from_fn(|i| {
        let [left, right, top, bottom] = [0, 1, 2, 3].map(|k| mapped[4 * i + k]);
        let (w, h) = ((right.x - left.x).abs(), (bottom.y - top.y).abs());
        let (cx, cy) = ((left.x + right.x) / 2.0, (top.y + bottom.y) / 2.0);
        Rect::new(
            (cx - w / 2.0).round() as i32,
            (cy - h / 2.0).round() as i32,
            w.round() as i32,
            h.round() as i32,
        )
    });
    Ok((to, boxes))
}

/// How much smaller than an outline another must be to be a tighter outline of its card
/// ([`tightest_holding`]); outlines of one card found twice differ by a few per cent.
const TIGHTER: f64 = 0.8;

/// The area of a quadrilateral.
fn area(quad: &[Point2f; 4]) -> Result<f64, OcrError> {
    let shape: Vector<Point2f> = quad.iter().copied().collect();
    Ok(imgproc::contour_area_def(&shape)?)
}

/// The corners of the field lines `fields` of the card rectified from `quad`, in the photo.
fn fields_in_photo(quad: &[Point2f; 4], fields: &[Rect; 3]) -> Result<Vector<Point2f>, OcrError> {
    let corners: Vec<Point2f> = fields
        .iter()
        .flat_map(|r| {
            let (x0, y0) = (r.x as f32, r.y as f32);
            let (x1, y1) = (x0 + r.width as f32, y0 + r.height as f32);
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].map(|(x, y)| Point2f::new(x, y))
        })
        .collect();
    in_photo(quad, &corners)
}

/// `points` of the card rectified from `quad`, in the photo.
fn in_photo(quad: &[Point2f; 4], points: &[Point2f]) -> Result<Vector<Point2f>, OcrError> {
    let to_photo = imgproc::get_perspective_transform_slice_def(card_corners(), *quad)?;
    let points: Vector<Point2f> = points.iter().copied().collect();
    let mut mapped = Vector::<Point2f>::new();
    core::perspective_transform(&points, &mut mapped, &to_photo)?;
    Ok(mapped)
}

/// Whether outline `quad` leaves room for a card outside `cover` (where the card read lies):
/// at least a third of the read card's size (a second card half hidden behind the first still
/// shows that much).
pub(super) fn room_for_a_card(
    quad: &[Point2f; 4],
    cover: &Vector<Point>,
) -> Result<bool, OcrError> {
    let quad: Vector<Point2f> = quad.iter().copied().collect();
    let cover: Vector<Point2f> = cover
        .iter()
        .map(|p| Point2f::new(p.x as f32, p.y as f32))
        .collect();
    let mut common = Vector::<Point2f>::new();
    let shared = imgproc::intersect_convex_convex_def(&quad, &cover, &mut common)?;
    let card = imgproc::contour_area_def(&cover)?;
    Ok(imgproc::contour_area_def(&quad)? - f64::from(shared) >= card / 3.0)
}

/// How much larger or smaller than the read card's outline a second card's may be (areas).
const BESIDE_AREA: std::ops::RangeInclusive<f64> = 0.4..=2.5;
/// The most of a second card's outline the read card's may cover.
const BESIDE_SHARED: f64 = 0.1;

/// Whether outline `quad` is of a card lying beside the read card's outline `read_at`: about
/// its size ([`BESIDE_AREA`]) and hardly covered by it ([`BESIDE_SHARED`]).
pub(super) fn beside(quad: &[Point2f; 4], read_at: &[Point2f; 4]) -> Result<bool, OcrError> {
    let (this, read) = (area(quad)?, area(read_at)?);
    let shape = |q: &[Point2f; 4]| -> Vector<Point2f> { q.iter().copied().collect() };
    let mut common = Vector::<Point2f>::new();
    let shared = imgproc::intersect_convex_convex_def(&shape(quad), &shape(read_at), &mut common)?;
    Ok(BESIDE_AREA.contains(&(this / read)) && f64::from(shared) <= BESIDE_SHARED * this)
}

/// `shape` grown by `factor` about its centre, in whole pixels.
fn grown(shape: &Vector<Point2f>, factor: f32) -> Vector<Point> {
    let n = shape.len().max(1) as f32;
    let (cx, cy) = shape
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.x / n, y + p.y / n));
    shape
        .iter()
        .map(|p| {
            let (x, y) = (cx + (p.x - cx) * factor, cy + (p.y - cy) * factor);
            Point::new(x.round() as i32, y.round() as i32)
        })
        .collect()
}
