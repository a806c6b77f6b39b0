//! A [`CameraSource`] that cycles through the image files of a folder (or one image file).

use std::path::{Path, PathBuf};

use super::{CameraError, CameraSource};
use crate::frame::Frame;
use crate::image_file::{decode_image_file, ImageFileError};

/// File extensions of the formats `decode_image_file` reads (compared case-insensitively).
const IMAGE_EXTENSIONS: &[&str] = &[
    "bmp", "dib", "jpeg", "jpg", "jpe", "jp2", "png", "webp", "pbm", "pgm", "ppm", "pnm", "tif",
    "tiff",
];

/// Delivers the images of a folder in file-name order, starting again after the last one;
/// a path to a single image delivers that image every time. Files are decoded on each call,
/// so no pixels are kept between frames.
#[derive(Debug)]
pub struct ImageFolderSource {
    files: Vec<PathBuf>,
    next: usize,
}

impl ImageFolderSource {
    /// Lists the image files of `path` (not recursive), or takes `path` itself if it is a file.
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let origin = || path.display().to_string();
        let metadata =
            std::fs::metadata(path).map_err(|_| CameraError::NotFound { origin: origin() })?;
        let mut files = if metadata.is_dir() {
            std::fs::read_dir(path)
                .map_err(|e| CameraError::Decode {
                    origin: origin(),
                    reason: e.to_string(),
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_image(p))
                .collect()
        } else {
            vec![path.to_path_buf()]
        };
        if files.is_empty() {
            return Err(CameraError::NoFrames { origin: origin() });
        }
        files.sort();
        Ok(Self { files, next: 0 })
    }

    /// The files delivered, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl CameraSource for ImageFolderSource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let path = &self.files[self.next];
        self.next = (self.next + 1) % self.files.len();
        let origin = path.display().to_string();
        decode_image_file(path).map_err(|e| match e {
            ImageFileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                CameraError::NotFound { origin }
            }
            e => CameraError::Decode {
                origin,
                reason: e.to_string(),
            },
        })
    }
}

pub(crate) fn is_image(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        IMAGE_EXTENSIONS
            .iter()
            .any(|known| e.eq_ignore_ascii_case(known))
    })
}
