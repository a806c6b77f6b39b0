//! Reading an image file without trusting it: a regular file (never a FIFO or a device) of at
//! most [`MAX_FILE_BYTES`], whose header declares at most [`MAX_SIDE`] a side and [`MAX_PIXELS`]
//! in all — checked when only the header has been read, before the picture is allocated —
//! decoded from a zeroizing buffer into zeroizing buffers by memory-safe Rust decoders
//! (`image`, whose own allocations are capped, and `hayro-jpeg2000`).

mod decode;
mod encode;

use std::io::Read;
use std::path::{Path, PathBuf};

use capped_file::Refusal as FileRefusal;

use zeroize::Zeroizing;

use crate::chip_photo::jp2_header;
use crate::frame::{Frame, MAX_SIDE};

pub use encode::{encode_jpeg, jpeg_round_trip, write_png};

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

/// Decodes the image at `path` into an 8-bit BGR frame after the checks above: grey images
/// are repeated into three channels, alpha is dropped, 16-bit samples keep their high byte,
/// and a JPEG's EXIF orientation is applied (as a photo viewer shows it).
pub fn decode_image_file(path: &Path) -> Result<Frame, ImageFileError> {
    let bytes = read_image_bytes(path)?;
    decode_image_bytes(&bytes).map_err(|refusal| refusal.at(path))
}

/// A camera's Motion JPEG frame, with the checks of [`decode_image_file`]; the error says
/// why it was refused. UVC cameras leave out the Huffman tables when they are JPEG's standard
/// ones: the frame is marked as Motion JPEG (an `AVI1` APP0 segment, as AVI files do), which
/// makes the decoder fill in the standard tables where a frame has none.
pub(crate) fn decode_motion_jpeg(frame: &[u8]) -> Result<Frame, String> {
    const AVI1: [u8; 9] = [0xFF, 0xE0, 0, 7, b'A', b'V', b'I', b'1', 0];
    let refused = |refusal: Refusal| refusal.at(Path::new("the frame")).to_string();
    let Some(rest) = frame.strip_prefix(&[0xFF, 0xD8]) else {
        return Err(refused(Refusal::UnknownFormat));
    };
    let mut marked = Zeroizing::new(Vec::with_capacity(frame.len() + AVI1.len()));
    marked.extend_from_slice(&[0xFF, 0xD8]);
    marked.extend_from_slice(&AVI1);
    marked.extend_from_slice(rest);
    decode_image_bytes(&marked).map_err(refused)
}

/// [`decode_image_file`] on bytes already in memory.
fn decode_image_bytes(bytes: &[u8]) -> Result<Frame, Refusal> {
    let Ok((width, height)) = jp2_header::image_size(bytes) else {
        return decode::decode(bytes);
    };
    check_size(width.into(), height.into())?;
    crate::chip_photo::decode_samples(bytes)
        .ok()
        .and_then(|samples| samples.to_bgr().ok())
        .ok_or(Refusal::Undecodable)
}

/// Refuses a declared size over [`MAX_SIDE`] a side or [`MAX_PIXELS`] in all.
fn check_size(width: u64, height: u64) -> Result<(), Refusal> {
    if width > u64::from(MAX_SIDE) || height > u64::from(MAX_SIDE) || width * height > MAX_PIXELS {
        return Err(Refusal::TooLarge { width, height });
    }
    Ok(())
}

/// Why bytes were not decoded, before the file's path is known.
enum Refusal {
    UnknownFormat,
    TooLarge { width: u64, height: u64 },
    Undecodable,
}

impl Refusal {
    fn at(self, path: &Path) -> ImageFileError {
        let path = path.to_path_buf();
        match self {
            Self::UnknownFormat => ImageFileError::UnknownFormat { path },
            Self::TooLarge { width, height } => ImageFileError::TooLarge {
                path,
                width,
                height,
            },
            Self::Undecodable => ImageFileError::Undecodable { path },
        }
    }
}

/// The bytes of the regular file at `path`, at most [`MAX_FILE_BYTES`] of them, opened without
/// waiting and checked through the open descriptor (`capped-file`), so a FIFO never blocks the
/// reader.
fn read_image_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, ImageFileError> {
    let refused = |refusal| match refusal {
        FileRefusal::NotRegular => ImageFileError::NotRegular { path: path.into() },
        FileRefusal::TooLarge { size, .. } => ImageFileError::TooManyBytes {
            path: path.into(),
            bytes: size,
        },
        FileRefusal::Io(source) => ImageFileError::Io {
            path: path.into(),
            source,
        },
    };
    let file = capped_file::open(path, MAX_FILE_BYTES).map_err(refused)?;
    let size = file.metadata().map_err(|e| refused(e.into()))?.len();
    // Room for the whole file and read_to_end's probe, so the buffer is never moved.
    let mut bytes = Zeroizing::new(Vec::with_capacity(size as usize + 32));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(e.into()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refused(FileRefusal::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::face_eval;
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, ImageEncoder};

    fn file_with(bytes: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn png(pixels: &[u8], width: u32, height: u32, colour: ExtendedColorType) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(pixels, width, height, colour)
            .unwrap();
        out
    }

    #[test]
    fn a_png_round_trips_exactly_and_grey_fills_three_channels() {
        let orl = decode_image_file(&face_eval().join("orl/s1/1.pgm")).unwrap();
        assert_eq!((orl.width(), orl.height()), (92, 112));
        let row = orl.row(50).unwrap();
        assert!(row
            .chunks_exact(3)
            .all(|px| px[0] == px[1] && px[1] == px[2]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.png");
        write_png(&path, &orl.as_mat().unwrap()).unwrap();
        let copy = decode_image_file(&path).unwrap();
        for y in 0..112 {
            assert_eq!(copy.row(y), orl.row(y));
        }
    }

    #[test]
    fn alpha_is_dropped_and_sixteen_bits_keep_their_high_byte() {
        // One RGBA pixel (10, 20, 30, 0): BGR 30, 20, 10, transparency ignored.
        let (_dir, path) = file_with(
            &png(&[10, 20, 30, 0], 1, 1, ExtendedColorType::Rgba8),
            "a.png",
        );
        assert_eq!(
            decode_image_file(&path).unwrap().row(0).unwrap(),
            [30, 20, 10]
        );
        // 16-bit grey 0xABCD (PNG stores big-endian; the encoder takes native order).
        let sample = 0xABCDu16.to_ne_bytes();
        let (_dir, path) = file_with(&png(&sample, 1, 1, ExtendedColorType::L16), "b.png");
        assert_eq!(decode_image_file(&path).unwrap().row(0).unwrap(), [0xAB; 3]);
    }

    #[test]
    fn a_pnm_header_with_a_comment_is_read() {
        // As OpenJPEG's opj_decompress and GIMP write them.
        let mut pgm = b"P5\n#OpenJPEG-2.5.0\n2 1\n# a second comment\n255\n".to_vec();
        pgm.extend([7, 200]);
        let (_dir, path) = file_with(&pgm, "c.pgm");
        let frame = decode_image_file(&path).unwrap();
        assert_eq!(frame.row(0).unwrap(), [7, 7, 7, 200, 200, 200]);
    }

    #[test]
    fn a_jpeg_2000_file_keeps_its_colour_and_may_be_wider_than_a_chip_photo() {
        // 2100×64 (a chip photo is at most 2048 a side): red on the left, blue on the right.
        let dir = tempfile::tempdir().unwrap();
        let (ppm, jp2) = (dir.path().join("wide.ppm"), dir.path().join("wide.jp2"));
        let mut bytes = b"P6\n2100 64\n255\n".to_vec();
        for _ in 0..64 {
            for x in 0..2100 {
                bytes.extend(if x < 1050 { [255, 0, 0] } else { [0, 0, 255] });
            }
        }
        std::fs::write(&ppm, bytes).unwrap();
        let run = std::process::Command::new("opj_compress")
            .arg("-i")
            .arg(&ppm)
            .arg("-o")
            .arg(&jp2)
            .output()
            .expect("opj_compress (Debian libopenjp2-tools)");
        assert!(run.status.success(), "{run:?}");
        let frame = decode_image_file(&jp2).unwrap();
        assert_eq!((frame.width(), frame.height()), (2100, 64));
        let row = frame.row(32).unwrap();
        assert_eq!(
            (&row[..3], &row[row.len() - 3..]),
            (&[0, 0, 255][..], &[255, 0, 0][..])
        );
    }

    /// `jpeg` with an EXIF segment saying `orientation` inserted after its start marker.
    fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
        // One IFD entry: tag 0x0112 (orientation), SHORT, count 1, value; no next IFD.
        tiff.extend([
            0x12,
            0x01,
            3,
            0,
            1,
            0,
            0,
            0,
            orientation,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend((app1.len() as u16 + 2).to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_jpeg_is_turned_as_its_exif_orientation_says() {
        // 32×16: the left half black, the right half white.
        let pixels: Vec<u8> = (0..16 * 32)
            .flat_map(|i| [if i % 32 < 16 { 0 } else { 255 }; 3])
            .collect();
        let frame = Frame::from_raw(32, 16, 96, Zeroizing::new(pixels)).unwrap();
        let jpeg = encode_jpeg(&frame, 95).unwrap();
        let mean = |frame: &Frame, rows: std::ops::Range<u32>, columns: std::ops::Range<usize>| {
            let values: Vec<u32> = rows
                .flat_map(|y| frame.row(y).unwrap()[columns.start * 3..columns.end * 3].to_vec())
                .map(u32::from)
                .collect();
            values.iter().sum::<u32>() / values.len() as u32
        };
        // 6: turn 90° clockwise to view, so the left (black) half comes on top.
        let (_dir, path) = file_with(&with_exif_orientation(&jpeg, 6), "turned.jpg");
        let turned = decode_image_file(&path).unwrap();
        assert_eq!((turned.width(), turned.height()), (16, 32));
        assert!(mean(&turned, 0..14, 0..16) < 20 && mean(&turned, 18..32, 0..16) > 235);
        // 2: mirrored, so black comes on the right.
        let (_dir, path) = file_with(&with_exif_orientation(&jpeg, 2), "mirrored.jpg");
        let mirrored = decode_image_file(&path).unwrap();
        assert_eq!((mirrored.width(), mirrored.height()), (32, 16));
        assert!(mean(&mirrored, 0..16, 0..14) > 235 && mean(&mirrored, 0..16, 18..32) < 20);
        // 1: as stored.
        let (_dir, path) = file_with(&with_exif_orientation(&jpeg, 1), "upright.jpg");
        let upright = decode_image_file(&path).unwrap();
        assert!(mean(&upright, 0..16, 0..14) < 20);
    }

    #[test]
    fn a_jpeg_round_trip_keeps_the_picture() {
        let orl = decode_image_file(&face_eval().join("orl/s1/1.pgm")).unwrap();
        let copy = jpeg_round_trip(&orl, 90).unwrap();
        assert_eq!((copy.width(), copy.height()), (92, 112));
        let error: u32 = (0..112)
            .flat_map(|y| {
                let (a, b) = (orl.row(y).unwrap(), copy.row(y).unwrap());
                a.iter()
                    .zip(b)
                    .map(|(a, b)| u32::from(a.abs_diff(*b)))
                    .collect::<Vec<_>>()
            })
            .sum();
        let mean = error as f32 / (92.0 * 112.0 * 3.0);
        assert!(mean < 3.0, "mean error {mean}");
    }

    /// `jpeg` without its Huffman tables (DHT segments), as UVC cameras send Motion JPEG.
    fn without_huffman_tables(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut at = 2;
        while jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
            let end = at + 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            if jpeg[at + 1] != 0xC4 {
                out.extend(&jpeg[at..end]);
            }
            at = end;
        }
        out.extend(&jpeg[at..]);
        out
    }

    #[test]
    fn a_motion_jpeg_frame_decodes_with_or_without_huffman_tables() {
        assert!(decode_motion_jpeg(b"not a jpeg").is_err());
        let orl = decode_image_file(&face_eval().join("orl/s1/1.pgm")).unwrap();
        let jpeg = encode_jpeg(&orl, 80).unwrap();
        let whole = decode_motion_jpeg(&jpeg).unwrap();
        assert_eq!((whole.width(), whole.height()), (92, 112));
        let mjpeg = without_huffman_tables(&jpeg);
        assert!(mjpeg.len() < jpeg.len(), "the encoder wrote Huffman tables");
        let frame = decode_motion_jpeg(&mjpeg).unwrap();
        for y in 0..112 {
            assert_eq!(frame.row(y), whole.row(y), "the standard tables, filled in");
        }
    }
}
