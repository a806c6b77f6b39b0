#!/usr/bin/env bash
# Sets up everything mynakiosk needs on Debian 12: system packages, the pinned
# ONNX Runtime library and the face models. Idempotent; a second run takes seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

command -v cargo >/dev/null || die "cargo not found: install Rust 1.92 or newer (https://rustup.rs) and run again"

# System packages (Debian 12). OpenCV: only the modules the project uses; libinput, libudev
# and libxkbcommon for Slint's linuxkms backend (cargo feature reader-app/linuxkms).
# dpkg-dev: dpkg-shlibdeps for scripts/package.sh. prometheus: the metrics test's server and promtool.
# chromium, chromium-driver: the reception console's browser test (headless, over WebDriver).
apt_packages=(
  pcscd libpcsclite-dev vsmartcard-vpcd
  clang libclang-dev
  libopencv-core-dev libopencv-imgproc-dev
  fonts-noto-cjk libfontconfig-dev
  # Typefaces of card-front's synthetic cards (card-front/src/glyphs.rs).
  fonts-ipafont-gothic fonts-ipafont-mincho fonts-ipaexfont-gothic fonts-ipaexfont-mincho
  fonts-takao-gothic fonts-takao-mincho fonts-vlgothic fonts-horai-umefont fonts-hanazono
  fonts-sawarabi-gothic fonts-morisawa-bizud-gothic fonts-morisawa-bizud-mincho
  fonts-motoya-l-cedar fonts-motoya-l-maruberi fonts-kiloji fonts-komatuna fonts-konatu
  xvfb xauth xdotool x11-apps x11-utils imagemagick
  libinput-dev libudev-dev libxkbcommon-dev
  libegl1 libgl1 libgl1-mesa-dri libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6 libxrandr2
  python3 python3-venv python3-pip unzip openssl libopenjp2-tools dpkg-dev
  open-jtalk open-jtalk-mecab-naist-jdic espeak-ng alsa-utils strace
  prometheus
  chromium chromium-driver
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${#missing[@]} Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python tools in a project venv, every wheel pinned by sha256.
venv="$root/.cache/venv"
if [ ! -x "$venv/bin/python" ]; then
  step "creating the Python venv for model tools"
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "installing pinned Python wheels"
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --only-binary=:all: \
    -r scripts/requirements.txt
  echo "$want" > "$stamp"
fi

# ONNX Runtime shared library from the pinned PyPI wheel.
ort_dir="$root/third_party/onnxruntime"
ort_lib="$ort_dir/libonnxruntime.so.1.31.1"
ort_lib_sha=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
ort_wheel=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ort_wheel_sha=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
if ! sha256_is "$ort_lib" "$ort_lib_sha"; then
  step "fetching ONNX Runtime 1.31.1"
  wheels="$root/.cache/wheels"
  mkdir -p "$wheels" "$ort_dir"
  if ! sha256_is "$wheels/$ort_wheel" "$ort_wheel_sha"; then
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$wheels" onnxruntime==1.31.1
  fi
  sha256_is "$wheels/$ort_wheel" "$ort_wheel_sha" || die "onnxruntime wheel checksum mismatch"
  unzip -p "$wheels/$ort_wheel" onnxruntime/capi/libonnxruntime.so.1.31.1 > "$ort_lib.tmp"
  mv "$ort_lib.tmp" "$ort_lib"
  sha256_is "$ort_lib" "$ort_lib_sha" || die "libonnxruntime.so checksum mismatch"
fi

scripts/setup-voice.sh

# Face models (download, fold, verify).
"$venv/bin/python" models/fetch.py
step "setup complete"
