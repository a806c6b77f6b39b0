//! Decoded 8-bit samples, interleaved, turned into the pipeline's images.

use zeroize::Zeroizing;

use crate::frame::{Frame, FrameError, GreyImage};

/// A decoder's output: `channels` interleaved 8-bit samples per pixel, packed rows. One or
/// two channels are grey (with alpha), three or four RGB (with alpha).
pub(crate) struct Samples {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) channels: usize,
    pub(crate) data: Zeroizing<Vec<u8>>,
}

impl Samples {
    /// The picture as BGR, alpha dropped, grey repeated into three channels.
    pub(crate) fn to_bgr(&self) -> Result<Frame, FrameError> {
        let data = self.convert(3, |px, out| match px {
            [r, g, b, ..] => out.copy_from_slice(&[*b, *g, *r]),
            [grey, ..] => out.fill(*grey),
            [] => {}
        })?;
        Frame::from_raw(self.width, self.height, self.width as usize * 3, data)
    }

    /// The picture in grey: colour through ITU-R BT.601 luma, alpha dropped.
    pub(crate) fn to_grey(&self) -> Result<GreyImage, FrameError> {
        let data = self.convert(1, |px, out| {
            out[0] = match px {
                [r, g, b, ..] => {
                    let luma =
                        0.299 * f32::from(*r) + 0.587 * f32::from(*g) + 0.114 * f32::from(*b);
                    luma.round().clamp(0.0, 255.0) as u8
                }
                [grey, ..] => *grey,
                [] => 0,
            }
        })?;
        GreyImage::from_raw(self.width, self.height, self.width as usize, data)
    }

    /// Maps each pixel's samples to `out_channels` bytes of a new zeroizing buffer. A pixel
    /// passes at most its colour channels to `map` (alpha is cut off).
    fn convert(
        &self,
        out_channels: usize,
        map: impl Fn(&[u8], &mut [u8]),
    ) -> Result<Zeroizing<Vec<u8>>, FrameError> {
        let pixels = self.width as usize * self.height as usize;
        if self.channels == 0 || self.data.len() != pixels * self.channels {
            return Err(FrameError::BadLayout {
                width: self.width,
                height: self.height,
                stride: self.width as usize * self.channels,
                len: self.data.len(),
                format: "interleaved samples",
            });
        }
        let colour = if self.channels >= 3 { 3 } else { 1 };
        let mut out = Zeroizing::new(vec![0u8; pixels * out_channels]);
        for (px, dst) in self
            .data
            .chunks_exact(self.channels)
            .zip(out.chunks_exact_mut(out_channels))
        {
            map(&px[..colour], dst);
        }
        Ok(out)
    }
}
