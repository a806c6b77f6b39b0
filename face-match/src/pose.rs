//! Head pose from YuNet's five landmarks: yaw (left/right turn), pitch (nod), face size and
//! position. One estimate serves both the quality gate and the liveness judge.

use crate::detector::DetectedFace;

/// Below this many pixels between the eyes (or from eyes to mouth) the landmarks are too
/// close together to measure a pose.
const MIN_SPAN_PX: f32 = 2.0;

/// Pose cues of one detected face, in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadPose {
    /// Sideways offset of the nose tip from the face's midline (the line from the midpoint of
    /// the eyes to the midpoint of the mouth corners), divided by the distance between the eyes.
    /// Zero when looking straight at the camera; positive when the nose points to the image's
    /// right, i.e. the person turned to *their* left in an unmirrored camera frame.
    ///
    /// The nose tip stands out of the plane of eyes and mouth, so only a real 3-D rotation
    /// moves it off the midline; tilting a flat photo does not.
    pub yaw: f32,
    /// Height of the nose tip between the eye line (0) and the mouth line (1), measured across
    /// the eye line so that roll does not count; about 0.5 when looking straight ahead.
    pub pitch: f32,
    /// Distance between the eyes over the distance from the eyes' midpoint to the mouth's:
    /// a head turn narrows it a little (about cos of the angle), and so does squeezing a flat
    /// photo by tilting it.
    pub aspect: f32,
    /// Square root of the box area: grows as the face comes closer.
    pub size: f32,
    /// Centre of the box.
    pub center: (f32, f32),
}

impl HeadPose {
    /// The pose of `face`, or `None` when its landmarks are degenerate (coincident eyes, mouth
    /// on the eye line, non-finite values).
    pub fn of(face: &DetectedFace) -> Option<Self> {
        let [right_eye, left_eye, nose, right_mouth, left_mouth] = face.landmarks;
        let eyes = midpoint(right_eye, left_eye);
        let mouth = midpoint(right_mouth, left_mouth);
        let inter_ocular = distance(right_eye, left_eye);
        let axis = (mouth.0 - eyes.0, mouth.1 - eyes.1);
        let axis_len = axis.0.hypot(axis.1);
        if !(inter_ocular >= MIN_SPAN_PX && axis_len >= MIN_SPAN_PX) {
            return None;
        }
        let to_nose = (nose.0 - eyes.0, nose.1 - eyes.1);
        // Signed distance of the nose from the midline; positive towards image-right when the
        // face is upright (the axis points down).
        let offset = (axis.1 * to_nose.0 - axis.0 * to_nose.1) / axis_len;
        // Unit vector down the face, perpendicular to the eye line.
        let down = (
            -(left_eye.1 - right_eye.1) / inter_ocular,
            (left_eye.0 - right_eye.0) / inter_ocular,
        );
        let depth = |p: (f32, f32)| (p.0 - eyes.0) * down.0 + (p.1 - eyes.1) * down.1;
        let (_, _, w, h) = face.bbox;
        let pose = Self {
            yaw: offset / inter_ocular,
            pitch: depth(nose) / depth(mouth),
            aspect: inter_ocular / axis_len,
            size: (w * h).max(0.0).sqrt(),
            center: (face.bbox.0 + w / 2.0, face.bbox.1 + h / 2.0),
        };
        (pose.yaw.is_finite()
            && pose.pitch.is_finite()
            && pose.aspect.is_finite()
            && pose.size.is_finite()
            && pose.size > 0.0)
            .then_some(pose)
    }

    /// How far the centre moved from `previous`, in units of the previous face size.
    pub(crate) fn shift_from(&self, previous: &Self) -> f32 {
        distance(self.center, previous.center) / previous.size
    }
}

fn midpoint(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
}

fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upright face with eyes 40 px apart and the nose `nose_dx` px right of the midline.
    fn face(nose_dx: f32) -> DetectedFace {
        DetectedFace {
            bbox: (80.0, 60.0, 80.0, 100.0),
            landmarks: [
                (100.0, 100.0),
                (140.0, 100.0),
                (120.0 + nose_dx, 120.0),
                (105.0, 140.0),
                (135.0, 140.0),
            ],
            score: 0.9,
        }
    }

    /// `face` rotated by `angle` radians about (120, 120).
    fn rotated(face: DetectedFace, angle: f32) -> DetectedFace {
        let (s, c) = angle.sin_cos();
        let turn = |(x, y): (f32, f32)| {
            let (dx, dy) = (x - 120.0, y - 120.0);
            (120.0 + c * dx - s * dy, 120.0 + s * dx + c * dy)
        };
        DetectedFace {
            landmarks: face.landmarks.map(turn),
            ..face
        }
    }

    #[test]
    fn frontal_face_has_zero_yaw_and_sign_follows_the_nose() {
        let pose = HeadPose::of(&face(0.0)).unwrap();
        assert_eq!(pose.yaw, 0.0);
        assert_eq!(pose.size, (80.0f32 * 100.0).sqrt());
        assert_eq!(pose.center, (120.0, 110.0));
        assert_eq!(pose.aspect, 1.0);
        assert_eq!(pose.pitch, 0.5);
        assert!((HeadPose::of(&face(10.0)).unwrap().yaw - 0.25).abs() < 1e-6);
        assert!((HeadPose::of(&face(-10.0)).unwrap().yaw + 0.25).abs() < 1e-6);
    }

    #[test]
    fn yaw_does_not_change_with_roll() {
        for angle in [-0.5f32, 0.3] {
            let pose = HeadPose::of(&rotated(face(8.0), angle)).unwrap();
            assert!((pose.yaw - 0.2).abs() < 1e-5, "roll {angle}: {}", pose.yaw);
            assert!(
                (pose.pitch - 0.5).abs() < 1e-5,
                "roll {angle}: {}",
                pose.pitch
            );
        }
    }

    #[test]
    fn degenerate_landmarks_give_no_pose() {
        let mut same_eyes = face(0.0);
        same_eyes.landmarks[1] = same_eyes.landmarks[0];
        assert_eq!(HeadPose::of(&same_eyes), None);
        let mut flat = face(0.0);
        flat.landmarks[3].1 = 100.0;
        flat.landmarks[4].1 = 100.0;
        assert_eq!(HeadPose::of(&flat), None);
        let mut nan = face(0.0);
        nan.landmarks[2].0 = f32::NAN;
        assert_eq!(HeadPose::of(&nan), None);
        let mut empty = face(0.0);
        empty.bbox.2 = 0.0;
        assert_eq!(HeadPose::of(&empty), None);
    }

    #[test]
    fn shift_is_relative_to_face_size() {
        let a = HeadPose::of(&face(0.0)).unwrap();
        let mut moved = face(0.0);
        moved.bbox.0 += a.size / 2.0;
        let b = HeadPose::of(&moved).unwrap();
        assert!((b.shift_from(&a) - 0.5).abs() < 1e-6);
    }
}
