//! Reading an image file without trusting it: a regular file (never a FIFO or a device) of at
//! most [`MAX_FILE_BYTES`], whose header declares at most [`MAX_SIDE`] a side and [`MAX_PIXELS`]
//! in all — checked before any decoder allocates — decoded from a zeroizing buffer.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use opencv::core::{Mat, MatTraitConst};
use opencv::imgcodecs;
use zeroize::Zeroizing;

use crate::chip_photo::jp2_header;
use crate::frame::MAX_SIDE;

/// Largest image file read; camera photos are a few megabytes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Most pixels a decoded image may have (a 24-megapixel photo: 72 MB as BGR).
pub const MAX_PIXELS: u64 = 24_000_000;

/// Why an image file was not decoded.
#[derive(Debug, thiserror::Error)]
pub enum ImageFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a regular file (a folder, FIFO or device is never read)")]
    NotRegular { path: PathBuf },
    #[error("{path}: {bytes} bytes, more than an image file may have ({MAX_FILE_BYTES})")]
    TooManyBytes { path: PathBuf, bytes: u64 },
    #[error(
        "{path} is not a readable image (formats read: PNG, JPEG, BMP, PNM, TIFF, WebP, JPEG 2000)"
    )]
    UnknownFormat { path: PathBuf },
    #[error(
        "{path}: declares {width}×{height} pixels, more than {MAX_SIDE} a side or {MAX_PIXELS} in all; refused before decoding"
    )]
    TooLarge {
        path: PathBuf,
        width: u64,
        height: u64,
    },
    #[error("{path} is not a readable image")]
    Undecodable { path: PathBuf },
}

/// Decodes the image at `path` with OpenCV `flags` (e.g. `IMREAD_COLOR`) after the checks
/// above. The pixels belong to the caller, who zeroes them after use.
pub fn decode_image_file(path: &Path, flags: i32) -> Result<Mat, ImageFileError> {
    let bytes = read_image_bytes(path)?;
    let (width, height) =
        declared_size(&bytes).ok_or_else(|| ImageFileError::UnknownFormat { path: path.into() })?;
    if width > u64::from(MAX_SIDE) || height > u64::from(MAX_SIDE) || width * height > MAX_PIXELS {
        return Err(ImageFileError::TooLarge {
            path: path.into(),
            width,
            height,
        });
    }
    let undecodable = || ImageFileError::Undecodable { path: path.into() };
    let encoded = Mat::from_slice(bytes.as_slice()).map_err(|_| undecodable())?;
    match imgcodecs::imdecode(&encoded, flags) {
        Ok(mat) if !mat.empty() => Ok(mat),
        _ => Err(undecodable()),
    }
}

/// The bytes of the regular file at `path`, at most [`MAX_FILE_BYTES`] of them. The type is
/// checked before opening, so a FIFO never blocks the reader.
fn read_image_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, ImageFileError> {
    let io = |source| ImageFileError::Io {
        path: path.into(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ImageFileError::NotRegular { path: path.into() });
    }
    let too_many = |bytes| ImageFileError::TooManyBytes {
        path: path.into(),
        bytes,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_many(meta.len()));
    }
    let file = File::open(path).map_err(io)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_many(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The (width, height) the header of `bytes` declares, for the formats read here.
fn declared_size(bytes: &[u8]) -> Option<(u64, u64)> {
    if let Ok((width, height)) = jp2_header::image_size(bytes) {
        return Some((width.into(), height.into()));
    }
    use imagesize::ImageType as T;
    match imagesize::image_type(bytes).ok()? {
        T::Png | T::Jpeg | T::Bmp | T::Pnm | T::Tiff | T::Webp => {}
        _ => return None,
    }
    let size = imagesize::blob_size(bytes).ok()?;
    Some((size.width as u64, size.height as u64))
}
