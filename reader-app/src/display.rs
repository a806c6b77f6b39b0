//! Opening the kiosk window on the Slint backend named by `SLINT_BACKEND`, with an error an
//! integrator can act on when the display cannot be opened.

/// Whether this build includes Slint's linuxkms backend (cargo feature `linuxkms`).
pub const LINUXKMS_BUILT: bool = cfg!(feature = "linuxkms");

/// Opens the kiosk window on the backend `SLINT_BACKEND` asks for (Slint's default order when
/// unset: X11 through winit, then linuxkms when built in).
pub fn open_window() -> anyhow::Result<ui::KioskWindow> {
    let backend = std::env::var("SLINT_BACKEND").unwrap_or_default();
    check_backend(&backend, LINUXKMS_BUILT)?;
    ui::KioskWindow::new().map_err(|e| anyhow::anyhow!("{}\n{e}", failure_hint(&backend)))
}

/// Refuses a linuxkms request to a build without it: Slint would silently fall back to X11
/// and fail with a misleading "no display" error.
fn check_backend(backend: &str, linuxkms_built: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        !is_linuxkms(backend) || linuxkms_built,
        "SLINT_BACKEND={backend} but this mynakiosk was built without the linuxkms backend \
         (`--no-default-features`): rebuild it with the default features, \
         `cargo build --release -p reader-app` (packaging/README.md)"
    );
    Ok(())
}

fn is_linuxkms(backend: &str) -> bool {
    backend.to_ascii_lowercase().starts_with("linuxkms")
}

/// What to check when the window cannot be opened with `backend`.
fn failure_hint(backend: &str) -> String {
    if is_linuxkms(backend) {
        format!(
            "cannot open the display with SLINT_BACKEND={backend}: the kiosk needs a DRM device \
             (ls /dev/dri), no other program on it (stop getty or the display manager), and \
             the kiosk user in groups video, render and input (packaging/README.md). Slint said:"
        )
    } else {
        "cannot open the kiosk window: set DISPLAY for X11, or on a box without a desktop \
         run a build with the linuxkms feature and SLINT_BACKEND=linuxkms-software \
         (packaging/README.md). Slint said:"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linuxkms_request_to_a_build_without_it_is_refused_with_the_fix() {
        let err = check_backend("linuxkms-software", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("rebuild it with the default features"),
            "{err}"
        );
        assert!(check_backend("LinuxKMS", false).is_err());
        assert!(check_backend("linuxkms-software", true).is_ok());
        assert!(check_backend("winit", false).is_ok());
        assert!(check_backend("", false).is_ok());
    }

    #[test]
    fn the_failure_hint_names_what_the_backend_needs() {
        assert!(failure_hint("linuxkms-software").contains("/dev/dri"));
        assert!(failure_hint("").contains("DISPLAY"));
    }
}
