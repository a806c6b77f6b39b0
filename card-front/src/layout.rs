//! Card-front layouts: where the generator prints each item of a card rectified to [`CARD_W`]
//! × [`CARD_H`] pixels (ID-1, 85.6 × 54 mm at 10 px/mm). Places, sizes, spacing, the title's
//! place, the framed 有効期限 band, digit widths and spacing styles are drawn at random within
//! a layout family; the reader knows none of them.

use crate::error::OcrError;
use crate::glyphs::{draw_text, text_width, Glyph, Split};
use crate::identity::CardFrontIdentity;
use ab_glyph::FontVec;
use opencv::core::{Mat, Rect, Scalar};
use opencv::imgproc::{self, LINE_AA};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub const CARD_W: i32 = 856;
pub const CARD_H: i32 = 540;

/// A family of layouts. Training cards use the specimen-like one; the held-out family (photo
/// on the left, fields in another order, a 生年月日 label) is never seen in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutFamily {
    /// As the public specimens: photo on the right, 個人番号カード above it (or elsewhere).
    Specimen,
    /// Photo on the left, the text column on its right.
    PhotoLeft,
}

impl LayoutFamily {
    /// The family the cards of `split` are printed in.
    pub fn of(split: Split) -> Self {
        match split {
            Split::Training => LayoutFamily::Specimen,
            Split::HeldOut => LayoutFamily::PhotoLeft,
        }
    }
}

/// Which item of the card a printed character belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Birth,
    Expiry,
    SecurityCode,
    Other,
}

/// A printed character and the item it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintedGlyph {
    pub glyph: Glyph,
    pub item: Item,
}

/// How digits are printed on one card: full-width (２０３５年) or not, and whether a one-digit
/// month or day gets a leading space (` 2月`) or not (`2月`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigitStyle {
    pub full_width: bool,
    pub padded: bool,
}

impl DigitStyle {
    pub(crate) fn apply(self, text: &str) -> String {
        text.chars()
            .filter(|c| self.padded || *c != ' ')
            .map(|c| match c {
                '0'..='9' if self.full_width => {
                    char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap_or(c)
                }
                ' ' if self.full_width => '\u{3000}',
                _ => c,
            })
            .collect()
    }
}

/// Prints text items on a card and records their glyphs.
struct Printer<'a> {
    card: &'a mut Mat,
    font: &'a FontVec,
    glyphs: Vec<PrintedGlyph>,
    ink: [u8; 3],
    label: [u8; 3],
}

impl Printer<'_> {
    /// Prints `text` at `px` with its baseline starting at `at`, in ink (`label` = false) or
    /// the grey of the printed labels; returns its width.
    fn text(
        &mut self,
        item: Item,
        px: f32,
        at: (f32, f32),
        text: &str,
        label: bool,
    ) -> Result<f32, OcrError> {
        let colour = if label { self.label } else { self.ink };
        let glyphs = draw_text(self.card, self.font, px, at, text, colour)?;
        self.glyphs
            .extend(glyphs.into_iter().map(|glyph| PrintedGlyph { glyph, item }));
        Ok(text_width(self.font, px, text))
    }

    fn width(&self, px: f32, text: &str) -> f32 {
        text_width(self.font, px, text)
    }

    /// The largest size up to `px` at which `text` fits in `room` pixels.
    fn fit(&self, px: f32, text: &str, room: f32) -> f32 {
        let w = self.width(px, text);
        if w <= room {
            px
        } else {
            px * room / w
        }
    }
}

/// Prints `id`'s items on `card` (BGR, canonical size) in a layout of `family` drawn from
/// `rng`, with font `font`; returns the glyphs and the photo box.
pub fn print_items(
    card: &mut Mat,
    font: &FontVec,
    id: &CardFrontIdentity,
    family: LayoutFamily,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<PrintedGlyph>, Rect), OcrError> {
    let ink = {
        let k = rng.random_range(10..60);
        [k, k, k + rng.random_range(0..25)]
    };
    let grey = rng.random_range(70..120);
    let mut p = Printer {
        card,
        font,
        glyphs: Vec::new(),
        ink,
        label: [grey, grey, grey],
    };
    let style = DigitStyle {
        full_width: rng.random_bool(0.3),
        padded: rng.random_bool(0.5),
    };
    let photo = match family {
        LayoutFamily::Specimen => specimen(&mut p, id, style, rng)?,
        LayoutFamily::PhotoLeft => photo_left(&mut p, id, style, rng)?,
    };
    Ok((p.glyphs, photo))
}

/// The texts of the 照合番号B fields in `style`.
fn field_texts(id: &CardFrontIdentity, style: DigitStyle) -> [String; 3] {
    [
        style.apply(&id.printed_birth()),
        style.apply(&id.printed_expiry()),
        // The code is printed in half-width digits more often than the dates.
        DigitStyle {
            full_width: style.full_width && style.padded,
            ..style
        }
        .apply(&id.printed_security_code()),
    ]
}

/// Baselines of rows of type sizes `sizes` between `top` and `bottom`: the free space is
/// shared out at random, each gap at most the row's own size.
fn baselines(rng: &mut ChaCha8Rng, sizes: &[f32], top: f32, bottom: f32) -> Vec<f32> {
    let used: f32 = sizes.iter().sum();
    let weights: Vec<f32> = sizes.iter().map(|_| rng.random_range(0.4..1.0)).collect();
    let total: f32 = weights.iter().sum();
    let free = (bottom - top - used).max(0.0);
    let mut y = top;
    sizes
        .iter()
        .zip(&weights)
        .map(|(px, w)| {
            y += (free * w / total).min(px * 1.1) + px;
            y
        })
        .collect()
}

/// The framed 有効期限 band around the expiry line: a tinted fill and a frame; `inner` is the
/// text's box. Drawn before the text.
fn band(card: &mut Mat, inner: Rect, rng: &mut ChaCha8Rng) -> Result<(), OcrError> {
    // Farther from the text than ink is joined (lines::JOIN): its sides stay apart.
    let pad = rng.random_range(16..26);
    let r = Rect::new(
        inner.x - pad,
        inner.y - pad,
        inner.width + 2 * pad,
        inner.height + 2 * pad,
    );
    let tint = rng.random_range(205.0..240.0);
    if rng.random_bool(0.6) {
        imgproc::rectangle(
            card,
            r,
            Scalar::new(tint, tint + 8.0, tint, 0.0),
            -1,
            LINE_AA,
            0,
        )?;
    }
    let frame = rng.random_range(60.0..160.0);
    imgproc::rectangle(
        card,
        r,
        Scalar::all(frame),
        rng.random_range(1..3),
        LINE_AA,
        0,
    )?;
    Ok(())
}

/// The expiry line, optionally after a 有効期限 label, inside the band.
fn expiry_row(
    p: &mut Printer,
    text: &str,
    px: f32,
    (x, y): (f32, f32),
    rng: &mut ChaCha8Rng,
) -> Result<(), OcrError> {
    let label_px = px * rng.random_range(0.55..0.8);
    let labelled = rng.random_bool(0.5);
    let label_w = if labelled {
        p.width(label_px, "有効期限") + px * rng.random_range(0.6..1.2)
    } else {
        0.0
    };
    let w = label_w + p.width(px, text);
    band(
        p.card,
        Rect::new(x as i32, (y - px * 0.9) as i32, w as i32, (px * 1.1) as i32),
        rng,
    )?;
    if labelled {
        p.text(Item::Other, label_px, (x, y), "有効期限", true)?;
    }
    p.text(Item::Expiry, px, (x + label_w, y), text, false)?;
    Ok(())
}

/// The security code centred under the photo.
fn code_under(
    p: &mut Printer,
    text: &str,
    photo: Rect,
    rng: &mut ChaCha8Rng,
) -> Result<(), OcrError> {
    let px = rng.random_range(22.0..34.0);
    let w = p.width(px, text);
    let cx = (photo.x + photo.width / 2) as f32 + rng.random_range(-15.0..15.0);
    let y = (photo.y + photo.height) as f32 + rng.random_range(10.0..28.0) + px * 0.85;
    p.text(Item::SecurityCode, px, (cx - w / 2.0, y), text, false)?;
    Ok(())
}

/// The sex after the birth line on the same baseline (at least three em away), or `None` if it
/// does not fit before `right`.
fn sex_after(
    p: &mut Printer,
    id: &CardFrontIdentity,
    px: f32,
    (end, y): (f32, f32),
    right: f32,
    rng: &mut ChaCha8Rng,
) -> Result<(), OcrError> {
    let label_px = px * 0.6;
    let x = end + px * rng.random_range(3.0..4.0);
    let w = p.width(label_px, "性別") + 10.0 + p.width(px, id.sex.printed());
    if x + w < right {
        let lw = p.text(Item::Other, label_px, (x, y), "性別", true)?;
        p.text(Item::Other, px, (x + lw + 10.0, y), id.sex.printed(), false)?;
    }
    Ok(())
}

/// A labelled row (氏名 / 住所): a small grey label, then the text.
fn labelled(
    p: &mut Printer,
    label: &str,
    text: &str,
    px: f32,
    (x, y): (f32, f32),
    right: f32,
) -> Result<f32, OcrError> {
    let label_px = (px * 0.6).max(13.0);
    let lw = p.text(Item::Other, label_px, (x, y), label, true)? + px * 0.6;
    let px = p.fit(px, text, right - x - lw);
    p.text(Item::Other, px, (x + lw, y), text, false)?;
    Ok(x + lw)
}

/// The 住所 rows: the label and the address on two lines, split after the municipality.
fn address(
    p: &mut Printer,
    id: &CardFrontIdentity,
    px: f32,
    x: f32,
    (y1, y2): (f32, f32),
    right: f32,
) -> Result<(), OcrError> {
    let (line1, line2) = split_address(&id.address);
    let indent = labelled(p, "住所", line1, px, (x, y1), right)?;
    let px = p.fit(px, line2, right - indent);
    p.text(Item::Other, px, (indent, y2), line2, false)?;
    Ok(())
}

/// The specimen-like family: photo on the right, rows on the left.
fn specimen(
    p: &mut Printer,
    id: &CardFrontIdentity,
    style: DigitStyle,
    rng: &mut ChaCha8Rng,
) -> Result<Rect, OcrError> {
    let m = rng.random_range(20.0..46.0);
    let pw = rng.random_range(185..232);
    let ph = pw * rng.random_range(118..130) / 100;
    let title_place = rng.random_range(0..3);
    let px_title = rng.random_range(22.0..32.0);
    let photo = Rect::new(
        CARD_W - m as i32 - pw - rng.random_range(0..30),
        if title_place == 0 {
            rng.random_range(70..110)
        } else {
            rng.random_range(28..80)
        },
        pw,
        ph,
    );
    let title = "個人番号カード";
    let tw = p.width(px_title, title);
    let mut top = m;
    let mut bottom = CARD_H as f32 - m;
    match title_place {
        0 => {
            let x = (photo.x + photo.width) as f32 - tw;
            p.text(
                Item::Other,
                px_title,
                (x, photo.y as f32 - 14.0),
                title,
                false,
            )?;
        }
        1 => {
            p.text(Item::Other, px_title, (m, CARD_H as f32 - m), title, false)?;
            bottom -= px_title * 1.8;
        }
        _ => {
            p.text(Item::Other, px_title, (m, m + px_title), title, false)?;
            top += px_title * 1.6;
        }
    }
    let right = photo.x as f32 - rng.random_range(40.0..70.0);
    let [birth, expiry, code] = field_texts(id, style);
    let name_px = rng.random_range(24.0..36.0);
    let addr_px = rng.random_range(19.0..27.0);
    let birth_px = rng.random_range(24.0..36.0);
    let expiry_px = rng.random_range(22.0..32.0);
    let organ = title_place != 1 && rng.random_bool(0.5);
    if organ {
        bottom -= 40.0;
    }
    let ys = baselines(
        rng,
        &[name_px, addr_px, addr_px, birth_px, expiry_px * 1.6],
        top,
        bottom,
    );
    let x = m + rng.random_range(0.0..14.0);
    labelled(p, "氏名", &id.name, name_px, (x, ys[0]), right)?;
    address(p, id, addr_px, x, (ys[1], ys[2]), right)?;
    let birth_px = p.fit(birth_px, &birth, right - x);
    let bw = p.text(Item::Birth, birth_px, (x, ys[3]), &birth, false)?;
    sex_after(p, id, birth_px, (x + bw, ys[3]), right, rng)?;
    let expiry_px = p.fit(expiry_px, &expiry, (right - x) * 0.7);
    expiry_row(
        p,
        &expiry,
        expiry_px,
        (x + 8.0, ys[4] - expiry_px * 0.4),
        rng,
    )?;
    if organ {
        let px = 15.0;
        let y = CARD_H as f32 - m;
        p.text(Item::Other, px, (x, y), "臓器提供意思", true)?;
        let bx = Rect::new(
            (x + p.width(px, "臓器提供意思") + 8.0) as i32,
            (y - 13.0) as i32,
            14,
            14,
        );
        imgproc::rectangle(p.card, bx, Scalar::all(120.0), 1, LINE_AA, 0)?;
    }
    code_under(p, &code, photo, rng)?;
    Ok(photo)
}

/// The held-out family: photo on the left with the code under it; name, birth date (after a
/// 生年月日 label), address and expiry band in the column to its right; title bottom right.
fn photo_left(
    p: &mut Printer,
    id: &CardFrontIdentity,
    style: DigitStyle,
    rng: &mut ChaCha8Rng,
) -> Result<Rect, OcrError> {
    let m = rng.random_range(22.0..44.0);
    let pw = rng.random_range(170..212);
    let ph = pw * rng.random_range(118..130) / 100;
    let photo = Rect::new(m as i32, rng.random_range(36..100), pw, ph);
    let x = (photo.x + photo.width) as f32 + rng.random_range(45.0..75.0);
    let right = CARD_W as f32 - m;
    let px_title = rng.random_range(20.0..30.0);
    let title = "個人番号カード";
    let tw = p.width(px_title, title);
    p.text(
        Item::Other,
        px_title,
        (right - tw, CARD_H as f32 - m),
        title,
        false,
    )?;
    let bottom = CARD_H as f32 - m - px_title * 1.6;
    let [birth, expiry, code] = field_texts(id, style);
    let name_px = rng.random_range(24.0..34.0);
    let addr_px = rng.random_range(18.0..25.0);
    let birth_px = rng.random_range(24.0..34.0);
    let expiry_px = rng.random_range(22.0..30.0);
    let ys = baselines(
        rng,
        &[name_px, birth_px, addr_px, addr_px, expiry_px * 1.6],
        m,
        bottom,
    );
    labelled(p, "氏名", &id.name, name_px, (x, ys[0]), right)?;
    let birth_x = if rng.random_bool(0.6) {
        let label_px = birth_px * 0.55;
        p.text(Item::Other, label_px, (x, ys[1]), "生年月日", true)? + x + birth_px * 0.9
    } else {
        x
    };
    let birth_px = p.fit(birth_px, &birth, (right - birth_x) * 0.75);
    let bw = p.text(Item::Birth, birth_px, (birth_x, ys[1]), &birth, false)?;
    sex_after(p, id, birth_px, (birth_x + bw, ys[1]), right, rng)?;
    address(p, id, addr_px, x, (ys[2], ys[3]), right)?;
    let expiry_px = p.fit(expiry_px, &expiry, (right - x) * 0.8);
    expiry_row(
        p,
        &expiry,
        expiry_px,
        (x + 8.0, ys[4] - expiry_px * 0.4),
        rng,
    )?;
    code_under(p, &code, photo, rng)?;
    Ok(photo)
}

/// Splits an address into two printed lines after the municipality.
fn split_address(address: &str) -> (&str, &str) {
    let at = address
        .char_indices()
        .find(|&(_, c)| c == '区' || c == '市')
        .map_or(address.len(), |(i, c)| i + c.len_utf8());
    address.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_after_the_municipality() {
        assert_eq!(
            split_address("東京都千代田区霞が関1丁目"),
            ("東京都千代田区", "霞が関1丁目")
        );
        assert_eq!(split_address("どこか"), ("どこか", ""));
    }

    #[test]
    fn digit_styles_change_width_and_spacing_only() {
        let wide = DigitStyle {
            full_width: true,
            padded: true,
        };
        assert_eq!(wide.apply("2035年 2月"), "２０３５年\u{3000}２月");
        let tight = DigitStyle {
            full_width: false,
            padded: false,
        };
        assert_eq!(tight.apply("2035年 2月"), "2035年2月");
    }
}
