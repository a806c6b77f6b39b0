//! Heavy JPEG compression and strong sensor noise in a single picture: JPEG's 8×8 block edges
//! are found by comparing the grey steps across block borders with those inside blocks, noise
//! by its estimated σ, and such a picture is smoothed before detection and alignment, so that
//! the landmarks and the embedding see the face rather than the block grid or the grain. The
//! smoothed copy is a zeroizing [`Frame`].

use super::retry;
use crate::frame::{Frame, FrameError};

/// JPEG's block side, in pixels.
const BLOCK: usize = 8;
/// A picture whose steps across block borders are this many times those inside blocks is
/// blocky (a natural picture is near 1).
const BLOCKY_RATIO: f64 = 1.5;
/// Blur of the smoothing, in pixels.
const SIGMA: f64 = 1.5;

/// Estimated noise σ (grey levels) over which a picture is noisy.
const NOISY_SIGMA: f64 = 8.0;

/// Whether `frame` shows JPEG's block grid ([`block_edge_ratio`] over [`BLOCKY_RATIO`]).
pub fn blocky(frame: &Frame) -> bool {
    block_edge_ratio(frame) > BLOCKY_RATIO
}

/// Whether `frame` is blocky or its noise σ ([`noise_sigma`]) is over [`NOISY_SIGMA`].
pub fn needs_smoothing(frame: &Frame) -> bool {
    blocky(frame) || noise_sigma(frame) > NOISY_SIGMA
}

/// The σ of the picture's white noise in grey levels (green channel), from the mean absolute
/// response to a mask that cancels smooth shading and edges of second order (Immerkær 1996).
fn noise_sigma(frame: &Frame) -> f64 {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let rows: Vec<&[u8]> = (0..h).filter_map(|y| frame.row(y as u32)).collect();
    let g = |x: usize, y: usize| f64::from(rows[y][3 * x + 1]);
    let mut sum = 0.0;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let corners = g(x - 1, y - 1) + g(x + 1, y - 1) + g(x - 1, y + 1) + g(x + 1, y + 1);
            let sides = g(x, y - 1) + g(x, y + 1) + g(x - 1, y) + g(x + 1, y);
            sum += (corners - 2.0 * sides + 4.0 * g(x, y)).abs();
        }
    }
    (std::f64::consts::PI / 2.0).sqrt() * sum / (6.0 * ((w - 2) * (h - 2)) as f64)
}

/// The mean horizontal and vertical grey steps (green channel) across 8×8 block borders over
/// those inside blocks; 1 for a picture too small to tell.
fn block_edge_ratio(frame: &Frame) -> f64 {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    if w < 4 * BLOCK || h < 4 * BLOCK {
        return 1.0;
    }
    let green = |x: usize, y: usize| {
        frame
            .row(y as u32)
            .and_then(|row| row.get(3 * x + 1))
            .map_or(0.0, |&v| f64::from(v))
    };
    // [border, inside] sums and counts.
    let (mut sum, mut count) = ([0.0; 2], [0usize; 2]);
    for y in 0..h {
        for x in 0..w {
            if x + 1 < w {
                let inside = usize::from(x % BLOCK != BLOCK - 1);
                sum[inside] += (green(x + 1, y) - green(x, y)).abs();
                count[inside] += 1;
            }
            if y + 1 < h {
                let inside = usize::from(y % BLOCK != BLOCK - 1);
                sum[inside] += (green(x, y + 1) - green(x, y)).abs();
                count[inside] += 1;
            }
        }
    }
    let mean = |i: usize| sum[i] / count[i].max(1) as f64;
    mean(0) / mean(1).max(0.5)
}

/// `frame` smoothed by a Gaussian of σ = [`SIGMA`] px, which blurs the block edges away.
pub fn smoothed(frame: &Frame) -> Result<Frame, FrameError> {
    retry::smoothed_by(frame, SIGMA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::degrade::Degradation;
    use crate::frame::tests::face_eval;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn read(path: &str, quality: Option<u8>) -> Frame {
        let frame = crate::decode_image_file(&face_eval().join(path)).unwrap();
        match quality {
            Some(quality) => crate::jpeg_round_trip(&frame, quality).unwrap(),
            None => frame,
        }
    }

    #[test]
    fn heavy_jpeg_and_strong_noise_are_smoothed_clean_or_light_jpeg_is_not() {
        for path in ["orl/s1/1.pgm", "orl/s7/3.pgm", "bbt/amy/amy1.png"] {
            for quality in [None, Some(90)] {
                let frame = read(path, quality);
                assert!(!needs_smoothing(&frame), "{path} {quality:?}");
            }
            for quality in [4, 7, 10] {
                assert!(blocky(&read(path, Some(quality))), "{path} {quality}");
            }
            let noisy = Degradation::Noise
                .apply(&read(path, None), &mut ChaCha8Rng::seed_from_u64(3))
                .unwrap();
            assert!(noise_sigma(&noisy) > NOISY_SIGMA, "{path}");
            assert!(needs_smoothing(&noisy) && !blocky(&noisy), "{path}");
        }
    }
}
