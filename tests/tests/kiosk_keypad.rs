//! The eyes-free path with keys only: real key events dispatched to the real Slint window
//! (headless testing backend) go through the default keypad map into the session; device
//! results go in as events. The tests assert the prompts said, in order, and that no PIN digit
//! is ever in a prompt's words or in what the runtime logs (events and effects).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use mynakiosk::keypad::KeypadConfig;
use mynakiosk::kiosk::view;
use mynakiosk::session::*;
use slint::platform::WindowEvent;
use slint::{ComponentHandle, LogicalSize};

const READER: &str = "Virtual PCD 00 00";
/// None of these digits is in any prompt's words, so any of them there would be a leak.
const PIN: &str = "9786";

#[derive(Default)]
struct Record {
    effects: Vec<Effect>,
    /// Every view shown, in order.
    views: Vec<View>,
    said: Vec<Prompt>,
    words: Vec<String>,
    /// What the runtime logs at debug level: each event and effect.
    log: String,
}

struct Kiosk {
    window: ui::KioskWindow,
    record: Rc<RefCell<Record>>,
    session: Rc<RefCell<Session>>,
}

fn dispatch(w: &ui::KioskWindow, s: &RefCell<Session>, r: &RefCell<Record>, event: Event) {
    r.borrow_mut().log += &format!("{event:?}\n");
    let out = s.borrow_mut().handle(event);
    for effect in out {
        let mut r = r.borrow_mut();
        r.log += &format!("{effect:?}\n");
        match effect {
            Effect::Show(v) => {
                view::apply(w, &v);
                r.views.push(v);
            }
            Effect::Speak(p, lang) => {
                r.said.push(p);
                r.words.extend(view::prompt_text(w, p, lang, true));
            }
            other => r.effects.push(other),
        }
    }
}

impl Kiosk {
    fn with(settings: Settings) -> Self {
        Self::with_keys(settings, KeypadConfig::default())
    }

    fn with_keys(settings: Settings, keypad: KeypadConfig) -> Self {
        let window = crate::common::window_without_event_loop();
        let session = Rc::new(RefCell::new(Session::new(settings)));
        let record = Rc::new(RefCell::new(Record::default()));
        let weak = window.as_weak();
        let (s, r) = (session.clone(), record.clone());
        view::connect_keys(&window, keypad, move |event| {
            dispatch(&weak.upgrade().unwrap(), &s, &r, event);
        });
        window.show().unwrap();
        Self {
            window,
            record,
            session,
        }
    }

    fn new() -> Self {
        Self::with(Settings::default())
    }

    fn send(&self, event: Event) {
        dispatch(&self.window, &self.session, &self.record, event);
    }

    /// Presses and releases the key that types `text` on the window.
    fn key(&self, text: &str) {
        let w = self.window.window();
        w.dispatch_event(WindowEvent::KeyPressed { text: text.into() });
        w.dispatch_event(WindowEvent::KeyReleased { text: text.into() });
    }

    fn keys(&self, texts: &str) {
        for c in texts.chars() {
            self.key(&c.to_string());
        }
    }

    fn screen(&self) -> ui::Screen {
        self.window.get_screen()
    }

    /// Prompts said since the last call.
    fn said(&self) -> Vec<Prompt> {
        std::mem::take(&mut self.record.borrow_mut().said)
    }

    fn effects(&self) -> Vec<Effect> {
        std::mem::take(&mut self.record.borrow_mut().effects)
    }

    fn place_card(&self, pin: PinState) {
        self.send(Event::CardInserted {
            reader: READER.into(),
        });
        self.send(Event::CardIdentityRead(Ok(CardIdentity {
            certificate: Certificate {
                serial: "1A2B3C".into(),
                not_after: "2030-03-31".into(),
                days_left: 800,
                der: vec![0x30, 0x82, 0x01],
            },
            pin,
            pin_b_retries: Some(10),
        })));
        assert_eq!(self.screen(), ui::Screen::MethodChoice);
    }

    /// The PIN typed on the keypad and Enter; returns what the card is asked to verify.
    fn enter_pin(&self) -> PinEntry {
        self.keys(PIN);
        assert_eq!(self.window.get_digits_entered(), 4);
        self.effects();
        self.key("\n");
        self.effects()
            .into_iter()
            .find_map(|e| match e {
                Effect::VerifyPin(p) => Some(p),
                _ => None,
            })
            .expect("VerifyPin")
    }

    fn proof() -> PinProof {
        PinProof {
            challenge: vec![7; 32],
            signature: vec![9; 256],
        }
    }

    /// From the method choice: `2`, the PIN by keys, Enter, and the card accepts it.
    fn verified_by_pin(&self) {
        self.key("2");
        self.enter_pin();
        self.send(Event::PinVerified(Ok(PinOutcome::Verified(Self::proof()))));
        assert_eq!(self.screen(), ui::Screen::ConsentChoice);
    }

    /// Consent with the keys `answers` (1 yes, 2 no per item; or `1` for all), Enter on the
    /// summary, the reception answers `Valid`; returns what was handed off.
    fn consent_and_result(&self, answers: &str) -> VerificationResult {
        assert_eq!(self.screen(), ui::Screen::ConsentChoice);
        self.keys(answers);
        assert_eq!(self.screen(), ui::Screen::ConsentSummary);
        self.key("\n");
        assert_eq!(self.screen(), ui::Screen::Delivering);
        let result = self
            .effects()
            .into_iter()
            .find_map(|e| match e {
                Effect::DeliverResult(r) => Some(r),
                _ => None,
            })
            .expect("DeliverResult");
        self.send(Event::Delivered(Ok(Qualification::Valid)));
        assert_eq!(self.screen(), ui::Screen::Result);
        result
    }

    /// No PIN digit in any prompt's words or in the log.
    fn assert_no_pin_leaked(&self) {
        let r = self.record.borrow();
        for words in &r.words {
            assert!(
                !words.contains(|c| PIN.contains(c)),
                "a PIN digit in a prompt: {words}"
            );
        }
        assert!(!holds_pin(&r.log, PIN), "the PIN in the log");
        for d in PIN.chars() {
            assert!(
                !r.log.contains(&format!("Digit({d})")),
                "digit {d} in the log"
            );
        }
        assert!(
            r.log.contains("Digit(_)"),
            "keys were logged without their digit"
        );
    }
}

use Prompt::Screen as On;

mod walk;

#[test]
fn pin_success_with_keys_only() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    assert_eq!(k.said(), [On(Screen::Reading), On(Screen::MethodChoice)]);
    k.key("2");
    assert_eq!(k.enter_pin().expose(), PIN);
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(Kiosk::proof()))));
    let result = k.consent_and_result("1");
    assert!(result.consent.comprehensive);
    assert_eq!(
        k.said(),
        [
            On(Screen::PinEntry),
            Prompt::Tone,
            Prompt::Tone,
            Prompt::Tone,
            Prompt::PinEntered,
            On(Screen::ConsentChoice),
            On(Screen::ConsentSummary),
            On(Screen::Delivering),
            On(Screen::Result),
        ]
    );
    let words = k.record.borrow().words.clone();
    assert!(
        words.iter().any(|w| w.contains("顔認証は1、暗証番号は2")),
        "the method prompt says the keys: {words:?}"
    );
    assert!(words.iter().any(|w| w.contains("受付が完了しました")));
    k.assert_no_pin_leaked();
}

#[test]
fn a_wrong_pin_is_said_then_the_right_one_is_entered_with_keys() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.key("2");
    k.said();
    k.enter_pin();
    k.send(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 2 })));
    assert_eq!(k.screen(), ui::Screen::PinEntry);
    assert_eq!(
        k.said(),
        [
            Prompt::Tone,
            Prompt::Tone,
            Prompt::Tone,
            Prompt::PinEntered,
            On(Screen::PinEntry)
        ]
    );
    let words = k.record.borrow().words.clone();
    let last = words.last().unwrap();
    assert!(
        last.starts_with("暗証番号が違います。もう一度入力してください"),
        "{last}"
    );
    k.enter_pin();
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(Kiosk::proof()))));
    assert_eq!(k.screen(), ui::Screen::ConsentChoice);
    k.assert_no_pin_leaked();
}

#[test]
fn face_then_pin_fallback_with_keys() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.key("1");
    assert_eq!(k.screen(), ui::Screen::FacePreparing);
    k.send(Event::PinBCounterRead(Ok(Some(10))));
    k.send(Event::CardFrontRead(Ok(CardFrontReading::Read {
        pin_b: PinB::new("90010120291234"),
        min_confidence: 1.0,
        agreeing_frames: 2,
        second_look: false,
    })));
    k.send(Event::PinBSubmitted(Ok(PinBOutcome::Accepted)));
    k.send(Event::FacePhotoRead(Ok(())));
    assert_eq!(k.screen(), ui::Screen::FaceCapture);
    k.said();
    for _ in 0..3 {
        k.send(Event::FaceCaptured(Ok(Capture::Captured {
            liveness: LivenessCheck::Passed,
        })));
        k.send(Event::FacesCompared(Ok(FaceMatch {
            score: 0.08,
            matched: false,
        })));
    }
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    let said = k.said();
    assert_eq!(said.last(), Some(&On(Screen::MethodChoice)));
    let words = k.record.borrow().words.clone();
    let said = words.last().unwrap();
    assert!(said.contains("暗証番号をお使いください"), "{said}");
    assert!(
        said.ends_with("キーパッドでは、暗証番号は2を押してください"),
        "{said}"
    );
    k.key("1");
    assert_eq!(
        k.screen(),
        ui::Screen::MethodChoice,
        "face is no longer offered"
    );
    k.verified_by_pin();
    assert_eq!(k.screen(), ui::Screen::ConsentChoice);
    k.assert_no_pin_leaked();
}

#[test]
fn consent_yes_and_no_per_item_with_keys() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.verified_by_pin();
    k.said();
    let result = k.consent_and_result("22121");
    assert_eq!(
        result.consent.items,
        [
            (ConsentItem::Drug, false),
            (ConsentItem::Checkup, true),
            (ConsentItem::Clinical, false),
            (ConsentItem::Surgery, true),
        ]
    );
    assert_eq!(
        k.said()[..5],
        [
            Prompt::ConsentItem(ConsentItem::Drug),
            Prompt::ConsentItem(ConsentItem::Checkup),
            Prompt::ConsentItem(ConsentItem::Clinical),
            Prompt::ConsentItem(ConsentItem::Surgery),
            On(Screen::ConsentSummary),
        ]
    );
    let words = k.record.borrow().words.clone();
    assert!(words
        .iter()
        .any(|w| w.starts_with("薬剤情報を提供しますか。提供する場合は1")));
}

#[test]
fn call_staff_help_and_repeat_with_keys() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.said();
    k.key("*");
    assert_eq!(k.said(), [On(Screen::MethodChoice)]);
    k.key("/");
    assert_eq!(k.said(), [Prompt::Help]);
    assert!(k.effects().contains(&Effect::NotifyStaff));
    assert!(k.window.get_assisted(), "help switches assisted mode on");
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    k.key("+");
    assert_eq!(k.screen(), ui::Screen::StaffLogin);
    assert!(k.effects().contains(&Effect::NotifyStaff));
}

#[test]
fn cancel_with_keys_goes_back_to_the_method_choice() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.key("2");
    k.keys("97");
    k.key("-");
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    k.key("2");
    assert_eq!(
        k.window.get_digits_entered(),
        0,
        "the pad starts empty again"
    );
    k.key("\u{1b}");
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    k.key("1");
    assert_eq!(k.screen(), ui::Screen::FacePreparing);
    k.key("-");
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    k.assert_no_pin_leaked();
}

/// The headline's height on the method choice (its type size follows assisted mode).
fn headline_height(k: &Kiosk) -> f32 {
    ElementHandle::find_by_element_id(&k.window, "MethodChoiceScreen::title")
        .next()
        .expect("the method headline")
        .size()
        .height
}

#[test]
fn assisted_mode_changes_the_type_timeouts_and_consent_layout_as_configured() {
    let k = Kiosk::with(Settings {
        idle_seconds: 40,
        assisted_timeout_factor: 3,
        ..Settings::default()
    });
    k.place_card(PinState::Remaining(3));
    let normal = headline_height(&k);
    k.effects();
    k.key(".");
    assert!(k.window.get_assisted());
    assert_eq!(
        k.said(),
        [
            On(Screen::Reading),
            On(Screen::MethodChoice),
            Prompt::Assisted(true)
        ]
    );
    assert!(k
        .effects()
        .contains(&Effect::StartTimer(TimerId::Idle, Duration::from_secs(120))));
    let larger = headline_height(&k);
    assert!(larger > normal * 1.2, "{normal} → {larger}");
    k.verified_by_pin();
    k.key("2");
    use slint::Model;
    assert_eq!(
        k.window.get_consent().row_count(),
        1,
        "one question per screen"
    );
    k.key(".");
    assert!(!k.window.get_assisted());
    assert_eq!(k.window.get_consent().row_count(), 4);
}

/// Whether `text` holds `pin` as a token of its own or as a list of its digits.
fn holds_pin(text: &str, pin: &str) -> bool {
    let digits: Vec<String> = pin.chars().map(String::from).collect();
    crate::common::shows_secret(text, pin)
        || text.contains(&digits.join(","))
        || text.contains(&digits.join(", "))
}

/// Every file under `dir`, as text (lossy).
fn files_under(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

#[test]
fn the_real_card_path_by_keypad_leaves_no_pin_in_any_file() {
    if crate::common::reran_alone() {
        return;
    }
    let _slots = mynakiosk_tests::pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("test-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let extra = format!(
        "[reader]\nname = \"{}\"\n[card]\ntrust_anchors = [\"{}\"]\n",
        mynakiosk_tests::pcscd::SLOT0_READER,
        anchor.display()
    );
    let config = crate::common::config(dir.path(), &extra);
    crate::common::run_kiosk(
        &config,
        mynakiosk::kiosk::Mode::Production,
        dir.path(),
        |d| {
            d.wait_for(ui::Screen::Waiting);
            let card = crate::common::insert("normal");
            d.wait_for(ui::Screen::MethodChoice);
            d.key("2");
            d.wait_for(ui::Screen::PinEntry);
            for digit in ["1", "2", "3", "4"] {
                d.key(digit);
            }
            d.wait_until("4 digits", |d| d.on_ui(|w| w.get_digits_entered()) == 4);
            d.key("\n");
            d.wait_for(ui::Screen::ConsentChoice);
            d.key("2");
            d.wait_for(ui::Screen::ConsentItems);
            for answer in ["1", "2", "2", "1"] {
                d.key(answer);
            }
            d.wait_for(ui::Screen::ConsentSummary);
            d.key("\n");
            let result = d.wait_for_delivery(1);
            assert_eq!(result["method"], "pin", "{result}");
            d.wait_for(ui::Screen::Result);
            crate::common::remove(d, card);
        },
    );
    let mut files = Vec::new();
    files_under(dir.path(), &mut files);
    assert!(
        files.len() >= 3,
        "result, audit log, trust anchor: {files:?}"
    );
    for (path, text) in files {
        assert!(!holds_pin(&text, "1234"), "the PIN in {}", path.display());
    }
}

#[test]
fn a_pin_is_found_as_a_token_or_a_list_only() {
    assert!(holds_pin("{\"pin\":\"1234\"}", "1234"));
    assert!(holds_pin("digits [1, 2, 3, 4]", "1234"));
    assert!(!holds_pin("2026-12-04T15:45:12.123456Z", "1234"));
    assert!(!holds_pin("serial 0A1234FF", "1234"));
}

#[test]
fn every_prompt_said_without_notices_is_rendered_ahead() {
    let k = Kiosk::new();
    let ahead = view::all_prompts(&k.window, true);
    let joined = ahead
        .iter()
        .find(|(_, text)| text.contains(ui::phrases::WORD_JOINER));
    assert_eq!(
        joined, None,
        "the voice gets words without the screen's joiners"
    );
    k.place_card(PinState::Remaining(3));
    k.key("2");
    k.keys(PIN);
    let said = k.record.borrow().words.clone();
    assert!(said.len() >= 3, "{said:?}");
    for words in said {
        assert!(
            ahead
                .iter()
                .any(|(lang, text)| *lang == Lang::Ja && *text == words),
            "not rendered ahead: {words}"
        );
    }
}

#[test]
fn speech_follows_the_chosen_language() {
    let k = Kiosk::new();
    k.place_card(PinState::Remaining(3));
    k.send(Event::Touch(Touch::Language(Lang::En)));
    k.key("2");
    let words = k.record.borrow().words.clone();
    view::select_language(Lang::Ja);
    let english = &words[words.len() - 2..];
    assert_eq!(
        english,
        [
            "Choose how to confirm your identity. On the keypad, press 1 for face recognition or 2 for the PIN",
            "Enter your PIN (4 digits). On the keypad, type the digits and press Enter. Press Backspace to delete one digit",
        ]
    );
}

/// `text` without the screen's word joiners.
fn plain(text: &str) -> String {
    text.replace(ui::phrases::WORD_JOINER, "")
}

/// A keypad whose keys are all remapped: Tab enters, Delete removes a digit, Escape (or -)
/// cancels, # calls staff, = repeats, `,` is help.
fn remapped() -> KeypadConfig {
    let names = |keys: &[&str]| keys.iter().map(|&k| k.to_owned()).collect();
    KeypadConfig {
        enter: names(&["Tab"]),
        back: names(&["Delete"]),
        cancel: names(&["Escape", "-"]),
        call_staff: names(&["#"]),
        repeat: names(&["="]),
        help: names(&[","]),
        ..KeypadConfig::default()
    }
}

#[test]
fn the_hints_shown_and_said_name_the_configured_keys_in_every_language() {
    let k = Kiosk::with_keys(Settings::default(), remapped());
    k.place_card(PinState::Remaining(3));
    let keys = k.window.global::<ui::KeypadTexts>();
    let shown = || {
        let hint = ElementHandle::find_by_element_id(&k.window, "KeypadBar::hint").next();
        plain(&hint.expect("the keypad hint").accessible_label().unwrap())
    };
    for lang in Lang::ALL {
        k.send(Event::Touch(Touch::Language(lang)));
        let name = |key: &str| plain(&keys.invoke_key_name(key.into()));
        let (enter, back) = (name("Tab"), name("Delete"));
        let defaults = [name("Enter"), name("Backspace")];
        k.key("2");
        assert_eq!(k.screen(), ui::Screen::PinEntry);
        let (shown, said) = (shown(), k.record.borrow().words.last().cloned().unwrap());
        assert!(said.ends_with(&shown), "{lang:?} said: {said}");
        assert!(
            shown.contains(&enter) && shown.contains(&back),
            "{lang:?}: {shown}"
        );
        for default in &defaults {
            assert!(!shown.contains(default), "{lang:?}: {shown}");
        }
        // The keys named do what the hint says; the default ones do nothing.
        k.keys(PIN);
        k.key("\u{8}");
        assert_eq!(k.window.get_digits_entered(), 4);
        k.key("\u{7f}");
        assert_eq!(k.window.get_digits_entered(), 3);
        k.key("\u{1b}");
        assert_eq!(k.screen(), ui::Screen::MethodChoice);
        let heard = k.record.borrow().words.len();
        k.key("=");
        let words = k.record.borrow().words.clone();
        assert_eq!(words.len(), heard + 1, "{lang:?}: = repeats");
        assert_eq!(words[heard], words[heard - 1]);
        let help = plain(&keys.invoke_help());
        for key in ["Tab", "Escape", "#", "="] {
            assert!(help.contains(&name(key)), "{lang:?} help: {help}");
        }
    }
    view::select_language(Lang::Ja);
    k.key("+");
    assert_eq!(k.screen(), ui::Screen::MethodChoice, "+ is not mapped");
    k.key("#");
    assert_eq!(k.screen(), ui::Screen::StaffLogin);
}

/// A character another language's speech would read out in the wrong voice: kana and Han
/// outside Japanese and Chinese (kana outside Japanese), Hangul outside Korean.
fn foreign(lang: Lang, c: char) -> bool {
    let kana = matches!(c, '\u{3040}'..='\u{30ff}');
    let han = matches!(c, '\u{4e00}'..='\u{9fff}');
    let hangul = matches!(c, '\u{ac00}'..='\u{d7af}' | '\u{1100}'..='\u{11ff}');
    match lang {
        Lang::Ja => hangul,
        Lang::ZhHans => kana || hangul,
        Lang::Ko => kana || han,
        Lang::En | Lang::Vi => kana || han || hangul,
    }
}

#[test]
fn every_prompt_with_any_key_map_is_in_the_chosen_language() {
    for keypad in [KeypadConfig::default(), remapped()] {
        let k = Kiosk::with_keys(Settings::default(), keypad);
        let prompts = view::all_prompts(&k.window, true);
        for lang in Lang::ALL {
            let said = prompts.iter().filter(|(l, _)| *l == lang).count();
            assert!(said > 30, "{lang:?}: {said} prompts");
        }
        let wrong: Vec<_> = prompts
            .iter()
            .filter(|(lang, text)| text.chars().any(|c| foreign(*lang, c)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}

/// Whether the element `id` lies wholly inside a window of `size`.
fn inside(w: &ui::KioskWindow, id: &str, (width, height): (f32, f32)) -> bool {
    ElementHandle::find_by_element_id(w, id)
        .next()
        .is_some_and(|e| {
            let (p, s) = (e.absolute_position(), e.size());
            p.x >= -0.5
                && p.y >= -0.5
                && p.x + s.width <= width + 0.5
                && p.y + s.height <= height + 0.5
                && s.width > 0.0
        })
}

#[test]
fn the_keypad_bar_and_call_staff_stay_in_the_window_in_assisted_mode() {
    let k = Kiosk::new();
    k.window.set_assisted(true);
    let mut problems = Vec::new();
    for size in [(800.0, 480.0), (1024.0, 600.0), (1280.0, 800.0)] {
        k.window.window().set_size(LogicalSize::new(size.0, size.1));
        for screen in Screen::ALL {
            k.window.set_screen(view::screen(screen));
            for id in [
                "TopBar::call-staff",
                "KeypadBar::assist",
                "KeypadBar::hint",
                "StatusBar::status",
            ] {
                if !inside(&k.window, id, size) {
                    problems.push(format!("{size:?} {screen:?}: {id}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
