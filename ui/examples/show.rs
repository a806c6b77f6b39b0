//! Shows the kiosk window in demo mode, to look at the real window (e.g. under Xvfb).
//! The demo buttons switch screens and the language buttons select; call-staff prints a line.

use slint::ComponentHandle;
use ui::{KioskWindow, Screen};

fn main() -> Result<(), slint::PlatformError> {
    let kiosk = KioskWindow::new()?;
    kiosk.set_demo_mode(true);
    kiosk.set_reader_name("Virtual PCD 00 00".into());

    let weak = kiosk.as_weak();
    kiosk.on_demo_place_card(move || {
        if let Some(kiosk) = weak.upgrade() {
            kiosk.set_screen(Screen::MethodChoice);
        }
    });
    let weak = kiosk.as_weak();
    kiosk.on_demo_remove_card(move || {
        if let Some(kiosk) = weak.upgrade() {
            kiosk.set_screen(Screen::Waiting);
        }
    });
    let weak = kiosk.as_weak();
    kiosk.on_select_language(move |code| {
        if let Some(kiosk) = weak.upgrade() {
            kiosk.set_language(code);
        }
    });
    kiosk.on_call_staff(|| println!("call-staff"));
    kiosk.run()
}
