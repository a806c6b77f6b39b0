fn main() {
    // Debug info lets tests find elements by id (i-slint-backend-testing's ElementHandle).
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("compile ui/kiosk.slint");
}
