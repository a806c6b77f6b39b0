//! Replays every fuzz target over its corpus in `fuzz/corpus/<target>/` (the seeds and any
//! input the fuzzer kept or that once crashed): none may panic or pass the allocation cap.

use std::path::Path;

use mynakiosk_fuzz::{capped::CappedAlloc, TARGETS};

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

#[test]
fn every_target_survives_its_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in TARGETS {
        let dir = root.join(target.name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{}: no seeds", dir.display());
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            eprintln!("{}", input.display());
            (target.run)(&data);
        }
    }
}

#[test]
fn every_corpus_folder_is_a_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            mynakiosk_fuzz::Target::named(&name).is_some(),
            "fuzz/corpus/{name} is no target"
        );
    }
}

/// Seeds made from the real parts: the simulator card's files and photo, a real card-front
/// photo, a keyed audit log, a queued result, the example configuration. Written with
/// `MYNAKIOSK_FUZZ_SEEDS=write`; otherwise this fails if one is missing from the corpus.
#[test]
fn the_seeds_are_in_the_corpus() {
    let write = std::env::var("MYNAKIOSK_FUZZ_SEEDS").is_ok_and(|v| v == "write");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut missing = Vec::new();
    for (target, name, bytes) in seeds::all() {
        let path = root.join(target).join(name);
        // The audit log holds times and a random session id: there, only its presence counts.
        let same = |old: &[u8]| old == &bytes[..] || target == "audit_lines";
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if !std::fs::read(&path).is_ok_and(|old| same(&old)) {
            missing.push(path.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "seeds missing or stale (MYNAKIOSK_FUZZ_SEEDS=write cargo test -p mynakiosk-fuzz): {missing:?}"
    );
}

mod seeds {
    use card_io::apdu::Command;
    use card_io::mynumber::aid;
    use card_io::mynumber::SurfaceRecord;
    use card_io::transport::CardTransport;
    use card_sim::{Profile, SimTransport};
    use std::path::Path;

    /// `(target, file name, bytes)` of every seed.
    pub fn all() -> Vec<(&'static str, &'static str, Vec<u8>)> {
        let pin_b = Profile::load("normal").unwrap().pin_b;
        let face = raw_file(&aid::KENMEN_KAKUNIN, Some((0x92, pin_b.as_bytes())), 0x0002);
        let photo = SurfaceRecord::parse(&face).unwrap().photo.unwrap().to_vec();
        let cvc = raw_file(&aid::KENMEN_KAKUNIN, None, 0x0004);
        let cert = raw_file(&aid::JPKI, None, 0x000A);
        let mut ok_answer = face[..64].to_vec();
        ok_answer.extend([0x90, 0x00]);
        vec![
            (
                "apdu",
                "read-binary-command",
                vec![0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00],
            ),
            (
                "apdu",
                "chained-answers",
                vec![0x61, 0x10, 0xFF, 0x6C, 0x05, 0xFF, 0x01, 0x90, 0x00],
            ),
            ("apdu", "record-answer", ok_answer),
            ("card_records", "card-face", face),
            ("card_records", "cvc", cvc),
            ("certificate_chain", "jpki-auth-cert", cert),
            (
                "certificate_chain",
                "test-anchor",
                card_sim::pki::test_trust_anchor_der(),
            ),
            ("chip_jpeg2000", "chip-photo.jp2", photo),
            ("card_front_photo", "card-front.jpg", card_front_jpeg()),
            (
                "config_toml",
                "example.toml",
                repo_file("packaging/mynakiosk.toml.example"),
            ),
            (
                "handoff_json",
                "result-face.json",
                repo_file("docs/examples/result-face.json"),
            ),
            (
                "handoff_json",
                "staff-call.json",
                repo_file("docs/examples/staff-call.json"),
            ),
            ("audit_lines", "keyed-log", keyed_audit_log()),
        ]
    }

    fn raw_file(df: &[u8], verify: Option<(u8, &[u8])>, fid: u16) -> Vec<u8> {
        let mut t = SimTransport::new(Profile::load("normal").unwrap().card());
        let mut ok = |cmd: Command| t.transmit(&cmd).unwrap().into_data().to_vec();
        ok(Command::select_df(df).unwrap());
        if let Some((p2, secret)) = verify {
            ok(Command::verify(p2, secret).unwrap());
        }
        ok(Command::select_ef(fid));
        ok(Command::read_binary_extended(0, 65_536).unwrap())
    }

    /// A synthetic card front, photographed and JPEG-encoded small.
    fn card_front_jpeg() -> Vec<u8> {
        use opencv::core::{Mat, Size};
        use opencv::imgproc;
        let today = card_front::Date::new(2026, 12, 4).unwrap();
        let (_, shot) = card_front::synthetic_photo(20261204, 0, today).unwrap();
        let mut small = Mat::default();
        imgproc::resize(
            &shot.image,
            &mut small,
            Size::new(480, 360),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )
        .unwrap();
        let frame = face_match::Frame::from_mat(&small).unwrap();
        face_match::image_file::encode_jpeg(&frame, 60)
            .unwrap()
            .to_vec()
    }

    fn repo_file(path: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
    }

    /// A short log written with the fuzz targets' fixed key, then a NUL and its head.
    fn keyed_audit_log() -> Vec<u8> {
        use mynakiosk::audit::{AuditEvent, AuditLog};
        use mynakiosk::handoff::result::SessionId;
        let dir = tempfile::tempdir().unwrap();
        let audit = mynakiosk_fuzz::keyed_audit_dir(dir.path());
        let config = mynakiosk::audit::config::AuditConfig {
            dir: audit.clone(),
            max_file_bytes: 1 << 20,
        };
        let log = AuditLog::open(&config, "fuzz").unwrap();
        let session_id = SessionId::new();
        log.record(AuditEvent::SessionStarted { session_id })
            .unwrap();
        drop(log);
        let mut out = std::fs::read(audit.join("audit.jsonl")).unwrap();
        out.push(0);
        out.extend(std::fs::read(audit.join("audit.head")).unwrap());
        out
    }
}

/// The cap holds: an allocation past 256 MiB aborts the process (run in a child process).
#[test]
fn an_allocation_past_the_cap_aborts() {
    if std::env::var_os("MYNAKIOSK_FUZZ_CAP_PROBE").is_some() {
        let big = vec![1u8; mynakiosk_fuzz::capped::LIMIT + 1];
        std::hint::black_box(big);
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_allocation_past_the_cap_aborts",
            "--nocapture",
        ])
        .env("MYNAKIOSK_FUZZ_CAP_PROBE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("capped allocator"),
        "{:?}: {stderr}",
        out.status
    );
}
