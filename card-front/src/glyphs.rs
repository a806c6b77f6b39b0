//! Japanese typefaces from Debian's font packages and text rendering into OpenCV images.

use crate::error::OcrError;
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use opencv::core::{Mat, MatTrait, MatTraitConst, Rect, Vec3b};
use std::path::Path;
use std::sync::OnceLock;

/// Which synthetic cards may use a typeface: training lines, or only the held-out sets that
/// measure the reader (whole families are held out, Gothic and Mincho alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Training,
    HeldOut,
}

/// A typeface: a font file (and face index in a collection), its family and split.
pub struct Face {
    pub file: &'static str,
    pub index: u32,
    pub family: &'static str,
    pub split: Split,
}

const fn face(file: &'static str, index: u32, family: &'static str, split: Split) -> Face {
    Face {
        file,
        index,
        family,
        split,
    }
}

use Split::{HeldOut, Training};

/// Every typeface the generator prints with (Debian packages in `scripts/setup.sh`). IPA,
/// IPAex and Takao share one design, so they are one family.
pub const FACES: [Face; 26] = [
    face(
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        0,
        "Noto Sans CJK",
        Training,
    ),
    face(
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        0,
        "Noto Sans CJK",
        Training,
    ),
    face(
        "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/takao-mincho/TakaoMincho.ttf",
        0,
        "IPA",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/horai-umefont/ume-tgo4.ttf",
        0,
        "Ume",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/horai-umefont/ume-tmo3.ttf",
        0,
        "Ume",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/horai-umefont/ume-tgc5.ttf",
        0,
        "Ume",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/horai-umefont/ume-tms3.ttf",
        0,
        "Ume",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf",
        0,
        "VL Gothic",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
        0,
        "Hanazono",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
        0,
        "Kiloji",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/komatuna/komatuna.ttf",
        0,
        "Komatuna",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/konatu/Konatu.ttf",
        0,
        "Konatu",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/motoya-l-maruberi/MTLmr3m.ttf",
        0,
        "Motoya L Maruberi",
        Training,
    ),
    face(
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf",
        0,
        "BIZ UD",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Bold.ttf",
        0,
        "BIZ UD",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/truetype/bizud-mincho/BIZUDMincho-Regular.ttf",
        0,
        "BIZ UD",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        0,
        "Noto Serif CJK",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
        0,
        "Noto Serif CJK",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/truetype/motoya-l-cedar/MTLc3m.ttf",
        0,
        "Motoya L Cedar",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/truetype/sawarabi-gothic/sawarabi-gothic-medium.ttf",
        0,
        "Sawarabi",
        HeldOut,
    ),
    face(
        "/usr/share/fonts/truetype/horai-umefont/ume-pgs4.ttf",
        0,
        "Ume",
        Training,
    ),
];

/// The indices into [`FACES`] of `split`'s typefaces.
pub fn faces_of(split: Split) -> Vec<usize> {
    (0..FACES.len())
        .filter(|&i| FACES[i].split == split)
        .collect()
}

/// Typeface `i` of [`FACES`], loaded once per process.
pub fn font(i: usize) -> Result<&'static FontVec, OcrError> {
    static LOADED: [OnceLock<Result<FontVec, String>>; FACES.len()] =
        [const { OnceLock::new() }; FACES.len()];
    let face = &FACES[i];
    LOADED[i]
        .get_or_init(|| load(Path::new(face.file), face.index))
        .as_ref()
        .map_err(|e| OcrError::Fonts(e.clone()))
}

/// The largest font file read (the largest listed, Noto Serif CJK Bold, is 27.3 MB).
const MAX_FONT_BYTES: u64 = 64 << 20;

/// Face `index` of the font file at `path`, a regular file of at most [`MAX_FONT_BYTES`].
fn load(path: &Path, index: u32) -> Result<FontVec, String> {
    let data =
        capped_file::read(path, MAX_FONT_BYTES).map_err(|e| format!("{}: {e}", path.display()))?;
    // Face 0 of Debian's Noto CJK collections is the Japanese one.
    FontVec::try_from_vec_and_index(data, index).map_err(|e| format!("{}: {e}", path.display()))
}

/// Width in pixels of `text` set in `font` at `px`.
pub fn text_width(font: &FontVec, px: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(px));
    text.chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum()
}

/// A printed character and the box of its ink on the card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    pub ch: char,
    pub bounds: Rect,
}

/// Draws `text` into a BGR image with its baseline starting at (`x`, `baseline`), blending
/// `colour` by glyph coverage, and returns each inked character's box. Pixels outside the
/// image are skipped.
pub fn draw_text(
    img: &mut Mat,
    font: &FontVec,
    px: f32,
    (x, baseline): (f32, f32),
    text: &str,
    colour: [u8; 3],
) -> opencv::Result<Vec<Glyph>> {
    let scaled = font.as_scaled(PxScale::from(px));
    let (rows, cols) = (img.rows(), img.cols());
    let mut pen = x;
    let mut glyphs = Vec::new();
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, baseline));
        pen += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        glyphs.push(Glyph {
            ch: c,
            bounds: Rect::new(
                bounds.min.x as i32,
                bounds.min.y as i32,
                bounds.width().ceil() as i32,
                bounds.height().ceil() as i32,
            ),
        });
        let mut result = Ok(());
        outlined.draw(|gx, gy, coverage| {
            let (px_x, px_y) = (
                bounds.min.x as i32 + gx as i32,
                bounds.min.y as i32 + gy as i32,
            );
            if coverage <= 0.0 || px_x < 0 || px_y < 0 || px_x >= cols || px_y >= rows {
                return;
            }
            match img.at_2d_mut::<Vec3b>(px_y, px_x) {
                Ok(p) => {
                    for ch in 0..3 {
                        let a = coverage.min(1.0);
                        p[ch] = (f32::from(p[ch]) * (1.0 - a) + f32::from(colour[ch]) * a) as u8;
                    }
                }
                Err(e) => result = Err(e),
            }
        });
        result?;
    }
    Ok(glyphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_face_prints_every_character_of_the_cards() {
        let needed = "0123456789０１２３４５６７８９昭和平成令年月日生まで有効個人番号カード氏名住所性別男女\
                      東京都千代田区霞が関丁目番号臓器提供意思";
        for (i, face) in FACES.iter().enumerate() {
            let f = font(i).unwrap();
            for c in needed.chars() {
                assert_ne!(f.glyph_id(c).0, 0, "{} lacks {c}", face.file);
            }
        }
        assert!(faces_of(Split::HeldOut).len() >= 5);
    }

    #[test]
    fn a_device_a_fifo_or_an_oversized_file_is_refused_as_a_font_without_reading_it() {
        let e = load(Path::new("/dev/zero"), 0).err().unwrap();
        assert!(e.contains("not a regular file"), "{e}");
        let dir = std::env::temp_dir().join(format!("card-front-font-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("font.ttf");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = load(&fifo, 0).err().unwrap();
        assert!(e.contains("not a regular file"), "{e}");
        let large = dir.join("large.ttf");
        std::fs::File::create(&large)
            .unwrap()
            .set_len(MAX_FONT_BYTES + 1)
            .unwrap();
        let e = load(&large, 0).err().unwrap();
        assert!(e.contains("more than the"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
