//! `mynakiosk`: the face-recognition card-reader kiosk.

use reader_app::{audit, config, diagnose, errors, handoff, qual_sim};

mod card_info;
mod cli;
mod demo;
mod detect_faces;
mod kiosk;
mod logging;
mod session;

fn main() -> std::process::ExitCode {
    logging::init();
    match cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mynakiosk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
