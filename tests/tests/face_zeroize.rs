//! Proof that a comparison leaves no face data in freed memory, after a normal run and after
//! errors midway.
//!
//! Method: [`mynakiosk_tests::freed_memory`]'s inspecting allocator counts freed blocks that
//! still hold a known 32-byte stretch of face data (camera frame pixels, chip photo bytes and
//! pixels, the aligned crop, either embedding).
//!
//! What it covers: every buffer the Rust side allocates (frames, tensors, crops, embeddings,
//! decoded photo, `hayro-jpeg2000`'s output). What it cannot see: memory that OpenCV and ONNX
//! Runtime allocate in C++ (the pipeline scrubs OpenCV's pixel buffers and writes OpenCV's
//! results into zeroizing Rust buffers; ONNX Runtime's activations are not pixels), and
//! `hayro-jpeg2000`'s internal wavelet coefficients (floats, not the 8-bit pixels checked).
//! Not part of a comparison, so not tried here: decoding a camera's frame. A YUYV camera's
//! frame is converted straight into a zeroizing `Frame`; a Motion JPEG camera's (used only when
//! the camera offers no YUYV) and an image file's go through the `image` crate's decoder, whose
//! internal buffers are not wiped, as libjpeg's inside OpenCV were not.

use face_match::detector::{denoise, refine, retry};
use face_match::eval::ChipSimulator;
use face_match::{
    align_face, decode_jp2, CameraError, DetectorConfig, FaceDetector, Frame, MatchError,
    QualityConfig, Zeroizing, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};
use mynakiosk_tests::face::{
    face_eval, kiosk_frame, load, matcher, model_path, runtime, unhurried,
};
use mynakiosk_tests::freed_memory::{needles_from, record, stop, InspectingAllocator};

#[global_allocator]
static ALLOCATOR: InspectingAllocator = InspectingAllocator;

fn frame_bytes(frame: &Frame) -> Vec<u8> {
    (0..frame.height())
        .flat_map(|y| frame.row(y).unwrap().to_vec())
        .collect()
}

fn floats(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Everything the comparison of `chip` with `frames` should leave nowhere.
fn face_data_needles(
    matcher: &mut face_match::FaceMatcher,
    chip: &[u8],
    frames: &[Frame],
) -> Vec<Vec<u8>> {
    let mut needles = Vec::new();
    let mut add = |bytes: &[u8], max: usize, what: &str| {
        let found = needles_from(bytes, max);
        assert!(!found.is_empty(), "no distinctive bytes in the {what}");
        needles.extend(found);
    };
    add(chip, 6, "chip photo bytes");
    let photo = decode_jp2(chip).unwrap();
    let pixels: Vec<u8> = (0..photo.height())
        .flat_map(|y| photo.row(y).unwrap().to_vec())
        .collect();
    add(&pixels, 6, "chip photo pixels");
    let chip_embedding = matcher
        .chip_embedding(Zeroizing::new(chip.to_vec()))
        .unwrap();
    add(&floats(chip_embedding.values()), 4, "chip embedding");
    // A single picture's crop is embedded with its mirror too.
    let chip_frame = photo.to_bgr().unwrap();
    let (_, chip_crop) = matcher.largest_face_crop(&chip_frame).unwrap().unwrap();
    let mirrored = chip_crop.mirrored().unwrap();
    let pixels: Vec<u8> = (0..mirrored.height())
        .flat_map(|y| mirrored.row(y).unwrap().to_vec())
        .collect();
    add(&pixels, 6, "chip crop's mirror");
    for frame in frames {
        add(&frame_bytes(frame), 8, "frame");
        let (check, embedding) = matcher.check_followed_frame(frame).unwrap();
        let embedding = embedding.expect("a usable face in every test frame");
        add(&floats(embedding.values()), 4, "live embedding");
        let crop = align_face(frame, &check.faces[0]).unwrap();
        let pixels: Vec<u8> = (0..crop.height())
            .flat_map(|y| crop.row(y).unwrap().to_vec())
            .collect();
        add(&pixels, 6, "aligned crop");
    }
    needles
}

fn portrait_frame(name: &str) -> Frame {
    kiosk_frame(&face_eval(&format!("portraits/{name}")))
}

fn chip_of(name: &str) -> Zeroizing<Vec<u8>> {
    ChipSimulator::card_like()
        .unwrap()
        .encode(&load(&face_eval(&format!("portraits/{name}"))))
        .unwrap()
}

/// A portrait darkened to a fourteenth and turned by 60°: YuNet finds it only after the detector's
/// retries (light equalised, smoothed, turned back), so every retry buffer holds face data.
fn dim_turned_frame() -> Frame {
    let portrait = portrait_frame("obama2.jpg");
    let mut bytes = frame_bytes(&portrait);
    for byte in &mut bytes {
        *byte /= 14;
    }
    let dim = Frame::from_raw(
        portrait.width(),
        portrait.height(),
        portrait.width() as usize * 3,
        bytes.into(),
    )
    .unwrap();
    retry::rotated(&dim, 60.0).unwrap().0
}

/// A portrait frame through JPEG at quality 5: the detector smooths its block grid away
/// before detection and alignment.
fn heavy_jpeg_frame() -> Frame {
    face_match::jpeg_round_trip(&portrait_frame("biden.jpg"), 5).unwrap()
}

/// Copies of the frames (the originals stay with the test to build the needles).
fn copies(frames: &[Frame]) -> Vec<Frame> {
    frames
        .iter()
        .map(|f| {
            Frame::from_raw(
                f.width(),
                f.height(),
                f.width() as usize * 3,
                frame_bytes(f).into(),
            )
            .unwrap()
        })
        .collect()
}

/// YuNet with the default thresholds and retries.
fn yunet() -> FaceDetector {
    FaceDetector::new(
        &runtime(),
        &model_path(YUNET_2023MAR_FILE),
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )
    .unwrap()
}

/// Freed blocks holding any of `needles` after a copy of `picture` is embedded as a single
/// picture (retries, smoothing, closer look) and dropped.
fn leaks_of_embedding(
    matcher: &mut face_match::FaceMatcher,
    picture: &Frame,
    needles: Vec<Vec<u8>>,
) -> usize {
    let copy = copies(std::slice::from_ref(picture)).remove(0);
    record(needles);
    let found = matcher.embed_largest_face(&copy).unwrap();
    drop((found, copy));
    stop()
}

/// One test, so that nothing else allocates in this process while recording.
#[test]
fn no_face_data_survives_a_comparison_or_its_errors() {
    let mut matcher = matcher(QualityConfig::default(), unhurried());
    let chip = chip_of("obama.jpg");
    let live = vec![portrait_frame("obama2.jpg"), portrait_frame("biden.jpg")];
    let needles = face_data_needles(&mut matcher, &chip, &live);
    assert!(needles.len() >= 30, "only {} needles", needles.len());

    // The detector works: a plain copy of a frame dropped while recording is caught.
    let (chip_copy, frames) = (Zeroizing::new(chip.to_vec()), copies(&live));
    record(needles.clone());
    drop(frame_bytes(&live[0]));
    assert!(
        stop() > 0,
        "the leak detector missed a plain copy of a frame"
    );

    // A whole comparison.
    record(needles.clone());
    let outcome = matcher
        .compare(chip_copy, frames.into_iter().map(Ok), |_, _| {})
        .unwrap();
    let leaks = stop();
    assert_eq!(outcome.decision, face_match::Decision::Match);
    assert_eq!(
        leaks, 0,
        "{leaks} freed blocks still held face data after a comparison"
    );

    // A camera that fails after one frame.
    let (chip_copy, mut frames) = (Zeroizing::new(chip.to_vec()), copies(&live));
    let second = frames.pop().unwrap();
    let stream = vec![
        Ok(second),
        Err(CameraError::Stopped {
            origin: "test".into(),
        }),
    ]
    .into_iter()
    .chain(frames.into_iter().map(Ok));
    record(needles.clone());
    let err = matcher.compare(chip_copy, stream, |_, _| {}).err();
    let leaks = stop();
    assert!(matches!(err, Some(MatchError::Camera(_))), "{err:?}");
    assert_eq!(
        leaks, 0,
        "{leaks} freed blocks held face data after a camera error"
    );

    // A face found only by the detector's retries: the frame, its equalised and smoothed
    // copies, its turned copies and the squares of the closer look (refine: the turns searched
    // for the most upright one, and the first of the averaged ones) leave nothing behind.
    let hard = dim_turned_frame();
    assert!(retry::poorly_lit(&hard).unwrap());
    let mut detector = yunet();
    assert!(detector.detect(&hard).unwrap().is_empty());
    let (faces, prepared) = detector.detect_with_retries(&hard).unwrap();
    assert_eq!(faces.len(), 1);
    drop(detector);
    let lit = retry::equalised(&hard).unwrap();
    let mut retry_needles = needles_from(&frame_bytes(&hard), 8);
    for offset in refine::ROLLS.into_iter().chain(refine::OFFSETS) {
        let base = prepared.as_ref().unwrap_or(&hard);
        let square = refine::upright_square(base, &faces[0], offset).unwrap().0;
        retry_needles.extend(needles_from(&frame_bytes(&square), 8));
    }
    drop(prepared);
    retry_needles.extend(needles_from(&frame_bytes(&lit), 8));
    retry_needles.extend(needles_from(
        &frame_bytes(&retry::smoothed(&lit).unwrap()),
        8,
    ));
    for degrees in retry::ROLLS {
        let turned = retry::rotated(&lit, degrees).unwrap().0;
        retry_needles.extend(needles_from(&frame_bytes(&turned), 8));
    }
    let embedding = matcher.embed_largest_face(&hard).unwrap();
    let embedding = embedding.expect("the retries find the dim, turned face");
    retry_needles.extend(needles_from(&floats(embedding.values()), 4));
    drop(embedding);
    assert!(
        retry_needles.len() >= 16,
        "only {} needles",
        retry_needles.len()
    );
    let leaks = leaks_of_embedding(&mut matcher, &hard, retry_needles);
    assert_eq!(
        leaks, 0,
        "{leaks} freed blocks held face data after the detector's retries"
    );

    // A heavily compressed picture: its smoothed copy, the closer look's squares in it (and
    // the mirrors of the averaged ones) and the embedding leave nothing behind.
    let blocky = heavy_jpeg_frame();
    assert!(denoise::blocky(&blocky));
    let smooth = denoise::smoothed(&blocky).unwrap();
    let mut jpeg_needles = needles_from(&frame_bytes(&blocky), 8);
    jpeg_needles.extend(needles_from(&frame_bytes(&smooth), 8));
    let mut detector = yunet();
    let face = detector.detect(&smooth).unwrap()[0];
    drop(detector);
    for offset in refine::ROLLS.into_iter().chain(refine::OFFSETS) {
        let square = refine::upright_square(&smooth, &face, offset).unwrap().0;
        jpeg_needles.extend(needles_from(&frame_bytes(&square), 8));
        if refine::OFFSETS.contains(&offset) {
            let mirrored = square.mirrored().unwrap();
            jpeg_needles.extend(needles_from(&frame_bytes(&mirrored), 8));
        }
    }
    drop(smooth);
    let embedding = matcher.embed_largest_face(&blocky).unwrap().unwrap();
    jpeg_needles.extend(needles_from(&floats(embedding.values()), 4));
    drop(embedding);
    let leaks = leaks_of_embedding(&mut matcher, &blocky, jpeg_needles);
    assert_eq!(
        leaks, 0,
        "{leaks} freed blocks held face data after the smoothing of a blocky picture"
    );

    // A chip photo without a face: the frames are never looked at, only dropped.
    let blank_chip = ChipSimulator::card_like()
        .unwrap()
        .encode(&Frame::zeroed(160, 200).unwrap())
        .unwrap();
    let mut needles = needles;
    needles.truncate(60);
    needles.extend(needles_from(&blank_chip, 4));
    let frames = copies(&live);
    record(needles);
    let err = matcher
        .compare(blank_chip, frames.into_iter().map(Ok), |_, _| {})
        .err();
    let leaks = stop();
    assert!(
        matches!(err, Some(MatchError::NoFaceInChipPhoto)),
        "{err:?}"
    );
    assert_eq!(
        leaks, 0,
        "{leaks} freed blocks held face data after a chip photo error"
    );
}
