//! Greedy non-maximum suppression of overlapping detections.

use super::DetectedFace;

/// Keeps the best-scoring faces, dropping any face whose box overlaps an already kept one by
/// an intersection-over-union above `iou_threshold`. The result is sorted by score, best first.
pub(crate) fn suppress_overlaps(
    mut faces: Vec<DetectedFace>,
    iou_threshold: f32,
) -> Vec<DetectedFace> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<DetectedFace> = Vec::with_capacity(faces.len().min(16));
    for face in faces {
        if kept.iter().all(|k| iou(k.bbox, face.bbox) <= iou_threshold) {
            kept.push(face);
        }
    }
    kept
}

/// Intersection over union of two (x, y, w, h) boxes; 0 for empty boxes.
fn iou(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> f32 {
    let overlap_w = ((a.0 + a.2).min(b.0 + b.2) - a.0.max(b.0)).max(0.0);
    let overlap_h = ((a.1 + a.3).min(b.1 + b.3) - a.1.max(b.1)).max(0.0);
    let intersection = overlap_w * overlap_h;
    let union = a.2 * a.3 + b.2 * b.3 - intersection;
    if union > 0.0 {
        intersection / union
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, side: f32, score: f32) -> DetectedFace {
        DetectedFace {
            bbox: (x, y, side, side),
            landmarks: [(x, y); 5],
            score,
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou((0.0, 0.0, 10.0, 10.0), (0.0, 0.0, 10.0, 10.0)), 1.0);
        assert_eq!(iou((0.0, 0.0, 10.0, 10.0), (20.0, 0.0, 10.0, 10.0)), 0.0);
        // Half overlap: 50 / (100 + 100 − 50).
        let half = iou((0.0, 0.0, 10.0, 10.0), (5.0, 0.0, 10.0, 10.0));
        assert!((half - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou((0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)), 0.0);
    }

    #[test]
    fn keeps_the_best_of_overlapping_boxes_and_all_separate_ones() {
        let faces = vec![
            face(0.0, 0.0, 10.0, 0.7),
            face(1.0, 1.0, 10.0, 0.9), // overlaps the first: IoU 81/119 ≈ 0.68
            face(100.0, 0.0, 10.0, 0.8), // separate
            face(7.0, 0.0, 10.0, 0.65), // IoU with the best 36/164 ≈ 0.22: kept
        ];
        let kept = suppress_overlaps(faces, 0.3);
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, [0.9, 0.8, 0.65]);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(suppress_overlaps(Vec::new(), 0.3).is_empty());
    }
}
