//! Writing the audit log.

use super::{sha256_hex, AuditEvent, Head, CURRENT, GENESIS, HEAD};
use crate::config::AuditConfig;
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
}

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
    kiosk_id: String,
    max_bytes: u64,
    file: File,
    size: u64,
    /// Seq of the first line in the current file (0 while it is empty).
    first_seq: u64,
    head: Head,
}

impl AuditLog {
    /// Opens the log in `config.dir`, continuing its chain. A torn last line (crash
    /// mid-write) is cut off and recorded; a log shorter than `audit.head` says is refused.
    pub fn open(config: &AuditConfig, kiosk_id: &str) -> Result<Self, AuditError> {
        let dir = config.dir.clone();
        create_private_dir(&dir).map_err(io_error(&dir))?;
        let path = dir.join(CURRENT);
        let file = open_append(&path)?;
        let mut text = fs::read(&path).map_err(io_error(&path))?;
        let torn = text.len() - text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if torn > 0 {
            text.truncate(text.len() - torn);
            file.set_len(text.len() as u64).map_err(io_error(&path))?;
            file.sync_all().map_err(io_error(&path))?;
        }
        let recorded = read_head(&dir)?;
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
                let head = Head {
                    seq: seq_of(last).ok_or_else(|| inconsistent("last line has no seq".into()))?,
                    hash: sha256_hex(last),
                };
                if recorded.as_ref().is_some_and(|r| r.seq > head.seq) {
                    return Err(inconsistent(format!(
                        "ends at seq {} but {HEAD} records seq {}",
                        head.seq,
                        recorded.map_or(0, |r| r.seq)
                    )));
                }
                (seq_of(first).unwrap_or(0), head)
            }
            _ => (
                0,
                recorded.unwrap_or(Head {
                    seq: 0,
                    hash: GENESIS.into(),
                }),
            ),
        };
        let log = Self(Arc::new(Mutex::new(Writer {
            size: text.len() as u64,
            dir,
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
        self.file.write_all(&bytes).map_err(|e| self.io(e))?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        self.size += bytes.len() as u64;
        if self.first_seq == 0 {
            self.first_seq = seq;
        }
        self.head = Head {
            seq,
            hash: sha256_hex(line.as_bytes()),
        };
        let head = serde_json::to_vec(&self.head).map_err(|e| self.io(io::Error::other(e)))?;
        write_atomically(&self.dir, HEAD, &head).map_err(|e| self.io(e))
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

fn read_head(dir: &Path) -> Result<Option<Head>, AuditError> {
    let path = dir.join(HEAD);
    match fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| AuditError::Inconsistent {
                    path,
                    problem: format!("unreadable: {e}"),
                })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path)(e)),
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
