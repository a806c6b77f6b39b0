//! Structured logs on stderr: plain lines on a terminal, JSON under systemd/journald.
//! Nothing biometric, no PIN and no 照合番号B is ever passed to a log call.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The kiosk's own crates at `info`, libraries (winit, ort …) only when they warn.
const DEFAULT_FILTER: &str = "warn,mynakiosk=info,card_io=info,face_match=info";

/// Installs the global subscriber; `MYNAKIOSK_LOG` sets the filter (an `EnvFilter`
/// directive such as `debug`), `MYNAKIOSK_LOG_FORMAT=json` forces JSON lines.
pub fn init() {
    let filter =
        EnvFilter::try_from_env("MYNAKIOSK_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = std::env::var("MYNAKIOSK_LOG_FORMAT").is_ok_and(|v| v == "json")
        || std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
