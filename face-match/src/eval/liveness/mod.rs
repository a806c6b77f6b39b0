//! Liveness evaluation: seeded presentation attacks with flat pictures and synthesised genuine
//! head turns, played frame by frame (15 fps) through [`LivenessJudge`] with the real detector.
//! Reports APCER per attack kind and challenge, and BPCER on the genuine sequences.
//!
//! - **Attacks** (a picture of a frontal face from the evaluation folder, printed or on a
//!   screen, held by hand with jitter): held still, brought closer, moved farther, tilted about
//!   its vertical axis (with some nod), slid sideways, rotated in the image plane; each with a
//!   random camera distance, blur and sensor noise. Each is judged against every head-move
//!   challenge, as if the attacker did this move whatever the prompt.
//! - **Genuine** (no real head-turn clips exist here): a subject's most frontal image, then one
//!   of their images that the detector measures turned by at least [`GENUINE_MIN_YAW`], then
//!   the frontal one again, faces placed at the same centre and size; and the mirror image of
//!   that (the other direction). The poses are real 3-D head poses, but the turn is two steps
//!   rather than a motion and the pairs are chosen by the detector's own yaw, so BPCER covers
//!   the flat-face check, tracking, timing and noise, not people who turn too little.
//! - **Replay**: a genuine sequence shown on a screen held in front of the camera. It answers
//!   its challenge like the person did; this is the known limit of active liveness.

mod scene;

use std::path::{Path, PathBuf};
use std::time::Duration;

use opencv::core::Mat;
use opencv::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{scan, EvalError};
use crate::camera::is_image;
use crate::detector::{DetectedFace, FaceDetector};
use crate::frame::{Frame, FrameError};
use crate::liveness::{LivenessChallenge, LivenessConfig, LivenessJudge, LivenessProgress};
use crate::pose::HeadPose;
use scene::{mirrored, render, Capture, Picture, Placement, FRAME_H, FRAME_W};

/// Smallest yaw change (nose offset in eye distances) of an image pair used as a genuine turn;
/// the judge's default completes a turn at 0.3.
pub const GENUINE_MIN_YAW: f32 = 0.35;
/// |yaw| at most this is a frontal picture (attack source or start of a genuine turn).
const FRONTAL_YAW: f32 = 0.1;
/// Frame interval (15 fps).
const STEP: Duration = Duration::from_nanos(66_666_667);

/// How an attack moves its picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    Still,
    Closer,
    Farther,
    Tilted,
    Slid,
    Rolled,
    /// A genuine head turn replayed on a screen (the known limit).
    Replay,
}

impl AttackKind {
    /// The attacks with a still picture.
    pub const PHOTO: [Self; 6] = [
        Self::Still,
        Self::Closer,
        Self::Farther,
        Self::Tilted,
        Self::Slid,
        Self::Rolled,
    ];
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LivenessEvalConfig {
    /// The evaluation folder with `orl/`, `bbt/` (identity folders) and `portraits/`.
    pub data: PathBuf,
    pub seed: u64,
    /// Attack sequences of each kind.
    pub per_kind: usize,
    /// Each genuine image pair (and its mirror image) is played this many times, with its own
    /// timing, distance, blur and noise.
    pub genuine_variants: usize,
    pub judge: LivenessConfig,
}

/// Trials and passes of one attack kind against one challenge.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub trials: u32,
    pub passed: u32,
}

impl Tally {
    fn add(&mut self, passed: bool) {
        self.trials += 1;
        self.passed += u32::from(passed);
    }

    /// Passed over trials, in percent (0 without trials).
    pub fn percent(&self) -> f64 {
        100.0 * f64::from(self.passed) / f64::from(self.trials.max(1))
    }
}

/// One attack kind's results: per challenge in [`LivenessChallenge::HEAD_MOVES`] order.
#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    pub kind: AttackKind,
    pub sequences: u32,
    pub per_challenge: [Tally; 3],
}

/// The evaluation's results.
#[derive(Debug, Clone, Serialize)]
pub struct LivenessEvalReport {
    pub seed: u64,
    /// The challenges the judge configuration offers.
    pub offered: Vec<String>,
    pub attacks: Vec<AttackReport>,
    /// Photo attacks (not replays) against the offered challenges.
    pub photo_apcer: Tally,
    /// Genuine sequences judged against the challenge they answer; `passed` are accepted.
    pub genuine: Tally,
    /// Why genuine sequences were refused, with counts.
    pub genuine_refusals: Vec<(String, u32)>,
}

impl LivenessEvalReport {
    /// BPCER in percent.
    pub fn bpcer(&self) -> f64 {
        100.0 - self.genuine.percent()
    }
}

/// A genuine turn: frontal and turned pictures of one subject, and the challenge it answers.
struct Turn {
    frontal: usize,
    turned: usize,
    challenge: LivenessChallenge,
}

/// The evaluation's pictures, which of them are frontal attack sources, and the genuine turns.
struct Loaded {
    pictures: Vec<Picture>,
    sources: Vec<usize>,
    turns: Vec<Turn>,
}

/// Runs the evaluation.
pub fn evaluate(
    detector: &mut FaceDetector,
    config: &LivenessEvalConfig,
) -> Result<LivenessEvalReport, EvalError> {
    config.judge.validate()?;
    let Loaded {
        pictures,
        sources,
        turns,
    } = load(detector, &config.data)?;
    if sources.is_empty() || turns.is_empty() {
        return Err(EvalError::TooFewPairs(
            "the liveness evaluation (frontal pictures and turned poses)",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut eval = Run {
        detector,
        judge: &config.judge,
    };
    let mut attacks = Vec::new();
    for kind in AttackKind::PHOTO {
        let mut report = AttackReport {
            kind,
            sequences: 0,
            per_challenge: Default::default(),
        };
        for _ in 0..config.per_kind {
            let picture = &pictures[sources[pick(&mut rng, sources.len())]];
            let script = attack_script(kind, &mut rng);
            let capture = capture(&mut rng);
            let frames = |i: usize, rng: &mut ChaCha8Rng| {
                render(picture, &jittered(script.at(i), rng), capture, rng)
            };
            let outcomes = eval.play(&LivenessChallenge::HEAD_MOVES, &frames, &mut rng)?;
            for (tally, outcome) in report.per_challenge.iter_mut().zip(outcomes) {
                tally.add(outcome.is_ok());
            }
            report.sequences += 1;
        }
        attacks.push(report);
    }
    let mut genuine = Tally::default();
    let mut refusals: Vec<(String, u32)> = Vec::new();
    let mut replay = AttackReport {
        kind: AttackKind::Replay,
        sequences: 0,
        per_challenge: Default::default(),
    };
    let variants = turns
        .iter()
        .cycle()
        .take(turns.len() * config.genuine_variants);
    for (n, turn) in variants.enumerate() {
        let script = turn_script(&mut rng);
        let capture = capture(&mut rng);
        let frames = |i: usize, rng: &mut ChaCha8Rng| {
            let (turned, placement) = script.at_turn(i);
            let picture = &pictures[if turned { turn.turned } else { turn.frontal }];
            render(picture, &jittered(placement, rng), capture, rng)
        };
        let outcome = eval.play(&[turn.challenge], &frames, &mut rng)?.remove(0);
        genuine.add(outcome.is_ok());
        if let Err(reason) = outcome {
            match refusals.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, count)) => *count += 1,
                None => refusals.push((reason, 1)),
            }
        }
        // Every other genuine turn is also replayed on a screen, while attacks are wanted.
        if n % 2 == 0 && (replay.sequences as usize) < config.per_kind {
            let screen = Placement {
                scale: 0.8 + 0.2 * unit(&mut rng),
                tilt: 20.0 * unit(&mut rng) - 10.0,
                ..Placement::frontal(1.5 + unit(&mut rng))
            };
            let capture = self::capture(&mut rng);
            let on_screen = |i: usize, rng: &mut ChaCha8Rng| {
                let genuine = frames(i, rng)?;
                let mut image = Mat::default();
                genuine.as_mat()?.copy_to(&mut image)?;
                let shown = Picture {
                    image,
                    face: centred_face(),
                };
                render(&shown, &jittered(screen, rng), capture, rng)
            };
            let outcome = eval.play(&[turn.challenge], on_screen, &mut rng)?.remove(0);
            let column = LivenessChallenge::HEAD_MOVES
                .iter()
                .position(|c| *c == turn.challenge)
                .unwrap_or(0);
            replay.per_challenge[column].add(outcome.is_ok());
            replay.sequences += 1;
        }
    }
    refusals.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let offered = &config.judge.challenges;
    let mut photo_apcer = Tally::default();
    for report in &attacks {
        for (challenge, tally) in LivenessChallenge::HEAD_MOVES
            .iter()
            .zip(&report.per_challenge)
        {
            if offered.contains(challenge) {
                photo_apcer.trials += tally.trials;
                photo_apcer.passed += tally.passed;
            }
        }
    }
    attacks.push(replay);
    Ok(LivenessEvalReport {
        seed: config.seed,
        offered: offered.iter().map(ToString::to_string).collect(),
        attacks,
        photo_apcer,
        genuine,
        genuine_refusals: refusals,
    })
}

/// The detector and judge settings shared by every sequence.
struct Run<'a> {
    detector: &'a mut FaceDetector,
    judge: &'a LivenessConfig,
}

impl Run<'_> {
    /// Plays frames (`frame(i)`) to one judge per challenge until every judge has decided or
    /// the judge's total time limit has passed. `Ok` for a pass, else the failure's message.
    fn play(
        &mut self,
        challenges: &[LivenessChallenge],
        mut frame: impl FnMut(usize, &mut ChaCha8Rng) -> Result<Frame, FrameError>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<Result<(), String>>, EvalError> {
        let mut judges = challenges
            .iter()
            .map(|&c| LivenessJudge::new(c, self.judge.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut outcomes: Vec<Option<Result<(), String>>> = vec![None; judges.len()];
        let last = (self.judge.max_total.as_secs_f64() / STEP.as_secs_f64()) as usize + 2;
        for i in 0..=last {
            let frame = frame(i, rng)?;
            let faces = self.detector.detect(&frame)?;
            for (judge, outcome) in judges.iter_mut().zip(&mut outcomes) {
                if outcome.is_none() {
                    if let LivenessProgress::Done(result) =
                        judge.observe(STEP * i as u32, &faces, &frame)
                    {
                        *outcome = Some(match result.reason {
                            None => Ok(()),
                            Some(reason) => Err(reason.to_string()),
                        });
                    }
                }
            }
            if outcomes.iter().all(Option::is_some) {
                break;
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err("undecided".into())))
            .collect())
    }
}

/// A picture's placement over the frames of a sequence: neutral, a move to `target`, a hold,
/// the move back, then neutral until the end.
struct Script {
    base: Placement,
    target: Placement,
    neutral: usize,
    ramp: usize,
    hold: usize,
}

impl Script {
    /// How far along the move frame `i` is (0 neutral, 1 at the target).
    fn amount(&self, i: usize) -> f64 {
        let smooth = |x: f64| x * x * (3.0 - 2.0 * x);
        let ramp = self.ramp as f64;
        let i = i as f64 - self.neutral as f64;
        let back = i - ramp - self.hold as f64;
        if i <= 0.0 {
            0.0
        } else if i < ramp {
            smooth(i / ramp)
        } else if back <= 0.0 {
            1.0
        } else {
            1.0 - smooth((back / ramp).min(1.0))
        }
    }

    fn at(&self, i: usize) -> Placement {
        self.base.towards(self.target, self.amount(i))
    }

    /// For a genuine turn: whether frame `i` shows the turned picture, and the placement.
    fn at_turn(&self, i: usize) -> (bool, Placement) {
        (self.amount(i) >= 0.5, self.base)
    }
}

fn attack_script(kind: AttackKind, rng: &mut impl RngCore) -> Script {
    let base = Placement::frontal(1.2 + 1.8 * unit(rng));
    let sign = if rng.next_u32().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    };
    let target = match kind {
        AttackKind::Still | AttackKind::Replay => base,
        AttackKind::Closer => Placement {
            scale: 1.35 + 0.45 * unit(rng),
            ..base
        },
        AttackKind::Farther => Placement {
            scale: 0.55 + 0.2 * unit(rng),
            ..base
        },
        AttackKind::Tilted => Placement {
            tilt: sign * (25.0 + 40.0 * unit(rng)),
            nod: 30.0 * unit(rng) - 15.0,
            ..base
        },
        AttackKind::Slid => Placement {
            shift: (sign * (0.6 + 0.8 * unit(rng)), 0.3 * unit(rng)),
            ..base
        },
        AttackKind::Rolled => Placement {
            roll: sign * (15.0 + 25.0 * unit(rng)),
            ..base
        },
    };
    Script {
        base,
        target,
        neutral: 9 + pick(rng, 7),
        ramp: 8 + pick(rng, 11),
        hold: 3 + pick(rng, 7),
    }
}

/// A genuine turn's timing: the turned picture shows for `hold` frames and more.
fn turn_script(rng: &mut impl RngCore) -> Script {
    let base = Placement::frontal(1.2 + 1.8 * unit(rng));
    Script {
        base,
        target: base,
        neutral: 9 + pick(rng, 7),
        ramp: 2 + pick(rng, 3),
        hold: 3 + pick(rng, 5),
    }
}

/// Blur up to 1.5 px (none in a third of the sequences) and noise of ±1–4 levels.
fn capture(rng: &mut impl RngCore) -> Capture {
    Capture {
        blur: if pick(rng, 3) == 0 {
            0.0
        } else {
            1.5 * unit(rng)
        },
        noise: 1 + pick(rng, 4) as u8,
    }
}

/// `placement` with a hand's or head's tremor: ±1 % of a face size, ±0.5°, ±0.5 % scale.
fn jittered(placement: Placement, rng: &mut impl RngCore) -> Placement {
    let mut wobble = |amplitude: f64| amplitude * (2.0 * unit(rng) - 1.0);
    Placement {
        scale: placement.scale * (1.0 + wobble(0.005)),
        roll: placement.roll + wobble(0.5),
        shift: (
            placement.shift.0 + wobble(0.01),
            placement.shift.1 + wobble(0.01),
        ),
        ..placement
    }
}

/// The face box of a rendered frame (centred, `FACE_PX` at scale 1) for showing it on a screen.
fn centred_face() -> DetectedFace {
    let side = scene::FACE_PX as f32;
    let (cx, cy) = (FRAME_W as f32 / 2.0, FRAME_H as f32 / 2.0);
    DetectedFace {
        bbox: (cx - side / 2.0, cy - side / 2.0, side, side),
        landmarks: [(cx, cy); 5],
        score: 1.0,
    }
}

fn unit(rng: &mut impl RngCore) -> f64 {
    f64::from(rng.next_u32()) / (f64::from(u32::MAX) + 1.0)
}

fn pick(rng: &mut impl RngCore, n: usize) -> usize {
    (unit(rng) * n as f64) as usize
}

/// The pictures with exactly one face (and their mirror images), the most frontal one of each
/// identity as an attack source, and the genuine turns (each also mirrored).
fn load(detector: &mut FaceDetector, data: &Path) -> Result<Loaded, EvalError> {
    let mut pictures = Vec::new();
    let (mut sources, mut turns) = (Vec::new(), Vec::new());
    let mut detect = |image: &Mat| -> Result<Option<DetectedFace>, EvalError> {
        let faces = detector.detect(&Frame::from_mat(image)?)?;
        Ok(match faces[..] {
            [face] => HeadPose::of(&face).map(|_| face),
            _ => None,
        })
    };
    let yaw = |face: &DetectedFace| HeadPose::of(face).map_or(f32::NAN, |pose| pose.yaw);
    for set in ["orl", "bbt"] {
        let samples = scan(&data.join(set))?;
        for identity in samples.chunk_by(|a, b| a.identity == b.identity) {
            let mut seen = [Vec::new(), Vec::new()];
            for sample in identity {
                let image = read(&sample.path)?;
                if let Some(face) = detect(&image)? {
                    let flipped = Picture {
                        image: mirrored(&image)?,
                        face: mirrored_face(&face, image.cols() as f32),
                    };
                    for (seen, picture) in seen.iter_mut().zip([Picture { image, face }, flipped]) {
                        seen.push((pictures.len(), yaw(&picture.face)));
                        pictures.push(picture);
                    }
                }
            }
            for (flip, seen) in seen.iter().enumerate() {
                let Some(&(frontal, yaw0)) = seen
                    .iter()
                    .filter(|(_, yaw)| yaw.abs() <= FRONTAL_YAW)
                    .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                else {
                    continue;
                };
                if flip == 0 {
                    sources.push(frontal);
                }
                for &(turned, yaw) in seen {
                    if (yaw - yaw0).abs() >= GENUINE_MIN_YAW {
                        let challenge = if yaw > yaw0 {
                            LivenessChallenge::TurnLeft
                        } else {
                            LivenessChallenge::TurnRight
                        };
                        turns.push(Turn {
                            frontal,
                            turned,
                            challenge,
                        });
                    }
                }
            }
        }
    }
    let portraits = data.join("portraits");
    let folder_error = |source| EvalError::Folder {
        path: portraits.clone(),
        source,
    };
    for entry in std::fs::read_dir(&portraits).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        if is_image(&path) {
            let image = read(&path)?;
            if let Some(face) = detect(&image)?.filter(|f| yaw(f).abs() <= FRONTAL_YAW) {
                sources.push(pictures.len());
                pictures.push(Picture { image, face });
            }
        }
    }
    Ok(Loaded {
        pictures,
        sources,
        turns,
    })
}

/// `face` as found in the mirror image of a picture `width` pixels wide.
fn mirrored_face(face: &DetectedFace, width: f32) -> DetectedFace {
    let flip = |(x, y): (f32, f32)| (width - x, y);
    let [right_eye, left_eye, nose, right_mouth, left_mouth] = face.landmarks.map(flip);
    let (x, y, w, h) = face.bbox;
    DetectedFace {
        bbox: (width - x - w, y, w, h),
        landmarks: [left_eye, right_eye, nose, left_mouth, right_mouth],
        score: face.score,
    }
}

/// An evaluation image as 8-bit BGR (public evaluation pictures, not patients'), read with
/// the same caps as any image file ([`crate::decode_image_file`]).
fn read(path: &Path) -> Result<Mat, EvalError> {
    let frame = crate::decode_image_file(path)?;
    Ok(frame.as_mat()?.try_clone().map_err(FrameError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_go_out_hold_and_come_back() {
        let base = Placement::frontal(2.0);
        let script = Script {
            base,
            target: Placement { scale: 2.0, ..base },
            neutral: 2,
            ramp: 4,
            hold: 3,
        };
        let amounts: Vec<f64> = (0..16).map(|i| script.amount(i)).collect();
        assert_eq!(&amounts[..3], &[0.0; 3]);
        assert!(amounts[3..6].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(&amounts[6..10], &[1.0; 4]);
        assert!(amounts[10..13].windows(2).all(|w| w[0] > w[1]));
        assert_eq!(&amounts[13..], &[0.0; 3]);
        assert_eq!(script.at(8).scale, 2.0);
        assert_eq!(script.at_turn(8), (true, base));
        assert_eq!(script.at_turn(1), (false, base));
    }

    #[test]
    fn random_draws_stay_in_range_and_repeat_with_the_seed() {
        let draws = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..200).map(|_| pick(&mut rng, 7)).collect::<Vec<_>>()
        };
        assert!(draws(1).iter().all(|&n| n < 7));
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
        let mut tally = Tally::default();
        tally.add(true);
        tally.add(false);
        assert_eq!((tally.trials, tally.passed, tally.percent()), (2, 1, 50.0));
    }
}
