//! Synthetic card fronts (a fixture generator): random but valid identities printed in random
//! layouts and typefaces, split into training and held-out sets. [`crate::camera`] then photographs them. Seeded and reproducible.

use crate::camera::{photograph, CameraShot};
use crate::date::{days_in_month, Date};
use crate::error::OcrError;
use crate::glyphs::{faces_of, font, Split};
use crate::identity::{Calendar, CardFrontIdentity, Sex};
use crate::layout::{print_items, LayoutFamily, PrintedGlyph, CARD_H, CARD_W};
use opencv::core::{Mat, MatTraitConst, Point, Rect, Scalar, Size, CV_8UC3};
use opencv::imgproc::{self, LINE_AA};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SURNAMES: [&str; 12] = [
    "山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "松本",
];
const GIVEN: [&str; 12] = [
    "太郎",
    "花子",
    "翔太",
    "陽菜",
    "健一",
    "美咲",
    "大輔",
    "由美",
    "蓮",
    "結衣",
    "浩二",
    "さくら",
];
const FOREIGN: [&str; 6] = [
    "SMITH JOHN",
    "NGUYEN VAN AN",
    "GARCIA MARIA",
    "KIM MINJUN",
    "SILVA ANA",
    "WANG WEI",
];
const PLACES: [&str; 8] = [
    "東京都千代田区霞が関",
    "大阪府大阪市北区梅田",
    "北海道札幌市中央区北一条西",
    "福岡県福岡市博多区博多駅前",
    "愛知県名古屋市中村区名駅",
    "宮城県仙台市青葉区国分町",
    "広島県広島市中区基町",
    "沖縄県那覇市泉崎",
];

/// A random identity: birth between 1930 and yesterday, 和暦 on 85 % of cards, a card
/// issued within the last ten years that expires on a birthday (5 years for minors, else 10).
pub fn random_identity(rng: &mut ChaCha8Rng, today: Date) -> CardFrontIdentity {
    let calendar = if rng.random_bool(0.85) {
        Calendar::Wareki
    } else {
        Calendar::Gregorian
    };
    let birth = loop {
        let year = rng.random_range(1930..=today.year);
        let month = rng.random_range(1..=12);
        let day = rng.random_range(1..=days_in_month(year, month));
        match Date::new(year, month, day) {
            Some(d) if d < today => break d,
            _ => continue,
        }
    };
    let expiry = loop {
        let issued = rng.random_range(today.year.saturating_sub(9).max(birth.year)..=today.year);
        let years = if issued - birth.year < 18 { 5 } else { 10 };
        let year = issued + years;
        let day = birth.day.min(days_in_month(year, birth.month));
        if let Some(e) = Date::new(year, birth.month, day).filter(|e| *e > today) {
            break e;
        }
    };
    let name = if calendar == Calendar::Wareki {
        format!("{} {}", pick(rng, &SURNAMES), pick(rng, &GIVEN))
    } else {
        pick(rng, &FOREIGN).to_string()
    };
    let address = format!(
        "{}{}丁目{}番{}号",
        pick(rng, &PLACES),
        rng.random_range(1..=9),
        rng.random_range(1..=30),
        rng.random_range(1..=20)
    );
    CardFrontIdentity {
        birth_date: (birth.year, birth.month, birth.day),
        calendar,
        expiry: (expiry.year, expiry.month, expiry.day),
        security_code: std::array::from_fn(|_| rng.random_range(0..=9)),
        name,
        address,
        sex: if rng.random_bool(0.5) {
            Sex::Male
        } else {
            Sex::Female
        },
    }
}

/// Card `index` of the held-out synthetic set `seed`: its identity and a photo of its front.
/// Every (seed, index) pair always gives the same card.
pub fn synthetic_photo(
    seed: u64,
    index: u32,
    today: Date,
) -> Result<(CardFrontIdentity, CameraShot), OcrError> {
    let (id, mut frames) = synthetic_frames(seed, index, today)?;
    let shot = frames.next().expect("an endless stream of frames")?;
    Ok((id, shot))
}

/// A photo of the front of `id`'s card (a given, synthetic identity, e.g. a virtual card's
/// holder), printed in a held-out typeface and layout and photographed with the camera
/// distortions that `seed` draws: the same (identity, seed) always gives the same photo.
pub fn identity_photo(id: &CardFrontIdentity, seed: u64) -> Result<CameraShot, OcrError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let card = render_card(id, &mut rng, None)?;
    photograph(&card, &mut rng)
}

/// Card `index` of the held-out synthetic set `seed` (typefaces and layout family never used
/// in training) and an endless stream of photos of it, as the successive frames of the
/// kiosk's card-front camera: each frame has fresh camera distortions and is made only when
/// taken. The first frame is the photo [`synthetic_photo`] gives.
pub fn synthetic_frames(
    seed: u64,
    index: u32,
    today: Date,
) -> Result<
    (
        CardFrontIdentity,
        impl Iterator<Item = Result<CameraShot, OcrError>>,
    ),
    OcrError,
> {
    let (id, _, frames) = synthetic_card(Split::HeldOut, seed, index, today)?;
    Ok((id, frames))
}

/// Card `index` of synthetic set `seed` of `split`: its identity, the printed card and an
/// endless stream of photos of it.
pub fn synthetic_card(
    split: Split,
    seed: u64,
    index: u32,
    today: Date,
) -> Result<
    (
        CardFrontIdentity,
        PrintedCard,
        impl Iterator<Item = Result<CameraShot, OcrError>>,
    ),
    OcrError,
> {
    let (id, printed, mut rng) = printed_card(split, seed, index, today)?;
    let card = printed.image.clone();
    Ok((
        id,
        printed,
        std::iter::repeat_with(move || photograph(&card, &mut rng)),
    ))
}

/// Card `index` of synthetic set `seed` of `split`: its identity, the printed card and the
/// generator's state after printing it (from which its photos are drawn).
pub(crate) fn printed_card(
    split: Split,
    seed: u64,
    index: u32,
    today: Date,
) -> Result<(CardFrontIdentity, PrintedCard, ChaCha8Rng), OcrError> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(u64::from(index)));
    let id = random_identity(&mut rng, today);
    let printed = print_card(&id, split, &mut rng, None)?;
    Ok((id, printed, rng))
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A printed card front (BGR, canonical size) and where each character went.
pub struct PrintedCard {
    pub image: Mat,
    pub glyphs: Vec<PrintedGlyph>,
}

/// Prints `id` on a blank card of the canonical size (BGR) in a held-out typeface and layout.
/// The photo area holds a grey silhouette, or `portrait` (any BGR image) scaled into the box.
pub fn render_card(
    id: &CardFrontIdentity,
    rng: &mut ChaCha8Rng,
    portrait: Option<&Mat>,
) -> Result<Mat, OcrError> {
    Ok(print_card(id, Split::HeldOut, rng, portrait)?.image)
}

/// Prints `id` on a blank card in a typeface and a layout of `split`, drawn from `rng`.
pub fn print_card(
    id: &CardFrontIdentity,
    split: Split,
    rng: &mut ChaCha8Rng,
    portrait: Option<&Mat>,
) -> Result<PrintedCard, OcrError> {
    let (font, mut card) = blank_card(split, rng)?;
    let (glyphs, photo) = print_items(&mut card, font, id, LayoutFamily::of(split), rng)?;
    draw_photo(&mut card, photo, portrait)?;
    Ok(PrintedCard {
        image: card,
        glyphs,
    })
}

/// A typeface of `split` and a blank card of the canonical size (BGR) in the card stock's
/// tint with its faint guilloche-like background pattern, drawn from `rng`.
pub(crate) fn blank_card(
    split: Split,
    rng: &mut ChaCha8Rng,
) -> Result<(&'static ab_glyph::FontVec, Mat), OcrError> {
    let faces = faces_of(split);
    let font = font(faces[rng.random_range(0..faces.len())])?;
    let tint: [f64; 3] = std::array::from_fn(|_| rng.random_range(-12.0..12.0));
    let mut card = Mat::new_rows_cols_with_default(
        CARD_H,
        CARD_W,
        CV_8UC3,
        Scalar::new(236.0 + tint[0], 232.0 + tint[1], 244.0 + tint[2], 0.0),
    )?;
    for i in 0..14 {
        let c = Point::new(rng.random_range(0..CARD_W), rng.random_range(0..CARD_H));
        let shade = Scalar::new(220.0 + tint[0], 214.0 + tint[1], 236.0 + tint[2], 0.0);
        imgproc::circle(&mut card, c, 40 + i * 9, shade, 1, LINE_AA, 0)?;
    }
    Ok((font, card))
}

fn draw_photo(card: &mut Mat, r: Rect, portrait: Option<&Mat>) -> Result<(), OcrError> {
    match portrait {
        Some(p) => {
            let mut scaled = Mat::default();
            imgproc::resize(
                p,
                &mut scaled,
                Size::new(r.width, r.height),
                0.0,
                0.0,
                imgproc::INTER_AREA,
            )?;
            let mut roi = Mat::roi_mut(card, r)?;
            scaled.copy_to(&mut roi)?;
        }
        None => {
            let bg = Scalar::new(200.0, 200.0, 200.0, 0.0);
            imgproc::rectangle(card, r, bg, -1, LINE_AA, 0)?;
            let grey = Scalar::new(120.0, 120.0, 120.0, 0.0);
            let (cx, top) = (r.x + r.width / 2, r.y);
            let head = Point::new(cx, top + r.height * 2 / 5);
            imgproc::circle(card, head, r.width / 4, grey, -1, LINE_AA, 0)?;
            imgproc::ellipse(
                card,
                Point::new(cx, top + r.height),
                Size::new(r.width * 9 / 20, r.height * 7 / 20),
                0.0,
                180.0,
                360.0,
                grey,
                -1,
                LINE_AA,
                0,
            )?;
        }
    }
    imgproc::rectangle(
        card,
        Rect::new(r.x, r.y, r.width, r.height),
        Scalar::all(150.0),
        1,
        LINE_AA,
        0,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_identities_are_valid_and_reproducible() {
        let today = Date::new(2026, 11, 22).unwrap();
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..500 {
            let id = random_identity(&mut a, today);
            assert_eq!(id, random_identity(&mut b, today));
            let (y, m, d) = id.birth_date;
            assert!(Date::new(y, m, d).is_some_and(|b| b < today));
            let (ey, em, ed) = id.expiry;
            assert!(Date::new(ey, em, ed).is_some_and(|e| e > today && ey <= today.year + 10));
            assert_eq!(em, m, "cards expire on a birthday");
            assert!(ed == d || (m == 2 && d == 29 && ed == 28));
            assert_eq!(id.pin_b().len(), 14);
        }
    }

    #[test]
    fn identity_photos_are_reproducible_and_vary_with_the_seed() {
        let id = random_identity(
            &mut ChaCha8Rng::seed_from_u64(3),
            Date::new(2026, 11, 22).unwrap(),
        );
        let a = identity_photo(&id, 1).unwrap();
        let b = identity_photo(&id, 1).unwrap();
        let c = identity_photo(&id, 2).unwrap();
        assert_eq!(a.corners, b.corners);
        assert_ne!(a.corners, c.corners);
        let diff = |x: &Mat, y: &Mat| {
            let mut d = Mat::default();
            opencv::core::absdiff(x, y, &mut d).unwrap();
            opencv::core::norm_def(&d).unwrap()
        };
        assert_eq!(diff(&a.image, &b.image), 0.0);
    }

    #[test]
    fn frames_repeat_with_the_seed_and_differ_from_each_other() {
        use opencv::core::MatTraitConstManual;
        let today = Date::new(2026, 11, 22).unwrap();
        let (id, mut frames) = synthetic_frames(3, 4, today).unwrap();
        let (again_id, mut again) = synthetic_frames(3, 4, today).unwrap();
        assert_eq!(id, again_id);
        let first = frames.next().unwrap().unwrap();
        let second = frames.next().unwrap().unwrap();
        let bytes = |m: &Mat| m.data_bytes().unwrap().to_vec();
        assert_eq!(
            bytes(&first.image),
            bytes(&again.next().unwrap().unwrap().image)
        );
        assert_ne!(first.corners, second.corners);
    }
}
