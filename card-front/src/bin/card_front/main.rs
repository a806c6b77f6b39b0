//! `card-front`: writes synthetic card-front photos (a fixture tool) and benchmarks the reader.

use card_front::{
    synthetic_frames, unreadable_photo, CardFrontIdentity, CardFrontReader, Date, Defect,
    FrameVotes, LineFinder, OcrError, PinBRead, Split, SubmitPolicy, MAX_FRAMES,
};
use clap::{Parser, Subcommand};

mod dataset;
mod line_eval;
mod why;
use opencv::core::Vector;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "card-front",
    about = "Synthetic card fronts and the 照合番号B reader benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes FRAMES photos (PNG; `card-SEED-INDEX-FRAME.png`) of each of held-out synthetic
    /// cards START..START+COUNT, the frames `bench` reads, and prints each file with its
    /// identity's printed birth date and 照合番号B (synthetic identities, not real people).
    Generate {
        out_dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 0)]
        start: u32,
        #[arg(long, default_value_t = 10)]
        count: u32,
        #[arg(long, default_value_t = 1)]
        frames: u32,
    },
    /// Writes the line recogniser's training set (card-front/scripts/train_line_model.py): for
    /// training cards (held-out ones with --held-out) START..START+COUNT of set SEED, two
    /// photos each, every text line the reader finds, rectified at a found outline near the
    /// true corners and at jittered true corners. Per kind (birth, expiry, code, other):
    /// `{kind}.u8` (8-bit line images padded to 512 columns, row-major) and `{kind}.txt` (per
    /// image its label, a tab and its width).
    Dataset {
        out_dir: PathBuf,
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 0)]
        start: u32,
        #[arg(long, default_value_t = 1000)]
        count: u32,
        #[arg(long)]
        held_out: bool,
    },
    /// Reads the lines `dataset --held-out` wrote to DIR with the own line recogniser, and
    /// prints per kind of line the share read exactly, how many lines read at least so sure
    /// were wrong, and the time per line.
    Lines { dir: PathBuf },
    /// Reads COUNT held-out cards made unreadable by design per defect (a key digit under a
    /// thumb, saturated by glare, cut off; the card blurred) and prints how many were rejected
    /// under the default submit policy (all must be).
    Unreadable {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 250)]
        count: u32,
        /// Only this defect (`Thumb`, `Glare`, `CutOff`, `Blur`), e.g. to run them side by side.
        #[arg(long)]
        defect: Option<String>,
    },
    /// Reads COUNT held-out synthetic cards (typefaces and layout family never trained on) and prints the exact-read, reject and wrong-submission rates
    /// under the default submit policy, and the time per read.
    Bench {
        #[arg(long)]
        seed: u64,
        /// The first card's index (to split a set over several runs).
        #[arg(long, default_value_t = 0)]
        start: u32,
        #[arg(long, default_value_t = 2000)]
        count: u32,
        #[arg(
            long,
            default_value_t = 1,
            value_parser = clap::value_parser!(u32).range(1..=MAX_FRAMES as i64),
            help = format!(
                "Frames of each card (fresh camera distortions) read and combined, up to {MAX_FRAMES}"
            )
        )]
        frames: u32,
        /// Read with the project's own line CNN instead of PP-OCR's recogniser.
        #[arg(long)]
        line_cnn: bool,
        /// How lines are found: passes tried in turn until one gives a sure read, `+` between
        /// them: `ink` (by their ink), `faint` (fainter ink), `det` (PP-OCR's text detector).
        #[arg(long, default_value = "ink+det")]
        lines: String,
    },
    /// Development seeds only: reads the first frame of COUNT cards (training typefaces and
    /// layouts, or held-out with --held-out), and prints why each failed read failed, with the
    /// lines read at the card's true corners, and a breakdown by cause.
    Why {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 100)]
        count: u32,
        #[arg(long)]
        held_out: bool,
        /// As for `bench`.
        #[arg(long, default_value = "ink+det")]
        lines: String,
    },
}

fn main() -> anyhow::Result<()> {
    let today = Date::today();
    match Cli::parse().command {
        Command::Generate {
            out_dir,
            seed,
            start,
            count,
            frames,
        } => {
            std::fs::create_dir_all(&out_dir)?;
            for i in start..start + count {
                let (id, shots) = synthetic_frames(seed, i, today)?;
                for (k, shot) in shots.take(frames as usize).enumerate() {
                    let path = out_dir.join(format!("card-{seed}-{i:05}-{k}.png"));
                    opencv::imgcodecs::imwrite(&path, &shot?.image, &Vector::new())?;
                    println!(
                        "{}\t{}\t{}",
                        path.display(),
                        id.printed_birth(),
                        id.pin_b().as_str()
                    );
                }
            }
        }
        Command::Dataset {
            out_dir,
            seed,
            start,
            count,
            held_out,
        } => dataset::write(&out_dir, split(held_out), seed, start..start + count, today)?,
        Command::Lines { dir } => line_eval::run(&ort_env()?, &dir)?,
        Command::Why {
            seed,
            count,
            held_out,
            lines,
        } => why::run(&reader(false, &lines)?, split(held_out), seed, count, today)?,
        Command::Unreadable {
            seed,
            count,
            defect: only,
        } => {
            let policy = SubmitPolicy::default();
            let reader = reader(false, "ink+det")?;
            let defects = Defect::ALL
                .into_iter()
                .filter(|d| only.as_deref().is_none_or(|o| o == format!("{d:?}")));
            for defect in defects {
                let mut submitted = 0u32;
                for i in 0..count {
                    let (id, shot) = unreadable_photo(defect, seed, i, today)?;
                    let read = reader.read(&shot.image, today);
                    if let Some(r) = read
                        .ok()
                        .filter(|r| r.min_confidence() >= policy.min_confidence)
                    {
                        let right = if r.pin_b() == id.pin_b() {
                            "right"
                        } else {
                            "WRONG"
                        };
                        println!("  {defect:?} card {i} submitted ({right})");
                        submitted += 1;
                    }
                }
                println!(
                    "{defect:?}: {} of {count} rejected, {submitted} submitted",
                    count - submitted
                );
            }
        }
        Command::Bench {
            seed,
            start,
            count,
            frames,
            line_cnn,
            lines,
        } => {
            let policy = SubmitPolicy::default();
            let reader = reader(line_cnn, &lines)?;
            let mut single = Tally::default();
            let mut multi = Tally::default();
            for i in start..start + count {
                let (id, shots) = synthetic_frames(seed, i, today)?;
                let mut votes = FrameVotes::new();
                let (mut time, mut cpu) = (Duration::ZERO, Duration::ZERO);
                // As read_card_front_frames: stop at a confident combined read.
                for shot in shots.take(frames as usize) {
                    let shot = shot?;
                    let (start, cpu_start) = (Instant::now(), process_cpu());
                    votes.add(reader.read(&shot.image, today));
                    let combined = votes.combined();
                    time += start.elapsed();
                    cpu += process_cpu().saturating_sub(cpu_start);
                    if votes.frames() == 1 {
                        single.add(&combined, &id, &policy, (time, cpu), 1);
                    }
                    if combined.is_ok_and(|r| r.min_confidence() >= policy.min_confidence) {
                        break;
                    }
                }
                multi.add(&votes.combined(), &id, &policy, (time, cpu), votes.frames());
            }
            println!("cards: {start}..{} (seed {seed})", start + count);
            println!("single frame:");
            single.print(count);
            if frames > 1 {
                println!("up to {frames} frames per card (stop at a confident combined read):");
                multi.print(count);
            }
        }
    }
    Ok(())
}

/// The held-out split if `held_out`, else the training one.
fn split(held_out: bool) -> Split {
    if held_out {
        Split::HeldOut
    } else {
        Split::Training
    }
}

/// An ONNX Runtime loaded from `$MYNAKIOSK_ORT_DYLIB` (at run time, else as set when built:
/// `.cargo/config.toml` points it at `third_party/onnxruntime`).
fn ort_env() -> anyhow::Result<ort::environment::Environment> {
    let path = std::env::var_os("MYNAKIOSK_ORT_DYLIB")
        .map(PathBuf::from)
        .or(option_env!("MYNAKIOSK_ORT_DYLIB").map(PathBuf::from))
        .ok_or_else(|| anyhow::anyhow!("set MYNAKIOSK_ORT_DYLIB to libonnxruntime.so"))?;
    // ONNX Runtime's documented telemetry opt-out, read when it loads.
    std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
    Ok(ort::init_from(&path)?.with_telemetry(false).build()?)
}

/// The reader (with PP-OCR's recogniser, or the own line CNN) and its line finder `lines`.
fn reader(line_cnn: bool, lines: &str) -> anyhow::Result<CardFrontReader> {
    let env = ort_env()?;
    let dir = card_front::models_dir();
    let reader = if line_cnn {
        CardFrontReader::with_line_cnn(&env)?
    } else {
        CardFrontReader::new(&env, &dir)?
    };
    Ok(reader.with_lines(LineFinder::named(lines, &env, &dir)?))
}

/// CPU time used so far by this process, all threads (`/proc/self/stat`, in clock ticks of
/// 10 ms: summed over many reads).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses: utime and stime are the
    // 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Accuracy and speed figures of a benchmark run.
#[derive(Default)]
struct Tally {
    exact: u32,
    wrong: u32,
    rejected: u32,
    /// Rejected reads that were right but not confident enough.
    low_conf_correct: u32,
    reasons: BTreeMap<String, u32>,
    /// (least digit confidence, read right) of every validated read, for the sweep.
    validated: Vec<(f32, bool)>,
    time: Duration,
    /// CPU time of the whole process (every thread) while reading.
    cpu: Duration,
    frames: usize,
}

impl Tally {
    fn add(
        &mut self,
        read: &Result<PinBRead, OcrError>,
        id: &CardFrontIdentity,
        policy: &SubmitPolicy,
        (time, cpu): (Duration, Duration),
        frames: usize,
    ) {
        self.time += time;
        self.cpu += cpu;
        self.frames += frames;
        match read {
            Ok(r) => {
                let right = r.pin_b() == id.pin_b();
                self.validated.push((r.min_confidence(), right));
                if r.min_confidence() < policy.min_confidence {
                    self.rejected += 1;
                    self.low_conf_correct += u32::from(right);
                } else if right {
                    self.exact += 1;
                } else {
                    self.wrong += 1;
                }
            }
            Err(e) => {
                self.rejected += 1;
                *self.reasons.entry(e.to_string()).or_insert(0) += 1;
            }
        }
    }

    fn print(&self, count: u32) {
        let pct = |n: u32| 100.0 * f64::from(n) / f64::from(count.max(1));
        println!("  exact reads submitted: {:.2} %", pct(self.exact));
        println!(
            "  rejected (re-read asked): {:.2} % ({} of them were right but not confident)",
            pct(self.rejected),
            self.low_conf_correct
        );
        for (reason, n) in &self.reasons {
            println!("    rejected: {reason}: {n}");
        }
        println!(
            "  wrong submissions: {:.3} % ({})",
            pct(self.wrong),
            self.wrong
        );
        println!("  confidence threshold sweep (exact submitted / wrong submitted):");
        for t in [0.5f32, 0.7, 0.8, 0.9, 0.95, 0.99] {
            let right = self
                .validated
                .iter()
                .filter(|(c, ok)| *c >= t && *ok)
                .count();
            let bad = self
                .validated
                .iter()
                .filter(|(c, ok)| *c >= t && !*ok)
                .count();
            println!("    {t:.2}: {right} / {bad}");
        }
        let cards = f64::from(count.max(1));
        let frames = self.frames.max(1) as f64;
        println!(
            "  frames per card: {:.2}; per read (frame): {:.1} ms wall, {:.1} ms CPU",
            self.frames as f64 / cards,
            self.time.as_secs_f64() * 1000.0 / frames,
            self.cpu.as_secs_f64() * 1000.0 / frames
        );
    }
}
