//! Finds the text lines of a rectified card by their ink, wherever the layout put them: dark
//! marks on the lighter card, without the rules of frames and boxes, joined along the line.

use crate::error::OcrError;
use crate::scrub::ScrubbedMat;
use opencv::core::{self, Mat, MatTraitConst, Point, Rect, Size, CV_32S};
use opencv::imgproc;

/// Ink: strokes narrower than this (pixels of the rectified card) at least this much darker
/// than around them.
const INK_SPAN: i32 = 11;
pub const INK_CONTRAST: f64 = 28.0;
/// The contrast of faint or blurred ink, looked for when the lines of [`INK_CONTRAST`] give no
/// sure read.
pub const FAINT_INK_CONTRAST: f64 = 14.0;
/// Straight runs at least this long are the rules of frames and boxes, not text.
const RULE_H: i32 = 71;
const RULE_V: i32 = 51;
/// Ink closer than this along a line is joined into one piece (parts of a character, close
/// characters).
const JOIN: i32 = 13;
/// Pieces of like height at most this many times their height apart are one line: a
/// full-width space between full-width digits (about 1.6 ink heights) and wide spacing after
/// 年 join (a label joined to its field does not matter: fields are told by content).
const GAP: f32 = 2.5;
/// The heights a line of card text may have (type of 13 to 40 pixels).
const MIN_H: i32 = 9;
const MAX_H: i32 = 64;

/// The boxes of the text lines of a grey rectified card, top to bottom.
pub fn find_lines(card: &Mat) -> Result<Vec<Rect>, OcrError> {
    find_lines_of_ink(card, INK_CONTRAST)
}

/// The boxes of the text lines of a grey rectified card whose ink is at least `contrast`
/// darker than around it.
pub fn find_lines_of_ink(card: &Mat, contrast: f64) -> Result<Vec<Rect>, OcrError> {
    // Black-hat: how much darker each pixel is than its neighbourhood closed over strokes;
    // flat shading (a tinted band, uneven light) gives none.
    let stroke =
        imgproc::get_structuring_element_def(imgproc::MORPH_RECT, Size::new(INK_SPAN, INK_SPAN))?;
    let mut dark = ScrubbedMat::default();
    imgproc::morphology_ex_def(card, &mut *dark, imgproc::MORPH_BLACKHAT, &stroke)?;
    let mut ink = ScrubbedMat::default();
    imgproc::threshold(&*dark, &mut *ink, contrast, 255.0, imgproc::THRESH_BINARY)?;
    for size in [Size::new(RULE_H, 1), Size::new(1, RULE_V)] {
        let kernel = imgproc::get_structuring_element_def(imgproc::MORPH_RECT, size)?;
        let mut rules = ScrubbedMat::default();
        imgproc::morphology_ex_def(&*ink, &mut *rules, imgproc::MORPH_OPEN, &kernel)?;
        let mut text = ScrubbedMat::default();
        core::subtract_def(&*ink, &*rules, &mut *text)?;
        ink = text;
    }
    let kernel = imgproc::get_structuring_element_def(imgproc::MORPH_RECT, Size::new(JOIN, 1))?;
    let mut joined = ScrubbedMat::default();
    imgproc::morphology_ex(
        &*ink,
        &mut *joined,
        imgproc::MORPH_CLOSE,
        &kernel,
        Point::new(-1, -1),
        1,
        core::BORDER_CONSTANT,
        imgproc::morphology_default_border_value()?,
    )?;
    // The label image holds the shapes of the text: zeroed like the ink.
    let mut labels = ScrubbedMat::default();
    let (mut stats, mut centroids) = (Mat::default(), Mat::default());
    let n = imgproc::connected_components_with_stats(
        &*joined,
        &mut *labels,
        &mut stats,
        &mut centroids,
        8,
        CV_32S,
    )?;
    let mut boxes = Vec::new();
    for i in 1..n {
        let at = |c: i32| stats.at_2d::<i32>(i, c).copied();
        let r = Rect::new(
            at(imgproc::CC_STAT_LEFT)?,
            at(imgproc::CC_STAT_TOP)?,
            at(imgproc::CC_STAT_WIDTH)?,
            at(imgproc::CC_STAT_HEIGHT)?,
        );
        // Rules too short to be opened away (a band's side) are thin and not text.
        if r.height <= MAX_H && r.width * 8 >= r.height && r.width.max(r.height) >= MIN_H {
            boxes.push(r);
        }
    }
    let mut lines = join_along_lines(boxes);
    lines.retain(|r| (MIN_H..=MAX_H).contains(&r.height) && r.width >= r.height);
    lines.sort_by_key(|r| (r.y, r.x));
    Ok(lines)
}

/// Joins boxes side by side on one line: they overlap vertically by most of the lower one, are
/// of like height and at most [`GAP`] of their height apart (a full-width space).
fn join_along_lines(mut boxes: Vec<Rect>) -> Vec<Rect> {
    loop {
        let mut joined = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let (a, b) = (boxes[i], boxes[j]);
                let overlap = (a.y + a.height).min(b.y + b.height) - a.y.max(b.y);
                let (low, high) = (a.height.min(b.height), a.height.max(b.height));
                let gap = (a.x.max(b.x) - (a.x + a.width).min(b.x + b.width)) as f32;
                if overlap * 10 >= low * 6 && low * 2 >= high && gap <= GAP * high as f32 {
                    boxes[i] = a | b;
                    boxes.swap_remove(j);
                    joined = true;
                    break 'outer;
                }
            }
        }
        if !joined {
            return boxes;
        }
    }
}

/// Pieces of one row farther apart than this many times the row's height are not one line
/// (a date's pieces lie within a wide space of each other; the next item on the row, such as
/// the holder's sex, lies farther).
const ROW_GAP: f32 = 4.0;
/// A piece of a row is at most this many times as high as the piece the row is grown from.
const ROW_TALLER: f32 = 1.5;

/// `line` joined with every box of `boxes` on its row, whatever their heights: boxes whose
/// middle lies within its height, at most [`ROW_TALLER`] times as high, at most [`ROW_GAP`]
/// of its height from what is joined already. A date line in spaced, faint or blurred type
/// falls apart into pieces of unlike heights (digits lower than kanji, a kanji lost) that
/// [`join_along_lines`] keeps apart.
pub fn row_of(line: Rect, boxes: &[Rect]) -> Rect {
    let h = line.height as f32;
    let on_row = |b: &&Rect| {
        let middle = b.y + b.height / 2;
        (line.y..line.y + line.height).contains(&middle) && b.height as f32 <= ROW_TALLER * h
    };
    let mut row = line;
    let mut rest: Vec<Rect> = boxes.iter().filter(on_row).copied().collect();
    while let Some(k) = rest.iter().position(|b| {
        let gap = b.x.max(row.x) - (b.x + b.width).min(row.x + row.width);
        gap as f32 <= ROW_GAP * h
    }) {
        row |= rest.swap_remove(k);
    }
    row
}

/// The centre of a box.
pub fn centre(r: Rect) -> Point {
    Point::new(r.x + r.width / 2, r.y + r.height / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::print_card;
    use crate::glyphs::Split;
    use crate::layout::Item;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_rows_pieces_of_unlike_heights_are_joined_but_not_the_next_item_nor_row() {
        // The birth row of development seed 779's card 196 as the ink finder found it: the
        // day and 生 (`6日生`), the year (`2022`, lower), the month's remains, then the holder's
        // sex far to the right, a line above and one below.
        let piece = Rect::new(438, 126, 58, 25);
        let boxes = [
            Rect::new(399, 70, 67, 15),
            piece,
            Rect::new(269, 127, 55, 12),
            Rect::new(394, 128, 17, 9),
            Rect::new(658, 129, 21, 9),
            Rect::new(300, 160, 200, 20),
        ];
        assert_eq!(row_of(piece, &boxes), Rect::new(269, 126, 496 - 269, 25));
        // Grown from the year, the row takes in neither the day (twice as high) nor the
        // month's remains (more than four of the year's heights away).
        let year = boxes[2];
        assert_eq!(row_of(year, &boxes), year);
    }

    #[test]
    fn each_field_of_printed_cards_lies_in_one_line() {
        let today = crate::Date::new(2026, 11, 22).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for split in [Split::Training, Split::HeldOut] {
            for _ in 0..20 {
                let id = crate::generator::random_identity(&mut rng, today);
                let card = print_card(&id, split, &mut rng, None).unwrap();
                let mut grey = Mat::default();
                imgproc::cvt_color_def(&card.image, &mut grey, imgproc::COLOR_BGR2GRAY).unwrap();
                let lines = find_lines(&grey).unwrap();
                for item in [Item::Birth, Item::Expiry, Item::SecurityCode] {
                    let centres: Vec<Point> = card
                        .glyphs
                        .iter()
                        .filter(|g| g.item == item)
                        .map(|g| centre(g.glyph.bounds))
                        .collect();
                    let holding = lines
                        .iter()
                        .filter(|l| centres.iter().all(|c| l.contains(*c)))
                        .count();
                    assert_eq!(holding, 1, "{item:?} of a {split:?} card");
                }
            }
        }
    }
}
