//! The `mynakiosk` application: session flow, runtime, configuration, CLI, demo, the hand-off to
//! the reception system, the audit log, the self-test and the qualification simulator. The
//! binary only calls [`cli::run`]; end-to-end tests use the library directly.

pub mod audit;
pub mod card_info;
pub mod cli;
pub mod config;
pub mod demo;
pub mod detect_faces;
pub mod diagnose;
pub mod display;
pub mod errors;
pub mod face_eval;
pub mod fatal;
pub mod handoff;
pub mod kiosk;
pub mod logging;
pub mod ocr_cmd;
pub mod qual_sim;
pub mod screenshots;
pub mod session;
pub mod voice;
