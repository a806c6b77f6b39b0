//! End to end through the real pcscd and vsmartcard's vpcd: the virtual card is inserted in
//! slot 0, seen by the monitor, read over PC/SC and removed.
//!
//! Needs a running pcscd (scripts/test.sh starts one); fails, not skips, without it.

use std::time::{Duration, Instant};

use card_io::apdu::Command;
use card_io::monitor::{CardEvent, ReaderFilter};
use card_io::mynumber::{detect, CardKind};
use card_io::transport::{CardTransport, TransportError};
use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;
use mynakiosk_tests::pcscd::{self, connect_when_present, EventProbe, SLOT0_READER};

/// APDUs sent back to back over pcscd (timing figures are in `benches/card_paths.rs`).
const ROUND_TRIPS: usize = 50;

fn inserted() -> CardEvent {
    CardEvent::CardInserted {
        reader: SLOT0_READER.into(),
    }
}

fn removed() -> CardEvent {
    CardEvent::CardRemoved {
        reader: SLOT0_READER.into(),
    }
}

/// Sends `cmd` [`ROUND_TRIPS`] times; every answer must be `9000`.
fn round_trips(t: &mut dyn CardTransport, cmd: &Command) {
    for _ in 0..ROUND_TRIPS {
        let response = t.transmit(cmd).expect("APDU over pcscd");
        assert!(response.sw().is_ok(), "{response:?}");
    }
}

#[test]
fn my_number_card_is_seen_detected_and_removed() {
    let _lock = pcscd::lock();
    let probe = EventProbe::watch(ReaderFilter::Exact(SLOT0_READER.into()));
    probe.wait_for(&CardEvent::ReaderAdded(SLOT0_READER.into()));

    let insert_started = Instant::now();
    let card = VpcdCard::insert(VirtualCard::my_number(), pcscd::slot0_addr()).expect("insert");
    let insert_seen = probe.wait_for(&inserted());
    eprintln!("insert → CardInserted: {:?}", insert_seen - insert_started);

    let mut transport = connect_when_present(SLOT0_READER);
    assert_eq!(detect(&mut transport), Ok(CardKind::MyNumberCard));
    round_trips(&mut transport, &Command::select_ef(0x0006));

    let remove_started = Instant::now();
    card.remove().expect("remove");
    let remove_seen = probe.wait_for(&removed());
    eprintln!("remove → CardRemoved: {:?}", remove_seen - remove_started);

    assert_eq!(
        transport.transmit(&Command::select_ef(0x0006)),
        Err(TransportError::CardRemoved)
    );
    let stop_took = probe.stop();
    assert!(
        stop_took < Duration::from_secs(1),
        "monitor stop took {stop_took:?}"
    );
}

#[test]
fn card_present_at_start_is_reported_and_other_cards_are_rejected() {
    let _lock = pcscd::lock();
    let card = VpcdCard::insert(VirtualCard::not_my_number(), pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);

    let probe = EventProbe::watch(ReaderFilter::Contains("PCD 00 00".into()));
    probe.wait_for(&inserted());
    assert_eq!(detect(&mut transport), Ok(CardKind::NotMyNumberCard));

    card.remove().expect("remove");
    probe.wait_for(&removed());
}

#[test]
fn juki_card_is_told_apart() {
    let _lock = pcscd::lock();
    let card = VpcdCard::insert(VirtualCard::juki(), pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);
    assert_eq!(detect(&mut transport), Ok(CardKind::JukiCard));
    drop(transport);
    card.remove().expect("remove");
}
