//! A non-invertible fingerprint of a frame, to notice frames that repeat exactly (a frozen
//! camera, a still image fed as video). No pixels are kept.

use ring::digest::{Context, SHA256};
use zeroize::Zeroizing;

use crate::frame::{Image, PixelFormat};

/// Bytes of the SHA-256 kept: enough that two different frames never collide in practice.
const KEPT: usize = 16;

/// The first 16 bytes of the SHA-256 of a frame's geometry and pixels; zeroized on drop.
///
/// A live camera's sensor noise makes consecutive frames differ in some bits, so two equal
/// signatures in a row mean the picture is not coming from a live sensor.
#[derive(PartialEq, Eq)]
pub(crate) struct FrameSignature(Zeroizing<[u8; KEPT]>);

impl FrameSignature {
    pub(crate) fn of<P: PixelFormat>(image: &Image<P>) -> Self {
        let mut context = Context::new(&SHA256);
        context.update(&image.width().to_le_bytes());
        context.update(&image.height().to_le_bytes());
        for row in (0..image.height()).filter_map(|y| image.row(y)) {
            context.update(row);
        }
        let mut kept = Zeroizing::new([0; KEPT]);
        kept.copy_from_slice(&context.finish().as_ref()[..KEPT]);
        Self(kept)
    }
}

impl std::fmt::Debug for FrameSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrameSignature(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;

    #[test]
    fn equal_frames_match_and_one_bit_or_the_geometry_changes_it() {
        let pixels = |flip: u8| {
            let mut data = vec![7u8; 4 * 3 * 2];
            data[5] ^= flip;
            Frame::from_raw(4, 2, 12, data.into()).unwrap()
        };
        assert_eq!(
            FrameSignature::of(&pixels(0)),
            FrameSignature::of(&pixels(0))
        );
        assert_ne!(
            FrameSignature::of(&pixels(0)),
            FrameSignature::of(&pixels(1))
        );
        let reshaped = Frame::from_raw(2, 4, 6, vec![7u8; 24].into()).unwrap();
        assert_ne!(
            FrameSignature::of(&pixels(0)),
            FrameSignature::of(&reshaped)
        );
    }

    #[test]
    fn padding_is_ignored() {
        let packed = Frame::from_raw(1, 2, 3, vec![1, 2, 3, 4, 5, 6].into()).unwrap();
        let padded = Frame::from_raw(1, 2, 4, vec![1, 2, 3, 9, 4, 5, 6, 9].into()).unwrap();
        assert_eq!(FrameSignature::of(&packed), FrameSignature::of(&padded));
    }

    #[test]
    fn debug_shows_nothing() {
        let frame = Frame::zeroed(2, 2).unwrap();
        assert_eq!(
            format!("{:?}", FrameSignature::of(&frame)),
            "FrameSignature(..)"
        );
    }
}
