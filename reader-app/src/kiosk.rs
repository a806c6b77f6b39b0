//! The running kiosk: the Slint window, the card monitor and the session thread.
//!
//! Card and UI events flow into one channel; the session thread owns [`Session`],
//! carries out its effects (card reads) and pushes screens to the UI thread.

use crate::config::Config;
use crate::errors::KioskError;
use crate::session::{Effect, Event, Screen, Session};
use card_io::monitor::{CardEvent, CardMonitor, ReaderFilter};
use card_io::mynumber::{self, CardKind};
use card_io::pcsc_transport::PcscTransport;
use card_io::transport::TransportError;
use slint::ComponentHandle;
use std::sync::mpsc;

/// Whether the kiosk drives a real reader only, or also offers the virtual card controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Demo,
}

/// Runs the kiosk until its window is closed.
pub fn run(config: &Config, mode: Mode) -> anyhow::Result<()> {
    let window = ui::KioskWindow::new()?;
    window.set_demo_mode(mode == Mode::Demo);

    let reader_filter = match mode {
        Mode::Demo => ReaderFilter::Exact(crate::demo::reader_name(config.demo.vpcd_port)),
        Mode::Production if config.reader.name.is_empty() => ReaderFilter::Any,
        Mode::Production => ReaderFilter::Contains(config.reader.name.clone()),
    };
    let _demo_card =
        (mode == Mode::Demo).then(|| crate::demo::attach(&window, config.demo.vpcd_port));
    window.set_reader_status(reader_status(&reader_filter).into());
    window.on_call_staff(|| tracing::warn!("patient pressed call-staff"));

    let (tx, rx) = mpsc::channel();
    tracing::info!(kiosk_id = %config.kiosk_id, reader = ?reader_filter, "kiosk starting");
    let monitor = CardMonitor::spawn(reader_filter, move |event| {
        // The session thread is gone only while the kiosk shuts down.
        let _ = tx.send(session_event(event));
    })?;

    let view = window.as_weak();
    let session = std::thread::Builder::new()
        .name("session".into())
        .spawn(move || session_loop(&rx, &view))?;
    window.run()?;
    drop(monitor);
    let _ = session.join();
    Ok(())
}

/// The reader line at the bottom of the screen.
fn reader_status(filter: &ReaderFilter) -> String {
    match filter {
        ReaderFilter::Any => "カードリーダー: すべて".into(),
        ReaderFilter::Contains(name) | ReaderFilter::Exact(name) => {
            format!("カードリーダー: {name}")
        }
    }
}

/// Turns a card monitor event into a session event.
fn session_event(event: CardEvent) -> Event {
    match event {
        CardEvent::ReaderAdded(reader) => Event::ReaderAdded { reader },
        CardEvent::ReaderRemoved(reader) => Event::ReaderRemoved { reader },
        CardEvent::CardInserted { reader } => Event::CardInserted { reader },
        CardEvent::CardRemoved { reader } => Event::CardRemoved { reader },
        CardEvent::ServiceLost => Event::ServiceLost,
    }
}

/// Feeds events into the session until every sender is gone.
fn session_loop(rx: &mpsc::Receiver<Event>, view: &slint::Weak<ui::KioskWindow>) {
    let mut session = Session::default();
    let mut pending = Vec::new();
    while let Ok(event) = rx.recv() {
        tracing::debug!(?event, "session event");
        pending.push(event);
        while let Some(event) = pending.pop() {
            for effect in session.handle(event) {
                match effect {
                    Effect::Show(screen) => show(view, screen),
                    Effect::ReadCard { reader } => {
                        pending.push(Event::CardRead(read_card(&reader)))
                    }
                }
            }
        }
    }
}

/// Identifies the card in `reader`.
fn read_card(reader: &str) -> Result<(), KioskError> {
    let mut card = PcscTransport::connect(reader).map_err(transport_error)?;
    match mynumber::detect(&mut card) {
        Ok(CardKind::MyNumberCard) => Ok(()),
        Ok(kind) => {
            tracing::info!(?kind, "not a My Number card");
            Err(KioskError::NotMyNumberCard)
        }
        Err(e) => {
            tracing::warn!(error = %e, "card read failed");
            Err(KioskError::CardNotRecognised)
        }
    }
}

fn transport_error(e: TransportError) -> KioskError {
    tracing::warn!(error = %e, "cannot connect to the card");
    match e {
        TransportError::CardRemoved => KioskError::CardRemoved,
        TransportError::NoService => KioskError::PcscdDown,
        TransportError::ReaderUnavailable => KioskError::ReaderMissing,
        _ => KioskError::CardNotRecognised,
    }
}

/// Shows `screen` on the UI thread; errors are logged with their staff cause.
fn show(view: &slint::Weak<ui::KioskWindow>, screen: Screen) {
    if let Screen::Error(e) = screen {
        let text = e.text();
        tracing::warn!(code = text.code, cause = text.staff, "error shown");
    } else {
        tracing::info!(?screen, "screen shown");
    }
    let view = view.clone();
    let _ = slint::invoke_from_event_loop(move || {
        let Some(window) = view.upgrade() else { return };
        match screen {
            Screen::Waiting => window.set_screen(ui::Screen::Waiting),
            Screen::Reading => window.set_screen(ui::Screen::Reading),
            Screen::CardRead => window.set_screen(ui::Screen::CardRead),
            Screen::Error(e) => {
                let text = e.text();
                window.set_error_message(format!("{}\n（{}）", text.patient, text.code).into());
                window.set_screen(ui::Screen::Error);
            }
        }
    });
}
