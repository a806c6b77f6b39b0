//! The fuzz targets: each takes any bytes and must return without panicking, hanging or
//! holding more than [`capped::LIMIT`]. Driven by libFuzzer (`scripts/fuzz.sh`) and replayed
//! over `fuzz/corpus/<target>/` by the normal test suite (`tests/corpus.rs`).

pub mod capped;
mod targets;

pub use targets::keyed_audit_dir;

/// A named fuzz target.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, as `scripts/fuzz.sh` and the corpus folders name them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "apdu",
        run: card_io::fuzzing::apdu,
    },
    Target {
        name: "card_records",
        run: card_io::fuzzing::card_records,
    },
    Target {
        name: "certificate_chain",
        run: card_io::fuzzing::certificate_chain,
    },
    Target {
        name: "chip_jpeg2000",
        run: targets::chip_jpeg2000,
    },
    Target {
        name: "card_front_photo",
        run: targets::card_front_photo,
    },
    Target {
        name: "config_toml",
        run: targets::config_toml,
    },
    Target {
        name: "handoff_json",
        run: targets::handoff_json,
    },
    Target {
        name: "audit_lines",
        run: targets::audit_lines,
    },
];

impl Target {
    pub fn named(name: &str) -> Option<&'static Target> {
        TARGETS.iter().find(|t| t.name == name)
    }

    pub fn names() -> Vec<&'static str> {
        TARGETS.iter().map(|t| t.name).collect()
    }
}
