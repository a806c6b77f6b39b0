//! The targets beyond card-io's parsers: each feeds the bytes where the kiosk meets them
//! (a file it reads, a record from the card), in a scratch folder made once per process.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use mynakiosk::audit::{verify, AuditLog};
use mynakiosk::config::Config;
use mynakiosk::handoff::courier::{deliver_queued, RetryPolicy};
use mynakiosk::handoff::outbox::Outbox;
use mynakiosk::handoff::privacy;
use mynakiosk::handoff::sink::FileDrop;
use opencv::core::{Mat, MatTraitConst};
use opencv::imgproc::{cvt_color_def, COLOR_BGR2GRAY};

/// A fixed audit key, so corpus logs written with it pass the HMAC check.
const AUDIT_KEY_HEX: &str = "6d796e616b696f736b2d66757a7a2d61756469742d6b65792d30303030303030";

/// The scratch folder, held for the process's life; targets run one at a time.
fn scratch() -> &'static Mutex<tempfile::TempDir> {
    static DIR: OnceLock<Mutex<tempfile::TempDir>> = OnceLock::new();
    DIR.get_or_init(|| Mutex::new(tempfile::tempdir().expect("scratch folder")))
}

fn in_scratch<R>(f: impl FnOnce(&Path) -> R) -> R {
    let dir = scratch().lock().unwrap_or_else(|e| e.into_inner());
    f(dir.path())
}

/// The chip's face photo as read from the card (JPEG 2000, header checked before decoding).
pub fn chip_jpeg2000(data: &[u8]) {
    let _ = face_match::chip_photo::decode_jp2(data);
}

/// A card-front camera image file: decoded with the size caps, then the card located (by grey
/// and by colour edges) and rectified at every outline found (the steps before OCR).
pub fn card_front_photo(data: &[u8]) {
    in_scratch(|dir| {
        let path = dir.join("card-front.img");
        fs::write(&path, data).expect("scratch write");
        let Ok(frame) = face_match::image_file::decode_image_file(&path) else {
            return;
        };
        let Some(image) = frame.as_mat().ok().and_then(|m| m.try_clone().ok()) else {
            return;
        };
        let mut grey = Mat::default();
        if cvt_color_def(&image, &mut grey, COLOR_BGR2GRAY).is_err() {
            return;
        }
        if let Ok(mut quads) = card_front::card_outlines(&image, &grey) {
            if let Ok(more) = card_front::colour_card_outlines(&image, &grey, &quads) {
                quads.extend(more);
            }
            for quad in &quads {
                let _ = card_front::rectify(&grey, quad);
            }
        }
    });
}

/// The configuration file's text.
pub fn config_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(text);
    }
}

/// A queued result as the courier reads it back from `pending/` (and as its retry record),
/// checked for privacy and delivered to a drop folder.
pub fn handoff_json(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice(data) {
        let _ = privacy::check(&value);
    }
    in_scratch(|dir| {
        let outbox_dir = dir.join("outbox");
        let drop_dir = dir.join("drop");
        let _ = fs::remove_dir_all(&outbox_dir);
        let _ = fs::remove_dir_all(&drop_dir);
        fs::create_dir(&drop_dir).expect("scratch drop folder");
        let outbox = Outbox::create(&outbox_dir).expect("scratch outbox");
        let key = "0b6b5e8e-4f7e-4c1a-9d55-2a3b4c5d6e7f";
        fs::write(
            outbox_dir.join(format!("pending/{:020}-{key}.json", 1)),
            data,
        )
        .expect("scratch write");
        let retry = outbox_dir.join("retry");
        if retry.is_dir() {
            fs::write(retry.join(format!("{key}.json")), data).expect("scratch write");
        }
        let _ = deliver_queued(&outbox, &FileDrop { dir: drop_dir }, &retry_policy());
    });
}

fn retry_policy() -> RetryPolicy {
    let config = Config::parse("kiosk_id = \"fuzz\"\n[handoff]\nsink = \"none\"\n")
        .expect("the fuzz configuration");
    RetryPolicy::from_config(&config.handoff)
}

/// An audit folder's `audit.jsonl` (and, after a NUL byte, its `audit.head`), verified with
/// the fixed key and reopened by the log as the kiosk does at start.
pub fn audit_lines(data: &[u8]) {
    in_scratch(|dir| {
        let audit = keyed_audit_dir(dir);
        let (log, head) = match data.iter().position(|&b| b == 0) {
            Some(i) => (&data[..i], Some(&data[i + 1..])),
            None => (data, None),
        };
        fs::write(audit.join("audit.jsonl"), log).expect("scratch write");
        if let Some(head) = head {
            fs::write(audit.join("audit.head"), head).expect("scratch write");
        }
        let _ = verify(std::slice::from_ref(&audit));
        let config = mynakiosk::audit::config::AuditConfig {
            dir: audit.clone(),
            max_file_bytes: 1 << 20,
        };
        let _ = AuditLog::open(&config, "fuzz");
    });
}

/// A fresh `dir/audit` with the fixed key beside it.
pub fn keyed_audit_dir(dir: &Path) -> PathBuf {
    let audit = dir.join("audit");
    let _ = fs::remove_dir_all(&audit);
    fs::create_dir(&audit).expect("scratch audit folder");
    let key = mynakiosk::audit::default_key_path(&audit);
    if !key.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key)
            .expect("scratch audit key");
        std::io::Write::write_all(&mut file, AUDIT_KEY_HEX.as_bytes()).expect("scratch key");
    }
    audit
}
