//! The durable outbox: each queued result is one JSON file, written with fsync and rename,
//! removed only after the sink acknowledged it. Results and staff calls only — never an image.
//!
//! Folders: `pending/` (waiting, oldest first), `retry/` (per result: failed attempts and when
//! to try again), `dead/` (given up after repeated failures, for staff), `rejected/` (refused as
//! malformed). `deliver.lock` lets one deliverer at a time send.

use super::durable::{create_private_dir, sync_dir, write_atomically};
use super::privacy::{self, PrivacyViolation};
use super::Outgoing;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Files waiting for delivery, oldest first by name.
const PENDING: &str = "pending";
/// Files the receiver refused as malformed: kept for staff, never retried.
const REJECTED: &str = "rejected";
/// Files given up on after repeated failures: kept for staff, re-queued by hand.
const DEAD: &str = "dead";
/// Per queued result, `<key>.json`: its failed attempts so far.
const RETRY: &str = "retry";
/// Held while delivering, so two deliverers never send the same result at once.
const LOCK: &str = "deliver.lock";
/// A result is a few kilobytes; a larger file in `pending/` is not one of ours.
pub const MAX_RESULT_BYTES: u64 = 1 << 20;

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
    dir: PathBuf,
    pending: PathBuf,
}

/// One queued result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub key: String,
    pub body: Vec<u8>,
    path: PathBuf,
}

/// What the outbox holds, for the UI, `outbox status` and `diagnose`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    pub queued: usize,
    pub rejected: usize,
    /// Given up on after repeated failures (`dead/`): staff must look.
    pub dead: usize,
    /// Entries in `pending/` that are not queued results (a folder, junk): ignored.
    pub foreign: Vec<PathBuf>,
}

/// Failed attempts at one result, kept in `retry/<key>.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attempts {
    pub failures: u32,
    /// Not before this time (milliseconds since the Unix epoch).
    pub next_attempt_ms: u64,
    pub last_error: String,
}

/// Held while delivering; released on drop.
pub struct DeliveryLock {
    _file: File,
}

impl Outbox {
    /// The outbox in `dir`, for reading only: nothing is created (a missing folder is empty).
    pub fn open(dir: &Path) -> Result<Self, OutboxError> {
        if let Ok(meta) = fs::metadata(dir) {
            if !meta.is_dir() {
                return Err(io_error(dir)(io::Error::other("not a folder")));
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            pending: dir.join(PENDING),
        })
    }

    /// Opens the outbox in `dir` for queueing and delivery: creates its folders (mode 0700)
    /// and removes temporary files a crash left behind.
    pub fn create(dir: &Path) -> Result<Self, OutboxError> {
        let outbox = Self::open(dir)?;
        for sub in [PENDING, REJECTED, DEAD, RETRY] {
            let sub = dir.join(sub);
            create_private_dir(&sub).map_err(io_error(&sub))?;
        }
        for sub in [PENDING, RETRY] {
            for entry in read_dir(&dir.join(sub))? {
                if is_temporary(&entry) && entry.is_file() {
                    fs::remove_file(&entry).map_err(io_error(&entry))?;
                }
            }
        }
        Ok(outbox)
    }

    /// Queues `result` (or a staff call) durably; queueing the same key twice keeps one copy.
    pub fn enqueue(&self, result: &impl Outgoing) -> Result<(), OutboxError> {
        let body = result.to_json();
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| self.io(io::Error::other(e)))?;
        privacy::check(&value)?;
        if self
            .queued_names()?
            .iter()
            .any(|(_, key)| key == result.idempotency_key())
        {
            return Ok(());
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("{nanos:020}-{}.json", result.idempotency_key());
        write_atomically(&self.pending, &name, &body).map_err(|e| self.io(e))
    }

    /// The queued results, oldest first. Entries that are not queued results are skipped
    /// (see [`Outbox::census`]).
    pub fn pending(&self) -> Result<Vec<Queued>, OutboxError> {
        self.queued_names()?
            .into_iter()
            .map(|(path, key)| {
                let body = read_result(&path)?;
                Ok(Queued { key, body, path })
            })
            .collect()
    }

    /// How many results wait, and how many were refused by the receiver.
    pub fn counts(&self) -> Result<(usize, usize), OutboxError> {
        let census = self.census()?;
        Ok((census.queued, census.rejected))
    }

    /// What each folder holds, and the foreign entries in `pending/`.
    pub fn census(&self) -> Result<Census, OutboxError> {
        let (mut queued, mut foreign) = (0, Vec::new());
        for path in read_dir(&self.pending)? {
            match result_key(&path) {
                Some(_) => queued += 1,
                None if is_temporary(&path) => {}
                None => foreign.push(path),
            }
        }
        Ok(Census {
            queued,
            rejected: read_dir(&self.dir.join(REJECTED))?.len(),
            dead: read_dir(&self.dir.join(DEAD))?
                .iter()
                .filter(|p| !is_temporary(p))
                .count(),
            foreign,
        })
    }

    /// When the oldest queued entry was queued (milliseconds since the Unix epoch), if any.
    pub fn oldest_queued_ms(&self) -> Result<Option<u64>, OutboxError> {
        Ok(self.queued_names()?.first().and_then(|(path, _)| {
            let nanos: u128 = path.file_name()?.to_str()?.get(..20)?.parse().ok()?;
            u64::try_from(nanos / 1_000_000).ok()
        }))
    }

    /// Path and idempotency key of each queued file (`<nanos>-<key>.json`, a regular file of
    /// at most [`MAX_RESULT_BYTES`]), oldest first.
    fn queued_names(&self) -> Result<Vec<(PathBuf, String)>, OutboxError> {
        Ok(read_dir(&self.pending)?
            .into_iter()
            .filter_map(|path| result_key(&path).map(|key| (path, key)))
            .collect())
    }

    /// Forgets a result the sink acknowledged.
    pub fn delivered(&self, queued: &Queued) -> Result<(), OutboxError> {
        fs::remove_file(&queued.path).map_err(io_error(&queued.path))?;
        sync_dir(&self.pending).map_err(|e| self.io(e))?;
        self.forget_attempts(queued)
    }

    /// Moves a result the receiver refused out of the queue, for staff to inspect.
    pub fn rejected(&self, queued: &Queued) -> Result<(), OutboxError> {
        self.move_out(queued, REJECTED)
    }

    /// Moves a result given up on after repeated failures to `dead/`, for staff.
    pub fn dead_lettered(&self, queued: &Queued) -> Result<(), OutboxError> {
        self.move_out(queued, DEAD)
    }

    /// Moves every dead result back into the queue with a clean slate; returns how many.
    pub fn requeue_dead(&self) -> Result<usize, OutboxError> {
        let dead = self.dir.join(DEAD);
        let mut moved = 0;
        for path in read_dir(&dead)? {
            let (Some(key), Some(name)) = (result_key(&path), path.file_name()) else {
                continue;
            };
            fs::rename(&path, self.pending.join(name)).map_err(io_error(&path))?;
            let _ = fs::remove_file(self.dir.join(RETRY).join(format!("{key}.json")));
            moved += 1;
        }
        sync_dir(&self.pending).map_err(|e| self.io(e))?;
        sync_dir(&dead).map_err(io_error(&dead))?;
        Ok(moved)
    }

    /// The failed attempts at `queued` so far (none when no record, or an unreadable one).
    pub fn attempts(&self, queued: &Queued) -> Attempts {
        read_result(&self.retry_path(queued))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Records one more failed attempt at `queued`, to be retried after `delay`.
    pub fn failed(
        &self,
        queued: &Queued,
        error: &str,
        delay: Duration,
    ) -> Result<Attempts, OutboxError> {
        let attempts = Attempts {
            failures: self.attempts(queued).failures.saturating_add(1),
            next_attempt_ms: now_ms()
                .saturating_add(delay.as_millis().try_into().unwrap_or(u64::MAX)),
            last_error: error.into(),
        };
        let body = serde_json::to_vec(&attempts).map_err(|e| self.io(io::Error::other(e)))?;
        let retry = self.dir.join(RETRY);
        write_atomically(&retry, &format!("{}.json", queued.key), &body)
            .map_err(io_error(&retry))?;
        Ok(attempts)
    }

    /// Takes the delivery lock, waiting while another deliverer (the kiosk's courier or
    /// `outbox deliver`) holds it.
    pub fn lock(&self) -> Result<DeliveryLock, OutboxError> {
        let path = self.dir.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                tracing::info!(lock = %path.display(), "another delivery is running; waiting for it");
                file.lock().map_err(io_error(&path))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error(&path)(e)),
        }
        Ok(DeliveryLock { _file: file })
    }

    fn move_out(&self, queued: &Queued, to: &str) -> Result<(), OutboxError> {
        let to = self.dir.join(to);
        let name = queued.path.file_name().unwrap_or_default();
        fs::rename(&queued.path, to.join(name)).map_err(io_error(&queued.path))?;
        sync_dir(&to).map_err(io_error(&to))?;
        sync_dir(&self.pending).map_err(|e| self.io(e))?;
        self.forget_attempts(queued)
    }

    fn forget_attempts(&self, queued: &Queued) -> Result<(), OutboxError> {
        let path = self.retry_path(queued);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&path)(e)),
            _ => Ok(()),
        }
    }

    fn retry_path(&self, queued: &Queued) -> PathBuf {
        self.dir.join(RETRY).join(format!("{}.json", queued.key))
    }

    fn io(&self, source: io::Error) -> OutboxError {
        OutboxError::Io {
            path: self.pending.clone(),
            source,
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// The idempotency key of a queued result's file: `<20 digits>-<key>.json`, a regular file
/// (not a folder, link or FIFO) of at most [`MAX_RESULT_BYTES`].
fn result_key(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let (nanos, key) = name.strip_suffix(".json")?.split_once('-')?;
    let meta = fs::symlink_metadata(path).ok()?;
    let well_formed = nanos.len() == 20
        && nanos.bytes().all(|b| b.is_ascii_digit())
        && !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (well_formed && meta.is_file() && meta.len() <= MAX_RESULT_BYTES).then(|| key.to_owned())
}

/// A file being written (`.<name>.tmp`): removed when the outbox is next opened for writing.
fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Reads a regular file of at most [`MAX_RESULT_BYTES`] (checked before opening, so a FIFO
/// never blocks the reader).
fn read_result(path: &Path) -> Result<Vec<u8>, OutboxError> {
    let meta = fs::symlink_metadata(path).map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(io_error(path)(io::Error::other("not a regular file")));
    }
    let file = File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_RESULT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > MAX_RESULT_BYTES {
        return Err(io_error(path)(io::Error::other(
            "larger than a result can be",
        )));
    }
    Ok(bytes)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The entries of `dir`, sorted by name; none when `dir` does not exist.
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, OutboxError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut paths = entries
        .map(|e| e.map(|e| e.path()).map_err(io_error(dir)))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}
