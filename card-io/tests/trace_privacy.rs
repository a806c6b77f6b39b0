//! The APDU trace, captured at trace level, holds the commands but no PIN, no 照合番号B, no My
//! Number and none of the card-face data.

use std::io::Write;
use std::sync::{Arc, Mutex};

use card_io::apdu::Command;
use card_io::mynumber::{MyNumberCard, Pin, PinB, VerifyOutcome};
use card_io::transport::{CardTransport, RawTransport, TransportError};
use card_sim::{Profile, SimTransport};

/// Everything a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `run` logs at trace level, as text, without timestamps (whose microseconds may hold a
/// PIN's digits by chance: the test failed so once, "1234 in the trace").
fn trace_of(run: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_trace_of_both_paths_holds_no_secret() {
    let profile = Profile::load("normal").unwrap();
    let pin = profile.pin.clone().unwrap();
    let log = trace_of(|| {
        let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
        let mut jpki = card.jpki().unwrap();
        let cert = jpki.user_auth_certificate().unwrap();
        let pin = Pin::new(&pin).unwrap();
        assert_eq!(jpki.verify_pin(&pin).unwrap(), VerifyOutcome::Verified);
        jpki.prove_possession(&cert).unwrap();
        let mut surface = card.surface().unwrap();
        let pin_b = PinB::new(&profile.pin_b).unwrap();
        assert_eq!(
            surface.verify_pin_b(&pin_b).unwrap(),
            VerifyOutcome::Verified
        );
        surface.read_record().unwrap();
    });
    assert!(log.matches("APDU").count() >= 10, "{log}");
    assert!(log.contains("00 20 00 98 Lc=4 [redacted]"), "{log}");
    assert!(log.contains("00 20 00 92 Lc=14 [redacted]"), "{log}");
    let holder = profile.holder.as_ref().unwrap();
    for secret in [
        &pin,
        &profile.pin_b,
        &holder.my_number,
        &"19800217".to_owned(),
    ] {
        assert!(!log.contains(secret.as_str()), "{secret} in the trace");
        assert!(
            !log.contains(&hex(secret.as_bytes())),
            "{secret} (hex) in the trace"
        );
    }
}

/// Answers every command with its own data.
struct Echo;

impl RawTransport for Echo {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut answer = apdu[5..].to_vec();
        answer.extend_from_slice(&[0x90, 0x00]);
        Ok(answer)
    }
}

#[test]
fn the_trace_of_a_verify_never_holds_the_pin_or_pin_b() {
    let log = trace_of(|| {
        let mut t = Echo;
        for secret in [&b"4321"[..], b"55021720352285"] {
            t.transmit(&Command::verify(0x80, secret).unwrap()).unwrap();
        }
    });
    assert_eq!(log.matches("APDU").count(), 2, "{log}");
    assert!(log.contains("00 20 00 80 Lc=4 [redacted]"), "{log}");
    for leak in [
        "4321",
        "34 33 32 31",
        "34333231",
        "5502172035",
        "35 35 30 32",
    ] {
        assert!(!log.contains(leak), "{leak} in {log}");
    }
}
