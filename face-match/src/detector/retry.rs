//! Second tries for a frame in which YuNet found no face: the frame with its luminance
//! equalised (CLAHE) when it is dim, washed out or flat, then the frame turned in its plane.
//! Every intermediate picture is a zeroizing [`Frame`] or a scrubbed OpenCV buffer.

use opencv::core::{self, Mat, MatTraitConst, Point2f, Scalar, Size, BORDER_CONSTANT};
use opencv::imgproc;
use opencv::prelude::*;

use super::DetectedFace;
use crate::frame::{Frame, FrameError};
use crate::scrubbed_mat::ScrubbedMat;

/// Smaller sides a picture is fitted into when YuNet finds no face at its usual 640 px: a
/// small, blurred or noisy picture enlarged to 640 px becomes a large, soft face, which YuNet
/// finds more easily at a smaller scale. Cheap: a 320 px input is a quarter of the usual.
pub const SMALLER_SIDES: [u32; 2] = [320, 160];
/// In-plane rotations tried, in degrees, nearest first.
pub const ROLLS: [f64; 4] = [35.0, -35.0, 70.0, -70.0];
/// Blur of the smoothing retry, in pixels.
const SMOOTH_SIGMA: f64 = 1.2;
/// Mean grey below this is dim, above the other washed out.
const DIM_MEAN: f64 = 70.0;
const BRIGHT_MEAN: f64 = 185.0;
/// Grey standard deviation below this is a flat, low-contrast frame.
const FLAT_STD: f64 = 35.0;

/// Whether `frame` is dim, washed out or flat enough for [`equalised`] to be worth a try.
pub fn poorly_lit(frame: &Frame) -> Result<bool, FrameError> {
    let src = frame.as_mat()?;
    let mut grey = ScrubbedMat::default();
    imgproc::cvt_color_def(&src, grey.mat_mut(), imgproc::COLOR_BGR2GRAY)?;
    let (mut mean, mut std) = (Mat::default(), Mat::default());
    core::mean_std_dev(grey.mat(), &mut mean, &mut std, &core::no_array())?;
    let (mean, std) = (*mean.at::<f64>(0)?, *std.at::<f64>(0)?);
    Ok(!(DIM_MEAN..=BRIGHT_MEAN).contains(&mean) || std < FLAT_STD)
}

/// `frame` with contrast-limited adaptive histogram equalisation on its luminance only.
pub fn equalised(frame: &Frame) -> Result<Frame, FrameError> {
    let src = frame.as_mat()?;
    let mut ycrcb = ScrubbedMat::default();
    imgproc::cvt_color_def(&src, ycrcb.mat_mut(), imgproc::COLOR_BGR2YCrCb)?;
    let (mut luma, mut even) = (ScrubbedMat::default(), ScrubbedMat::default());
    core::extract_channel(ycrcb.mat(), luma.mat_mut(), 0)?;
    let mut clahe = imgproc::create_clahe(2.0, Size::new(8, 8))?;
    clahe.apply(luma.mat(), even.mat_mut())?;
    core::insert_channel(even.mat(), ycrcb.mat_mut(), 0)?;
    let mut out = Frame::zeroed(frame.width(), frame.height())?;
    out.write_region(out.full_region(), |dst| {
        imgproc::cvt_color_def(ycrcb.mat(), dst, imgproc::COLOR_YCrCb2BGR)
    })?;
    Ok(out)
}

/// `frame` smoothed by a Gaussian of σ = [`SMOOTH_SIGMA`] px: sensor noise, which YuNet's
/// letterbox enlarges into blobs on a small picture, fades; a face's shape stays.
pub fn smoothed(frame: &Frame) -> Result<Frame, FrameError> {
    smoothed_by(frame, SMOOTH_SIGMA)
}

/// `frame` smoothed by a Gaussian of σ = `sigma` px.
pub(crate) fn smoothed_by(frame: &Frame, sigma: f64) -> Result<Frame, FrameError> {
    let src = frame.as_mat()?;
    let mut out = Frame::zeroed(frame.width(), frame.height())?;
    out.write_region(out.full_region(), |dst| {
        imgproc::gaussian_blur(
            &src,
            dst,
            Size::default(),
            sigma,
            sigma,
            core::BORDER_REPLICATE,
        )
    })?;
    Ok(out)
}

/// `frame` turned by `degrees` (counter-clockwise) on a canvas that holds all of it, and the
/// affine map from the turned picture back to `frame`.
pub fn rotated(frame: &Frame, degrees: f64) -> Result<(Frame, [f64; 6]), FrameError> {
    let (w, h) = (f64::from(frame.width()), f64::from(frame.height()));
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (out_w, out_h) = (
        // Less a rounding error, so that a quarter turn keeps whole sizes.
        (w * cos.abs() + h * sin.abs() - 1e-6).ceil(),
        (w * sin.abs() + h * cos.abs() - 1e-6).ceil(),
    );
    let centre = Point2f::new((w / 2.0) as f32, (h / 2.0) as f32);
    let mut forward = imgproc::get_rotation_matrix_2d(centre, degrees, 1.0)?;
    *forward.at_2d_mut::<f64>(0, 2)? += (out_w - w) / 2.0;
    *forward.at_2d_mut::<f64>(1, 2)? += (out_h - h) / 2.0;
    warped(frame, &forward, out_w as u32, out_h as u32, BORDER_CONSTANT)
}

/// `frame` warped by the 2×3 affine `forward` onto a zeroizing `width`×`height` canvas
/// (outside the frame: OpenCV's `border` mode, black for a constant border), and the affine
/// map from the canvas back to `frame`.
pub(crate) fn warped(
    frame: &Frame,
    forward: &Mat,
    width: u32,
    height: u32,
    border: i32,
) -> Result<(Frame, [f64; 6]), FrameError> {
    let mut out = Frame::zeroed(width, height)?;
    let src = frame.as_mat()?;
    out.write_region(out.full_region(), |dst| {
        imgproc::warp_affine(
            &src,
            dst,
            forward,
            Size::new(width as i32, height as i32),
            imgproc::INTER_LINEAR,
            border,
            Scalar::all(0.0),
        )
    })?;
    let mut back = Mat::default();
    imgproc::invert_affine_transform(forward, &mut back)?;
    let mut inverse = [0.0; 6];
    for (i, value) in inverse.iter_mut().enumerate() {
        *value = *back.at_2d::<f64>(i as i32 / 3, i as i32 % 3)?;
    }
    Ok((out, inverse))
}

/// `face` found in a turned picture, mapped back by `inverse` (from [`rotated`]): its
/// landmarks exactly, its box as the upright box around the mapped corners.
pub fn mapped_back(face: DetectedFace, inverse: &[f64; 6]) -> DetectedFace {
    let map = |(x, y): (f32, f32)| {
        let (x, y) = (f64::from(x), f64::from(y));
        (
            (inverse[0] * x + inverse[1] * y + inverse[2]) as f32,
            (inverse[3] * x + inverse[4] * y + inverse[5]) as f32,
        )
    };
    let (x, y, w, h) = face.bbox;
    let corners = [(x, y), (x + w, y), (x, y + h), (x + w, y + h)].map(map);
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (cx, cy) in corners {
        (x0, y0, x1, y1) = (x0.min(cx), y0.min(cy), x1.max(cx), y1.max(cy));
    }
    DetectedFace {
        bbox: (x0, y0, x1 - x0, y1 - y0),
        landmarks: face.landmarks.map(map),
        score: face.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, scale: f32, offset: f32) -> Frame {
        let mut bytes = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let v = (offset + scale * ((x * 7 + y * 3) % 256) as f32).clamp(0.0, 255.0) as u8;
                bytes.extend([v, v, v]);
            }
        }
        Frame::from_raw(w, h, w as usize * 3, bytes.into()).unwrap()
    }

    #[test]
    fn light_check_spots_dim_bright_and_flat_frames() {
        assert!(!poorly_lit(&gradient(64, 48, 1.0, 0.0)).unwrap());
        assert!(poorly_lit(&gradient(64, 48, 0.15, 0.0)).unwrap());
        assert!(poorly_lit(&gradient(64, 48, 0.15, 215.0)).unwrap());
        assert!(poorly_lit(&gradient(64, 48, 0.2, 110.0)).unwrap());
    }

    #[test]
    fn equalising_stretches_a_dim_frame() {
        let dim = gradient(64, 48, 0.15, 0.0);
        let even = equalised(&dim).unwrap();
        assert_eq!((even.width(), even.height()), (64, 48));
        let mean = |f: &Frame| {
            let sum: u64 = (0..f.height())
                .flat_map(|y| f.row(y).unwrap().to_vec())
                .map(u64::from)
                .sum();
            sum as f64 / f64::from(f.width() * f.height() * 3)
        };
        assert!(
            mean(&even) > 2.0 * mean(&dim),
            "{} {}",
            mean(&even),
            mean(&dim)
        );
    }

    #[test]
    fn a_rotated_point_maps_back_to_where_it_was() {
        let frame = gradient(80, 40, 1.0, 0.0);
        let (turned, inverse) = rotated(&frame, 90.0).unwrap();
        assert_eq!((turned.width(), turned.height()), (40, 80));
        // Counter-clockwise by 90°: the frame's top-right corner is now the top-left.
        let face = DetectedFace {
            bbox: (0.0, 0.0, 10.0, 20.0),
            landmarks: [(0.0, 0.0); 5],
            score: 0.9,
        };
        let back = mapped_back(face, &inverse);
        assert!((back.landmarks[0].0 - 80.0).abs() < 1e-3, "{back:?}");
        assert!(back.landmarks[0].1.abs() < 1e-3, "{back:?}");
        let (x, y, w, h) = back.bbox;
        assert!((x - 60.0).abs() < 1e-3 && y.abs() < 1e-3, "{back:?}");
        assert!(
            (w - 20.0).abs() < 1e-3 && (h - 10.0).abs() < 1e-3,
            "{back:?}"
        );
    }
}
