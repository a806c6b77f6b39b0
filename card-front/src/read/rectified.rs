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
    let to_photo = imgproc::get_perspective_transform_slice_def(card_corners(), *quad)?;
    let corners: Vector<Point2f> = fields
        .iter()
        .flat_map(|r| {
            let (x0, y0) = (r.x as f32, r.y as f32);
            let (x1, y1) = (x0 + r.width as f32, y0 + r.height as f32);
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].map(|(x, y)| Point2f::new(x, y))
        })
        .collect();
    let mut mapped = Vector::<Point2f>::new();
    core::perspective_transform(&corners, &mut mapped, &to_photo)?;
    let mut hull = Vector::<Point2f>::new();
    imgproc::convex_hull_def(&mapped, &mut hull)?;
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
