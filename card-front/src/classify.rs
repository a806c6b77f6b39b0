//! The glyph recogniser: nearest templates rendered at start-up from the card-front fonts,
//! with a softmax over per-class distances as the confidence.

use crate::date::Era;
use crate::error::OcrError;
use crate::glyphs::{draw_text, fonts};
use crate::segment::{line_blobs, Blob, INK_CONTRASTS};
use opencv::core::{self, Mat, Rect, Scalar, Size, CV_8UC3};
use opencv::imgproc;
use std::sync::OnceLock;

/// What a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    Digit(u8),
    /// A piece of the first character of an era name (昭 / 平成 / 令).
    Era(Era),
    /// Any other printed character (年, 月, 日, 生, 和, まで有効 …).
    Other,
}

const CLASSES: usize = 14;

impl Glyph {
    fn class(self) -> usize {
        match self {
            Glyph::Digit(d) => usize::from(d),
            Glyph::Era(Era::Showa) => 10,
            Glyph::Era(Era::Heisei) => 11,
            Glyph::Era(Era::Reiwa) => 12,
            Glyph::Other => 13,
        }
    }

    fn of_class(class: usize) -> Glyph {
        match class {
            0..=9 => Glyph::Digit(class as u8),
            10 => Glyph::Era(Era::Showa),
            11 => Glyph::Era(Era::Heisei),
            12 => Glyph::Era(Era::Reiwa),
            _ => Glyph::Other,
        }
    }

    fn of_char(c: char) -> Glyph {
        match c {
            '0'..='9' => Glyph::Digit(c as u8 - b'0'),
            '昭' => Glyph::Era(Era::Showa),
            '平' | '成' => Glyph::Era(Era::Heisei),
            '令' => Glyph::Era(Era::Reiwa),
            _ => Glyph::Other,
        }
    }
}

/// Characters printed on the 照合番号B fields.
const CHARSET: &str = "0123456789昭平成令和年月日生まで有効";
/// Type size the templates are rendered at.
const TEMPLATE_PX: f32 = 32.0;
/// Blur applied to template renderings, to resemble camera optics.
const TEMPLATE_BLURS: [f64; 3] = [0.0, 1.2, 2.0];
/// Down-and-up sampling of template renderings, to resemble low-resolution photos.
const TEMPLATE_SCALES: [f64; 3] = [1.0, 0.5, 0.35];
/// Softmax temperature on descriptor distances.
const TEMPERATURE: f32 = 0.35;

/// A classified blob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classified {
    pub glyph: Glyph,
    pub confidence: f32,
    pub x: i32,
}

struct Template {
    glyph: Glyph,
    features: Vec<f32>,
}

fn templates() -> Result<&'static [Template], OcrError> {
    static BANK: OnceLock<Result<Vec<Template>, OcrError>> = OnceLock::new();
    BANK.get_or_init(build_templates)
        .as_deref()
        .map_err(Clone::clone)
}

fn build_templates() -> Result<Vec<Template>, OcrError> {
    let mut bank = Vec::new();
    let size = Size::new((TEMPLATE_PX * 2.0) as i32, (TEMPLATE_PX * 1.8) as i32);
    for font in fonts()? {
        for c in CHARSET.chars() {
            let mut canvas = Mat::new_size_with_default(size, CV_8UC3, Scalar::all(235.0))?;
            let origin = (TEMPLATE_PX * 0.5, TEMPLATE_PX * 1.3);
            draw_text(
                &mut canvas,
                font,
                TEMPLATE_PX,
                origin,
                &c.to_string(),
                [30, 30, 30],
            )?;
            let mut grey = Mat::default();
            imgproc::cvt_color_def(&canvas, &mut grey, imgproc::COLOR_BGR2GRAY)?;
            for (sigma, scale) in TEMPLATE_BLURS
                .into_iter()
                .flat_map(|b| TEMPLATE_SCALES.map(|s| (b, s)))
            {
                let mut blurred = grey.clone();
                if sigma > 0.0 {
                    imgproc::gaussian_blur(
                        &grey,
                        &mut blurred,
                        Size::default(),
                        sigma,
                        sigma,
                        core::BORDER_REPLICATE,
                    )?;
                }
                if scale < 1.0 {
                    let mut small = Mat::default();
                    imgproc::resize(
                        &blurred,
                        &mut small,
                        Size::default(),
                        scale,
                        scale,
                        imgproc::INTER_AREA,
                    )?;
                    imgproc::resize(&small, &mut blurred, size, 0.0, 0.0, imgproc::INTER_LINEAR)?;
                }
                let blobs = line_blobs(
                    &blurred,
                    Rect::new(0, 0, size.width, size.height),
                    TEMPLATE_PX,
                    INK_CONTRASTS[0],
                )?;
                let glyph = Glyph::of_char(c);
                // A digit is one blob; a broken rendering would teach the wrong shape.
                if matches!(glyph, Glyph::Digit(_)) && blobs.len() != 1 {
                    continue;
                }
                bank.extend(blobs.into_iter().map(|b| Template {
                    glyph,
                    features: b.features,
                }));
            }
        }
    }
    Ok(bank)
}

/// Classifies each blob of a line.
pub fn classify(blobs: &[Blob]) -> Result<Vec<Classified>, OcrError> {
    let bank = templates()?;
    Ok(blobs
        .iter()
        .map(|blob| {
            let mut best = [f32::INFINITY; CLASSES];
            for t in bank {
                let d: f32 = t
                    .features
                    .iter()
                    .zip(&blob.features)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                let slot = &mut best[t.glyph.class()];
                *slot = slot.min(d.sqrt());
            }
            let (class, &d_min) = best
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .unwrap_or((CLASSES - 1, &f32::INFINITY));
            let total: f32 = best
                .iter()
                .map(|d| (-(d - d_min) / TEMPERATURE).exp())
                .sum();
            Classified {
                glyph: Glyph::of_class(class),
                confidence: 1.0 / total,
                x: blob.x,
            }
        })
        .collect())
}
