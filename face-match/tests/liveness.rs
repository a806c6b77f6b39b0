//! Active liveness on frame sequences built from real photos, with the real YuNet model on the
//! real ONNX Runtime (needs `scripts/setup.sh`).
//!
//! What the sequences are, and what each proves:
//! - **ORL pose sweep**: ORL subjects were photographed with the head in different real poses;
//!   a clip of a subject's most frontal image, then their most turned one, then frontal again,
//!   is a real 3-D head turn (in coarse steps). Mirroring the clip turns the other way.
//! - **Approach**: a portrait scaled up step by step about the face is a person coming closer
//!   (without the slight perspective change of a real approach).
//! - **Tilted photo**: a frontal portrait under a horizontal perspective warp is what a camera
//!   sees of a flat photo rotated about a vertical axis; it is *not* a head turn and must not
//!   pass one.
//! - Every "live" frame gets fresh pixel noise, like a sensor; a static photo is the same frame
//!   repeated (or with noise), a frozen camera repeats one frame exactly.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use face_match::liveness::{
    EyeMeter, LivenessChallenge, LivenessConfig, LivenessFailure, LivenessJudge, LivenessProgress,
    LivenessResult, FACEMESH_FILE, FACEMESH_SHA256,
};
use face_match::HeadPose;
use face_match::{
    DetectedFace, DetectorConfig, FaceDetector, FaceError, Frame, OrtRuntime, YUNET_2023MAR_FILE,
    YUNET_2023MAR_SHA256,
};
use opencv::core::{self, Mat, Point2f, Rect, Scalar, Size, Vector, CV_8UC3};
use opencv::imgproc;
use opencv::prelude::*;

use LivenessChallenge::{Blink, MoveCloser, TurnLeft, TurnRight};

const FRAME_W: i32 = 640;
const FRAME_H: i32 = 480;
/// Frame interval of the clips (10 fps).
const STEP: Duration = Duration::from_millis(100);

fn configured(var: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run the tests through cargo in the workspace"))
}

fn runtime() -> OrtRuntime {
    OrtRuntime::init(&configured("MYNAKIOSK_ORT_DYLIB"), 2)
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
}

fn eye_meter() -> EyeMeter {
    let model = configured("MYNAKIOSK_MODELS_DIR").join(FACEMESH_FILE);
    EyeMeter::new(&runtime(), &model, FACEMESH_SHA256)
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
}

fn detector() -> FaceDetector {
    let model = configured("MYNAKIOSK_MODELS_DIR").join(YUNET_2023MAR_FILE);
    FaceDetector::new(
        &runtime(),
        &model,
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
}

fn face_eval(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/face-eval")
        .join(relative)
}

/// An image file as 8-bit BGR.
fn read(relative: &str) -> Mat {
    let path = face_eval(relative);
    let frame =
        face_match::decode_image_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    frame.as_mat().unwrap().try_clone().unwrap()
}

fn mirrored(image: &Mat) -> Mat {
    let mut out = Mat::default();
    core::flip(image, &mut out, 1).unwrap();
    out
}

/// `image` scaled by `scale` and pasted centred on a grey 640×480 canvas.
fn on_canvas(image: &Mat, scale: f64) -> Mat {
    let mut scaled = Mat::default();
    imgproc::resize(
        image,
        &mut scaled,
        Size::default(),
        scale,
        scale,
        imgproc::INTER_LINEAR,
    )
    .unwrap();
    let mut canvas =
        Mat::new_rows_cols_with_default(FRAME_H, FRAME_W, CV_8UC3, Scalar::all(110.0)).unwrap();
    let (w, h) = (scaled.cols().min(FRAME_W), scaled.rows().min(FRAME_H));
    let src = Mat::roi(
        &scaled,
        Rect::new((scaled.cols() - w) / 2, (scaled.rows() - h) / 2, w, h),
    )
    .unwrap();
    let mut dst = Mat::roi_mut(
        &mut canvas,
        Rect::new((FRAME_W - w) / 2, (FRAME_H - h) / 2, w, h),
    )
    .unwrap();
    src.copy_to(&mut dst).unwrap();
    canvas
}

/// Deterministic pixel noise of ±`amplitude`, different for every `seed`: a sensor's noise.
fn with_noise(image: &Mat, seed: u32, amplitude: i32) -> Frame {
    let mut state = seed.wrapping_mul(0x9E37_79B9) | 1;
    let mut noisy = image.try_clone().unwrap();
    for byte in noisy.data_bytes_mut().unwrap() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let delta = (state % (2 * amplitude as u32 + 1)) as i32 - amplitude;
        *byte = (i32::from(*byte) + delta).clamp(0, 255) as u8;
    }
    Frame::from_mat(&noisy).unwrap()
}

fn exact(image: &Mat) -> Frame {
    Frame::from_mat(image).unwrap()
}

/// Detects the faces of a clip once, so several judges can replay it.
struct Clip {
    /// Each frame, its faces and the eye openness of the first face.
    frames: Vec<(Frame, Vec<DetectedFace>, Option<f32>)>,
}

thread_local! {
    /// One FaceMesh session per test thread.
    static EYES: RefCell<EyeMeter> = RefCell::new(eye_meter());
}

impl Clip {
    fn detect(detector: &mut FaceDetector, frames: Vec<Frame>) -> Self {
        let frames = frames
            .into_iter()
            .map(|frame| {
                let faces = detector.detect(&frame).unwrap();
                let eyes = faces.first().and_then(|face| {
                    EYES.with_borrow_mut(|meter| meter.openness(&frame, face).unwrap())
                });
                (frame, faces, eyes)
            })
            .collect();
        Self { frames }
    }

    fn poses(&self) -> Vec<Option<HeadPose>> {
        self.frames
            .iter()
            .map(|(_, faces, _)| faces.first().and_then(HeadPose::of))
            .collect()
    }

    fn yaws(&self) -> Vec<Option<f32>> {
        self.poses().iter().map(|p| p.map(|p| p.yaw)).collect()
    }

    /// Plays the clip at 10 fps to a judge of `challenge`; the result once decided, or what
    /// was showing at the end.
    fn judge(&self, challenge: LivenessChallenge) -> Result<LivenessResult, LivenessProgress> {
        let mut judge = LivenessJudge::new(challenge, LivenessConfig::default()).unwrap();
        let mut last = LivenessProgress::LookStraight;
        for (i, (frame, faces, eyes)) in self.frames.iter().enumerate() {
            last = judge.observe_with_eyes(STEP * i as u32, faces, frame, *eyes);
            if let LivenessProgress::Done(result) = last {
                return Ok(result);
            }
        }
        Err(last)
    }
}

/// Real head turns from ORL: (frontal image, turned image, the challenge the turn answers).
/// The yaw of each turned image (−0.74, −0.37, 0.53, −1.38, 0.32) is far from its frontal one
/// (|yaw| ≤ 0.01); negative is the person's right.
const ORL_TURNS: [(&str, &str, LivenessChallenge); 5] = [
    ("orl/s1/1.pgm", "orl/s1/3.pgm", TurnRight),
    ("orl/s1/1.pgm", "orl/s1/6.pgm", TurnRight),
    ("orl/s2/4.pgm", "orl/s2/5.pgm", TurnLeft),
    ("orl/s2/4.pgm", "orl/s2/6.pgm", TurnRight),
    ("orl/s26/1.pgm", "orl/s26/5.pgm", TurnLeft),
];

/// Portraits with one face, used for the approach and the tilted photo.
const PORTRAITS: [&str; 4] = [
    "portraits/obama.jpg",
    "portraits/obama2.jpg",
    "portraits/biden.jpg",
    "portraits/grace_hopper_512x512.jpg",
];

/// A head-turn clip: frontal for 8 frames, turned for 4, frontal for 4; fresh noise on each.
/// Each photo is placed so that its face has the same centre and size in the frame, as a
/// head turning in place would (ORL's separate shots differ in framing).
fn turn_frames(detector: &mut FaceDetector, frontal: &Mat, turned: &Mat, seed: u32) -> Vec<Frame> {
    let mut place = |image: &Mat| {
        let canvas = on_canvas(image, 3.0);
        let face = portrait_face(detector, &canvas);
        camera_view(&canvas, &face, 1.6)
    };
    let (frontal, turned) = (place(frontal), place(turned));
    let order = [&frontal; 8]
        .into_iter()
        .chain([&turned; 4])
        .chain([&frontal; 4]);
    order
        .enumerate()
        .map(|(i, image)| with_noise(image, seed + i as u32, 2))
        .collect()
}

/// The ORL turn clips and their mirror images, with the challenge each answers.
fn orl_turn_clips(detector: &mut FaceDetector) -> Vec<(String, Clip, LivenessChallenge)> {
    let mut clips = Vec::new();
    for (n, (frontal, turned, challenge)) in ORL_TURNS.into_iter().enumerate() {
        let (frontal, turned_image) = (read(frontal), read(turned));
        let seed = 1000 * n as u32;
        let frames = turn_frames(detector, &frontal, &turned_image, seed);
        clips.push((turned.to_owned(), Clip::detect(detector, frames), challenge));
        let frames = turn_frames(
            detector,
            &mirrored(&frontal),
            &mirrored(&turned_image),
            seed + 500,
        );
        let opposite = if challenge == TurnLeft {
            TurnRight
        } else {
            TurnLeft
        };
        clips.push((
            format!("{turned} mirrored"),
            Clip::detect(detector, frames),
            opposite,
        ));
    }
    clips
}

/// A camera's view of `portrait` with its `face` centred in a 640×480 frame and sized 130 px
/// (square root of the box area) times `zoom`.
fn camera_view(portrait: &Mat, face: &DetectedFace, zoom: f64) -> Mat {
    let (x, y, w, h) = face.bbox;
    let (cx, cy) = (f64::from(x + w / 2.0), f64::from(y + h / 2.0));
    let s = 130.0 * zoom / f64::from((w * h).sqrt());
    let m = Mat::from_slice_2d(&[
        [s, 0.0, f64::from(FRAME_W) / 2.0 - s * cx],
        [0.0, s, f64::from(FRAME_H) / 2.0 - s * cy],
        [0.0, 0.0, 1.0],
    ])
    .unwrap();
    warped(portrait, &m)
}

/// `image` mapped by the 3×3 `homography` into a 640×480 frame, grey outside it.
fn warped(image: &Mat, homography: &Mat) -> Mat {
    let mut out = Mat::default();
    imgproc::warp_perspective(
        image,
        &mut out,
        homography,
        Size::new(FRAME_W, FRAME_H),
        imgproc::INTER_LINEAR,
        core::BORDER_CONSTANT,
        Scalar::all(110.0),
    )
    .unwrap();
    out
}

/// The single face of a portrait image, as the detector sees it.
fn portrait_face(detector: &mut FaceDetector, portrait: &Mat) -> DetectedFace {
    let faces = detector.detect(&exact(portrait)).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    faces[0]
}

/// Someone coming closer: 8 frames at the start distance, then the face growing by 5 % a
/// frame to 1.6× its size; fresh noise on each.
fn approach_frames(portrait: &Mat, face: &DetectedFace, seed: u32) -> Vec<Frame> {
    (0..18)
        .map(|i| {
            let zoom = 1.05f64.powi(i.max(7) - 7).min(1.6);
            with_noise(&camera_view(portrait, face, zoom), seed + i as u32, 2)
        })
        .collect()
}

fn reason(outcome: &Result<LivenessResult, LivenessProgress>) -> Option<LivenessFailure> {
    match outcome {
        Ok(result) => {
            assert_eq!(result.passed, result.reason.is_none(), "{result:?}");
            result.reason
        }
        Err(progress) => panic!("undecided at the end of the clip: {progress:?}"),
    }
}

/// Every clip passes the challenge it answers and fails the other two as the wrong action:
/// a replayed clip of one challenge never passes another.
#[test]
fn clips_pass_their_own_challenge_and_fail_the_others() {
    let mut detector = detector();
    let mut clips = orl_turn_clips(&mut detector);
    for (n, path) in PORTRAITS.into_iter().enumerate() {
        let portrait = read(path);
        let face = portrait_face(&mut detector, &portrait);
        let frames = approach_frames(&portrait, &face, 7000 + 100 * n as u32);
        clips.push((
            path.to_owned(),
            Clip::detect(&mut detector, frames),
            MoveCloser,
        ));
    }
    let mut missed = Vec::new();
    for (name, clip, answers) in &clips {
        for challenge in LivenessChallenge::ALL {
            let outcome = clip.judge(challenge);
            if challenge == *answers {
                if !outcome.as_ref().is_ok_and(|r| r.passed) {
                    missed.push(format!("{name}: {outcome:?}, yaws {:.2?}", clip.yaws()));
                }
            } else {
                assert_eq!(
                    outcome.as_ref().ok().and_then(|r| r.reason),
                    Some(LivenessFailure::WrongAction { observed: *answers }),
                    "{name} replayed for {challenge}: {outcome:?}, yaws {:.2?}",
                    clip.yaws()
                );
            }
        }
    }
    eprintln!(
        "liveness: {}/{} clips passed their challenge; {} wrong-challenge replays all failed",
        clips.len() - missed.len(),
        clips.len(),
        (LivenessChallenge::ALL.len() - 1) * clips.len()
    );
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn static_photo_fails_every_challenge() {
    let mut detector = detector();
    let photo = on_canvas(&read("orl/s7/1.pgm"), 3.0);
    let repeated = Clip::detect(&mut detector, (0..5).map(|_| exact(&photo)).collect());
    // 6 s of the same photo under sensor noise: the detector still sees a face every frame.
    let noisy = Clip::detect(
        &mut detector,
        (0..60).map(|i| with_noise(&photo, 50 + i, 3)).collect(),
    );
    assert!(noisy.yaws().iter().all(Option::is_some));
    for challenge in LivenessChallenge::ALL {
        assert_eq!(
            reason(&repeated.judge(challenge)),
            Some(LivenessFailure::FrozenFrames { repeats: 3 }),
            "{challenge}"
        );
        assert_eq!(
            reason(&noisy.judge(challenge)),
            Some(LivenessFailure::ActionNotStarted),
            "{challenge}"
        );
    }
}

#[test]
fn a_frozen_frame_in_a_real_turn_fails() {
    let mut detector = detector();
    let (frontal, turned, challenge) = ORL_TURNS[2];
    let mut frames = turn_frames(&mut detector, &read(frontal), &read(turned), 300);
    // The camera freezes on the first turned frame for three frames.
    let copies: Vec<Frame> = (0..2)
        .map(|_| Frame::from_mat(&frames[8].as_mat().unwrap()).unwrap())
        .collect();
    frames.splice(9..11, copies);
    let clip = Clip::detect(&mut detector, frames);
    assert_eq!(
        reason(&clip.judge(challenge)),
        Some(LivenessFailure::FrozenFrames { repeats: 3 })
    );
}

#[test]
fn two_faces_fail() {
    let mut detector = detector();
    let mut pair = Mat::default();
    let faces = Vector::<Mat>::from_iter([read("orl/s7/1.pgm"), read("orl/s20/1.pgm")]);
    core::hconcat(&faces, &mut pair).unwrap();
    let frames = (0..5)
        .map(|i| with_noise(&on_canvas(&pair, 2.5), i, 2))
        .collect();
    let clip = Clip::detect(&mut detector, frames);
    for challenge in LivenessChallenge::ALL {
        assert_eq!(
            reason(&clip.judge(challenge)),
            Some(LivenessFailure::SeveralFaces { count: 2 })
        );
    }
}

/// A flat photo rotated about a vertical axis through the face by `degrees`, seen by a
/// pinhole camera 2 frame widths away: the homography of that plane.
fn tilted(view: &Mat, degrees: f32) -> Mat {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let distance = 2.0 * FRAME_W as f32;
    let (cx, cy) = (FRAME_W as f32 / 2.0, FRAME_H as f32 / 2.0);
    let project = |x: f32, y: f32| {
        let (dx, dy) = (x - cx, y - cy);
        let depth = 1.0 + dx * sin / distance;
        Point2f::new(cx + dx * cos / depth, cy + dy / depth)
    };
    let (w, h) = (FRAME_W as f32, FRAME_H as f32);
    let corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let src = Vector::<Point2f>::from_iter(corners.map(|(x, y)| Point2f::new(x, y)));
    let dst = Vector::<Point2f>::from_iter(corners.map(|(x, y)| project(x, y)));
    let m = imgproc::get_perspective_transform(&src, &dst, core::DECOMP_LU).unwrap();
    warped(view, &m)
}

/// Rotating a photo in front of the camera squeezes it but leaves the nose on the face's
/// midline: no head turn is seen, whichever way it is tilted.
#[test]
fn a_tilted_photo_is_not_a_head_turn() {
    let mut detector = detector();
    let mut flat = 0;
    for (n, path) in PORTRAITS.into_iter().enumerate() {
        let portrait = read(path);
        let face = portrait_face(&mut detector, &portrait);
        let view = camera_view(&portrait, &face, 1.0);
        for sign in [1.0, -1.0] {
            // Held straight, tilted by 6° a frame up to 60°, then held there.
            let angles = (0..8)
                .map(|_| 0.0)
                .chain((1..=10).map(|i| sign * 6.0 * i as f32))
                .chain((0..20).map(|_| sign * 60.0));
            let frames = angles
                .enumerate()
                .map(|(i, angle)| with_noise(&tilted(&view, angle), (n * 100 + i) as u32, 2))
                .collect();
            let clip = Clip::detect(&mut detector, frames);
            for challenge in [TurnLeft, TurnRight] {
                let outcome = clip.judge(challenge);
                let passed = outcome.as_ref().is_ok_and(|r| r.passed);
                assert!(!passed, "{path} tilted {sign}·60° passed {challenge}");
                let reason = outcome.ok().and_then(|r| r.reason);
                flat += usize::from(reason == Some(LivenessFailure::FlatFace));
            }
        }
    }
    eprintln!("liveness: tilted photos: 0/16 turn challenges passed, {flat} caught as flat");
}

/// FaceMesh's eye aspect ratio on real open eyes across people and image kinds. (The
/// evaluation images hold no closed eyes, so a real blink is not tested here.)
#[test]
fn eye_meter_measures_open_eyes_on_real_faces() {
    let mut detector = detector();
    let mut meter = eye_meter();
    let mut images: Vec<Mat> = (1..=40)
        .step_by(3)
        .map(|s| on_canvas(&read(&format!("orl/s{s}/1.pgm")), 3.0))
        .collect();
    images.extend(PORTRAITS.map(read));
    let mut ratios = Vec::new();
    for image in &images {
        let frame = exact(image);
        let face = detector.detect(&frame).unwrap()[0];
        ratios.push(
            meter
                .openness(&frame, &face)
                .unwrap()
                .expect("FaceMesh saw no face"),
        );
    }
    eprintln!("liveness: open-eye aspect ratios {ratios:.2?}");
    assert!(
        ratios.iter().all(|r| (0.15..=0.45).contains(r)),
        "{ratios:?}"
    );
}

#[test]
fn eye_meter_model_problems_are_typed_errors() {
    let runtime = runtime();
    let dir = configured("MYNAKIOSK_MODELS_DIR");
    let wrong_sha = "0".repeat(64);
    let err = EyeMeter::new(&runtime, &dir.join(FACEMESH_FILE), &wrong_sha).err();
    assert!(
        matches!(err, Some(FaceError::ModelChecksum { .. })),
        "{err:?}"
    );
    let yunet = dir.join(YUNET_2023MAR_FILE);
    let err = EyeMeter::new(&runtime, &yunet, YUNET_2023MAR_SHA256).err();
    assert!(
        matches!(err, Some(FaceError::ModelInvalid { .. })),
        "{err:?}"
    );
}

/// A blink judge fed frames without eye measurements fails instead of waiting for nothing.
#[test]
fn blink_needs_eye_measurements() {
    let mut detector = detector();
    let photo = on_canvas(&read("orl/s7/1.pgm"), 3.0);
    let frame = with_noise(&photo, 1, 2);
    let faces = detector.detect(&frame).unwrap();
    let mut judge = LivenessJudge::new(Blink, LivenessConfig::default()).unwrap();
    let LivenessProgress::Done(result) = judge.observe(Duration::ZERO, &faces, &frame) else {
        panic!("undecided")
    };
    assert_eq!(result.reason, Some(LivenessFailure::EyesNotMeasured));
}
