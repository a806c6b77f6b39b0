//! The state folder stays the service user's: a check (`diagnose`, `outbox status`,
//! `audit-verify`) creates nothing, and the package's tmpfiles.d entry — applied at install, at
//! boot and before each start — hands back anything someone else (root via sudo) made there.

use mynakiosk_tests::binary;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging")
        .join(name)
}

/// Every path under `dir`, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            paths.extend(tree(&path));
        }
        paths.push(path);
    }
    paths.sort();
    paths
}

#[test]
fn checks_create_no_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = dir.path().join("mynakiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_id = \"k\"\n[handoff]\nsink = \"file\"\ndrop_dir = {:?}\noutbox_dir = {:?}\n\
             [audit]\ndir = {:?}\n",
            state.join("drop"),
            state.join("outbox"),
            state.join("audit")
        ),
    )
    .unwrap();
    let before = tree(dir.path());
    for args in [
        &["diagnose"][..],
        &["outbox", "status"],
        &["audit-verify", state.join("audit").to_str().unwrap()],
    ] {
        let out = binary::command()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            tree(dir.path()),
            before,
            "{args:?} created state: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn tmpfiles_hands_everything_under_the_state_folder_back_to_the_service_user() {
    assert_eq!(
        std::fs::metadata("/proc/self").unwrap().uid(),
        0,
        "this test chowns files: run it as root (the suite's container does)"
    );
    let unit = std::fs::read_to_string(packaging("mynakiosk.service")).unwrap();
    assert!(
        unit.contains("ExecStartPre=+/usr/bin/systemd-tmpfiles --create mynakiosk.conf"),
        "the unit repairs ownership before each start"
    );
    let postinst = std::fs::read_to_string(packaging("debian/postinst")).unwrap();
    assert!(postinst.contains("systemd-tmpfiles --create mynakiosk.conf"));

    // A root with the service user, the package's tmpfiles.d entry, and what `sudo mynakiosk
    // diagnose` made before this fix: root-owned outbox folders and a root-owned file.
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nmynakiosk:x:4711:4711::/var/lib/mynakiosk:/usr/sbin/nologin\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\nmynakiosk:x:4711:\n").unwrap();
    let conf = r.join("usr/lib/tmpfiles.d/mynakiosk.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::copy(packaging("debian/tmpfiles.conf"), &conf).unwrap();
    let state = r.join("var/lib/mynakiosk");
    std::fs::create_dir_all(state.join("outbox/pending")).unwrap();
    std::fs::create_dir_all(state.join("outbox/rejected")).unwrap();
    std::fs::write(state.join("outbox/pending/x.json"), "{}").unwrap();
    std::os::unix::fs::chown(&state, Some(4711), Some(4711)).unwrap();

    let out = Command::new("systemd-tmpfiles")
        .arg("--create")
        .arg(format!("--root={}", r.display()))
        .arg("mynakiosk.conf")
        .output()
        .expect("systemd-tmpfiles (package systemd)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut checked = 0;
    for path in tree(&state).into_iter().chain([state.clone()]) {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4711, 4711), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 6, "{checked}");
    assert!(state.join("audit").is_dir());
}
