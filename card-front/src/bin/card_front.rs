//! `card-front`: writes synthetic card-front photos (a fixture tool) and benchmarks the reader.

use card_front::{read_card_front_on, synthetic_photo, Date, SubmitPolicy};
use clap::{Parser, Subcommand};
use opencv::core::Vector;
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
    /// Writes COUNT synthetic card-front photos (PNG) and prints each file with its identity's
    /// printed birth date and 照合番号B (synthetic identities, not real people).
    Generate {
        out_dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 10)]
        count: u32,
    },
    /// Reads COUNT synthetic cards and prints the exact-read, reject and wrong-submission rates
    /// under the default submit policy, and the time per read.
    Bench {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 2000)]
        count: u32,
    },
}

fn main() -> anyhow::Result<()> {
    let today = Date::today();
    match Cli::parse().command {
        Command::Generate {
            out_dir,
            seed,
            count,
        } => {
            std::fs::create_dir_all(&out_dir)?;
            for i in 0..count {
                let (id, shot) = synthetic_photo(seed, i, today)?;
                let path = out_dir.join(format!("card-{seed}-{i:05}.png"));
                opencv::imgcodecs::imwrite(&path, &shot.image, &Vector::new())?;
                println!(
                    "{}\t{}\t{}",
                    path.display(),
                    id.printed_birth(),
                    id.pin_b().as_str()
                );
            }
        }
        Command::Bench { seed, count } => {
            let policy = SubmitPolicy::default();
            let (mut exact, mut wrong, mut rejected, mut low_conf_correct) =
                (0u32, 0u32, 0u32, 0u32);
            let mut time = Duration::ZERO;
            let mut reasons = std::collections::BTreeMap::new();
            // (least digit confidence, read right) of every validated read, for the sweep.
            let mut validated = Vec::new();
            for i in 0..count {
                let (id, shot) = synthetic_photo(seed, i, today)?;
                let start = Instant::now();
                let read = read_card_front_on(&shot.image, today);
                time += start.elapsed();
                if let Ok(r) = &read {
                    validated.push((r.min_confidence(), r.pin_b() == id.pin_b()));
                }
                match read {
                    Ok(r) if r.min_confidence() >= policy.min_confidence => {
                        if r.pin_b() == id.pin_b() {
                            exact += 1;
                        } else {
                            wrong += 1;
                        }
                    }
                    Ok(r) => {
                        rejected += 1;
                        low_conf_correct += u32::from(r.pin_b() == id.pin_b());
                    }
                    Err(e) => {
                        rejected += 1;
                        *reasons.entry(e.to_string()).or_insert(0u32) += 1;
                    }
                }
            }
            let pct = |n: u32| 100.0 * f64::from(n) / f64::from(count.max(1));
            println!("cards: {count} (seed {seed})");
            println!("exact reads submitted: {:.2} %", pct(exact));
            println!("rejected (re-read asked): {:.2} % ({low_conf_correct} of them were right but not confident)", pct(rejected));
            for (reason, n) in &reasons {
                println!("  rejected: {reason}: {n}");
            }
            println!("wrong submissions: {:.3} % ({wrong})", pct(wrong));
            println!("confidence threshold sweep (exact submitted / wrong submitted):");
            for t in [0.5f32, 0.7, 0.8, 0.9, 0.95, 0.99] {
                let right = validated.iter().filter(|(c, ok)| *c >= t && *ok).count();
                let bad = validated.iter().filter(|(c, ok)| *c >= t && !*ok).count();
                println!("  {t:.2}: {right} / {bad}");
            }
            println!(
                "time per read: {:.1} ms",
                time.as_secs_f64() * 1000.0 / f64::from(count.max(1))
            );
        }
    }
    Ok(())
}
