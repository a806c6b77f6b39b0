//! Renders what the camera sees of a flat picture held in front of it: a plane placed, rolled,
//! tilted and moved in 3-D, projected by a pinhole camera into a 640×480 frame, then blurred
//! and given fresh sensor noise.

use opencv::core::{self, Mat, Point2f, Scalar, Size, Vector};
use opencv::imgproc;
use opencv::prelude::*;
use rand_chacha::rand_core::RngCore;

use crate::detector::DetectedFace;
use crate::frame::{Frame, FrameError};

/// Size of the rendered frames.
pub(super) const FRAME_W: i32 = 640;
pub(super) const FRAME_H: i32 = 480;
/// Face size (square root of the box area) at `scale` 1: a person at a kiosk's usual distance.
pub(super) const FACE_PX: f64 = 130.0;
/// Grey of the background around the picture.
const BACKGROUND: f64 = 110.0;

/// Where the picture is, relative to a frontal picture whose face is centred at `FACE_PX`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Placement {
    /// Face size relative to `FACE_PX` (larger is closer).
    pub scale: f64,
    /// Rotation about the picture's vertical axis through the face, degrees (a tilted photo).
    pub tilt: f64,
    /// Rotation about its horizontal axis, degrees.
    pub nod: f64,
    /// Rotation in the image plane, degrees.
    pub roll: f64,
    /// Offset of the face centre from the frame centre, in face sizes.
    pub shift: (f64, f64),
    /// Camera to picture distance, in frame widths (perspective grows as it shrinks).
    pub distance: f64,
}

impl Placement {
    /// The frontal picture, face centred, at `distance` frame widths.
    pub fn frontal(distance: f64) -> Self {
        Self {
            scale: 1.0,
            tilt: 0.0,
            nod: 0.0,
            roll: 0.0,
            shift: (0.0, 0.0),
            distance,
        }
    }

    /// The placement `amount` (0..=1) of the way from `self` to `to`.
    pub fn towards(self, to: Self, amount: f64) -> Self {
        let mix = |a: f64, b: f64| a + (b - a) * amount;
        Self {
            scale: mix(self.scale, to.scale),
            tilt: mix(self.tilt, to.tilt),
            nod: mix(self.nod, to.nod),
            roll: mix(self.roll, to.roll),
            shift: (mix(self.shift.0, to.shift.0), mix(self.shift.1, to.shift.1)),
            distance: mix(self.distance, to.distance),
        }
    }

    /// Where a point of the picture plane (pixels at scale 1, origin at the face centre)
    /// appears in the frame.
    fn project(&self, (x, y): (f64, f64)) -> Point2f {
        let (x, y) = (x * self.scale, y * self.scale);
        let (sr, cr) = self.roll.to_radians().sin_cos();
        let (x, y) = (x * cr - y * sr, x * sr + y * cr);
        let (st, ct) = self.tilt.to_radians().sin_cos();
        let (sn, cn) = self.nod.to_radians().sin_cos();
        let (x, z) = (x * ct, x * st);
        let (y, z) = (y * cn, z + y * sn);
        let d = self.distance * f64::from(FRAME_W);
        let k = d / (d + z);
        let size = self.scale * FACE_PX;
        Point2f::new(
            (f64::from(FRAME_W) / 2.0 + self.shift.0 * size + x * k) as f32,
            (f64::from(FRAME_H) / 2.0 + self.shift.1 * size + y * k) as f32,
        )
    }
}

/// A source picture and its face as the detector found it.
pub(super) struct Picture {
    pub image: Mat,
    pub face: DetectedFace,
}

/// How the camera degrades one sequence.
#[derive(Debug, Clone, Copy)]
pub(super) struct Capture {
    /// Gaussian blur sigma in pixels (0: none).
    pub blur: f64,
    /// Uniform noise of ±this many grey levels, fresh in every frame.
    pub noise: u8,
}

/// The camera frame of `picture` at `placement`, degraded by `capture`.
pub(super) fn render(
    picture: &Picture,
    placement: &Placement,
    capture: Capture,
    rng: &mut impl RngCore,
) -> Result<Frame, FrameError> {
    let (x, y, w, h) = picture.face.bbox;
    let (cx, cy) = (f64::from(x + w / 2.0), f64::from(y + h / 2.0));
    let size = f64::from((w * h).sqrt());
    // Four picture points two face sizes around the face, and where the camera sees them.
    let corners =
        [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(u, v)| (2.0 * u, 2.0 * v));
    let src = Vector::<Point2f>::from_iter(
        corners.map(|(u, v)| Point2f::new((cx + u * size) as f32, (cy + v * size) as f32)),
    );
    let dst = Vector::<Point2f>::from_iter(
        corners.map(|(u, v)| placement.project((u * FACE_PX, v * FACE_PX))),
    );
    let homography = imgproc::get_perspective_transform(&src, &dst, core::DECOMP_LU)?;
    let mut view = Mat::default();
    imgproc::warp_perspective(
        &picture.image,
        &mut view,
        &homography,
        Size::new(FRAME_W, FRAME_H),
        imgproc::INTER_LINEAR,
        core::BORDER_CONSTANT,
        Scalar::all(BACKGROUND),
    )?;
    if capture.blur > 0.0 {
        let mut blurred = Mat::default();
        imgproc::gaussian_blur(
            &view,
            &mut blurred,
            Size::default(),
            capture.blur,
            capture.blur,
            core::BORDER_REPLICATE,
        )?;
        view = blurred;
    }
    let span = 2 * u32::from(capture.noise) + 1;
    // A xorshift stream seeded from `rng`: fast enough for every byte of every frame.
    let mut state = rng.next_u32() | 1;
    for byte in view.data_bytes_mut()? {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let delta = (state % span) as i32 - i32::from(capture.noise);
        *byte = (i32::from(*byte) + delta).clamp(0, 255) as u8;
    }
    Frame::from_mat(&view)
}

/// `image` mirrored left to right.
pub(super) fn mirrored(image: &Mat) -> Result<Mat, FrameError> {
    let mut out = Mat::default();
    core::flip(image, &mut out, 1)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontal_placement_maps_the_face_centre_to_the_frame_centre_at_face_size() {
        let p = Placement::frontal(2.0);
        assert_eq!(p.project((0.0, 0.0)), Point2f::new(320.0, 240.0));
        assert_eq!(p.project((FACE_PX, 0.0)), Point2f::new(450.0, 240.0));
        let closer = Placement { scale: 1.5, ..p };
        assert_eq!(closer.project((FACE_PX, 0.0)), Point2f::new(515.0, 240.0));
    }

    #[test]
    fn tilting_narrows_and_makes_the_near_side_larger() {
        let tilted = Placement {
            tilt: 60.0,
            ..Placement::frontal(2.0)
        };
        let right = tilted.project((FACE_PX, 0.0));
        let left = tilted.project((-FACE_PX, 0.0));
        // cos 60° = 0.5 narrows the face; the side turned towards the camera comes out larger.
        assert!((right.x - 320.0) < 0.5 * 130.0 && (320.0 - left.x) > 0.5 * 130.0);
        let half = Placement::frontal(2.0).towards(tilted, 0.5);
        assert_eq!(half.tilt, 30.0);
    }
}
