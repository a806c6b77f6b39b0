#!/usr/bin/env bash
# Coverage-guided fuzzing on the stable toolchain: libFuzzer (libfuzzer-sys) with rustc's
# SanitizerCoverage pass on the project's crates and the parsers they call
# (scripts/fuzz-rustc.sh). Usage: scripts/fuzz.sh [TARGET|all] [SECONDS per target]
# (default: all, 10 s). Targets: fuzz/src/lib.rs. Seeds: fuzz/corpus/TARGET (new inputs go to
# target/fuzz/corpus/TARGET, crashes to target/fuzz/artifacts/TARGET). Fails on a crash, a
# panic, a hang over 10 s, a Rust allocation past 256 MiB (fuzz/src/capped.rs) or an RSS past
# 768 MiB (OpenCV's C++ heap; the process starts at about 60 MiB).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

which=${1:-all}
seconds=${2:-10}
fuzz_dir=target/fuzz
# Its own target folder: instrumented builds of the project's crates must never mix with the
# normal ones. Seeded once from target/debug (if built), so only the instrumented crates and
# what depends on them compile.
if [ ! -d "$fuzz_dir/debug/.fingerprint" ] && [ -d target/debug/.fingerprint ]; then
  step "seeding $fuzz_dir from target/debug"
  mkdir -p "$fuzz_dir/debug/deps"
  cp -a target/debug/.fingerprint target/debug/build "$fuzz_dir/debug/"
  find target/debug/deps -maxdepth 1 -type f \( -name '*.rlib' -o -name '*.rmeta' -o -name '*.d' \
    -o -name '*.so' -o -name '*.a' -o -name '*.o' \) -exec cp -a {} "$fuzz_dir/debug/deps/" \;
  # Built without instrumentation: drop them so the wrapper builds them again.
  for crate in card-io face-match card-front reader-app mynakiosk-fuzz hayro-jpeg2000 x509-parser der-parser asn1-rs; do
    rm -rf "$fuzz_dir"/debug/.fingerprint/"$crate"-*
  done
fi
step "building the fuzz driver"
CARGO_TARGET_DIR=$fuzz_dir RUSTC_WRAPPER="$root/scripts/fuzz-rustc.sh" \
  cargo build --locked -p mynakiosk-fuzz --features libfuzzer --bin mynakiosk-fuzz
driver=$fuzz_dir/debug/mynakiosk-fuzz

if [ "$which" = all ]; then
  mapfile -t targets < <(ls fuzz/corpus)
else
  [ -d "fuzz/corpus/$which" ] || die "no fuzz target $which (targets: $(ls fuzz/corpus | tr '\n' ' '))"
  targets=("$which")
fi
for t in "${targets[@]}"; do
  step "fuzzing $t for $seconds s"
  mkdir -p "$fuzz_dir/corpus/$t" "$fuzz_dir/artifacts/$t"
  MYNAKIOSK_FUZZ_TARGET=$t "$driver" "$fuzz_dir/corpus/$t" "fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=768 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$fuzz_dir/artifacts/$t/" \
    || die "$t: the fuzzer found a failing input (see $fuzz_dir/artifacts/$t/)"
done
