//! Where degraded pictures lose accuracy, kind by kind: whether the face is found, how far its
//! landmarks land from the clean picture's (carried over by the degradation's own geometry),
//! and how close its embedding stays to the clean one, aligned from its own landmarks and from
//! the clean ones carried over. The second tells alignment losses from embedding losses.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::degrade::Degradation;
use super::metrics::Scores;
use super::{load, EvalError, Sample};
use crate::detector::DetectedFace;
use crate::embedder::Embedding;
use crate::matcher::FaceMatcher;

/// What one degradation kind does to the pictures it was applied to.
#[derive(Debug, Clone, Serialize)]
pub struct KindDiagnosis {
    /// `None`: the clean pictures against each other.
    pub kind: Option<Degradation>,
    /// Pictures of this kind whose clean version gave a face.
    pub tried: usize,
    /// Of those, the degraded pictures in which a face was found and aligned.
    pub found: usize,
    /// Median distance of the degraded picture's landmarks from the clean ones carried over,
    /// in eye distances.
    pub landmark_error: f64,
    /// Median cosine between the degraded picture's embedding and the clean one: aligned from
    /// its own landmarks, and from the clean landmarks carried over.
    pub cosine_own: f64,
    pub cosine_carried: f64,
    /// Equal error rate of the degraded pictures as probes against every other clean picture
    /// as gallery: aligned from their own landmarks, and from the clean ones carried over.
    pub eer_own: f64,
    pub eer_carried: f64,
}

struct Probe {
    own: Option<Embedding>,
    carried: Embedding,
    landmark_error: Option<f64>,
}

/// Degrades sample `i` with kind `i mod 8` from `seed` (the pictures of
/// [`super::degrade::degraded_report`]) and measures each kind against the clean pictures.
pub fn diagnose(
    matcher: &mut FaceMatcher,
    samples: &[Sample],
    seed: u64,
) -> Result<Vec<KindDiagnosis>, EvalError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut clean = Vec::with_capacity(samples.len());
    let mut probes = Vec::with_capacity(samples.len());
    for (i, sample) in samples.iter().enumerate() {
        let picture = load(&sample.path)?;
        let kind = Degradation::ALL[i % Degradation::ALL.len()];
        let (degraded, map) = kind.apply_mapped(&picture, &mut rng)?;
        let Some((face, embedding)) = largest(matcher, &picture)? else {
            clean.push(None);
            probes.push(None);
            continue;
        };
        let carried = DetectedFace {
            landmarks: face.landmarks.map(|point| mapped(&map, point)),
            ..face
        };
        let own = largest(matcher, &degraded)?;
        probes.push(Some(Probe {
            landmark_error: own
                .as_ref()
                .map(|(found, _)| landmark_error(found, &carried)),
            own: own.map(|(_, e)| e),
            carried: matcher
                .embed_face(&degraded, &carried)?
                .unwrap_or_else(|| embedding.clone()),
        }));
        clean.push(Some(embedding));
    }
    let mut kinds = vec![None];
    kinds.extend(Degradation::ALL.map(Some));
    Ok(kinds
        .into_iter()
        .map(|kind| summary(kind, samples, &clean, &probes))
        .collect())
}

fn summary(
    kind: Option<Degradation>,
    samples: &[Sample],
    clean: &[Option<Embedding>],
    probes: &[Option<Probe>],
) -> KindDiagnosis {
    let of_kind = |i: usize| {
        kind.is_none_or(|k| Degradation::ALL[i % Degradation::ALL.len()] == k) && clean[i].is_some()
    };
    let chosen: Vec<usize> = (0..samples.len()).filter(|&i| of_kind(i)).collect();
    let embeddings = |pick: &dyn Fn(&Probe) -> Option<Embedding>| -> Vec<Option<Embedding>> {
        (0..samples.len())
            .map(|i| match kind {
                None => clean[i].clone(),
                Some(_) => probes[i].as_ref().and_then(pick),
            })
            .collect()
    };
    let own = embeddings(&|p| p.own.clone());
    let carried = embeddings(&|p| Some(p.carried.clone()));
    let cosines = |set: &[Option<Embedding>]| {
        chosen
            .iter()
            .filter_map(|&i| Some(f64::from(set[i].as_ref()?.cosine(clean[i].as_ref()?))))
            .collect::<Vec<_>>()
    };
    let eer = |set: &[Option<Embedding>]| {
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for &i in &chosen {
            for (j, gallery) in clean.iter().enumerate() {
                if let (true, Some(probe), Some(gallery)) = (i != j, &set[i], gallery) {
                    let score = probe.cosine(gallery);
                    match samples[i].identity == samples[j].identity {
                        true => genuine.push(score),
                        false => impostor.push(score),
                    }
                }
            }
        }
        Scores::new(genuine, impostor).map_or(f64::NAN, |s| s.error_rates(&[]).eer)
    };
    KindDiagnosis {
        kind,
        tried: chosen.len(),
        found: chosen.iter().filter(|&&i| own[i].is_some()).count(),
        landmark_error: median(
            chosen
                .iter()
                .filter_map(|&i| {
                    probes[i]
                        .as_ref()?
                        .landmark_error
                        .filter(|_| kind.is_some())
                })
                .collect(),
        ),
        cosine_own: median(cosines(&own)),
        cosine_carried: median(cosines(&carried)),
        eer_own: eer(&own),
        eer_carried: eer(&carried),
    }
}

/// The largest face of `frame` and its embedding, as the kiosk acquires a single picture.
fn largest(
    matcher: &mut FaceMatcher,
    frame: &crate::frame::Frame,
) -> Result<Option<(DetectedFace, Embedding)>, EvalError> {
    match matcher.largest_face_crop(frame)? {
        Ok((face, crop)) => Ok(Some((face, matcher.embed_picture_crop(&crop)?))),
        Err(_) => Ok(None),
    }
}

fn mapped(map: &[f64; 6], (x, y): (f32, f32)) -> (f32, f32) {
    let (x, y) = (f64::from(x), f64::from(y));
    (
        (map[0] * x + map[1] * y + map[2]) as f32,
        (map[3] * x + map[4] * y + map[5]) as f32,
    )
}

/// Mean distance between the landmarks of `found` and `expected`, in `expected`'s eye
/// distances.
fn landmark_error(found: &DetectedFace, expected: &DetectedFace) -> f64 {
    let distance =
        |(ax, ay): (f32, f32), (bx, by): (f32, f32)| f64::from(ax - bx).hypot(f64::from(ay - by));
    let eyes = distance(expected.landmarks[0], expected.landmarks[1]).max(1.0);
    let total: f64 = found
        .landmarks
        .iter()
        .zip(&expected.landmarks)
        .map(|(&a, &b)| distance(a, b))
        .sum();
    total / 5.0 / eyes
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n => values[n / 2],
    }
}
