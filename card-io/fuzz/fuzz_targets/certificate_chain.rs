//! The user-authentication certificate as read from a card, checked against a trust anchor.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| card_io::fuzzing::certificate_chain(data));
