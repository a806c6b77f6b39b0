//! Decoding the face photo stored on the card's chip (greyscale JPEG 2000, usually in a JP2
//! container). The bytes come from an untrusted chip, so the decoder is the memory-safe,
//! pure-Rust `hayro-jpeg2000`; OpenJPEG's `opj_decompress` is only a cross-check in the tests.

pub(crate) mod jp2_header;

use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
use zeroize::Zeroizing;

use crate::frame::GreyImage;
use crate::samples::Samples;

/// Largest accepted photo width or height; chip photos are a few hundred pixels at most.
pub const MAX_PHOTO_SIDE: u32 = 2048;

/// Why the chip photo could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// No bytes at all.
    #[error("the card returned no photo data")]
    Empty,
    /// Neither a JP2 file nor a JPEG 2000 codestream.
    #[error("the card photo is not JPEG 2000 data")]
    NotJpeg2000,
    /// The data ends before the image does.
    #[error("the card photo data is truncated")]
    Truncated,
    /// The structure is inconsistent.
    #[error("the card photo data is corrupt: {0}")]
    Corrupt(String),
    /// The declared image is implausibly large for a chip photo.
    #[error("the card photo claims to be {width}×{height} pixels (limit {MAX_PHOTO_SIDE})")]
    TooLarge { width: u32, height: u32 },
    /// The decoder rejected the data.
    #[error("the card photo could not be decoded: {0}")]
    Decode(String),
}

/// Decodes a JPEG 2000 chip photo (JP2 file or raw codestream) into a greyscale image.
///
/// The structure and size are checked before the decoder runs; colour photos are converted
/// to grey (ITU-R BT.601 weights). The interleaved samples live in a zeroizing buffer.
pub fn decode_jp2(bytes: &[u8]) -> Result<GreyImage, PhotoError> {
    let (width, height) = jp2_header::image_size(bytes)?;
    if width > MAX_PHOTO_SIDE || height > MAX_PHOTO_SIDE {
        return Err(PhotoError::TooLarge { width, height });
    }
    decode_samples(bytes)?
        .to_grey()
        .map_err(|e| PhotoError::Decode(e.to_string()))
}

/// The decoder's samples (grey or RGB, alpha kept) of JPEG 2000 `bytes`, whose declared size
/// the caller has checked against its own limit (a chip photo's, an image file's).
pub(crate) fn decode_samples(bytes: &[u8]) -> Result<Samples, PhotoError> {
    let (width, height) = jp2_header::image_size(bytes)?;
    let decode_error = |e: hayro_jpeg2000::DecodeError| PhotoError::Decode(e.to_string());
    let image = Image::new(bytes, &DecodeSettings::default()).map_err(decode_error)?;
    if (image.width(), image.height()) != (width, height) {
        return Err(PhotoError::Decode(format!(
            "the decoder sees {}×{} pixels, the header says {width}×{height}",
            image.width(),
            image.height()
        )));
    }
    let colour = match image.color_space() {
        ColorSpace::Gray => false,
        ColorSpace::RGB => true,
        other => {
            return Err(PhotoError::Decode(format!(
                "unsupported colour space {other:?}"
            )))
        }
    };
    let channels = if colour { 3 } else { 1 } + usize::from(image.has_alpha());
    let pixels = width as usize * height as usize;
    let mut context = DecoderContext::default();
    let decoded = image.decode(&mut context).map_err(decode_error)?;
    let mut data = Zeroizing::new(vec![0u8; pixels * channels]);
    if decoded.components().len() != channels
        || decoded
            .components()
            .iter()
            .any(|c| c.samples().len() != pixels)
    {
        return Err(PhotoError::Decode(
            "the decoded components do not match the image size".into(),
        ));
    }
    decoded.store_u8_into(&mut data);
    Ok(Samples {
        width,
        height,
        channels,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::orl_grey_mat;
    use opencv::core::{MatTraitConst, MatTraitConstManual};
    use std::path::Path;
    use std::process::Command;

    /// Runs OpenJPEG's `tool` (Debian `libopenjp2-tools`) from `input` to `output`.
    fn openjpeg(tool: &str, input: &Path, output: &Path, options: &[&str]) {
        let run = Command::new(tool)
            .arg("-i")
            .arg(input)
            .arg("-o")
            .arg(output)
            .args(options)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e} (Debian libopenjp2-tools)"));
        assert!(run.status.success(), "{tool}: {:?}", run);
    }

    /// An ORL face compressed 4:1 as JP2 by OpenJPEG, as a chip would store it.
    fn orl_jp2() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let (pgm, jp2) = (dir.path().join("orl.pgm"), dir.path().join("orl.jp2"));
        // opj_compress wants the header's fields on lines of their own.
        let mut bytes = b"P5\n92 112\n255\n".to_vec();
        bytes.extend_from_slice(orl_grey_mat().data_bytes().unwrap());
        std::fs::write(&pgm, bytes).unwrap();
        openjpeg("opj_compress", &pgm, &jp2, &["-r", "4"]);
        std::fs::read(jp2).unwrap()
    }

    /// The decoded photo has the original's size and, within the lossy coding, its pixels.
    fn assert_matches_orl(image: &GreyImage) {
        let original = orl_grey_mat();
        assert_eq!((image.width(), image.height()), (92, 112));
        let (mut total, mut worst) = (0u32, 0u8);
        for y in 0..112 {
            let want = original.row(y as i32).unwrap();
            for (&a, &b) in image.row(y).unwrap().iter().zip(want.data_bytes().unwrap()) {
                total += u32::from(a.abs_diff(b));
                worst = worst.max(a.abs_diff(b));
            }
        }
        let mean = total as f32 / (92.0 * 112.0);
        assert!(mean < 2.0 && worst < 32, "mean error {mean}, worst {worst}");
    }

    #[test]
    fn decodes_a_jp2_file() {
        let jp2 = orl_jp2();
        assert_eq!(&jp2[4..8], b"jP  ");
        assert_matches_orl(&decode_jp2(&jp2).unwrap());
    }

    #[test]
    fn agrees_with_openjpeg_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let (jp2, pgm) = (dir.path().join("orl.jp2"), dir.path().join("orl.pgm"));
        std::fs::write(&jp2, orl_jp2()).unwrap();
        openjpeg("opj_decompress", &jp2, &pgm, &[]);
        let theirs = crate::decode_image_file(&pgm).unwrap();
        let ours = decode_jp2(&std::fs::read(&jp2).unwrap()).unwrap();
        assert_eq!((theirs.width(), theirs.height()), (92, 112));
        let mut worst = 0;
        for y in 0..112 {
            let want = theirs.row(y).unwrap().iter().step_by(3);
            for (&a, &b) in ours.row(y).unwrap().iter().zip(want) {
                worst = worst.max(a.abs_diff(b));
            }
        }
        assert_eq!(worst, 0, "hayro and OpenJPEG disagree by up to {worst}");
    }

    #[test]
    fn decodes_a_raw_codestream() {
        let jp2 = orl_jp2();
        let codestream = jp2_header::jp2_codestream(&jp2).unwrap();
        assert_matches_orl(&decode_jp2(codestream).unwrap());
    }

    #[test]
    fn truncated_photo_is_a_typed_error() {
        let jp2 = orl_jp2();
        for len in [1, 11, 12, 40, jp2.len() / 2, jp2.len() - 1] {
            assert_eq!(
                decode_jp2(&jp2[..len]).err(),
                Some(PhotoError::Truncated),
                "cut at {len}"
            );
        }
    }

    #[test]
    fn garbage_and_empty_photos_are_typed_errors() {
        assert_eq!(decode_jp2(&[]).err(), Some(PhotoError::Empty));
        assert_eq!(
            decode_jp2(b"GIF89a garbage").err(),
            Some(PhotoError::NotJpeg2000)
        );
        // A well-formed container around a codestream that is noise after SIZ.
        let mut jp2 = orl_jp2();
        let codestream_start = jp2.len() - jp2_header::jp2_codestream(&jp2).unwrap().len();
        let end = jp2.len() - 2;
        for (i, byte) in jp2[codestream_start + 60..end].iter_mut().enumerate() {
            *byte = (i * 7919 % 251) as u8;
        }
        let err = decode_jp2(&jp2).err();
        assert!(matches!(err, Some(PhotoError::Decode(_))), "{err:?}");
    }

    #[test]
    fn oversized_photo_is_refused_before_decoding() {
        let mut jp2 = orl_jp2();
        let siz = jp2.len() - jp2_header::jp2_codestream(&jp2).unwrap().len() + 4;
        // Xsiz: 100 000 pixels wide.
        jp2[siz + 4..siz + 8].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(
            decode_jp2(&jp2).err(),
            Some(PhotoError::TooLarge {
                width: 100_000,
                height: 112
            })
        );
    }
}
