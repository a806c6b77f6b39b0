//! Japanese fonts from Debian's `fonts-noto-cjk` and text rendering into OpenCV images.

use crate::error::OcrError;
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use opencv::core::{Mat, MatTrait, MatTraitConst, Vec3b};
use std::path::Path;
use std::sync::OnceLock;

/// The card-front typefaces: Noto Sans CJK JP, regular and bold.
const FONT_FILES: [&str; 2] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
];

/// The loaded card-front fonts (loaded once per process).
pub fn fonts() -> Result<&'static [FontVec], OcrError> {
    static FONTS: OnceLock<Result<Vec<FontVec>, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| FONT_FILES.iter().map(|p| load(Path::new(p))).collect())
        .as_deref()
        .map_err(|e| OcrError::Fonts(e.clone()))
}

fn load(path: &Path) -> Result<FontVec, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Face 0 of Debian's Noto CJK collections is the Japanese one.
    FontVec::try_from_vec_and_index(data, 0).map_err(|e| format!("{}: {e}", path.display()))
}

/// Width in pixels of `text` set in `font` at `px`.
pub fn text_width(font: &FontVec, px: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(px));
    text.chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum()
}

/// Draws `text` into a BGR image with its baseline starting at (`x`, `baseline`), blending
/// `colour` by glyph coverage. Pixels outside the image are skipped.
pub fn draw_text(
    img: &mut Mat,
    font: &FontVec,
    px: f32,
    (x, baseline): (f32, f32),
    text: &str,
    colour: [u8; 3],
) -> opencv::Result<()> {
    let scaled = font.as_scaled(PxScale::from(px));
    let (rows, cols) = (img.rows(), img.cols());
    let mut pen = x;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, baseline));
        pen += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
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
    Ok(())
}
