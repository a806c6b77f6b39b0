//! Synthetic card backs: the side a patient shows when the card lies face down. A real back
//! carries the 12-digit 個人番号 (which the kiosk must never read), the name, the birth date,
//! the IC chip's contacts and a QR code. Here the number is random digits, the QR code only a
//! QR-like pattern (finder, timing and alignment patterns around random modules: it encodes
//! nothing), and the places, sizes and spacing are drawn at random: the reader knows none of
//! them, only that a line of ten digits or more is never a card front's.

use crate::error::OcrError;
use crate::generator::blank_card;
use crate::glyphs::{draw_text, text_width, Split};
use crate::identity::CardFrontIdentity;
use crate::layout::{DigitStyle, CARD_H, CARD_W};
use ab_glyph::FontVec;
use opencv::core::{Mat, Point, Rect, Scalar};
use opencv::imgproc::{self, LINE_8, LINE_AA};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use zeroize::Zeroizing;

/// Modules on a side of the QR-like pattern (a version 2 QR code's).
const QR_MODULES: i32 = 25;

/// Prints the back of `id`'s card with a random 12-digit number, in a typeface of `split`;
/// returns the card and its number (for tests that it never comes out).
pub fn print_back(
    id: &CardFrontIdentity,
    split: Split,
    rng: &mut ChaCha8Rng,
) -> Result<(Mat, Zeroizing<String>), OcrError> {
    let (font, mut card) = blank_card(split, rng)?;
    let k = rng.random_range(10..60);
    let ink = [k, k, k + rng.random_range(0..25)];
    let grey = rng.random_range(70..120);
    let label = [grey, grey, grey];
    let style = DigitStyle {
        full_width: rng.random_bool(0.3),
        padded: rng.random_bool(0.5),
    };
    let m = rng.random_range(24.0..44.0);
    let chip_left = rng.random_bool(0.8);
    let qr = rng.random_bool(0.75);

    // The number across the top: its label above it or before it; its groups of four apart by
    // a space, or so far apart that a line finder may take them for three lines.
    let number: Zeroizing<String> = Zeroizing::new(
        (0..12)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect(),
    );
    let px = rng.random_range(34.0..50.0);
    let label_px = rng.random_range(15.0..22.0);
    let mut x = m + rng.random_range(0.0..20.0);
    let mut y = m + px;
    if rng.random_bool(0.5) {
        draw_text(
            &mut card,
            font,
            label_px,
            (x, m + label_px),
            "個人番号",
            label,
        )?;
        y += label_px * 1.4;
    } else {
        x += text_width(font, label_px, "個人番号") + px * 0.5;
        draw_text(&mut card, font, label_px, (m, y), "個人番号", label)?;
    }
    let gap = match rng.random_range(0..4) {
        0 => px * rng.random_range(1.5..3.0),
        1 => text_width(font, px, "\u{3000}"),
        _ => text_width(font, px, " "),
    };
    let room = CARD_W as f32 - m - x;
    let px = fit(font, px, &style.apply(&number), 2.0 * gap, room);
    for group in number.as_bytes().chunks(4) {
        let text = style.apply(std::str::from_utf8(group).unwrap_or_default());
        draw_text(&mut card, font, px, (x, y), &text, ink)?;
        x += text_width(font, px, &text) + gap;
    }

    // The chip on one side, the QR code (if any) in the other bottom corner, the name and the
    // birth date between them.
    let chip = Rect::new(
        if chip_left {
            m as i32 + rng.random_range(0..30)
        } else {
            CARD_W - m as i32 - 130 - rng.random_range(0..30)
        },
        (y + px * 0.8) as i32 + rng.random_range(0..60),
        rng.random_range(110..131),
        rng.random_range(88..106),
    );
    contacts(&mut card, chip)?;
    let module = rng.random_range(4..7);
    let side = QR_MODULES * module;
    let qr_at = Point::new(
        if chip_left {
            CARD_W - m as i32 - side
        } else {
            m as i32
        },
        CARD_H - m as i32 - side - rng.random_range(0..30),
    );
    if qr {
        qr_like(&mut card, qr_at, module, rng)?;
    }
    let (left, right) = if chip_left {
        (
            (chip.x + chip.width) as f32 + rng.random_range(30.0..60.0),
            if qr {
                qr_at.x as f32 - 30.0
            } else {
                CARD_W as f32 - m
            },
        )
    } else {
        (
            if qr {
                (qr_at.x + side) as f32 + 30.0
            } else {
                m
            },
            chip.x as f32 - 30.0,
        )
    };
    let row_px = rng.random_range(22.0..32.0);
    let small = row_px * 0.6;
    let mut y = chip.y as f32 + row_px;
    for (label_text, text) in [
        ("氏名", id.name.clone()),
        ("生年月日", style.apply(&id.printed_birth())),
    ] {
        let lw = text_width(font, small, label_text) + row_px * 0.6;
        draw_text(&mut card, font, small, (left, y), label_text, label)?;
        let px = fit(font, row_px, &text, 0.0, right - left - lw);
        draw_text(&mut card, font, px, (left + lw, y), &text, ink)?;
        y += row_px * rng.random_range(1.8..2.6);
    }
    Ok((card, number))
}

/// The largest size up to `px` at which `text` and `extra` pixels fit in `room`.
fn fit(font: &FontVec, px: f32, text: &str, extra: f32, room: f32) -> f32 {
    let w = text_width(font, px, text) + extra;
    if w <= room {
        px
    } else {
        px * (room / w).max(0.3)
    }
}

/// The IC chip's gold contact plate with its contact divisions.
fn contacts(card: &mut Mat, r: Rect) -> Result<(), OcrError> {
    let gold = Scalar::new(70.0, 165.0, 205.0, 0.0);
    let edge = Scalar::new(40.0, 110.0, 150.0, 0.0);
    imgproc::rectangle(card, r, gold, -1, LINE_AA, 0)?;
    imgproc::rectangle(card, r, edge, 2, LINE_AA, 0)?;
    let (cx, cy) = (r.x + r.width / 2, r.y + r.height / 2);
    let line = |card: &mut Mat, a: Point, b: Point| imgproc::line(card, a, b, edge, 2, LINE_AA, 0);
    line(card, Point::new(r.x, cy), Point::new(r.x + r.width, cy))?;
    for k in [1, 2] {
        let y = r.y + r.height * k / 3;
        line(card, Point::new(r.x, y), Point::new(r.x + r.width / 3, y))?;
        line(
            card,
            Point::new(r.x + r.width * 2 / 3, y),
            Point::new(r.x + r.width, y),
        )?;
    }
    line(
        card,
        Point::new(r.x + r.width / 3, r.y),
        Point::new(r.x + r.width / 3, r.y + r.height),
    )?;
    line(
        card,
        Point::new(r.x + r.width * 2 / 3, r.y),
        Point::new(r.x + r.width * 2 / 3, r.y + r.height),
    )?;
    let centre = Rect::new(
        cx - r.width / 8,
        cy - r.height / 8,
        r.width / 4,
        r.height / 4,
    );
    imgproc::rectangle(card, centre, edge, 2, LINE_AA, 0)?;
    Ok(())
}

/// A QR-like pattern of [`QR_MODULES`] modules of `module` pixels at `at`, with a white quiet
/// zone: three finder patterns, the timing lines, one alignment pattern and random modules.
fn qr_like(card: &mut Mat, at: Point, module: i32, rng: &mut ChaCha8Rng) -> Result<(), OcrError> {
    let n = QR_MODULES;
    let mut dark = vec![false; (n * n) as usize];
    let mut fixed = vec![false; (n * n) as usize];
    let mut set = |x: i32, y: i32, d: bool| {
        let i = (y * n + x) as usize;
        (dark[i], fixed[i]) = (d, true);
    };
    // Finder patterns with their white separators.
    for (ox, oy) in [(0, 0), (n - 7, 0), (0, n - 7)] {
        for dy in -1..8 {
            for dx in -1..8 {
                let (x, y) = (ox + dx, oy + dy);
                if !(0..n).contains(&x) || !(0..n).contains(&y) {
                    continue;
                }
                let ring = dx.min(dy).min(6 - dx).min(6 - dy);
                set(x, y, ring == 0 || ring >= 2);
            }
        }
    }
    // Alignment pattern at (18, 18) and the timing lines.
    for dy in -2..=2i32 {
        for dx in -2..=2i32 {
            let ring = dx.abs().max(dy.abs());
            set(18 + dx, 18 + dy, ring != 1);
        }
    }
    for k in 8..n - 8 {
        set(k, 6, k % 2 == 0);
        set(6, k, k % 2 == 0);
    }
    let quiet = Rect::new(
        at.x - 2 * module,
        at.y - 2 * module,
        (n + 4) * module,
        (n + 4) * module,
    );
    imgproc::rectangle(card, quiet, Scalar::all(250.0), -1, LINE_8, 0)?;
    for y in 0..n {
        for x in 0..n {
            let i = (y * n + x) as usize;
            if (fixed[i] && dark[i]) || (!fixed[i] && rng.random_bool(0.5)) {
                let r = Rect::new(at.x + x * module, at.y + y * module, module, module);
                imgproc::rectangle(card, r, Scalar::all(15.0), -1, LINE_8, 0)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::generator::random_identity;
    use opencv::core::MatTraitConst;
    use rand::SeedableRng;

    #[test]
    fn backs_are_card_sized_reproducible_and_differ_by_seed() {
        let today = Date::new(2026, 12, 5).unwrap();
        let back = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let id = random_identity(&mut rng, today);
            print_back(&id, Split::HeldOut, &mut rng).unwrap()
        };
        let ((a, number), (b, _), (c, _)) = (back(1), back(1), back(2));
        assert_eq!(number.len(), 12);
        assert!(number.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!((a.cols(), a.rows()), (CARD_W, CARD_H));
        let diff = |x: &Mat, y: &Mat| {
            let mut d = Mat::default();
            opencv::core::absdiff(x, y, &mut d).unwrap();
            opencv::core::norm_def(&d).unwrap()
        };
        assert_eq!(diff(&a, &b), 0.0);
        assert!(diff(&a, &c) > 0.0);
    }
}
