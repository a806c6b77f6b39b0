//! The face pipeline's speed at 640×480 next to OpenCV's own (FaceDetectorYN + FaceRecognizerSF
//! on the same model files and frames), with the process's memory at each step.
//!
//! ```sh
//! cargo run --release -p face-match --example face_bench -- [--runs N] [--threads T] \
//!     [--opt off|basic|extended|all] [--arena on|off] [--mem-pattern on|off] \
//!     [--prepacking on|off] [--spinning on|off] \
//!     [--opencv .cache/bench-venv/bin/python]
//! ```
//! Two ways of ours are timed: every frame on its own with the whole frame searched (as
//! OpenCV does), and the live camera path, where each portrait is held for `SEQUENCE` frames,
//! the detector follows the face (`FaceDetector::detect_tracked`) and takes the closer look
//! the kiosk takes at a face its quality gate accepts (`FaceDetector::refined`). The OpenCV
//! side needs the venv of `benches/requirements-opencv.txt`; it runs in a child process whose
//! rounds alternate with ours (ABBA), so both see the same load. The frames (public evaluation
//! portraits, not patients) are written as PNG to a temporary folder for it.

#[path = "../benches/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use face_match::eval::ChipSimulator;
use face_match::{
    align_face, DetectedFace, Embedding, FaceDetector, FaceEmbedder, FaceMatcher, FaceTrack, Frame,
    GraphOptimisation, MatchPolicy, MatchTimings, QualityConfig, SessionTuning, Zeroizing,
    YUNET_2023MAR_FILE,
};

/// The SFace file OpenCV's pipeline runs: the Zoo's model, folded, with its PRelu as they are
/// (OpenCV has its own kernel for them; ours runs `face_match::SFACE_2021DEC_FILE`, the same
/// function).
const OPENCV_SFACE_FILE: &str = "face_recognition_sface_2021dec.onnx";

/// Frames a portrait is held for in the live camera path.
const SEQUENCE: usize = 5;

struct Args {
    runs: u32,
    threads: usize,
    tuning: SessionTuning,
    opencv_python: Option<PathBuf>,
}

fn on_off(value: &str) -> bool {
    match value {
        "on" => true,
        "off" => false,
        other => panic!("on or off, not {other}"),
    }
}

fn args() -> Args {
    let mut args = Args {
        runs: 10,
        threads: 2,
        tuning: SessionTuning::default(),
        opencv_python: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => args.runs = value().parse().expect("--runs N"),
            "--threads" => args.threads = value().parse().expect("--threads N"),
            "--opt" => {
                args.tuning.optimisation = match value().as_str() {
                    "off" => GraphOptimisation::Off,
                    "basic" => GraphOptimisation::Basic,
                    "extended" => GraphOptimisation::Extended,
                    "all" => GraphOptimisation::All,
                    other => panic!("--opt off|basic|extended|all, not {other}"),
                }
            }
            "--arena" => args.tuning.cpu_arena = on_off(&value()),
            "--mem-pattern" => args.tuning.memory_pattern = on_off(&value()),
            "--prepacking" => args.tuning.prepacking = on_off(&value()),
            "--spinning" => args.tuning.spinning = on_off(&value()),
            "--opencv" => args.opencv_python = Some(PathBuf::from(value())),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// Milliseconds per frame of detect, align and embed (sums until divided by the frames).
#[derive(Debug, Default, Clone, Copy)]
struct Stages {
    detect: f64,
    align: f64,
    embed: f64,
}

impl Stages {
    fn total(self) -> f64 {
        self.detect + self.align + self.embed
    }

    fn add(&mut self, other: Stages) {
        self.detect += other.detect;
        self.align += other.align;
        self.embed += other.embed;
    }

    fn divided(self, by: f64) -> Stages {
        Stages {
            detect: self.detect / by,
            align: self.align / by,
            embed: self.embed / by,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One round of our pipeline over every frame, each portrait held for `held` frames;
/// `detect_faces` finds the faces of a frame given the portrait's track. Returns the mean
/// milliseconds per frame and the last embedding of each portrait.
fn ours(
    mut detect_faces: impl FnMut(&Frame, &mut FaceTrack) -> Vec<DetectedFace>,
    embedder: &mut FaceEmbedder,
    frames: &[(String, Frame)],
    held: usize,
) -> (Stages, Vec<Embedding>) {
    let (mut detect, mut align, mut embed) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut embeddings = Vec::new();
    for (name, frame) in frames {
        let mut track = FaceTrack::new();
        let mut last = None;
        for _ in 0..held {
            let started = Instant::now();
            let faces = detect_faces(frame, &mut track);
            let detected = Instant::now();
            let face = faces
                .iter()
                .max_by(|a, b| a.bbox.2.total_cmp(&b.bbox.2))
                .unwrap_or_else(|| panic!("no face in {name}"));
            let crop = align_face(frame, face).unwrap_or_else(|e| panic!("{e}"));
            let aligned = Instant::now();
            last = Some(embedder.embed(&crop).unwrap_or_else(|e| panic!("{e}")));
            let embedded = Instant::now();
            detect += detected - started;
            align += aligned - detected;
            embed += embedded - aligned;
        }
        embeddings.extend(last);
    }
    let stages = Stages {
        detect: ms(detect),
        align: ms(align),
        embed: ms(embed),
    };
    (stages.divided((frames.len() * held) as f64), embeddings)
}

/// OpenCV's pipeline on the same frames, in a Python child (`benches/opencv_reference.py`)
/// that runs one round whenever asked, so that its rounds alternate with ours.
struct OpenCv {
    child: Child,
    answers: BufReader<ChildStdout>,
    version: String,
    /// Cosine of the first frame's face against every frame's face.
    scores: Vec<f64>,
    _frames: tempfile::TempDir,
}

impl OpenCv {
    /// Writes the frames as PNG, starts the child and waits for its warm-up round.
    fn start(python: &PathBuf, frames: &[(String, Frame)], threads: usize) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut paths = Vec::new();
        for (i, (_, frame)) in frames.iter().enumerate() {
            let path = dir.path().join(format!("frame{i}.png"));
            let mat = frame.as_mat().unwrap_or_else(|e| panic!("{e}"));
            face_match::image_file::write_png(&path, &mat).unwrap_or_else(|e| panic!("{e}"));
            paths.push(path);
        }
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/opencv_reference.py");
        let models = support::configured("MYNAKIOSK_MODELS_DIR");
        let mut child = Command::new(python)
            .arg(script)
            .arg(models.join(YUNET_2023MAR_FILE))
            .arg(models.join(OPENCV_SFACE_FILE))
            .arg(threads.to_string())
            .args(&paths)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let answers = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout")));
        let mut opencv = Self {
            child,
            answers,
            version: String::new(),
            scores: Vec::new(),
            _frames: dir,
        };
        let json = opencv.answer();
        opencv.version = json["opencv"].as_str().unwrap_or("?").to_string();
        opencv.scores = json["scores"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
            .unwrap_or_default();
        opencv
    }

    /// The child's next JSON line.
    fn answer(&mut self) -> serde_json::Value {
        let mut line = String::new();
        self.answers
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!line.is_empty(), "the OpenCV reference ended early");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// One timed round of OpenCV's pipeline: mean milliseconds per frame.
    fn round(&mut self) -> Stages {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("no stdin"));
        writeln!(stdin, "round").unwrap_or_else(|e| panic!("{e}"));
        let json = self.answer();
        let number = |key: &str| json[key].as_f64().unwrap_or(f64::NAN);
        Stages {
            detect: number("detect"),
            align: number("align"),
            embed: number("embed"),
        }
    }
}

impl Drop for OpenCv {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The system's load averages over 1, 5 and 15 minutes.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `field` of /proc/self/status (`VmRSS`: resident memory now, `VmHWM`: its peak).
fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Prints the resident memory after `step`.
fn memory_after(step: &str) {
    println!(
        "memory after {step}: VmRSS {}, peak {}",
        memory("VmRSS"),
        memory("VmHWM")
    );
}

fn print_stages(label: &str, stages: Stages) {
    println!(
        "{label}: detect {:.2} ms, align {:.3} ms, embed {:.2} ms, total {:.2} ms per frame",
        stages.detect,
        stages.align,
        stages.embed,
        stages.total()
    );
}

/// The portrait that plays the card holder in the chip decision.
fn chip_portrait(frames: &[(String, Frame)]) -> &Frame {
    frames
        .iter()
        .find(|(name, _)| name.starts_with("grace_hopper"))
        .map(|(_, frame)| frame)
        .unwrap_or_else(|| panic!("grace_hopper portrait missing"))
}

/// The holder's portrait as a card-like chip photo (~160 px greyscale JPEG 2000).
fn chip_photo(frames: &[(String, Frame)]) -> Zeroizing<Vec<u8>> {
    ChipSimulator::card_like()
        .and_then(|sim| sim.encode(chip_portrait(frames)))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The steps of `timings` in ms, divided by `runs`: detect, closer look, align, embed.
fn steps(timings: MatchTimings, runs: f64) -> [f64; 4] {
    [timings.detect, timings.refine, timings.align, timings.embed].map(|d| ms(d) / runs)
}

/// Sums two timings step by step.
fn summed(a: MatchTimings, b: MatchTimings) -> MatchTimings {
    MatchTimings {
        chip: a.chip + b.chip,
        detect: a.detect + b.detect,
        refine: a.refine + b.refine,
        align: a.align + b.align,
        embed: a.embed + b.embed,
        attempt: a.attempt + b.attempt,
    }
}

/// The chip decision as the kiosk makes it (`FaceMatcher::compare`: the chip photo decoded,
/// detected, looked at closer and embedded, then one live frame searched whole, gated, looked
/// at closer and embedded), `runs` times after a warm-up, with the time of each step: the
/// chip photo's from a session started on it alone, the frame's from the attempt.
fn chip_decision(matcher: &mut FaceMatcher, chip: &Zeroizing<Vec<u8>>, live: &Frame, runs: u32) {
    let (mut decision, mut photo_total) = (Duration::ZERO, Duration::ZERO);
    let (mut photo, mut frame) = (MatchTimings::default(), MatchTimings::default());
    for run in 0..=runs {
        let live = live.fit_into(640, 480).unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let outcome = matcher
            .compare(chip.clone(), [Ok(live)], |_, _| {})
            .unwrap_or_else(|e| panic!("{e}"));
        let elapsed = started.elapsed();
        assert_eq!(outcome.decision, face_match::Decision::Match);
        let started = Instant::now();
        drop(
            matcher
                .session(chip.clone())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let photo_elapsed = started.elapsed();
        if run > 0 {
            decision += elapsed;
            photo_total += photo_elapsed;
            photo = summed(photo, matcher.timings());
            frame = summed(frame, outcome.timings);
        }
    }
    let runs = f64::from(runs);
    let [detect, refine, align, embed] = steps(photo, runs);
    println!(
        "chip photo: {:.2} ms: JP2 decode and the rest {:.2} ms, detect with retries {detect:.2} \
         ms, closer look {refine:.2} ms, align {align:.3} ms, embed {embed:.2} ms",
        ms(photo_total) / runs,
        ms(photo_total) / runs - detect - refine - align - embed,
    );
    let [detect, refine, align, embed] = steps(frame, runs);
    println!(
        "live frame: {:.2} ms: detect {detect:.2} ms, closer look {refine:.2} ms, align \
         {align:.3} ms, embed {embed:.2} ms, gate and the rest {:.2} ms",
        ms(frame.attempt) / runs,
        ms(frame.attempt) / runs - detect - refine - align - embed,
    );
    println!(
        "decision   (chip JP2 {} B decode+detect+embed, one frame gated+embedded): {:.2} ms",
        chip.len(),
        ms(decision) / runs
    );
}

fn main() {
    let args = args();
    memory_after("start");
    let runtime = support::runtime(args.threads).with_tuning(args.tuning);
    memory_after("loading ONNX Runtime");
    // The models first, then the frames, as in the kiosk: models at start, frames later.
    let mut detector = support::detector(&runtime);
    memory_after("loading YuNet");
    let mut embedder = support::embedder(&runtime);
    memory_after("loading SFace");
    let frames = support::portrait_frames();
    memory_after("decoding the frames");
    println!(
        "mynakiosk: {} frames 640×480, {} runs, {} threads, {:?}",
        frames.len(),
        args.runs,
        args.threads,
        args.tuning
    );
    let mut opencv = args
        .opencv_python
        .as_ref()
        .map(|python| OpenCv::start(python, &frames, args.threads));
    println!("load average before the rounds: {}", load_average());
    let whole_frame = |detector: &mut FaceDetector, embedder: &mut FaceEmbedder| {
        ours(
            |frame, _| detector.detect(frame).unwrap_or_else(|e| panic!("{e}")),
            embedder,
            &frames,
            1,
        )
    };
    let live_path = |detector: &mut FaceDetector, embedder: &mut FaceEmbedder| {
        ours(
            |frame, track| {
                // As the kiosk's gate does for a face it accepts: the closer look before
                // alignment (`FaceMatcher::check_followed_frame`), timed with the detection.
                let faces = detector
                    .detect_tracked(frame, track)
                    .unwrap_or_else(|e| panic!("{e}"));
                faces
                    .into_iter()
                    .map(|face| {
                        detector
                            .refined(frame, face)
                            .unwrap_or_else(|e| panic!("{e}"))
                    })
                    .collect()
            },
            embedder,
            &frames,
            SEQUENCE,
        )
    };
    // A warm-up round of each, then the timed rounds, ours and OpenCV's in turn (ABBA), so
    // that a change of the machine's load weighs on both sides alike.
    let (_, embeddings) = whole_frame(&mut detector, &mut embedder);
    let (_, live_embeddings) = live_path(&mut detector, &mut embedder);
    let (mut stages, mut live, mut cv) = (Stages::default(), Stages::default(), Stages::default());
    for run in 0..args.runs {
        let opencv_first = run % 2 == 1;
        if opencv_first {
            cv.add(opencv.as_mut().map(OpenCv::round).unwrap_or_default());
        }
        stages.add(whole_frame(&mut detector, &mut embedder).0);
        live.add(live_path(&mut detector, &mut embedder).0);
        if !opencv_first {
            cv.add(opencv.as_mut().map(OpenCv::round).unwrap_or_default());
        }
    }
    let runs = f64::from(args.runs);
    let (stages, live, cv) = (stages.divided(runs), live.divided(runs), cv.divided(runs));
    println!("load average after the rounds: {}", load_average());
    print_stages("mynakiosk, whole frame   ", stages);
    print_stages(
        &format!("mynakiosk, live ({SEQUENCE} frames each, face followed, closer look)"),
        live,
    );
    let agreement = embeddings
        .iter()
        .zip(&live_embeddings)
        .map(|(a, b)| a.cosine(b))
        .fold(1.0f32, f32::min);
    println!("live vs whole frame: lowest cosine of the same portrait's embeddings {agreement:.4}");
    if let Some(opencv) = &opencv {
        print_stages(
            &format!(
                "OpenCV {} FaceDetectorYN+FaceRecognizerSF (rounds alternated with ours)",
                opencv.version
            ),
            cv,
        );
        for (label, ours) in [("whole frame", stages), ("live", live)] {
            println!(
                "ratio mynakiosk {label} / OpenCV: detect {:.2}, embed {:.2}, total {:.2}",
                ours.detect / cv.detect,
                ours.embed / cv.embed,
                ours.total() / cv.total()
            );
        }
        let worst = embeddings
            .iter()
            .zip(&opencv.scores)
            .map(|(e, &s)| (f64::from(embeddings[0].cosine(e)) - s).abs())
            .fold(0.0, f64::max);
        println!(
            "score agreement: largest |cosine ours − cosine OpenCV| over the frames {worst:.4}"
        );
    }
    drop(opencv);
    memory_after("timing ours");

    let chip = chip_photo(&frames);
    let mut matcher = FaceMatcher::new(
        detector,
        embedder,
        QualityConfig::default(),
        MatchPolicy::default(),
    );
    chip_decision(&mut matcher, &chip, chip_portrait(&frames), args.runs);
    memory_after("the chip decisions");
    println!("peak memory (VmHWM): {}", memory("VmHWM"));
}
