//! Accuracy evaluation over a folder of `identity/image` files: every genuine and impostor
//! pair, FMR, FNMR, EER, failure to acquire, and thresholds at fixed FMRs. A clinic can run it
//! on its own consented set to calibrate [`crate::MatchPolicy::threshold`].
//!
//! Chip mode turns each image into a small greyscale JPEG 2000, as stored on the card, and
//! matches it as the gallery against the other images as live probes. [`eyes`] measures the
//! eyes-covered check and eye openness on the same kind of folder; [`degrade`] and [`kiosk`]
//! build seeded hard sets from it (degraded pictures; chip photos against live sequences).

mod chip_sim;
pub mod degrade;
pub mod diagnosis;
pub mod eyes;
pub mod kiosk;
pub mod liveness;
mod metrics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use chip_sim::{ChipSimError, ChipSimulator};
pub use metrics::{ErrorRates, OperatingPoint, Scores, FMR_TARGETS};

use crate::camera::{is_image, CameraError, CameraSource, ImageFolderSource};
use crate::detector::retry;
use crate::embedder::Embedding;
use crate::error::FaceError;
use crate::frame::{Frame, FrameError};
use crate::liveness::LivenessError;
use crate::matcher::{FaceMatcher, MatchError, NotAcquired};

/// A picture shorter than this on its short side is "small" in [`FtaCause`], in pixels.
const SMALL_PICTURE: u32 = 128;

/// Why an image (or chip photo) gave no embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FtaCause {
    /// No face, in a picture that is dim, washed out or flat (the detector's light retry
    /// ran and found nothing either).
    NoFacePoorLight,
    /// No face, in a picture under [`SMALL_PICTURE`] pixels on its short side.
    NoFaceSmallPicture,
    /// No face, in a well lit picture of ordinary size (turned, blurred, noisy, no face…).
    NoFace,
    /// A face was found, but the alignment check refused its landmarks.
    LandmarksRefused,
    /// No face in the simulated chip photo.
    NoFaceInChipPhoto,
}

impl FtaCause {
    /// The cause of `why` for `frame`.
    fn of(why: NotAcquired, frame: &Frame) -> Result<Self, FrameError> {
        Ok(match why {
            NotAcquired::BadLandmarks => Self::LandmarksRefused,
            NotAcquired::NoFace if retry::poorly_lit(frame)? => Self::NoFacePoorLight,
            NotAcquired::NoFace if frame.width().min(frame.height()) < SMALL_PICTURE => {
                Self::NoFaceSmallPicture
            }
            NotAcquired::NoFace => Self::NoFace,
        })
    }
}

/// The embedding of one image, or why there is none.
pub type Acquired = Result<Embedding, FtaCause>;

/// One image of the evaluation set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub identity: String,
    pub path: PathBuf,
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read the evaluation folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has no identity folders with images", path.display())]
    Empty { path: PathBuf },
    #[error("{0} needs at least two identities and one identity with two usable images")]
    TooFewPairs(&'static str),
    #[error(transparent)]
    Camera(#[from] CameraError),
    #[error(transparent)]
    Face(#[from] FaceError),
    #[error(transparent)]
    ChipSim(#[from] ChipSimError),
    #[error(transparent)]
    Match(MatchError),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Liveness(#[from] LivenessError),
    #[error(transparent)]
    ImageFile(#[from] crate::image_file::ImageFileError),
}

/// The images of `dir`: each subfolder is an identity, each image file in it a sample
/// (sorted by identity, then file name).
pub fn scan(dir: &Path) -> Result<Vec<Sample>, EvalError> {
    let folder_error = |source| EvalError::Folder {
        path: dir.to_path_buf(),
        source,
    };
    let mut samples = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let identity_dir = entry.map_err(folder_error)?.path();
        if !identity_dir.is_dir() {
            continue;
        }
        let identity = identity_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for file in std::fs::read_dir(&identity_dir).map_err(folder_error)? {
            let path = file.map_err(folder_error)?.path();
            if path.is_file() && is_image(&path) {
                samples.push(Sample {
                    identity: identity.clone(),
                    path,
                });
            }
        }
    }
    if samples.is_empty() {
        return Err(EvalError::Empty {
            path: dir.to_path_buf(),
        });
    }
    samples.sort_by(|a, b| (&a.identity, &a.path).cmp(&(&b.identity, &b.path)));
    Ok(samples)
}

/// Results of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// "normal" or "chip".
    pub mode: &'static str,
    pub identities: usize,
    pub images: usize,
    /// Images (or chip photos) in which no face was found; pairs with them are left out.
    pub failed_to_acquire: Vec<PathBuf>,
    /// The failures to acquire by cause.
    pub fta_by_cause: BTreeMap<FtaCause, usize>,
    /// `failed_to_acquire` over every image (and chip photo) tried.
    pub fta: f64,
    pub rates: ErrorRates,
    /// Rates at the kiosk's configured threshold.
    pub at_policy_threshold: OperatingPoint,
}

/// The embedding of every sample, or why there is none.
pub fn embed_all(
    matcher: &mut FaceMatcher,
    samples: &[Sample],
) -> Result<Vec<Acquired>, EvalError> {
    samples
        .iter()
        .map(|sample| acquire(matcher, &load(&sample.path)?))
        .collect()
}

/// The embedding of the largest face of `frame`, or why there is none.
fn acquire(matcher: &mut FaceMatcher, frame: &Frame) -> Result<Acquired, EvalError> {
    Ok(match matcher.acquire_largest_face(frame)? {
        Ok(embedding) => Ok(embedding),
        Err(why) => Err(FtaCause::of(why, frame)?),
    })
}

/// The embedding of every sample as a simulated chip photo, or why there is none.
pub fn embed_all_as_chip(
    matcher: &mut FaceMatcher,
    samples: &[Sample],
    simulator: &ChipSimulator,
) -> Result<Vec<Acquired>, EvalError> {
    samples
        .iter()
        .map(|sample| {
            let jp2 = simulator.encode(&load(&sample.path)?)?;
            match matcher.chip_embedding(jp2) {
                Ok(embedding) => Ok(Ok(embedding)),
                Err(MatchError::NoFaceInChipPhoto) => Ok(Err(FtaCause::NoFaceInChipPhoto)),
                Err(e) => Err(EvalError::Match(e)),
            }
        })
        .collect()
}

/// Scores every pair: normal mode (`gallery` is `None`) compares each unordered pair of
/// `probes` once; chip mode compares each gallery entry with every *other* probe.
pub fn report(
    samples: &[Sample],
    probes: &[Acquired],
    gallery: Option<&[Acquired]>,
    policy_threshold: f32,
) -> Result<EvalReport, EvalError> {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, a) in gallery.unwrap_or(probes).iter().enumerate() {
        for (j, b) in probes.iter().enumerate() {
            let wanted = if gallery.is_some() { i != j } else { i < j };
            if let (true, Ok(a), Ok(b)) = (wanted, a, b) {
                let score = a.cosine(b);
                if samples[i].identity == samples[j].identity {
                    genuine.push(score);
                } else {
                    impostor.push(score);
                }
            }
        }
    }
    let mode = if gallery.is_some() { "chip" } else { "normal" };
    let scores = Scores::new(genuine, impostor).ok_or(EvalError::TooFewPairs(mode))?;
    let (mut failed_to_acquire, mut fta_by_cause) = (Vec::new(), BTreeMap::new());
    let mut tried = 0;
    for set in [Some(probes), gallery].into_iter().flatten() {
        tried += set.len();
        for (acquired, sample) in set.iter().zip(samples) {
            if let Err(cause) = acquired {
                failed_to_acquire.push(sample.path.clone());
                *fta_by_cause.entry(*cause).or_insert(0) += 1;
            }
        }
    }
    let mut identities: Vec<&str> = samples.iter().map(|s| s.identity.as_str()).collect();
    identities.dedup();
    Ok(EvalReport {
        mode,
        identities: identities.len(),
        images: samples.len(),
        fta: failed_to_acquire.len() as f64 / tried as f64,
        failed_to_acquire,
        fta_by_cause,
        rates: scores.error_rates(&FMR_TARGETS),
        at_policy_threshold: scores.at(policy_threshold),
    })
}

/// Decodes an evaluation image as the camera would deliver it.
fn load(path: &Path) -> Result<Frame, CameraError> {
    ImageFolderSource::open(path)?.next_frame()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: [f32; 2]) -> Acquired {
        let mut raw = [0.0; crate::embedder::EMBEDDING_LEN];
        raw[..2].copy_from_slice(&values);
        Embedding::normalised(raw).ok_or(FtaCause::NoFace)
    }

    fn samples(identities: &[&str]) -> Vec<Sample> {
        identities
            .iter()
            .enumerate()
            .map(|(i, id)| Sample {
                identity: id.to_string(),
                path: PathBuf::from(format!("{id}/{i}.pgm")),
            })
            .collect()
    }

    #[test]
    fn pairs_are_counted_once_in_normal_mode_and_both_ways_in_chip_mode() {
        let samples = samples(&["a", "a", "b", "b", "c"]);
        let probes = [
            unit([1.0, 0.0]),
            unit([0.9, 0.1]),
            unit([0.0, 1.0]),
            unit([0.1, 0.9]),
            Err(FtaCause::NoFaceSmallPicture),
        ];
        let normal = report(&samples, &probes, None, 0.42).unwrap();
        assert_eq!(normal.rates.genuine_pairs, 2);
        assert_eq!(normal.rates.impostor_pairs, 4);
        assert_eq!(normal.rates.eer, 0.0);
        assert_eq!(normal.fta, 0.2);
        assert_eq!(normal.failed_to_acquire, [PathBuf::from("c/4.pgm")]);
        assert_eq!(
            normal.fta_by_cause,
            BTreeMap::from([(FtaCause::NoFaceSmallPicture, 1)])
        );
        assert_eq!(normal.identities, 3);
        let chip = report(&samples, &probes, Some(&probes), 0.42).unwrap();
        assert_eq!(chip.rates.genuine_pairs, 4);
        assert_eq!(chip.rates.impostor_pairs, 8);
        assert_eq!(chip.fta, 0.2);
        assert_eq!(
            chip.fta_by_cause,
            BTreeMap::from([(FtaCause::NoFaceSmallPicture, 2)])
        );
    }

    #[test]
    fn too_few_pairs_is_an_error() {
        let samples = samples(&["a", "b"]);
        let probes = [unit([1.0, 0.0]), unit([0.0, 1.0])];
        assert!(matches!(
            report(&samples, &probes, None, 0.42),
            Err(EvalError::TooFewPairs("normal"))
        ));
    }

    #[test]
    fn scan_reads_identity_folders() {
        let dir = tempfile::tempdir().unwrap();
        for (id, file) in [("bob", "2.pgm"), ("bob", "1.jpg"), ("amy", "x.png")] {
            std::fs::create_dir_all(dir.path().join(id)).unwrap();
            std::fs::write(dir.path().join(id).join(file), b"").unwrap();
        }
        std::fs::write(dir.path().join("bob/notes.txt"), b"").unwrap();
        std::fs::write(dir.path().join("stray.pgm"), b"").unwrap();
        let found = scan(dir.path()).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|s| {
                format!(
                    "{}:{}",
                    s.identity,
                    s.path.file_name().unwrap().to_string_lossy()
                )
            })
            .collect();
        assert_eq!(names, ["amy:x.png", "bob:1.jpg", "bob:2.pgm"]);
        assert!(matches!(
            scan(&dir.path().join("amy")),
            Err(EvalError::Empty { .. })
        ));
        assert!(matches!(
            scan(Path::new("/nonexistent/eval")),
            Err(EvalError::Folder { .. })
        ));
    }
}
