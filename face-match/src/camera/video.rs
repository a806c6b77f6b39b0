//! [`CameraSource`]s on OpenCV's `VideoCapture`: a video file and a V4L2 camera.

use std::path::{Path, PathBuf};

use opencv::core::MatTraitConst;
use opencv::videoio::{self, VideoCapture, VideoCaptureTrait, VideoCaptureTraitConst};

use super::{CameraError, CameraSource};
use crate::frame::Frame;
use crate::scrubbed_mat::ScrubbedMat;

/// An open `VideoCapture` and the buffer it decodes into (scrubbed after every frame).
struct Capture {
    capture: VideoCapture,
    buffer: ScrubbedMat,
    origin: String,
    delivered: bool,
}

impl Capture {
    fn new(capture: VideoCapture, origin: String) -> Self {
        Self {
            capture,
            buffer: ScrubbedMat::default(),
            origin,
            delivered: false,
        }
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let decode_error = |reason: String| CameraError::Decode {
            origin: self.origin.clone(),
            reason,
        };
        let got = self
            .capture
            .read(self.buffer.mat_mut())
            .map_err(|e| decode_error(e.message))?;
        if !got || self.buffer.mat().empty() {
            let origin = self.origin.clone();
            return Err(if self.delivered {
                CameraError::Stopped { origin }
            } else {
                CameraError::NoFrames { origin }
            });
        }
        let frame = Frame::from_mat(self.buffer.mat()).map_err(|e| decode_error(e.to_string()));
        self.buffer.scrub();
        self.delivered = true;
        frame
    }
}

/// Frames of a video file, in order, until its end ([`CameraError::Stopped`]).
pub struct VideoFileSource(Capture);

impl VideoFileSource {
    /// Opens `path` with any OpenCV video backend that reads it.
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let origin = path.display().to_string();
        if !path.is_file() {
            return Err(CameraError::NotFound { origin });
        }
        let capture = VideoCapture::from_file(path, videoio::CAP_ANY)
            .ok()
            .filter(|c| c.is_opened().unwrap_or(false))
            .ok_or_else(|| CameraError::Decode {
                origin: origin.clone(),
                reason: "not a video OpenCV can read".into(),
            })?;
        Ok(Self(Capture::new(capture, origin)))
    }
}

impl CameraSource for VideoFileSource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        self.0.next_frame()
    }
}

/// Which V4L2 camera to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraDevice {
    /// `/dev/video<N>`.
    Index(u32),
    /// A device node such as `/dev/video2` or a `/dev/v4l/by-id/…` link.
    Path(PathBuf),
}

impl CameraDevice {
    fn node(&self) -> PathBuf {
        match self {
            Self::Index(index) => PathBuf::from(format!("/dev/video{index}")),
            Self::Path(path) => path.clone(),
        }
    }
}

/// Requested capture format; the driver may pick the nearest one it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSettings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            width: 640,
            height: 480,
            fps: 30,
        }
    }
}

/// A V4L2 camera.
pub struct V4l2Source(Capture);

impl V4l2Source {
    /// Opens `device` through OpenCV's V4L2 backend and requests `settings`.
    pub fn open(device: &CameraDevice, settings: CaptureSettings) -> Result<Self, CameraError> {
        let node = device.node();
        let origin = node.display().to_string();
        if !node.exists() {
            return Err(CameraError::NotFound { origin });
        }
        let unavailable = |reason: String| CameraError::Unavailable {
            origin: origin.clone(),
            reason,
        };
        let mut capture = VideoCapture::from_file(&node, videoio::CAP_V4L2)
            .map_err(|e| unavailable(e.message))?;
        if !capture.is_opened().unwrap_or(false) {
            return Err(unavailable("not a V4L2 capture device, or busy".into()));
        }
        for (property, value) in [
            (videoio::CAP_PROP_FRAME_WIDTH, settings.width),
            (videoio::CAP_PROP_FRAME_HEIGHT, settings.height),
            (videoio::CAP_PROP_FPS, settings.fps),
        ] {
            capture
                .set(property, f64::from(value))
                .map_err(|e| unavailable(e.message))?;
        }
        Ok(Self(Capture::new(capture, origin)))
    }
}

impl CameraSource for V4l2Source {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        self.0.next_frame()
    }
}
