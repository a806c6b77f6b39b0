#!/usr/bin/env bash
# Sets up and runs the kiosk demo: the real pcscd with the project's virtual My Number
# card (a simulator) plugged into the vpcd reader from the on-screen demo controls, and the
# qualification/reception SIMULATOR (`mynakiosk qual-sim`) answering for the virtual cards.
# Everything the demo writes (outbox, audit log, received results) stays in target/demo/.
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

demo=$root/target/demo
qual_port=${MYNAKIOSK_DEMO_QUAL_PORT:-8751}
mkdir -p "$demo"
# The simulator's answers, by the certificate serial of each virtual card profile (TEST data).
step "writing the qualification SIMULATOR's data ($demo/qual-sim.toml)"
{
  echo '# SIMULATOR data written by scripts/demo.sh: certificate serials of the virtual cards.'
  echo 'default = "no_record"'
  echo '[cards]'
  for pair in normal:valid face-card:valid pin-locked:valid no-photo:valid \
    pin-1-try-left:invalid foreign-resident:unregistered; do
    profile=${pair%%:*}
    serial=$(openssl x509 -inform der -noout -serial -in "card-sim/profiles/certs/auth-$profile.der")
    serial=$(printf '%s' "${serial#serial=}" | tr 'A-F' 'a-f')
    echo "\"$serial\" = \"${pair#*:}\" # $profile"
  done
} >"$demo/qual-sim.toml"
# The SIMULATED patient camera: the chosen card's holder (本人) or an impostor (別人), as the
# demo strip picks. Default: other photos of the person on the `normal` card's chip photo (made
# from obama.jpg) and biden.jpg; a profile whose chip photo shows someone else has its own
# subfolder (holder/<profile>/, impostor/<profile>/).
portraits=$(cd "$root/../shared/face-eval/portraits" 2>/dev/null && pwd) ||
  die "../shared/face-eval/portraits is missing (the demo's camera images)"
rm -rf "$demo/camera"
mkdir -p "$demo/camera/holder" "$demo/camera/impostor"
ln -s "$portraits/obama2.jpg" "$portraits/obama3.jpg" "$demo/camera/holder/"
ln -s "$portraits/biden.jpg" "$demo/camera/impostor/"
for pair in pin-locked:biden.jpg foreign-resident:biden.jpg face-card:grace_hopper_512x512.jpg; do
  profile=${pair%%:*}
  mkdir -p "$demo/camera/holder/$profile" "$demo/camera/impostor/$profile"
  ln -s "$portraits/${pair#*:}" "$demo/camera/holder/$profile/"
  ln -s "$portraits/obama2.jpg" "$demo/camera/impostor/$profile/"
done
cat >"$demo/demo.toml" <<TOML
# Demo configuration written by scripts/demo.sh. Trust anchor: in demo mode the kiosk trusts
# only the card simulator's TEST CA.
kiosk_id = "demo"
[face]
# DEMO ONLY (refused by \`mynakiosk run\`): still images cannot pass a head-turn challenge.
liveness = "off"
[camera]
source = "images"
folder = "$demo/camera/holder"
[demo]
impostor_folder = "$demo/camera/impostor"
[handoff]
sink = "http"
http_url = "http://127.0.0.1:$qual_port/results"
outbox_dir = "$demo/outbox"
retry_initial_ms = 500
retry_max_ms = 5000
[qualification]
url = "http://127.0.0.1:$qual_port"
[audit]
dir = "$demo/audit"
TOML

step "starting the qualification SIMULATOR on 127.0.0.1:$qual_port"
target/debug/mynakiosk qual-sim --data "$demo/qual-sim.toml" --listen "127.0.0.1:$qual_port" \
  --received "$demo/received.jsonl" >"$demo/qual-sim.log" 2>&1 &
_started_pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$qual_port") 2>/dev/null && break
  kill -0 "${_started_pids[-1]}" 2>/dev/null || die "qual-sim did not start (see $demo/qual-sim.log)"
  sleep 0.1
done

step "starting the kiosk demo (close the window or press Ctrl-C to stop); results: $demo/received.jsonl, audit: $demo/audit"
target/debug/mynakiosk --config "$demo/demo.toml" demo "$@"
