//! The face detector with the real ONNX Runtime library and the real folded YuNet model on
//! the evaluation images in `shared/face-eval`. Needs `scripts/setup.sh` to have run.

use std::path::PathBuf;
use std::time::Instant;

use face_match::{
    CameraSource, DetectedFace, DetectorConfig, FaceDetector, FaceError, Frame, ImageFolderSource,
    OrtRuntime, SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256, YUNET_2023MAR_SHA256,
};

use mynakiosk_tests::face::{face_eval, load, model_path, runtime};

const YUNET_FILE: &str = "face_detection_yunet_2023mar_any_size.onnx";

fn detector() -> FaceDetector {
    FaceDetector::new(
        &runtime(),
        &model_path(YUNET_FILE),
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
}

/// One face, with a box of a plausible size inside the frame and landmarks in facial order.
fn assert_one_plausible_face(faces: &[DetectedFace], frame: &Frame, name: &str) {
    assert_eq!(faces.len(), 1, "{name}: expected one face, got {faces:?}");
    let face = &faces[0];
    let (x, y, w, h) = face.bbox;
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    assert!(face.score >= 0.6, "{name}: score {}", face.score);
    assert!(
        w >= 0.15 * fw.min(fh) && w <= fw && h <= fh,
        "{name}: box {:?} in {fw}×{fh}",
        face.bbox
    );
    assert!(
        (0.8..=2.0).contains(&(h / w)),
        "{name}: box {:?}",
        face.bbox
    );
    let margin = 0.1 * w;
    assert!(
        x >= -margin && y >= -margin && x + w <= fw + margin && y + h <= fh + margin,
        "{name}: box {:?} leaves the {fw}×{fh} frame",
        face.bbox
    );
    for &(lx, ly) in &face.landmarks {
        assert!(
            lx > x && lx < x + w && ly > y && ly < y + h,
            "{name}: landmark ({lx}, {ly}) outside box {:?}",
            face.bbox
        );
    }
    let [right_eye, left_eye, nose, right_mouth, left_mouth] = face.landmarks;
    assert!(
        right_eye.0 < left_eye.0,
        "{name}: eyes {right_eye:?} {left_eye:?}"
    );
    assert!(
        right_mouth.0 < left_mouth.0,
        "{name}: mouth {right_mouth:?} {left_mouth:?}"
    );
    let eyes_y = right_eye.1.max(left_eye.1);
    let mouth_y = right_mouth.1.min(left_mouth.1);
    assert!(
        eyes_y < nose.1 && nose.1 < mouth_y,
        "{name}: eyes {eyes_y}, nose {}, mouth {mouth_y}",
        nose.1
    );
}

/// Some ORL images (92×112 greyscale), across subjects and poses.
const ORL_SAMPLES: &[&str] = &[
    "orl/s1/1.pgm",
    "orl/s4/5.pgm",
    "orl/s9/3.pgm",
    "orl/s15/8.pgm",
    "orl/s22/2.pgm",
    "orl/s30/10.pgm",
    "orl/s37/6.pgm",
    "orl/s40/4.pgm",
];

#[test]
fn portraits_have_exactly_one_plausible_face() {
    let mut detector = detector();
    let dir = face_eval("portraits");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "portraits missing in {}", dir.display());
    for path in files {
        let frame = load(&path);
        let faces = detector.detect(&frame).unwrap();
        assert_one_plausible_face(&faces, &frame, &path.display().to_string());
    }
}

#[test]
fn orl_images_have_exactly_one_plausible_face() {
    let mut detector = detector();
    for name in ORL_SAMPLES {
        let frame = load(&face_eval(name));
        assert_eq!((frame.width(), frame.height()), (92, 112));
        let faces = detector.detect(&frame).unwrap();
        assert_one_plausible_face(&faces, &frame, name);
    }
}

#[test]
fn blank_and_noise_frames_have_no_face() {
    let mut detector = detector();
    let blank = Frame::zeroed(640, 480).unwrap();
    assert_eq!(detector.detect(&blank).unwrap(), []);
    // xorshift noise: deterministic and free of structure.
    let mut state = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..640 * 480 * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let noise = Frame::from_raw(640, 480, 640 * 3, noise.into()).unwrap();
    assert_eq!(detector.detect(&noise).unwrap(), []);
}

#[test]
fn small_face_in_a_640x480_frame_is_found_in_place() {
    let mut detector = detector();
    let face = load(&face_eval("orl/s1/1.pgm"));
    // Paste the 92×112 face at (300, 200) of a grey 640×480 frame.
    let (left, top) = (300usize, 200usize);
    let stride = 640 * 3;
    let mut pixels = vec![128u8; stride * 480];
    for y in 0..face.height() {
        let start = (top + y as usize) * stride + left * 3;
        let row = face.row(y).unwrap();
        pixels[start..start + row.len()].copy_from_slice(row);
    }
    let frame = Frame::from_raw(640, 480, stride, pixels.into()).unwrap();
    let started = Instant::now();
    let runs = 5;
    let mut faces = Vec::new();
    for _ in 0..runs {
        faces = detector.detect(&frame).unwrap();
    }
    eprintln!(
        "detect: {:.1} ms per 640×480 frame",
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
    );
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (x, y, w, h) = faces[0].bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    assert!(
        (cx - 346.0).abs() < 20.0 && (cy - 256.0).abs() < 25.0,
        "box {:?} is not where the face was pasted",
        faces[0].bbox
    );
}

#[test]
fn folder_source_feeds_the_detector() {
    let dir = TempDir::new("folder-source");
    let sources = [
        "orl/s2/1.pgm",
        "orl/s11/4.pgm",
        "orl/s26/9.pgm",
        "portraits/biden.jpg",
    ];
    for (i, relative) in sources.iter().enumerate() {
        let from = face_eval(relative);
        let ext = from.extension().unwrap().to_str().unwrap();
        std::fs::copy(&from, dir.0.join(format!("frame{i}.{ext}")))
            .unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    let mut camera = ImageFolderSource::open(&dir.0).unwrap();
    assert_eq!(camera.files().len(), sources.len());
    let mut detector = detector();
    // Twice round the folder: the source starts again after the last image.
    for i in 0..2 * sources.len() {
        let frame = camera.next_frame().unwrap();
        let faces = detector.detect(&frame).unwrap();
        assert_one_plausible_face(&faces, &frame, sources[i % sources.len()]);
    }
}

#[test]
fn model_problems_are_typed_errors() {
    let runtime = runtime();
    let config = DetectorConfig::default();
    let missing = model_path(YUNET_FILE).with_file_name("no-such-model.onnx");
    let err = FaceDetector::new(&runtime, &missing, YUNET_2023MAR_SHA256, config).err();
    assert!(
        matches!(err, Some(FaceError::ModelMissing { .. })),
        "{err:?}"
    );
    let wrong_sha = "0".repeat(64);
    let err = FaceDetector::new(&runtime, &model_path(YUNET_FILE), &wrong_sha, config).err();
    assert!(
        matches!(err, Some(FaceError::ModelChecksum { .. })),
        "{err:?}"
    );
    // The SFace model is a valid ONNX file but not a detector.
    let sface = model_path(SFACE_2021DEC_FILE);
    let err = FaceDetector::new(&runtime, &sface, SFACE_2021DEC_SHA256, config).err();
    assert!(
        matches!(err, Some(FaceError::ModelInvalid { .. })),
        "{err:?}"
    );
}

#[test]
fn runtime_is_shared_and_cannot_switch_library() {
    let first = runtime();
    let again = runtime();
    assert_eq!((first.threads(), again.threads()), (2, 2));
    let other = face_eval("orl/README");
    let err = OrtRuntime::init(&other, 1).err();
    assert!(
        matches!(err, Some(FaceError::RuntimeConflict { .. })),
        "{err:?}"
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "mynakiosk-face-models-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
