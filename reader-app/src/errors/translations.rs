//! The error screens' patient texts in English, Simplified Chinese, Korean and Vietnamese, from
//! the ui crate's `mynakiosk-errors.po` catalogues: `msgctxt` is the code, `msgid` the Japanese
//! text it translates (so a changed Japanese text shows as untranslated, not as a stale one).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::lang::Lang;

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub japanese: &'static str,
    pub text: &'static str,
}

/// Each translated language with its catalogue, embedded at build time.
const CATALOGUES: [(Lang, &str); 4] = [
    (
        Lang::En,
        include_str!("../../../ui/translations/en/LC_MESSAGES/mynakiosk-errors.po"),
    ),
    (
        Lang::ZhHans,
        include_str!("../../../ui/translations/zh-Hans/LC_MESSAGES/mynakiosk-errors.po"),
    ),
    (
        Lang::Ko,
        include_str!("../../../ui/translations/ko/LC_MESSAGES/mynakiosk-errors.po"),
    ),
    (
        Lang::Vi,
        include_str!("../../../ui/translations/vi/LC_MESSAGES/mynakiosk-errors.po"),
    ),
];

/// Code → entry, per language.
static PARSED: LazyLock<Vec<(Lang, HashMap<&'static str, Entry>)>> = LazyLock::new(|| {
    CATALOGUES
        .iter()
        .map(|&(lang, po)| (lang, entries(po)))
        .collect()
});

/// The translation of `japanese`, the patient text of `code`, in `lang`; `None` for Japanese,
/// or when the catalogue lacks it or translates an older Japanese text.
pub(super) fn patient_text(lang: Lang, code: &str, japanese: &str) -> Option<&'static str> {
    catalogue(lang)?
        .get(code)
        .filter(|entry| entry.japanese == japanese)
        .map(|entry| entry.text)
}

/// The entries of `lang`'s catalogue by code; `None` for Japanese (the source language).
pub(super) fn catalogue(lang: Lang) -> Option<&'static HashMap<&'static str, Entry>> {
    PARSED
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, entries)| entries)
}

/// The `msgctxt`/`msgid`/`msgstr` entries of a `.po` file whose strings are single-line and
/// hold no escapes (the catalogue test checks that every code is found).
fn entries(po: &'static str) -> HashMap<&'static str, Entry> {
    let quoted = |line: &'static str, keyword: &str| {
        line.strip_prefix(keyword)?
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"')
    };
    let mut found = HashMap::new();
    let (mut code, mut japanese) = (None, None);
    for line in po.lines() {
        if let Some(c) = quoted(line, "msgctxt ") {
            code = Some(c);
        } else if let Some(id) = quoted(line, "msgid ") {
            japanese = Some(id);
        } else if let Some(text) = quoted(line, "msgstr ") {
            if let (Some(code), Some(japanese)) = (code.take(), japanese.take()) {
                found.insert(code, Entry { japanese, text });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::KioskError;

    #[test]
    fn every_code_is_translated_from_its_current_japanese_text_and_none_is_stale() {
        for lang in Lang::ALL.into_iter().filter(|&l| l != Lang::Ja) {
            let catalogue = catalogue(lang).unwrap();
            for error in KioskError::ALL {
                let t = error.text();
                let entry = catalogue.get(t.code).unwrap_or_else(|| {
                    panic!("{} lacks {}", lang.code(), t.code);
                });
                assert_eq!(entry.japanese, t.patient, "{} {}", lang.code(), t.code);
                assert!(!entry.text.is_empty() && !entry.text.contains('\\'));
            }
            assert_eq!(catalogue.len(), KioskError::ALL.len(), "{}", lang.code());
        }
        assert!(catalogue(Lang::Ja).is_none());
    }
}
