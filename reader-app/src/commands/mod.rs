//! The tools beside the kiosk, one module per `mynakiosk` subcommand: card-info, face-eval,
//! detect-faces, ocr, qual-sim, diagnose, screenshots and the demo's virtual card.

pub mod card_info;
#[cfg(feature = "demo")]
pub mod demo;
pub mod detect_faces;
pub mod diagnose;
pub mod face_eval;
pub mod ocr;
pub mod outbox;
pub mod qual_sim;
pub mod screenshots;
