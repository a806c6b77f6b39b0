//! The `image` crate's decoders (PNG, JPEG, BMP, PNM, TIFF, WebP), writing into zeroizing
//! buffers: the size is checked once the header is read, the decoders' own allocations are
//! capped, and the EXIF orientation is applied.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{ColorType, ImageDecoder, ImageFormat, ImageReader, Limits};
use opencv::core::{ROTATE_180, ROTATE_90_CLOCKWISE, ROTATE_90_COUNTERCLOCKWISE};
use zeroize::Zeroizing;

use super::{check_size, Refusal, MAX_PIXELS};
use crate::frame::Frame;
use crate::samples::Samples;

/// Most bytes a decoder may hold at once, the picture it decodes counted in (the `image` crate's
/// rule; a 16-bit RGBA picture of [`MAX_PIXELS`], the largest, is 192 MB).
const MAX_DECODER_ALLOCATION: u64 = MAX_PIXELS * 8;

/// Decodes `bytes` into BGR once their header's size has passed [`check_size`].
pub(super) fn decode(bytes: &[u8]) -> Result<Frame, Refusal> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| Refusal::UnknownFormat)?;
    use ImageFormat as F;
    if !matches!(
        reader.format(),
        Some(F::Png | F::Jpeg | F::Bmp | F::Pnm | F::Tiff | F::WebP)
    ) {
        return Err(Refusal::UnknownFormat);
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOCATION);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|_| Refusal::Undecodable)?;
    let (width, height) = decoder.dimensions();
    check_size(width.into(), height.into())?;
    pixels(decoder).ok_or(Refusal::Undecodable)
}

/// The picture of a decoder that has read the header.
fn pixels(mut decoder: impl ImageDecoder) -> Option<Frame> {
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (channels, wide) = match decoder.color_type() {
        ColorType::L8 => (1, false),
        ColorType::La8 => (2, false),
        ColorType::Rgb8 => (3, false),
        ColorType::Rgba8 => (4, false),
        ColorType::L16 => (1, true),
        ColorType::La16 => (2, true),
        ColorType::Rgb16 => (3, true),
        ColorType::Rgba16 => (4, true),
        _ => return None,
    };
    let mut raw = Zeroizing::new(vec![0u8; usize::try_from(decoder.total_bytes()).ok()?]);
    decoder.read_image(&mut raw).ok()?;
    let data = if wide {
        // Native-endian 16-bit samples: keep the high byte.
        Zeroizing::new(
            raw.chunks_exact(2)
                .map(|s| (u16::from_ne_bytes([s[0], s[1]]) >> 8) as u8)
                .collect(),
        )
    } else {
        raw
    };
    let samples = Samples {
        width,
        height,
        channels,
        data,
    };
    oriented(samples.to_bgr().ok()?, orientation)
}

/// `frame` turned as its EXIF orientation says.
fn oriented(frame: Frame, orientation: Orientation) -> Option<Frame> {
    use Orientation as O;
    let (rotation, mirror) = match orientation {
        O::NoTransforms => return Some(frame),
        O::Rotate90 => (Some(ROTATE_90_CLOCKWISE), false),
        O::Rotate180 => (Some(ROTATE_180), false),
        O::Rotate270 => (Some(ROTATE_90_COUNTERCLOCKWISE), false),
        O::FlipHorizontal => (None, true),
        // Upside down, then mirrored: only the rows' order changes.
        O::FlipVertical => (Some(ROTATE_180), true),
        O::Rotate90FlipH => (Some(ROTATE_90_CLOCKWISE), true),
        O::Rotate270FlipH => (Some(ROTATE_90_COUNTERCLOCKWISE), true),
    };
    let turned = match rotation {
        Some(code) => frame.rotated(code).ok()?,
        None => frame,
    };
    if mirror {
        turned.mirrored().ok()
    } else {
        Some(turned)
    }
}
