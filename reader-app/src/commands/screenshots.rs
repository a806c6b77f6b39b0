//! `mynakiosk screenshots OUTDIR`: every screen in each language, rendered headless to PNG.

use std::path::Path;

use crate::errors::KioskError;
use crate::session::{ConsentItem, Guidance, Lang, Notice, Operator, Qualification, Screen, View};

/// Size of the kiosk's screen.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 800;

/// A typical view of `screen`, with realistic values, for screenshots and glyph tests.
pub fn sample(screen: Screen, language: Lang) -> View {
    let mut v = View::new(screen, language);
    v.pin_retries = Some(3);
    v.face_available = true;
    v.pin_available = true;
    v.max_attempts = 3;
    v.attempt = 1;
    v.consent = ConsentItem::ALL
        .iter()
        .map(|&i| (i, i.default_choice()))
        .collect();
    match screen {
        Screen::MethodChoice => {
            v.pin_retries = Some(1);
            v.notices = vec![Notice::CertificateExpiresSoon { days: 12 }];
        }
        Screen::FaceCapture => {
            v.guidance = Some(Guidance::MoveCloser);
            v.seconds_left = 14;
        }
        Screen::PinEntry => {
            v.digits_entered = 2;
            v.pin_retries = Some(2);
            v.notices = vec![Notice::PinWrong, Notice::EnterPinAgain];
        }
        Screen::ConsentChoice => v.notices = vec![Notice::ImagesDeleted],
        Screen::ConsentSummary => v.comprehensive = false,
        Screen::Result => v.answer = Some(Qualification::Valid),
        Screen::Error => {
            v.error = Some(KioskError::NotMyNumberCard);
            v.notices = vec![Notice::TakeCardPlaceAgain];
        }
        Screen::StaffLogin => {
            v.digits_entered = 3;
            v.notices = vec![Notice::StaffCalled];
        }
        Screen::StaffMenu => {
            v.operator = Some(Operator("nurse-7".into()));
            v.last_error = Some(KioskError::PinLocked);
            v.visual_available = true;
        }
        _ => {}
    }
    v
}

/// The element holding each screen's main sentence (Slint element id).
pub fn headline_id(screen: Screen) -> &'static str {
    match screen {
        Screen::Waiting => "WaitingScreen::prompt",
        Screen::Reading => "ReadingScreen::message",
        Screen::MethodChoice => "MethodChoiceScreen::title",
        Screen::FacePreparing => "FacePreparingScreen::message",
        Screen::FaceCapture => "FaceCaptureScreen::title",
        Screen::Verified => "VerifiedScreen::message",
        Screen::PinEntry => "PinEntryScreen::title",
        Screen::ConsentChoice => "ConsentChoiceScreen::title",
        Screen::ConsentItems => "ConsentItemsScreen::title",
        Screen::ConsentSummary => "ConsentSummaryScreen::title",
        Screen::Delivering => "DeliveringScreen::message",
        Screen::RegistrationOffer => "RegistrationOfferScreen::title",
        Screen::Result => "ResultScreen::message",
        Screen::RemoveCard => "RemoveCardScreen::message",
        Screen::Error => "ErrorScreen::message",
        Screen::StaffLogin => "StaffLoginScreen::title",
        Screen::StaffMenu => "StaffMenuScreen::title",
    }
}

/// File name of a screenshot, e.g. `method-choice.ja.png`.
pub fn file_name(screen: Screen, lang: Lang) -> String {
    let name = format!("{screen:?}");
    let mut kebab = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            kebab.push('-');
        }
        kebab.push(c.to_ascii_lowercase());
    }
    format!("{kebab}.{}.png", lang.code())
}

/// A small panel, where the notices make the content scroll.
pub const SMALL: (u32, u32) = (800, 480);

/// Japanese screens with notices, and the face screen's oval, also shown at [`SMALL`].
const SMALL_SCREENS: [Screen; 4] = [
    Screen::MethodChoice,
    Screen::FaceCapture,
    Screen::PinEntry,
    Screen::Error,
];

/// Renders every screen in each language into `outdir`, the Japanese screens with notices
/// at 800×480 (e.g. `pin-entry.ja.800x480.png`), and Japanese screens with the keypad bar.
pub fn run(outdir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(outdir)?;
    for lang in Lang::ALL {
        for screen in Screen::ALL {
            render(
                outdir,
                file_name(screen, lang),
                screen,
                lang,
                (WIDTH, HEIGHT),
            )?;
        }
    }
    for screen in SMALL_SCREENS {
        let name = file_name(screen, Lang::Ja).replace(".png", &format!("{}.png", small_suffix()));
        render(outdir, name, screen, Lang::Ja, SMALL)?;
    }
    // No method left (the PIN unusable, face failed): what happened, and staff, not a choice.
    let mut stuck = sample(Screen::MethodChoice, Lang::Ja);
    (stuck.face_available, stuck.pin_available, stuck.pin_retries) = (false, false, None);
    stuck.notices = vec![
        Notice::ImagesDeleted,
        Notice::FaceFailed,
        Notice::PinUnusable,
        Notice::CallStaff,
    ];
    let name = file_name(Screen::MethodChoice, Lang::Ja)
        .replace(".png", &format!(".no-method{}.png", small_suffix()));
    snapshot(&outdir.join(name), SMALL, &stuck, false)?;
    for (screen, assisted) in KEYPAD_SCREENS {
        let look = if assisted { "assisted" } else { "keypad" };
        let mut view = sample(screen, Lang::Ja);
        view.assisted = assisted;
        if assisted {
            view.consent.truncate(1);
        }
        for (size, suffix) in [((WIDTH, HEIGHT), String::new()), (SMALL, small_suffix())] {
            let name = file_name(screen, Lang::Ja).replace(".png", &format!(".{look}{suffix}.png"));
            snapshot(&outdir.join(name), size, &view, true)?;
        }
    }
    Ok(())
}

/// `.800x480`, the file name's mark of [`SMALL`].
fn small_suffix() -> String {
    format!(".{}x{}", SMALL.0, SMALL.1)
}

/// Japanese screens with the keypad bar, plain or in assisted mode (`method-choice.ja.keypad.png`),
/// at 1280×800 and [`SMALL`].
const KEYPAD_SCREENS: [(Screen, bool); 3] = [
    (Screen::MethodChoice, false),
    (Screen::PinEntry, true),
    (Screen::ConsentItems, true),
];

/// Renders the sample of `screen` in `lang` at `size` to `outdir/name`.
fn render(
    outdir: &Path,
    name: String,
    screen: Screen,
    lang: Lang,
    (width, height): (u32, u32),
) -> anyhow::Result<()> {
    snapshot(
        &outdir.join(name),
        (width, height),
        &sample(screen, lang),
        false,
    )
}

/// Renders `view` at `size` to `path`, with the keypad bar when `keypad`.
fn snapshot(
    path: &Path,
    (width, height): (u32, u32),
    view: &View,
    keypad: bool,
) -> anyhow::Result<()> {
    ui::snapshot::render_png(path, width, height, |w| {
        w.set_reader_name("Virtual PCD 00 00".into());
        w.set_keypad_hints(keypad);
        let config = crate::config::Config::default();
        w.set_face_guide(crate::kiosk::face_guide::face_guide(
            &config.camera,
            &config.face.quality,
        ));
        crate::kiosk::view::apply(w, view);
    })?;
    println!("{}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_kebab_case_with_language() {
        assert_eq!(
            file_name(Screen::MethodChoice, Lang::ZhHans),
            "method-choice.zh-Hans.png"
        );
        assert_eq!(file_name(Screen::Waiting, Lang::Ja), "waiting.ja.png");
    }
}
