//! The kiosk binary end to end: `mynakiosk demo` in a real X window (Xvfb from
//! scripts/test.sh), the virtual card plugged into vpcd, the real pcscd between them.

use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;
use mynakiosk_tests::binary::{self, Running};
use mynakiosk_tests::pcscd;
use std::time::Duration;

/// Covers vpcd's ~400 ms polling, pcscd and the kiosk's own start-up.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(15);

#[test]
fn demo_kiosk_follows_the_virtual_card() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: run the tests with scripts/test.sh (it starts Xvfb)"
    );
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("demo.toml");
    std::fs::write(
        &config,
        format!(
            "[handoff]\nsink = \"none\"\noutbox_dir = \"{0}/outbox\"\n[audit]\ndir = \"{0}/audit\"\n[voice]\nenabled = false\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let mut cmd = binary::command();
    cmd.arg("--config").arg(&config).arg("demo");
    let mut kiosk = Running::spawn(cmd);
    kiosk.wait_for_line("kiosk starting", SCREEN_TIMEOUT);

    let card = VpcdCard::insert(VirtualCard::my_number(), pcscd::slot0_addr()).expect("vpcd");
    kiosk.wait_for_line("screen=Reading", SCREEN_TIMEOUT);
    kiosk.wait_for_line("screen=MethodChoice", SCREEN_TIMEOUT);
    card.remove().expect("remove card");
    kiosk.wait_for_line("screen=Waiting", SCREEN_TIMEOUT);

    let other = VpcdCard::insert(VirtualCard::not_my_number(), pcscd::slot0_addr()).expect("vpcd");
    let line = kiosk.wait_for_line("error shown", SCREEN_TIMEOUT);
    assert!(line.contains("code=\"E002\""), "{line}");
    other.remove().expect("remove card");
    kiosk.wait_for_line("screen=Waiting", SCREEN_TIMEOUT);
}
