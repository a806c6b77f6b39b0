//! The closer look's squares detected in one batch (`FaceDetector::detect_each`) with the real
//! YuNet model on the real ONNX Runtime (needs `scripts/setup.sh`).

#[path = "../benches/support/mod.rs"]
#[allow(dead_code)]
mod support;

use face_match::detector::refine;
use face_match::{FaceError, Frame};

#[test]
fn squares_detected_in_one_batch_give_each_square_its_own_faces() {
    let mut detector = support::detector(&support::runtime(2));
    // Three different faces, each in a square turned its own way, and one empty square.
    let mut squares = Vec::new();
    for ((name, frame), offset) in support::portrait_frames().iter().zip([-15.0, 0.0, 30.0]) {
        let face = detector.detect(frame).unwrap()[0];
        let (square, _) = refine::upright_square(frame, &face, offset).unwrap();
        assert!(
            square.width() % 32 != 0,
            "{name}: the square is padded to YuNet's grid, as the kiosk's are"
        );
        squares.push(square);
    }
    let side = squares[0].width();
    squares.push(Frame::zeroed(side, side).unwrap());
    let pictures: Vec<&Frame> = squares.iter().collect();
    let batched = detector.detect_each(&pictures).unwrap();
    assert_eq!(batched.len(), 4);
    for (i, square) in pictures.iter().enumerate() {
        let alone = detector.detect_each(&[square]).unwrap().remove(0);
        assert_eq!(batched[i], alone, "square {i}");
        assert_eq!(alone.is_empty(), i == 3, "square {i}: {alone:?}");
    }
    // The faces differ from square to square: each got its own part of the outputs.
    assert_ne!(batched[0][0].landmarks, batched[1][0].landmarks);
    assert_ne!(batched[1][0].landmarks, batched[2][0].landmarks);
}

#[test]
fn pictures_of_different_sizes_are_not_batched() {
    let mut detector = support::detector(&support::runtime(2));
    // Different sizes, and as many pixels laid out the other way round.
    for (a, b) in [((64, 64), (96, 96)), ((96, 64), (64, 96))] {
        let first = Frame::zeroed(a.0, a.1).unwrap();
        let second = Frame::zeroed(b.0, b.1).unwrap();
        assert!(
            matches!(
                detector.detect_each(&[&first, &second]),
                Err(FaceError::Inference(_))
            ),
            "{a:?} with {b:?}"
        );
    }
    assert!(detector.detect_each(&[]).unwrap().is_empty());
}
