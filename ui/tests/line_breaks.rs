//! Every patient-visible text, in every language, wrapped by Slint's own text layout (parley,
//! with the settings Slint gives it for `wrap: word-wrap`) at each type size and text width of
//! every supported window: no line starts with a small kana or a closing mark, none ends with
//! an opening bracket, and no phrase (Japanese, Chinese) or word is split across lines.

use std::path::Path;

use i_slint_backend_testing::ElementHandle;
use i_slint_core::textlayout::sharedparley::parley;
use parley::style::{FontFamily, FontFamilyName, FontWeight, OverflowWrap, WordBreak};
use parley::{FontContext, LayoutContext, StyleProperty};
use slint::{ComponentHandle, LogicalSize};
use ui::phrases::{keep_phrases, phrase_starts, WORD_JOINER};
use ui::{KioskWindow, Theme};

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

/// Type scales: the normal one and assisted mode's larger type (`TypeScale` 1.3 on the keypad
/// branch).
const TYPE_SCALES: [f32; 2] = [1.0, 1.3];

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

/// The wrapping styles at the window's current size, from the real window's theme and layout.
fn styles(k: &KioskWindow, type_scale: f32) -> Vec<Style> {
    let theme = k.global::<Theme>();
    let content = ElementHandle::find_by_element_id(k, "KioskWindow::content")
        .next()
        .expect("content")
        .size()
        .width;
    let unit = theme.get_unit();
    let width = content - 2.0 * theme.get_margin();
    let style = |name, size: f32, bold, width| Style {
        name,
        size: size * type_scale,
        bold,
        width,
    };
    vec![
        style("headline", theme.get_headline_size(), true, width),
        style("guidance", theme.get_body_size(), false, width),
        style(
            "notice",
            theme.get_body_size() * 0.8,
            true,
            content - 24.0 * unit,
        ),
        style("staff", theme.get_status_size(), false, width),
    ]
}

/// The lines of `text` laid out the way Slint lays out a `wrap: word-wrap` Text: Slint's font
/// context and family fallbacks, `WordBreak::Normal`, `OverflowWrap::Anywhere`.
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

#[test]
fn no_text_breaks_inside_a_phrase_or_against_kinsoku_at_any_size() {
    thread_local! {
        static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
    }
    BACKEND.with(|_| ());
    let k = KioskWindow::new().unwrap();
    let mut fonts = FontContext::new();
    let mut layouts = LayoutContext::new();
    let mut problems = std::collections::BTreeSet::new();
    let mut laid_out = 0;
    for lang in LANGUAGES {
        let texts = texts(lang);
        assert!(texts.len() > 100, "{lang}: only {} texts", texts.len());
        for size in SIZES {
            k.window().set_size(LogicalSize::new(size.0, size.1));
            for type_scale in TYPE_SCALES {
                for style in styles(&k, type_scale) {
                    for text in &texts {
                        let lines = lines(&mut fonts, &mut layouts, text, &style);
                        laid_out += 1;
                        for fault in faults(lang, &lines) {
                            problems.insert(format!(
                                "{lang} {}×{} type ×{type_scale} {}: {fault}",
                                size.0, size.1, style.name
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(laid_out > 10_000, "only {laid_out} layouts");
    assert!(
        problems.is_empty(),
        "{} bad line breaks:\n{}",
        problems.len(),
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
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
