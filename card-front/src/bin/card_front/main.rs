//! `card-front`: writes synthetic card-front photos (a fixture tool) and benchmarks the reader.

use card_front::{
    back_frames, synthetic_frames, CardFrontReader, Date, LineFinder, Split, SubmitPolicy,
    MAX_FRAMES,
};
use clap::{Parser, Subcommand};

mod bench;
mod dataset;
mod line_eval;
mod locate_eval;
mod why;
use opencv::core::{Mat, MatTraitConst, MatTraitConstManual};
use opencv::imgproc;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
        /// The cards' backs instead (random 12-digit numbers, not real ones), upright.
        #[arg(long)]
        backs: bool,
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
        /// Worker threads reading cards (the figures do not depend on it).
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Reads COUNT photos of two held-out cards side by side (a parent with a child's card):
    /// none may be read; prints how each was rejected and whether its first card reads alone.
    Pairs {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        count: u32,
        /// Worker threads reading photos.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Reads COUNT held-out card backs (the side with the 12-digit number; random digits,
    /// not a real number): none may be read, and each should be told as a card's back.
    Backs {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        count: u32,
        /// Back `i` turned `i % 4` quarter turns clockwise.
        #[arg(long)]
        turned: bool,
        /// Worker threads reading photos.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Reads COUNT held-out synthetic cards (typefaces and layout family never trained on) on
    /// THREADS workers, each card's frames made only when read, prints progress on stderr, and
    /// prints the exact-read, reject and wrong-submission rates under the default submit
    /// policy and the CPU time per read, ending with a table for card-front/README.md.
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
        /// Worker threads reading cards (the figures do not depend on it).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Development seeds only: reads every one of the FRAMES frames of each card and writes
        /// each frame's own read to this file (digit confidences and which digits are wrong),
        /// to compare submit rules.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Card `i` turned `i % 4` quarter turns clockwise (upright, on its side, upside down)
        /// before it is photographed, as patients put cards down.
        #[arg(long)]
        turned: bool,
    },
    /// Development seeds only: finds the outlines of the first frame of COUNT cards and prints
    /// how many lie at the card's true corners, by which finder, and the CPU time per photo.
    Locate {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        count: u32,
        #[arg(long)]
        held_out: bool,
        /// The longest side of the copy outlines are found in (the reader's by default).
        #[arg(long, default_value_t = card_front::WORK_SIDE)]
        work_side: i32,
    },
    /// Development seeds only: reads the first frame of cards START..START+COUNT (training typefaces and
    /// layouts, or held-out with --held-out), and prints why each failed read failed, with the
    /// lines read at the card's true corners, and a breakdown by cause.
    Why {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 0)]
        start: u32,
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
            backs,
        } => {
            std::fs::create_dir_all(&out_dir)?;
            for i in (start..start + count).filter(|_| backs) {
                for (k, shot) in back_frames(seed, i, today, 0)?
                    .1
                    .take(frames as usize)
                    .enumerate()
                {
                    let path = out_dir.join(format!("back-{seed}-{i:05}-{k}.png"));
                    write_png(&path, &shot?.image)?;
                    println!("{}", path.display());
                }
            }
            for i in (start..start + count).filter(|_| !backs) {
                let (id, shots) = synthetic_frames(seed, i, today)?;
                for (k, shot) in shots.take(frames as usize).enumerate() {
                    let path = out_dir.join(format!("card-{seed}-{i:05}-{k}.png"));
                    write_png(&path, &shot?.image)?;
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
        Command::Locate {
            seed,
            count,
            held_out,
            work_side,
        } => {
            one_thread_each()?;
            locate_eval::run(split(held_out), seed, count, work_side, today)?;
        }
        Command::Why {
            seed,
            start,
            count,
            held_out,
            lines,
        } => {
            let reader = reader(false, &lines)?;
            why::run(&reader, split(held_out), seed, start..start + count, today)?
        }
        Command::Unreadable {
            seed,
            count,
            defect,
            threads,
        } => {
            one_thread_each()?;
            let reader = reader(false, "ink+det")?;
            bench::unreadable(&reader, seed, count, defect.as_deref(), threads, today)?;
        }
        Command::Backs {
            seed,
            count,
            turned,
            threads,
        } => {
            one_thread_each()?;
            let reader = reader(false, "ink+det")?;
            bench::backs(&reader, seed, count, turned, threads, today)?;
        }
        Command::Pairs {
            seed,
            count,
            threads,
        } => {
            one_thread_each()?;
            let reader = reader(false, "ink+det")?;
            bench::pairs(&reader, seed, count, threads, today)?;
        }
        Command::Bench {
            seed,
            start,
            count,
            frames,
            line_cnn,
            lines,
            threads,
            dump,
            turned,
        } => {
            one_thread_each()?;
            let reader = reader(line_cnn, &lines)?;
            let cards = start..start + count;
            let policy = SubmitPolicy::default();
            let frames = frames as usize;
            let (outcomes, cost) = bench::read_cards(
                &reader,
                seed,
                cards.clone(),
                frames,
                dump.is_some(),
                turned,
                &policy,
                threads,
                today,
            )?;
            bench::print(&outcomes, &cost, (seed, cards.clone(), frames, threads));
            if let Some(out) = dump {
                bench::dump(&outcomes, cards.start, &out)?;
            }
        }
    }
    Ok(())
}

/// Writes a synthetic card's BGR picture as a PNG file.
fn write_png(path: &Path, bgr: &Mat) -> anyhow::Result<()> {
    let mut rgb = Mat::default();
    imgproc::cvt_color_def(bgr, &mut rgb, imgproc::COLOR_BGR2RGB)?;
    let (width, height) = (rgb.cols() as u32, rgb.rows() as u32);
    image::save_buffer(
        path,
        rgb.data_bytes()?,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(())
}

/// OpenCV's work done on the thread that asks for it: the benchmark's workers take the cores,
/// and a worker's CPU time is then its own (the making of cards is told apart from reading).
fn one_thread_each() -> anyhow::Result<()> {
    opencv::core::set_num_threads(1)?;
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
