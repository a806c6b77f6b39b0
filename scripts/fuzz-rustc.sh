#!/usr/bin/env bash
# RUSTC_WRAPPER of scripts/fuzz.sh: adds SanitizerCoverage (stable rustc flags, no nightly)
# to the crates whose code the fuzzer should explore; every other crate builds as usual.
set -euo pipefail
rustc=$1
shift
instrumented="card_io face_match card_front mynakiosk mynakiosk_fuzz hayro_jpeg2000 x509_parser der_parser asn1_rs"
crate=
prev=
for arg in "$@"; do
  [ "$prev" = "--crate-name" ] && crate=$arg
  prev=$arg
done
if [ -n "$crate" ] && [[ " $instrumented " == *" $crate "* ]]; then
  exec "$rustc" "$@" -Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares
fi
exec "$rustc" "$@"
