//! Writing pictures: JPEG in memory (the evaluation's compression, fuzz seeds) and PNG files
//! (tools' and tests' synthetic cards and evaluation faces; the kiosk never writes an image).

use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;
use opencv::core::MatTraitConst;
use zeroize::Zeroizing;

use super::decode_image_bytes;
use crate::frame::{Frame, FrameError};

/// `frame` as a JPEG file at `quality` (1–100), in a zeroizing buffer sized up front.
pub fn encode_jpeg(frame: &Frame, quality: u8) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let rgb = frame.to_rgb()?;
    let packed = rgb
        .packed_bytes()
        .ok_or(FrameError::Codec("padded rows".into()))?;
    let mut encoded = Zeroizing::new(Vec::with_capacity(packed.len() + 4096));
    JpegEncoder::new_with_quality(&mut *encoded, quality.clamp(1, 100))
        .encode(
            packed,
            frame.width(),
            frame.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| FrameError::Codec(e.to_string()))?;
    Ok(encoded)
}

/// `frame` through JPEG at `quality` and back, in memory: the evaluation's heavy
/// compression, and the tests' blocky frames.
pub fn jpeg_round_trip(frame: &Frame, quality: u8) -> Result<Frame, FrameError> {
    decode_image_bytes(&encode_jpeg(frame, quality)?)
        .map_err(|_| FrameError::Codec("the JPEG encoder's output does not decode".into()))
}

/// Writes a BGR picture (`CV_8UC3`) as a PNG file.
pub fn write_png(path: &Path, bgr: &impl MatTraitConst) -> Result<(), FrameError> {
    let rgb = Frame::from_mat(bgr)?.to_rgb()?;
    let packed = rgb
        .packed_bytes()
        .ok_or(FrameError::Codec("padded rows".into()))?;
    image::save_buffer(
        path,
        packed,
        rgb.width(),
        rgb.height(),
        ExtendedColorType::Rgb8,
    )
    .map_err(|e| FrameError::Codec(format!("{}: {e}", path.display())))
}
