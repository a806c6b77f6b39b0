//! The `mynakiosk` application: session flow, runtime, configuration, CLI and demo.

pub mod cli;
pub mod config;
pub mod demo;
pub mod detect_faces;
pub mod errors;
pub mod kiosk;
pub mod logging;
pub mod screenshots;
pub mod session;
pub mod voice;
