//! Where results go: an HTTP endpoint, a Unix socket or a drop folder. A sink either
//! acknowledges a result, cannot be reached (retry later), or refuses it (never retried).

use super::config::{HandoffConfig, SinkKind};
use super::durable::write_atomically;
use super::http::HttpSink;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Why a delivery did not complete.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SinkError {
    /// The receiver could not be reached or did not acknowledge: the result stays queued.
    #[error("reception system unreachable: {0}")]
    Unreachable(String),
    /// The receiver answered but did not take this result (HTTP 5xx, a wrong ack): retried
    /// with its own backoff, given up on (`dead/`) after repeated failures.
    #[error("reception system failed to take the result: {0}")]
    Failed(String),
    /// The receiver answered that the result is malformed: retrying cannot help.
    #[error("reception system refused the result: {0}")]
    Refused(String),
}

/// A receiver of results. The receiver keeps the first result per idempotency key and
/// acknowledges repeats, so a result resent after a crash is not processed twice.
pub trait Sink: Send {
    /// Delivers one result; `Ok` means the receiver has it durably.
    fn send(&self, key: &str, body: &[u8]) -> Result<(), SinkError>;
    /// Checks that the receiver is there, without sending a result.
    fn probe(&self) -> Result<(), SinkError>;
    /// Where results go, for logs and `diagnose`.
    fn describe(&self) -> String;
}

/// The sink `config` names, or `None` for `sink = "none"`.
pub fn from_config(config: &HandoffConfig) -> Option<Box<dyn Sink>> {
    let timeout = Duration::from_millis(config.timeout_ms);
    match config.sink {
        SinkKind::Http => Some(Box::new(HttpSink::new(&config.http_url, timeout))),
        SinkKind::Unix => Some(Box::new(UnixSink {
            path: config.unix_socket.clone(),
            timeout,
        })),
        SinkKind::File => Some(Box::new(FileDrop {
            dir: config.drop_dir.clone(),
        })),
        SinkKind::None => None,
    }
}

/// Newline-delimited JSON over a Unix socket: one result line out, one ack line back,
/// `{"ack":"<idempotency key>"}` (or `{"refused":"<reason>"}`).
pub struct UnixSink {
    pub path: PathBuf,
    pub timeout: Duration,
}

impl UnixSink {
    fn connect(&self) -> Result<UnixStream, SinkError> {
        let unreachable =
            |e: std::io::Error| SinkError::Unreachable(format!("{}: {e}", self.path.display()));
        let stream = UnixStream::connect(&self.path).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        Ok(stream)
    }
}

impl Sink for UnixSink {
    fn send(&self, key: &str, body: &[u8]) -> Result<(), SinkError> {
        let unreachable =
            |e: std::io::Error| SinkError::Unreachable(format!("{}: {e}", self.path.display()));
        let mut stream = self.connect()?;
        let mut line = body.to_vec();
        line.push(b'\n');
        stream.write_all(&line).map_err(unreachable)?;
        let mut ack = String::new();
        BufReader::new(&stream)
            .read_line(&mut ack)
            .map_err(unreachable)?;
        let ack: serde_json::Value = serde_json::from_str(&ack).map_err(|_| {
            SinkError::Unreachable(format!("no ack line from {}", self.path.display()))
        })?;
        if let Some(reason) = ack.get("refused") {
            return Err(SinkError::Refused(reason.to_string()));
        }
        match ack.get("ack").and_then(|a| a.as_str()) {
            Some(k) if k == key => Ok(()),
            _ => Err(SinkError::Failed(format!(
                "{} acknowledged {ack} instead of {key}",
                self.path.display()
            ))),
        }
    }

    fn probe(&self) -> Result<(), SinkError> {
        self.connect().map(drop)
    }

    fn describe(&self) -> String {
        format!("unix socket {}", self.path.display())
    }
}

/// A folder the receiver polls: `<idempotency key>.json`, written whole (fsync, rename).
pub struct FileDrop {
    pub dir: PathBuf,
}

impl Sink for FileDrop {
    fn send(&self, key: &str, body: &[u8]) -> Result<(), SinkError> {
        write_atomically(&self.dir, &format!("{key}.json"), body)
            .map_err(|e| SinkError::Unreachable(format!("{}: {e}", self.dir.display())))
    }

    fn probe(&self) -> Result<(), SinkError> {
        let meta = std::fs::metadata(&self.dir)
            .map_err(|e| SinkError::Unreachable(format!("{}: {e}", self.dir.display())))?;
        if !meta.is_dir() {
            return Err(SinkError::Unreachable(format!(
                "{} is not a folder",
                self.dir.display()
            )));
        }
        write_atomically(&self.dir, ".probe", b"")
            .and_then(|()| std::fs::remove_file(self.dir.join(".probe")))
            .map_err(|e| SinkError::Unreachable(format!("{}: {e}", self.dir.display())))
    }

    fn describe(&self) -> String {
        format!("drop folder {}", self.dir.display())
    }
}
