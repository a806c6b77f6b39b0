//! The kiosk window under Slint's headless testing backend: what a patient sees and taps.

use std::cell::RefCell;
use std::rc::Rc;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, LogicalSize};
use ui::{KioskWindow, Screen};

/// A kiosk window at the kiosk's screen size; the testing backend is set up once per thread.
fn kiosk() -> KioskWindow {
    thread_local! {
        static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
    }
    BACKEND.with(|_| ());
    let kiosk = KioskWindow::new().unwrap();
    kiosk.window().set_size(LogicalSize::new(1280.0, 800.0));
    kiosk
}

fn element(kiosk: &KioskWindow, id: &str) -> Option<ElementHandle> {
    let mut found = ElementHandle::find_by_element_id(kiosk, id);
    let first = found.next();
    assert!(found.next().is_none(), "{id} is not unique");
    first
}

fn label(kiosk: &KioskWindow, id: &str) -> String {
    let element = element(kiosk, id).unwrap_or_else(|| panic!("{id} is not shown"));
    element.accessible_label().unwrap_or_default().to_string()
}

fn click(kiosk: &KioskWindow, id: &str) {
    let element = element(kiosk, id).unwrap_or_else(|| panic!("{id} is not shown"));
    element.mock_single_click(PointerEventButton::Left);
}

#[test]
fn waiting_screen_asks_for_the_card() {
    let kiosk = kiosk();
    assert_eq!(kiosk.get_screen(), Screen::Waiting);

    let prompts: Vec<_> =
        ElementHandle::find_by_accessible_label(&kiosk, "マイナンバーカードを置いてください")
            .collect();
    assert_eq!(prompts.len(), 1);
    let size = prompts[0].size();
    assert!(
        size.width > 0.0 && size.height > 0.0,
        "prompt has no area: {size:?}"
    );
    assert_eq!(
        label(&kiosk, "WaitingScreen::prompt"),
        "マイナンバーカードを置いてください"
    );
}

#[test]
fn each_screen_shows_its_message() {
    let kiosk = kiosk();

    kiosk.set_screen(Screen::Reading);
    assert_eq!(label(&kiosk, "ReadingScreen::message"), "読み取り中です");

    kiosk.set_screen(Screen::RemoveCard);
    assert_eq!(
        label(&kiosk, "RemoveCardScreen::message"),
        "カードをお取りください"
    );
    assert!(
        element(&kiosk, "WaitingScreen::prompt").is_none(),
        "waiting prompt still shown"
    );
    assert!(
        element(&kiosk, "ReadingScreen::message").is_none(),
        "reading message still shown"
    );

    kiosk.set_error_message("このカードは読み取れません".into());
    kiosk.set_screen(Screen::Error);
    assert_eq!(label(&kiosk, "ErrorScreen::title"), "エラー");
    assert_eq!(
        label(&kiosk, "ErrorScreen::message"),
        "このカードは読み取れません"
    );

    kiosk.set_screen(Screen::Waiting);
    assert_eq!(
        label(&kiosk, "WaitingScreen::prompt"),
        "マイナンバーカードを置いてください"
    );
    assert!(
        element(&kiosk, "ErrorScreen::message").is_none(),
        "error message still shown"
    );
}

#[test]
fn call_staff_is_on_every_screen() {
    let kiosk = kiosk();
    let calls = Rc::new(RefCell::new(0));
    kiosk.on_call_staff({
        let calls = calls.clone();
        move || *calls.borrow_mut() += 1
    });

    for (n, screen) in [
        Screen::Waiting,
        Screen::Reading,
        Screen::MethodChoice,
        Screen::PinEntry,
        Screen::StaffMenu,
        Screen::Error,
    ]
    .into_iter()
    .enumerate()
    {
        kiosk.set_screen(screen);
        assert_eq!(label(&kiosk, "TopBar::call-staff"), "係員を呼ぶ");
        click(&kiosk, "TopBar::call-staff");
        assert_eq!(*calls.borrow(), n + 1, "call-staff on {screen:?}");
    }
}

#[test]
fn reader_status_follows_the_language() {
    let kiosk = kiosk();
    kiosk.set_reader_name("Virtual PCD 00 00".into());
    assert_eq!(
        label(&kiosk, "StatusBar::status"),
        "カードリーダー: Virtual PCD 00 00"
    );
    slint::select_bundled_translation("en").unwrap();
    let english = label(&kiosk, "StatusBar::status");
    kiosk.set_reader_name("".into());
    let any = label(&kiosk, "StatusBar::status");
    slint::select_bundled_translation("").unwrap();
    assert_eq!(english, "Card reader: Virtual PCD 00 00");
    assert_eq!(any, "Card reader: any");
}

#[test]
fn language_buttons_report_the_choice() {
    let kiosk = kiosk();
    let chosen = Rc::new(RefCell::new(Vec::new()));
    kiosk.on_select_language({
        let chosen = chosen.clone();
        move |code| chosen.borrow_mut().push(code.to_string())
    });

    for name in ["English", "한국어"] {
        let button = ElementHandle::find_by_accessible_label(&kiosk, name)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no {name} button"));
        button.mock_single_click(PointerEventButton::Left);
    }
    assert_eq!(*chosen.borrow(), ["en", "ko"]);
}

#[test]
fn demo_strip_places_and_removes_the_card() {
    let kiosk = kiosk();
    let events = Rc::new(RefCell::new(Vec::new()));
    kiosk.on_demo_place_card({
        let events = events.clone();
        move || events.borrow_mut().push("place")
    });
    kiosk.on_demo_remove_card({
        let events = events.clone();
        move || events.borrow_mut().push("remove")
    });

    assert!(!kiosk.get_demo_mode());
    assert!(
        element(&kiosk, "DemoStrip::place-card").is_none(),
        "demo strip shown outside demo mode"
    );
    assert!(
        ElementHandle::find_by_accessible_label(&kiosk, "カードを置く")
            .next()
            .is_none()
    );

    kiosk.set_demo_mode(true);
    assert_eq!(label(&kiosk, "DemoStrip::place-card"), "カードを置く");
    assert_eq!(label(&kiosk, "DemoStrip::remove-card"), "カードを取る");
    click(&kiosk, "DemoStrip::place-card");
    click(&kiosk, "DemoStrip::remove-card");
    assert_eq!(*events.borrow(), ["place", "remove"]);

    kiosk.set_demo_mode(false);
    assert!(
        element(&kiosk, "DemoStrip::remove-card").is_none(),
        "demo strip still shown"
    );
}

#[test]
fn every_button_is_a_large_touch_target() {
    let kiosk = kiosk();
    kiosk.set_demo_mode(true);
    let buttons: Vec<_> = kiosk
        .root_element()
        .query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    // Call staff, five languages, four demo buttons (card in/out, profile, person).
    assert_eq!(buttons.len(), 10);
    for button in buttons {
        let size = button.size();
        assert!(
            size.width >= 64.0 && size.height >= 64.0,
            "{:?} is {size:?}",
            button.accessible_label()
        );
    }
}
