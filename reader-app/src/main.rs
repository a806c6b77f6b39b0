//! `mynakiosk`: the face-recognition card-reader kiosk.

fn main() -> std::process::ExitCode {
    reader_app::logging::init();
    match reader_app::cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mynakiosk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
