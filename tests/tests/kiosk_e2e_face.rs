//! The face path end to end in demo mode: the card-front camera shows the demo card's front
//! (its TEST holder rendered in memory with camera distortions), the real OCR reads
//! 照合番号B, which opens the virtual card's face through pcscd; the chip photo is read from
//! it and the real face pipeline (YuNet + SFace on ONNX Runtime) compares it with an
//! image-folder camera of the card holder (another photo of the person on the card) or of
//! someone else, in the real window. Still images cannot turn a head, so the demo's
//! `face.liveness = "off"` is used.

use crate::common;

use common::{insert, notices, pin_b_tries, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;

/// 照合番号B tries of the test profiles (card-sim/profiles: 10 assumed).
const FULL_PIN_B_TRIES: u8 = 10;

#[test]
fn face_path_reads_the_card_front_matches_the_holder_and_refuses_an_impostor() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let holder = common::portraits(dir.path(), "holder", &["obama2.jpg", "obama3.jpg"]);
    let other = common::portraits(dir.path(), "other", &["biden.jpg"]);
    // The holders of the cards whose chip photo shows someone else (as scripts/demo.sh).
    common::portraits(&holder, "face-card", &["grace_hopper_512x512.jpg"]);
    common::portraits(&holder, "pin-locked", &["biden.jpg"]);
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [demo]\nvpcd_port = {}\nimpostor_folder = \"{}\"\n",
        holder.display(),
        pcscd::SLOT0_PORT,
        other.display()
    );
    let config = common::config(dir.path(), &extra);
    common::run_kiosk(&config, Mode::demo(), dir.path(), scenarios);
}

fn scenarios(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    holder_matches(d, "normal", 1);
    impostor_is_refused(d);
    // The foreign resident's chip photo is of the person in the other folder.
    pick_profile(d, "foreign-resident");
    holder_matches(d, "foreign-resident", 2);
    // 本人 is the chosen card's holder: the face-only and PIN-locked cards show their face path.
    d.on_ui(|w| w.invoke_demo_toggle_person());
    assert!(d.on_ui(|w| w.get_demo_holder()));
    pick_profile(d, "face-card");
    holder_matches(d, "face-card", 3);
    pick_profile(d, "pin-locked");
    holder_matches(d, "pin-locked", 4);
    pick_profile(d, "normal");
    last_tries_are_never_spent(d);
}

/// The demo strip's next card is `profile`.
fn pick_profile(d: &Driver, profile: &'static str) {
    for _ in 0..card_sim::Profile::names().len() {
        if d.on_ui(|w| w.get_demo_profile()) == profile {
            return;
        }
        d.on_ui(|w| w.invoke_demo_next_profile());
    }
    panic!("the demo strip does not offer {profile}");
}

/// The card front of `profile` is read, its 照合番号B opens the card face, the live face
/// matches the chip photo; the result says so with scores only.
fn holder_matches(d: &Driver, profile: &str, delivered: usize) {
    let card = insert(profile);
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    // Until the consent, each look at the window (screen and buttons read in one go) never
    // finds the method choice without its face button.
    d.wait_until("the consent", |d| {
        let (screen, face) = d.screen_showing("MethodChoiceScreen::face");
        assert!(
            screen != ui::Screen::MethodChoice || face,
            "{profile}: 方法選択 without face on a matching face path"
        );
        screen == ui::Screen::ConsentChoice
    });
    d.consent_all();
    let result = d.wait_for_delivery(delivered);
    assert_eq!(result["method"], "face");
    assert_eq!(result["test"], true, "{profile}: a TEST card");
    let evidence = &result["evidence"];
    let score = evidence["match_score"].as_f64().unwrap();
    let threshold = evidence["match_threshold"].as_f64().unwrap();
    assert!(
        score >= threshold,
        "{profile}: score {score} below {threshold}"
    );
    assert!(
        score < 1.0,
        "a different photo of the holder, not the chip photo itself"
    );
    let card = remove(d, card);
    assert_eq!(pin_b_tries(&card), Some(FULL_PIN_B_TRIES), "{profile}");
}

/// Someone else in front of the camera: every attempt fails, face is withdrawn, the
/// images are deleted and nothing is delivered.
fn impostor_is_refused(d: &Driver) {
    d.on_ui(|w| w.invoke_demo_toggle_person());
    assert!(!d.on_ui(|w| w.get_demo_holder()));
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    wait_for_face_withdrawn(d);
    let notices = notices(d);
    assert!(notices.contains(&ui::Notice::FaceFailed), "{notices:?}");
    assert!(notices.contains(&ui::Notice::ImagesDeleted), "{notices:?}");
    assert_eq!(d.delivered().len(), 1, "nothing delivered for the impostor");
    remove(d, card);
}

/// A card with two 照合番号B tries left: the front is read but never presented; face is
/// withdrawn and the card's counter is unchanged.
fn last_tries_are_never_spent(d: &Driver) {
    let mut profile = card_sim::Profile::load("normal").unwrap();
    profile.retries.pin_b.left = Some(2);
    let card = card_sim::vpcd::VpcdCard::insert(profile.card(), pcscd::slot0_addr()).unwrap();
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    wait_for_face_withdrawn(d);
    assert!(d.shown("MethodChoiceScreen::pin"), "the PIN is offered");
    let card = remove(d, card);
    assert_eq!(pin_b_tries(&card), Some(2));
}

/// Waits until the method choice is back without the face button. Each wait covers one stage
/// of the face path (the card front, each capture attempt), so a slow machine is not taken for
/// a stuck kiosk.
fn wait_for_face_withdrawn(d: &Driver) {
    let stage = |d: &Driver| d.on_ui(|w| (w.get_screen(), w.get_attempt()));
    let withdrawn = std::cell::Cell::new(false);
    // Preparing, three attempts, comparing: a few stages at most.
    for _ in 0..10 {
        let at = stage(d);
        d.wait_until("face withdrawn or the face path's next stage", |d| {
            withdrawn.set(
                d.screen_showing("MethodChoiceScreen::face") == (ui::Screen::MethodChoice, false),
            );
            withdrawn.get() || stage(d) != at
        });
        if withdrawn.get() {
            return;
        }
    }
    panic!("the face path went on without withdrawing face");
}
