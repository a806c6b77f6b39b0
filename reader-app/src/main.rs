//! `mynakiosk`: the face-recognition card-reader kiosk.

mod cli;
mod config;
mod demo;
mod detect_faces;
mod errors;
mod kiosk;
mod logging;
mod ocr_cmd;
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
