//! Recovery of the card monitor and of card reads when pcscd crashes and restarts, and when a
//! reader is gone after the restart, against a private pcscd (see
//! [`mynakiosk_tests::private_pcscd`]): the machine's pcscd is not touched.
//!
//! The monitor and the reads run in `monitor-probe`, a child process pointed at the private
//! daemon with `PCSCLITE_CSOCK_NAME`. Needs root (for the private daemon's mount namespace),
//! pcscd and vsmartcard-vpcd; fails, not skips, without them.

use std::process::Command;
use std::time::Duration;

use card_sim::VirtualCard;
use mynakiosk_tests::binary::Running;
use mynakiosk_tests::private_pcscd::{PrivatePcscd, VpcdReader, OTHER, PRIVATE};

/// Bound on each wait; reconnection backs off up to 2 s and vpcd polls about every 400 ms.
const WAIT: Duration = Duration::from_secs(15);

/// `monitor-probe` talking to `pcscd`.
fn probe(pcscd: &PrivatePcscd) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_monitor-probe"));
    cmd.env("PCSCLITE_CSOCK_NAME", pcscd.socket());
    Running::spawn_with_input(cmd)
}

fn added(reader: &VpcdReader, slot: u8) -> String {
    format!("event ReaderAdded(\"{} 00 {slot:02}\")", reader.name)
}

/// Inserts a My Number card in slot 0 and returns the certificate serial the probe read.
fn insert_and_read(probe: &mut Running, reader: &VpcdReader) -> (String, card_sim::vpcd::VpcdCard) {
    let card = reader.insert(VirtualCard::my_number());
    let slot0 = reader.slot0();
    probe.wait_for_line(&format!("event CardInserted {{ reader: {slot0:?} }}"), WAIT);
    let read = probe.wait_for_line(&format!("read {slot0}: "), WAIT);
    let serial = read
        .strip_prefix(&format!("read {slot0}: ok "))
        .unwrap_or_else(|| panic!("the card did not read: {read}"));
    (serial.to_owned(), card)
}

#[test]
fn after_a_pcscd_crash_the_monitor_reports_it_and_the_card_reads_again() {
    let mut pcscd = PrivatePcscd::start(PRIVATE);
    let mut probe = probe(&pcscd);
    probe.wait_for_line(&added(&PRIVATE, 0), WAIT);
    let (before, _card) = insert_and_read(&mut probe, &PRIVATE);

    pcscd.kill();
    probe.wait_for_line("event ServiceLost", WAIT);
    pcscd.restart(PRIVATE);
    let lines = probe.lines_until(&added(&PRIVATE, 0), WAIT);
    assert!(
        lines.iter().any(|l| l == "event ServiceRestored"),
        "no ServiceRestored before the reader came back: {lines:?}"
    );

    let (after, _card) = insert_and_read(&mut probe, &PRIVATE);
    assert_eq!(after, before);
}

#[test]
fn a_reader_gone_after_a_pcscd_restart_is_not_added_and_reading_it_fails_typed() {
    let mut pcscd = PrivatePcscd::start(PRIVATE);
    let mut probe = probe(&pcscd);
    probe.wait_for_line(&added(&PRIVATE, 1), WAIT);

    // pcscd drops reader.conf readers only by restarting without them.
    pcscd.restart(OTHER);
    probe.wait_for_line("event ServiceLost", WAIT);
    let lines = probe.lines_until(&added(&OTHER, 1), WAIT);
    assert!(
        lines.iter().any(|l| l == "event ServiceRestored"),
        "{lines:?}"
    );
    assert!(lines.contains(&added(&OTHER, 0)), "{lines:?}");
    assert!(
        lines.iter().all(|l| !l.contains(PRIVATE.name)),
        "the gone reader was reported again: {lines:?}"
    );

    let gone = PRIVATE.slot0();
    probe.send_line(&format!("read {gone}"));
    let read = probe.wait_for_line(&format!("read {gone}: "), WAIT);
    assert_eq!(
        read,
        format!("read {gone}: error Transport(ReaderUnavailable)")
    );

    // The reader that is there reads.
    insert_and_read(&mut probe, &OTHER);
}
