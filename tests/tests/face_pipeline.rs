//! The match decision end to end on real models: chip photo (JPEG 2000, decoded by
//! hayro-jpeg2000) against 640×480 camera frames, the quality gate's guidance, the policy's
//! limits and the typed errors.

use face_match::eval::eyes::{self, Cover};
use face_match::eval::ChipSimulator;
use face_match::Zeroizing;
use face_match::{
    CameraError, Decision, FaceMatcher, Frame, Guidance, MatchError, MatchPolicy, PhotoError,
    QualityConfig,
};
use mynakiosk_tests::face::{self, face_eval, kiosk_frame, load, unhurried};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn default_matcher() -> FaceMatcher {
    face::matcher(QualityConfig::default(), unhurried())
}

/// A portrait as the card would store it.
fn chip_photo(portrait: &str) -> Zeroizing<Vec<u8>> {
    let simulator = ChipSimulator::card_like().unwrap();
    simulator
        .encode(&load(&face_eval(&format!("portraits/{portrait}"))))
        .unwrap()
}

fn live(portrait: &str) -> Frame {
    kiosk_frame(&face_eval(&format!("portraits/{portrait}")))
}

fn frames(list: Vec<Frame>) -> impl Iterator<Item = Result<Frame, CameraError>> {
    list.into_iter().map(Ok)
}

/// `frame` with every byte mapped through `f`.
fn mapped(frame: &Frame, f: impl Fn(usize, usize, u8) -> u8) -> Frame {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let row = frame.row(y as u32).unwrap();
        pixels.extend(row.iter().enumerate().map(|(i, &v)| f(i / 3, y, v)));
    }
    Frame::from_raw(w as u32, h as u32, w * 3, pixels.into()).unwrap()
}

/// `frame` moved `dx` pixels right onto `background`.
fn shifted_right(frame: &Frame, background: Frame, dx: usize) -> Frame {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h as u32 {
        let (row, back) = (frame.row(y).unwrap(), background.row(y).unwrap());
        pixels.extend_from_slice(&back[..dx * 3]);
        pixels.extend_from_slice(&row[..(w - dx) * 3]);
    }
    Frame::from_raw(w as u32, h as u32, w * 3, pixels.into()).unwrap()
}

/// A box blur of radius `r` (horizontal then vertical).
fn blurred(frame: &Frame, r: usize) -> Frame {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let get = |x: usize, y: usize, c: usize| frame.row(y as u32).unwrap()[x * 3 + c] as u32;
    let mut horizontal = vec![0u32; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let (lo, hi) = (x.saturating_sub(r), (x + r).min(w - 1));
                let sum: u32 = (lo..=hi).map(|i| get(i, y, c)).sum();
                horizontal[(y * w + x) * 3 + c] = sum / (hi - lo + 1) as u32;
            }
        }
    }
    let mut pixels = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let (lo, hi) = (y.saturating_sub(r), (y + r).min(h - 1));
                let sum: u32 = (lo..=hi).map(|i| horizontal[(i * w + x) * 3 + c]).sum();
                pixels[(y * w + x) * 3 + c] = (sum / (hi - lo + 1) as u32) as u8;
            }
        }
    }
    Frame::from_raw(w as u32, h as u32, w * 3, pixels.into()).unwrap()
}

#[test]
fn genuine_live_face_matches_the_chip_photo() {
    let mut matcher = default_matcher();
    let outcome = matcher
        .compare(
            chip_photo("obama.jpg"),
            frames(vec![live("obama2.jpg")]),
            |_, _| {},
        )
        .unwrap();
    eprintln!("genuine: {outcome:?}");
    assert_eq!(outcome.decision, Decision::Match);
    assert!(outcome.best_score.unwrap() >= 0.42);
    assert_eq!((outcome.frames_seen, outcome.frames_used), (1, 1));
    assert_eq!((outcome.attempt, outcome.attempts_left), (1, 2));
    assert!(outcome.timings.chip > std::time::Duration::ZERO);
    assert!(outcome.timings.embed > std::time::Duration::ZERO);
}

#[test]
fn impostor_does_not_match_after_every_usable_frame() {
    let mut matcher = default_matcher();
    let live_frames = vec![
        live("biden.jpg"),
        live("biden.jpg"),
        live("grace_hopper_512x512.jpg"),
    ];
    let mut seen = Vec::new();
    let outcome = matcher
        .compare(
            chip_photo("obama.jpg"),
            frames(live_frames),
            |frame, check| seen.push((frame.width(), check.verdict.is_ok())),
        )
        .unwrap();
    eprintln!("impostor: {outcome:?}");
    assert_eq!(outcome.decision, Decision::NoMatch);
    assert!(outcome.best_score.unwrap() < 0.42);
    assert_eq!((outcome.frames_seen, outcome.frames_used), (3, 3));
    assert_eq!(seen, [(640, true); 3], "the observer sees every frame");
}

#[test]
fn best_of_n_stops_after_n_usable_frames() {
    let policy = MatchPolicy {
        frames_per_attempt: 2,
        ..unhurried()
    };
    let mut matcher = face::matcher(QualityConfig::default(), policy);
    let outcome = matcher
        .compare(
            chip_photo("obama.jpg"),
            frames(vec![
                live("biden.jpg"),
                live("biden.jpg"),
                live("obama2.jpg"),
            ]),
            |_, _| {},
        )
        .unwrap();
    assert_eq!(
        outcome.decision,
        Decision::NoMatch,
        "the third frame is never taken"
    );
    assert_eq!((outcome.frames_seen, outcome.frames_used), (2, 2));
}

#[test]
fn attempts_are_bounded_and_time_limited() {
    let policy = MatchPolicy {
        max_attempts: 2,
        ..unhurried()
    };
    let mut matcher = face::matcher(QualityConfig::default(), policy);
    let mut session = matcher.session(chip_photo("obama.jpg")).unwrap();
    let first = session
        .attempt(frames(vec![live("biden.jpg")]), |_, _| {})
        .unwrap();
    assert_eq!(
        (first.decision, first.attempts_left),
        (Decision::NoMatch, 1)
    );
    let second = session
        .attempt(frames(vec![live("obama3.jpg")]), |_, _| {})
        .unwrap();
    assert_eq!(
        (second.decision, second.attempt, second.attempts_left),
        (Decision::Match, 2, 0)
    );
    let third = session
        .attempt(frames(vec![live("obama3.jpg")]), |_, _| {})
        .err();
    assert!(
        matches!(third, Some(MatchError::AttemptsExhausted(2))),
        "{third:?}"
    );
    drop(session);

    let hurried = MatchPolicy {
        attempt_seconds: 0.0,
        ..unhurried()
    };
    let mut matcher = face::matcher(QualityConfig::default(), hurried);
    std::thread::sleep(std::time::Duration::from_millis(1));
    let outcome = matcher
        .compare(
            chip_photo("obama.jpg"),
            frames(vec![live("obama2.jpg")]),
            |_, _| {},
        )
        .unwrap();
    assert_eq!(outcome.decision, Decision::NoUsableFrame);
    assert_eq!(outcome.frames_seen, 0);
}

#[test]
fn frames_without_a_usable_face_give_guidance_and_no_decision() {
    let mut matcher = default_matcher();
    let blank = Frame::zeroed(640, 480).unwrap();
    let outcome = matcher
        .compare(chip_photo("obama.jpg"), frames(vec![blank]), |_, _| {})
        .unwrap();
    assert_eq!(outcome.decision, Decision::NoUsableFrame);
    assert_eq!(outcome.best_score, None);
    assert_eq!(outcome.last_guidance, Some(Guidance::NoFace));
}

#[test]
fn quality_gate_guidance_on_a_real_face() {
    let mut matcher = default_matcher();
    let frame = live("obama2.jpg");
    let mut verdict = |frame: &Frame| matcher.check_frame(frame).unwrap().0.verdict;
    let measures = verdict(&frame).unwrap();
    eprintln!("good frame: {measures:?}");
    assert_eq!(
        verdict(&mapped(&frame, |_, _, v| v / 6)),
        Err(Guidance::TooDark)
    );
    assert_eq!(
        verdict(&mapped(&frame, |_, _, v| 200 + v / 5)),
        Err(Guidance::TooBright)
    );
    assert_eq!(verdict(&blurred(&frame, 6)), Err(Guidance::Blurred));
    // The whole picture moved 200 px right: the face leaves the oval.
    let shifted = mapped(&frame, |_, _, _| 128);
    let shifted = shifted_right(&frame, shifted, 200);
    assert_eq!(verdict(&shifted), Err(Guidance::OffGuide));
    let strict = QualityConfig {
        min_face_px: 400.0,
        ..QualityConfig::default()
    };
    let mut strict_matcher = face::matcher(strict, unhurried());
    assert_eq!(
        strict_matcher.check_frame(&frame).unwrap().0.verdict,
        Err(Guidance::TooSmall)
    );
}

/// A frame the gate refuses is neither looked at closer nor embedded; `gate_frame` (the
/// kiosk's frames after a match) gates an accepted face without either; `check_frame` embeds it.
#[test]
fn only_accepted_frames_that_can_change_the_decision_are_looked_at_closer_and_embedded() {
    use std::time::Duration;
    let mut matcher = default_matcher();
    let frame = live("obama2.jpg");
    let (check, embedding) = matcher.check_frame(&blurred(&frame, 6)).unwrap();
    assert_eq!(check.verdict.map(|_| ()), Err(Guidance::Blurred));
    assert!(embedding.is_none());
    let check = matcher.gate_frame(&frame).unwrap();
    assert!(check.verdict.is_ok(), "{:?}", check.verdict);
    let timings = matcher.timings();
    assert!(timings.detect > Duration::ZERO);
    assert_eq!(
        (timings.refine, timings.embed),
        (Duration::ZERO, Duration::ZERO)
    );
    let (check, embedding) = matcher.check_frame(&frame).unwrap();
    assert!(check.verdict.is_ok() && embedding.is_some());
    let timings = matcher.timings();
    assert!(timings.refine > Duration::ZERO && timings.embed > Duration::ZERO);
}

/// Dark glasses (the evaluation's dark band over the YuNet eye points) give the optional
/// "eyes covered" guidance; the open eyes of the same frame do not.
#[test]
fn covered_eyes_are_guidance_only_when_checked() {
    let checking = QualityConfig {
        check_eyes: true,
        ..QualityConfig::default()
    };
    let mut matcher = face::matcher(checking, unhurried());
    let frame = live("obama2.jpg");
    let (check, _) = matcher.check_frame(&frame).unwrap();
    let open = check.verdict.unwrap();
    assert!(open.flat_eyes < checking.max_flat_eyes, "{open:?}");
    let mut rng = ChaCha8Rng::seed_from_u64(eyes::COVER_SEED);
    let glasses = Cover::DarkBand
        .paint(&frame, &check.faces[0], &mut rng)
        .unwrap()
        .expect("the band lies inside the frame");
    let covered = matcher.check_frame(&glasses).unwrap().0.verdict;
    assert_eq!(covered, Err(Guidance::EyesCovered));
    let mut unchecked = default_matcher();
    let verdict = unchecked.check_frame(&glasses).unwrap().0.verdict;
    assert_ne!(verdict, Err(Guidance::EyesCovered));
}

#[test]
fn chip_photo_problems_are_typed_errors() {
    let mut matcher = default_matcher();
    let simulator = ChipSimulator::card_like().unwrap();
    let no_face = simulator.encode(&Frame::zeroed(160, 200).unwrap()).unwrap();
    let err = matcher
        .compare(no_face, frames(vec![live("obama2.jpg")]), |_, _| {})
        .err();
    assert!(
        matches!(err, Some(MatchError::NoFaceInChipPhoto)),
        "{err:?}"
    );
    let mut truncated = chip_photo("obama.jpg");
    truncated.truncate(100);
    let err = matcher
        .compare(truncated, frames(vec![live("obama2.jpg")]), |_, _| {})
        .err();
    assert!(
        matches!(err, Some(MatchError::Photo(PhotoError::Truncated))),
        "{err:?}"
    );
}

#[test]
fn camera_failure_midway_is_a_typed_error() {
    let mut matcher = default_matcher();
    let stream = vec![
        Ok(live("biden.jpg")),
        Err(CameraError::Stopped {
            origin: "/dev/video0".into(),
        }),
        Ok(live("obama2.jpg")),
    ];
    let err = matcher
        .compare(chip_photo("obama.jpg"), stream, |_, _| {})
        .err();
    assert!(
        matches!(err, Some(MatchError::Camera(CameraError::Stopped { .. }))),
        "{err:?}"
    );
}
