//! The shipped systemd unit: `systemd-analyze verify` accepts it (with the built binary in
//! place of /usr/bin/mynakiosk), it keeps its hardening and its `systemd-analyze security`
//! exposure stays low.

use mynakiosk_tests::binary;
use std::path::Path;
use std::process::Command;

fn unit_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mynakiosk.service");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn systemd_unit_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("mynakiosk.service");
    let bin = binary::path();
    std::fs::write(
        &unit,
        unit_text().replace("/usr/bin/mynakiosk", bin.to_str().unwrap()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze (package systemd) is needed to check the unit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

/// `systemd-analyze security` rates the unit's exposure at most 2.0 (of 10; 1.6 when written),
/// also with the reception console's drop-in (`mynakiosk.service.d/console.conf`: loopback plus
/// the reception PC's address).
#[test]
fn systemd_unit_exposure_is_low() {
    let drop_in =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mynakiosk.service.d/console.conf");
    let drop_in = std::fs::read_to_string(drop_in).unwrap();
    let allowed: Vec<&str> = drop_in
        .lines()
        .filter(|l| l.starts_with("IPAddressAllow="))
        .collect();
    assert!(!allowed.is_empty(), "{drop_in}");
    let with_console = unit_text().replace(
        "IPAddressAllow=localhost\n",
        &format!("IPAddressAllow=localhost\n{}\n", allowed.join("\n")),
    );
    assert!(
        with_console.contains(allowed[0]),
        "the drop-in's addresses are added"
    );
    for text in [unit_text(), with_console] {
        let exposure = exposure(&text);
        assert!(exposure <= 2.0, "exposure {exposure} of:\n{text}");
    }
}

fn exposure(unit_text: &str) -> f32 {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("mynakiosk.service");
    std::fs::write(&unit, unit_text).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze (package systemd) is needed to check the unit");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            l.split("Overall exposure level for mynakiosk.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"))
}

#[test]
fn systemd_unit_is_hardened() {
    let text = unit_text();
    for line in [
        "LimitCORE=0",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/mynakiosk",
        "Restart=always",
        "Environment=SLINT_BACKEND=linuxkms-software",
        "CapabilityBoundingSet=",
        "DevicePolicy=closed",
        "DeviceAllow=char-input rw",
        "DeviceAllow=char-alsa rw",
        "SupplementaryGroups=video input render audio",
        "SystemCallFilter=@system-service",
        "IPAddressDeny=any",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing");
    }
    // The writable state directory is where the example config puts the outbox and audit log.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mynakiosk.toml.example");
    let config =
        mynakiosk::config::Config::parse(&std::fs::read_to_string(example).unwrap()).unwrap();
    for dir in [&config.handoff.outbox_dir, &config.audit.dir] {
        assert!(dir.starts_with("/var/lib/mynakiosk"), "{}", dir.display());
    }
}
