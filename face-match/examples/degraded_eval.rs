//! Match accuracy on seeded degraded copies of evaluation folders (rotation, dim, washed out,
//! gamma, noise, blur, downscale, heavy JPEG; `face_match::eval::degrade`), with the failures
//! to acquire by degradation and cause. Without `--seed` the images are used as they are.
//!
//! ```sh
//! cargo run -p face-match --example degraded_eval -- [--seed N] [--no-retries] [--no-mirror] \
//!     [--threads T] [--json] DIR...          # e.g. ../shared/face-eval/orl ../shared/face-eval/bbt
//! cargo run -p face-match --example degraded_eval -- --diagnose --seed N DIR...
//! cargo run -p face-match --example degraded_eval -- --kiosk --seed N DIR...
//! ```
//!
//! `--diagnose` prints, kind by kind, what each degradation does against the clean pictures
//! (`face_match::eval::diagnosis`): faces found, landmark error, cosine to the clean embedding
//! and EER against a clean gallery, aligned from the picture's own landmarks and from the
//! clean ones carried over.
//!
//! `--kiosk` runs the kiosk-shaped set instead (`face_match::eval::kiosk`): each identity's
//! first image as a 160 px greyscale JPEG 2000 chip photo against its other images shown as
//! live sequences (plain, dim, bright, noise, blur, small, rotation), matched by the picture
//! path and by the live path.

#[allow(dead_code)]
#[path = "../benches/support/mod.rs"]
mod support;

use face_match::eval::degrade::{degraded_report, DegradedReport};
use face_match::eval::diagnosis::{diagnose, KindDiagnosis};
use face_match::eval::kiosk::{kiosk_report, KioskReport, PathReport};
use face_match::eval::{scan, ErrorRates};
use face_match::{FaceMatcher, MatchPolicy, QualityConfig};

fn main() {
    let (mut seed, mut retries, mut threads, mut json) = (None, true, 2, false);
    let (mut diagnosis, mut kiosk, mut mirrors) = (false, false, true);
    let mut dirs = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seed" => seed = it.next().and_then(|v| v.parse().ok()),
            "--threads" => threads = it.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            "--no-retries" => retries = false,
            "--no-mirror" => mirrors = false,
            "--json" => json = true,
            "--diagnose" => diagnosis = true,
            "--kiosk" => kiosk = true,
            dir => dirs.push(std::path::PathBuf::from(dir)),
        }
    }
    assert!(!dirs.is_empty(), "name at least one identity/image folder");
    let mut samples = Vec::new();
    for dir in &dirs {
        samples.extend(scan(dir).unwrap_or_else(|e| panic!("{e}")));
    }
    let runtime = support::runtime(threads);
    let (mut detector, embedder) = support::models(&runtime);
    detector = detector.with_retries(retries).with_mirrors(mirrors);
    let mut matcher = FaceMatcher::new(
        detector,
        embedder,
        QualityConfig::default(),
        MatchPolicy::default(),
    );
    if diagnosis {
        let seed = seed.expect("--diagnose needs --seed N");
        let kinds = diagnose(&mut matcher, &samples, seed).unwrap_or_else(|e| panic!("{e}"));
        print_diagnosis(&kinds);
        return;
    }
    if kiosk {
        let seed = seed.expect("--kiosk needs --seed N");
        let report = kiosk_report(&mut matcher, &samples, seed).unwrap_or_else(|e| panic!("{e}"));
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("report as JSON")
            );
        } else {
            print_kiosk(&report);
        }
        return;
    }
    let report = degraded_report(&mut matcher, &samples, seed).unwrap_or_else(|e| panic!("{e}"));
    let timings = matcher.timings();
    let per_image = |total: std::time::Duration| total.as_secs_f64() * 1e3 / samples.len() as f64;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report as JSON")
        );
    } else {
        print(&report, retries, mirrors);
        println!(
            "  ms per image: detection with retries {:.1}, closer look {:.1}, embedding {:.1}",
            per_image(timings.detect),
            per_image(timings.refine),
            per_image(timings.embed)
        );
    }
}

fn print(degraded: &DegradedReport, retries: bool, mirrors: bool) {
    let report = &degraded.report;
    let rates = &report.rates;
    let seed = degraded
        .seed
        .map_or("none (clean)".into(), |s| s.to_string());
    println!(
        "seed {seed}, detector retries {}, mirrors {}: {} identities, {} images",
        if retries { "on" } else { "off" },
        if mirrors { "on" } else { "off" },
        report.identities,
        report.images
    );
    println!(
        "FTA {:.2} % ({} images), EER {:.2} % ({} genuine / {} impostor pairs)",
        100.0 * report.fta,
        report.failed_to_acquire.len(),
        100.0 * rates.eer,
        rates.genuine_pairs,
        rates.impostor_pairs
    );
    print_causes_and_points(&report.fta_by_cause, rates);
    for kind in &degraded.by_kind {
        let name = kind.kind.map_or("clean".into(), |k| format!("{k:?}"));
        let eer = kind
            .eer
            .map_or("—".into(), |e| format!("{:.2} %", 100.0 * e));
        println!(
            "  {name:<10} tried {:>3}: no face {:>2}, landmarks refused {:>2}, EER of its pairs {eer}",
            kind.tried, kind.no_face, kind.bad_landmarks
        );
    }
}

fn print_causes_and_points(causes: &impl std::fmt::Debug, rates: &ErrorRates) {
    println!("  failures to acquire by cause: {causes:?}");
    for point in &rates.at_fmr {
        println!(
            "  FMR target {:.0e}: threshold {:.3}, FNMR {:.2} %",
            point.target_fmr.unwrap_or(0.0),
            point.threshold,
            100.0 * point.fnmr
        );
    }
}

fn print_diagnosis(kinds: &[KindDiagnosis]) {
    println!("kind        found  landmark error  cosine to clean    EER against clean gallery");
    println!("                   (eye distances)  own   carried     own      carried");
    for kind in kinds {
        let name = kind.kind.map_or("clean".into(), |k| format!("{k:?}"));
        println!(
            "{name:<10} {:>3}/{:<3} {:>10.3}     {:>6.3} {:>6.3}   {:>7.2} %  {:>7.2} %",
            kind.found,
            kind.tried,
            kind.landmark_error,
            kind.cosine_own,
            kind.cosine_carried,
            100.0 * kind.eer_own,
            100.0 * kind.eer_carried
        );
    }
}

fn print_kiosk(report: &KioskReport) {
    println!(
        "kiosk-shaped set, seed {}: {} identities, chip photos without a face {}",
        report.seed, report.identities, report.gallery_failed
    );
    for (name, path) in [
        ("picture path (first frame)", &report.picture),
        ("live path (followed frames, gate)", &report.live),
    ] {
        print_path(name, path);
    }
}

fn print_path(name: &str, path: &PathReport) {
    let rates = &path.rates;
    println!(
        "{name}: FTA {:.2} %, EER {:.2} % ({} genuine / {} impostor pairs)",
        100.0 * path.fta,
        100.0 * rates.eer,
        rates.genuine_pairs,
        rates.impostor_pairs
    );
    print_causes_and_points(&path.fta_by_cause, rates);
    for c in &path.by_condition {
        let eer = c.eer.map_or("—".into(), |e| format!("{:.2} %", 100.0 * e));
        println!(
            "  {:<9} sequences {:>3}: failed {:>3}, EER {eer}",
            format!("{:?}", c.condition),
            c.sequences,
            c.failed
        );
    }
}
