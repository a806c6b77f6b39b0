//! Liveness evaluation on seeded photo attacks, screen replays and genuine head turns built
//! from the shared evaluation faces (see `face_match::eval::liveness`): APCER per attack kind
//! and challenge, BPCER on the genuine turns.
//!
//! ```sh
//! cargo run -p face-match --example liveness_eval -- [--seed N] [--per-kind N] \
//!     [--variants N] [--threads T] [--data ../shared/face-eval] [--json]
//! ```

// The benchmarks' runtime and model setup; the portrait frames in it are not used here.
#[allow(dead_code)]
#[path = "../benches/support/mod.rs"]
mod support;

use std::path::PathBuf;

use face_match::eval::liveness::{evaluate, LivenessEvalConfig, LivenessEvalReport};
use face_match::liveness::{LivenessChallenge, LivenessConfig};

fn main() {
    let mut config = LivenessEvalConfig {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval"),
        seed: 20_261_204,
        per_kind: 35,
        genuine_variants: 10,
        judge: LivenessConfig::default(),
    };
    let (mut threads, mut json) = (2, false);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--seed" => config.seed = value().parse().expect("--seed N"),
            "--per-kind" => config.per_kind = value().parse().expect("--per-kind N"),
            "--variants" => config.genuine_variants = value().parse().expect("--variants N"),
            "--threads" => threads = value().parse().expect("--threads N"),
            "--data" => config.data = PathBuf::from(value()),
            "--json" => json = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let runtime = support::runtime(threads);
    let (mut detector, _) = support::models(&runtime);
    let report = evaluate(&mut detector, &config).unwrap_or_else(|e| panic!("{e}"));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report as JSON")
        );
    } else {
        print(&report);
    }
}

fn print(report: &LivenessEvalReport) {
    println!(
        "liveness evaluation, seed {}, offered challenges: {}",
        report.seed,
        report.offered.join(", ")
    );
    print!("{:<9} {:>5}", "attack", "seqs");
    for challenge in LivenessChallenge::HEAD_MOVES {
        print!(" {:>22}", format!("APCER {challenge}"));
    }
    println!();
    for attack in &report.attacks {
        print!(
            "{:<9} {:>5}",
            format!("{:?}", attack.kind),
            attack.sequences
        );
        for tally in &attack.per_challenge {
            let cell = format!(
                "{}/{} = {:.1} %",
                tally.passed,
                tally.trials,
                tally.percent()
            );
            print!(" {cell:>22}");
        }
        println!();
    }
    let apcer = &report.photo_apcer;
    println!(
        "photo attacks on the offered challenges: APCER {}/{} = {:.2} %",
        apcer.passed,
        apcer.trials,
        apcer.percent()
    );
    println!(
        "genuine turns: {} accepted of {}, BPCER {:.2} %",
        report.genuine.passed,
        report.genuine.trials,
        report.bpcer()
    );
    for (reason, count) in &report.genuine_refusals {
        println!("  refused {count}×: {reason}");
    }
}
