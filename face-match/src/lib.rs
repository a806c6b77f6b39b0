//! The face pipeline of the kiosk: camera sources, face detection (YuNet) on ONNX Runtime,
//! chip photo decoding, alignment, embedding (SFace), quality gating, the match decision and
//! its evaluation.
//!
//! Privacy: camera frames, crops and photos live only in [`frame::Image`] buffers and
//! embeddings in [`Embedding`], all of which zeroize on drop; OpenCV buffers that held pixels
//! are scrubbed before release. Nothing here writes pixels to disk or to logs (except the
//! evaluation's chip simulator, on evaluation images only).

pub mod align;
mod best_of;
pub mod camera;
pub mod chip_photo;
pub mod detector;
pub mod embedder;
pub mod error;
pub mod eval;
pub mod frame;
pub mod image_file;
pub mod liveness;
pub mod matcher;
mod policy;
pub mod pose;
pub mod quality;
pub mod runtime;
mod samples;
mod scrubbed_mat;

pub use align::{align_face, AlignError, CROP_SIDE};
pub use best_of::BestOfFrames;
pub use camera::{
    CameraDevice, CameraError, CameraSource, CaptureSettings, ImageFolderSource, V4l2Source,
};
pub use chip_photo::{decode_jp2, PhotoError};
pub use detector::{
    DetectedFace, DetectorConfig, FaceDetector, FaceTrack, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};
pub use embedder::{Embedding, FaceEmbedder, SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256};
pub use error::FaceError;
pub use frame::{Frame, FrameError, GreyImage, RgbImage};
pub use image_file::{decode_image_file, jpeg_round_trip, ImageFileError};
pub use matcher::{
    Decision, FaceMatcher, FrameCheck, MatchError, MatchOutcome, MatchPolicy, MatchSession,
    MatchTimings, NotAcquired,
};
pub use pose::HeadPose;
pub use quality::{Guidance, GuideOval, QualityConfig, QualityMeasures};
pub use runtime::{GraphOptimisation, OrtRuntime, SessionTuning};
pub use zeroize::Zeroizing;
