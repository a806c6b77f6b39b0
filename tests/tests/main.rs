//! The end-to-end tests, one module per subject, linked into one test binary (linking OpenCV,
//! ONNX Runtime and Slint once instead of once per file). Run one subject with e.g.
//! `cargo test -p mynakiosk-tests --test e2e kiosk_flows::`.
//!
//! Kept apart: `card_zeroize` and `face_zeroize` install a global allocator that inspects every
//! freed block, so each is a binary of its own. The tests that run the kiosk's event loop
//! (`kiosk_e2e` …) rerun themselves alone in a child process (`common::reran_alone`), because
//! Slint's event-loop backend can be set up once per process.

mod common;

mod audit_appended;
mod audit_chain;
mod card_info;
mod card_profiles;
mod cli;
mod config_errors;
mod config_packaging;
mod console_browser;
mod deb_package;
mod diagnose;
mod disk_full;
mod face_accuracy;
mod face_eval_cli;
mod face_models;
mod face_no_files;
mod face_pipeline;
mod fault_matrix;
mod handoff_delivery;
mod handoff_outbox_faults;
mod handoff_qualification;
mod handoff_result;
mod image_bombs;
mod kiosk_audit_stop;
mod kiosk_card_front;
mod kiosk_demo;
mod kiosk_e2e;
mod kiosk_e2e_face;
mod kiosk_flows;
mod kiosk_keypad;
mod kiosk_languages;
mod kiosk_registration;
mod kiosk_staff_call;
mod kiosk_staff_card;
mod kiosk_voice;
mod linuxkms;
mod metrics_prometheus;
mod ocr_card_front;
mod panic_restart;
mod pcsc_card_reset;
mod pcsc_vpcd;
mod pcscd_recovery;
mod sim_profiles;
mod state_ownership;

/// Every file beside this one is a module of this harness or a `[[test]]` of its own
/// (`autotests = false` would otherwise skip a new file silently).
#[test]
fn every_test_file_is_in_a_harness() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let harness = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
    )
    .unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module == "main" {
            continue;
        }
        assert!(
            harness.contains(&format!("\nmod {module};"))
                || manifest.contains(&format!("path = \"tests/{name}\"")),
            "tests/tests/{name} is in no test binary: add `mod {module};` to main.rs"
        );
    }
}
