#!/usr/bin/env bash
# Builds the Debian package target/debian/mynakiosk_<version>_<arch>.deb: the release binary
# with Slint's linuxkms backend, ONNX Runtime, the face models, the voice, the systemd unit,
# the udev rules and the example config. Run scripts/setup.sh first (libraries and models).
#
# Usage: scripts/package.sh [--binary FILE] [--out DIR] [--compress xz|none]
#   --binary FILE   package FILE instead of building the release binary (the tests use the
#                   debug binary to check the layout without a release build)
#   --out DIR       where the .deb goes (default target/debian)
#   --compress      dpkg-deb compression (default xz)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

binary="" out="$root/target/debian" compress=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$(realpath "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --compress) compress=$2; shift 2 ;;
    *) die "unknown argument $1 (usage: scripts/package.sh [--binary FILE] [--out DIR] [--compress xz|none])" ;;
  esac
done

# Installed paths; the release binary has them built in as its defaults.
ort_name=libonnxruntime.so.1.31.1
ort_dir=/usr/lib/mynakiosk
models_dir=/usr/share/mynakiosk/models
voices_dir=/usr/share/mynakiosk/voices
# The models the kiosk loads (face: diagnose.rs MODELS; the card-front OCR); FaceMesh is not shipped.
models=(face_detection_yunet_2023mar_any_size.onnx face_recognition_sface_2021dec_kiosk.onnx ppocr_v6_tiny_rec.onnx ppocr_v6_small_rec.onnx ppocr_v4_det.onnx)

[ -f "third_party/onnxruntime/$ort_name" ] || die "third_party/onnxruntime/$ort_name is missing: run scripts/setup.sh"
[ -f third_party/voices/mei_normal.htsvoice ] || die "the Japanese voice is missing: run scripts/setup.sh"
step "checking the models' sha256 (models/checksums.sha256)"
for m in "${models[@]}"; do
  grep -F "  models/generated/$m" models/checksums.sha256 | sha256sum --quiet -c - \
    || die "models/generated/$m is missing or differs from models/checksums.sha256: run scripts/setup.sh"
done

if [ -z "$binary" ]; then
  step "building the release binary (linuxkms backend, installed paths, no demo)"
  MYNAKIOSK_ORT_DYLIB="$ort_dir/$ort_name" MYNAKIOSK_MODELS_DIR="$models_dir" \
    MYNAKIOSK_HTSVOICE="$voices_dir/mei_normal.htsvoice" \
    cargo build --release --locked -p reader-app --no-default-features --features linuxkms
  binary="$root/target/release/mynakiosk"
fi

maintainer="mynakiosk developers <mynakiosk@example.invalid>"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pkg"
step "laying out mynakiosk $version ($arch)"
install -D -m 0755 -s "$binary" "$pkg/usr/bin/mynakiosk"
install -D -m 0644 "third_party/onnxruntime/$ort_name" "$pkg$ort_dir/$ort_name"
install -d "$pkg$models_dir"
for m in "${models[@]}"; do install -m 0644 "models/generated/$m" "$pkg$models_dir/"; done
(cd "$pkg$models_dir" && sha256sum "${models[@]}" > SHA256SUMS)
install -D -m 0644 -t "$pkg$voices_dir" third_party/voices/mei_normal.htsvoice third_party/voices/LICENSE_mei_normal
install -D -m 0644 packaging/mynakiosk.service "$pkg/lib/systemd/system/mynakiosk.service"
# The reception console's drop-in, not active: the admin copies it to /etc and adds the address.
install -D -m 0644 packaging/mynakiosk.service.d/console.conf "$pkg/usr/share/mynakiosk/systemd/console.conf"
install -D -m 0644 packaging/70-mynakiosk.rules "$pkg/lib/udev/rules.d/70-mynakiosk.rules"
install -D -m 0644 packaging/debian/sysusers.conf "$pkg/usr/lib/sysusers.d/mynakiosk.conf"
install -D -m 0644 packaging/debian/tmpfiles.conf "$pkg/usr/lib/tmpfiles.d/mynakiosk.conf"
install -D -m 0644 packaging/mynakiosk.toml.example "$pkg/etc/mynakiosk/mynakiosk.toml"
install -D -m 0644 -t "$pkg/usr/share/doc/mynakiosk" packaging/debian/copyright docs/handoff.md
install -m 0644 packaging/README.md "$pkg/usr/share/doc/mynakiosk/README.install.md"
install -D -m 0644 -t "$pkg/usr/share/doc/mynakiosk/examples/prometheus" packaging/prometheus/prometheus.yml packaging/prometheus/mynakiosk-alerts.yml
install -D -m 0644 -t "$pkg/usr/share/doc/mynakiosk/examples/grafana" packaging/grafana/mynakiosk-dashboard.json
install -D -m 0644 packaging/debian/lintian-overrides "$pkg/usr/share/lintian/overrides/mynakiosk"
printf 'mynakiosk (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- %s  %s\n' \
  "$version" "$(git describe --always --dirty 2>/dev/null || echo "a source tree")" "$maintainer" \
  "$(date -R)" | gzip -9n > "$pkg/usr/share/doc/mynakiosk/changelog.gz"

# Depends: the shared libraries the binaries link (dpkg-shlibdeps) and the programs the
# kiosk runs or talks to.
mkdir -p "$stage/src/debian"
printf 'Source: mynakiosk\n\nPackage: mynakiosk\nArchitecture: any\n' > "$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O "-e$pkg/usr/bin/mynakiosk" "-e$pkg$ort_dir/$ort_name" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependencies"

install -d "$pkg/DEBIAN"
install -m 0755 -t "$pkg/DEBIAN" packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm
echo /etc/mynakiosk/mynakiosk.toml > "$pkg/DEBIAN/conffiles"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: mynakiosk
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $shlibs, pcscd, systemd, open-jtalk, open-jtalk-mecab-naist-jdic, espeak-ng, alsa-utils, fonts-noto-cjk
Recommends: libccid
Section: misc
Priority: optional
Homepage: https://example.invalid/mynakiosk
Description: face-recognition My Number card reader kiosk for clinics
 Reads the My Number card on a PC/SC reader, matches the holder's face
 against the chip photo (or takes the PIN), and hands the result to the
 reception system. Runs without a desktop on Slint's linuxkms backend
 under a hardened systemd unit.
CONTROL

mkdir -p "$out"
deb="$out/mynakiosk_${version}_${arch}.deb"
dpkg-deb --root-owner-group "-Z$compress" --build "$pkg" "$deb" >/dev/null
step "built $deb"
echo "$deb"
