//! Staff cards: a card on the staff-card reader (vpcd slot 1) whose user-authentication
//! certificate serial is configured unlocks staff mode while the patient's card stays in the
//! patient reader (slot 0); an unknown card is refused. Both are audited. Demo mode, the real
//! pcscd and vpcd, the real card layer and window.

use crate::common;

use card_sim::vpcd::VpcdCard;
use card_sim::Profile;
use common::{insert, notices, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;
use std::net::{Ipv4Addr, SocketAddr};

/// vpcd slot 1: the staff-card reader.
const STAFF_READER: &str = "Virtual PCD 00 01";
const STAFF_PORT: u16 = pcscd::SLOT0_PORT + 1;
/// The profile configured as clerk-2's staff card (TEST data).
const STAFF_PROFILE: &str = "face-card";

#[test]
fn a_configured_staff_card_unlocks_staff_mode_and_an_unknown_one_is_refused() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let der = Profile::load(STAFF_PROFILE).unwrap().certificate.unwrap();
    let serial = card_io::certificate::CertificateSummary::of(&der)
        .unwrap()
        .serial;
    let extra = format!(
        "[demo]\nvpcd_port = {}\n[staff]\ncard_reader = \"{STAFF_READER}\"\n\
         [[staff.members]]\nid = \"clerk-2\"\ncard_serial = \"{serial}\"\n",
        pcscd::SLOT0_PORT
    );
    let mut config = common::config(dir.path(), &extra);
    // The longest idle timeout there is: the method choice and 係員を呼ぶ arm it, and the
    // runtime must not overflow the clock doing so (it used to panic, freezing the kiosk).
    config.session.idle_seconds = 9_223_372_036_854_775_807;
    common::run_kiosk(&config, Mode::demo(), dir.path(), scenario);
}

/// A virtual card of `profile` on the staff-card reader.
fn staff_card(profile: &str) -> VpcdCard {
    let card = Profile::load(profile).unwrap().card();
    VpcdCard::insert(card, SocketAddr::from((Ipv4Addr::LOCALHOST, STAFF_PORT))).unwrap()
}

/// Waits until the audit log holds a staff-card `action` by `operator` ("" for none).
fn wait_for_audit(d: &Driver, action: &str, operator: &str) {
    d.wait_until(&format!("{action} by {operator:?} in the audit log"), |d| {
        d.audit_text().lines().any(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["action"] == action
                && v["reason_code"] == "staff_card"
                && v["operator_id"] == operator
        })
    });
}

fn scenario(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let patient = insert("pin-locked");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("TopBar::call-staff");
    d.wait_for(ui::Screen::StaffLogin);

    // Someone else's card on the staff reader: refused, audited, the login screen says so.
    let unknown = staff_card("normal");
    wait_for_audit(d, "unlock_refused", "");
    d.wait_until("the refusal shown", |d| {
        notices(d).contains(&ui::Notice::StaffCardRefused)
    });
    assert_eq!(d.screen(), ui::Screen::StaffLogin);
    unknown.remove().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));

    // clerk-2's card: staff mode, with the patient's card still in its reader.
    let clerk = staff_card(STAFF_PROFILE);
    d.wait_for(ui::Screen::StaffMenu);
    wait_for_audit(d, "unlock", "clerk-2");
    clerk.remove().unwrap();
    d.press("その他");
    d.consent_all();
    let result = d.wait_for_delivery(1);
    assert_eq!(result["method"], "visual");
    assert_eq!(result["evidence"]["operator_id"], "clerk-2");
    remove(d, patient);
}
