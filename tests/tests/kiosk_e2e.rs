//! The kiosk runtime end to end on the real card path: the real pcscd with the virtual card
//! (a simulator profile) in vpcd, the real card, hand-off and audit ports, and the real Slint
//! window on the headless testing backend with an event loop. Touches are clicks on the real
//! buttons; results are read back from the file-drop sink and the audit log.
//!
//! The event-loop backend can be set up once per process, so this file holds one test that
//! walks through the scenarios on one running kiosk.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use card_io::certificate::CertificateSummary;
use card_sim::Profile;
use common::{insert, notices, remove, Driver, POLL, TIMEOUT};
use mynakiosk::config::Config;
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

fn serial_of(profile: &str) -> String {
    let der = Profile::load(profile).unwrap().certificate.unwrap();
    CertificateSummary::of(&der)
        .unwrap()
        .serial
        .replace(':', "")
}

fn config(dir: &Path) -> Config {
    let anchor = dir.join("test-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let extra = format!(
        "[reader]\nname = \"{}\"\n[card]\ntrust_anchors = [\"{}\"]\n",
        pcscd::SLOT0_READER,
        anchor.display()
    );
    common::config(dir, &extra)
}

#[test]
fn kiosk_runs_the_real_card_path() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    common::run_kiosk(&config, Mode::Production, dir.path(), scenarios);
}
fn scenarios(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    pin_success(d);
    pin_wrong_then_right(d);
    removed_during_pin_entry(d);
    pin_locked_goes_to_staff(d);
    face_card_has_no_pin(d);
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
    // Said neutrally: a 顔認証マイナンバーカード may answer like a locked PIN.
    assert!(notices(d).contains(&ui::Notice::PinUnusable));
    assert!(!d.shown("MethodChoiceScreen::retries"));
    assert!(!d.shown("MethodChoiceScreen::pin"));
    d.click("TopBar::call-staff");
    d.wait_for(ui::Screen::StaffLogin);
    remove(d, card);
}

/// A 顔認証マイナンバーカード has no PIN (the card answers 6A88): face only, no pad.
fn face_card_has_no_pin(d: &Driver) {
    let card = insert("face-card");
    d.wait_for(ui::Screen::MethodChoice);
    assert!(!d.shown("MethodChoiceScreen::pin"));
    assert!(d.shown("MethodChoiceScreen::face"));
    assert_eq!(notices(d), [ui::Notice::PinUnusable, ui::Notice::UseFace]);
    remove(d, card);
}

/// Cards the kiosk must refuse, each with its catalogue code; staff see the code with the
/// adapter's cause.
fn card_errors(d: &Driver) {
    for (profile, code, cause) in [
        ("expired-cert", "E006", "(certificate refused: "),
        ("untrusted-issuer", "E008", "(certificate refused: "),
        ("not-my-number", "E002", "(the card answers as "),
        ("juki", "E002", "(the card answers as "),
    ] {
        let card = insert(profile);
        d.wait_for(ui::Screen::Error);
        assert_eq!(d.error_code(), code, "{profile}");
        let staff = d.on_ui(|w| w.get_staff_cause().to_string());
        assert!(
            staff.starts_with(code) && staff.contains(cause),
            "{profile}: {staff}"
        );
        remove(d, card);
    }
}
