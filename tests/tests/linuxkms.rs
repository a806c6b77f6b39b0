//! `mynakiosk run` with `SLINT_BACKEND=linuxkms-software` on a machine without a display
//! device: a clear error naming what to check, exit status 1, no panic. The binary and this
//! test are built with the same features (linuxkms is a default feature of reader-app).

use mynakiosk::display::LINUXKMS_BUILT;
use mynakiosk_tests::binary;
use std::path::Path;

/// Whether this machine has a display device the linuxkms backend could take over.
fn has_display_device() -> bool {
    Path::new("/dev/dri").exists() || Path::new("/dev/fb0").exists()
}

#[test]
fn linuxkms_without_a_display_device_fails_with_a_clear_error() {
    if LINUXKMS_BUILT && has_display_device() {
        // The kiosk would take over the real display: nothing to test here.
        eprintln!("skipped: this machine has /dev/dri or /dev/fb0");
        return;
    }
    let out = binary::command()
        .env("SLINT_BACKEND", "linuxkms-software")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .arg("run")
        .output()
        .expect("run mynakiosk");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let expected = if LINUXKMS_BUILT {
        "cannot open the display with SLINT_BACKEND=linuxkms-software: the kiosk needs a DRM device"
    } else {
        "this mynakiosk was built without the linuxkms backend"
    };
    assert!(
        err.contains(expected),
        "expected {expected:?} (were the binary and the tests built with the same features?):\n{err}"
    );
}
