//! Reading 照合番号B from a photo of a My Number card front, deciding whether it is safe to
//! present to the card, and a synthetic card-front generator for tests, demos and benchmarks.
//!
//! Privacy: 照合番号B is held only in zeroizing buffers, never logged, and no image is written
//! to disk by the reader.

mod back;
pub mod camera;
pub mod date;
pub mod error;
mod frames;
pub mod generator;
pub mod glyphs;
pub mod identity;
pub mod layout;
pub mod line_input;
pub mod line_model;
pub mod lines;
mod locate;
pub mod placement;
pub mod policy;
mod ppocr;
mod quad;
mod read;
mod scrub;
mod sides;
mod textdet;
pub mod unreadable;

pub use camera::{photograph, CameraShot};
pub use date::{Date, Era};
pub use error::{FieldName, OcrError};
pub use frames::{read_card_front_frames, FrameVotes, MAX_FRAMES};
pub use generator::{
    identity_photo, print_card, random_identity, render_card, synthetic_card, synthetic_frames,
    synthetic_photo, PrintedCard,
};
pub use glyphs::Split;
pub use identity::{Calendar, CardFrontIdentity, Sex};
pub use line_model::{LineModel, ReadChar, MODEL_SHA256};
pub use locate::{
    card_outlines, colour_card_outlines, outlines, rectify, OutlineSource, VisiblePart, WORK_SIDE,
};
pub use placement::{back_frames, first_card_alone, turned_frames, two_cards_photo};
pub use policy::{
    Decision, FallbackReason, PinBAttempts, ReadQuality, RereadReason, RetryCounter, SubmitPolicy,
};
pub use ppocr::{models_dir, RecModel, PPOCR_REC_SMALL, PPOCR_REC_TINY};
pub use read::{CardFrontReader, LineFinder, PinBRead, OCR_MODELS};
pub use scrub::ScrubbedMat;
pub use textdet::{PPOCR_DET_FILE, PPOCR_DET_SHA256};
pub use unreadable::{unreadable_photo, Defect};
