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
    /// Reads 照合番号B from a card-front photo: 14 digits with per-digit confidence, or the reject reason.
    Ocr {
        image: PathBuf,
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
        Command::Demo => crate::kiosk::run(&config, crate::kiosk::Mode::Demo),
        Command::DetectFaces { source } => crate::detect_faces::run(&config, &source),
        Command::Ocr { image, json } => {
            if !crate::ocr_cmd::run(&image, json)? {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}
