//! The durable outbox: each queued result is one JSON file, written with fsync and rename,
//! removed only after the sink acknowledged it. Results only — never an image.

use super::durable::{create_private_dir, sync_dir, write_atomically};
use super::privacy::{self, PrivacyViolation};
use super::result::VerificationResult;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Files waiting for delivery, oldest first by name.
const PENDING: &str = "pending";
/// Files the receiver refused as malformed: kept for staff, never retried.
const REJECTED: &str = "rejected";

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("result refused before queueing: {0}")]
    Privacy(#[from] PrivacyViolation),
}

/// A folder of results waiting for the reception system.
#[derive(Debug, Clone)]
pub struct Outbox {
    pending: PathBuf,
    rejected: PathBuf,
}

/// One queued result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub key: String,
    pub body: Vec<u8>,
    path: PathBuf,
}

impl Outbox {
    /// Opens (creating) the outbox in `dir` and removes temporary files a crash left behind.
    pub fn open(dir: &Path) -> Result<Self, OutboxError> {
        let outbox = Self {
            pending: dir.join(PENDING),
            rejected: dir.join(REJECTED),
        };
        for sub in [&outbox.pending, &outbox.rejected] {
            create_private_dir(sub).map_err(io_error(sub))?;
        }
        for entry in read_dir(&outbox.pending)? {
            if entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                fs::remove_file(&entry).map_err(io_error(&entry))?;
            }
        }
        Ok(outbox)
    }

    /// Queues `result` durably; queueing the same session twice keeps one copy.
    pub fn enqueue(&self, result: &VerificationResult) -> Result<(), OutboxError> {
        let body = result.to_json();
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| self.io(io::Error::other(e)))?;
        privacy::check(&value)?;
        if self
            .pending()?
            .iter()
            .any(|q| q.key == result.idempotency_key)
        {
            return Ok(());
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("{nanos:020}-{}.json", result.idempotency_key);
        write_atomically(&self.pending, &name, &body).map_err(|e| self.io(e))
    }

    /// The queued results, oldest first.
    pub fn pending(&self) -> Result<Vec<Queued>, OutboxError> {
        self.queued_names()?
            .map(|(path, key)| {
                let body = fs::read(&path).map_err(io_error(&path))?;
                Ok(Queued { key, body, path })
            })
            .collect()
    }

    /// How many results wait, and how many were refused by the receiver.
    pub fn counts(&self) -> Result<(usize, usize), OutboxError> {
        Ok((
            self.queued_names()?.count(),
            read_dir(&self.rejected)?.len(),
        ))
    }

    /// Path and idempotency key of each queued file (`<nanos>-<key>.json`), oldest first.
    fn queued_names(&self) -> Result<impl Iterator<Item = (PathBuf, String)>, OutboxError> {
        Ok(read_dir(&self.pending)?.into_iter().filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let key = name.strip_suffix(".json")?.split_once('-')?.1.to_owned();
            (!name.starts_with('.')).then_some((path, key))
        }))
    }

    /// Forgets a result the sink acknowledged.
    pub fn delivered(&self, queued: &Queued) -> Result<(), OutboxError> {
        fs::remove_file(&queued.path).map_err(io_error(&queued.path))?;
        sync_dir(&self.pending).map_err(|e| self.io(e))
    }

    /// Moves a result the receiver refused out of the queue, for staff to inspect.
    pub fn rejected(&self, queued: &Queued) -> Result<(), OutboxError> {
        let name = queued.path.file_name().unwrap_or_default();
        fs::rename(&queued.path, self.rejected.join(name)).map_err(io_error(&queued.path))?;
        sync_dir(&self.rejected).map_err(|e| self.io(e))?;
        sync_dir(&self.pending).map_err(|e| self.io(e))
    }

    fn io(&self, source: io::Error) -> OutboxError {
        OutboxError::Io {
            path: self.pending.clone(),
            source,
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The entries of `dir`, sorted by name.
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, OutboxError> {
    let mut paths = fs::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|e| e.map(|e| e.path()).map_err(io_error(dir)))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}
