//! Card fronts made unreadable by design, which the reader must reject: a key digit of
//! 照合番号B under a thumb, saturated by glare or cut off at the frame's edge, or the whole
//! card too blurred to read.

use crate::camera::{photograph, photograph_moved, CameraShot};
use crate::date::Date;
use crate::error::OcrError;
use crate::generator::synthetic_card;
use crate::glyphs::Split;
use crate::identity::CardFrontIdentity;
use crate::layout::{Item, CARD_H, CARD_W};
use crate::lines::centre;
use crate::locate::card_corners;
use opencv::core::{self, Mat, Point2f, Rect, Scalar, Size, Vector};
use opencv::imgproc::{self, LINE_AA};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a card is made unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// A thumb over one key digit.
    Thumb,
    /// Glare saturating one key digit and its neighbourhood.
    Glare,
    /// The card partly outside the frame, whose edge cuts through one key digit (40–70 % of
    /// the digit outside).
    CutOff,
    /// The whole card blurred over a digit's height.
    Blur,
}

impl Defect {
    pub const ALL: [Defect; 4] = [Defect::Thumb, Defect::Glare, Defect::CutOff, Defect::Blur];
}

/// Card `index` of the held-out set `seed` with `defect`, photographed: its identity and the
/// photo.
pub fn unreadable_photo(
    defect: Defect,
    seed: u64,
    index: u32,
    today: Date,
) -> Result<(CardFrontIdentity, CameraShot), OcrError> {
    let (id, printed, _) = synthetic_card(Split::HeldOut, seed, index, today)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(index).rotate_left(17) ^ 0xdefec7);
    let key: Vec<Rect> = key_digits(&printed.glyphs);
    let digit = key[rng.random_range(0..key.len())];
    let mut card = printed.image;
    let c = centre(digit);
    let h = digit.height.max(digit.width);
    match defect {
        Defect::Thumb => {
            let skin = Scalar::new(
                rng.random_range(120.0..170.0),
                rng.random_range(150.0..190.0),
                rng.random_range(190.0..235.0),
                0.0,
            );
            let axes = Size::new(h * 3 / 2, h * 6 / 5);
            let angle = rng.random_range(-60.0..60.0);
            imgproc::ellipse(&mut card, c, axes, angle, 0.0, 360.0, skin, -1, LINE_AA, 0)?;
        }
        Defect::Glare => {
            let white = Scalar::all(255.0);
            imgproc::circle(&mut card, c, h * 8 / 5, white, -1, LINE_AA, 0)?;
        }
        Defect::CutOff => return cut_off(&card, digit, &mut rng).map(|shot| (id, shot)),
        Defect::Blur => {
            let sigma = f64::from(h) * rng.random_range(0.4..0.6);
            let mut blurred = Mat::default();
            imgproc::gaussian_blur(
                &card,
                &mut blurred,
                Size::default(),
                sigma,
                sigma,
                core::BORDER_REPLICATE,
            )?;
            card = blurred;
        }
    }
    Ok((id, photograph(&card, &mut rng)?))
}

/// A photo of `card` placed so that the frame's edge cuts through `digit` (a box on the
/// card), with 40–70 % of the digit outside the frame: across the digit's line (the frame's
/// left or right edge, 70 % of cards) or along it (top or bottom), on the side of the card
/// the digit is nearer to.
fn cut_off(card: &Mat, digit: Rect, rng: &mut ChaCha8Rng) -> Result<CameraShot, OcrError> {
    let across = rng.random_bool(0.7);
    let kept = rng.random_range(0.3f32..0.6);
    let (x, y) = (digit.x as f32, digit.y as f32);
    let (w, h) = (digit.width as f32, digit.height as f32);
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    // The point of the digit the frame's edge goes through, and the edge: 0 left, 1 right,
    // 2 top, 3 bottom.
    let (cut, edge) = match (across, cx > CARD_W as f32 / 2.0, cy > CARD_H as f32 / 2.0) {
        (true, true, _) => (Point2f::new(x + kept * w, cy), 1),
        (true, false, _) => (Point2f::new(x + (1.0 - kept) * w, cy), 0),
        (false, _, true) => (Point2f::new(cx, y + kept * h), 3),
        (false, _, false) => (Point2f::new(cx, y + (1.0 - kept) * h), 2),
    };
    let mut failed = None;
    let shot = photograph_moved(card, rng, |corners, frame| {
        let at = match on_photo(&corners, cut) {
            Ok(at) => at,
            Err(e) => {
                failed = Some(e);
                return corners;
            }
        };
        let shift = match edge {
            0 => Point2f::new(-at.x, 0.0),
            1 => Point2f::new(frame.width as f32 - at.x, 0.0),
            2 => Point2f::new(0.0, -at.y),
            _ => Point2f::new(0.0, frame.height as f32 - at.y),
        };
        corners.map(|c| c + shift)
    })?;
    failed.map_or(Ok(shot), Err)
}

/// Where the point `p` of a canonical card lands in a photo of the card at `corners`.
fn on_photo(corners: &[Point2f; 4], p: Point2f) -> Result<Point2f, OcrError> {
    let m = imgproc::get_perspective_transform_slice_def(card_corners(), *corners)?;
    let mut out = Vector::<Point2f>::new();
    core::perspective_transform(&Vector::from_slice(&[p]), &mut out, &m)?;
    Ok(out.get(0)?)
}

/// The boxes of the digits that enter 照合番号B: the birth date's, the expiry year's and the
/// security code's.
fn key_digits(glyphs: &[crate::layout::PrintedGlyph]) -> Vec<Rect> {
    let is_digit = |ch: char| ch.is_ascii_digit() || ('０'..='９').contains(&ch);
    let of = |item| {
        glyphs
            .iter()
            .filter(move |g| g.item == item && is_digit(g.glyph.ch))
            .map(|g| g.glyph.bounds)
    };
    of(Item::Birth)
        .chain(of(Item::Expiry).take(4))
        .chain(of(Item::SecurityCode))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glyphs::Split;
    use crate::locate::VisiblePart;
    use crate::read::CardFrontReader;
    use crate::SubmitPolicy;
    use opencv::core::{MatTraitConst, Point2f};

    fn today() -> Date {
        Date::new(2026, 11, 22).unwrap()
    }

    #[test]
    fn a_cut_off_photo_has_40_to_70_percent_of_a_key_digit_outside_the_frame() {
        for index in 0..12 {
            let (_, printed, _) = synthetic_card(Split::HeldOut, 77, index, today()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(u64::from(index));
            let key = key_digits(&printed.glyphs);
            let digit = key[rng.random_range(0..key.len())];
            let shot = cut_off(&printed.image, digit, &mut rng).unwrap();
            let (w, h) = (shot.image.cols() as f32, shot.image.rows() as f32);
            // The digit's box, sampled on a grid, mapped into the photo.
            let (mut inside, mut all) = (0, 0);
            for i in 0..20 {
                for j in 0..20 {
                    let p = Point2f::new(
                        digit.x as f32 + digit.width as f32 * (i as f32 + 0.5) / 20.0,
                        digit.y as f32 + digit.height as f32 * (j as f32 + 0.5) / 20.0,
                    );
                    let q = on_photo(&shot.corners, p).unwrap();
                    all += 1;
                    inside += i32::from((0.0..w).contains(&q.x) && (0.0..h).contains(&q.y));
                }
            }
            let outside = 1.0 - f64::from(inside) / f64::from(all);
            // 40–70 % along the cut's axis; the card's turn tilts the cut against the box.
            assert!((0.3..=0.8).contains(&outside), "card {index}: {outside}");
        }
    }

    /// The reader, in the ONNX Runtime of this crate's tests.
    fn reader() -> CardFrontReader {
        CardFrontReader::new(crate::line_model::test_environment(), &crate::models_dir()).unwrap()
    }

    /// Held-out card `index` of development set 41, grey, its key digits and the boxes of
    /// every character of its three fields.
    fn printed(index: u32) -> (CardFrontIdentity, Mat, Vec<Rect>, Vec<Rect>) {
        let (id, printed, _) = synthetic_card(Split::HeldOut, 41, index, today()).unwrap();
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&printed.image, &mut grey, imgproc::COLOR_BGR2GRAY).unwrap();
        let fields = printed.glyphs.iter().filter(|g| g.item != Item::Other);
        let fields = fields.map(|g| g.glyph.bounds).collect();
        (id, grey, key_digits(&printed.glyphs), fields)
    }

    /// What a photo framed at `x0..x1` (card pixels, the card seen straight) saw of the card.
    fn framed(x0: f32, x1: f32) -> VisiblePart {
        let quad = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .map(|(u, v)| Point2f::new(u * CARD_W as f32 - x0, 200.0 + v * CARD_H as f32));
        VisiblePart::of(&quad, Size::new((x1 - x0) as i32, CARD_H + 400)).unwrap()
    }

    #[test]
    fn a_card_cut_through_a_key_digit_is_rejected_even_with_every_pixel_there() {
        let reader = reader();
        let mut tried = 0;
        for index in 0..6 {
            let (id, grey, key, _) = printed(index);
            let whole = reader.read_rectified(&grey, today());
            if !whole.is_ok_and(|r| r.pin_b() == id.pin_b()) {
                continue;
            }
            // The frame's edge takes a tenth of one key digit, on the side nearer to it; the
            // pixels beyond it are still in the image, so only the rule can refuse it.
            let digit = key[index as usize * 5 % key.len()];
            let (x, w) = (digit.x as f32, digit.width as f32);
            let visible = if x + w / 2.0 > CARD_W as f32 / 2.0 {
                framed(-100.0, x + 0.9 * w)
            } else {
                framed(x + 0.1 * w, CARD_W as f32 + 100.0)
            };
            let read = reader.read_within(&grey, &visible, today());
            assert!(read.is_err(), "card {index}: {read:?}");
            tried += 1;
        }
        assert!(tried >= 4, "only {tried} of 6 cards read whole");
    }

    #[test]
    fn a_card_cut_away_from_every_field_is_still_read() {
        let reader = reader();
        let policy = SubmitPolicy::default();
        let mut read_cut = 0;
        for index in 0..6 {
            let (id, grey, _, fields) = printed(index);
            // A frame that cuts the card three character heights short of its fields, on the
            // side with more room.
            let left = fields.iter().map(|d| d.x).min().unwrap() as f32;
            let right = fields.iter().map(|d| d.x + d.width).max().unwrap() as f32;
            let height = fields.iter().map(|d| d.height).max().unwrap() as f32;
            let visible = if left > CARD_W as f32 - right {
                framed(left - 3.0 * height, CARD_W as f32 + 100.0)
            } else {
                framed(-100.0, right + 3.0 * height)
            };
            let whole = reader.read_rectified(&grey, today());
            let cut = reader.read_within(&grey, &visible, today());
            if let Ok(r) = &whole {
                assert_eq!(r.pin_b(), id.pin_b());
                let c = cut
                    .as_ref()
                    .expect("read whole, not when cut away from the fields");
                assert_eq!(c.pin_b(), r.pin_b());
                read_cut += u32::from(c.min_confidence() >= policy.min_confidence);
            }
        }
        assert!(read_cut >= 4, "{read_cut} of 6 read sure");
    }
}
