//! The libFuzzer driver: runs the target named by `MYNAKIOSK_FUZZ_TARGET` (see scripts/fuzz.sh).
#![no_main]

use std::sync::OnceLock;

use mynakiosk_fuzz::{capped::CappedAlloc, Target};

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

fn target() -> &'static Target {
    static TARGET: OnceLock<&'static Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let name = std::env::var("MYNAKIOSK_FUZZ_TARGET").unwrap_or_default();
        Target::named(&name).unwrap_or_else(|| {
            eprintln!(
                "MYNAKIOSK_FUZZ_TARGET={name:?}: not one of {:?}",
                Target::names()
            );
            std::process::exit(2)
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| (target().run)(data));
