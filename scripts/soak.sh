#!/bin/sh
# Runs the soak bench (tests/benches/soak.rs) in network and mount namespaces of its own, so its
# fixed vpcd ports and the private-pcscd lock in /tmp do not collide with other tests on the
# machine. Needs root (unshare). Usage: scripts/soak.sh [sessions]  (default 1000)
set -eu
cd "$(dirname "$0")/.."
sessions="${1:-1000}"
cargo test -p mynakiosk-tests --bench soak --no-run
exec unshare --net --mount --propagation private -- sh -c "
  ip link set lo up && mount -t tmpfs tmpfs /tmp &&
  SOAK_SESSIONS=$sessions exec nice -n 10 cargo test -p mynakiosk-tests --bench soak"
