//! The face path end to end in demo mode: the virtual card through pcscd (照合番号B from the
//! SIMULATED card-front OCR opens the real card face, the chip photo is read from it), the
//! real face pipeline (YuNet + SFace on ONNX Runtime) on an image-folder camera of the card
//! holder (another photo of the person on the card) or of an impostor, the real window.
//! Still images cannot turn a head, so the demo's `face.liveness = "off"` is used.

mod common;

use common::{insert, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;

#[test]
fn face_path_matches_the_holder_and_refuses_an_impostor() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let holder = common::portraits(dir.path(), "holder", &["obama2.jpg", "obama3.jpg"]);
    let impostor = common::portraits(dir.path(), "impostor", &["biden.jpg"]);
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [demo]\nvpcd_port = {}\nimpostor_folder = \"{}\"\n",
        holder.display(),
        pcscd::SLOT0_PORT,
        impostor.display()
    );
    let config = common::config(dir.path(), &extra);
    common::run_kiosk(&config, Mode::Demo, dir.path(), scenarios);
}

fn scenarios(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    holder_matches(d);
    impostor_is_refused(d);
}

/// The holder's face matches the chip photo; the result says so with scores only.
fn holder_matches(d: &Driver) {
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    d.consent_all();
    let result = d.wait_for_delivery(1);
    assert_eq!(result["method"], "face");
    let evidence = &result["evidence"];
    let score = evidence["match_score"].as_f64().unwrap();
    let threshold = evidence["match_threshold"].as_f64().unwrap();
    assert!(score >= threshold, "score {score} below {threshold}");
    assert!(
        score < 1.0,
        "a different photo of the holder, not the chip photo itself"
    );
    remove(d, card);
}

/// Someone else in front of the camera: every attempt fails, face is withdrawn, the
/// images are deleted and nothing is delivered.
fn impostor_is_refused(d: &Driver) {
    d.on_ui(|w| w.invoke_demo_toggle_person());
    assert!(!d.on_ui(|w| w.get_demo_holder()));
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    while d.shown("MethodChoiceScreen::face") || d.screen() != ui::Screen::MethodChoice {
        assert!(std::time::Instant::now() < deadline, "face not withdrawn");
        std::thread::sleep(common::POLL);
    }
    let notices: Vec<ui::Notice> = d.on_ui(|w| {
        use slint::Model;
        w.get_notices().iter().collect()
    });
    assert!(
        notices.contains(&ui::Notice::FaceUnavailable),
        "{notices:?}"
    );
    assert!(notices.contains(&ui::Notice::ImagesDeleted), "{notices:?}");
    assert_eq!(d.delivered().len(), 1, "nothing delivered for the impostor");
    remove(d, card);
}
