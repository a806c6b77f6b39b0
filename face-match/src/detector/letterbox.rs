//! Letterboxing a frame into YuNet's fixed 640×640 input: scale to fit, paste at the top-left
//! of a black canvas, lay out as BGR float 0..255 NCHW.

use opencv::core::Size;
use opencv::imgproc;
use zeroize::Zeroizing;

use crate::frame::{Frame, FrameError};

/// Side of YuNet's square input, in pixels.
pub(crate) const INPUT_SIDE: u32 = 640;

/// How a frame maps into the model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Letterbox {
    /// Model-input pixels per frame pixel: min(640/W, 640/H).
    pub(crate) scale: f32,
    /// Size of the scaled frame inside the canvas.
    pub(crate) width: u32,
    pub(crate) height: u32,
}

impl Letterbox {
    /// The letterbox for a `width`×`height` frame (both ≥ 1).
    pub(crate) fn for_frame(width: u32, height: u32) -> Self {
        let side = f64::from(INPUT_SIDE);
        let scale = (side / f64::from(width)).min(side / f64::from(height));
        let fit = |len: u32| ((f64::from(len) * scale).round() as u32).clamp(1, INPUT_SIDE);
        Self {
            scale: scale as f32,
            width: fit(width),
            height: fit(height),
        }
    }

    /// Maps a point from model-input coordinates back to frame coordinates.
    pub(crate) fn to_frame(self, x: f32, y: f32) -> (f32, f32) {
        (x / self.scale, y / self.scale)
    }

    /// The model input for `frame`: 1×3×640×640, BGR planes, values 0..255, zero padding.
    pub(crate) fn input_tensor(self, frame: &Frame) -> Result<Zeroizing<Vec<f32>>, FrameError> {
        let mut scaled = Frame::zeroed(self.width, self.height)?;
        let src = frame.as_mat()?;
        let size = Size::new(self.width as i32, self.height as i32);
        scaled.write_region(scaled.full_region(), |dst| {
            imgproc::resize(&src, dst, size, 0.0, 0.0, imgproc::INTER_LINEAR)
        })?;
        let side = INPUT_SIDE as usize;
        let plane = side * side;
        let mut tensor = Zeroizing::new(vec![0.0f32; 3 * plane]);
        for y in 0..self.height {
            let Some(row) = scaled.row(y) else { break };
            let offset = y as usize * side;
            for (x, bgr) in row.chunks_exact(3).enumerate() {
                for (channel, &value) in bgr.iter().enumerate() {
                    tensor[channel * plane + offset + x] = f32::from(value);
                }
            }
        }
        Ok(tensor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landscape_frame_fills_the_width() {
        let lb = Letterbox::for_frame(1280, 720);
        assert_eq!((lb.width, lb.height), (640, 360));
        assert_eq!(lb.scale, 0.5);
        assert_eq!(lb.to_frame(320.0, 100.0), (640.0, 200.0));
    }

    #[test]
    fn portrait_frame_fills_the_height_and_small_frames_are_upscaled() {
        let lb = Letterbox::for_frame(92, 112);
        assert_eq!((lb.width, lb.height), (526, 640));
        assert!((lb.scale - 640.0 / 112.0).abs() < 1e-6);
        let (x, y) = lb.to_frame(320.0, 640.0);
        assert!((x - 56.0).abs() < 1e-4 && (y - 112.0).abs() < 1e-4);
    }

    #[test]
    fn extreme_aspect_ratios_keep_at_least_one_pixel() {
        let lb = Letterbox::for_frame(10_000, 1);
        assert_eq!((lb.width, lb.height), (640, 1));
    }

    #[test]
    fn tensor_is_bgr_planes_at_the_top_left_with_black_padding() {
        // 4×2 frame: every pixel (b, g, r) = (10, 20, 30); scaled ×160 → 640×320.
        let pixels = Zeroizing::new([10u8, 20, 30].repeat(8));
        let frame = Frame::from_raw(4, 2, 12, pixels).unwrap();
        let lb = Letterbox::for_frame(4, 2);
        assert_eq!((lb.width, lb.height), (640, 320));
        let tensor = lb.input_tensor(&frame).unwrap();
        let plane = 640 * 640;
        assert_eq!(tensor.len(), 3 * plane);
        for (channel, want) in [10.0, 20.0, 30.0].into_iter().enumerate() {
            let p = &tensor[channel * plane..(channel + 1) * plane];
            assert_eq!(p[0], want);
            assert_eq!(p[319 * 640 + 639], want, "last scaled pixel");
            assert_eq!(p[320 * 640], 0.0, "padding below the frame");
            assert_eq!(p[639 * 640 + 639], 0.0);
        }
    }
}
