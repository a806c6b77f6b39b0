//! Every element a patient or staff member touches has an accessible role and name on every
//! screen, so a screen reader can read the kiosk; toggles tell their state, the PIN dots how
//! many digits are entered and never which.

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use slint::{ComponentHandle, LogicalSize, ModelRc, VecModel};
use ui::phrases::WORD_JOINER;
use ui::{ConsentKind, ConsentRow, Screen};

use crate::layout::{kiosk, SCREENS};

/// Roles of the elements a touch acts on.
fn is_touchable(e: &ElementHandle) -> bool {
    matches!(
        e.accessible_role(),
        Some(AccessibleRole::Button | AccessibleRole::Checkbox)
    )
}

#[test]
fn every_touch_target_on_every_screen_has_a_role_and_a_name() {
    let k = kiosk();
    k.window().set_size(LogicalSize::new(1280.0, 800.0));
    let mut problems = Vec::new();
    for lang in ["ja", "en"] {
        slint::select_bundled_translation(lang).unwrap();
        for demo in [false, true] {
            k.set_demo_mode(demo);
            for screen in SCREENS {
                k.set_screen(screen);
                let touch_areas = ElementHandle::find_by_element_type_name(&k, "TouchArea").count();
                let targets = k
                    .root_element()
                    .query_descendants()
                    .match_predicate(is_touchable)
                    .find_all();
                let at = format!("{lang} demo {demo} {screen:?}");
                if touch_areas != targets.len() {
                    problems.push(format!(
                        "{at}: {touch_areas} touch areas, {} named targets",
                        targets.len()
                    ));
                }
                for t in &targets {
                    let label = t.accessible_label().unwrap_or_default();
                    if label.trim().is_empty() || label.contains(WORD_JOINER) {
                        problems.push(format!("{at}: {:?} labelled {label:?}", t.id()));
                    }
                    if t.accessible_checkable() == Some(true) && t.accessible_checked().is_none() {
                        problems.push(format!("{at}: {label} checkable, no state"));
                    }
                }
            }
        }
    }
    slint::select_bundled_translation("").unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn consent_toggles_and_language_buttons_tell_their_state() {
    let k = kiosk();
    let rows = [(ConsentKind::Drug, true), (ConsentKind::Checkup, false)]
        .map(|(kind, agreed)| ConsentRow { kind, agreed });
    k.set_consent(ModelRc::new(VecModel::from(rows.to_vec())));
    k.set_screen(Screen::ConsentItems);
    let checked = |label: &str| {
        ElementHandle::find_by_accessible_label(&k, label)
            .find(is_touchable)
            .unwrap_or_else(|| {
                let all: Vec<_> = k
                    .root_element()
                    .query_descendants()
                    .match_predicate(is_touchable)
                    .find_all()
                    .iter()
                    .map(|e| e.accessible_label().unwrap_or_default())
                    .collect();
                panic!("no {label} in {all:?}")
            })
            .accessible_checked()
    };
    assert_eq!(checked("薬剤情報: 提供をやめる"), Some(true));
    assert_eq!(checked("特定健診情報: 提供する"), Some(false));
    k.set_screen(Screen::Waiting);
    k.set_language("en".into());
    assert_eq!(checked("English"), Some(true));
    assert_eq!(checked("日本語"), Some(false));
}

#[test]
fn the_pin_dots_say_how_many_digits_are_entered() {
    let k = kiosk();
    for (screen, length) in [(Screen::PinEntry, 4), (Screen::StaffLogin, 8)] {
        k.set_screen(screen);
        for entered in [0, 3] {
            k.set_digits_entered(entered);
            let dots: Vec<_> =
                ElementHandle::find_by_accessible_label(&k, "入力した桁数").collect();
            assert_eq!(dots.len(), 1, "{screen:?}");
            assert_eq!(
                dots[0].accessible_value().unwrap_or_default(),
                format!("{entered} / {length}")
            );
        }
    }
}
