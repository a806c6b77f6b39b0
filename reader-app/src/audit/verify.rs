//! Checking a chain of audit files: every line must carry the hash of the line before it and
//! the next seq; the last line must match `audit.head` when the folder has one.

use super::{sha256_hex, Head, CURRENT, GENESIS, HEAD};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// 1-based line number in `file`.
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
    /// The first file continues a chain from files not given.
    pub continues_earlier: bool,
    /// Whether `audit.head` was compared.
    pub head_checked: bool,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audit chain intact: {} events (seq {}–{}) in {} file(s)",
            self.events, self.first_seq, self.last_seq, self.files
        )?;
        if self.continues_earlier {
            write!(f, ", continuing an earlier file not given")?;
        }
        if self.head_checked {
            write!(f, "; {HEAD} matches")?;
        }
        Ok(())
    }
}

/// A line already checked: where it is, its seq and hash.
struct Link {
    file: PathBuf,
    line: usize,
    seq: u64,
    hash: String,
}

/// Verifies `paths` in order as one chain. A folder stands for its rotated files and
/// `audit.jsonl`, in order.
pub fn verify(paths: &[PathBuf]) -> Result<Verified, Finding> {
    let files = expand(paths)?;
    let mut links: Vec<Link> = Vec::new();
    let mut continues_earlier = false;
    for file in &files {
        let bytes = fs::read(file).map_err(|e| finding(file, 0, format!("cannot read: {e}")))?;
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        } else if !bytes.is_empty() {
            return Err(finding(
                file,
                lines.len(),
                "incomplete last line (truncated mid-line)".into(),
            ));
        }
        for (i, raw) in lines.into_iter().enumerate() {
            let n = i + 1;
            let link = check_line(file, n, raw, links.last(), &mut continues_earlier)?;
            links.push(link);
        }
    }
    let head_checked = check_head(&files, &links)?;
    Ok(Verified {
        files: files.len(),
        events: links.len() as u64,
        first_seq: links.first().map_or(0, |l| l.seq),
        last_seq: links.last().map_or(0, |l| l.seq),
        continues_earlier,
        head_checked,
    })
}

fn check_line(
    file: &Path,
    n: usize,
    raw: &[u8],
    before: Option<&Link>,
    continues_earlier: &mut bool,
) -> Result<Link, Finding> {
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|_| finding(file, n, "not a JSON line (edited or damaged)".into()))?;
    let seq = value.get("seq").and_then(|s| s.as_u64());
    let prev = value.get("prev").and_then(|p| p.as_str());
    let (Some(seq), Some(prev)) = (seq, prev) else {
        return Err(finding(file, n, "missing seq or prev (edited)".into()));
    };
    match before {
        None if seq == 1 && prev != GENESIS => {
            return Err(finding(file, n, "first event does not start the chain (edited)".into()))
        }
        None => *continues_earlier = seq != 1,
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
                    "edited: its hash differs from the one {}:{n} records",
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
        hash: sha256_hex(raw),
    })
}

/// Compares the chain with `audit.head` beside the last file, when that file is the
/// current `audit.jsonl`. Returns whether a head was compared.
fn check_head(files: &[PathBuf], links: &[Link]) -> Result<bool, Finding> {
    let Some(last_file) = files
        .last()
        .filter(|f| f.file_name().is_some_and(|n| n == CURRENT))
    else {
        return Ok(false);
    };
    let head_path = last_file.with_file_name(HEAD);
    let Ok(bytes) = fs::read(&head_path) else {
        return Ok(false);
    };
    let head: Head = serde_json::from_slice(&bytes)
        .map_err(|e| finding(&head_path, 1, format!("unreadable: {e}")))?;
    match links.iter().find(|l| l.seq == head.seq) {
        Some(l) if l.hash == head.hash => Ok(true),
        Some(l) => Err(finding(
            &l.file,
            l.line,
            format!("edited: its hash differs from the one {HEAD} records"),
        )),
        None => {
            let (file, line, seq) = links.last().map_or((last_file.as_path(), 0, 0), |l| {
                (l.file.as_path(), l.line, l.seq)
            });
            Err(finding(
                file,
                line,
                format!(
                    "truncated: the log ends at seq {seq} but {HEAD} records seq {}",
                    head.seq
                ),
            ))
        }
    }
}

/// Folders become their audit files: rotated ones by name, then `audit.jsonl`.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Finding> {
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
        let current = path.join(CURRENT);
        if current.exists() {
            files.push(current);
        }
    }
    Ok(files)
}

fn finding(file: &Path, line: usize, problem: String) -> Finding {
    Finding {
        file: file.to_owned(),
        line,
        problem,
    }
}
