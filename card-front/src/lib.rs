//! Reading 照合番号B from a photo of a My Number card front, deciding whether it is safe to
//! present to the card, and a synthetic card-front generator for tests, demos and benchmarks.
//!
//! Privacy: 照合番号B is held only in zeroizing buffers, never logged, and no image is written
//! to disk by the reader.

pub mod camera;
mod classify;
pub mod date;
pub mod error;
mod frames;
pub mod generator;
pub mod glyphs;
pub mod identity;
pub mod layout;
mod locate;
pub mod policy;
mod read;
mod scrub;
mod segment;

pub use camera::{photograph, CameraShot};
pub use date::{Date, Era};
pub use error::{FieldName, OcrError};
pub use frames::{read_card_front_frames, FrameVotes, MAX_FRAMES};
pub use generator::{
    identity_photo, random_identity, render_card, synthetic_frames, synthetic_photo,
};
pub use identity::{Calendar, CardFrontIdentity, Sex};
pub use locate::rectify;
pub use policy::{
    Decision, FallbackReason, PinBAttempts, ReadQuality, RereadReason, RetryCounter, SubmitPolicy,
};
pub use read::{read_card_front, read_card_front_on, read_rectified, PinBRead};
pub use scrub::ScrubbedMat;
