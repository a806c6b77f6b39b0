//! `docs/error-codes.md`, generated from the error table: each code with what the patient reads,
//! the cause in staff wording and what staff do.

use super::KioskError;
use crate::lang::Lang;

/// The Markdown of `docs/error-codes.md`.
pub fn markdown() -> String {
    let mut doc = String::from(
        "# Error codes\n\n\
         Generated from `reader-app/src/errors/` (the patient texts of other languages are in \
         `ui/translations/*/LC_MESSAGES/mynakiosk-errors.po`); do not edit by hand: \
         `MYNAKIOSK_WRITE_DOCS=1 cargo test -p reader-app --lib errors::codes_doc` rewrites it.\n\n\
         The code is shown on the patient's screen, on the staff screen with its cause, and in the \
         log (`code`, with the log name).\n\n\
         | Code | Log name | Screen (patient) | Cause (staff) | What to do |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for error in KioskError::ALL {
        let t = error.text();
        doc.push_str(&format!(
            "| {} | `{}` | {}<br>*{}* | {} | {} |\n",
            t.code,
            t.log,
            t.patient,
            t.patient_in(Lang::En),
            t.staff,
            t.action
        ));
    }
    doc
}

#[cfg(test)]
mod tests {
    /// The published file, next to the workspace's other documents.
    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/error-codes.md");

    #[test]
    fn docs_error_codes_is_current() {
        let generated = super::markdown();
        if std::env::var_os("MYNAKIOSK_WRITE_DOCS").is_some() {
            std::fs::write(PATH, &generated).unwrap();
        }
        let published = std::fs::read_to_string(PATH).unwrap_or_default();
        assert!(
            published == generated,
            "docs/error-codes.md is out of date: MYNAKIOSK_WRITE_DOCS=1 cargo test -p reader-app \
             --lib errors::codes_doc"
        );
    }
}
