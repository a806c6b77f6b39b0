//! A second, closer look at a face already found: the square around it turned upright by its
//! eye line and scaled so the face is about [`FACE_SIDE`] px, where YuNet's landmarks are most
//! accurate (a face enlarged from a small or blurred picture, or tilted in the image plane,
//! gets looser landmarks). The turned square is a zeroizing [`Frame`].

use opencv::core::{Point2f, BORDER_REPLICATE};
use opencv::imgproc;
use opencv::prelude::*;

use super::{retry, DetectedFace};
use crate::frame::{Frame, FrameError};

/// Width of the face in the upright square, in pixels.
pub const FACE_SIDE: f64 = 112.0;
/// Turns of the square from upright at which the landmarks are measured and averaged:
/// YuNet pulls the eye line of a slightly tilted face towards level, and turning the square
/// both ways cancels that pull.
pub const OFFSETS: [f64; 2] = [-15.0, 15.0];
/// Turns of the square from the first eye line among which the one where YuNet is surest of
/// the face is kept: YuNet reports a face turned 30° in the image plane with its eye line
/// only a few degrees from level.
pub const ROLLS: [f64; 3] = [-30.0, 0.0, 30.0];
/// [`ROLLS`] for a picture known to be upright (a chip photo): the square turned to the eye
/// line only.
pub const UPRIGHT: [f64; 1] = [0.0];
/// Side of the upright square in face widths.
const SQUARE_FACES: f64 = 2.4;

/// The square around `face` in `frame`, turned so that its eyes are level and scaled so the
/// face is [`FACE_SIDE`] px wide, and the affine map from the square back to `frame`.
pub fn upright_square(
    frame: &Frame,
    face: &DetectedFace,
    offset_degrees: f64,
) -> Result<(Frame, [f64; 6]), FrameError> {
    let degrees = eye_line_degrees(face) + offset_degrees;
    let (cx, cy) = face
        .landmarks
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x / 5.0, sy + y / 5.0));
    let width = f64::from(face.bbox.2.max(face.bbox.3)).max(1.0);
    let scale = FACE_SIDE / width;
    let side = (FACE_SIDE * SQUARE_FACES).round();
    let mut forward = imgproc::get_rotation_matrix_2d(Point2f::new(cx, cy), degrees, scale)?;
    *forward.at_2d_mut::<f64>(0, 2)? += side / 2.0 - f64::from(cx);
    *forward.at_2d_mut::<f64>(1, 2)? += side / 2.0 - f64::from(cy);
    retry::warped(frame, &forward, side as u32, side as u32, BORDER_REPLICATE)
}

/// The angle of `face`'s eye line from level, in degrees (clockwise on screen).
pub fn eye_line_degrees(face: &DetectedFace) -> f64 {
    let [right_eye, left_eye, ..] = face.landmarks;
    f64::from(left_eye.1 - right_eye.1)
        .atan2(f64::from(left_eye.0 - right_eye.0))
        .to_degrees()
}

/// Of the faces found in an upright square, the one nearest its centre.
pub fn centred(faces: Vec<DetectedFace>, side: u32) -> Option<DetectedFace> {
    let centre = side as f32 / 2.0;
    let off = |f: &DetectedFace| {
        let (x, y, w, h) = f.bbox;
        (x + w / 2.0 - centre).hypot(y + h / 2.0 - centre)
    };
    faces
        .into_iter()
        .filter(|f| off(f) < side as f32 / 4.0)
        .min_by(|a, b| off(a).total_cmp(&off(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tilted_face() -> DetectedFace {
        // Eyes 40 px apart on a line turned 30° clockwise on screen, around (100, 80).
        let (sin, cos) = 30f32.to_radians().sin_cos();
        let at = |dx: f32, dy: f32| (100.0 + dx * cos - dy * sin, 80.0 + dx * sin + dy * cos);
        DetectedFace {
            bbox: (60.0, 40.0, 80.0, 90.0),
            landmarks: [
                at(-20.0, -10.0),
                at(20.0, -10.0),
                at(0.0, 5.0),
                at(-15.0, 20.0),
                at(15.0, 20.0),
            ],
            score: 0.9,
        }
    }

    #[test]
    fn the_square_levels_the_eyes_and_maps_back() {
        let face = tilted_face();
        assert!((eye_line_degrees(&face) - 30.0).abs() < 1e-3);
        let frame = Frame::zeroed(200, 160).unwrap();
        let (square, inverse) = upright_square(&frame, &face, 0.0).unwrap();
        let side = (FACE_SIDE * SQUARE_FACES).round() as u32;
        assert_eq!((square.width(), square.height()), (side, side));
        // The square's centre is the landmarks' centroid, and a level line in the square is
        // the face's eye line in the frame.
        let back = |x: f64, y: f64| {
            (
                inverse[0] * x + inverse[1] * y + inverse[2],
                inverse[3] * x + inverse[4] * y + inverse[5],
            )
        };
        let centre = back(f64::from(side) / 2.0, f64::from(side) / 2.0);
        let (sin, cos) = 30f64.to_radians().sin_cos();
        let centroid = (100.0 - 5.0 * sin, 80.0 + 5.0 * cos);
        assert!(
            (centre.0 - centroid.0).abs() < 1e-3 && (centre.1 - centroid.1).abs() < 1e-3,
            "{centre:?}"
        );
        let (a, b) = (back(0.0, 0.0), back(100.0, 0.0));
        let degrees = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
        assert!((degrees - 30.0).abs() < 1e-3, "{degrees}");
        // 100 square pixels are 100 / (FACE_SIDE / 90) frame pixels (the box's larger side).
        let length = (b.0 - a.0).hypot(b.1 - a.1);
        assert!((length - 100.0 * 90.0 / FACE_SIDE).abs() < 1e-3, "{length}");
        let turned = upright_square(&frame, &face, 15.0).unwrap().1;
        let (a, b) = (
            (turned[2], turned[5]),
            (turned[0] * 100.0 + turned[2], turned[3] * 100.0 + turned[5]),
        );
        let degrees = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
        assert!((degrees - 45.0).abs() < 1e-3, "{degrees}");
    }

    #[test]
    fn only_a_face_near_the_centre_is_taken() {
        let at = |x: f32| DetectedFace {
            bbox: (x, 100.0, 60.0, 60.0),
            landmarks: [(0.0, 0.0); 5],
            score: 0.9,
        };
        let side = 260;
        assert_eq!(centred(vec![at(10.0), at(105.0)], side), Some(at(105.0)));
        assert_eq!(centred(vec![at(10.0)], side), None);
    }
}
