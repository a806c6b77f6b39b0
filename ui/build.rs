//! Compiles the Slint screens with their translations, broken into phrases.

use std::path::Path;

#[path = "src/phrases.rs"]
mod phrases;

/// The catalogue `po` for `lang` with every msgstr through [`phrases::keep_phrases`]; for
/// Japanese (the source language) each msgstr is its msgid.
fn phrased_catalogue(po: &str, lang: &str) -> String {
    let mut out = String::with_capacity(po.len() * 2);
    let mut id = String::new();
    for line in po.lines() {
        let quoted = |keyword: &str| {
            line.strip_prefix(keyword)
                .map(|rest| rest.trim().trim_matches('"').to_owned())
        };
        if let Some(msgid) = quoted("msgid ") {
            id = msgid;
        } else if let Some(text) = quoted("msgstr ").filter(|_| !id.is_empty()) {
            let text = if lang == "ja" { id.clone() } else { text };
            out.push_str(&format!(
                "msgstr \"{}\"\n",
                phrases::keep_phrases(lang, &text)
            ));
            continue;
        } else if lang == "ja" && line.starts_with("\"Language:") {
            out.push_str("\"Language: ja\\n\"\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes `text` to `path` unless it already holds it (an unchanged file keeps its time, so
/// cargo does not run this script again).
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn main() {
    // Translations: `translations/<lang>/LC_MESSAGES/mynakiosk-ui.po`, msgids in Japanese.
    // The bundle is a phrased copy in OUT_DIR, with Japanese (the source) as a language of its
    // own so that its texts get phrase breaks too.
    println!("cargo:rerun-if-changed=translations");
    println!("cargo:rerun-if-changed=src/phrases.rs");
    let bundle = Path::new(&std::env::var("OUT_DIR").unwrap()).join("translations");
    let catalogue = |lang: &str| {
        let path = format!("translations/{lang}/LC_MESSAGES/mynakiosk-ui.po");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let mut languages: Vec<String> = std::fs::read_dir("translations")
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    languages.push("ja".to_owned());
    for lang in languages {
        // Japanese takes its texts from the msgids of any catalogue: English's.
        let source = if lang == "ja" { "en" } else { &lang };
        let po = phrased_catalogue(&catalogue(source), &lang);
        write_if_changed(&bundle.join(&lang).join("LC_MESSAGES/mynakiosk-ui.po"), &po);
    }
    // Debug info lets tests find elements by id (i-slint-backend-testing's ElementHandle).
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations(bundle)
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("compile ui/kiosk.slint");
}
