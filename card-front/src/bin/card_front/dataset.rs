//! The line recogniser's training set, made by the reader's own locate and line functions.

use card_front::layout::{self, Field};
use card_front::line_input::{line_image, line_label};
use card_front::{card_outlines, rectify, synthetic_frames, CameraShot, CardFrontIdentity, Date};
use opencv::core::{MatTraitConstManual, Point2f};
use opencv::imgproc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

/// Photos taken of each card.
const FRAMES_PER_CARD: usize = 2;
/// A found outline is used when every corner lies within this fraction of the card's width
/// of the true one (farther, the line may leave its region and the label would be wrong).
const NEAR_TRUTH: f32 = 0.025;
/// Found outlines used per photo, at most.
const MAX_FOUND: usize = 2;
/// Standard deviation of the jitter added to the true corners, as a fraction of the card's
/// width: a localisation error like the reader's.
const JITTER: f32 = 0.004;

/// The three lines of 照合番号B, with the file stem they are written under.
fn fields(id: &CardFrontIdentity) -> [(&'static str, Field, String); 3] {
    [
        ("birth", layout::BIRTH, id.printed_birth()),
        ("expiry", layout::EXPIRY, id.printed_expiry()),
        ("code", layout::SECURITY_CODE, id.printed_security_code()),
    ]
}

/// Writes the lines of cards `cards` of set `seed` to `out_dir`.
pub fn write(out_dir: &Path, seed: u64, cards: Range<u32>, today: Date) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    let open = |stem: &str, ext: &str| -> anyhow::Result<BufWriter<File>> {
        Ok(BufWriter::new(File::create(
            out_dir.join(format!("{stem}.{ext}")),
        )?))
    };
    let mut sinks = Vec::new();
    for stem in ["birth", "expiry", "code"] {
        sinks.push((open(stem, "u8")?, open(stem, "txt")?));
    }
    let mut lines = 0usize;
    for index in cards {
        let (id, frames) = synthetic_frames(seed, index, today)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(index).rotate_left(32));
        for shot in frames.take(FRAMES_PER_CARD) {
            let shot = shot?;
            let mut grey = opencv::core::Mat::default();
            imgproc::cvt_color_def(&shot.image, &mut grey, imgproc::COLOR_BGR2GRAY)?;
            for quad in outlines(&shot, &grey, &mut rng)? {
                let card = rectify(&grey, &quad)?;
                for ((_, field, printed), (pixels, labels)) in fields(&id).iter().zip(&mut sinks) {
                    let line = line_image(&card, field)?;
                    pixels.write_all(line.data_bytes()?)?;
                    writeln!(labels, "{}", line_label(printed))?;
                }
                lines += 1;
            }
        }
    }
    for (mut pixels, mut labels) in sinks {
        pixels.flush()?;
        labels.flush()?;
    }
    println!("{lines} line triples written to {}", out_dir.display());
    Ok(())
}

/// The outlines a photo is rectified at: found ones near the truth, and the jittered truth.
fn outlines(
    shot: &CameraShot,
    grey: &opencv::core::Mat,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<[Point2f; 4]>> {
    let truth = shot.corners;
    let width = (truth[1] - truth[0]).norm() as f32;
    let near = |q: &[Point2f; 4]| {
        q.iter()
            .zip(&truth)
            .all(|(a, b)| ((*a - *b).norm() as f32) < NEAR_TRUTH * width)
    };
    let mut chosen: Vec<[Point2f; 4]> = Vec::new();
    for quad in card_outlines(&shot.image, grey)? {
        let distinct = chosen
            .iter()
            .all(|c| c.iter().zip(&quad).any(|(a, b)| (*a - *b).norm() > 1.0));
        if near(&quad) && distinct && chosen.len() < MAX_FOUND {
            chosen.push(quad);
        }
    }
    let sigma = JITTER * width;
    chosen.push(truth.map(|p| {
        let mut gauss = || {
            // Box–Muller from two uniforms.
            let (u, v): (f32, f32) = (rng.random_range(1e-6..1.0), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos() * sigma
        };
        Point2f::new(p.x + gauss(), p.y + gauss())
    }));
    Ok(chosen)
}
