//! Test-time mirroring for single pictures: an image's left-right mirror, a face found in a
//! mirrored picture mapped back, and the embedding of an aligned crop averaged with its
//! mirror's (a standard trick in face recognition: on a degraded picture the mean of the two
//! is a steadier estimate of the face than either alone). Mirrors are zeroizing images.

use opencv::core;
use zeroize::Zeroize;

use crate::detector::DetectedFace;
use crate::embedder::{Embedding, FaceEmbedder, EMBEDDING_LEN};
use crate::error::FaceError;
use crate::frame::{FrameError, Image, PixelFormat, RgbImage};

/// `image` mirrored left to right, as a new zeroizing image.
pub fn mirrored<P: PixelFormat>(image: &Image<P>) -> Result<Image<P>, FrameError> {
    let src = image.as_mat()?;
    let mut out = Image::<P>::zeroed(image.width(), image.height())?;
    out.write_region(out.full_region(), |dst| core::flip(&src, dst, 1))?;
    Ok(out)
}

/// A face found in the [`mirrored`] copy of a picture `width` px wide, as it lies in the
/// picture itself: x mirrored back, and the eyes and mouth corners swapped back to right
/// then left.
pub fn unmirrored(face: DetectedFace, width: u32) -> DetectedFace {
    let last = width as f32 - 1.0;
    let [right_eye, left_eye, nose, right_mouth, left_mouth] =
        face.landmarks.map(|(x, y)| (last - x, y));
    let (x, y, w, h) = face.bbox;
    DetectedFace {
        bbox: (width as f32 - (x + w), y, w, h),
        landmarks: [left_eye, right_eye, nose, left_mouth, right_mouth],
        ..face
    }
}

/// The mean of the embeddings of `crop` and of its mirror, normalised.
pub fn embed_with_mirror(
    embedder: &mut FaceEmbedder,
    crop: &RgbImage,
) -> Result<Embedding, FaceError> {
    let direct = embedder.embed(crop)?;
    let mirror = mirrored(crop)?;
    let flipped = embedder.embed(&mirror)?;
    drop(mirror);
    let mut sum = [0.0f32; EMBEDDING_LEN];
    for (total, (a, b)) in sum
        .iter_mut()
        .zip(direct.values().iter().zip(flipped.values()))
    {
        *total = a + b;
    }
    let mean = Embedding::normalised(sum);
    sum.zeroize();
    mean.ok_or_else(|| FaceError::Inference("a crop and its mirror cancel out".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use zeroize::Zeroizing;

    #[test]
    fn a_mirror_reverses_each_row_and_twice_gives_the_image_back() {
        let mut pixels = Vec::new();
        for y in 0..3u8 {
            for x in 0..4u8 {
                pixels.extend([x, y, 10 * x + y]);
            }
        }
        let frame = Frame::from_raw(4, 3, 12, Zeroizing::new(pixels)).unwrap();
        let mirror = mirrored(&frame).unwrap();
        for y in 0..3 {
            let (row, back) = (frame.row(y).unwrap(), mirror.row(y).unwrap());
            for x in 0..4 {
                assert_eq!(row[3 * x..3 * x + 3], back[3 * (3 - x)..3 * (3 - x) + 3]);
            }
        }
        let twice = mirrored(&mirror).unwrap();
        for y in 0..3 {
            assert_eq!(twice.row(y), frame.row(y));
        }
    }

    #[test]
    fn a_face_found_in_a_mirror_maps_back_with_its_sides_swapped() {
        let face = DetectedFace {
            bbox: (10.0, 20.0, 40.0, 50.0),
            landmarks: [
                (20.0, 30.0),
                (40.0, 31.0),
                (30.0, 40.0),
                (22.0, 55.0),
                (38.0, 56.0),
            ],
            score: 0.9,
        };
        // As YuNet would report the same face in the mirrored 100 px picture.
        let seen = DetectedFace {
            bbox: (50.0, 20.0, 40.0, 50.0),
            landmarks: [
                (59.0, 31.0),
                (79.0, 30.0),
                (69.0, 40.0),
                (61.0, 56.0),
                (77.0, 55.0),
            ],
            score: 0.9,
        };
        assert_eq!(unmirrored(seen, 100), face);
    }
}
