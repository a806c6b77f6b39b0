#!/usr/bin/env bash
# Sets up and runs the whole test suite: formatting, lints, unit tests and the
# end-to-end tests against the real pcscd, the virtual card, the real ONNX models,
# OpenCV and the Slint UI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh
. scripts/services.sh

scripts/setup.sh
start_pcscd
start_display

step "cargo fmt --check"
cargo fmt --all -- --check
step "module cycles"
python3 scripts/module-cycles.py
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo clippy (the packaged kiosk: no demo, no simulator)"
cargo clippy -p reader-app --all-targets --locked --no-default-features --features linuxkms -- -D warnings
step "cargo build (binaries the end-to-end tests run)"
cargo build --workspace --bins --locked
step "cargo test"
cargo test --workspace --locked
step "soak smoke (the full soak: tests/benches/soak.rs)"
SOAK_SESSIONS=8 cargo test -p mynakiosk-tests --locked --bench soak
