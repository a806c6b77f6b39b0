# Starts the services tests and the demo need, and stops what it started on exit.
# Source after scripts/lib.sh; call start_pcscd / start_display.
_started_pids=()
_stop_services() {
  for pid in "${_started_pids[@]}"; do as_root kill "$pid" 2>/dev/null || true; done
  for pid in "${_started_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap _stop_services EXIT
trap 'exit 130' INT TERM

pcscd_socket=/run/pcscd/pcscd.comm

# Uses a running pcscd (or systemd's socket) when there is one, else starts one in the
# foreground, without APDU logging (APDUs can carry PINs), and waits for its socket.
start_pcscd() {
  [ -f /etc/reader.conf.d/vpcd ] || die "vsmartcard-vpcd is not installed: run scripts/setup.sh"
  if pidof pcscd >/dev/null || { command -v systemctl >/dev/null && systemctl is-active -q pcscd.socket 2>/dev/null; }; then
    step "using the running pcscd"
    return
  fi
  local log="$root/target/pcscd.log"
  mkdir -p "$root/target"
  step "starting pcscd (log: $log)"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" pcscd --foreground >"$log" 2>&1 &
  _started_pids+=($!)
  for _ in $(seq 100); do
    [ -S "$pcscd_socket" ] && return
    sleep 0.1
  done
  die "pcscd did not create $pcscd_socket within 10 s (see $log)"
}

# Gives the UI an X display: the caller's own, or a private Xvfb.
start_display() {
  if [ -n "${DISPLAY:-}" ] && command -v xdpyinfo >/dev/null && xdpyinfo >/dev/null 2>&1; then
    return
  fi
  command -v Xvfb >/dev/null || die "Xvfb is not installed: run scripts/setup.sh"
  local fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$fifo" >/dev/null 2>&1 &
  _started_pids+=($!)
  local n
  read -r -t 10 n <"$fifo" || die "Xvfb did not start within 10 s"
  rm -f "$fifo"
  export DISPLAY=":$n"
  step "started Xvfb on $DISPLAY"
}
