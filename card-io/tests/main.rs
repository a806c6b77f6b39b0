//! card-io's integration tests, one module per subject, linked into one test binary. Run one
//! subject with e.g. `cargo test -p card-io --test integration certificates::`.

mod certificates;
mod detect;
mod parsers_total;
mod trace_privacy;
