//! A kiosk-shaped evaluation: each identity's first image is its chip photo (a 160 px
//! greyscale JPEG 2000, the gallery), and its other images are shown to the camera as short
//! live sequences: the picture placed in a 640×480 frame, held by a slightly trembling hand for
//! [`SEQUENCE`] frames, under one of the conditions of [`Condition`] (seeded). Each sequence is
//! matched two ways against every chip photo: by the picture path
//! ([`FaceMatcher::acquire_largest_face`] on its first frame: retries, closer look, no quality
//! gate) and by the live path ([`FaceMatcher::check_followed_frame`] on its frames in turn:
//! the face followed at a reduced resolution, the quality gate, the first frame it accepts).

use std::collections::BTreeMap;

use opencv::core::Rect;
use opencv::imgproc;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::degrade::Degradation;
use super::{acquire, load, ChipSimulator, ErrorRates, EvalError, Sample, Scores};
use super::{MatchError, FMR_TARGETS};
use crate::embedder::Embedding;
use crate::frame::{Frame, FrameError};
use crate::matcher::FaceMatcher;

/// Frames in each live sequence (a third of a second at 15 fps).
pub const SEQUENCE: usize = 5;
/// Camera frame size.
const CAMERA: (u32, u32) = (640, 480);
/// Grey of the wall behind the picture.
const WALL: u8 = 120;

/// What the camera sees in one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The picture 250–360 px high, near the guide's centre.
    Plain,
    /// As plain, brightness × 0.12–0.3.
    Dim,
    /// As plain, washed out (0.35–0.5 of the contrast on grey 150–190).
    Bright,
    /// As plain, Gaussian sensor noise of σ 12–25.
    Noise,
    /// As plain, out of focus (Gaussian blur of σ 1.5–3 px).
    Blur,
    /// The picture only 110–170 px high (a child, or a patient far back).
    Small,
    /// As plain, the head tilted 20–50° in the image plane.
    Rotation,
}

impl Condition {
    pub const ALL: [Self; 7] = [
        Self::Plain,
        Self::Dim,
        Self::Bright,
        Self::Noise,
        Self::Blur,
        Self::Small,
        Self::Rotation,
    ];

    /// The degradation applied to the whole frame, if any.
    fn degradation(self) -> Option<Degradation> {
        match self {
            Self::Plain | Self::Small => None,
            Self::Dim => Some(Degradation::Dim),
            Self::Bright => Some(Degradation::Bright),
            Self::Noise => Some(Degradation::Noise),
            Self::Blur => Some(Degradation::Blur),
            Self::Rotation => Some(Degradation::Rotation),
        }
    }
}

/// The frames of one live sequence of `picture` under `condition`, drawn from `seed`: the
/// same placement and degradation in every frame, the picture moved by up to 2 px between
/// frames.
pub fn sequence(
    picture: &Frame,
    condition: Condition,
    seed: u64,
) -> Result<Vec<Frame>, FrameError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let height = match condition {
        Condition::Small => between(&mut rng, 110.0, 170.0),
        _ => between(&mut rng, 250.0, 360.0),
    };
    let scale = height / f64::from(picture.height());
    let (w, h) = (
        (f64::from(picture.width()) * scale).round() as i32,
        height.round() as i32,
    );
    let centre = (
        f64::from(CAMERA.0) / 2.0 + between(&mut rng, -30.0, 30.0),
        f64::from(CAMERA.1) * 0.45 + between(&mut rng, -25.0, 25.0),
    );
    let degradation_rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
    let src = picture.as_mat()?;
    let mut frames = Vec::with_capacity(SEQUENCE);
    for _ in 0..SEQUENCE {
        let (jx, jy) = (between(&mut rng, -2.0, 2.0), between(&mut rng, -2.0, 2.0));
        let mut frame = Frame::from_raw(
            CAMERA.0,
            CAMERA.1,
            CAMERA.0 as usize * 3,
            vec![WALL; CAMERA.0 as usize * CAMERA.1 as usize * 3].into(),
        )?;
        let region = Rect::new(
            (centre.0 + jx - f64::from(w) / 2.0).round() as i32,
            (centre.1 + jy - f64::from(h) / 2.0).round() as i32,
            w,
            h,
        );
        frame.write_region(region, |dst| {
            imgproc::resize(
                &src,
                dst,
                opencv::core::Size::new(w, h),
                0.0,
                0.0,
                imgproc::INTER_LINEAR,
            )
        })?;
        frames.push(match condition.degradation() {
            // The same draw for every frame: one light, one tilt, one noise pattern.
            Some(kind) => kind.apply(&frame, &mut degradation_rng.clone())?,
            None => frame,
        });
    }
    Ok(frames)
}

/// Results of one path over the kiosk-shaped set.
#[derive(Debug, Clone, Serialize)]
pub struct PathReport {
    /// Sequences that gave no embedding, over all sequences.
    pub fta: f64,
    /// Why they gave none: an [`FtaCause`] (picture path) or the quality gate's last guidance
    /// (live path).
    pub fta_by_cause: BTreeMap<String, usize>,
    /// Every probe against every chip photo.
    pub rates: ErrorRates,
    /// Per condition: sequences, failures to acquire, and the EER of its probes.
    pub by_condition: Vec<ConditionReport>,
}

/// One condition's share of a [`PathReport`].
#[derive(Debug, Clone, Serialize)]
pub struct ConditionReport {
    pub condition: Condition,
    pub sequences: usize,
    pub failed: usize,
    /// `None` when no probe of this condition was acquired.
    pub eer: Option<f64>,
}

/// The kiosk-shaped evaluation's results.
#[derive(Debug, Clone, Serialize)]
pub struct KioskReport {
    pub seed: u64,
    pub identities: usize,
    /// Chip photos in which no face was found (their identities' probes are left out).
    pub gallery_failed: usize,
    pub picture: PathReport,
    pub live: PathReport,
}

/// Runs the kiosk-shaped evaluation on `samples` (at least two identities with two images).
pub fn kiosk_report(
    matcher: &mut FaceMatcher,
    samples: &[Sample],
    seed: u64,
) -> Result<KioskReport, EvalError> {
    let simulator = ChipSimulator::card_like()?;
    let mut gallery: Vec<(&str, Option<Embedding>)> = Vec::new();
    let mut probes: Vec<(usize, Condition, Probe, Probe)> = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for sample in samples {
        let picture = load(&sample.path)?;
        if gallery.last().map(|(id, _)| *id) != Some(sample.identity.as_str()) {
            let chip = match matcher.chip_embedding(simulator.encode(&picture)?) {
                Ok(embedding) => Some(embedding),
                Err(MatchError::NoFaceInChipPhoto) => None,
                Err(e) => return Err(EvalError::Match(e)),
            };
            gallery.push((&sample.identity, chip));
            continue;
        }
        let condition = Condition::ALL[probes.len() % Condition::ALL.len()];
        let frames = sequence(&picture, condition, rng.next_u64())?;
        drop(picture);
        let picture_path = match acquire(matcher, &frames[0])? {
            Ok(embedding) => Ok(embedding),
            Err(cause) => Err(format!("{cause:?}")),
        };
        let live_path = live(matcher, frames)?;
        probes.push((gallery.len() - 1, condition, picture_path, live_path));
    }
    let gallery_failed = gallery.iter().filter(|(_, chip)| chip.is_none()).count();
    let chips: Vec<Option<&Embedding>> = gallery.iter().map(|(_, chip)| chip.as_ref()).collect();
    let picture = path_report(&chips, probes.iter().map(|(i, c, p, _)| (*i, *c, p)))?;
    let live = path_report(&chips, probes.iter().map(|(i, c, _, l)| (*i, *c, l)))?;
    Ok(KioskReport {
        seed,
        identities: gallery.len(),
        gallery_failed,
        picture,
        live,
    })
}

/// A probe's embedding, or why there is none.
type Probe = Result<Embedding, String>;

/// The live path on `frames` from a fresh track: the embedding of the first frame the quality
/// gate accepts, or the gate's last guidance. Each frame is dropped once checked.
fn live(matcher: &mut FaceMatcher, frames: Vec<Frame>) -> Result<Probe, EvalError> {
    matcher.forget_followed_face();
    let mut why = String::from("no_frames");
    for frame in frames {
        let (check, embedding) = matcher.check_followed_frame(&frame)?;
        if let Some(embedding) = embedding {
            return Ok(Ok(embedding));
        }
        if let Err(guidance) = check.verdict {
            why = guidance.code().to_string();
        }
    }
    Ok(Err(why))
}

/// Scores each acquired probe against every chip photo found.
fn path_report<'p>(
    chips: &[Option<&Embedding>],
    probes: impl Iterator<Item = (usize, Condition, &'p Probe)>,
) -> Result<PathReport, EvalError> {
    let mut all = (Vec::new(), Vec::new());
    let mut per: BTreeMap<Condition, (usize, usize, Vec<f32>, Vec<f32>)> = BTreeMap::new();
    let (mut tried, mut fta_by_cause) = (0, BTreeMap::new());
    for (owner, condition, probe) in probes {
        if chips[owner].is_none() {
            continue;
        }
        tried += 1;
        let tally = per.entry(condition).or_default();
        tally.0 += 1;
        let embedding = match probe {
            Ok(embedding) => embedding,
            Err(why) => {
                tally.1 += 1;
                *fta_by_cause.entry(why.clone()).or_insert(0) += 1;
                continue;
            }
        };
        for (i, chip) in chips.iter().enumerate() {
            if let Some(chip) = chip {
                let score = chip.cosine(embedding);
                if i == owner {
                    all.0.push(score);
                    tally.2.push(score);
                } else {
                    all.1.push(score);
                    tally.3.push(score);
                }
            }
        }
    }
    let failed: usize = fta_by_cause.values().sum();
    let scores = Scores::new(all.0, all.1).ok_or(EvalError::TooFewPairs("kiosk"))?;
    Ok(PathReport {
        fta: failed as f64 / tried.max(1) as f64,
        fta_by_cause,
        rates: scores.error_rates(&FMR_TARGETS),
        by_condition: per
            .into_iter()
            .map(
                |(condition, (sequences, failed, genuine, impostor))| ConditionReport {
                    condition,
                    sequences,
                    failed,
                    eer: Scores::new(genuine, impostor).map(|s| s.error_rates(&[]).eer),
                },
            )
            .collect(),
    })
}

fn between(rng: &mut impl RngCore, low: f64, high: f64) -> f64 {
    low + (high - low) * f64::from(rng.next_u32()) / f64::from(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> Frame {
        let mut bytes = Vec::new();
        for y in 0..112u32 {
            for x in 0..92u32 {
                let v = ((x * 5 + y * 3) % 200 + 30) as u8;
                bytes.extend([v, v, v]);
            }
        }
        Frame::from_raw(92, 112, 92 * 3, bytes.into()).unwrap()
    }

    fn bytes(frame: &Frame) -> Vec<u8> {
        (0..frame.height())
            .flat_map(|y| frame.row(y).unwrap().to_vec())
            .collect()
    }

    /// Width of the picture in the middle row of `frame` (pixels off the wall's grey).
    fn shown_width(frame: &Frame) -> usize {
        let row = frame.row(frame.height() * 45 / 100).unwrap();
        row.chunks(3).filter(|p| p[1] != WALL).count()
    }

    #[test]
    fn a_sequence_holds_the_picture_trembling_and_repeats_with_its_seed() {
        let picture = picture();
        for condition in Condition::ALL {
            let frames = sequence(&picture, condition, 5).unwrap();
            assert_eq!(frames.len(), SEQUENCE);
            assert!(frames.iter().all(|f| (f.width(), f.height()) == CAMERA));
            let again = sequence(&picture, condition, 5).unwrap();
            assert_eq!(bytes(&frames[2]), bytes(&again[2]), "{condition:?}");
            assert_ne!(
                bytes(&frames[0]),
                bytes(&frames[1]),
                "{condition:?} held still"
            );
        }
        let plain = shown_width(&sequence(&picture, Condition::Plain, 5).unwrap()[0]);
        let small = shown_width(&sequence(&picture, Condition::Small, 5).unwrap()[0]);
        assert!((200..=300).contains(&plain), "{plain}");
        assert!((80..=145).contains(&small), "{small}");
    }
}
