//! Reading 照合番号B from synthetic card-front photos in held-out typefaces and the held-out
//! layout family: the accuracy floor of the reader under the submit policy, the rejection of
//! cards made unreadable by design, and the `mynakiosk ocr` command.

use card_front::{
    back_frames, first_card_alone, random_identity, read_card_front_frames, render_card,
    synthetic_frames, turned_frames, two_cards_photo, unreadable_photo, CardFrontReader, Date,
    Defect, OcrError, ReadQuality, SubmitPolicy, MAX_FRAMES,
};
use mynakiosk_tests::binary;
use opencv::core::{self, Mat, Scalar};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Synthetic set of the floor test: a fixed seed used for nothing else (development used
/// other seeds; the benchmark in card-front/README.md uses a seed never used before).
const FLOOR_SEED: u64 = 8_675_309;
const FLOOR_CARDS: u32 = 40;
/// Cards per defect of the unreadable set (its own seed).
const UNREADABLE_SEED: u64 = 31_415;
const UNREADABLE_CARDS: u32 = 10;

fn today() -> Date {
    Date::new(2026, 11, 22).expect("a date")
}

fn reader() -> CardFrontReader {
    CardFrontReader::new(
        mynakiosk_tests::face::runtime().environment(),
        &card_front::models_dir(),
    )
    .expect("reader")
}

/// Exact and wrong submissions of the floor set, reading up to `frames` frames of each card.
fn floor_run(frames: usize) -> (u32, u32) {
    let policy = SubmitPolicy::default();
    let reader = reader();
    let (mut exact, mut wrong) = (0, 0);
    for i in 0..FLOOR_CARDS {
        let (id, shots) = synthetic_frames(FLOOR_SEED, i, today()).expect("card");
        let images = shots.take(frames).map(|s| s.expect("photo").image);
        if let Ok(read) = read_card_front_frames(&reader, images, today(), &policy) {
            if policy.is_sure(ReadQuality::of(Ok(&read))) {
                if read.pin_b() == id.pin_b() {
                    exact += 1;
                } else {
                    wrong += 1;
                }
            }
        }
    }
    eprintln!("{frames} frame(s): {exact} of {FLOOR_CARDS} exact, {wrong} wrong");
    (exact, wrong)
}

#[test]
fn reader_meets_the_single_frame_accuracy_floor_and_submits_nothing_wrong() {
    let (exact, wrong) = floor_run(1);
    assert_eq!(wrong, 0, "wrong 照合番号B would have reached the card");
    // Measured 36 of 40 on this set (this test) under the submit rule: 0.95 for a read that
    // one frame gave and its second look read again alike, 0.99 without; 31 of 40 with
    // PP-OCRv4's recogniser (before session 19), 21 of 40 before the second look
    // (card-front/README.md, "The submit rule").
    assert!(exact >= 36, "exact reads {exact} of {FLOOR_CARDS}");
}

#[test]
fn multi_frame_reader_meets_the_accuracy_floor_and_submits_nothing_wrong() {
    let (exact, wrong) = floor_run(MAX_FRAMES);
    assert_eq!(wrong, 0, "wrong 照合番号B would have reached the card");
    // Measured 40 of 40 on this set (this test).
    assert!(exact >= FLOOR_CARDS, "exact reads {exact} of {FLOOR_CARDS}");
}

#[test]
fn cards_made_unreadable_by_design_are_all_rejected() {
    let policy = SubmitPolicy::default();
    let reader = reader();
    let today = today();
    for defect in Defect::ALL {
        for i in 0..UNREADABLE_CARDS {
            let (_, shot) = unreadable_photo(defect, UNREADABLE_SEED, i, today).expect("photo");
            let read = reader.read(&shot.image, today);
            assert!(
                !read.is_ok_and(|r| r.min_confidence() >= policy.min_confidence),
                "{defect:?} card {i} would have been submitted"
            );
        }
    }
}

/// A flat scan of a clean card on a dark mat.
fn write_scan(dir: &Path, seed: u64) -> (String, std::path::PathBuf) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let id = random_identity(&mut rng, Date::today());
    let card = render_card(&id, &mut rng, None).expect("render");
    let mut scan = Mat::default();
    let dark = Scalar::new(40.0, 30.0, 20.0, 0.0);
    core::copy_make_border(
        &card,
        &mut scan,
        60,
        60,
        80,
        80,
        core::BORDER_CONSTANT,
        dark,
    )
    .expect("border");
    let path = dir.join(format!("scan-{seed}.png"));
    face_match::image_file::write_png(&path, &scan).expect("write png");
    (id.pin_b().to_string(), path)
}

#[test]
fn ocr_command_prints_the_digits_with_confidences() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pin_b, path) = write_scan(dir.path(), 42);
    let out = binary::command()
        .args(["ocr".as_ref(), "--json".as_ref(), path.as_os_str()])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["pin_b"], pin_b.as_str());
    let confidence = v["confidence"].as_array().expect("confidence");
    assert_eq!(confidence.len(), 14);
    assert!(confidence
        .iter()
        .all(|c| c.as_f64().is_some_and(|c| (0.95..=1.0).contains(&c))));
    // One photo: a digit under 0.99 is accepted only after a second look agreed.
    let least = confidence
        .iter()
        .filter_map(|c| c.as_f64())
        .fold(1.0, f64::min);
    assert!(least >= 0.99 || v["second_look"] == true, "{v}");

    let out = binary::command()
        .args(["ocr".as_ref(), path.as_os_str()])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text.lines().next(), Some(pin_b.as_str()));
    assert!(text
        .lines()
        .nth(1)
        .is_some_and(|l| l.starts_with("confidence ")));
}

#[test]
fn ocr_command_rejects_photos_without_a_card_and_non_images() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("wall.png");
    let wall =
        Mat::new_rows_cols_with_default(480, 640, core::CV_8UC3, Scalar::all(90.0)).expect("mat");
    face_match::image_file::write_png(&empty, &wall).expect("write png");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a photo").expect("write");
    for (path, reason) in [
        (&empty, "no card found"),
        (&text, "is not a readable image"),
    ] {
        assert_ocr_rejects(path, reason);
    }
}

/// `mynakiosk ocr --json PATH` exits 2 and says `reason` in its `rejected` field.
fn assert_ocr_rejects(path: &Path, reason: &str) {
    let out = binary::command()
        .args(["ocr".as_ref(), "--json".as_ref(), path.as_os_str()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        v["rejected"].as_str().is_some_and(|r| r.contains(reason)),
        "{v}"
    );
}

#[test]
fn ocr_command_reads_several_photos_as_successive_frames() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pin_b, scan) = write_scan(dir.path(), 7);
    let tray = dir.path().join("tray.png");
    let empty =
        Mat::new_rows_cols_with_default(480, 640, core::CV_8UC3, Scalar::all(90.0)).expect("mat");
    face_match::image_file::write_png(&tray, &empty).expect("write png");
    let ocr = |paths: &[&Path]| {
        let mut command = binary::command();
        command.args(["ocr", "--json"]).args(paths);
        let out = command.output().expect("run");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        (out.status.code(), v)
    };
    // The first frame shows the empty tray; the card placed in the next one is read.
    let (code, v) = ocr(&[&tray]);
    assert_eq!(code, Some(2), "{v}");
    let (code, v) = ocr(&[&tray, &scan]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["pin_b"], pin_b.as_str());
    // A photo that is not an image is reported, not skipped.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a photo").expect("write");
    let (code, v) = ocr(&[&tray, &text, &scan]);
    assert_eq!(code, Some(2));
    assert!(
        v["rejected"]
            .as_str()
            .is_some_and(|r| r.contains("notes.txt is not a readable image")),
        "{v}"
    );
    // At most MAX_FRAMES photos: more is a usage error.
    let four = [&scan; MAX_FRAMES + 1].map(|p| p.as_path());
    let out = binary::command()
        .args(["ocr"])
        .args(four)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ocr"));
}

/// Set of the placement tests (turned cards, two cards in one photo): used for nothing else.
const PLACEMENT_SEED: u64 = 5_550_123;

#[test]
fn cards_upside_down_or_on_their_side_are_read() {
    let policy = SubmitPolicy::default();
    let reader = reader();
    for i in 0..8 {
        let turns = (i % 4) as u8;
        let (id, shots) = turned_frames(PLACEMENT_SEED, i, today(), turns).expect("card");
        let images = shots.take(MAX_FRAMES).map(|s| s.expect("photo").image);
        let read = read_card_front_frames(&reader, images, today(), &policy);
        eprintln!(
            "card {i}, {turns} quarter turns: {:?}",
            read.as_ref().map(|r| r.min_confidence())
        );
        let read = read.unwrap_or_else(|e| panic!("card {i} at {turns} quarter turns: {e}"));
        assert!(
            policy.is_sure(ReadQuality::of(Ok(&read))),
            "card {i}: {read:?}"
        );
        assert_eq!(
            read.pin_b(),
            id.pin_b(),
            "card {i} at {turns} quarter turns"
        );
    }
}

#[test]
fn two_cards_in_one_photo_are_rejected_as_more_than_one_card() {
    let reader = reader();
    let mut told = 0;
    for i in 0..6 {
        let ([first, _], shot) = two_cards_photo(PLACEMENT_SEED, i, today()).expect("photo");
        let both = reader.read(&shot.image, today());
        let alone = reader.read(&first_card_alone(&shot).expect("left half"), today());
        eprintln!(
            "pair {i}: {:?}, the first card alone: {:?}",
            both.as_ref().map(|r| r.min_confidence()),
            alone.as_ref().map(|r| r.min_confidence())
        );
        assert!(both.is_err(), "pair {i} was read");
        if alone.is_ok_and(|r| r.pin_b() == first.pin_b()) {
            // Read alone, rejected beside another card: the second card was the reason.
            assert_eq!(both.unwrap_err(), OcrError::SeveralCards, "pair {i}");
            told += 1;
        }
    }
    // Measured: 5 of the 6 first cards read alone (this test).
    assert!(told >= 5, "{told} of 6 pairs had a first card read alone");

    // `mynakiosk ocr` says why.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("two-cards.png");
    let (_, shot) = two_cards_photo(PLACEMENT_SEED, 0, today()).expect("photo");
    face_match::image_file::write_png(&path, &shot.image).expect("write png");
    assert_ocr_rejects(&path, "more than one card front");
}

#[test]
fn a_card_back_is_told_either_way_up_and_its_number_never_comes_out() {
    let reader = reader();
    let policy = SubmitPolicy::default();
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..4u32 {
        let (number, frames) = back_frames(PLACEMENT_SEED, i, today(), i as u8).expect("back");
        let shots: Vec<Mat> = frames
            .take(MAX_FRAMES)
            .map(|f| f.expect("photo").image)
            .collect();
        // As the kiosk reads a stream of frames: told as a back, never read.
        let read = read_card_front_frames(&reader, shots.iter().cloned(), today(), &policy);
        assert_eq!(read.unwrap_err(), OcrError::CardBack, "back {i}");
        // `mynakiosk ocr` says so, at the most verbose logging, and prints no part of the number.
        let paths: Vec<_> = shots
            .iter()
            .enumerate()
            .map(|(k, shot)| {
                let path = dir.path().join(format!("back-{i}-{k}.png"));
                face_match::image_file::write_png(&path, shot).expect("write png");
                path
            })
            .collect();
        let out = binary::command()
            .env("MYNAKIOSK_LOG", "trace")
            .args(["ocr", "--json"])
            .args(&paths)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(stdout.contains("the back of a card"), "{stdout}");
        // Stdout has no other digits: not one group of four. The log has timestamps, so any
        // eight digits of the number in a row.
        for group in number.as_bytes().chunks(4) {
            let group = std::str::from_utf8(group).expect("digits");
            assert!(
                !stdout.contains(group),
                "back {i}: a group of its number was printed"
            );
        }
        for run in number.as_bytes().windows(8) {
            let run = std::str::from_utf8(run).expect("digits");
            assert!(
                !stderr.contains(run),
                "back {i}: part of its number was logged"
            );
        }
    }
}
