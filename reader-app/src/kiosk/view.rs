//! The session's [`View`] onto the Slint window, and the window's touches back into [`Touch`]es.

use slint::{ModelRc, VecModel};

use slint::ComponentHandle;

use crate::keypad::KeypadConfig;
use crate::session::{
    Challenge, ConsentItem, Event, Guidance, Lang, Notice, Prompt, Qualification, Screen, Touch,
    View, VisualReason,
};

/// Sets every property of `window` from `view`, in the view's language.
pub fn apply(window: &ui::KioskWindow, view: &View) {
    select_language(view.language);
    window.set_screen(screen(view.screen));
    window.set_language(view.language.code().into());
    let lang = view.language;
    if let Some(e) = view.error {
        let text = e.text();
        window.set_error_message(
            ui::phrases::keep_phrases(lang.code(), text.patient_in(lang)).into(),
        );
        window.set_error_code(text.code.into());
    }
    let days = view.notices.iter().find_map(|n| match *n {
        Notice::CertificateExpiresSoon { days } => Some(days),
        _ => None,
    });
    let notices: Vec<ui::Notice> = view.notices.iter().map(|&n| ui_notice(n)).collect();
    let heard: Vec<ui::Notice> = view.heard.iter().map(|&n| ui_notice(n)).collect();
    window.set_heard_notices(ModelRc::new(VecModel::from(heard)));
    window.set_notices(ModelRc::new(VecModel::from(notices)));
    window.set_expiry_days(i32::try_from(days.unwrap_or(0)).unwrap_or(i32::MAX));
    window.set_pin_retries(view.pin_retries.map_or(-1, i32::from));
    window.set_face_available(view.face_available);
    window.set_pin_available(view.pin_available);
    window.set_proxy(view.proxy);
    window.set_digits_entered(i32::from(view.digits_entered));
    window.set_guidance(view.guidance.map_or(ui::Guidance::None, guidance));
    window.set_challenge(view.challenge.map_or(ui::Challenge::None, challenge));
    window.set_seconds_left(i32::try_from(view.seconds_left).unwrap_or(i32::MAX));
    window.set_attempt(i32::from(view.attempt));
    window.set_max_attempts(i32::from(view.max_attempts));
    let rows: Vec<ui::ConsentRow> = view
        .consent
        .iter()
        .map(|&(item, agreed)| ui::ConsentRow {
            kind: consent_kind(item),
            agreed,
        })
        .collect();
    window.set_consent(ModelRc::new(VecModel::from(rows)));
    window.set_comprehensive(view.comprehensive);
    if let Some(answer) = view.answer {
        window.set_answer(match answer {
            Qualification::Valid => ui::Answer::Valid,
            Qualification::Invalid => ui::Answer::Invalid,
            Qualification::NotFound => ui::Answer::NotFound,
            Qualification::NotRegistered => ui::Answer::NotRegistered,
        });
    }
    window.set_operator(
        view.operator
            .as_ref()
            .map_or(String::new(), |o| o.0.clone())
            .into(),
    );
    window.set_staff_cause(
        view.last_error
            .map_or(String::new(), |e| {
                let t = e.text();
                format!("{} {}", t.code, t.staff)
            })
            .into(),
    );
    window.set_visual_available(view.visual_available);
    window.set_assisted(view.assisted);
}

/// Sends the window's keys, through the keypad map, and the ゆっくり操作 touch to `send`; the
/// hints name the map's keys.
pub fn connect_keys(
    window: &ui::KioskWindow,
    keypad: KeypadConfig,
    send: impl Fn(Event) + Clone + 'static,
) {
    window.set_keypad_hints(keypad.enabled);
    // The first key of each binding, as the config names it.
    let first = |names: &[String]| names.first().cloned().unwrap_or_default().into();
    let hints = window.global::<ui::KeypadTexts>();
    hints.set_enter_key(first(&keypad.enter));
    hints.set_back_key(first(&keypad.back));
    hints.set_cancel_key(first(&keypad.cancel));
    hints.set_staff_key(first(&keypad.call_staff));
    hints.set_repeat_key(first(&keypad.repeat));
    hints.set_help_key(first(&keypad.help));
    let to_session = send.clone();
    window.on_key(move |text| match keypad.key(&text) {
        Some(key) => {
            to_session(Event::Key(key));
            true
        }
        None => false,
    });
    window.on_toggle_assisted(move || send(Event::Touch(Touch::Assisted)));
}

/// What the voice says for `prompt` in `lang` (the window's translation selected): a screen's
/// notices, its prompt, and the keypad's part when `keypad` is fitted; `None` for the key tone.
pub fn prompt_text(
    w: &ui::KioskWindow,
    prompt: Prompt,
    lang: Lang,
    keypad: bool,
) -> Option<String> {
    let texts = w.global::<ui::Texts>();
    let keys = w.global::<ui::KeypadTexts>();
    let hint = |s: Screen| {
        if keypad {
            keys.invoke_hint(screen(s), w.get_face_available(), w.get_pin_available())
                .to_string()
        } else {
            String::new()
        }
    };
    // The screen's notices but those of the card an earlier screen's prompt said.
    let notices = || -> Vec<String> {
        use slint::Model;
        let days = w.get_expiry_days();
        let heard: Vec<ui::Notice> = w.get_heard_notices().iter().collect();
        w.get_notices()
            .iter()
            .filter(|n| !heard.contains(n))
            .map(|n| texts.invoke_notice(n, days).to_string())
            .collect()
    };
    let parts: Vec<String> = match prompt {
        Prompt::Tone => return None,
        Prompt::Screen(Screen::Error) => {
            vec![w.get_error_message().to_string(), hint(Screen::Error)]
        }
        Prompt::Screen(Screen::Result) => vec![
            texts.invoke_answer(w.get_answer()).to_string(),
            texts.invoke_next_step(w.get_answer()).to_string(),
            texts.invoke_prompt(ui::Screen::Result).to_string(),
        ],
        Prompt::Screen(Screen::MethodChoice) => {
            let (face, pin) = (w.get_face_available(), w.get_pin_available());
            let choice = texts.invoke_method_choice(face, pin).to_string();
            [notices(), vec![choice, hint(Screen::MethodChoice)]].concat()
        }
        Prompt::Screen(s) => [
            notices(),
            vec![texts.invoke_prompt(screen(s)).to_string(), hint(s)],
        ]
        .concat(),
        Prompt::Challenge(c) => vec![
            texts.invoke_prompt(ui::Screen::FaceCapture).to_string(),
            texts.invoke_challenge(challenge(c)).to_string(),
            hint(Screen::FaceCapture),
        ],
        Prompt::Guidance(g) => vec![texts.invoke_guidance(guidance(g)).to_string()],
        Prompt::PinEntered => vec![keys.invoke_pin_entered().to_string()],
        Prompt::ConsentItem(item) => vec![keys.invoke_item(consent_kind(item)).to_string()],
        Prompt::Help => vec![keys.invoke_help().to_string()],
        Prompt::Assisted(on) => vec![keys.invoke_assisted(on).to_string()],
    };
    let wide = matches!(lang, Lang::Ja | Lang::ZhHans);
    // The screen's texts keep their phrases whole with word joiners; the voice gets plain words.
    let mut said: Vec<String> = Vec::new();
    for part in &parts {
        let part = part
            .replace(ui::phrases::WORD_JOINER, "")
            .trim_end_matches(['。', '.'])
            .to_owned();
        // A notice that says what the prompt says (係員が参ります) is said once.
        if !part.is_empty() && !said.contains(&part) {
            said.push(part);
        }
    }
    let mut text = String::new();
    for part in said {
        if !text.is_empty() {
            // A question or exclamation mark ends its sentence already.
            let ended = text.ends_with(['?', '？', '!', '！']);
            text += match (ended, wide) {
                (true, true) => "",
                (true, false) => " ",
                (false, true) => "。",
                (false, false) => ". ",
            };
        }
        text += &part;
    }
    Some(text)
}

/// Every fixed prompt in every language, to render ahead of time (the error and result
/// screens' words, and prompts after a notice, are rendered when first said). Run on the
/// window before its first view: it sets the methods' availability to word each choice.
pub fn all_prompts(w: &ui::KioskWindow, keypad: bool) -> Vec<(Lang, String)> {
    let mut prompts: Vec<Prompt> = Screen::ALL
        .into_iter()
        .filter(|s| !matches!(s, Screen::Error | Screen::Result))
        .map(Prompt::Screen)
        .collect();
    prompts.extend(ConsentItem::ALL.map(Prompt::ConsentItem));
    prompts.extend(
        [
            Challenge::TurnLeft,
            Challenge::TurnRight,
            Challenge::Closer,
            Challenge::Blink,
        ]
        .map(Prompt::Challenge),
    );
    prompts.extend(
        [
            Guidance::NoFace,
            Guidance::SeveralFaces,
            Guidance::MoveCloser,
            Guidance::MoveBack,
            Guidance::CenterFace,
            Guidance::RemoveMask,
            Guidance::LookStraight,
            Guidance::UncoverEyes,
            Guidance::TooDark,
        ]
        .map(Prompt::Guidance),
    );
    prompts.extend([
        Prompt::PinEntered,
        Prompt::Help,
        Prompt::Assisted(true),
        Prompt::Assisted(false),
    ]);
    let mut out = Vec::new();
    for lang in Lang::ALL {
        select_language(lang);
        w.set_face_available(true);
        w.set_pin_available(true);
        out.extend(
            prompts
                .iter()
                .filter_map(|&p| prompt_text(w, p, lang, keypad))
                .map(|text| (lang, text)),
        );
        // The method choice offers the methods the card allows.
        for (face, pin) in [(true, false), (false, true), (false, false)] {
            w.set_face_available(face);
            w.set_pin_available(pin);
            let choice = Prompt::Screen(Screen::MethodChoice);
            out.extend(prompt_text(w, choice, lang, keypad).map(|text| (lang, text)));
        }
        w.set_face_available(false);
        w.set_pin_available(false);
    }
    select_language(Lang::Ja);
    out
}

/// Switches the bundled translation (Japanese too: its bundle has the phrase breaks).
pub fn select_language(lang: Lang) {
    if let Err(e) = slint::select_bundled_translation(lang.code()) {
        tracing::warn!(error = %e, language = lang.code(), "translation not available");
    }
}

/// The touch a window action stands for; `arg` is the digit, consent row or reason index.
pub fn touch(action: ui::Action, arg: i32, consent: &[(ConsentItem, bool)]) -> Option<Touch> {
    use ui::Action as A;
    Some(match action {
        A::ChooseFace => Touch::ChooseFace,
        A::ChoosePin => Touch::ChoosePin,
        A::ProxyOn => Touch::Proxy(true),
        A::ProxyOff => Touch::Proxy(false),
        A::Digit => Touch::Digit(u8::try_from(arg).ok().filter(|d| *d <= 9)?),
        A::Backspace => Touch::Backspace,
        A::Clear => Touch::Clear,
        A::Submit => Touch::Submit,
        A::Cancel => Touch::Cancel,
        A::ConsentAll => Touch::ConsentAll,
        A::ConsentPerItem => Touch::ConsentPerItem,
        A::ConsentToggle => Touch::ConsentToggle(consent.get(usize::try_from(arg).ok()?)?.0),
        A::ConsentReview => Touch::ConsentReview,
        A::ConsentConfirm => Touch::ConsentConfirm,
        A::RegisterYes => Touch::Register(true),
        A::RegisterNo => Touch::Register(false),
        A::StaffVisual => Touch::StaffVisual(*VisualReason::ALL.get(usize::try_from(arg).ok()?)?),
        A::StaffChooseFace => Touch::StaffChooseFace,
        A::StaffChoosePin => Touch::StaffChoosePin,
        A::StaffExit => Touch::StaffExit,
    })
}

macro_rules! ui_screen {
    ($($screen:ident),*) => {
        /// The window's screen showing `screen` (same names in `ui/ui/types.slint`).
        pub fn screen(screen: Screen) -> ui::Screen {
            match screen {
                $(Screen::$screen => ui::Screen::$screen),*
            }
        }
    };
}
crate::session::with_screens!(ui_screen);

fn ui_notice(n: Notice) -> ui::Notice {
    match n {
        Notice::CardRemoved => ui::Notice::CardRemoved,
        Notice::ImagesDeleted => ui::Notice::ImagesDeleted,
        Notice::CertificateExpiresSoon { .. } => ui::Notice::ExpiresSoon,
        Notice::FaceFailed => ui::Notice::FaceFailed,
        Notice::FaceUnavailable => ui::Notice::FaceUnavailable,
        Notice::PinWrong => ui::Notice::PinWrong,
        Notice::PinLocked => ui::Notice::PinLocked,
        Notice::PinUnusable => ui::Notice::PinUnusable,
        Notice::Proxy => ui::Notice::Proxy,
        Notice::StaffRefused => ui::Notice::StaffRefused,
        Notice::StaffCardRefused => ui::Notice::StaffCardRefused,
        Notice::ReplaceCardFront => ui::Notice::ReplaceCardFront,
        Notice::OneCardFrontOnly => ui::Notice::OneCardFrontOnly,
        Notice::TurnCardFaceUp => ui::Notice::TurnCardFaceUp,
        Notice::StaffCalled => ui::Notice::StaffCalled,
        Notice::StaffComing => ui::Notice::StaffComing,
        Notice::UseFace => ui::Notice::UseFace,
        Notice::UsePin => ui::Notice::UsePin,
        Notice::EnterPinAgain => ui::Notice::EnterPinAgain,
        Notice::CallStaff => ui::Notice::CallStaff,
        Notice::TakeCardPlaceAgain => ui::Notice::TakeCardPlaceAgain,
        Notice::TakeCardAskReception => ui::Notice::TakeCardAskReception,
    }
}

fn guidance(g: Guidance) -> ui::Guidance {
    match g {
        Guidance::NoFace => ui::Guidance::NoFace,
        Guidance::SeveralFaces => ui::Guidance::SeveralFaces,
        Guidance::MoveCloser => ui::Guidance::MoveCloser,
        Guidance::MoveBack => ui::Guidance::MoveBack,
        Guidance::CenterFace => ui::Guidance::CenterFace,
        Guidance::RemoveMask => ui::Guidance::RemoveMask,
        Guidance::LookStraight => ui::Guidance::LookStraight,
        Guidance::UncoverEyes => ui::Guidance::UncoverEyes,
        Guidance::TooDark => ui::Guidance::TooDark,
        Guidance::HoldStill => ui::Guidance::HoldStill,
    }
}

fn challenge(c: Challenge) -> ui::Challenge {
    match c {
        Challenge::TurnLeft => ui::Challenge::TurnLeft,
        Challenge::TurnRight => ui::Challenge::TurnRight,
        Challenge::Closer => ui::Challenge::Closer,
        Challenge::Blink => ui::Challenge::Blink,
    }
}

fn consent_kind(item: ConsentItem) -> ui::ConsentKind {
    match item {
        ConsentItem::Drug => ui::ConsentKind::Drug,
        ConsentItem::Checkup => ui::ConsentKind::Checkup,
        ConsentItem::Clinical => ui::ConsentKind::Clinical,
        ConsentItem::Surgery => ui::ConsentKind::Surgery,
    }
}

/// The consent rows the window shows, to resolve a toggle's row index.
pub fn consent_items(window: &ui::KioskWindow) -> Vec<(ConsentItem, bool)> {
    use slint::Model;
    window
        .get_consent()
        .iter()
        .map(|row| {
            let item = match row.kind {
                ui::ConsentKind::Drug => ConsentItem::Drug,
                ui::ConsentKind::Checkup => ConsentItem::Checkup,
                ui::ConsentKind::Clinical => ConsentItem::Clinical,
                ui::ConsentKind::Surgery => ConsentItem::Surgery,
            };
            (item, row.agreed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use i_slint_backend_testing::ElementHandle;
    use slint::{ComponentHandle, LogicalSize};

    use super::*;
    use crate::session::{CardIdentity, Certificate, Event, PinOutcome, PinState, Session};

    fn window() -> ui::KioskWindow {
        thread_local! {
            static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
        }
        BACKEND.with(|_| ());
        let w = ui::KioskWindow::new().unwrap();
        w.window().set_size(LogicalSize::new(1280.0, 800.0));
        w
    }

    /// Whether `text` is on the window.
    fn shows(w: &ui::KioskWindow, text: &str) -> bool {
        ElementHandle::find_by_accessible_label(w, text)
            .next()
            .is_some()
    }

    /// A session at the method choice with a card whose PIN is `pin`.
    fn at_choice(pin: PinState) -> Session {
        let mut s = Session::default();
        s.handle(Event::CardInserted { reader: "r".into() });
        s.handle(Event::CardIdentityRead(Ok(CardIdentity {
            certificate: Certificate {
                serial: "01".into(),
                not_after: String::new(),
                days_left: 500,
                der: Vec::new(),
            },
            pin,
            pin_b_retries: Some(10),
        })));
        s
    }

    fn wrong_pin(s: &mut Session, remaining: u8) {
        s.handle(Event::Touch(Touch::ChoosePin));
        for d in [1, 2, 3, 4] {
            s.handle(Event::Touch(Touch::Digit(d)));
        }
        s.handle(Event::Touch(Touch::Submit));
        s.handle(Event::PinVerified(Ok(PinOutcome::Wrong { remaining })));
    }

    #[test]
    fn a_wrong_pin_is_said_with_the_tries_left_and_what_to_do_in_the_patients_language() {
        let w = window();
        let mut s = at_choice(PinState::Remaining(3));
        wrong_pin(&mut s, 2);
        apply(&w, &s.view());
        assert!(shows(&w, "暗証番号が違います"));
        assert!(shows(&w, "暗証番号はあと2回入力できます"));
        assert!(shows(&w, "もう一度入力してください"));
        s.handle(Event::Touch(Touch::Language(Lang::En)));
        apply(&w, &s.view());
        let english = shows(&w, "The PIN is incorrect") && shows(&w, "Please enter it again");
        select_language(Lang::Ja);
        assert!(english);
    }

    #[test]
    fn a_locked_pin_is_never_told_to_unlock_or_use_it() {
        let w = window();
        let mut s = at_choice(PinState::Remaining(1));
        wrong_pin(&mut s, 0);
        apply(&w, &s.view());
        assert!(shows(&w, "暗証番号がロックされました"));
        assert!(shows(&w, "顔認証をお使いください"));
        let s = at_choice(PinState::Remaining(0));
        apply(&w, &s.view());
        assert!(shows(&w, "このカードでは暗証番号は使えません"));
        for stale in [
            "暗証番号をお使いください",
            "係員を呼ぶボタンを押してください",
        ] {
            assert!(!shows(&w, stale), "{stale}");
        }
    }

    #[test]
    fn the_error_screen_says_what_happens_next() {
        let w = window();
        let mut s = Session::default();
        s.handle(Event::CardInserted { reader: "r".into() });
        s.handle(Event::CardIdentityRead(Err(
            crate::errors::KioskError::CertificateRevoked,
        )));
        apply(&w, &s.view());
        assert!(shows(&w, "カードをお取りになり、受付にお声がけください"));
    }

    #[test]
    fn consent_item_buttons_say_what_a_tap_does() {
        let w = window();
        let mut v = View::new(Screen::ConsentItems, Lang::Ja);
        v.consent = vec![(ConsentItem::Drug, true), (ConsentItem::Surgery, false)];
        apply(&w, &v);
        assert!(shows(&w, "薬剤情報: 提供する"));
        assert!(
            shows(&w, "薬剤情報: 提供をやめる"),
            "agreed: a tap stops it"
        );
        assert!(shows(&w, "手術情報: 提供しない"));
        assert!(
            shows(&w, "手術情報: 提供する"),
            "not agreed: a tap gives it"
        );
    }
}
