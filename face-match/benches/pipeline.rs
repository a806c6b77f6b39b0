//! Criterion benchmarks of the face pipeline on a 640×480 camera frame: detection, alignment,
//! embedding and a whole decision (chip photo decode + embed, frame detect + gate + embed).
//! OpenCV's own pipeline and peak memory: `cargo run --release -p face-match --example face_bench`.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use face_match::eval::ChipSimulator;
use face_match::{align_face, FaceMatcher, Frame, MatchPolicy, QualityConfig};

/// The portrait used for the single-frame benchmarks: its face passes the quality gate.
const PORTRAIT: &str = "grace_hopper_512x512.jpg";

fn copy(frame: &Frame) -> Frame {
    let bytes: Vec<u8> = (0..frame.height())
        .flat_map(|y| frame.row(y).unwrap_or_default().to_vec())
        .collect();
    Frame::from_raw(
        frame.width(),
        frame.height(),
        frame.width() as usize * 3,
        bytes.into(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn pipeline(c: &mut Criterion) {
    let runtime = support::runtime(2);
    let (_, frame) = support::portrait_frames()
        .into_iter()
        .find(|(name, _)| name == PORTRAIT)
        .unwrap_or_else(|| panic!("{PORTRAIT} missing"));
    let models = support::configured("MYNAKIOSK_MODELS_DIR");
    let (mut detector, mut embedder) = support::models(&runtime);
    let face = detector.detect(&frame).unwrap_or_else(|e| panic!("{e}"))[0];
    let crop = align_face(&frame, &face).unwrap_or_else(|e| panic!("{e}"));
    let chip = ChipSimulator::card_like()
        .and_then(|sim| sim.encode(&frame))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut matcher = FaceMatcher::load(
        &runtime,
        &models,
        QualityConfig::default(),
        MatchPolicy::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let mut group = c.benchmark_group("face_640x480");
    group.sample_size(20);
    group.bench_function("detect", |b| b.iter(|| detector.detect(&frame).unwrap()));
    group.bench_function("align", |b| b.iter(|| align_face(&frame, &face).unwrap()));
    group.bench_function("embed", |b| b.iter(|| embedder.embed(&crop).unwrap()));
    group.bench_function("decision", |b| {
        b.iter_batched(
            || (chip.clone(), copy(&frame)),
            |(chip, live)| {
                let outcome = matcher.compare(chip, [Ok(live)], |_, _| {}).unwrap();
                assert_eq!(outcome.decision, face_match::Decision::Match);
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
