//! Every translatable text of the screens has a translation in each bundled language.

use std::collections::BTreeSet;
use std::path::Path;

const LANGUAGES: [&str; 4] = ["en", "zh-Hans", "ko", "vi"];

/// The `@tr("…")` texts of every .slint file under `dir`.
fn msgids(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            msgids(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("@tr(\"").skip(1) {
                out.insert(piece.split('"').next().unwrap().to_owned());
            }
        }
    }
}

/// msgid → msgstr of the screens' catalogue of `lang`.
fn po(lang: &str) -> Vec<(String, String)> {
    catalogue(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("translations/{lang}/LC_MESSAGES/mynakiosk-ui.po")),
    )
}

/// msgid → msgstr of a .po file (single-line entries).
pub fn catalogue(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    let mut entries = Vec::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            id = Some(unquote(rest));
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            if let Some(id) = id.take().filter(|id| !id.is_empty()) {
                entries.push((id, unquote(rest)));
            }
        }
    }
    entries
}

#[test]
fn every_text_is_translated_in_every_language() {
    let mut wanted = BTreeSet::new();
    msgids(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut wanted,
    );
    assert!(wanted.len() > 80, "only {} texts found", wanted.len());
    for lang in LANGUAGES {
        let entries = po(lang);
        let have: BTreeSet<_> = entries.iter().map(|(id, _)| id.clone()).collect();
        let missing: Vec<_> = wanted.difference(&have).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        let stale: Vec<_> = have.difference(&wanted).collect();
        assert!(stale.is_empty(), "{lang} has unused {stale:?}");
        for (id, text) in &entries {
            assert!(!text.is_empty() && text != id, "{lang}: {id} untranslated");
            assert_eq!(
                id.matches("{}").count(),
                text.matches("{}").count(),
                "{lang}: placeholders of {id}"
            );
        }
    }
}
