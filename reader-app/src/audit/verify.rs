//! Checking a chain of audit files: it must start at seq 1, every line must carry the keyed
//! hash of the line before it and the next seq, a rotated file's name must match its seqs, and
//! a folder's chain must end where its keyed `audit.head` says.

use super::key::{default_key_path, AuditKey};
use super::{Head, CURRENT, GENESIS, HEAD, MAX_LINE_BYTES};
use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
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
        walk.file(file, Position::default(), &key, head.as_ref())?;
    }
    let place = paths.first().map_or(Path::new("."), PathBuf::as_path);
    walk.verdict(
        place,
        files.len(),
        &key,
        head.as_ref().zip(head_path.as_deref()),
    )
}

/// How far an audit folder's chain was verified: the files verified to their end (rotated
/// files, which never change again), the file being written up to its last verified line, and
/// the walk's state there. Given to [`verify_appended`], it spares reading those lines again.
#[derive(Clone)]
pub struct Checkpoint {
    done: Vec<Stamp>,
    open: Stamp,
    /// Where the open file's verified part ends.
    at: Position,
    walk: Walk,
}

/// A file as verified: its name, identity, length and modification time.
#[derive(Clone, PartialEq, Eq)]
struct Stamp {
    path: PathBuf,
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
}

impl Stamp {
    fn of(path: &Path) -> Result<Self, Finding> {
        let meta = fs::metadata(path).map_err(|e| finding(path, 0, format!("cannot read: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
        })
    }
}

/// [`verify_with_key`] of the folder `dir`, reading only what was appended since `since` (an
/// earlier pass's checkpoint). The verified part is taken as is only while its rotated files
/// keep their names, identity, length and time, the file then being written is the same file
/// (perhaps rotated into the next name) and no shorter, and its last verified line still has
/// its keyed hash; the head is read and compared every time. Anything else (a file replaced,
/// cut, removed or renamed, the head set back) verifies the whole chain again, so the verdict
/// is [`verify_with_key`]'s. A line edited in place within the verified part without changing
/// the file's length is found by a whole pass (`audit-verify`, `diagnose`), not by this one.
pub fn verify_appended(
    dir: &Path,
    key_path: &Path,
    since: Option<&Checkpoint>,
) -> Result<(Verified, Checkpoint), Finding> {
    let key = AuditKey::load(key_path).map_err(|e| finding(&e.path, 0, e.problem))?;
    let (files, head_path) = expand(&[dir.to_owned()])?;
    let head_path = head_path.unwrap_or_else(|| dir.join(HEAD));
    let head = read_head(&head_path, &key)?;
    // Taken before reading: a file changed while it is read is not taken as verified later.
    let stamps = files
        .iter()
        .map(|f| Stamp::of(f))
        .collect::<Result<Vec<_>, _>>()?;
    let resumed = since.and_then(|c| c.resume(&stamps, &head, &key));
    let (mut walk, first, mut at) = resumed.unwrap_or_default();
    for (i, file) in files.iter().enumerate().skip(first) {
        let from = if i == first { at } else { Position::default() };
        at = walk.file(file, from, &key, Some(&head))?;
    }
    let verified = walk.verdict(dir, files.len(), &key, Some((&head, &head_path)))?;
    let (open, done) = stamps.split_last().expect("a folder lists audit.jsonl");
    let checkpoint = Checkpoint {
        done: done.to_vec(),
        open: open.clone(),
        at,
        walk,
    };
    Ok((verified, checkpoint))
}

impl Checkpoint {
    /// Where to go on from, if the verified part is still what was verified: the walk, the
    /// index in `now` of the file to go on in, and the position in it.
    fn resume(
        &self,
        now: &[Stamp],
        head: &Head,
        key: &AuditKey,
    ) -> Option<(Walk, usize, Position)> {
        let k = self.done.len();
        let open = now.get(k)?;
        let same_open = (open.dev, open.ino) == (self.open.dev, self.open.ino);
        if now[..k] != self.done[..] || !same_open || open.len < self.at.offset {
            return None;
        }
        let last = self.walk.last.as_ref()?;
        if self.at.offset > 0 {
            let line = read_line_at(&open.path, self.at.last_start, self.at.offset)?;
            if key.tag(&line) != last.hash {
                return None;
            }
        }
        let mut walk = self.walk.clone();
        match &walk.at_head {
            Some(at) if at.seq == head.seq => {}
            _ if head.seq > last.seq => walk.at_head = None,
            _ => return None,
        }
        Some((walk, k, self.at))
    }
}

/// The line in `[start, end)` of `path` without its newline, if it is a whole line.
fn read_line_at(path: &Path, start: u64, end: u64) -> Option<Vec<u8>> {
    let mut file = open_regular(path).ok()?;
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = vec![0; usize::try_from(end.checked_sub(start)?).ok()?];
    file.read_exact(&mut bytes).ok()?;
    (bytes.pop() == Some(b'\n')).then_some(bytes)
}

/// Where a file's verified part ends: the byte after its last verified line, where that line
/// starts, how many lines it holds and the seq of its first.
#[derive(Clone, Copy, Default)]
struct Position {
    offset: u64,
    last_start: u64,
    lines: usize,
    first_seq: Option<u64>,
}

/// What a pass over the chain keeps: the last line, the first seq, the count, and the line the
/// head names.
#[derive(Default, Clone)]
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

    /// Checks the lines of `file` from `from` on, then a rotated file's name against its
    /// seqs; returns where its verified part ends.
    fn file(
        &mut self,
        file: &Path,
        from: Position,
        key: &AuditKey,
        head: Option<&Head>,
    ) -> Result<Position, Finding> {
        let mut at = from;
        for_each_line(file, from.offset, from.lines, |n, raw, start| {
            let link = check_line(file, n, raw, self.last.as_ref(), key)?;
            at.first_seq.get_or_insert(link.seq);
            at = Position {
                offset: start + raw.len() as u64 + 1,
                last_start: start,
                lines: n,
                ..at
            };
            self.push(link, head);
            Ok(())
        })?;
        let last_seq = self.last.as_ref().map(|l| l.seq);
        check_rotated_name(file, at.first_seq.zip(last_seq))?;
        Ok(at)
    }

    /// The outcome once every file (`files` of them) is walked, compared with `head` (and the
    /// path it was read from) if given; `place` is named when there were no events at all.
    fn verdict(
        &self,
        place: &Path,
        files: usize,
        key: &AuditKey,
        head: Option<(&Head, &Path)>,
    ) -> Result<Verified, Finding> {
        let (Some(first_seq), Some(last)) = (self.first_seq, &self.last) else {
            return Err(finding(
                place,
                0,
                "no audit events: not an audit log, or every file was emptied or removed".into(),
            ));
        };
        let head_lag = match head {
            Some((head, path)) => check_head(path, head, self.at_head.as_ref(), last)?,
            None => 0,
        };
        Ok(Verified {
            files,
            events: self.events,
            first_seq,
            last_seq: last.seq,
            key: key.path().to_owned(),
            head_checked: head.is_some(),
            head_lag,
        })
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

/// Calls `each` with the 1-based number, bytes (without the newline) and starting offset of
/// every line of `path`, a regular file, from byte `offset` on (where line `lines` ended),
/// reading one line at a time.
fn for_each_line(
    path: &Path,
    offset: u64,
    lines: usize,
    mut each: impl FnMut(usize, &[u8], u64) -> Result<(), Finding>,
) -> Result<(), Finding> {
    let mut file = open_regular(path)?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| finding(path, lines, format!("cannot read: {e}")))?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut start = offset;
    for n in lines + 1.. {
        line.clear();
        (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| finding(path, n, format!("cannot read: {e}")))?;
        let read = line.len() as u64;
        match line.pop() {
            None => return Ok(()),
            Some(b'\n') => each(n, &line, start)?,
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
        start += read;
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
