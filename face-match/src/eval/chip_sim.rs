//! Simulated chip photos for the evaluation: an image turned into a small greyscale JPEG 2000
//! like the one on the card (about 160 px wide, about 3 KB).
//!
//! No maintained Rust crate encodes JPEG 2000 in memory (`hayro-jpeg2000` only decodes) and
//! OpenCV's encoder goes through a temporary file, so this runs OpenJPEG's `opj_compress`
//! (Debian `libopenjp2-tools`) on files in a private folder on tmpfs (`/dev/shm`). It is for
//! evaluation images only, never for a patient's photo; the kiosk itself never encodes.

use std::path::{Path, PathBuf};
use std::process::Command;

use opencv::core::Size;
use opencv::imgproc;
use zeroize::Zeroizing;

use crate::frame::{Frame, FrameError, GreyImage};

/// Why a simulated chip photo could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChipSimError {
    #[error("opj_compress is not installed (Debian package libopenjp2-tools)")]
    EncoderMissing,
    #[error("opj_compress failed: {0}")]
    Encoder(String),
    #[error("chip simulation work folder: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Image(#[from] FrameError),
}

/// Encodes images as chip-like JPEG 2000 files with `opj_compress`.
#[derive(Debug)]
pub struct ChipSimulator {
    width: u32,
    target_bytes: usize,
    dir: tempfile::TempDir,
}

impl ChipSimulator {
    /// A simulator producing `width`-pixel-wide photos of about `target_bytes` each.
    pub fn new(width: u32, target_bytes: usize) -> Result<Self, ChipSimError> {
        let tmpfs = Path::new("/dev/shm");
        let parent = if tmpfs.is_dir() {
            tmpfs.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("mynakiosk-chip-sim-")
            .tempdir_in(parent)?;
        Ok(Self {
            width: width.max(32),
            target_bytes: target_bytes.max(100),
            dir,
        })
    }

    /// The usual chip photo: 160 px wide, about 3 KB.
    pub fn card_like() -> Result<Self, ChipSimError> {
        Self::new(160, 3000)
    }

    /// `frame` as a greyscale JP2 file `width` pixels wide (aspect kept).
    pub fn encode(&self, frame: &Frame) -> Result<Zeroizing<Vec<u8>>, ChipSimError> {
        let height =
            ((f64::from(frame.height()) * f64::from(self.width) / f64::from(frame.width())).round()
                as u32)
                .max(32);
        let grey: GreyImage = frame.converted(imgproc::COLOR_BGR2GRAY)?;
        let mut small = GreyImage::zeroed(self.width, height)?;
        let grey_view = grey.as_mat()?;
        let size = Size::new(self.width as i32, height as i32);
        small.write_region(small.full_region(), |dst| {
            imgproc::resize(&grey_view, dst, size, 0.0, 0.0, imgproc::INTER_AREA)
        })?;
        let input = self.path("chip.pgm");
        let output = self.path("chip.jp2");
        let mut pgm = format!("P5\n{} {height}\n255\n", self.width).into_bytes();
        for y in 0..height {
            pgm.extend_from_slice(small.row(y).unwrap_or_default());
        }
        std::fs::write(&input, &pgm)?;
        let ratio = (self.width as usize * height as usize) as f64 / self.target_bytes as f64;
        let result = Command::new("opj_compress")
            .arg("-i")
            .arg(&input)
            .arg("-o")
            .arg(&output)
            .arg("-r")
            .arg(format!("{:.3}", ratio.max(1.0)))
            .output();
        let _ = std::fs::remove_file(&input);
        let run = result.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ChipSimError::EncoderMissing,
            _ => ChipSimError::Io(e),
        })?;
        if !run.status.success() {
            let _ = std::fs::remove_file(&output);
            return Err(ChipSimError::Encoder(
                String::from_utf8_lossy(&run.stderr).trim().to_string(),
            ));
        }
        let bytes = Zeroizing::new(std::fs::read(&output)?);
        std::fs::remove_file(&output)?;
        Ok(bytes)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
