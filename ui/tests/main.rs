//! The UI crate's integration tests, one module per subject, linked into one test binary (Slint
//! is linked once). Run one subject with e.g. `cargo test -p mynakiosk-ui --test integration
//! layout::`.

mod accessibility;
mod layout;
mod line_breaks;
mod screens;
mod snapshot;
mod translations;
