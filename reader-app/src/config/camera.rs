//! `[camera]` and `[card_front_camera]`: a V4L2 camera or a folder of still images.

use serde::Deserialize;
use std::path::PathBuf;

use crate::setting::Invalid;

/// A camera: the patient camera (`[camera]`) or the card-front camera (`[card_front_camera]`).
/// Keys left out take the patient camera's defaults (`/dev/video0`, 640×480, 15 fps).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// `v4l2` (a camera) or `images` (a folder of still images, for demos and tests).
    pub source: CameraKind,
    /// `source = "v4l2"`: the device node.
    pub device: PathBuf,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// `source = "images"`: the folder (or one image).
    pub folder: PathBuf,
}

/// The kind of patient camera.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CameraKind {
    V4l2,
    Images,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            source: CameraKind::V4l2,
            device: "/dev/video0".into(),
            width: 640,
            height: 480,
            fps: 15,
            folder: PathBuf::new(),
        }
    }
}

impl CameraConfig {
    /// Checks the section; `keys` name its fps, width, height and folder keys in errors.
    pub(super) fn validate(
        &self,
        [fps, width, height, folder]: [&'static str; 4],
    ) -> Result<(), Invalid> {
        if !(1..=60).contains(&self.fps) {
            return Err(Invalid::new(fps, "1 to 60", self.fps));
        }
        for (key, side) in [(width, self.width), (height, self.height)] {
            if !(64..=4096).contains(&side) {
                return Err(Invalid::new(key, "64 to 4096", side));
            }
        }
        if self.source == CameraKind::Images && self.folder.as_os_str().is_empty() {
            return Err(Invalid::new(folder, "a folder of images", "nothing"));
        }
        Ok(())
    }
}
