//! `monitor-probe`: the card monitor and a card read, in a process of their own, so a test can
//! point them at a private pcscd (`PCSCLITE_CSOCK_NAME`) and crash or restart that pcscd.
//!
//! Prints one line per event on standard error (`event <CardEvent>`), reads the user
//! authentication certificate of every inserted card (`read <reader>: ok <serial>` or
//! `read <reader>: error <typed error>`), and reads a reader named on standard input
//! (`read <reader>` lines) the same way.

use std::io::BufRead;
use std::sync::mpsc;
use std::thread;

use card_io::certificate::CertificateSummary;
use card_io::monitor::{CardEvent, CardMonitor, ReaderFilter};
use card_io::mynumber::{CardError, MyNumberCard};
use card_io::pcsc_transport::PcscTransport;

enum Input {
    Event(CardEvent),
    Read(String),
}

fn main() {
    let (tx, inputs) = mpsc::channel();
    let events = tx.clone();
    let _monitor = CardMonitor::spawn(ReaderFilter::Any, move |event| {
        let _ = events.send(Input::Event(event));
    })
    .unwrap_or_else(|err| panic!("{err}"));
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if let Some(reader) = line.strip_prefix("read ") {
                let _ = tx.send(Input::Read(reader.to_owned()));
            }
        }
    });
    for input in inputs {
        match input {
            Input::Event(event) => {
                eprintln!("event {event:?}");
                if let CardEvent::CardInserted { reader } = event {
                    report_read(&reader);
                }
            }
            Input::Read(reader) => report_read(&reader),
        }
    }
}

fn report_read(reader: &str) {
    match read_certificate(reader) {
        Ok(serial) => eprintln!("read {reader}: ok {serial}"),
        Err(err) => eprintln!("read {reader}: error {err:?}"),
    }
}

/// Serial number of the card's user-authentication certificate, in one PC/SC transaction.
fn read_certificate(reader: &str) -> Result<String, CardError> {
    let mut connection = PcscTransport::connect(reader)?;
    let mut card = MyNumberCard::new(connection.transaction()?);
    let der = card.jpki()?.user_auth_certificate()?;
    Ok(CertificateSummary::of(&der).map_or_else(|| "unparsable".into(), |c| c.serial))
}
