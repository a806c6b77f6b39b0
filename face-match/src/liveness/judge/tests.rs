//! The judge, frame by frame: challenges met, refused and timed out.

use super::*;
use crate::liveness::tests::Script;
use LivenessChallenge::*;

const FPS: u64 = 10;

/// A face of size `size` centred at (320, 240) whose nose is `yaw` inter-ocular
/// distances right of the midline.
fn face(yaw: f32, size: f32) -> DetectedFace {
    let (cx, cy) = (320.0, 240.0);
    let eye = size * 0.2;
    DetectedFace {
        bbox: (cx - size / 2.0, cy - size / 2.0, size, size),
        landmarks: [
            (cx - eye, cy - eye),
            (cx + eye, cy - eye),
            (cx + yaw * 2.0 * eye, cy),
            (cx - eye, cy + eye),
            (cx + eye, cy + eye),
        ],
        score: 0.9,
    }
}

/// Feeds poses at 10 fps, each frame different, and returns the last progress.
fn run(judge: &mut LivenessJudge, poses: &[(f32, f32)]) -> LivenessProgress {
    let mut last = LivenessProgress::LookStraight;
    for (i, &(yaw, size)) in poses.iter().enumerate() {
        let frame = Frame::from_raw(1, 1, 3, vec![i as u8, (i >> 8) as u8, 1].into()).unwrap();
        let t = Duration::from_millis(i as u64 * 1000 / FPS);
        last = judge.observe(t, &[face(yaw, size)], &frame);
    }
    last
}

fn judge(challenge: LivenessChallenge) -> LivenessJudge {
    LivenessJudge::new(challenge, LivenessConfig::default()).unwrap()
}

/// `n` frames straight ahead, then a ramp of yaw to `peak` and back over 16 frames.
fn turn(peak: f32) -> Vec<(f32, f32)> {
    let mut poses = vec![(0.0, 100.0); 6];
    poses.extend((1..=8).map(|i| (peak * i as f32 / 8.0, 100.0)));
    poses.extend((0..8).rev().map(|i| (peak * i as f32 / 8.0, 100.0)));
    poses
}

fn reason(progress: LivenessProgress) -> Option<LivenessFailure> {
    match progress {
        LivenessProgress::Done(result) => {
            assert_eq!(result.passed, result.reason.is_none());
            result.reason
        }
        other => panic!("undecided: {other:?}"),
    }
}

#[test]
fn turns_pass_in_their_direction_only() {
    assert_eq!(reason(run(&mut judge(TurnLeft), &turn(0.5))), None);
    assert_eq!(reason(run(&mut judge(TurnRight), &turn(-0.5))), None);
    assert_eq!(
        reason(run(&mut judge(TurnRight), &turn(0.5))),
        Some(LivenessFailure::WrongAction { observed: TurnLeft })
    );
    assert_eq!(
        reason(run(&mut judge(MoveCloser), &turn(0.5))),
        Some(LivenessFailure::WrongAction { observed: TurnLeft })
    );
}

#[test]
fn prompt_comes_after_the_hold_then_progress_counts_up() {
    assert_eq!(
        run(&mut judge(TurnLeft), &[(0.0, 100.0); 3]),
        LivenessProgress::LookStraight
    );
    assert_eq!(
        run(&mut judge(TurnLeft), &[(0.0, 100.0); 4]),
        LivenessProgress::Act {
            challenge: TurnLeft,
            progress: 0.0
        }
    );
    let mut poses = vec![(0.0, 100.0); 4];
    poses.push((0.15, 100.0));
    let LivenessProgress::Act { progress, .. } = run(&mut judge(TurnLeft), &poses) else {
        panic!("not acting")
    };
    assert!((progress - 0.5).abs() < 1e-4, "{progress}");
}

#[test]
fn closer_passes_when_the_face_grows_steadily() {
    let mut poses = vec![(0.0, 100.0); 6];
    poses.extend((1..=10).map(|i| (0.0, 100.0 + 4.0 * i as f32)));
    let mut judge = judge(MoveCloser);
    let LivenessProgress::Done(result) = run(&mut judge, &poses) else {
        panic!("undecided")
    };
    assert!(result.passed, "{result:?}");
    assert_eq!(result.timings.prompted, Some(Duration::from_millis(300)));
    assert!(result.timings.action_completed.unwrap() <= Duration::from_secs(1));
    // A turn challenge sees the same approach as the wrong action.
    assert_eq!(
        reason(run(&mut self::judge(TurnLeft), &poses)),
        Some(LivenessFailure::WrongAction {
            observed: MoveCloser
        })
    );
}

#[test]
fn a_face_narrowing_without_nose_parallax_is_flat() {
    // Eye distance halved (as by tilting a photo 60°) while the nose stays on the midline.
    let squeezed = |narrowing: f32, yaw: f32| {
        let mut f = face(0.0, 100.0);
        for point in &mut f.landmarks {
            point.0 = 320.0 + (point.0 - 320.0) * narrowing;
        }
        f.landmarks[2].0 = 320.0 + yaw * 40.0 * narrowing;
        f
    };
    let ms = Duration::from_millis;
    let frame = |b: u8| Frame::from_raw(1, 1, 3, vec![b, 0, 0].into()).unwrap();
    let mut flat = judge(TurnLeft);
    for i in 0..4 {
        flat.observe(ms(100 * i), &[face(0.0, 100.0)], &frame(i as u8));
    }
    assert_eq!(
        reason(flat.observe(ms(400), &[squeezed(0.5, 0.2)], &frame(9))),
        Some(LivenessFailure::FlatFace)
    );
    // The same narrowing with the nose well off the midline is a head turn.
    let mut real = judge(TurnLeft);
    for i in 0..4 {
        real.observe(ms(100 * i), &[face(0.0, 100.0)], &frame(i as u8));
    }
    assert_eq!(
        real.observe(ms(400), &[squeezed(0.5, 0.8)], &frame(9)),
        LivenessProgress::LookStraightAgain
    );
}

#[test]
fn blink_passes_when_the_eyes_close_and_reopen() {
    let ms = Duration::from_millis;
    let frame = |b: u8| Frame::from_raw(1, 1, 3, vec![b, 0, 0].into()).unwrap();
    let run_eyes = |openness: &[f32]| {
        let mut judge = judge(Blink);
        let mut last = LivenessProgress::LookStraight;
        for (i, &eyes) in openness.iter().enumerate() {
            let t = ms(100 * i as u64);
            last = judge.observe_with_eyes(t, &[face(0.0, 100.0)], &frame(i as u8), Some(eyes));
        }
        last
    };
    let mut blink = vec![0.3; 4];
    blink.extend([0.28, 0.12, 0.1, 0.2, 0.29]);
    assert_eq!(reason(run_eyes(&blink)), None);
    // Half closed (a squint) is not a blink; closed but never reopened is not complete.
    let mut squint = vec![0.3; 4];
    squint.extend(vec![0.22; 40]);
    assert_eq!(
        reason(run_eyes(&squint)),
        Some(LivenessFailure::ActionNotStarted)
    );
    let mut shut = vec![0.3; 4];
    shut.extend(vec![0.1; 60]);
    assert_eq!(
        reason(run_eyes(&shut)),
        Some(LivenessFailure::ActionNotCompleted)
    );
    // A blink challenge without eye measurements cannot be judged.
    assert_eq!(
        reason(run(&mut judge(Blink), &[(0.0, 100.0)])),
        Some(LivenessFailure::EyesNotMeasured)
    );
}

#[test]
fn time_limits_fail() {
    let config = LivenessConfig::default();
    let still = vec![(0.0, 100.0); 40];
    assert_eq!(
        reason(run(&mut judge(TurnLeft), &still)),
        Some(LivenessFailure::ActionNotStarted)
    );
    // Started (half way) but never completed.
    let mut half = vec![(0.0, 100.0); 6];
    half.extend(vec![(0.2, 100.0); 60]);
    assert_eq!(
        reason(run(&mut judge(TurnLeft), &half)),
        Some(LivenessFailure::ActionNotCompleted)
    );
    // Turned and stayed turned.
    let mut stay = turn(0.5)[..14].to_vec();
    stay.extend(vec![(0.5, 100.0); 40]);
    assert_eq!(
        reason(run(&mut judge(TurnLeft), &stay)),
        Some(LivenessFailure::NoReturnToNeutral)
    );
    // Never straight.
    let away = vec![(0.3, 100.0); 90];
    assert_eq!(
        reason(run(&mut judge(TurnLeft), &away)),
        Some(LivenessFailure::NoNeutralPose)
    );
    let mut patient = LivenessJudge::new(
        TurnLeft,
        LivenessConfig {
            neutral_window: Duration::from_secs(60),
            max_total: Duration::from_secs(5),
            ..config
        },
    )
    .unwrap();
    assert_eq!(
        reason(run(&mut patient, &away)),
        Some(LivenessFailure::TotalTimeLimit)
    );
}

#[test]
fn consistency_checks_fail() {
    let frame = |b: u8| Frame::from_raw(1, 1, 3, vec![b, 0, 0].into()).unwrap();
    let ms = Duration::from_millis;
    let one = [face(0.0, 100.0)];

    let mut frozen = judge(TurnLeft);
    frozen.observe(ms(0), &one, &frame(1));
    frozen.observe(ms(100), &one, &frame(1));
    assert_eq!(
        reason(frozen.observe(ms(200), &one, &frame(1))),
        Some(LivenessFailure::FrozenFrames { repeats: 3 })
    );

    let mut two = judge(TurnLeft);
    assert_eq!(
        reason(two.observe(ms(0), &[face(0.0, 100.0), face(0.0, 50.0)], &frame(1))),
        Some(LivenessFailure::SeveralFaces { count: 2 })
    );

    let mut jump = judge(TurnLeft);
    jump.observe(ms(0), &one, &frame(1));
    let mut moved = face(0.0, 100.0);
    moved.bbox.0 += 60.0;
    assert_eq!(
        reason(jump.observe(ms(100), &[moved], &frame(2))),
        Some(LivenessFailure::TrackJump)
    );
    let mut grown = judge(MoveCloser);
    grown.observe(ms(0), &one, &frame(1));
    assert_eq!(
        reason(grown.observe(ms(100), &[face(0.0, 130.0)], &frame(2))),
        Some(LivenessFailure::TrackJump)
    );

    let mut lost = judge(TurnLeft);
    lost.observe(ms(0), &one, &frame(1));
    assert!(!matches!(
        lost.observe(ms(300), &[], &frame(2)),
        LivenessProgress::Done(_)
    ));
    lost.observe(ms(600), &[], &frame(3));
    assert_eq!(
        reason(lost.observe(ms(900), &[], &frame(4))),
        Some(LivenessFailure::FaceLost)
    );

    let mut gap = judge(TurnLeft);
    gap.observe(ms(0), &one, &frame(1));
    assert_eq!(
        reason(gap.observe(ms(800), &one, &frame(2))),
        Some(LivenessFailure::FrameGap { gap: ms(800) })
    );

    let mut back = judge(TurnLeft);
    back.observe(ms(100), &one, &frame(1));
    assert_eq!(
        reason(back.observe(ms(50), &one, &frame(2))),
        Some(LivenessFailure::ClockWentBack)
    );
    // Decided results stick.
    assert_eq!(
        reason(back.observe(ms(150), &one, &frame(3))),
        Some(LivenessFailure::ClockWentBack)
    );
}

#[test]
fn random_judges_draw_challenge_and_hold_from_the_source() {
    let config = LivenessConfig::default();
    assert_eq!(config.challenges, [TurnLeft, TurnRight]);
    let judge = LivenessJudge::random(config.clone(), &mut Script(vec![1, 0])).unwrap();
    assert_eq!(judge.challenge(), TurnRight);
    assert_eq!(judge.neutral_hold(), config.min_neutral_hold);
    let judge = LivenessJudge::random(config.clone(), &mut Script(vec![0, 600])).unwrap();
    assert_eq!(judge.challenge(), TurnLeft);
    assert_eq!(judge.neutral_hold(), config.max_neutral_hold);
    assert_eq!(
        LivenessJudge::random(config, &mut Script(vec![])).err(),
        Some(LivenessError::Random)
    );
}
