//! The line recogniser's training and validation lines, made by the reader's own locate,
//! line-finding and line functions on synthetic cards of one split (training typefaces and
//! layouts, or the held-out ones the benchmark uses).

use card_front::layout::Item;
use card_front::line_input::{line_image, printed_line, CNN_PAD, LINE_H};
use card_front::lines::find_lines;
use card_front::{rectify, synthetic_card, CameraShot, Date, ScrubbedMat, Split};
use opencv::core::{self, Mat, MatTraitConst, MatTraitConstManual, Point2f, Size};
use opencv::imgproc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

/// Outlines each card's photo is rectified at: its true corners, jittered.
const OUTLINES_PER_PHOTO: usize = 3;
/// Standard deviation of the jitter added to the true corners, as a fraction of the card's
/// width: a localisation error like the reader's (refined corners are 1–2 px off, rough ones
/// up to 10).
const JITTER: f32 = 0.005;
/// Width every training line is stored at: narrower lines are padded with their own edge,
/// wider ones squeezed.
pub const STORED_W: i32 = 512;
/// The kinds of lines, by the item most of their characters belong to.
pub const KINDS: [&str; 4] = ["birth", "expiry", "code", "other"];
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

/// A found line as the own recogniser reads it ([`LINE_H`] rows), its kind (index in
/// [`KINDS`]) and its label.
pub struct LabelledLine {
    pub kind: usize,
    pub label: String,
    pub image: ScrubbedMat,
}

/// Calls `each` with the lines of cards `cards` of set `seed` of `split`: one photo each,
/// rectified at jittered true corners [`OUTLINES_PER_PHOTO`] times, every text line the reader
/// finds there (a share [`KEEP_OTHER`] of the lines of no 照合番号B field). `each` is told
/// when a card is done.
pub fn for_each_line(
    split: Split,
    seed: u64,
    cards: Range<u32>,
    today: Date,
    mut each: impl FnMut(Option<LabelledLine>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for index in cards {
        let (_, printed, mut frames) = synthetic_card(split, seed, index, today)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(index).rotate_left(32));
        let shot = frames.next().expect("an endless stream of frames")?;
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&shot.image, &mut grey, imgproc::COLOR_BGR2GRAY)?;
        for _ in 0..OUTLINES_PER_PHOTO {
            let card = rectify(&grey, &jittered(&shot, &mut rng))?;
            for line in find_lines(&card)? {
                let (item, label) = printed_line(&printed.glyphs, line);
                let kind = kind(item);
                if kind == OTHER_KIND && !rng.random_bool(KEEP_OTHER) {
                    continue;
                }
                let image = line_image(&card, line, CNN_PAD, LINE_H)?;
                each(Some(LabelledLine { kind, label, image }))?;
            }
        }
        each(None)?;
    }
    Ok(())
}

/// Writes the lines of [`for_each_line`] to `out_dir`: per kind, `{kind}.u8` (8-bit images
/// of [`STORED_W`] × [`LINE_H`], row-major) and `{kind}.txt` (per image its label, a tab and
/// its width before padding).
pub fn write(
    out_dir: &Path,
    split: Split,
    seed: u64,
    cards: Range<u32>,
    today: Date,
) -> anyhow::Result<()> {
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
    for_each_line(split, seed, cards, today, |line| {
        let Some(line) = line else {
            // A card done: its lines are on disk, so a run stopped early keeps them.
            for (pixels, labels) in &mut sinks {
                pixels.flush()?;
                labels.flush()?;
            }
            return Ok(());
        };
        let (pixels, labels) = &mut sinks[line.kind];
        pixels.write_all(stored(&line.image)?.data_bytes()?)?;
        writeln!(
            labels,
            "{}\t{}",
            line.label,
            line.image.cols().min(STORED_W)
        )?;
        lines += 1;
        Ok(())
    })?;
    println!("{lines} lines written to {}", out_dir.display());
    Ok(())
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

/// The photo's true card corners, each moved by a random localisation error.
fn jittered(shot: &CameraShot, rng: &mut ChaCha8Rng) -> [Point2f; 4] {
    let truth = shot.corners;
    let sigma = JITTER * (truth[1] - truth[0]).norm() as f32;
    truth.map(|p| {
        let mut gauss = || {
            // Box–Muller from two uniforms.
            let (u, v): (f32, f32) = (rng.random_range(1e-6..1.0), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos() * sigma
        };
        Point2f::new(p.x + gauss(), p.y + gauss())
    })
}
