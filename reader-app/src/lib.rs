//! The `mynakiosk` application. The kiosk itself: the session flow, its runtime, the hand-off
//! to the reception system, the audit log, the configuration and the voice guidance. Beside it,
//! in [`commands`], the tools integrators use (self-test, card-info, OCR, qualification
//! simulator …). The binary only calls [`cli::run`]; end-to-end tests use the library directly.

// The kiosk.
pub mod audit;
pub use capped_file;
pub mod config;
pub mod console;
pub mod display;
pub mod errors;
pub mod fatal;
pub mod handoff;
pub mod keypad;
pub mod kiosk;
pub mod lang;
pub mod metrics;
pub mod session;
pub mod setting;
pub mod staff;
pub mod voice;

// The command line and its tools.
pub mod cli;
pub mod commands;
pub mod logging;

/// The kiosk runtime's demo mode plugs the virtual card in through `crate::demo`.
#[cfg(feature = "demo")]
pub(crate) use commands::demo;
