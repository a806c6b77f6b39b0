//! `card-front locate` (development seeds only): how often a candidate outline lies at the
//! card's true corners, which finder found it first, and the CPU time of finding them.

use card_front::{outlines, synthetic_card, Date, OutlineSource, ScrubbedMat, Split};
use opencv::core::{MatTraitConst, Point2f};
use opencv::imgproc;
use std::collections::BTreeMap;
use std::time::Duration;

/// A candidate is at the true corners when every corner is within this share of the card's
/// width in the photo.
const TOLERANCE: f32 = 0.015;

/// Finds the outlines of the first frame of cards 0..COUNT of set `seed` of `split` on a copy
/// `work_side` wide, and prints how many were found at their true corners, by which finder
/// first, the cards only the straight sides found, and the CPU time per photo.
pub fn run(split: Split, seed: u64, count: u32, work_side: i32, today: Date) -> anyhow::Result<()> {
    let mut first: BTreeMap<String, u32> = BTreeMap::new();
    let (mut cpu, mut candidates) = (Duration::ZERO, 0);
    for i in 0..count {
        let (_, _, mut frames) = synthetic_card(split, seed, i, today)?;
        let shot = frames.next().expect("endless frames")?;
        let started = super::bench::thread_cpu();
        let mut grey = ScrubbedMat::default();
        imgproc::cvt_color_def(&shot.image, &mut *grey, imgproc::COLOR_BGR2GRAY)?;
        let found = outlines(&shot.image, &grey, work_side)?;
        cpu += super::bench::thread_cpu().saturating_sub(started);
        candidates += found.len();
        let truth = shot.corners;
        let tolerance = TOLERANCE * (truth[1] - truth[0]).norm() as f32;
        let at_truth =
            |q: &[Point2f; 4]| (0..4).all(|k| ((q[k] - truth[k]).norm() as f32) < tolerance);
        let by = found.iter().find(|(q, _)| at_truth(q)).map(|(_, s)| *s);
        let key = by.map_or("not found".to_string(), |s| format!("{s:?}"));
        if matches!(by, None | Some(OutlineSource::Sides)) {
            println!(
                "card {i} ({}x{}): {key}",
                shot.image.cols(),
                shot.image.rows()
            );
        }
        *first.entry(key).or_default() += 1;
    }
    println!(
        "{count} cards (seed {seed}, {split:?}), outlines found on a copy {work_side} px wide:"
    );
    for (source, n) in first {
        println!("  {n:>4}  {source}");
    }
    println!(
        "candidates per photo {:.2}; CPU per photo (grey conversion and outlines, one thread): {:.1} ms",
        candidates as f64 / f64::from(count.max(1)),
        cpu.as_secs_f64() * 1000.0 / f64::from(count.max(1))
    );
    Ok(())
}
