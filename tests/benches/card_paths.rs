//! Figures for the two card paths (run with `cargo bench -p mynakiosk-tests --bench card_paths`):
//!
//! * APDU count and bytes of the face path (select 券面AP, 照合番号B retries, VERIFY, read
//!   EF 0002) and the PIN path (select JPKI, read the certificate, retries, VERIFY, sign), with
//!   extended reads and with short reads only, on the simulator's `normal` profile;
//! * the time those bytes take on the air at 106 and 424 kbit/s (ISO 14443 Type B: 10 bits
//!   per byte, 3 bytes of PCB + CRC per frame, frames of at most 256 bytes; processing time in
//!   the card is not included);
//! * through the real pcscd + vpcd: the median APDU round trip (must stay under 20 ms, which
//!   shows the Nagle/delayed-ACK trap is avoided) and the median time of each path.

use std::time::{Duration, Instant};

use card_io::apdu::Command;
use card_io::mynumber::{MyNumberCard, Pin, PinB, VerifyOutcome};
use card_io::transport::{CardTransport, RawTransport, TransportError};
use card_sim::vpcd::VpcdCard;
use card_sim::{Profile, Quirks, SimTransport};
use mynakiosk_tests::pcscd::{self, connect_when_present, SLOT0_READER};

/// Bits per byte on the air (start bit, 8 data bits, stop bit).
const BITS_PER_BYTE: usize = 10;
/// Bytes per ISO 14443-4 I-block around the information field (PCB + CRC_B).
const FRAME_OVERHEAD: usize = 3;
/// Largest frame (FSC/FSD 256) minus the overhead.
const FRAME_PAYLOAD: usize = 256 - FRAME_OVERHEAD;
/// Round trips timed through pcscd.
const ROUND_TRIPS: usize = 200;
/// Runs of each path timed through pcscd.
const PATH_RUNS: usize = 10;
/// Median round trip that shows the Nagle/delayed-ACK trap is avoided (it costs 40–90 ms).
const MAX_MEDIAN_ROUND_TRIP: Duration = Duration::from_millis(20);

/// Counts APDUs and bytes both ways, and the bytes of each frame on the air.
struct Counting<T> {
    inner: T,
    apdus: usize,
    sent: usize,
    received: usize,
    air_bytes: usize,
}

impl<T> Counting<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            apdus: 0,
            sent: 0,
            received: 0,
            air_bytes: 0,
        }
    }
}

fn on_air(len: usize) -> usize {
    len + len.div_ceil(FRAME_PAYLOAD).max(1) * FRAME_OVERHEAD
}

impl<T: RawTransport> RawTransport for Counting<T> {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let answer = self.inner.transmit_raw(apdu)?;
        self.apdus += 1;
        self.sent += apdu.len();
        self.received += answer.len();
        self.air_bytes += on_air(apdu.len()) + on_air(answer.len());
        Ok(answer)
    }
}

fn pin_path<T: CardTransport>(card: &mut MyNumberCard<T>, pin: &Pin) {
    let mut jpki = card.jpki().expect("select JPKI");
    let certificate = jpki.user_auth_certificate().expect("certificate");
    jpki.pin_retries().expect("retries");
    assert_eq!(
        jpki.verify_pin(pin).expect("verify"),
        VerifyOutcome::Verified
    );
    jpki.prove_possession(&certificate).expect("signature");
}

fn face_path<T: CardTransport>(card: &mut MyNumberCard<T>, pin_b: &PinB) -> usize {
    let mut surface = card.surface().expect("select 券面AP");
    surface.pin_b_retries().expect("retries");
    assert_eq!(
        surface.verify_pin_b(pin_b).expect("verify"),
        VerifyOutcome::Verified
    );
    let record = surface.read_record().expect("card face");
    record.photo.as_ref().map_or(0, |p| p.len())
}

fn air_ms(bytes: usize, kbit_s: usize) -> f64 {
    (bytes * BITS_PER_BYTE) as f64 / kbit_s as f64
}

fn report(path: &str, reads: &str, counted: &Counting<SimTransport>) {
    println!(
        "{path:<10} {reads:<9} {:>3} APDUs  {:>5} B sent  {:>6} B received  {:>7.1} ms @106  {:>6.1} ms @424",
        counted.apdus,
        counted.sent,
        counted.received,
        air_ms(counted.air_bytes, 106),
        air_ms(counted.air_bytes, 424),
    );
}

fn count_paths(profile: &Profile) {
    let pin = Pin::new(profile.pin.as_deref().expect("profile PIN")).unwrap();
    let pin_b = PinB::new(&profile.pin_b).unwrap();
    for (reads, extended) in [("extended", true), ("short", false)] {
        let card = || {
            profile.card().with_quirks(Quirks {
                extended_length: extended,
                ..Quirks::default()
            })
        };
        let mut session = MyNumberCard::new(Counting::new(SimTransport::new(card())));
        pin_path(&mut session, &pin);
        report("PIN path", reads, &session.into_inner());
        let mut session = MyNumberCard::new(Counting::new(SimTransport::new(card())));
        let photo = face_path(&mut session, &pin_b);
        report("face path", reads, &session.into_inner());
        println!("           (photo {photo} bytes)");
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time_through_pcscd(profile: &Profile) {
    let _lock = pcscd::lock();
    let inserted = VpcdCard::insert(profile.card(), pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);
    let select = Command::select_ef(0x0006);
    let rtt = median(
        (0..ROUND_TRIPS)
            .map(|_| {
                let started = Instant::now();
                transport.transmit(&select).expect("APDU over pcscd");
                started.elapsed()
            })
            .collect(),
    );
    println!("pcscd+vpcd median APDU round trip: {rtt:?}");
    assert!(
        rtt < MAX_MEDIAN_ROUND_TRIP,
        "round trip {rtt:?}: Nagle/delayed ACK not avoided?"
    );
    let pin = Pin::new(profile.pin.as_deref().expect("profile PIN")).unwrap();
    let pin_b = PinB::new(&profile.pin_b).unwrap();
    let mut card = MyNumberCard::new(transport);
    let pin_times = (0..PATH_RUNS)
        .map(|_| {
            let started = Instant::now();
            pin_path(&mut card, &pin);
            started.elapsed()
        })
        .collect();
    let face_times = (0..PATH_RUNS)
        .map(|_| {
            let started = Instant::now();
            face_path(&mut card, &pin_b);
            started.elapsed()
        })
        .collect();
    println!(
        "pcscd+vpcd median PIN path: {:?}, face path: {:?} ({:?} reads)",
        median(pin_times),
        median(face_times),
        card.read_mode()
    );
    drop(card);
    inserted.remove().expect("remove");
}

fn main() {
    let profile = Profile::load("normal").expect("normal profile");
    count_paths(&profile);
    time_through_pcscd(&profile);
}
