//! What the line recogniser sees: one text line of a rectified card, grey, scaled to a fixed
//! height, and the label it is trained on. The training set (`card-front dataset`) is made by
//! the same functions.

use crate::error::OcrError;
use crate::layout::{Item, PrintedGlyph};
use crate::lines::centre;
use crate::scrub::ScrubbedMat;
use opencv::core::{Mat, MatTraitConst, Rect, Size};
use opencv::imgproc;

/// Height of a line image the own recogniser reads, in pixels; its width keeps the line's
/// aspect.
pub const LINE_H: i32 = 32;

/// The classes the recogniser tells apart, in output-class order after the CTC blank (class
/// 0): the digits, the era names, the kanji of the date lines and [`OTHER`] for every other
/// character. The same classes as PP-OCR's reduced ones, so both recognisers' reads go
/// through the same field rules (まで and 効 read as [`OTHER`]).
pub const ALPHABET: &str = "0123456789明治大正昭平成令和年月日生有※";

/// The class of every printed character outside the rest of [`ALPHABET`].
pub const OTHER: char = '※';

/// Room around a found line's ink box, as fractions of its height above and below, and left
/// and right: the own recogniser was trained so, and PP-OCR's reads such crops best too
/// (`ppocr::PAD`), so one line image can go to either.
pub const CNN_PAD: [f32; 2] = [0.3, 0.3];

/// The region of the card a line box is read from: the box with room `[above and below, left
/// and right]` as fractions of its height, inside the card.
pub fn line_region(card: &Mat, line: Rect, [pad_v, pad_h]: [f32; 2]) -> Rect {
    let (dv, dh) = (
        (line.height as f32 * pad_v).round() as i32,
        (line.height as f32 * pad_h).round() as i32,
    );
    let r = Rect::new(
        line.x - dh,
        line.y - dv,
        line.width + 2 * dh,
        line.height + 2 * dv,
    );
    r & Rect::new(0, 0, card.cols(), card.rows())
}

/// Line `line` (a box of [`crate::lines::find_lines`]) of a grey rectified card with room `pad`
/// (see [`line_region`]), scaled to `height` rows (8-bit): averaged when shrunk, interpolated
/// when enlarged (a small line's strokes stay smooth rather than blocky).
pub fn line_image(
    card: &Mat,
    line: Rect,
    pad: [f32; 2],
    height: i32,
) -> Result<ScrubbedMat, OcrError> {
    let region = line_region(card, line, pad);
    let roi = Mat::roi(card, region)?;
    let width = ((region.width * height + region.height / 2) / region.height.max(1)).max(height);
    let interpolation = if region.height > height {
        imgproc::INTER_AREA
    } else {
        imgproc::INTER_LINEAR
    };
    let mut out = ScrubbedMat::default();
    imgproc::resize(
        &roi,
        &mut *out,
        Size::new(width, height),
        0.0,
        0.0,
        interpolation,
    )?;
    if out.typ() != opencv::core::CV_8UC1 {
        return Err(OcrError::Image(
            "the rectified card is not 8-bit grey".into(),
        ));
    }
    Ok(out)
}

/// The label of printed characters: full-width digits as digits, spaces dropped, every
/// other character outside [`ALPHABET`] as [`OTHER`].
pub fn line_label(printed: impl IntoIterator<Item = char>) -> String {
    printed
        .into_iter()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c),
            c if ALPHABET.contains(c) => c,
            _ => OTHER,
        })
        .collect()
}

/// What a found line of a synthetic card holds: the item most of its printed characters
/// belong to ([`Item::Other`] when none is most) and its label, from the characters whose
/// centres lie in its box (`glyphs` of a card rectified at its true corners), left to right.
pub fn printed_line(glyphs: &[PrintedGlyph], line: Rect) -> (Item, String) {
    let mut inside: Vec<&PrintedGlyph> = glyphs
        .iter()
        .filter(|g| line.contains(centre(g.glyph.bounds)))
        .collect();
    inside.sort_by_key(|g| g.glyph.bounds.x);
    let item = [Item::Birth, Item::Expiry, Item::SecurityCode]
        .into_iter()
        .find(|&item| inside.iter().filter(|g| g.item == item).count() * 2 > inside.len())
        .unwrap_or(Item::Other);
    (item, line_label(inside.iter().map(|g| g.glyph.ch)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{Scalar, CV_8UC1};

    #[test]
    fn lines_keep_their_aspect_at_the_fixed_height_with_room_inside_the_card() {
        let card = Mat::new_rows_cols_with_default(540, 856, CV_8UC1, Scalar::all(200.0)).unwrap();
        let line = line_image(&card, Rect::new(100, 100, 200, 30), CNN_PAD, LINE_H).unwrap();
        // 200 + 2 × 9 wide, 30 + 2 × 9 high.
        assert_eq!((line.rows(), line.cols()), (LINE_H, 145));
        assert_eq!(*line.at_2d::<u8>(5, 5).unwrap(), 200);
        assert_eq!(
            line_region(&card, Rect::new(0, 530, 100, 10), CNN_PAD),
            Rect::new(0, 527, 103, 13)
        );
    }

    #[test]
    fn labels_map_full_width_digits_and_other_characters() {
        assert_eq!(
            line_label("昭和55年 2月17日生".chars()),
            "昭和55年2月17日生"
        );
        assert_eq!(line_label("２０３５年\u{3000}２月".chars()), "2035年2月");
        assert_eq!(line_label("有効期限 男".chars()), "有※※※※");
        assert_eq!(
            line_label("2035年 2月17日まで有効".chars()),
            "2035年2月17日※※有※"
        );
    }

    #[test]
    fn the_own_recogniser_reads_the_classes_and_crops_of_pp_ocr() {
        assert_eq!(ALPHABET, crate::ppocr::PP_ALPHABET);
        assert_eq!(CNN_PAD, crate::ppocr::PAD);
    }
}
