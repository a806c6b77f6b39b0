//! The own line recogniser on lines written by `card-front dataset` (held-out typefaces and
//! layout family with `--held-out`): exact reads per kind of line, how often a line read at
//! least so sure is wrong, and the time per line.

use crate::dataset::{KINDS, STORED_W};
use card_front::line_input::LINE_H;
use card_front::{LineModel, ScrubbedMat};
use opencv::core::{Mat, MatTraitConst, Rect, CV_8UC1};
use ort::environment::Environment;
use std::path::Path;
use std::time::{Duration, Instant};

/// Least character confidences of a line at which the sure-but-wrong rate is printed.
const THRESHOLDS: [f32; 7] = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995];

/// Reads every line in `dir` and prints the figures.
pub fn run(env: &Environment, dir: &Path) -> anyhow::Result<()> {
    let model = LineModel::load(env)?;
    // Per kind: (least confidence, read exactly) of every line.
    let mut reads: Vec<Vec<(f32, bool)>> = vec![Vec::new(); KINDS.len()];
    let (mut time, mut columns) = (Duration::ZERO, 0usize);
    for (kind, name) in KINDS.iter().enumerate() {
        let labels = std::fs::read_to_string(dir.join(format!("{name}.txt")))?;
        let mut pixels = std::fs::read(dir.join(format!("{name}.u8")))?;
        let size = (LINE_H * STORED_W) as usize;
        for (k, entry) in labels.lines().enumerate() {
            let (label, width) = entry
                .rsplit_once('\t')
                .ok_or_else(|| anyhow::anyhow!("{name}.txt: no width on line {}", k + 1))?;
            let stored = pixels
                .get_mut(k * size..(k + 1) * size)
                .ok_or_else(|| anyhow::anyhow!("{name}.u8: fewer images than labels"))?;
            let all = Mat::new_rows_cols_with_data(LINE_H, STORED_W, stored)?;
            let roi = Mat::roi(&all, Rect::new(0, 0, width.parse()?, LINE_H))?;
            let image: ScrubbedMat = roi.try_clone()?.into();
            debug_assert_eq!(image.typ(), CV_8UC1);
            let start = Instant::now();
            let read = model.read(std::slice::from_ref(&image))?;
            time += start.elapsed();
            columns += image.cols() as usize;
            let exact = read[0].iter().map(|c| c.ch).eq(label.chars());
            let least = read[0].iter().map(|c| c.confidence).fold(1.0, f32::min);
            reads[kind].push((least, exact));
        }
    }
    let fields: Vec<(f32, bool)> = reads[..3].concat();
    for (name, lines) in KINDS.iter().zip(&reads).chain([(&"fields", &fields)]) {
        let n = lines.len().max(1) as f64;
        let exact = lines.iter().filter(|(_, ok)| *ok).count();
        println!(
            "{name}: {} lines, {:.2} % exact",
            lines.len(),
            100.0 * exact as f64 / n
        );
        for t in THRESHOLDS {
            let sure = lines.iter().filter(|(c, _)| *c >= t).count();
            let wrong = lines.iter().filter(|(c, ok)| *c >= t && !*ok).count();
            println!(
                "  confidence >= {t:.3}: {sure} lines ({:.2} %), {wrong} of them wrong ({:.3} %)",
                100.0 * sure as f64 / n,
                100.0 * wrong as f64 / sure.max(1) as f64
            );
        }
    }
    let lines = reads.iter().map(Vec::len).sum::<usize>().max(1);
    println!(
        "time: {:.3} ms per line (wall, one thread), {:.1} columns per line at {LINE_H} rows, {:.3} ms per 100 columns",
        time.as_secs_f64() * 1000.0 / lines as f64,
        columns as f64 / lines as f64,
        time.as_secs_f64() * 1000.0 * 100.0 / columns.max(1) as f64
    );
    Ok(())
}
