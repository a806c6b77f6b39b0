//! Command and response APDU parsing, and the transport's 61xx/6Cxx handling, on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| card_io::fuzzing::apdu(data));
