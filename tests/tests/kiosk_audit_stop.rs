//! E024 on the kiosk binary: `mynakiosk demo` in a real X window with its audit log on a small
//! tmpfs. Filled, the log cannot take the next session's first record: the kiosk shows E024 and
//! takes no card; once there is space again, a retry writes the log (its E024 record first) and
//! the kiosk takes cards again. The chain stays intact and nothing was queued meanwhile.

use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;
use mynakiosk_tests::binary::{self, Running};
use mynakiosk_tests::pcscd;
use std::time::Duration;

use crate::common::SmallDisk;

/// vpcd's polling, pcscd and the kiosk's start-up; the audit retry runs every 10 s.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(30);

fn insert() -> VpcdCard {
    VpcdCard::insert(VirtualCard::my_number(), pcscd::slot0_addr()).expect("vpcd")
}

#[test]
fn a_full_audit_disk_stops_the_kiosk_with_e024_until_the_log_takes_records_again() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: run the tests with scripts/test.sh (it starts Xvfb)"
    );
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(256);
    let audit = disk.mount.join("log/audit");
    let config = dir.path().join("demo.toml");
    std::fs::write(
        &config,
        format!(
            "[handoff]\nsink = \"none\"\noutbox_dir = \"{}/outbox\"\n[audit]\ndir = \"{}\"\n\
             [voice]\nenabled = false\n",
            dir.path().display(),
            audit.display()
        ),
    )
    .unwrap();
    let mut cmd = binary::command();
    cmd.arg("--config").arg(&config).arg("demo");
    let mut kiosk = Running::spawn(cmd);
    kiosk.wait_for_line("kiosk starting", SCREEN_TIMEOUT);

    // A session while the disk has room.
    let card = insert();
    kiosk.wait_for_line("screen=MethodChoice", SCREEN_TIMEOUT);
    card.remove().unwrap();
    kiosk.wait_for_line("screen=Waiting", SCREEN_TIMEOUT);

    // Full: the next card's session cannot be recorded, so it is not started.
    let filler = disk.fill();
    let card = insert();
    let line = kiosk.wait_for_line("error shown", SCREEN_TIMEOUT);
    assert!(line.contains("code=\"E024\""), "{line}");
    card.remove().unwrap();
    let card = insert();
    let lines = kiosk.lines_for(Duration::from_secs(3));
    assert!(
        !lines.iter().any(|l| l.contains("screen=")),
        "a card taken while the log is unwritable: {lines:?}"
    );
    card.remove().unwrap();
    let still_full = mynakiosk::audit::verify(std::slice::from_ref(&audit))
        .expect("the chain intact while the disk is full");

    // Space again: the retry writes the E024 record and the kiosk takes cards.
    std::fs::remove_file(filler).unwrap();
    kiosk.wait_for_line("screen=Waiting", SCREEN_TIMEOUT);
    let card = insert();
    kiosk.wait_for_line("screen=MethodChoice", SCREEN_TIMEOUT);
    card.remove().unwrap();
    kiosk.wait_for_line("screen=Waiting", SCREEN_TIMEOUT);
    drop(kiosk);

    let after = mynakiosk::audit::verify(std::slice::from_ref(&audit)).expect("the chain");
    assert_eq!(after.head_lag, 0, "{after}");
    let text = std::fs::read_to_string(audit.join("audit.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| e["seq"].as_u64() > Some(still_full.last_seq))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["error_shown", "session_started", "session_ended"],
        "after the stop: {events:?}"
    );
    assert_eq!(events[0]["code"], "E024", "{events:?}");
    let started = text.matches("\"session_started\"").count();
    assert_eq!(
        started, 2,
        "sessions recorded: the one before and the one after"
    );
    let pending = dir.path().join("outbox/pending");
    assert_eq!(
        std::fs::read_dir(&pending).map_or(0, |d| d.count()),
        0,
        "nothing queued"
    );
}
