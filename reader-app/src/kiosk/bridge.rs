//! The UI bridge: views, voice prompts, the camera preview and the shuffled PIN pad go to the
//! Slint window on its thread; the window's touches come back as session events.

use crate::errors::Failure;
use std::sync::mpsc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::session::{Event, Prompt, Screen, Touch, View};

use super::view;

/// Sends the window's touches and keypad keys to the session.
pub(super) fn connect_touches(
    window: &ui::KioskWindow,
    tx: &mpsc::Sender<Event>,
    keypad: crate::keypad::KeypadConfig,
) {
    let send = tx.clone();
    view::connect_keys(window, keypad, move |event| {
        let _ = send.send(event);
    });
    let send = tx.clone();
    window.on_call_staff(move || {
        let _ = send.send(Event::Touch(Touch::CallStaff));
    });
    let send = tx.clone();
    window.on_select_language(move |code| {
        if let Some(lang) = crate::session::Lang::from_code(&code) {
            let _ = send.send(Event::Touch(Touch::Language(lang)));
        }
    });
    let send = tx.clone();
    let weak = window.as_weak();
    window.on_act(move |action, arg| {
        let Some(window) = weak.upgrade() else { return };
        let rows = view::consent_items(&window);
        if let Some(touch) = view::touch(action, arg, &rows) {
            let _ = send.send(Event::Touch(touch));
        }
    });
}

/// The digit keys of a shuffling pad: in order in assisted mode (the keys stay where the
/// fingers learnt them), else shuffled.
pub fn pad_keys(assisted: bool) -> [i32; 10] {
    if assisted {
        ORDERED_DIGITS
    } else {
        shuffled_digits()
    }
}

/// The ten digits in a random order (Fisher–Yates over the system RNG).
pub fn shuffled_digits() -> [i32; 10] {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut keys = ORDERED_DIGITS;
    let mut random = [0u8; 10];
    if SystemRandom::new().fill(&mut random).is_err() {
        tracing::warn!("no system randomness: PIN pad keeps its order");
        return keys;
    }
    for i in (1..keys.len()).rev() {
        keys.swap(i, usize::from(random[i]) % (i + 1));
    }
    keys
}

pub(super) fn set_pad_keys(ui: &slint::Weak<ui::KioskWindow>, keys: [i32; 10]) {
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            w.set_pad_keys(slint::ModelRc::new(slint::VecModel::from(keys.to_vec())));
        }
    });
}

/// The ten digits in order (assisted mode never shuffles the pad).
pub const ORDERED_DIGITS: [i32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];

/// Takes `prompt`'s words in `lang` from the window's translations and speaks them; the key
/// tone goes straight to the voice.
pub(super) fn speak(
    ui: &slint::Weak<ui::KioskWindow>,
    voice: &crate::voice::Voice,
    prompt: Prompt,
    lang: crate::session::Lang,
    keypad: bool,
) {
    use crate::voice::Utterance;
    if prompt == Prompt::Tone {
        voice.say(Utterance::Tone);
        return;
    }
    let (tx, rx) = mpsc::channel();
    let ui = ui.clone();
    let asked = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            view::select_language(lang);
            let _ = tx.send(view::prompt_text(&w, prompt, lang, keypad));
        }
    });
    if asked.is_ok() {
        if let Ok(Some(text)) = rx.recv_timeout(Duration::from_secs(1)) {
            voice.say(Utterance::Text(lang, text));
        }
    }
}

type Preview = slint::SharedPixelBuffer<slint::Rgb8Pixel>;

thread_local! {
    /// The preview frame on screen (UI thread), kept to zeroize it once replaced.
    static SHOWN_PREVIEW: std::cell::RefCell<Option<Preview>> = const { std::cell::RefCell::new(None) };
}

/// Shows `next` (or nothing) as the preview, then zeroizes the frame it replaced: once the
/// window no longer shows it, this is its only reference and it is overwritten in place.
pub(super) fn show_preview(w: &ui::KioskWindow, next: Option<Preview>) {
    let image = next.as_ref().map_or_else(slint::Image::default, |b| {
        slint::Image::from_rgb8(b.clone())
    });
    w.set_preview(image);
    if let Some(mut old) = SHOWN_PREVIEW.with(|shown| shown.replace(next)) {
        zeroize::Zeroize::zeroize(old.make_mut_bytes());
    }
}

/// Drops the last preview frame from the window and zeroizes it.
pub(super) fn clear_preview(ui: &slint::Weak<ui::KioskWindow>) {
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(w) = ui.upgrade() {
            show_preview(&w, None);
        }
    });
}

/// Shows `view` on the UI thread; errors are logged with their staff cause. With `failure`
/// (the adapter's words for the error on screen, [`Failure`]'s text), staff see that in place
/// of the catalogue's cause alone, set with the screen so that no frame shows the one without
/// the other.
pub(super) fn show(ui: &slint::Weak<ui::KioskWindow>, view: View, failure: Option<&Failure>) {
    match view.error {
        Some(e) if view.screen == Screen::Error => {
            let text = e.text();
            tracing::warn!(code = text.code, cause = text.staff, "error shown");
        }
        _ => tracing::info!(screen = ?view.screen, "screen shown"),
    }
    let staff = failure.map(Failure::to_string);
    let ui = ui.clone();
    let _ = slint::invoke_from_event_loop(move || {
        if let Some(window) = ui.upgrade() {
            view::apply(&window, &view);
            if let Some(text) = staff {
                window.set_staff_cause(text.into());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn shuffled_digits_are_a_permutation() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let keys = super::shuffled_digits();
            let mut sorted = keys;
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            seen.insert(keys);
        }
        assert!(seen.len() > 1, "20 shuffles gave one order");
    }

    #[test]
    fn assisted_mode_never_shuffles_the_pad() {
        for _ in 0..20 {
            assert_eq!(super::pad_keys(true), super::ORDERED_DIGITS);
        }
        let orders: std::collections::HashSet<_> =
            (0..20).map(|_| super::pad_keys(false)).collect();
        assert!(orders.len() > 1);
    }
}
