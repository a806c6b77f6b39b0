//! The line recogniser's training set, made by the reader's own locate, line-finding and
//! line functions on training-split cards (typefaces and layouts the benchmark never uses).

use card_front::layout::{Item, PrintedGlyph};
use card_front::line_input::{line_image, line_label, CNN_PAD, LINE_H};
use card_front::lines::{centre, find_lines};
use card_front::{card_outlines, rectify, synthetic_card, CameraShot, Date, Split};
use opencv::core::{self, Mat, MatTraitConst, MatTraitConstManual, Point2f, Rect, Size};
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
/// of the true one (farther, the glyphs would no longer be where the labels say).
const NEAR_TRUTH: f32 = 0.02;
/// Found outlines used per photo, at most.
const MAX_FOUND: usize = 1;
/// Standard deviation of the jitter added to the true corners, as a fraction of the card's
/// width: a localisation error like the reader's.
const JITTER: f32 = 0.004;
/// Width every training line is stored at: narrower lines are padded with their own edge,
/// wider ones squeezed.
pub const STORED_W: i32 = 400;
/// The files lines are written to, by the item most of their characters belong to.
const KINDS: [&str; 4] = ["birth", "expiry", "code", "other"];
const OTHER_KIND: usize = 3;
/// The share of other lines kept (a card has three times as many as 照合番号B lines).
const KEEP_OTHER: f64 = 0.35;

fn kind(item: Item) -> usize {
    match item {
        Item::Birth => 0,
        Item::Expiry => 1,
        Item::SecurityCode => 2,
        Item::Other => OTHER_KIND,
    }
}

/// Writes the lines of cards `cards` of training set `seed` to `out_dir`: per kind,
/// `{kind}.u8` (8-bit images of STORED_W × LINE_H, row-major) and `{kind}.txt` (labels).
pub fn write(out_dir: &Path, seed: u64, cards: Range<u32>, today: Date) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    let open = |stem: &str, ext: &str| -> anyhow::Result<BufWriter<File>> {
        Ok(BufWriter::new(File::create(
            out_dir.join(format!("{stem}.{ext}")),
        )?))
    };
    let mut sinks = Vec::new();
    for stem in KINDS {
        sinks.push((open(stem, "u8")?, open(stem, "txt")?));
    }
    let mut lines = 0usize;
    for index in cards {
        let (_, printed, frames) = synthetic_card(Split::Training, seed, index, today)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(index).rotate_left(32));
        for shot in frames.take(FRAMES_PER_CARD) {
            let shot = shot?;
            let mut grey = Mat::default();
            imgproc::cvt_color_def(&shot.image, &mut grey, imgproc::COLOR_BGR2GRAY)?;
            for quad in outlines(&shot, &grey, &mut rng)? {
                let card = rectify(&grey, &quad)?;
                for line in find_lines(&card)? {
                    let (k, label) = labelled(&printed.glyphs, line);
                    if k == OTHER_KIND && !rng.random_bool(KEEP_OTHER) {
                        continue;
                    }
                    let (pixels, labels) = &mut sinks[k];
                    pixels.write_all(
                        stored(&*line_image(&card, line, CNN_PAD, LINE_H)?)?.data_bytes()?,
                    )?;
                    writeln!(labels, "{label}")?;
                    lines += 1;
                }
            }
        }
    }
    for (mut pixels, mut labels) in sinks {
        pixels.flush()?;
        labels.flush()?;
    }
    println!("{lines} lines written to {}", out_dir.display());
    Ok(())
}

/// The kind and label of a found line: the printed characters whose centres it holds, left
/// to right, and the item most of them belong to.
fn labelled(glyphs: &[PrintedGlyph], line: Rect) -> (usize, String) {
    let mut inside: Vec<&PrintedGlyph> = glyphs
        .iter()
        .filter(|g| line.contains(centre(g.glyph.bounds)))
        .collect();
    inside.sort_by_key(|g| g.glyph.bounds.x);
    let mut votes = [0usize; 4];
    for g in &inside {
        votes[kind(g.item)] += 1;
    }
    let k = (0..OTHER_KIND)
        .find(|&k| votes[k] * 2 > inside.len())
        .unwrap_or(OTHER_KIND);
    (k, line_label(inside.iter().map(|g| g.glyph.ch)))
}

/// A line image at the stored width.
fn stored(line: &Mat) -> anyhow::Result<Mat> {
    let mut out = Mat::default();
    if line.cols() >= STORED_W {
        imgproc::resize(
            line,
            &mut out,
            Size::new(STORED_W, LINE_H),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
    } else {
        let pad = STORED_W - line.cols();
        core::copy_make_border(
            line,
            &mut out,
            0,
            0,
            0,
            pad,
            core::BORDER_REPLICATE,
            core::Scalar::default(),
        )?;
    }
    Ok(out)
}

/// The outlines a photo is rectified at: found ones near the truth, and the jittered truth.
fn outlines(
    shot: &CameraShot,
    grey: &Mat,
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
