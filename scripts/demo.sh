#!/usr/bin/env bash
# Sets up and runs the kiosk demo: the real pcscd with the project's virtual My Number
# card (a simulator) plugged into the vpcd reader from the on-screen demo controls.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh
. scripts/services.sh

scripts/setup.sh
start_pcscd
had_display=${DISPLAY:-}
start_display
[ -n "$had_display" ] || step "no X display: the kiosk runs on the virtual display $DISPLAY (screenshot: xwd -display $DISPLAY -root -silent | convert xwd:- kiosk.png)"
step "building mynakiosk"
cargo build -q -p reader-app --bin mynakiosk
step "starting the kiosk demo (close the window or press Ctrl-C to stop)"
target/debug/mynakiosk demo "$@"
