//! Writing the audit log.

use super::config::AuditConfig;
use super::key::{default_key_path, AuditKey, KeyError};
use super::{AuditEvent, Head, CURRENT, HEAD};
use crate::capped_file::{self, Refusal};
use crate::handoff::result::now;
use crate::handoff::{create_private_dir, sync_dir, write_atomically};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("audit log {path}: {problem}; run `mynakiosk audit-verify` and archive the folder")]
    Inconsistent { path: PathBuf, problem: String },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Largest `audit.jsonl` opened: the largest rotation size and the line that crossed it.
const MAX_CURRENT_BYTES: u64 = super::config::MAX_AUDIT_FILE_BYTES + super::MAX_LINE_BYTES;
/// Largest `audit.head` read: it holds a seq and two hashes.
const MAX_HEAD_BYTES: u64 = 4096;

/// One line as written.
#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    time: DateTime<Utc>,
    kiosk_id: &'a str,
    #[serde(flatten)]
    event: &'a AuditEvent,
    prev: &'a str,
}

/// The kiosk's audit log; clones share one writer.
#[derive(Clone)]
pub struct AuditLog(Arc<Mutex<Writer>>);

struct Writer {
    dir: PathBuf,
    key: AuditKey,
    kiosk_id: String,
    max_bytes: u64,
    file: File,
    size: u64,
    /// Seq of the first line in the current file (0 while it is empty).
    first_seq: u64,
    head: Head,
}

impl AuditLog {
    /// [`AuditLog::open_with_key`] with the key at [`default_key_path`].
    pub fn open(config: &AuditConfig, kiosk_id: &str) -> Result<Self, AuditError> {
        Self::open_with_key(config, kiosk_id, &default_key_path(&config.dir))
    }

    /// Opens the log in `config.dir`, continuing its chain keyed by the key at `key_path`
    /// (outside `config.dir`; created with a new log, required to continue one). A torn
    /// last line (crash mid-write) is cut off and recorded; a log shorter than `audit.head`
    /// says, or whose head or last line the key does not vouch for, is refused.
    pub fn open_with_key(
        config: &AuditConfig,
        kiosk_id: &str,
        key_path: &Path,
    ) -> Result<Self, AuditError> {
        let dir = config.dir.clone();
        if key_path.parent().is_some_and(|p| same_dir(p, &dir)) {
            return Err(KeyError {
                path: key_path.to_owned(),
                problem: "must live outside the audit folder".into(),
            }
            .into());
        }
        create_private_dir(&dir).map_err(io_error(&dir))?;
        let path = dir.join(CURRENT);
        let fresh = is_fresh(&dir)?;
        let file = open_append(&path)?;
        let mut text = capped_file::read(&path, MAX_CURRENT_BYTES).map_err(refused(&path))?;
        let torn = text.len() - text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if torn > 0 {
            text.truncate(text.len() - torn);
            file.set_len(text.len() as u64).map_err(io_error(&path))?;
            file.sync_all().map_err(io_error(&path))?;
        }
        let key = match AuditKey::load(key_path) {
            Err(_) if fresh && !key_path.exists() => AuditKey::create(key_path)?,
            key => key?,
        };
        let recorded = read_head(&dir)?;
        if recorded.as_ref().is_some_and(|r| !r.is_keyed_by(&key)) {
            return Err(AuditError::Inconsistent {
                path: dir.join(HEAD),
                problem: format!("not written with the key {}", key_path.display()),
            });
        }
        let lines: Vec<&[u8]> = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let inconsistent = |problem: String| AuditError::Inconsistent {
            path: path.clone(),
            problem,
        };
        let (first_seq, head) = match (lines.first(), lines.last()) {
            (Some(first), Some(last)) => {
                let head = Head::new(
                    seq_of(last).ok_or_else(|| inconsistent("last line has no seq".into()))?,
                    key.tag(last),
                    &key,
                );
                match &recorded {
                    Some(r) if r.seq > head.seq => {
                        return Err(inconsistent(format!(
                            "ends at seq {} but {HEAD} records seq {}",
                            head.seq, r.seq
                        )))
                    }
                    Some(r) if r.seq == head.seq && r.hash != head.hash => {
                        return Err(inconsistent(format!(
                            "its last line differs from the one {HEAD} records (edited)"
                        )))
                    }
                    _ => {}
                }
                (seq_of(first).unwrap_or(0), head)
            }
            _ => (0, recorded.unwrap_or_else(|| Head::genesis(&key))),
        };
        let log = Self(Arc::new(Mutex::new(Writer {
            size: text.len() as u64,
            dir,
            key,
            kiosk_id: kiosk_id.into(),
            max_bytes: config.max_file_bytes,
            file,
            first_seq,
            head,
        })));
        if torn > 0 {
            log.record(AuditEvent::TornLineRemoved { bytes: torn as u64 })?;
        }
        Ok(log)
    }

    /// Records the start of the kiosk: [`AuditEvent::KioskStarted`] with this build's version,
    /// then [`AuditEvent::ConfigLoaded`] with the hash of the configuration in force.
    pub fn record_start(&self, config: &impl std::fmt::Debug) -> Result<(), AuditError> {
        self.record(AuditEvent::KioskStarted {
            version: env!("CARGO_PKG_VERSION").into(),
        })?;
        self.record(AuditEvent::config_loaded(config))
    }

    /// Appends `event` and fsyncs it before returning.
    pub fn record(&self, event: AuditEvent) -> Result<(), AuditError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(&event)
    }
}

impl Writer {
    fn append(&mut self, event: &AuditEvent) -> Result<(), AuditError> {
        // A line a failed write could not cut back is cut before the next one follows it.
        if self.file.metadata().map_err(|e| self.io(e))?.len() != self.size {
            self.file.set_len(self.size).map_err(|e| self.io(e))?;
        }
        if self.size >= self.max_bytes {
            self.rotate()?;
        }
        let seq = self.head.seq + 1;
        let line = serde_json::to_string(&Line {
            seq,
            time: now(),
            kiosk_id: &self.kiosk_id,
            event,
            prev: &self.head.hash,
        })
        .map_err(|e| self.io(io::Error::other(e)))?;
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        let head = Head::new(seq, self.key.tag(line.as_bytes()), &self.key);
        // An event counts as recorded only once both its line and the head naming it are
        // durable: a head that cannot follow (a full disk) would leave the new lines open to
        // a quiet cut. Either failing cuts the line back to the last whole one (best effort;
        // reopening cuts a torn line too, and tolerates a line the head does not name yet).
        let written = self
            .file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .and_then(|()| serde_json::to_vec(&head).map_err(io::Error::other))
            .and_then(|text| write_atomically(&self.dir, HEAD, &text));
        let named = written.is_ok() || read_head(&self.dir).ok().flatten().as_ref() == Some(&head);
        if named {
            // Both are in place (a failure after the head's rename: its folder's sync).
            self.size += bytes.len() as u64;
            if self.first_seq == 0 {
                self.first_seq = seq;
            }
            self.head = head;
        } else {
            let _ = self.file.set_len(self.size);
            let _ = self.file.sync_data();
        }
        written.map_err(|e| self.io(e))
    }

    /// Renames the current file to `audit-<first seq>-<last seq>.jsonl` and starts a new one;
    /// its first line's `prev` is the hash of the renamed file's last line.
    fn rotate(&mut self) -> Result<(), AuditError> {
        let current = self.dir.join(CURRENT);
        let name = format!("audit-{:012}-{:012}.jsonl", self.first_seq, self.head.seq);
        fs::rename(&current, self.dir.join(&name)).map_err(|e| self.io(e))?;
        sync_dir(&self.dir).map_err(|e| self.io(e))?;
        self.file = open_append(&current)?;
        self.size = 0;
        self.first_seq = 0;
        tracing::info!(file = %name, "audit log rotated");
        Ok(())
    }

    fn io(&self, source: io::Error) -> AuditError {
        AuditError::Io {
            path: self.dir.join(CURRENT),
            source,
        }
    }
}

fn open_append(path: &Path) -> Result<File, AuditError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .read(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))
}

/// Whether `dir` holds no log yet: no head, no rotated file, an empty current file.
fn is_fresh(dir: &Path) -> Result<bool, AuditError> {
    let mut entries = fs::read_dir(dir).map_err(io_error(dir))?;
    let occupied = entries.try_fold(false, |found, entry| {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let used = match name.as_ref() {
            CURRENT => entry.metadata().map_err(io_error(dir))?.len() > 0,
            HEAD => true,
            n => n.starts_with("audit-") && n.ends_with(".jsonl"),
        };
        Ok::<_, AuditError>(found || used)
    })?;
    Ok(!occupied)
}

/// Whether `a` and `b` name the same folder (as written, or once resolved).
fn same_dir(a: &Path, b: &Path) -> bool {
    let a = if a.as_os_str().is_empty() {
        Path::new(".")
    } else {
        a
    };
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn read_head(dir: &Path) -> Result<Option<Head>, AuditError> {
    let path = dir.join(HEAD);
    match capped_file::read(&path, MAX_HEAD_BYTES) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| AuditError::Inconsistent {
                    path,
                    problem: format!("unreadable: {e}"),
                })
        }
        Err(Refusal::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(refused(&path)(e)),
    }
}

/// A file of the log that is not read: missing, unreadable, not a regular file, too large.
fn refused(path: &Path) -> impl FnOnce(Refusal) -> AuditError + '_ {
    move |refusal| match refusal {
        Refusal::Io(source) => io_error(path)(source),
        refusal => AuditError::Inconsistent {
            path: path.to_owned(),
            problem: refusal.to_string(),
        },
    }
}

/// The `seq` of a line, if it is a JSON object with one.
pub(super) fn seq_of(line: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()?
        .get("seq")?
        .as_u64()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_owned(),
        source,
    }
}
