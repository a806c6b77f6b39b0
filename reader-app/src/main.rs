//! `mynakiosk`: the face-recognition card-reader kiosk.

fn main() -> std::process::ExitCode {
    mynakiosk::kiosk::memory::one_heap();
    mynakiosk::fatal::install();
    mynakiosk::logging::init();
    match mynakiosk::cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mynakiosk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
