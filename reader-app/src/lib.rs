//! The kiosk's application library: configuration, the error catalogue, the hand-off to the
//! reception system, the audit log, the self-test and the qualification simulator. The
//! `mynakiosk` binary (session flow, UI, CLI) builds on it; end-to-end tests use it directly.

pub mod audit;
pub mod config;
pub mod diagnose;
pub mod errors;
pub mod handoff;
pub mod qual_sim;
