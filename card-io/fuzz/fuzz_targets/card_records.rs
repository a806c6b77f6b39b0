//! The 券面事項確認AP card-face record (DF21 offsets, fields, photo) and the CVC `7F 21`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| card_io::fuzzing::card_records(data));
