fn main() {
    // Debug info lets tests find elements by id (i-slint-backend-testing's ElementHandle).
    // Translations: `translations/<lang>/LC_MESSAGES/mynakiosk-ui.po`, msgids in Japanese.
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("compile ui/kiosk.slint");
}
