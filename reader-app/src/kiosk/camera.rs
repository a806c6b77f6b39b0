//! The kiosk's cameras, the patient camera and the card-front camera: face-match camera
//! sources (a V4L2 device, or image folders for demos and tests), opened when first needed.

use face_match::{CameraError, CameraSource, Frame};

use crate::config::{CameraConfig, CameraKind};
use crate::errors::{Failure, KioskError};

/// Opens a camera when a capture starts (a missing camera is the patient's error, not a
/// start-up failure).
pub type CameraOpener =
    Box<dyn FnMut() -> Result<Box<dyn CameraSource + Send>, CameraError> + Send>;

/// A camera opened on first use and closed on [`LazyCamera::close`].
pub struct LazyCamera {
    open: CameraOpener,
    camera: Option<Box<dyn CameraSource + Send>>,
}

impl LazyCamera {
    pub fn new(open: CameraOpener) -> Self {
        Self { open, camera: None }
    }

    /// The next frame, opening the camera first if needed.
    pub fn next_frame(&mut self) -> Result<Frame, Failure> {
        let camera = match &mut self.camera {
            Some(camera) => camera,
            None => self.camera.insert((self.open)().map_err(camera_error)?),
        };
        camera.next_frame().map_err(camera_error)
    }

    /// Closes the camera, dropping any frame it buffered.
    pub fn close(&mut self) {
        self.camera = None;
    }
}

/// The camera `config` describes.
pub fn open(config: &CameraConfig) -> Result<Box<dyn CameraSource + Send>, CameraError> {
    use face_match::{CameraDevice, CaptureSettings, ImageFolderSource, V4l2Source};
    Ok(match config.source {
        CameraKind::Images => Box::new(ImageFolderSource::open(&config.folder)?),
        CameraKind::V4l2 => Box::new(V4l2Source::open(
            &CameraDevice::Path(config.device.clone()),
            CaptureSettings {
                width: config.width,
                height: config.height,
                fps: config.fps,
            },
        )?),
    })
}

fn camera_error(e: CameraError) -> Failure {
    Failure::new(KioskError::CameraMissing, format!("camera failed: {e}"))
}
