//! How the eyes-covered check and FaceMesh's eye openness behave on an evaluation set, the
//! figures of `docs/face-quality.md` (`mynakiosk face-eval DIR --eyes`).
//!
//! Each image is fitted into a 640×480 frame (enlarged at most 3×) and measured as it is and
//! under two synthetic covers painted over its YuNet eye points ([`Cover`], noise from a fixed
//! seed, so every run paints the same pixels). The covered frames exist only in memory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use opencv::core::{Mat, Rect, Size};
use opencv::imgproc;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{load, EvalError, Sample};
use crate::detector::DetectedFace;
use crate::error::FaceError;
use crate::frame::{Frame, FrameError};
use crate::liveness::EyeMeter;
use crate::matcher::FaceMatcher;
use crate::quality::{QualityConfig, QualityMeasures};

/// The frame each image is fitted into, as a kiosk camera delivers it.
pub const CANVAS: (u32, u32) = (640, 480);
/// Small images (ORL's 92×112) are enlarged at most this many times.
pub const MAX_ENLARGEMENT: f64 = 3.0;
/// Seed of the covers' noise.
pub const COVER_SEED: u64 = 4;

/// A synthetic cover over both eyes: a band 2 eye distances wide and 0.56 high, centred on the
/// eye line between the YuNet eye points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// Grey 25 ± 6 (uniform noise): dark glasses.
    DarkBand,
    /// The person's own cheek stretched over the band, ± 3 (uniform noise): a hand. The cheek
    /// is the area 0.5 × 0.3 eye distances below the right eye, at the height of the nose tip.
    SkinPatch,
}

impl Cover {
    /// `frame` with this cover over the eyes of `face`; `None` when the band (or the cheek)
    /// lies outside the frame.
    pub fn paint(
        self,
        frame: &Frame,
        face: &DetectedFace,
        rng: &mut impl RngCore,
    ) -> Result<Option<Frame>, FrameError> {
        let [right, left, nose, ..] = face.landmarks;
        let d = (left.0 - right.0).hypot(left.1 - right.1);
        let eye_line = (right.1 + left.1) / 2.0;
        let band = clamped(
            frame,
            (right.0 - 0.5 * d, eye_line - 0.28 * d),
            (left.0 + 0.5 * d, eye_line + 0.28 * d),
        );
        let cheek = clamped(
            frame,
            (right.0 - 0.25 * d, nose.1 - 0.15 * d),
            (right.0 + 0.25 * d, nose.1 + 0.15 * d),
        );
        if band.empty() || cheek.empty() {
            return Ok(None);
        }
        let covered = match self {
            Self::DarkBand => painted(frame, band, |_, _| [noisy(25, 6, rng); 3])?,
            Self::SkinPatch => {
                let patch = stretched(frame, cheek, band.size())?;
                painted(frame, band, |x, y| {
                    let noise = noise(3, rng);
                    let row = patch.row(y).unwrap_or_default();
                    [0, 1, 2].map(|c| {
                        let base = row.get((x * 3 + c) as usize).copied().unwrap_or(0);
                        (i16::from(base) + noise).clamp(0, 255) as u8
                    })
                })?
            }
        };
        Ok(Some(covered))
    }
}

/// `centre ± amplitude`, uniform.
fn noisy(centre: u8, amplitude: u8, rng: &mut impl RngCore) -> u8 {
    (i16::from(centre) + noise(amplitude, rng)).clamp(0, 255) as u8
}

/// Uniform in `-amplitude..=amplitude`.
fn noise(amplitude: u8, rng: &mut impl RngCore) -> i16 {
    let span = 2 * u32::from(amplitude) + 1;
    (rng.next_u32() % span) as i16 - i16::from(amplitude)
}

/// The rectangle between two corners, within `frame`.
fn clamped(frame: &Frame, (x0, y0): (f32, f32), (x1, y1): (f32, f32)) -> Rect {
    let clamp = |v: f32, limit: u32| v.round().clamp(0.0, limit as f32) as i32;
    let (x0, x1) = (clamp(x0, frame.width()), clamp(x1, frame.width()));
    let (y0, y1) = (clamp(y0, frame.height()), clamp(y1, frame.height()));
    Rect::new(x0, y0, (x1 - x0).max(0), (y1 - y0).max(0))
}

/// `region` of `frame` resized to `size` (bilinear).
fn stretched(frame: &Frame, region: Rect, size: Size) -> Result<Frame, FrameError> {
    let mut out = Frame::zeroed(size.width as u32, size.height as u32)?;
    let src = frame.as_mat()?;
    let part = Mat::roi(&src, region)?;
    out.write_region(out.full_region(), |dst| {
        imgproc::resize(&part, dst, size, 0.0, 0.0, imgproc::INTER_LINEAR)
    })?;
    Ok(out)
}

/// A copy of `frame` whose pixels in `region` are `paint(x, y)` (BGR, relative to the region).
fn painted(
    frame: &Frame,
    region: Rect,
    mut paint: impl FnMut(u32, u32) -> [u8; 3],
) -> Result<Frame, FrameError> {
    let (width, height) = (frame.width(), frame.height());
    let mut pixels = Zeroizing::new(Vec::with_capacity(width as usize * height as usize * 3));
    for y in 0..height {
        pixels.extend_from_slice(frame.row(y).unwrap_or_default());
    }
    for y in 0..region.height as u32 {
        for x in 0..region.width as u32 {
            let at = ((region.y as u32 + y) * width + region.x as u32 + x) as usize * 3;
            pixels[at..at + 3].copy_from_slice(&paint(x, y));
        }
    }
    Frame::from_raw(width, height, width as usize * 3, pixels)
}

/// A figure for each version of the images: as they are, under a dark band, under a skin patch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PerVersion<T> {
    pub clean: T,
    pub dark_band: T,
    pub skin_patch: T,
}

impl<T> PerVersion<T> {
    /// A figure per version, from a function of the field that selects it.
    fn by<U>(f: impl Fn(fn(&Self) -> &T) -> U) -> PerVersion<U> {
        PerVersion {
            clean: f(|v| &v.clean),
            dark_band: f(|v| &v.dark_band),
            skin_patch: f(|v| &v.skin_patch),
        }
    }
}

/// Faces flagged as eyes covered at one setting of the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Flagged {
    pub max_flat_eyes: f32,
    pub min_eye_edges: f32,
    /// Flagged faces of each version (on clean images: false alarms).
    pub faces: PerVersion<usize>,
}

/// Minimum, 5th percentile, median and maximum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub min: f32,
    pub p5: f32,
    pub median: f32,
    pub max: f32,
}

impl Spread {
    fn of(mut values: Vec<f32>) -> Option<Self> {
        values.sort_by(f32::total_cmp);
        let at = |q: f32| values[((values.len() - 1) as f32 * q).round() as usize];
        (!values.is_empty()).then(|| Self {
            count: values.len(),
            min: at(0.0),
            p5: at(0.05),
            median: at(0.5),
            max: at(1.0),
        })
    }
}

/// The eye aspect ratio FaceMesh measured (see [`EyeMeter::openness`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Openness {
    /// Over the faces of each version that FaceMesh measured.
    pub faces: PerVersion<Option<Spread>>,
    /// Smallest ratio of an image's openness to its identity's median on clean images
    /// (identities with at least 3 measured images): how far open eyes vary.
    pub lowest_within_identity: Option<f32>,
}

/// The eyes-covered check and eye openness over an evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EyesReport {
    pub images: usize,
    /// Faces YuNet found in each version.
    pub detected: PerVersion<usize>,
    /// The configured thresholds first, then settings around them.
    pub flagged: Vec<Flagged>,
    /// Clean images flagged at the configured thresholds.
    pub false_alarms: Vec<PathBuf>,
    pub openness: Openness,
}

/// What was measured on one version of an image (`None`: no face found).
#[derive(Debug, Clone, Copy)]
struct Seen {
    measures: QualityMeasures,
    openness: Option<f32>,
}

/// Measures every sample clean and under both covers, and summarises the eyes-covered check
/// at `configured`'s thresholds (and around them) and FaceMesh's eye openness.
pub fn eyes_report(
    matcher: &mut FaceMatcher,
    meter: &mut EyeMeter,
    samples: &[Sample],
    configured: &QualityConfig,
) -> Result<EyesReport, EvalError> {
    let mut rng = ChaCha8Rng::seed_from_u64(COVER_SEED);
    let mut seen = Vec::with_capacity(samples.len());
    for sample in samples {
        let frame = load(&sample.path)?
            .placed_in(CANVAS.0, CANVAS.1, MAX_ENLARGEMENT)
            .map_err(FaceError::from)?;
        let mut versions = PerVersion::<Option<Seen>>::default();
        if let Some((face, measures)) = matcher.measure_largest_face(&frame)? {
            let openness = meter.openness(&frame, &face)?;
            versions.clean = Some(Seen { measures, openness });
            for (cover, slot) in [
                (Cover::DarkBand, &mut versions.dark_band),
                (Cover::SkinPatch, &mut versions.skin_patch),
            ] {
                let covered = cover
                    .paint(&frame, &face, &mut rng)
                    .map_err(FaceError::from)?;
                let Some(covered) = covered else { continue };
                if let Some((face, measures)) = matcher.measure_largest_face(&covered)? {
                    let openness = meter.openness(&covered, &face)?;
                    *slot = Some(Seen { measures, openness });
                }
            }
        }
        seen.push(versions);
    }
    // Every measured version of `pick` that passes `keep`.
    let measured = |pick: fn(&PerVersion<Option<Seen>>) -> &Option<Seen>| {
        seen.iter().filter_map(move |v| *pick(v))
    };
    let count = |flag: &dyn Fn(&Seen) -> bool| {
        PerVersion::by(|pick| measured(pick).filter(|s| flag(s)).count())
    };
    let flagged = settings_around(configured)
        .iter()
        .map(|config| Flagged {
            max_flat_eyes: config.max_flat_eyes,
            min_eye_edges: config.min_eye_edges,
            faces: count(&|s| config.eyes_covered(&s.measures)),
        })
        .collect();
    let false_alarms = samples
        .iter()
        .zip(&seen)
        .filter(|(_, v)| {
            v.clean
                .is_some_and(|s| configured.eyes_covered(&s.measures))
        })
        .map(|(sample, _)| sample.path.clone())
        .collect();
    Ok(EyesReport {
        images: samples.len(),
        detected: count(&|_| true),
        flagged,
        false_alarms,
        openness: Openness {
            faces: PerVersion::by(|pick| {
                Spread::of(measured(pick).filter_map(|s| s.openness).collect())
            }),
            lowest_within_identity: lowest_within_identity(samples, &seen),
        },
    })
}

/// `configured`, its flat-area cue alone, and each threshold moved one step either way.
fn settings_around(configured: &QualityConfig) -> Vec<QualityConfig> {
    let with = |max_flat_eyes: f32, min_eye_edges: f32| QualityConfig {
        max_flat_eyes,
        min_eye_edges,
        ..*configured
    };
    let (flat, edges) = (configured.max_flat_eyes, configured.min_eye_edges);
    vec![
        *configured,
        with(flat, 0.0),
        with(flat, edges - 0.1),
        with(flat - 0.05, edges),
        with(flat, edges + 0.1),
    ]
}

/// The smallest clean openness relative to its identity's median.
fn lowest_within_identity(samples: &[Sample], seen: &[PerVersion<Option<Seen>>]) -> Option<f32> {
    let mut by_identity: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for (sample, versions) in samples.iter().zip(seen) {
        if let Some(openness) = versions.clean.and_then(|s| s.openness) {
            by_identity
                .entry(&sample.identity)
                .or_default()
                .push(openness);
        }
    }
    by_identity
        .into_values()
        .filter(|values| values.len() >= 3)
        .filter_map(|values| {
            let spread = Spread::of(values)?;
            Some(spread.min / spread.median)
        })
        .min_by(f32::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 200×200 frame whose pixel (x, y) is grey `(x + y) / 2`, and a face with eyes at
    /// (80, 80) and (120, 80) and the nose tip at (100, 110).
    fn gradient_and_face() -> (Frame, DetectedFace) {
        let mut pixels = Vec::new();
        for y in 0..200u32 {
            for x in 0..200u32 {
                pixels.extend([((x + y) / 2) as u8; 3]);
            }
        }
        let frame = Frame::from_raw(200, 200, 600, pixels.into()).unwrap();
        let face = DetectedFace {
            bbox: (60.0, 50.0, 80.0, 100.0),
            landmarks: [
                (80.0, 80.0),
                (120.0, 80.0),
                (100.0, 110.0),
                (85.0, 125.0),
                (115.0, 125.0),
            ],
            score: 0.9,
        };
        (frame, face)
    }

    fn grey(frame: &Frame, x: u32, y: u32) -> u8 {
        frame.row(y).unwrap()[x as usize * 3]
    }

    #[test]
    fn covers_paint_the_eye_band_only_and_repeat_with_the_seed() {
        let (frame, face) = gradient_and_face();
        let paint = |cover: Cover| {
            let mut rng = ChaCha8Rng::seed_from_u64(COVER_SEED);
            cover.paint(&frame, &face, &mut rng).unwrap().unwrap()
        };
        // Eye distance 40: the band spans x 60..140 and y 69..91.
        let band = paint(Cover::DarkBand);
        let inside: Vec<u8> = (69..91)
            .flat_map(|y| (60..140).map(move |x| (x, y)))
            .map(|(x, y)| grey(&band, x, y))
            .collect();
        assert!(inside.iter().all(|v| (19..=31).contains(v)));
        assert!(inside.iter().any(|&v| v != inside[0]), "noisy");
        for (x, y) in [(59, 80), (140, 80), (100, 68), (100, 91)] {
            assert_eq!(grey(&band, x, y), grey(&frame, x, y), "({x}, {y})");
        }
        assert_eq!(
            (0..200).map(|y| band.row(y).unwrap()).collect::<Vec<_>>(),
            (0..200)
                .map(|y| paint(Cover::DarkBand).row(y).unwrap().to_vec())
                .collect::<Vec<_>>()
        );
        // The cheek (x 70..90, y 104..116) holds grey 87..103, stretched over the band.
        let patch = paint(Cover::SkinPatch);
        for (x, y) in [(60, 69), (139, 90), (100, 80)] {
            assert!((84..=106).contains(&grey(&patch, x, y)), "({x}, {y})");
        }
        assert_eq!(grey(&patch, 100, 60), grey(&frame, 100, 60));
    }

    #[test]
    fn a_band_outside_the_frame_is_no_cover() {
        let (frame, mut face) = gradient_and_face();
        for point in &mut face.landmarks {
            point.1 += 400.0;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(COVER_SEED);
        assert!(Cover::DarkBand
            .paint(&frame, &face, &mut rng)
            .unwrap()
            .is_none());
    }

    #[test]
    fn spread_and_settings() {
        let spread = Spread::of((1..=21).map(|v| v as f32).collect()).unwrap();
        assert_eq!(
            (
                spread.count,
                spread.min,
                spread.p5,
                spread.median,
                spread.max
            ),
            (21, 1.0, 2.0, 11.0, 21.0)
        );
        assert_eq!(Spread::of(Vec::new()), None);
        let settings = settings_around(&QualityConfig::default());
        let expected = [
            (0.35, 1.0),
            (0.35, 0.0),
            (0.35, 0.9),
            (0.3, 1.0),
            (0.35, 1.1),
        ];
        assert_eq!(settings.len(), expected.len());
        for (config, (flat, edges)) in settings.iter().zip(expected) {
            assert!(
                (config.max_flat_eyes - flat).abs() < 1e-6
                    && (config.min_eye_edges - edges).abs() < 1e-6,
                "{config:?}"
            );
        }
    }
}
