//! The kiosk runtime end to end on the real card path: the real pcscd with the virtual card
//! (a simulator profile) in vpcd, the real card, hand-off and audit ports, and the real Slint
//! window on the headless testing backend with an event loop. Touches are clicks on the real
//! buttons; results are read back from the file-drop sink and the audit log.
//!
//! The event-loop backend can be set up once per process, so this file holds one test that
//! walks through the scenarios on one running kiosk.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use card_io::certificate::CertificateSummary;
use card_io::sim::vpcd::VpcdCard;
use card_io::sim::Profile;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use mynakiosk::config::Config;
use mynakiosk::kiosk::{self, Mode};
use mynakiosk_tests::pcscd;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::Value;
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, LogicalSize};

/// Covers vpcd's ~400 ms polling, pcscd and the card work of a step.
const TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(20);

/// Drives the running kiosk from the test thread.
struct Driver {
    window: slint::Weak<ui::KioskWindow>,
    drop_dir: PathBuf,
    audit_dir: PathBuf,
}

impl Driver {
    /// Runs `f` on the UI thread and returns its answer.
    fn on_ui<R: Send + 'static>(
        &self,
        f: impl FnOnce(&ui::KioskWindow) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = mpsc::channel();
        let weak = self.window.clone();
        slint::invoke_from_event_loop(move || {
            if let Some(w) = weak.upgrade() {
                let _ = tx.send(f(&w));
            }
        })
        .expect("the kiosk's event loop runs");
        rx.recv_timeout(TIMEOUT).expect("the UI thread answered")
    }

    fn screen(&self) -> ui::Screen {
        self.on_ui(|w| w.get_screen())
    }

    fn wait_for(&self, screen: ui::Screen) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let now = self.screen();
            if now == screen {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {screen:?}, still {now:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Clicks the element `id`; false if it is not shown.
    fn try_click(&self, id: &'static str) -> bool {
        self.on_ui(move |w| {
            ElementHandle::find_by_element_id(w, id)
                .next()
                .map(|e| e.mock_single_click(PointerEventButton::Left))
                .is_some()
        })
    }

    fn click(&self, id: &'static str) {
        assert!(
            self.try_click(id),
            "{id} is not shown on {:?}",
            self.screen()
        );
    }

    fn shown(&self, id: &'static str) -> bool {
        self.on_ui(move |w| ElementHandle::find_by_element_id(w, id).next().is_some())
    }

    fn label(&self, id: &'static str) -> String {
        self.on_ui(move |w| {
            ElementHandle::find_by_element_id(w, id)
                .next()
                .and_then(|e| e.accessible_label())
                .map(|l| l.to_string())
        })
        .unwrap_or_else(|| panic!("{id} is not shown on {:?}", self.screen()))
    }

    /// Types `pin` on the pad and submits it.
    fn enter_pin(&self, pin: &str) {
        self.wait_for(ui::Screen::PinEntry);
        for d in pin.chars() {
            let label = d.to_string();
            let pressed = self.on_ui(move |w| {
                ElementHandle::find_by_accessible_label(w, &label)
                    .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                    .map(|e| e.mock_single_click(PointerEventButton::Left))
                    .is_some()
            });
            assert!(pressed, "no key {d}");
        }
        let deadline = Instant::now() + TIMEOUT;
        while self.on_ui(|w| w.get_digits_entered()) != pin.len() as i32 {
            assert!(Instant::now() < deadline, "the pad did not take {pin:?}");
            std::thread::sleep(POLL);
        }
        self.click("DigitPad::submit");
    }

    /// 包括同意, confirm, and wait for the reception's answer.
    fn consent_all(&self) {
        self.wait_for(ui::Screen::ConsentChoice);
        self.click("ConsentChoiceScreen::all");
        self.wait_for(ui::Screen::ConsentSummary);
        self.click("ConsentSummaryScreen::confirm");
        self.wait_for(ui::Screen::Result);
    }

    fn error_code(&self) -> String {
        self.on_ui(|w| w.get_error_code().to_string())
    }

    /// Results the file-drop sink received so far.
    fn delivered(&self) -> Vec<Value> {
        json_files(&self.drop_dir)
    }

    /// Waits until the sink holds `n` results and returns the last one.
    fn wait_for_delivery(&self, n: usize) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let results = self.delivered();
            if results.len() >= n {
                assert_eq!(results.len(), n, "one result per verified session");
                return results.into_iter().last().unwrap();
            }
            assert!(Instant::now() < deadline, "no result delivered");
            std::thread::sleep(POLL);
        }
    }

    fn audit_text(&self) -> String {
        std::fs::read_to_string(self.audit_dir.join("audit.jsonl")).unwrap_or_default()
    }
}

/// The JSON files of `dir`, oldest name first (names are not ordered; sort by content time).
fn json_files(dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut results: Vec<Value> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    results.sort_by_key(|r| r["created_at"].as_str().unwrap_or_default().to_owned());
    results
}

/// A virtual card of `profile` in vpcd slot 0.
fn insert(profile: &str) -> VpcdCard {
    let card = Profile::load(profile).expect("profile").card();
    VpcdCard::insert(card, pcscd::slot0_addr()).expect("vpcd slot 0")
}

/// Takes the card out and waits until the kiosk is back at 待機.
fn remove(d: &Driver, card: VpcdCard) {
    card.remove().expect("remove card");
    d.wait_for(ui::Screen::Waiting);
    // Let pcscd settle before the next insertion (vpcd polls every ~400 ms).
    std::thread::sleep(Duration::from_millis(600));
}

fn serial_of(profile: &str) -> String {
    let der = Profile::load(profile).unwrap().certificate.unwrap();
    CertificateSummary::of(&der)
        .unwrap()
        .serial
        .replace(':', "")
}

fn config(dir: &Path) -> Config {
    std::fs::create_dir(dir.join("drop")).unwrap();
    let anchor = dir.join("test-ca.der");
    std::fs::write(&anchor, card_io::sim::pki::test_trust_anchor_der()).unwrap();
    let text = format!(
        r#"kiosk_id = "e2e-test"
[reader]
name = "{reader}"
[card]
trust_anchors = ["{anchor}"]
[handoff]
sink = "file"
drop_dir = "{dir}/drop"
outbox_dir = "{dir}/outbox"
retry_initial_ms = 100
retry_max_ms = 200
[audit]
dir = "{dir}/audit"
[voice]
enabled = false
"#,
        reader = pcscd::SLOT0_READER,
        anchor = anchor.display(),
        dir = dir.display(),
    );
    Config::parse(&text).expect("test configuration")
}

#[test]
fn kiosk_runs_the_real_card_path() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let window = ui::KioskWindow::new().unwrap();
    window.window().set_size(LogicalSize::new(1280.0, 800.0));
    let driver = Driver {
        window: window.as_weak(),
        drop_dir: dir.path().join("drop"),
        audit_dir: dir.path().join("audit"),
    };
    let script = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenarios(&driver)));
        // Always end the event loop, so a failed step fails the test instead of hanging it.
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
        outcome
    });
    kiosk::run_in(&window, &config, Mode::Production).expect("kiosk runs");
    if let Err(panic) = script.join().expect("script thread") {
        std::panic::resume_unwind(panic);
    }
}

fn scenarios(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    pin_success(d);
    pin_wrong_then_right(d);
    removed_during_pin_entry(d);
    pin_locked_goes_to_staff(d);
    card_errors(d);
    let audit = d.audit_text();
    assert!(audit.contains("\"session_started\""), "{audit}");
    assert!(audit.contains("\"result_queued\""), "{audit}");
    assert!(audit.contains("\"error_shown\""), "{audit}");
}

/// PIN path: the delivered JSON names the method, the certificate, and a signature over the
/// challenge that verifies with the certificate's key.
fn pin_success(d: &Driver) {
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    assert!(d.label("MethodChoiceScreen::retries").contains('3'));
    d.click("MethodChoiceScreen::pin");
    d.enter_pin("1234");
    d.consent_all();
    let result = d.wait_for_delivery(1);
    assert_eq!(result["method"], "pin");
    assert_eq!(result["kiosk_id"], "e2e-test");
    assert_eq!(result["certificate"]["serial"], serial_of("normal"));
    let evidence = &result["evidence"];
    assert_eq!(evidence["signature_algorithm"], "rsa-pkcs1-sha256");
    let decode = |key: &str| BASE64.decode(evidence[key].as_str().unwrap()).unwrap();
    let (challenge, signature) = (decode("challenge_base64"), decode("signature_base64"));
    assert_eq!(challenge.len(), 32);
    let der = BASE64
        .decode(result["certificate"]["der_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(der, Profile::load("normal").unwrap().certificate.unwrap());
    let key = card_io::certificate::rsa_public_key(&der).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(&challenge, &signature)
        .expect("the card signed the challenge with the certificate's key");
    remove(d, card);
}

/// A wrong PIN costs one try, shown before the next entry; the right one then passes.
fn pin_wrong_then_right(d: &Driver) {
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::pin");
    d.enter_pin("9999");
    let deadline = Instant::now() + TIMEOUT;
    while !d.label("PinEntryScreen::retries").contains('2') {
        assert!(Instant::now() < deadline, "retry counter 2 not shown");
        std::thread::sleep(POLL);
    }
    assert_eq!(d.on_ui(|w| w.get_pin_retries()), 2);
    d.enter_pin("1234");
    d.consent_all();
    assert_eq!(d.wait_for_delivery(2)["method"], "pin");
    remove(d, card);
}

/// Pulling the card out while the PIN is typed goes back to 待機 and delivers nothing.
fn removed_during_pin_entry(d: &Driver) {
    let before = d.delivered().len();
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::pin");
    d.wait_for(ui::Screen::PinEntry);
    remove(d, card);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.delivered().len(), before, "nothing delivered");
}

/// A locked PIN is reported by the card; the patient is sent to face or staff, never the pad.
fn pin_locked_goes_to_staff(d: &Driver) {
    let card = insert("pin-locked");
    d.wait_for(ui::Screen::MethodChoice);
    assert_eq!(d.on_ui(|w| w.get_pin_retries()), 0);
    assert!(d
        .label("MethodChoiceScreen::retries")
        .contains("市区町村の窓口"));
    assert!(!d.shown("MethodChoiceScreen::pin"));
    d.click("TopBar::call-staff");
    d.wait_for(ui::Screen::StaffLogin);
    remove(d, card);
}

/// Cards the kiosk must refuse, each with its catalogue code.
fn card_errors(d: &Driver) {
    for (profile, code) in [
        ("expired-cert", "E006"),
        ("untrusted-issuer", "E008"),
        ("not-my-number", "E002"),
        ("juki", "E002"),
    ] {
        let card = insert(profile);
        d.wait_for(ui::Screen::Error);
        assert_eq!(d.error_code(), code, "{profile}");
        remove(d, card);
    }
}
