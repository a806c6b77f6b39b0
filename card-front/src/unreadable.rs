//! Card fronts made unreadable by design, which the reader must reject: a key digit of
//! 照合番号B under a thumb, saturated by glare or cut off at the frame's edge, or the whole
//! card too blurred to read.

use crate::camera::{photograph, CameraShot};
use crate::date::Date;
use crate::error::OcrError;
use crate::generator::synthetic_card;
use crate::glyphs::Split;
use crate::identity::CardFrontIdentity;
use crate::layout::{Item, CARD_H, CARD_W};
use crate::lines::centre;
use opencv::core::{self, Mat, Rect, Scalar, Size};
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
    /// The card cut off by the frame's edge through one key digit.
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
        Defect::CutOff => {
            // Everything beyond the digit's middle lies outside the frame: black.
            let black = if rng.random_bool(0.5) {
                Rect::new(c.x, 0, CARD_W - c.x, CARD_H)
            } else {
                Rect::new(0, 0, c.x, CARD_H)
            };
            imgproc::rectangle(&mut card, black, Scalar::all(0.0), -1, LINE_AA, 0)?;
        }
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
