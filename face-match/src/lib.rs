//! The face pipeline of the kiosk: camera sources, face detection (YuNet) on ONNX Runtime and
//! chip photo decoding. Alignment, embedding (SFace) and liveness build on these.
//!
//! Privacy: camera frames and photos live only in [`frame::Image`] buffers, which zeroize
//! on drop; OpenCV buffers that held pixels are scrubbed before release. Nothing here writes
//! pixels to disk or to logs.

pub mod camera;
pub mod chip_photo;
pub mod detector;
pub mod error;
pub mod frame;
pub mod liveness;
pub mod runtime;
mod scrubbed_mat;

pub use camera::{
    CameraDevice, CameraError, CameraSource, CaptureSettings, ImageFolderSource, V4l2Source,
    VideoFileSource,
};
pub use chip_photo::{decode_jp2, PhotoError};
pub use detector::{
    DetectedFace, DetectorConfig, FaceDetector, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};
pub use error::FaceError;
pub use frame::{Frame, FrameError, GreyImage};
pub use runtime::OrtRuntime;
