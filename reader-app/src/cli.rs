//! Command-line interface: the kiosk itself and the tools integrators use.

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mynakiosk",
    version,
    about = "Face-recognition My Number card reader kiosk"
)]
struct Cli {
    /// Configuration file (TOML); built-in defaults when omitted.
    #[arg(long, global = true, env = "MYNAKIOSK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the kiosk on the configured card reader.
    Run,
    /// Runs the kiosk with on-screen controls that plug a virtual card (a simulator) into vpcd.
    #[cfg(feature = "demo")]
    Demo,
    /// Detects faces in images from a file camera (an image or a folder) and prints JSON lines.
    DetectFaces {
        /// An image file or a folder of images.
        source: PathBuf,
    },
    /// Checks readers, card, cameras, models, ONNX Runtime, pcscd, the reception system and
    /// the audit chain; one PASS/WARN/FAIL line each, non-zero exit when a check fails.
    Diagnose,
    /// Parses the configuration and reports the first error (line, key, expected).
    CheckConfig,
    /// Verifies hash-chained audit files in order (a folder: all its audit files).
    AuditVerify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The audit key file (default: audit.key beside the audit folder).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// The hand-off outbox: status, deliver now, queue test results.
    Outbox {
        #[command(subcommand)]
        command: crate::commands::outbox::OutboxCommand,
    },
    /// A SIMULATOR of the qualification service and reception sink, for demos and tests.
    QualSim(crate::commands::qual_sim::QualSimArgs),
    /// Reads the card on a PC/SC reader and prints what the kiosk learned as JSON.
    CardInfo(crate::commands::card_info::Args),
    /// Renders every screen in each language to PNG files in OUTDIR (headless).
    Screenshots { outdir: PathBuf },
    /// Face matching accuracy on a folder of identity/image files (FMR, FNMR, EER, FTA).
    FaceEval {
        /// A folder with one subfolder of images per identity.
        dir: PathBuf,
        /// Match a small JPEG 2000 of each image, like the card's photo, against the others.
        #[arg(long, conflicts_with = "eyes")]
        chip: bool,
        /// Instead of matching: the eyes-covered check and FaceMesh's eye openness on each
        /// image, clean and under synthetic covers (a dark band, a skin patch).
        #[arg(long)]
        eyes: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    #[command(about = format!(
        "Reads 照合番号B from photos of one card front (read as successive camera frames, at most \
         {}): 14 digits with per-digit confidence, or the reject reason",
        card_front::MAX_FRAMES
    ))]
    Ocr {
        /// Photos of the same card front, read in this order.
        #[arg(required = true, num_args = 1..=card_front::MAX_FRAMES)]
        images: Vec<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Run => crate::kiosk::run(&config, crate::kiosk::Mode::Production),
        #[cfg(feature = "demo")]
        Command::Demo => crate::kiosk::run(&config, crate::kiosk::Mode::demo()),
        Command::DetectFaces { source } => crate::commands::detect_faces::run(&config, &source),
        Command::Diagnose => crate::commands::diagnose::run(&config, cli.config.as_deref()),
        Command::CheckConfig => {
            Config::check(cli.config.as_deref())?;
            println!("configuration valid");
            Ok(())
        }
        Command::AuditVerify { files, key } => crate::audit::run_verify(&files, key.as_deref()),
        Command::Outbox { command } => crate::commands::outbox::run(&config, &command),
        Command::QualSim(args) => crate::commands::qual_sim::run(&args),
        Command::CardInfo(args) => crate::commands::card_info::run(&config, args),
        Command::Screenshots { outdir } => crate::commands::screenshots::run(&outdir),
        Command::FaceEval {
            dir,
            chip,
            eyes,
            json,
        } => {
            let measure = if eyes {
                crate::commands::face_eval::Measure::Eyes
            } else {
                crate::commands::face_eval::Measure::Accuracy { chip }
            };
            crate::commands::face_eval::run(&config, &dir, measure, json)
        }
        Command::Ocr { images, json } => {
            let runtime =
                face_match::OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
            if !crate::commands::ocr::run(&runtime, &config.face.models_dir, &images, json)? {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}
