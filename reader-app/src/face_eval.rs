//! `mynakiosk face-eval DIR [--chip] [--json]`: accuracy of the face pipeline on a folder of
//! `identity/image` files (FMR, FNMR, EER, FTA, thresholds at FMR 1e-2, 1e-3, 1e-4), so a
//! clinic can calibrate the match threshold on its own consented set. Prints scores only.

use crate::config::Config;
use face_match::eval::{self, ChipSimulator, EvalReport};
use face_match::{FaceMatcher, MatchPolicy, OrtRuntime, QualityConfig};
use std::path::Path;

pub fn run(config: &Config, dir: &Path, chip: bool, json: bool) -> anyhow::Result<()> {
    let runtime = OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
    let policy = MatchPolicy::default();
    let mut matcher = FaceMatcher::load(
        &runtime,
        &config.face.models_dir,
        QualityConfig::default(),
        policy,
    )?;
    let samples = eval::scan(dir)?;
    let probes = eval::embed_all(&mut matcher, &samples)?;
    let report = if chip {
        let simulator = ChipSimulator::card_like()?;
        let gallery = eval::embed_all_as_chip(&mut matcher, &samples, &simulator)?;
        eval::report(&samples, &probes, Some(&gallery), policy.threshold)?
    } else {
        eval::report(&samples, &probes, None, policy.threshold)?
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(())
}

/// The report as a few lines for a terminal.
fn text(report: &EvalReport) -> String {
    let rates = &report.rates;
    let mut out = format!(
        "{} mode: {} identities, {} images, {} genuine / {} impostor pairs\n\
         FTA  {:.2} % ({} images without a face)\n\
         EER  {:.2} % at threshold {:.3}\n",
        report.mode,
        report.identities,
        report.images,
        rates.genuine_pairs,
        rates.impostor_pairs,
        report.fta * 100.0,
        report.failed_to_acquire.len(),
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
