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
    Demo,
    /// Detects faces in images from a file camera (an image or a folder) and prints JSON lines.
    DetectFaces {
        /// An image file or a folder of images.
        source: PathBuf,
    },
    /// Face matching accuracy on a folder of identity/image files (FMR, FNMR, EER, FTA).
    FaceEval {
        /// A folder with one subfolder of images per identity.
        dir: PathBuf,
        /// Match a small JPEG 2000 of each image, like the card's photo, against the others.
        #[arg(long)]
        chip: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Run => crate::kiosk::run(&config, crate::kiosk::Mode::Production),
        Command::Demo => crate::kiosk::run(&config, crate::kiosk::Mode::Demo),
        Command::DetectFaces { source } => crate::detect_faces::run(&config, &source),
        Command::FaceEval { dir, chip, json } => crate::face_eval::run(&config, &dir, chip, json),
    }
}
