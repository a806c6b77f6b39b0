//! A full disk (a small tmpfs) under the audit log and the outbox: writes fail with a clear
//! error (an audit event as soon as its head cannot follow), leave no stump or temporary file behind, and once space is back the chain goes on
//! intact and results queue again. Mounting needs root (the suite's container runs as root).

use mynakiosk::audit::{verify, AuditEvent, AuditLog};
use mynakiosk::config::AuditConfig;
use mynakiosk::handoff::outbox::Outbox;
use mynakiosk::handoff::result::SessionId;
use mynakiosk_tests::binary;
use std::path::Path;

use crate::common::SmallDisk;

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_full_disk_fails_audit_writes_cleanly_and_the_chain_goes_on() {
    let disk = SmallDisk::mount(256);
    let config = AuditConfig {
        dir: disk.mount.join("audit"),
        max_file_bytes: 1 << 20,
    };
    let log = AuditLog::open(&config, "kiosk-7").unwrap();
    let session_id = SessionId::new();
    log.record(AuditEvent::SessionStarted { session_id })
        .unwrap();
    let filler = disk.fill();
    // The line would still fit in the file's last page, but the head naming it cannot be
    // written: the event is refused, every time, and its line cut back.
    for _ in 0..20 {
        let e = log
            .record(AuditEvent::SessionStarted { session_id })
            .expect_err("recorded on a full disk");
        assert!(e.to_string().contains("No space left"), "{e}");
    }
    assert!(
        leftovers(&config.dir).is_empty(),
        "{:?}",
        leftovers(&config.dir)
    );
    let v = verify(std::slice::from_ref(&config.dir)).expect("intact while full");
    assert_eq!((v.last_seq, v.head_lag), (1, 0), "{v:?}");
    std::fs::remove_file(filler).unwrap();
    log.record(AuditEvent::SessionStarted { session_id })
        .unwrap();
    let after = verify(std::slice::from_ref(&config.dir)).expect("intact after space is back");
    assert_eq!((after.last_seq, after.head_lag), (2, 0), "{after:?}");
    drop(log);
    // Reopening continues the same chain.
    AuditLog::open(&config, "kiosk-7").unwrap();
}

#[test]
fn a_full_disk_refuses_a_result_without_leaving_a_partial_one() {
    let disk = SmallDisk::mount(256);
    let outbox_dir = disk.mount.join("outbox");
    let cfg = disk.mount.join("mynakiosk.toml");
    std::fs::write(
        &cfg,
        format!("kiosk_id = \"k\"\n[handoff]\nsink = \"none\"\noutbox_dir = {outbox_dir:?}\n"),
    )
    .unwrap();
    let send_test = || {
        binary::command()
            .arg("--config")
            .arg(&cfg)
            .args(["outbox", "send-test"])
            .output()
            .unwrap()
    };
    assert!(send_test().status.success());
    let filler = disk.fill();
    let out = send_test();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No space left") && err.contains("outbox"),
        "{err}"
    );
    let pending = outbox_dir.join("pending");
    assert!(leftovers(&pending).is_empty(), "{:?}", leftovers(&pending));
    let outbox = Outbox::open(&outbox_dir).unwrap();
    assert_eq!(outbox.counts().unwrap(), (1, 0));
    std::fs::remove_file(filler).unwrap();
    assert!(send_test().status.success());
    assert_eq!(outbox.counts().unwrap(), (2, 0));
}
