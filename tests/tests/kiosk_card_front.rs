//! A card front the OCR cannot read, two cards in view, or a card face down: the kiosk asks to
//! re-place the card (to leave that card alone, to turn it face up), reads again a bounded number of times, then offers the PIN or
//! staff, and never presents 照合番号B (the virtual card's counter is unchanged). Demo mode
//! with the card-front camera as an image folder of one photo; real OCR, real pcscd and vpcd,
//! the real window.

use crate::common;

use common::{insert, notices, pin_b_tries, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;

#[test]
fn an_unreadable_card_front_asks_to_replace_the_card_then_offers_pin_without_a_try() {
    // A camera that sees the empty tray (no card): grey with some texture.
    let tray = opencv::core::Mat::new_rows_cols_with_default(
        480,
        640,
        opencv::core::CV_8UC3,
        opencv::core::Scalar::new(90.0, 100.0, 110.0, 0.0),
    )
    .unwrap();
    run_with_front(&tray, |d| {
        asks_then_offers_pin(d, ui::Notice::ReplaceCardFront, "E011")
    });
}

/// The placement seed of `ocr_card_front`.
const PLACEMENT_SEED: u64 = 5_550_123;

/// The day the photos' identities are drawn for: fixed, so that the photos, and what the
/// reader makes of them, do not change from one day to the next.
fn drawn_on() -> card_front::Date {
    card_front::Date::new(2026, 11, 22).unwrap()
}

#[test]
fn two_cards_in_view_ask_for_that_card_alone_then_offer_pin_without_a_try() {
    // A parent holds the child's card beside their own: both fronts readable.
    let (_, shot) = card_front::two_cards_photo(PLACEMENT_SEED, 0, drawn_on()).unwrap();
    run_with_front(&shot.image, |d| {
        asks_then_offers_pin(d, ui::Notice::OneCardFrontOnly, "E011")
    });
}

#[test]
fn a_card_lying_face_down_asks_to_turn_it_then_offers_pin_without_a_try() {
    // The patient puts the card down back up: the camera sees its 12-digit number.
    let (_, mut frames) = card_front::back_frames(PLACEMENT_SEED, 0, drawn_on(), 0).unwrap();
    let shot = frames.next().unwrap().unwrap();
    run_with_front(&shot.image, |d| {
        asks_then_offers_pin(d, ui::Notice::TurnCardFaceUp, "E025")
    });
}

/// Runs the demo kiosk with a card-front camera that always sees `front`, then `scenario`.
fn run_with_front(front: &opencv::core::Mat, scenario: fn(&Driver)) {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let fronts = dir.path().join("fronts");
    std::fs::create_dir(&fronts).unwrap();
    let path = fronts.join("front.png");
    face_match::image_file::write_png(&path, front).unwrap();
    let extra = format!(
        "[card_front_camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [session]\ncard_front_reread_seconds = 1\n[demo]\nvpcd_port = {}\n",
        fronts.display(),
        pcscd::SLOT0_PORT,
    );
    let config = common::config(dir.path(), &extra);
    common::run_kiosk(&config, Mode::demo(), dir.path(), scenario);
}

/// Face chosen: the kiosk shows `asked` while it reads again, then withdraws face, offers the
/// PIN and staff and gives staff the error `code` as the cause; no 照合番号B try was spent.
fn asks_then_offers_pin(d: &Driver, asked: ui::Notice, code: &str) {
    d.wait_for(ui::Screen::Waiting);
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::face");
    d.wait_until("the prompt", |d| notices(d).contains(&asked));
    assert_eq!(d.screen(), ui::Screen::FacePreparing);
    d.wait_for(ui::Screen::MethodChoice);
    let shown = notices(d);
    assert!(shown.contains(&ui::Notice::FaceUnavailable), "{shown:?}");
    assert!(!shown.contains(&asked), "{shown:?}");
    let cause = d.on_ui(|w| w.get_staff_cause().to_string());
    assert!(
        cause.starts_with(&format!("{code} ")),
        "the staff read {cause:?}"
    );
    assert!(!d.shown("MethodChoiceScreen::face"));
    assert!(d.shown("MethodChoiceScreen::pin"), "the PIN is offered");
    // Staff can still be called from here.
    d.click("TopBar::call-staff");
    d.wait_for(ui::Screen::StaffLogin);
    let card = remove(d, card);
    assert_eq!(pin_b_tries(&card), Some(10), "no 照合番号B try was spent");
}
