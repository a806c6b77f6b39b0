//! Following a face between camera frames, so that the detector looks only around it.

use opencv::core::Rect;

use super::DetectedFace;

/// Side into which a whole camera frame is fitted while no face is followed (640×480 → 320×240,
/// in a 320×256 input).
pub(crate) const FRAME_SIDE: u32 = 320;

/// Side into which the region around the followed face is fitted: the face is about
/// `REGION_SIDE / REGION_FACES` ≈ 100 px there, YuNet's comfortable size.
pub(crate) const REGION_SIDE: u32 = 224;

/// Side of the searched square region in widths of the last face: room for a head that moved
/// between two frames.
const REGION_FACES: f32 = 2.2;

/// The face followed from frame to frame (its box only; no pixels). Start a new one for each
/// person (for example each match attempt).
#[derive(Debug, Clone, Default)]
pub struct FaceTrack {
    last: Option<(f32, f32, f32, f32)>,
}

impl FaceTrack {
    /// A track that follows no face yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The square region around the last face, clipped to a `width`×`height` frame; `None`
    /// when no face is followed or the region would cover most of the frame anyway.
    pub(crate) fn region(&self, width: u32, height: u32) -> Option<Rect> {
        let (x, y, w, h) = self.last?;
        let side = w.max(h) * REGION_FACES;
        let (cx, cy) = (x + w / 2.0, y + h / 2.0);
        let left = (cx - side / 2.0).max(0.0) as i32;
        let top = (cy - side / 2.0).max(0.0) as i32;
        let right = ((cx + side / 2.0) as i32).min(width as i32);
        let bottom = ((cy + side / 2.0) as i32).min(height as i32);
        let region = Rect::new(left, top, right - left, bottom - top);
        let small = f64::from(region.area()) < 0.5 * f64::from(width) * f64::from(height);
        (region.width >= 32 && region.height >= 32 && small).then_some(region)
    }

    /// Follows the largest of `faces`, or nothing if there is none.
    pub(crate) fn follow(&mut self, faces: &[DetectedFace]) {
        self.last = faces
            .iter()
            .max_by(|a, b| a.bbox.2.total_cmp(&b.bbox.2))
            .map(|face| face.bbox);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(bbox: (f32, f32, f32, f32)) -> DetectedFace {
        DetectedFace {
            bbox,
            landmarks: [(0.0, 0.0); 5],
            score: 0.9,
        }
    }

    #[test]
    fn no_region_before_a_face_or_after_it_is_lost() {
        let mut track = FaceTrack::new();
        assert_eq!(track.region(640, 480), None);
        track.follow(&[face((300.0, 200.0, 80.0, 100.0))]);
        assert!(track.region(640, 480).is_some());
        track.follow(&[]);
        assert_eq!(track.region(640, 480), None);
    }

    #[test]
    fn region_is_centred_on_the_largest_face_and_clipped() {
        let mut track = FaceTrack::new();
        track.follow(&[
            face((10.0, 10.0, 40.0, 40.0)),
            face((300.0, 200.0, 100.0, 100.0)),
        ]);
        assert_eq!(track.region(640, 480), Some(Rect::new(240, 140, 220, 220)));
        track.follow(&[face((0.0, 0.0, 100.0, 100.0))]);
        assert_eq!(track.region(640, 480), Some(Rect::new(0, 0, 160, 160)));
    }

    #[test]
    fn a_face_filling_the_frame_is_searched_in_the_whole_frame() {
        let mut track = FaceTrack::new();
        track.follow(&[face((170.0, 90.0, 300.0, 300.0))]);
        assert_eq!(track.region(640, 480), None);
    }
}
