//! Errors of the model-backed face pipeline (runtime, models, inference).

use std::path::PathBuf;

use crate::frame::FrameError;

/// Why the face pipeline failed. Each variant maps to one message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// The ONNX Runtime shared library is not at the configured path.
    #[error("ONNX Runtime library not found at {}", path.display())]
    RuntimeMissing { path: PathBuf },
    /// The file exists but is not a usable ONNX Runtime library.
    #[error("ONNX Runtime library {} could not be loaded: {reason}", path.display())]
    RuntimeNotLoadable { path: PathBuf, reason: String },
    /// ONNX Runtime is process-global and was already loaded from another file.
    #[error(
        "ONNX Runtime is already loaded from {}; cannot also load {}",
        active.display(),
        requested.display()
    )]
    RuntimeConflict { active: PathBuf, requested: PathBuf },
    /// The model file does not exist.
    #[error("model file not found: {}", path.display())]
    ModelMissing { path: PathBuf },
    /// The model file exists but could not be read.
    #[error("model file {} could not be read: {source}", path.display())]
    ModelUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The model file's sha256 is not the expected one (corrupt, truncated or another version).
    #[error(
        "model file {} is corrupt or the wrong version: sha256 {actual}, expected {expected}",
        path.display()
    )]
    ModelChecksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// ONNX Runtime rejected the model, or its inputs/outputs are not the expected ones.
    #[error("model {} is not usable: {reason}", path.display())]
    ModelInvalid { path: PathBuf, reason: String },
    /// Running the model failed, or it returned tensors of an unexpected shape.
    #[error("face model inference failed: {0}")]
    Inference(String),
    /// Preparing the image for the model failed.
    #[error(transparent)]
    Image(#[from] FrameError),
}
