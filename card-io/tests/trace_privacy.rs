//! The APDU trace of the whole PIN and face paths, captured at trace level, holds the commands
//! but no PIN, no 照合番号B, no My Number and none of the card-face data.

use std::io::Write;
use std::sync::{Arc, Mutex};

use card_io::mynumber::{MyNumberCard, Pin, PinB, VerifyOutcome};
use card_io::sim::{Profile, SimTransport};

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
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
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
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
