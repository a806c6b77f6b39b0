//! Line breaks at phrase boundaries: word joiners (U+2060) inside each phrase, so Slint's line
//! breaker (UAX #14, strict: no line starts with a small kana or a closing mark) wraps only
//! between phrases.
//!
//! Japanese and Chinese phrases come from BudouX's published models (the `budouy` crate);
//! Korean keeps each space-separated word whole (CSS `word-break: keep-all`); English and
//! Vietnamese break at spaces, hyphenated words kept whole. Used by the build script on the translation
//! catalogues and at run time on texts the app sets (error messages).

use std::sync::LazyLock;

use budouy::model::{load_default_japanese_parser, load_default_simplified_chinese_parser};
use budouy::Parser;

/// Joins two characters into one unbreakable unit; invisible and zero-width.
pub const WORD_JOINER: char = '\u{2060}';

static JAPANESE: LazyLock<Parser> = LazyLock::new(load_default_japanese_parser);
static CHINESE: LazyLock<Parser> = LazyLock::new(load_default_simplified_chinese_parser);

/// Where a line may break in `text` (no word joiners), for language `lang` ("ja", "en",
/// "zh-Hans", "ko", "vi"): the char indices at which a new phrase begins.
pub fn phrase_starts(lang: &str, text: &str) -> Vec<usize> {
    let chars: Vec<char> = text.chars().collect();
    // After a run of spaces, in every language.
    let mut starts: Vec<usize> = (1..chars.len())
        .filter(|&i| chars[i - 1].is_whitespace() && !chars[i].is_whitespace())
        .collect();
    let parser = match lang {
        "ja" => &*JAPANESE,
        "zh-Hans" => &*CHINESE,
        _ => return starts,
    };
    starts.extend(parser.parse_boundaries(text));
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// `text` with a word joiner between every two characters of a phrase where a line could
/// otherwise break: a CJK character on either side, or after a hyphen ("check-in").
pub fn keep_phrases(lang: &str, text: &str) -> String {
    let text: String = text.chars().filter(|&c| c != WORD_JOINER).collect();
    let starts = phrase_starts(lang, &text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut previous: Option<char> = None;
    for (i, c) in text.chars().enumerate() {
        if let Some(p) = previous {
            let joined = !p.is_whitespace()
                && !c.is_whitespace()
                && (is_cjk(p) || is_cjk(c) || p == '-')
                && starts.binary_search(&i).is_err();
            if joined {
                out.push(WORD_JOINER);
            }
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

/// Whether `c` is Chinese, Japanese or Korean script or punctuation, where UAX #14 lets a
/// line break between any two characters.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'        // Hangul Jamo
        | '\u{2E80}'..='\u{9FFF}'      // CJK radicals, punctuation, kana, ideographs
        | '\u{AC00}'..='\u{D7AF}'      // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'      // CJK compatibility ideographs
        | '\u{FF00}'..='\u{FFEF}'      // full- and half-width forms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(lang: &str, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut bounds = phrase_starts(lang, text);
        bounds.insert(0, 0);
        bounds.push(chars.len());
        bounds
            .windows(2)
            .map(|w| chars[w[0]..w[1]].iter().collect())
            .collect()
    }

    #[test]
    fn japanese_phrases_keep_words_whole() {
        let p = phrases("ja", "マイナンバーカードを置いてください");
        assert!(p.iter().any(|s| s.ends_with("ください")), "{p:?}");
        assert!(p.iter().all(|s| !s.starts_with('さ')), "{p:?}");
        let p = phrases("ja", "暗証番号がロックされました");
        assert!(p.iter().any(|s| s.contains("ロック")), "{p:?}");
    }

    #[test]
    fn joiners_go_inside_phrases_only() {
        let text = "カードをお取りください";
        let kept = keep_phrases("ja", text);
        assert_eq!(kept.replace(WORD_JOINER, ""), text);
        // Joined within a phrase, open between phrases.
        assert!(kept.contains(WORD_JOINER), "{kept:?}");
        let open = kept
            .chars()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] != WORD_JOINER && w[1] != WORD_JOINER);
        assert!(open, "{kept:?}");
        assert_eq!(keep_phrases("ja", &kept), kept, "idempotent");
    }

    #[test]
    fn korean_keeps_words_and_english_is_untouched() {
        let kept = keep_phrases("ko", "카드를 놓아 주십시오");
        assert_eq!(
            kept,
            "카\u{2060}드\u{2060}를 놓\u{2060}아 주\u{2060}십\u{2060}시\u{2060}오"
        );
        assert_eq!(keep_phrases("en", "Place your card"), "Place your card");
        assert_eq!(keep_phrases("en", "check-in"), "check-\u{2060}in");
    }

    #[test]
    fn placeholders_stay_intact() {
        let kept = keep_phrases("ja", "電子証明書の有効期限まであと{}日です");
        assert!(kept.contains("{}"), "{kept:?}");
    }
}
