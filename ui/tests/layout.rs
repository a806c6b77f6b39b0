//! Every screen at every supported screen size, with and without notices: the call-staff
//! button and the status line stay inside the window, and the screen's content fits.

use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, LogicalSize, ModelRc, VecModel};
use ui::{Answer, ConsentKind, ConsentRow, KioskWindow, Notice, Screen};

/// Supported kiosk screens (logical pixels): small 7" panels, the reference 1280×800 and a
/// portrait 1080×1920 totem.
const SIZES: [(f32, f32); 4] = [
    (800.0, 480.0),
    (1024.0, 600.0),
    (1280.0, 800.0),
    (1080.0, 1920.0),
];

pub const SCREENS: [Screen; 17] = [
    Screen::Waiting,
    Screen::Reading,
    Screen::MethodChoice,
    Screen::FacePreparing,
    Screen::FaceCapture,
    Screen::Verified,
    Screen::PinEntry,
    Screen::ConsentChoice,
    Screen::ConsentItems,
    Screen::ConsentSummary,
    Screen::Delivering,
    Screen::RegistrationOffer,
    Screen::Result,
    Screen::RemoveCard,
    Screen::Error,
    Screen::StaffLogin,
    Screen::StaffMenu,
];

/// The window with every optional part of every screen shown.
pub fn kiosk() -> KioskWindow {
    thread_local! {
        static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
    }
    BACKEND.with(|_| ());
    let k = KioskWindow::new().unwrap();
    k.set_reader_name("Virtual PCD 00 00".into());
    k.set_error_message("このカードは読み取れません。係員にお知らせください".into());
    k.set_error_code("E004".into());
    k.set_face_available(true);
    k.set_pin_available(true);
    k.set_pin_retries(1);
    k.set_visual_available(true);
    k.set_operator("nurse-7".into());
    k.set_staff_cause("E009 暗証番号がロックされています".into());
    k.set_answer(Answer::NotRegistered);
    k.set_max_attempts(3);
    k.set_attempt(2);
    k.set_seconds_left(18);
    let rows: Vec<ConsentRow> = [
        ConsentKind::Drug,
        ConsentKind::Checkup,
        ConsentKind::Clinical,
        ConsentKind::Surgery,
    ]
    .into_iter()
    .map(|kind| ConsentRow { kind, agreed: true })
    .collect();
    k.set_consent(ModelRc::new(VecModel::from(rows)));
    k
}

/// Whether the element `id` lies wholly inside `(0, 0, width, height)`.
fn inside(k: &KioskWindow, id: &str, (width, height): (f32, f32)) -> Result<(), String> {
    let e = ElementHandle::find_by_element_id(k, id)
        .next()
        .ok_or_else(|| format!("{id} not shown"))?;
    let (p, s) = (e.absolute_position(), e.size());
    let fits = p.x >= -0.5
        && p.y >= -0.5
        && p.x + s.width <= width + 0.5
        && p.y + s.height <= height + 0.5
        && s.width > 0.0
        && s.height > 0.0;
    if fits {
        Ok(())
    } else {
        Err(format!("{id} at {p:?} size {s:?}"))
    }
}

fn check(k: &KioskWindow, notices: &[Notice], problems: &mut Vec<String>) {
    k.set_notices(ModelRc::new(VecModel::from(notices.to_vec())));
    for size in SIZES {
        k.window().set_size(LogicalSize::new(size.0, size.1));
        for screen in SCREENS {
            k.set_screen(screen);
            for id in ["TopBar::call-staff", "StatusBar::status"] {
                if let Err(e) = inside(k, id, size) {
                    problems.push(format!(
                        "{size:?} {screen:?} {} notices: {e}",
                        notices.len()
                    ));
                }
            }
        }
    }
}

/// How far the notices and the screen's content reach below the visible area (0: they fit).
fn overflow(k: &KioskWindow) -> f32 {
    let height = |id| {
        ElementHandle::find_by_element_id(k, id)
            .next()
            .unwrap_or_else(|| panic!("no {id}"))
            .size()
            .height
    };
    height("KioskWindow::content") - height("KioskWindow::content-area")
}

#[test]
fn every_screen_fits_without_scrolling_at_the_supported_sizes() {
    let k = kiosk();
    let mut problems = Vec::new();
    // The demo strip and the notice band take room of their own: on the smallest screen,
    // where sizes are already at their floor, the content scrolls then.
    let two = [Notice::FaceUnavailable, Notice::ImagesDeleted];
    for (demo, notices) in [(false, &[][..]), (false, &two[..]), (true, &[][..])] {
        k.set_demo_mode(demo);
        k.set_notices(ModelRc::new(VecModel::from(notices.to_vec())));
        let extra = demo || !notices.is_empty();
        for size in SIZES.into_iter().filter(|&(_, h)| !extra || h >= 600.0) {
            k.window().set_size(LogicalSize::new(size.0, size.1));
            for screen in SCREENS {
                k.set_screen(screen);
                let over = overflow(&k);
                if over > 0.5 {
                    let n = notices.len();
                    problems.push(format!(
                        "{size:?} demo {demo} {n} notices {screen:?}: {over} px too tall"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_call_staff_button_and_status_line_stay_in_the_window() {
    let k = kiosk();
    let mut problems = Vec::new();
    check(&k, &[], &mut problems);
    let band = [
        Notice::FaceUnavailable,
        Notice::ImagesDeleted,
        Notice::ExpiresSoon,
        Notice::ReplaceCardFront,
        Notice::OneCardFrontOnly,
        Notice::TurnCardFaceUp,
    ];
    check(&k, &band, &mut problems);
    k.set_demo_mode(true);
    check(&k, &band, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
