//! Every patient-visible text, in every language, wrapped by Slint's own text layout (parley,
//! with the settings Slint gives it for `wrap: word-wrap`) at each type size and text width of
//! every supported window: no line starts with a small kana or a closing mark, none ends with
//! an opening bracket, and no phrase (Japanese, Chinese) or word is split across lines.

use std::collections::BTreeSet;
use std::path::Path;

use i_slint_backend_testing::ElementHandle;
use i_slint_core::textlayout::sharedparley::parley;
use parley::style::{FontFamily, FontFamilyName, FontWeight, OverflowWrap, WordBreak};
use parley::{FontContext, LayoutContext, StyleProperty};
use slint::{ComponentHandle, LogicalSize};
use ui::phrases::{keep_phrases, phrase_starts, WORD_JOINER};
use ui::{KeypadTexts, KioskWindow, Screen, Theme};

use crate::layout::{kiosk, SCREENS};
use crate::translations::catalogue;

const LANGUAGES: [&str; 5] = ["ja", "en", "zh-Hans", "ko", "vi"];

/// Window sizes (logical pixels): 7" panels, the reference 1280×800, full HD and a portrait
/// totem.
const SIZES: [(f32, f32); 5] = [
    (800.0, 480.0),
    (1024.0, 600.0),
    (1280.0, 800.0),
    (1920.0, 1080.0),
    (1080.0, 1920.0),
];

/// The window's `assisted` property: normal type, and assisted mode's larger type.
const ASSISTED: [bool; 2] = [false, true];

/// A line must not start with these (kinsoku: small kana, prolonged sound mark, iteration
/// marks, closing brackets and punctuation).
const NO_LINE_START: &str =
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿーゝゞヽヾ々\
                             」』）)］]｝}〕〉》】〙〗、。，．,.：:；;！!？?・…‥";
/// A line must not end with these (opening brackets).
const NO_LINE_END: &str = "「『（(［[｛{〔〈《【〘〖";

/// The texts a patient can see in `lang`, as the window shows them: the screens' bundled
/// catalogue (built with phrase breaks) and the error screens' texts (phrased by the app).
fn texts(lang: &str) -> Vec<String> {
    let bundled = Path::new(env!("OUT_DIR"))
        .join("translations")
        .join(lang)
        .join("LC_MESSAGES/mynakiosk-ui.po");
    let mut texts: Vec<String> = catalogue(&bundled).into_iter().map(|(_, t)| t).collect();
    // Japanese error texts are the msgids of any catalogue.
    let source = if lang == "ja" { "en" } else { lang };
    let errors = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("translations")
        .join(source)
        .join("LC_MESSAGES/mynakiosk-errors.po");
    for (id, text) in catalogue(&errors) {
        let shown = if lang == "ja" { id } else { text };
        texts.push(keep_phrases(lang, &shown));
    }
    texts
}

/// A wrapping text style of the screens: its size, weight and the width it wraps in.
struct Style {
    name: &'static str,
    size: f32,
    bold: bool,
    width: f32,
}

/// The wrapping styles at the window's current size and type and their full width, from the
/// real window's theme and layout.
fn styles(k: &KioskWindow) -> Vec<Style> {
    let theme = k.global::<Theme>();
    let content = ElementHandle::find_by_element_id(k, "KioskWindow::content")
        .next()
        .expect("content")
        .size()
        .width;
    let width = content - 2.0 * theme.get_margin();
    let style = |name, size: f32, bold, width| Style {
        name,
        size,
        bold,
        width,
    };
    let (headline, body) = (theme.get_headline_size(), theme.get_body_size());
    vec![
        style("headline", headline, true, width),
        style("guidance", body, false, width),
        style(
            "notice",
            body * 0.8,
            true,
            content - 24.0 * theme.get_unit(),
        ),
        style("staff", theme.get_status_size(), false, width),
    ]
}

/// The lines of `text` laid out the way Slint lays out a `wrap: word-wrap` Text: the system
/// fonts through fontique, the theme's family with Slint's fallbacks, `WordBreak::Normal`, `OverflowWrap::Anywhere`.
fn lines(
    fonts: &mut FontContext,
    layouts: &mut LayoutContext<()>,
    text: &str,
    style: &Style,
) -> Vec<String> {
    let families = [
        FontFamilyName::named("Noto Sans CJK JP"),
        FontFamilyName::Generic(parley::fontique::GenericFamily::SansSerif),
        FontFamilyName::Generic(parley::fontique::GenericFamily::SystemUi),
    ];
    let mut builder = layouts.ranged_builder(fonts, text, 1.0, false);
    builder.push_default(FontFamily::List(families[..].into()));
    builder.push_default(StyleProperty::FontSize(style.size));
    if style.bold {
        builder.push_default(StyleProperty::FontWeight(FontWeight::new(700.0)));
    }
    builder.push_default(StyleProperty::WordBreak(WordBreak::Normal));
    builder.push_default(StyleProperty::OverflowWrap(OverflowWrap::Anywhere));
    let mut layout = builder.build(text);
    layout.break_all_lines(Some(style.width));
    layout
        .lines()
        .map(|line| text[line.text_range()].to_owned())
        .collect()
}

/// What is wrong with the line breaks of `lines` (the text of `lang`, cut into lines).
fn faults(lang: &str, lines: &[String]) -> Vec<String> {
    let plain = |s: &str| s.chars().filter(|&c| c != WORD_JOINER).collect::<String>();
    let whole = plain(&lines.concat());
    let starts = phrase_starts(lang, &whole);
    let mut faults = Vec::new();
    let mut at = 0;
    for pair in lines.windows(2) {
        let (before, after) = (plain(&pair[0]), plain(&pair[1]));
        at += before.chars().count();
        let shown = format!("{}|{}", before.trim_end(), after.trim_end());
        if after
            .chars()
            .next()
            .is_some_and(|c| NO_LINE_START.contains(c))
        {
            faults.push(format!("line starts with a closing mark: {shown}"));
        }
        if before
            .trim_end()
            .chars()
            .last()
            .is_some_and(|c| NO_LINE_END.contains(c))
        {
            faults.push(format!("line ends with an opening bracket: {shown}"));
        }
        if starts.binary_search(&at).is_err() {
            faults.push(format!("split inside a phrase: {shown}"));
        }
    }
    faults
}

/// Lays out `text` in `style` and records what is wrong with its line breaks.
struct Checker {
    fonts: FontContext,
    layouts: LayoutContext<()>,
    problems: BTreeSet<String>,
    laid_out: usize,
}

impl Checker {
    fn new() -> Self {
        Self {
            fonts: FontContext::new(),
            layouts: LayoutContext::new(),
            problems: BTreeSet::new(),
            laid_out: 0,
        }
    }

    /// Fails naming every bad line break found.
    fn assert_no_problems(self) {
        let problems = self.problems;
        assert!(
            problems.is_empty(),
            "{} bad line breaks:\n{}",
            problems.len(),
            problems.into_iter().collect::<Vec<_>>().join("\n")
        );
    }

    fn check(&mut self, lang: &str, text: &str, style: &Style, at: &str) {
        let lines = lines(&mut self.fonts, &mut self.layouts, text, style);
        self.laid_out += 1;
        for fault in faults(lang, &lines) {
            self.problems
                .insert(format!("{lang} {at} {}: {fault}", style.name));
        }
    }
}

#[test]
fn no_text_breaks_inside_a_phrase_or_against_kinsoku_at_any_size() {
    let k = kiosk();
    let mut on_screens = 0;
    let mut checker = Checker::new();
    for lang in LANGUAGES {
        let texts = texts(lang);
        assert!(texts.len() > 100, "{lang}: only {} texts", texts.len());
        slint::select_bundled_translation(lang).unwrap();
        for size in SIZES {
            k.window().set_size(LogicalSize::new(size.0, size.1));
            for assisted in ASSISTED {
                k.set_assisted(assisted);
                let theme = k.global::<Theme>();
                let type_scale = theme.get_type_scale();
                assert_eq!(type_scale > 1.0, assisted, "assisted mode's larger type");
                let at = format!("{}×{} type ×{type_scale}", size.0, size.1);
                // Every text across the full width, in every style.
                for style in styles(&k) {
                    for text in &texts {
                        checker.check(lang, text, &style, &at);
                    }
                }
                // Each screen's own headline and guidance in their columns.
                for screen in SCREENS {
                    k.set_screen(screen);
                    for (kind, size, bold) in [
                        ("Headline", theme.get_headline_size(), true),
                        ("Guidance", theme.get_body_size(), false),
                    ] {
                        for e in ElementHandle::find_by_element_type_name(&k, kind) {
                            let style = Style {
                                name: kind,
                                size,
                                bold,
                                width: e.size().width,
                            };
                            let shown =
                                keep_phrases(lang, &e.accessible_label().unwrap_or_default());
                            checker.check(lang, &shown, &style, &format!("{at} {screen:?}"));
                            on_screens += 1;
                        }
                    }
                }
            }
        }
    }
    slint::select_bundled_translation("").unwrap();
    k.set_assisted(false);
    assert!(
        checker.laid_out > 10_000,
        "only {} layouts",
        checker.laid_out
    );
    // Each screen has a headline, some a guidance too.
    let passes = LANGUAGES.len() * SIZES.len() * ASSISTED.len();
    assert!(
        on_screens > passes * SCREENS.len(),
        "{on_screens} on-screen texts"
    );
    checker.assert_no_problems();
}

/// Keys the hints can name, first of each binding (enter, back, cancel, call staff, repeat,
/// help): the default map, and a map of other named keys and characters.
const KEY_MAPS: [[&str; 6]; 2] = [
    ["Enter", "Backspace", "-", "+", "*", "/"],
    ["Tab", "Delete", "Escape", "#", "=", ","],
];

/// The keypad bar's hint as the window shows it, with the configured keys' names filled in:
/// on every screen (and each choice of methods), in every language, size and type.
#[test]
fn keypad_hints_with_the_key_names_break_between_phrases_at_any_size() {
    let k = kiosk();
    k.set_keypad_hints(true);
    let mut checker = Checker::new();
    let mut named = BTreeSet::new();
    for lang in LANGUAGES {
        slint::select_bundled_translation(lang).unwrap();
        for keys in KEY_MAPS {
            let texts = k.global::<KeypadTexts>();
            texts.set_enter_key(keys[0].into());
            texts.set_back_key(keys[1].into());
            texts.set_cancel_key(keys[2].into());
            texts.set_staff_key(keys[3].into());
            texts.set_repeat_key(keys[4].into());
            texts.set_help_key(keys[5].into());
            for size in SIZES {
                k.window().set_size(LogicalSize::new(size.0, size.1));
                for assisted in ASSISTED {
                    k.set_assisted(assisted);
                    let theme = k.global::<Theme>();
                    let at = format!("{}×{} assisted {assisted} keys {keys:?}", size.0, size.1);
                    for screen in SCREENS {
                        k.set_screen(screen);
                        let choices: &[(bool, bool)] = match screen {
                            Screen::MethodChoice => {
                                &[(true, true), (true, false), (false, true), (false, false)]
                            }
                            _ => &[(true, true)],
                        };
                        for &(face, pin) in choices {
                            k.set_face_available(face);
                            k.set_pin_available(pin);
                            let hint = ElementHandle::find_by_element_id(&k, "KeypadBar::hint")
                                .next()
                                .expect("the keypad bar's hint");
                            let text = hint.accessible_label().unwrap_or_default().to_string();
                            if text.is_empty() {
                                continue;
                            }
                            named.insert(text.replace(WORD_JOINER, ""));
                            let style = Style {
                                name: "keypad hint",
                                size: theme.get_status_size(),
                                bold: false,
                                width: hint.size().width,
                            };
                            checker.check(lang, &text, &style, &format!("{at} {screen:?}"));
                        }
                    }
                }
            }
        }
    }
    slint::select_bundled_translation("").unwrap();
    k.set_assisted(false);
    k.set_face_available(true);
    k.set_pin_available(true);
    // Each map's names are in the hints: its enter key's name differs from the other's.
    let hinted = |name: &str| named.iter().any(|t| t.contains(name));
    assert!(hinted("確定キー") && hinted("タブキー"), "{named:?}");
    assert!(
        named.len() >= LANGUAGES.len() * KEY_MAPS.len() * 8,
        "only {} hints",
        named.len()
    );
    checker.assert_no_problems();
}

#[test]
fn the_checks_catch_a_split_phrase_and_a_line_starting_with_small_kana() {
    let split = ["カードを置いてくだ".to_owned(), "さい".to_owned()];
    assert_eq!(faults("ja", &split).len(), 1, "{:?}", faults("ja", &split));
    let kinsoku = ["ロ".to_owned(), "ック".to_owned()];
    assert_eq!(
        faults("ja", &kinsoku).len(),
        2,
        "{:?}",
        faults("ja", &kinsoku)
    );
    let word = ["Plea".to_owned(), "se wait".to_owned()];
    assert_eq!(faults("en", &word).len(), 1);
    let fine = ["カードを".to_owned(), "置いてください".to_owned()];
    assert!(faults("ja", &fine).is_empty(), "{:?}", faults("ja", &fine));
}
