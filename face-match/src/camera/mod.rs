//! Frame sources: a folder of images, a V4L2 camera.

mod image_folder;
mod v4l2;

pub(crate) use image_folder::is_image;
pub use image_folder::ImageFolderSource;
pub use v4l2::{CameraDevice, CaptureSettings, V4l2Source};

use crate::frame::Frame;

/// Something that delivers camera frames one at a time.
pub trait CameraSource {
    /// The next frame; blocks until one is available.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
}

/// Why a source delivered no frame. `origin` names the folder, file or device.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// The folder, file or device does not exist.
    #[error("camera source not found: {origin}")]
    NotFound { origin: String },
    /// The device exists but cannot be opened (busy, no permission, not a camera).
    #[error("camera {origin} cannot be opened: {reason}")]
    Unavailable { origin: String, reason: String },
    /// The source holds no frames at all (empty folder, a camera that never sends one).
    #[error("{origin} contains no frames")]
    NoFrames { origin: String },
    /// The source delivered frames before but has stopped (unplugged, hung).
    #[error("{origin} stopped delivering frames")]
    Stopped { origin: String },
    /// A file or frame could not be decoded into an 8-bit colour image.
    #[error("could not decode a frame from {origin}: {reason}")]
    Decode { origin: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::face_eval;
    use std::path::{Path, PathBuf};

    fn orl(subject: u32, image: u32) -> PathBuf {
        face_eval().join(format!("orl/s{subject}/{image}.pgm"))
    }

    #[test]
    fn image_folder_cycles_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for (name, subject) in [("b.pgm", 2), ("a.PGM", 1), ("c.jpg.txt", 3)] {
            std::fs::copy(orl(subject, 1), dir.path().join(name)).unwrap();
        }
        let mut source = ImageFolderSource::open(dir.path()).unwrap();
        let names: Vec<_> = source
            .files()
            .iter()
            .map(|f| f.file_name().unwrap())
            .collect();
        assert_eq!(names, ["a.PGM", "b.pgm"]);
        let rows: Vec<Vec<u8>> = (0..3)
            .map(|_| {
                let frame = source.next_frame().unwrap();
                assert_eq!((frame.width(), frame.height()), (92, 112));
                frame.row(60).unwrap().to_vec()
            })
            .collect();
        assert_ne!(rows[0], rows[1]);
        assert_eq!(rows[0], rows[2], "starts again after the last file");
    }

    #[test]
    fn image_folder_on_a_single_file_repeats_it() {
        let mut source = ImageFolderSource::open(&orl(1, 1)).unwrap();
        let first = source.next_frame().unwrap();
        assert_eq!(first.row(7), source.next_frame().unwrap().row(7));
    }

    #[test]
    fn image_folder_errors() {
        let missing = Path::new("/nonexistent/mynakiosk-frames");
        assert!(matches!(
            ImageFolderSource::open(missing),
            Err(CameraError::NotFound { .. })
        ));
        let no_images = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        assert!(matches!(
            ImageFolderSource::open(&no_images),
            Err(CameraError::NoFrames { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
        let mut source = ImageFolderSource::open(dir.path()).unwrap();
        assert!(matches!(
            source.next_frame(),
            Err(CameraError::Decode { .. })
        ));
    }

    #[test]
    fn missing_v4l2_device_is_not_found() {
        let err = V4l2Source::open(&CameraDevice::Index(97), CaptureSettings::default()).err();
        assert!(
            matches!(err, Some(CameraError::NotFound { ref origin }) if origin == "/dev/video97")
        );
        let path = CameraDevice::Path("/dev/v4l/by-id/no-such-camera".into());
        let err = V4l2Source::open(&path, CaptureSettings::default()).err();
        assert!(matches!(err, Some(CameraError::NotFound { .. })), "{err:?}");
    }

    #[test]
    fn a_device_that_is_not_a_camera_is_unavailable_with_the_reason() {
        // A configured path that opens but answers no V4L2 request (as a camera's metadata
        // node, or a mistyped device, would).
        let err = V4l2Source::open(&CameraDevice::Path("/dev/null".into()), Default::default())
            .err()
            .expect("/dev/null is no camera");
        let text = err.to_string();
        assert!(
            matches!(err, CameraError::Unavailable { .. })
                && text.contains("/dev/null")
                && text.contains("not a V4L2 capture device"),
            "{text}"
        );
    }
}
