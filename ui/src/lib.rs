//! Slint screens of the kiosk: a view of the session state, no card or face logic.
//!
//! The app drives [`KioskWindow`] through its properties (`screen`, `error-message`,
//! `reader-status`, `language`, `demo-mode`) and callbacks (`call-staff`, `select-language`,
//! `demo-place-card`, `demo-remove-card`).

pub mod snapshot;

slint::include_modules!();
