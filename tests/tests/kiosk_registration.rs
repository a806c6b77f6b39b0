//! 代理で操作 and 初回利用登録 end to end: a carer operates the kiosk with the card holder's PIN;
//! the qualification simulator (`mynakiosk qual-sim`, a SIMULATOR) says the card is not
//! registered; the patient asks for the registration. The file-drop sink receives the
//! session's result (`proxy`) and then the registration request under its own idempotency key.
//! The real pcscd and vpcd, the real card layer, hand-off and window.

use crate::common;

use card_io::certificate::CertificateSummary;
use card_sim::Profile;
use common::{insert, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::binary;
use mynakiosk_tests::pcscd;

#[test]
fn a_carer_registers_an_unregistered_card() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let der = Profile::load("normal").unwrap().certificate.unwrap();
    let serial = CertificateSummary::of(&der)
        .unwrap()
        .serial
        .replace(':', "");
    let data = dir.path().join("sim.toml");
    std::fs::write(&data, format!("[cards]\n\"{serial}\" = \"unregistered\"\n")).unwrap();
    let (_sim, url) = binary::qual_sim(&data);
    let extra = format!(
        "[qualification]\nurl = \"{url}\"\n[demo]\nvpcd_port = {}\n",
        pcscd::SLOT0_PORT
    );
    let config = common::config(dir.path(), &extra);
    common::run_kiosk(&config, Mode::demo(), dir.path(), scenario);
}

fn scenario(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::proxy");
    d.wait_until("proxy on", |d| d.on_ui(|w| w.get_proxy()));
    d.click("MethodChoiceScreen::pin");
    d.enter_pin("1234");
    d.wait_for(ui::Screen::ConsentChoice);
    d.click("ConsentChoiceScreen::all");
    d.wait_for(ui::Screen::ConsentSummary);
    d.click("ConsentSummaryScreen::confirm");
    d.wait_for(ui::Screen::RegistrationOffer);
    let first = d.wait_for_delivery(1);
    assert_eq!(
        (&first["proxy"], &first["register"]),
        (&true.into(), &false.into())
    );
    assert_eq!(first["idempotency_key"], first["session_id"]);
    d.click("RegistrationOfferScreen::yes");
    d.wait_for(ui::Screen::Result);
    let request = d.wait_for_delivery(2);
    assert_eq!(request["session_id"], first["session_id"]);
    assert_eq!(
        (&request["proxy"], &request["register"]),
        (&true.into(), &true.into())
    );
    let key = format!("{}-register", first["session_id"].as_str().unwrap());
    assert_eq!(request["idempotency_key"], key.as_str());
    assert_eq!(request["schema_version"], 2);
    remove(d, card);
}
