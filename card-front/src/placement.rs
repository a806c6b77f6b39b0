//! Held-out cards as patients put them in front of the card-front camera: turned by quarter
//! turns (upside down, on its side), beside another card (a parent with a child's card), or
//! face down (the back, with its 12-digit number, towards the camera).

use crate::back::print_back;
use crate::camera::{photograph, photograph_two, CameraShot};
use crate::date::Date;
use crate::error::OcrError;
use crate::generator::{printed_card, random_identity};
use crate::glyphs::Split;
use crate::identity::CardFrontIdentity;
use opencv::core::{self, Mat, MatTraitConst, Rect};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use zeroize::Zeroizing;

/// Card `index` of the held-out set `seed` turned `quarter_turns` times clockwise, and an
/// endless stream of photos of it: the card, typeface, layout and camera draws of
/// [`crate::synthetic_frames`], but a card on its side stands upright in the frame.
pub fn turned_frames(
    seed: u64,
    index: u32,
    today: Date,
    quarter_turns: u8,
) -> Result<
    (
        CardFrontIdentity,
        impl Iterator<Item = Result<CameraShot, OcrError>>,
    ),
    OcrError,
> {
    let (id, printed, mut rng) = printed_card(Split::HeldOut, seed, index, today)?;
    let card = turned(&printed.image, quarter_turns)?;
    Ok((
        id,
        std::iter::repeat_with(move || photograph(&card, &mut rng)),
    ))
}

/// The back of card `index` of held-out set `seed` (a random 12-digit number, the holder's
/// name and birth date, in a held-out typeface) turned `quarter_turns` times clockwise: its
/// number and an endless stream of photos of it. Backs are drawn apart from the fronts of the
/// same seed.
pub fn back_frames(
    seed: u64,
    index: u32,
    today: Date,
    quarter_turns: u8,
) -> Result<
    (
        Zeroizing<String>,
        impl Iterator<Item = Result<CameraShot, OcrError>>,
    ),
    OcrError,
> {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed.wrapping_mul(1_000_033).wrapping_add(u64::from(index)) ^ 0xBAC5,
    );
    let id = random_identity(&mut rng, today);
    let (back, number) = print_back(&id, Split::HeldOut, &mut rng)?;
    let card = turned(&back, quarter_turns)?;
    Ok((
        number,
        std::iter::repeat_with(move || photograph(&card, &mut rng)),
    ))
}

/// Cards `2 × index` and `2 × index + 1` of the held-out set `seed`, side by side in one photo:
/// their identities and the photo (its corners are the first card's).
pub fn two_cards_photo(
    seed: u64,
    index: u32,
    today: Date,
) -> Result<([CardFrontIdentity; 2], CameraShot), OcrError> {
    let (first, left, mut rng) = printed_card(Split::HeldOut, seed, 2 * index, today)?;
    let (second, right, _) = printed_card(Split::HeldOut, seed, 2 * index + 1, today)?;
    let shot = photograph_two([&left.image, &right.image], &mut rng)?;
    Ok(([first, second], shot))
}

/// The left half of a [`two_cards_photo`]: the first card alone, to tell whether it reads
/// without the second one beside it.
pub fn first_card_alone(pair: &CameraShot) -> Result<Mat, OcrError> {
    let (w, h) = (pair.image.cols(), pair.image.rows());
    Ok(Mat::roi(&pair.image, Rect::new(0, 0, w / 2, h))?.try_clone()?)
}

/// `card` turned `quarter_turns` times clockwise.
fn turned(card: &Mat, quarter_turns: u8) -> Result<Mat, OcrError> {
    let code = match quarter_turns % 4 {
        0 => return Ok(card.clone()),
        1 => core::ROTATE_90_CLOCKWISE,
        2 => core::ROTATE_180,
        _ => core::ROTATE_90_COUNTERCLOCKWISE,
    };
    let mut out = Mat::default();
    core::rotate(card, &mut out, code)?;
    Ok(out)
}
