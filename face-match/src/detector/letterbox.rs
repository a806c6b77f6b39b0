//! Fitting a frame, or a region of it, into YuNet's input: scale to fit a square of the
//! chosen side, paste at the top-left of a black canvas rounded up to YuNet's 32 px grid, lay
//! out as BGR float 0..255 NCHW.

use opencv::core::{Mat, Rect, Size};
use opencv::imgproc;

use crate::frame::{Frame, FrameError};

/// Side of the square a whole picture is fitted into by default, in pixels (YuNet's usual
/// 640; small pictures are enlarged to it).
pub(crate) const INPUT_SIDE: u32 = 640;

/// YuNet's input height and width must be multiples of its largest stride.
const GRID: u32 = 32;

/// How a frame region maps into the model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Letterbox {
    /// The frame region that is fitted.
    region: Rect,
    /// Model-input pixels per frame pixel: min(side/W, side/H) of the region.
    pub(crate) scale: f32,
    /// Size of the scaled region inside the canvas.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Size of the model input (the canvas): the scaled size rounded up to the grid.
    pub(crate) input_width: u32,
    pub(crate) input_height: u32,
}

impl Letterbox {
    /// The letterbox of a whole `width`×`height` frame (both ≥ 1) fitted into `side`.
    pub(crate) fn for_frame(width: u32, height: u32, side: u32) -> Self {
        Self::for_region(Rect::new(0, 0, width as i32, height as i32), side)
    }

    /// The letterbox of `region` (non-empty) fitted into a square of `side` (≥ 32) pixels.
    pub(crate) fn for_region(region: Rect, side: u32) -> Self {
        let (w, h) = (region.width.max(1) as u32, region.height.max(1) as u32);
        let limit = f64::from(side);
        let scale = (limit / f64::from(w)).min(limit / f64::from(h));
        let fit = |len: u32| ((f64::from(len) * scale).round() as u32).clamp(1, side);
        let (width, height) = (fit(w), fit(h));
        let grid = |len: u32| len.div_ceil(GRID) * GRID;
        Self {
            region,
            scale: scale as f32,
            width,
            height,
            input_width: grid(width),
            input_height: grid(height),
        }
    }

    /// Maps a point from model-input coordinates back to frame coordinates.
    pub(crate) fn to_frame(self, x: f32, y: f32) -> (f32, f32) {
        (
            x / self.scale + self.region.x as f32,
            y / self.scale + self.region.y as f32,
        )
    }

    /// Length of the model input for one picture: 3 × input_height × input_width.
    pub(crate) fn input_len(self) -> usize {
        3 * self.input_width as usize * self.input_height as usize
    }

    /// Writes the model input for `frame` into `input` ([`Letterbox::input_len`] values, all
    /// zero): 3×input_height×input_width, BGR planes, values 0..255, the padding left zero.
    pub(crate) fn fill_input(self, frame: &Frame, input: &mut [f32]) -> Result<(), FrameError> {
        assert_eq!(
            input.len(),
            self.input_len(),
            "input sized for this letterbox"
        );
        let mut scaled = Frame::zeroed(self.width, self.height)?;
        let whole = frame.as_mat()?;
        let src = Mat::roi(&whole, self.region)?;
        let size = Size::new(self.width as i32, self.height as i32);
        scaled.write_region(scaled.full_region(), |dst| {
            imgproc::resize(&src, dst, size, 0.0, 0.0, imgproc::INTER_LINEAR)
        })?;
        let cols = self.input_width as usize;
        let plane = input.len() / 3;
        for y in 0..self.height {
            let Some(row) = scaled.row(y) else { break };
            let offset = y as usize * cols;
            for (x, bgr) in row.chunks_exact(3).enumerate() {
                for (channel, &value) in bgr.iter().enumerate() {
                    input[channel * plane + offset + x] = f32::from(value);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;

    #[test]
    fn landscape_frame_fills_the_width() {
        let lb = Letterbox::for_frame(1280, 720, 640);
        assert_eq!((lb.width, lb.height), (640, 360));
        assert_eq!((lb.input_width, lb.input_height), (640, 384));
        assert_eq!(lb.scale, 0.5);
        assert_eq!(lb.to_frame(320.0, 100.0), (640.0, 200.0));
    }

    #[test]
    fn camera_frame_at_reduced_side_keeps_its_shape() {
        let lb = Letterbox::for_frame(640, 480, 320);
        assert_eq!((lb.width, lb.height), (320, 240));
        assert_eq!((lb.input_width, lb.input_height), (320, 256));
        assert_eq!(lb.to_frame(160.0, 120.0), (320.0, 240.0));
    }

    #[test]
    fn region_coordinates_are_offset_back_into_the_frame() {
        let lb = Letterbox::for_region(Rect::new(100, 50, 320, 320), 160);
        assert_eq!((lb.input_width, lb.input_height), (160, 160));
        assert_eq!(lb.to_frame(80.0, 0.0), (260.0, 50.0));
    }

    #[test]
    fn portrait_frame_fills_the_height_and_small_frames_are_upscaled() {
        let lb = Letterbox::for_frame(92, 112, 640);
        assert_eq!((lb.width, lb.height), (526, 640));
        assert_eq!((lb.input_width, lb.input_height), (544, 640));
        assert!((lb.scale - 640.0 / 112.0).abs() < 1e-6);
        let (x, y) = lb.to_frame(320.0, 640.0);
        assert!((x - 56.0).abs() < 1e-4 && (y - 112.0).abs() < 1e-4);
    }

    #[test]
    fn extreme_aspect_ratios_keep_at_least_one_pixel() {
        let lb = Letterbox::for_frame(10_000, 1, 640);
        assert_eq!((lb.width, lb.height), (640, 1));
        assert_eq!((lb.input_width, lb.input_height), (640, 32));
    }

    #[test]
    fn tensor_is_bgr_planes_at_the_top_left_with_black_padding() {
        // 4×2 frame: every pixel (b, g, r) = (10, 20, 30); scaled ×160 → 640×320.
        let pixels = Zeroizing::new([10u8, 20, 30].repeat(8));
        let frame = Frame::from_raw(4, 2, 12, pixels).unwrap();
        let lb = Letterbox::for_frame(4, 2, 640);
        assert_eq!((lb.width, lb.height), (640, 320));
        let mut tensor = vec![0.0; lb.input_len()];
        lb.fill_input(&frame, &mut tensor).unwrap();
        let plane = 640 * 320;
        assert_eq!(tensor.len(), 3 * plane);
        for (channel, want) in [10.0, 20.0, 30.0].into_iter().enumerate() {
            let p = &tensor[channel * plane..(channel + 1) * plane];
            assert_eq!(p[0], want);
            assert_eq!(p[319 * 640 + 639], want, "last scaled pixel");
        }
        // A 3×2 frame at side 64: scaled to 64×43, the canvas 64×64 has black rows below.
        let pixels = Zeroizing::new([10u8, 20, 30].repeat(6));
        let frame = Frame::from_raw(3, 2, 9, pixels).unwrap();
        let lb = Letterbox::for_frame(3, 2, 64);
        assert_eq!((lb.height, lb.input_height), (43, 64));
        let mut tensor = vec![0.0; lb.input_len()];
        lb.fill_input(&frame, &mut tensor).unwrap();
        assert_eq!(tensor[42 * 64], 10.0);
        assert_eq!(tensor[43 * 64], 0.0, "padding below the frame");
    }
}
