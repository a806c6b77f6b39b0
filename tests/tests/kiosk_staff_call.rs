//! 係員を呼ぶ reaches the reception system: the real kiosk runtime (real pcscd with the virtual
//! card in vpcd, the real window on the headless backend) queues a `staff_call` in the outbox,
//! and the receiver (`mynakiosk qual-sim`, a SIMULATOR, over HTTP) gets it exactly once, with
//! the screen and the tries left and nothing about the patient.

use crate::common;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{insert, remove, Driver, POLL, TIMEOUT};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::binary::{self, Running};
use mynakiosk_tests::pcscd;
use serde_json::Value;

/// The receiver's JSON-lines file of what it kept, one line per idempotency key.
static RECEIVED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// The receiver's port.
static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// How many deliveries the receiver answered, new or repeated.
fn attempts() -> u64 {
    let url = format!("http://127.0.0.1:{}/results", PORT.get().unwrap());
    let text = ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["attempts"]
        .as_u64()
        .unwrap()
}

fn received() -> Vec<Value> {
    std::fs::read_to_string(RECEIVED.get().unwrap())
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_staff_call_reaches_the_receiver_exactly_once() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = common::free_port();
    PORT.set(port).unwrap();
    let data = d.join("sim.toml");
    std::fs::write(&data, "").unwrap();
    RECEIVED.set(d.join("received.jsonl")).unwrap();
    let mut cmd = binary::command();
    cmd.arg("qual-sim")
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--received")
        .arg(RECEIVED.get().unwrap());
    let mut sim = Running::spawn(cmd);
    sim.wait_for_line("listening on http://", TIMEOUT);
    let sink = format!("sink = \"http\"\nhttp_url = \"http://127.0.0.1:{port}/results\"");
    let extra = format!("[demo]\nvpcd_port = {}\n", pcscd::SLOT0_PORT);
    let config = common::config_with_sink(d, &sink, &extra);
    common::run_kiosk(&config, Mode::demo(), d, scenario);
    let outbox = std::fs::read_dir(d.join("outbox/pending")).unwrap().count();
    assert_eq!(
        outbox, 0,
        "the staff call left the outbox once acknowledged"
    );
}

fn scenario(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let card = insert("pin-locked");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("TopBar::call-staff");
    d.wait_for(ui::Screen::StaffLogin);
    let deadline = Instant::now() + TIMEOUT;
    while received().is_empty() {
        assert!(Instant::now() < deadline, "no staff call received");
        std::thread::sleep(POLL);
    }
    // Give a duplicate time to arrive: the courier retries only what was not acknowledged.
    std::thread::sleep(Duration::from_millis(500));
    let calls = received();
    assert_eq!(calls.len(), 1, "exactly one staff call: {calls:?}");
    assert_eq!(attempts(), 1, "delivered once, not repeated");
    let call = &calls[0];
    assert_eq!(call["event"], "staff_call");
    assert_eq!(call["kiosk_id"], "e2e-test");
    assert_eq!(call["screen"], "MethodChoice");
    assert_eq!(call["pin_retries_left"], 0);
    // The method choice shows no error; the call says why this patient is there (E009: the
    // card's PIN is locked).
    assert_eq!(call["error_code"], Value::Null);
    assert_eq!(call["earlier_error_code"], "E009");
    let mut fields: Vec<&str> = call
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "called_at",
            "cause",
            "earlier_error_code",
            "error_code",
            "event",
            "face_attempts_left",
            "idempotency_key",
            "kiosk_id",
            "pin_retries_left",
            "schema_version",
            "screen"
        ],
        "nothing about the patient"
    );
    remove(d, card);
    assert!(
        d.delivered().is_empty(),
        "no result for a session without one"
    );
}
