//! `scripts/package.sh` lays out the Debian package: checked with `dpkg-deb` on a package of
//! the test build's binary (the release build is the script's default, too slow for the suite).

use face_match::{
    SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};
use mynakiosk_tests::binary;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `dpkg-deb <op> <deb> [dest]` and returns its stdout.
fn dpkg_deb(op: &str, deb: &Path, dest: Option<&Path>) -> String {
    let out = Command::new("dpkg-deb")
        .arg(op)
        .arg(deb)
        .args(dest)
        .output()
        .expect("dpkg-deb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_package_holds_the_kiosk_its_unit_rules_config_and_verified_models() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(workspace().join("scripts/package.sh"))
        .arg("--binary")
        .arg(binary::path())
        .arg("--out")
        .arg(dir.path())
        .args(["--compress", "none"])
        .output()
        .expect("run scripts/package.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let deb = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        deb.starts_with(dir.path()) && deb.is_file(),
        "{}",
        deb.display()
    );

    // Every file with its mode and owner.
    let listing = dpkg_deb("-c", &deb, None);
    for (mode, path) in [
        ("-rwxr-xr-x root/root", "./usr/bin/mynakiosk"),
        (
            "-rw-r--r-- root/root",
            "./usr/lib/mynakiosk/libonnxruntime.so.1.31.1",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/mynakiosk/models/SHA256SUMS",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/mynakiosk/voices/mei_normal.htsvoice",
        ),
        (
            "-rw-r--r-- root/root",
            "./lib/systemd/system/mynakiosk.service",
        ),
        (
            "-rw-r--r-- root/root",
            "./lib/udev/rules.d/70-mynakiosk.rules",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/lib/sysusers.d/mynakiosk.conf",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/mynakiosk/systemd/console.conf",
        ),
        ("-rw-r--r-- root/root", "./etc/mynakiosk/mynakiosk.toml"),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/mynakiosk/examples/prometheus/mynakiosk-alerts.yml",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/mynakiosk/examples/grafana/mynakiosk-dashboard.json",
        ),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/mynakiosk/copyright",
        ),
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(&format!(" {path}"))),
            "{mode} {path} missing:\n{listing}"
        );
    }
    assert!(!listing.contains("face_landmark"), "FaceMesh is not loaded");

    // The models are the ones the kiosk verifies, and the shipped files are the repository's.
    let root = dir.path().join("root");
    dpkg_deb("-x", &deb, Some(&root));
    let sums = std::fs::read_to_string(root.join("usr/share/mynakiosk/models/SHA256SUMS")).unwrap();
    let ocr: String = card_front::OCR_MODELS
        .iter()
        .map(|(file, sha256)| format!("{sha256}  {file}\n"))
        .collect();
    assert_eq!(
        sums,
        format!(
            "{YUNET_2023MAR_SHA256}  {YUNET_2023MAR_FILE}\n{SFACE_2021DEC_SHA256}  {SFACE_2021DEC_FILE}\n{ocr}"
        )
    );
    for (shipped, source) in [
        (
            "lib/systemd/system/mynakiosk.service",
            "packaging/mynakiosk.service",
        ),
        (
            "etc/mynakiosk/mynakiosk.toml",
            "packaging/mynakiosk.toml.example",
        ),
        (
            "lib/udev/rules.d/70-mynakiosk.rules",
            "packaging/70-mynakiosk.rules",
        ),
        (
            "usr/share/mynakiosk/systemd/console.conf",
            "packaging/mynakiosk.service.d/console.conf",
        ),
    ] {
        assert_eq!(
            std::fs::read(root.join(shipped)).unwrap(),
            std::fs::read(workspace().join(source)).unwrap(),
            "{shipped}"
        );
    }

    // Control: the config is a conffile, the libraries and services are dependencies.
    let control = dir.path().join("control");
    dpkg_deb("-e", &deb, Some(&control));
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).unwrap(),
        "/etc/mynakiosk/mynakiosk.toml\n"
    );
    let depends = dpkg_deb("-f", &deb, None);
    let depends = depends
        .lines()
        .find_map(|l| l.strip_prefix("Depends: "))
        .expect("Depends field");
    for package in [
        "libpcsclite1",
        "libopencv-imgproc406",
        "libc6",
        "pcscd",
        "fonts-noto-cjk",
    ] {
        assert!(depends.contains(package), "{package} not in {depends}");
    }
    // Images and cameras are read in Rust: OpenCV's codecs and video modules (and GDAL,
    // FFmpeg, GStreamer behind them) are neither linked nor installed.
    for package in ["libopencv-imgcodecs406", "libopencv-videoio406"] {
        assert!(!depends.contains(package), "{package} in {depends}");
    }
    assert_eq!(
        depends.contains("libinput10"),
        mynakiosk::display::LINUXKMS_BUILT,
        "libinput10 follows the linuxkms feature: {depends}"
    );
}
