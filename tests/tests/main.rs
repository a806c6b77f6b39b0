//! The end-to-end tests, one module per subject, linked into one test binary (linking OpenCV,
//! ONNX Runtime and Slint once instead of once per file). Run one subject with e.g.
//! `cargo test -p mynakiosk-tests --test e2e kiosk_flows::`.
//!
//! Kept apart: `card_zeroize` and `face_zeroize` install a global allocator that inspects every
//! freed block, so each is a binary of its own. The tests that run the kiosk's event loop
//! (`kiosk_e2e` …) rerun themselves alone in a child process (`common::reran_alone`), because
//! Slint's event-loop backend can be set up once per process.

mod common;

mod audit_chain;
mod card_info;
mod card_profiles;
mod cli;
mod config_errors;
mod config_packaging;
mod deb_package;
mod diagnose;
mod face_accuracy;
mod face_eval_cli;
mod face_models;
mod face_no_files;
mod face_pipeline;
mod handoff_delivery;
mod handoff_qualification;
mod handoff_result;
mod kiosk_card_front;
mod kiosk_demo;
mod kiosk_e2e;
mod kiosk_e2e_face;
mod kiosk_flows;
mod kiosk_languages;
mod kiosk_registration;
mod kiosk_staff_card;
mod kiosk_voice;
mod linuxkms;
mod ocr_card_front;
mod pcsc_vpcd;
mod pcscd_recovery;
mod sim_profiles;
