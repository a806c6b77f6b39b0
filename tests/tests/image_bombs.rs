//! Decompression bombs and non-files given as images: a small PNG declaring 32768×32768, a
//! JPEG 2000 declaring 20000², an oversized file and a FIFO named `.png` are refused with a
//! clear error, quickly, by the library and by `ocr` and `detect-faces`, whose peak memory
//! stays under 256 MB.

use face_match::{decode_image_file, ImageFileError};
use mynakiosk_tests::binary;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Peak memory any probe may reach.
const MAX_RSS_BYTES: u64 = 256 << 20;
/// A refusal is immediate; this only stops a hang from stopping the suite.
const DEADLINE: Duration = Duration::from_secs(60);

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend(data);
    out.extend(&crc_input);
    out.extend(crc32(&crc_input).to_be_bytes());
}

/// A valid-looking RGB PNG declaring `side`×`side` pixels, with a few bytes of image data.
fn png_declaring(side: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    // zlib: one stored block of 0 bytes; libpng asks for more rows than there are.
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A structurally complete JP2 file declaring `side`×`side` greyscale pixels.
fn jp2_declaring(side: u32) -> Vec<u8> {
    let mut c = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0];
    for v in [side, side, 0, 0, side, side, 0, 0] {
        c.extend(v.to_be_bytes());
    }
    c.extend([0, 1, 7, 1, 1]);
    // COD, QCD, an empty tile, EOC.
    c.extend([0xFF, 0x52, 0, 12, 0, 0, 0, 1, 0, 5, 4, 4, 0, 1]);
    c.extend([0xFF, 0x5C, 0, 19, 0x40]);
    c.extend([0x48; 16]);
    c.extend([0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0x93]);
    c.extend([0xFF, 0xD9]);
    let mut f = vec![0, 0, 0, 12, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A];
    f.extend(20u32.to_be_bytes());
    f.extend(b"ftypjp2 \0\0\0\0jp2 ");
    f.extend((8 + c.len() as u32).to_be_bytes());
    f.extend(b"jp2c");
    f.extend(c);
    f
}

/// The probes, written into `dir`: (name, path, what the error must say).
fn probes(dir: &Path) -> Vec<(&'static str, PathBuf, &'static str)> {
    let png = dir.join("bomb.png");
    std::fs::write(&png, png_declaring(32768)).unwrap();
    let jp2 = dir.join("bomb.jp2");
    std::fs::write(&jp2, jp2_declaring(20000)).unwrap();
    let huge = dir.join("huge.jpg");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let fifo = dir.join("fifo.png");
    mynakiosk_tests::mkfifo(&fifo);
    vec![
        ("png bomb", png, "refused before decoding"),
        ("jp2 bomb", jp2, "refused before decoding"),
        ("huge file", huge, "more than an image file may have"),
        ("fifo", fifo, "not a regular file"),
    ]
}

#[test]
fn the_library_refuses_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let probes = probes(dir.path());
    for (name, path, expected) in &probes {
        let err = decode_image_file(path).unwrap_err();
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
    assert!(matches!(
        decode_image_file(&probes[0].1),
        Err(ImageFileError::TooLarge {
            width: 32768,
            height: 32768,
            ..
        })
    ));
    assert!(matches!(
        decode_image_file(&probes[1].1),
        Err(ImageFileError::TooLarge { width: 20000, .. })
    ));
    // Not an image at all, and a small image of a real kind, still behave.
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "hello").unwrap();
    assert!(matches!(
        decode_image_file(&text),
        Err(ImageFileError::UnknownFormat { .. })
    ));
    let screenshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/method-choice.ja.png");
    let frame = decode_image_file(&screenshot).unwrap();
    assert!(frame.height() > 100);
}

/// Runs `mynakiosk ARGS…` and returns its status, output (stdout, then stderr) and peak
/// resident memory in bytes (the child's own `VmHWM`, read every 20 ms while it runs: wait4's
/// `ru_maxrss` would count the test binary's memory, which the child shared until its exec);
/// a child still running after [`DEADLINE`] is killed and fails the test.
#[allow(clippy::zombie_processes)] // reaped by wait4
fn run_measured(args: &[&std::ffi::OsStr]) -> (ExitStatus, String, u64) {
    let mut child = binary::command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        std::io::read_to_string(stdout).unwrap_or_default()
            + &std::io::read_to_string(stderr).unwrap_or_default()
    });
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut peak = 0;
    loop {
        peak = peak.max(resident_peak(pid));
        let mut status = 0;
        // SAFETY: wait4 writes only the status of our own child.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, std::ptr::null_mut()) };
        if done == pid {
            return (ExitStatus::from_raw(status), reader.join().unwrap(), peak);
        }
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            // SAFETY: reaps our own killed child.
            unsafe { libc::wait4(pid, std::ptr::null_mut(), 0, std::ptr::null_mut()) };
            panic!("{args:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The peak resident memory of running process `pid` in bytes (0 once it has ended).
fn resident_peak(pid: libc::pid_t) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn ocr_and_detect_faces_refuse_quickly_within_256_mb() {
    let dir = tempfile::tempdir().unwrap();
    for (name, path, expected) in probes(dir.path()) {
        for command in ["ocr", "detect-faces"] {
            let (status, output, rss) = run_measured(&[command.as_ref(), path.as_os_str()]);
            assert!(!status.success(), "{command} {name}: {output}");
            assert!(
                status.code().is_some(),
                "{command} {name} died: {status:?} {output}"
            );
            assert!(output.contains(expected), "{command} {name}: {output}");
            println!("{command} {name}: peak RSS {} MB", rss >> 20);
            assert!(
                rss < MAX_RSS_BYTES,
                "{command} {name}: peak {} MB",
                rss >> 20
            );
        }
    }
}
