//! Slint screens of the kiosk: a view of the session state, no card or face logic.
//!
//! The app drives [`KioskWindow`] through its properties (the view model: `screen`, notices,
//! PIN tries, face guidance, consent rows, answer, staff fields, `language`, `demo-mode` …) and
//! callbacks (`act(Action, arg)` for every touch, `call-staff`, `select-language`, the demo
//! strip's, `key(text)` for the keypad, `toggle-assisted`). [`Texts`] holds translated wording
//! shared by screens and the voice prompts, [`KeypadTexts`] the keypad's hints and prompts.
//! Translations are bundled from `translations/<lang>/LC_MESSAGES/mynakiosk-ui.po` (msgids in
//! Japanese) and switched with `slint::select_bundled_translation`.

pub mod phrases;
pub mod snapshot;

slint::include_modules!();
