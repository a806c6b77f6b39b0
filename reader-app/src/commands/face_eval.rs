//! `mynakiosk face-eval DIR [--chip | --eyes] [--json]` on a folder of `identity/image` files:
//! the accuracy of the face pipeline (FMR, FNMR, EER, FTA, thresholds at FMR 1e-2, 1e-3,
//! 1e-4), so a clinic can calibrate the match threshold on its own consented set; or, with
//! `--eyes`, the eyes-covered check and eye openness under synthetic covers
//! (`docs/face-quality.md`). Prints figures and image paths only.

use crate::config::Config;
use face_match::eval::eyes::{self, EyesReport, PerVersion, Spread};
use face_match::eval::{self, ChipSimulator, EvalReport};
use face_match::liveness::{EyeMeter, FACEMESH_FILE, FACEMESH_SHA256};
use face_match::{FaceMatcher, MatchPolicy, OrtRuntime, QualityConfig};
use serde::Serialize;
use std::path::Path;

/// What `face-eval` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Matching accuracy; `chip`: each image as a simulated chip photo against the others.
    Accuracy { chip: bool },
    /// The eyes-covered check and FaceMesh's eye openness.
    Eyes,
}

pub fn run(config: &Config, dir: &Path, measure: Measure, json: bool) -> anyhow::Result<()> {
    let runtime = OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
    let policy = MatchPolicy::default();
    let mut matcher = FaceMatcher::load(
        &runtime,
        &config.face.models_dir,
        QualityConfig::default(),
        policy,
    )?;
    let samples = eval::scan(dir)?;
    match measure {
        Measure::Accuracy { chip } => {
            let probes = eval::embed_all(&mut matcher, &samples)?;
            let report = if chip {
                let simulator = ChipSimulator::card_like()?;
                let gallery = eval::embed_all_as_chip(&mut matcher, &samples, &simulator)?;
                eval::report(&samples, &probes, Some(&gallery), policy.threshold)?
            } else {
                eval::report(&samples, &probes, None, policy.threshold)?
            };
            print(&report, json, accuracy_text)
        }
        Measure::Eyes => {
            let model = config.face.models_dir.join(FACEMESH_FILE);
            let mut meter = EyeMeter::new(&runtime, &model, FACEMESH_SHA256)?;
            let report =
                eyes::eyes_report(&mut matcher, &mut meter, &samples, &config.face.quality)?;
            print(&report, json, eyes_text)
        }
    }
}

fn print<R: Serialize>(report: &R, json: bool, text: fn(&R) -> String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", text(report));
    }
    Ok(())
}

/// The accuracy report as a few lines for a terminal.
fn accuracy_text(report: &EvalReport) -> String {
    let rates = &report.rates;
    let mut out = format!(
        "{} mode: {} identities, {} images, {} genuine / {} impostor pairs\n\
         FTA  {:.2} % ({} images without a face{})\n\
         EER  {:.2} % at threshold {:.3}\n",
        report.mode,
        report.identities,
        report.images,
        rates.genuine_pairs,
        rates.impostor_pairs,
        report.fta * 100.0,
        report.failed_to_acquire.len(),
        fta_causes(report),
        rates.eer * 100.0,
        rates.eer_threshold,
    );
    for point in rates.at_fmr.iter().chain([&report.at_policy_threshold]) {
        let label = match point.target_fmr {
            Some(target) => format!("FMR ≤ {target:.0e}"),
            None => "policy".to_string(),
        };
        out.push_str(&format!(
            "{label:<11} threshold {:.3}: FMR {:.4} %, FNMR {:.2} %\n",
            point.threshold,
            point.fmr * 100.0,
            point.fnmr * 100.0
        ));
    }
    out
}

/// The failures to acquire by cause, as ": cause n, …" (empty when there are none).
fn fta_causes(report: &EvalReport) -> String {
    let causes: Vec<String> = report
        .fta_by_cause
        .iter()
        .map(|(cause, count)| {
            let name = serde_json::to_value(cause)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{} {count}", name.replace('_', " "))
        })
        .collect();
    match causes.is_empty() {
        true => String::new(),
        false => format!(": {}", causes.join(", ")),
    }
}

/// The eyes report as a table and a few lines for a terminal.
fn eyes_text(report: &EyesReport) -> String {
    let detected = report.detected;
    let mut out = format!(
        "{} images on a {}×{} frame, covers seeded ({})\n\
         faces detected: {} clean, {} under a dark band, {} under a skin patch\n\
         max_flat_eyes / min_eye_edges   clean (false alarms)   dark band        skin patch\n",
        report.images,
        eyes::CANVAS.0,
        eyes::CANVAS.1,
        eyes::COVER_SEED,
        detected.clean,
        detected.dark_band,
        detected.skin_patch,
    );
    for (i, row) in report.flagged.iter().enumerate() {
        let share = |n: usize, of: usize| format!("{n} ({:.1} %)", percent(n, of));
        out.push_str(&format!(
            "{:<31} {:<22} {:<16} {}\n",
            format!(
                "{:.2} / {:.2}{}",
                row.max_flat_eyes,
                row.min_eye_edges,
                if i == 0 { " (configured)" } else { "" }
            ),
            share(row.faces.clean, detected.clean),
            share(row.faces.dark_band, detected.dark_band),
            share(row.faces.skin_patch, detected.skin_patch),
        ));
    }
    out.push_str(&format!(
        "false alarms at the configured thresholds: {}\n",
        report.false_alarms.len()
    ));
    for path in &report.false_alarms {
        out.push_str(&format!("  {}\n", path.display()));
    }
    let openness = &report.openness;
    let spread = |s: &Option<Spread>| match s {
        Some(s) => format!(
            "{:.3}–{:.3}, median {:.3}, 5th percentile {:.3} ({} faces)",
            s.min, s.max, s.median, s.p5, s.count
        ),
        None => "not measured".into(),
    };
    let PerVersion {
        clean,
        dark_band,
        skin_patch,
    } = &openness.faces;
    out.push_str(&format!(
        "FaceMesh eye openness (EAR), clean: {}\n  under a dark band: {}\n  under a skin patch: {}\n",
        spread(clean),
        spread(dark_band),
        spread(skin_patch),
    ));
    if let Some(ratio) = openness.lowest_within_identity {
        out.push_str(&format!(
            "lowest clean openness within an identity: {ratio:.2} of the identity's median\n"
        ));
    }
    out
}

fn percent(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}
