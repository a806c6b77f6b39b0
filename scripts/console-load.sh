#!/usr/bin/env bash
# Load benchmark of the reception console and the metrics endpoint (docs/console.md): runs the
# kiosk twice on Xvfb, idle, and prints its resident memory (VmRSS, and RssAnon without the
# mapped files; sampled every second after a warm-up): once with [console] and [metrics] off,
# once with both on, 50 server-sent-event clients signed in with the reception token and a
# /metrics scrape every second.
# Usage: scripts/console-load.sh [SECONDS per run, default 60]; MYNAKIOSK_BIN picks the binary
# (default target/debug/mynakiosk; a release build gives the figures to publish).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

seconds=${1:-60}
bin=${MYNAKIOSK_BIN:-target/debug/mynakiosk}
clients=50
[ -x "$bin" ] || die "$bin is missing: cargo build -p reader-app --bins"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=:97
  Xvfb :97 -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/console.key" -out "$work/console.crt" 2>/dev/null
head -c 32 /dev/urandom | base64 >"$work/token"
chmod 600 "$work/token" "$work/console.key"

# The kiosk's configuration; $1 = true to serve the console and the metrics.
config() {
  local dir=$work/$2
  mkdir -p "$dir/drop"
  cat >"$dir/kiosk.toml" <<TOML
kiosk_id = "load"
# No reader matches: the kiosk never touches a card other tests may have in pcscd's readers.
[reader]
name = "console-load-no-such-reader"
[handoff]
sink = "file"
drop_dir = "$dir/drop"
outbox_dir = "$dir/outbox"
[audit]
dir = "$dir/audit"
[voice]
enabled = false
[metrics]
enabled = $1
listen = "127.0.0.1:19466"
[console]
enabled = $1
listen = "127.0.0.1:18446"
tls_cert = "$work/console.crt"
tls_key = "$work/console.key"
token_file = "$work/token"
TOML
  echo "$dir/kiosk.toml"
}

# Runs the kiosk with config $1 for $seconds after a 10 s warm-up; prints the peak and the
# median VmRSS in kB. $2 = true to load the console and the metrics meanwhile.
run() {
  "$bin" --config "$1" run >"$work/kiosk.log" 2>&1 &
  local kiosk=$! load=()
  pids+=("$kiosk")
  sleep 10
  kill -0 "$kiosk" 2>/dev/null || die "the kiosk did not start: $(tail -5 "$work/kiosk.log")"
  if [ "$2" = true ]; then
    local cookie
    cookie=$(curl -sk -D - -o /dev/null --data-urlencode "token=$(cat "$work/token")" \
      https://127.0.0.1:18446/sign-in | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*\);.*/\1/ip')
    [ -n "$cookie" ] || die "the console refused the token"
    for _ in $(seq "$clients"); do
      curl -skN -H "Cookie: $cookie" https://127.0.0.1:18446/events >/dev/null 2>&1 &
      load+=($!)
    done
    (while :; do curl -s http://127.0.0.1:19466/metrics >/dev/null; sleep 1; done) &
    load+=($!)
    pids+=("${load[@]}")
    sleep 3
    local streams
    streams=$(ss -Htn state established "( sport = :18446 )" | wc -l)
    [ "$streams" -ge "$clients" ] || die "only $streams event streams are open"
    curl -sf http://127.0.0.1:19466/metrics | grep -q '^mynakiosk_' || die "no metrics scraped"
  fi
  local rss=() anon=()
  for _ in $(seq "$seconds"); do
    rss+=("$(awk '/^VmRSS/ {print $2}' "/proc/$kiosk/status")")
    anon+=("$(awk '/^RssAnon/ {print $2}' "/proc/$kiosk/status")")
    sleep 1
  done
  kill "${load[@]}" "$kiosk" 2>/dev/null || true
  wait "$kiosk" 2>/dev/null || true
  echo "$(peak_median "${rss[@]}") $(peak_median "${anon[@]}")"
}

# The largest and the median of the numbers given.
peak_median() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[NR], a[int((NR+1)/2)]}'
}

step "kiosk alone for $seconds s"
run "$(config false off)" false >"$work/off.rss"
read -r off_peak off_median off_anon_peak off_anon <"$work/off.rss"
step "console with $clients SSE clients and a scrape every second, for $seconds s"
run "$(config true on)" true >"$work/on.rss"
read -r on_peak on_median on_anon_peak on_anon <"$work/on.rss"
echo "kB         VmRSS peak  median   RssAnon peak  median"
echo "off        $off_peak  $off_median   $off_anon_peak  $off_anon"
echo "on         $on_peak  $on_median   $on_anon_peak  $on_anon"
echo "added      $((on_peak - off_peak))  $((on_median - off_median))   $((on_anon_peak - off_anon_peak))  $((on_anon - off_anon))"
