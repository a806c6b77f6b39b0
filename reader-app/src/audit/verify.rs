//! Checking a chain of audit files: it must start at seq 1, every line must carry the keyed
//! hash of the line before it and the next seq, a rotated file's name must match its seqs, and
//! a folder's chain must end where its keyed `audit.head` says.

use super::key::{default_key_path, AuditKey};
use super::{Head, CURRENT, GENESIS, HEAD, MAX_LINE_BYTES};
use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// 1-based line number in `file` (0: the file as a whole).
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.problem)
    }
}

/// An intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub files: usize,
    pub events: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    /// The key every link was checked with.
    pub key: PathBuf,
    /// Whether `audit.head` was compared (always, for a folder).
    pub head_checked: bool,
    /// Events after the one `audit.head` names: written while the head could not be
    /// updated (a crash between the two writes; a writer that cannot update it refuses the
    /// event). Each is still keyed.
    pub head_lag: u64,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audit chain intact: {} events (seq {}–{}) in {} file(s), keyed by {}",
            self.events,
            self.first_seq,
            self.last_seq,
            self.files,
            self.key.display()
        )?;
        match (self.head_checked, self.head_lag) {
            (false, _) => {}
            (true, 0) => write!(f, "; {HEAD} matches")?,
            (true, lag) => write!(
                f,
                "; {HEAD} matches seq {}, {lag} later event(s) written while it could not be updated",
                self.last_seq - lag
            )?,
        }
        Ok(())
    }
}

/// A line already checked: where it is, its seq and keyed hash.
#[derive(Clone)]
struct Link {
    file: PathBuf,
    line: usize,
    seq: u64,
    hash: String,
}

/// [`verify_with_key`] with the key at [`default_key_path`] of the first folder given (or of
/// the first file's folder).
pub fn verify(paths: &[PathBuf]) -> Result<Verified, Finding> {
    let dir = paths.first().map_or(PathBuf::from("."), |p| {
        if p.is_dir() {
            p.clone()
        } else {
            p.parent().unwrap_or(Path::new(".")).to_owned()
        }
    });
    verify_with_key(paths, &default_key_path(&dir))
}

/// Verifies `paths` in order as one whole chain from seq 1, keyed by the key at `key_path`.
/// A folder stands for its rotated files and `audit.jsonl`, in order, and must hold both
/// `audit.jsonl` and `audit.head`; a list ending in `audit.jsonl` is compared with the head
/// beside it. Files are read a line at a time, so memory stays flat however long the log.
pub fn verify_with_key(paths: &[PathBuf], key_path: &Path) -> Result<Verified, Finding> {
    let key = AuditKey::load(key_path).map_err(|e| finding(&e.path, 0, e.problem))?;
    let (files, head_path) = expand(paths)?;
    let head = head_path
        .as_deref()
        .map(|path| read_head(path, &key))
        .transpose()?;
    let mut walk = Walk::default();
    for file in &files {
        let mut seqs: Option<(u64, u64)> = None;
        for_each_line(file, |n, raw| {
            let link = check_line(file, n, raw, walk.last.as_ref(), &key)?;
            seqs = Some((seqs.map_or(link.seq, |(first, _)| first), link.seq));
            walk.push(link, head.as_ref());
            Ok(())
        })?;
        check_rotated_name(file, seqs)?;
    }
    let (Some(first_seq), Some(last)) = (walk.first_seq, &walk.last) else {
        let place = paths.first().map_or(Path::new("."), PathBuf::as_path);
        return Err(finding(
            place,
            0,
            "no audit events: not an audit log, or every file was emptied or removed".into(),
        ));
    };
    let head_lag = match (&head, &head_path) {
        (Some(head), Some(path)) => check_head(path, head, walk.at_head.as_ref(), last)?,
        _ => 0,
    };
    Ok(Verified {
        files: files.len(),
        events: walk.events,
        first_seq,
        last_seq: last.seq,
        key: key.path().to_owned(),
        head_checked: head.is_some(),
        head_lag,
    })
}

/// What a pass over the chain keeps: the last line, the first seq, the count, and the line the
/// head names.
#[derive(Default)]
struct Walk {
    last: Option<Link>,
    first_seq: Option<u64>,
    events: u64,
    at_head: Option<Link>,
}

impl Walk {
    fn push(&mut self, link: Link, head: Option<&Head>) {
        self.first_seq.get_or_insert(link.seq);
        self.events += 1;
        if head.is_some_and(|h| h.seq == link.seq) {
            self.at_head = Some(link.clone());
        }
        self.last = Some(link);
    }
}

fn check_line(
    file: &Path,
    n: usize,
    raw: &[u8],
    before: Option<&Link>,
    key: &AuditKey,
) -> Result<Link, Finding> {
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|_| finding(file, n, "not a JSON line (edited or damaged)".into()))?;
    let seq = value.get("seq").and_then(|s| s.as_u64());
    let prev = value.get("prev").and_then(|p| p.as_str());
    let (Some(seq), Some(prev)) = (seq, prev) else {
        return Err(finding(file, n, "missing seq or prev (edited)".into()));
    };
    match before {
        None if seq != 1 => {
            return Err(finding(
                file,
                n,
                format!("the chain starts at seq {seq}, not 1: its start was cut or earlier files are missing"),
            ))
        }
        None if prev != GENESIS => {
            return Err(finding(file, n, "first event does not start the chain (edited)".into()))
        }
        None => {}
        Some(b) if seq != b.seq + 1 => {
            return Err(finding(
                file,
                n,
                format!(
                    "expected seq {} after {}:{}, found seq {seq}: lines removed, reordered or duplicated",
                    b.seq + 1,
                    b.file.display(),
                    b.line
                ),
            ))
        }
        Some(b) if prev != b.hash => {
            return Err(finding(
                &b.file,
                b.line,
                format!(
                    "edited: its keyed hash differs from the one {}:{n} records",
                    file.display()
                ),
            ))
        }
        Some(_) => {}
    }
    Ok(Link {
        file: file.to_owned(),
        line: n,
        seq,
        hash: key.tag(raw),
    })
}

/// A rotated file `audit-<first>-<last>.jsonl` must hold exactly those seqs (a renamed,
/// emptied or swapped file is found even where the seqs happen to continue).
fn check_rotated_name(file: &Path, seqs: Option<(u64, u64)>) -> Result<(), Finding> {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let Some(range) = name
        .strip_prefix("audit-")
        .and_then(|n| n.strip_suffix(".jsonl"))
    else {
        return Ok(());
    };
    let held = match seqs {
        Some((first, last)) => format!("{first:012}-{last:012}"),
        None => "no events".into(),
    };
    if held == range {
        Ok(())
    } else {
        Err(finding(
            file,
            0,
            format!("its name says seq {range} but it holds {held} (renamed, emptied or replaced)"),
        ))
    }
}

/// `audit.head` at `path`, whose tag `key` must verify.
fn read_head(path: &Path, key: &AuditKey) -> Result<Head, Finding> {
    let mut bytes = Vec::new();
    open_regular(path)?
        .take(MAX_LINE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| finding(path, 0, format!("cannot read: {e}")))?;
    let head: Head =
        serde_json::from_slice(&bytes).map_err(|e| finding(path, 1, format!("unreadable: {e}")))?;
    if !head.is_keyed_by(key) {
        return Err(finding(
            path,
            1,
            format!(
                "not written with the key {} (edited or replaced)",
                key.path().display()
            ),
        ));
    }
    Ok(head)
}

/// Compares the chain with the keyed `head`: it must name a line of the chain (`at_head`)
/// with that line's hash. Returns how many lines follow that one (the head lags after a crash
/// between appending and updating it, or while the disk is full).
fn check_head(
    path: &Path,
    head: &Head,
    at_head: Option<&Link>,
    last: &Link,
) -> Result<u64, Finding> {
    match at_head {
        Some(l) if l.hash != head.hash => Err(finding(
            &l.file,
            l.line,
            format!("edited: its keyed hash differs from the one {HEAD} records"),
        )),
        Some(l) => Ok(last.seq - l.seq),
        None if head.seq == 0 => Err(finding(path, 1, "records no event".into())),
        None => Err(finding(
            &last.file,
            last.line,
            format!(
                "truncated: the log ends at seq {} but {HEAD} records seq {}",
                last.seq, head.seq
            ),
        )),
    }
}

/// Calls `each` with the 1-based number and bytes (without the newline) of every line of
/// `path`, a regular file, reading one line at a time.
fn for_each_line(
    path: &Path,
    mut each: impl FnMut(usize, &[u8]) -> Result<(), Finding>,
) -> Result<(), Finding> {
    let mut reader = BufReader::new(open_regular(path)?);
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| finding(path, n, format!("cannot read: {e}")))?;
        match line.pop() {
            None => return Ok(()),
            Some(b'\n') => each(n, &line)?,
            Some(_) if line.len() as u64 >= MAX_LINE_BYTES => {
                return Err(finding(
                    path,
                    n,
                    "longer than any audit line (edited)".into(),
                ))
            }
            Some(_) => {
                return Err(finding(
                    path,
                    n,
                    "incomplete last line (truncated mid-line)".into(),
                ))
            }
        }
    }
    Ok(())
}

/// Opens `path`, a regular file (a FIFO or device would hang or never end); its lines are read
/// with a cap each, so the file itself has none.
fn open_regular(path: &Path) -> Result<File, Finding> {
    crate::capped_file::open(path, u64::MAX).map_err(|refusal| match refusal {
        crate::capped_file::Refusal::Io(e) => finding(path, 0, format!("cannot read: {e}")),
        other => finding(path, 0, other.to_string()),
    })
}

/// The files to check in order, and the head to compare: a folder becomes its rotated files
/// by name, then `audit.jsonl` (both it and `audit.head` must exist); when the last file is an
/// `audit.jsonl`, the `audit.head` beside it must exist and is compared.
fn expand(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Option<PathBuf>), Finding> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut rotated: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| finding(path, 0, format!("cannot read: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
            })
            .collect();
        rotated.sort();
        files.extend(rotated);
        for name in [CURRENT, HEAD] {
            if !path.join(name).exists() {
                return Err(finding(
                    &path.join(name),
                    0,
                    "missing: removed, or not an audit log folder".into(),
                ));
            }
        }
        files.push(path.join(CURRENT));
    }
    let head = files
        .last()
        .filter(|f| f.file_name().is_some_and(|n| n == CURRENT))
        .map(|f| f.with_file_name(HEAD));
    if let Some(head) = head.as_ref().filter(|h| !h.exists()) {
        return Err(finding(
            head,
            0,
            "missing beside the current file (removed)".into(),
        ));
    }
    Ok((files, head))
}

fn finding(file: &Path, line: usize, problem: String) -> Finding {
    Finding {
        file: file.to_owned(),
        line,
        problem,
    }
}
