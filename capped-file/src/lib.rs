//! Reading a file only when it is a regular file no larger than a cap, so a FIFO, a device such
//! as `/dev/zero` or a runaway file cannot hang or exhaust the kiosk and its tools.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("not a regular file (a FIFO, device or folder is never read)")]
    NotRegular,
    #[error("{size} bytes, more than the {limit} allowed")]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Checks, without opening it, that `path` is a regular file of at most `limit` bytes.
pub fn check(path: &Path, limit: u64) -> Result<(), Refusal> {
    admit(&std::fs::metadata(path)?, limit)
}

/// A regular file of at most `limit` bytes, by its metadata.
fn admit(meta: &std::fs::Metadata, limit: u64) -> Result<(), Refusal> {
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

/// Opens `path` if it is a regular file of at most `limit` bytes. The file is opened without
/// waiting (a FIFO with no writer does not block) and checked through the open descriptor, so
/// what was checked is what is read.
pub fn open(path: &Path, limit: u64) -> Result<File, Refusal> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    admit(&file.metadata()?, limit)?;
    Ok(file)
}

/// The bytes of `path`, a regular file of at most `limit` bytes (also if it grows meanwhile).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let mut bytes = Vec::new();
    let read = open(path, limit)?.take(limit + 1).read_to_end(&mut bytes)?;
    if read as u64 > limit {
        return Err(Refusal::TooLarge {
            size: read as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The text of `path`, a regular file of at most `limit` bytes (also if it grows meanwhile).
pub fn read_text(path: &Path, limit: u64) -> Result<String, Refusal> {
    String::from_utf8(read(path, limit)?)
        .map_err(|e| Refusal::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_large_files_are_refused() {
        let e = read_text(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(e, Refusal::NotRegular), "{e}");
        let e = read_text(Path::new("/"), 1 << 20).unwrap_err();
        assert!(matches!(e, Refusal::NotRegular), "{e}");
        let dir = std::env::temp_dir().join(format!("mynakiosk-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.toml");
        std::fs::write(&big, "a".repeat(2048)).unwrap();
        let e = read_text(&big, 1024).unwrap_err();
        assert_eq!(e.to_string(), "2048 bytes, more than the 1024 allowed");
        assert_eq!(read_text(&big, 4096).unwrap().len(), 2048);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("model.onnx");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = open(&fifo, 1 << 20).unwrap_err();
        assert!(matches!(e, Refusal::NotRegular), "{e}");
        let e = read(&fifo, 1 << 20).unwrap_err();
        assert!(matches!(e, Refusal::NotRegular), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
