//! HTTP to local services (the reception system, the qualification service): plain HTTP,
//! loopback only unless the configuration allows another host, no proxy, no redirects.

use super::sink::{Sink, SinkError};
use crate::setting::redact_credentials;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;
use ureq::http::Uri;

/// A blocking client bounded by `timeout` per request.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into()
}

/// Opens and closes a TCP connection to the host and port of `url`.
pub fn probe_tcp(url: &str, timeout: Duration) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("{}: {e}", redact_credentials(url)))?;
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(80);
    let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port}: no address"))?;
    TcpStream::connect_timeout(&addr, timeout)
        .map(drop)
        .map_err(|e| format!("{addr}: {e}"))
}

/// POSTs each result as `application/json` with an `Idempotency-Key` header; any 2xx
/// acknowledges it, 400/413/415/422 refuse it, anything else is retried.
pub struct HttpSink {
    url: String,
    /// The URL as messages show it: credentials redacted.
    shown: String,
    timeout: Duration,
    agent: ureq::Agent,
}

impl HttpSink {
    pub fn new(url: &str, timeout: Duration) -> Self {
        Self {
            url: url.into(),
            shown: redact_credentials(url),
            timeout,
            agent: agent(timeout),
        }
    }
}

impl Sink for HttpSink {
    fn send(&self, key: &str, body: &[u8]) -> Result<(), SinkError> {
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .send(body)
            .map_err(|e| SinkError::Unreachable(format!("{}: {e}", self.shown)))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            400 | 413 | 415 | 422 => {
                Err(SinkError::Refused(format!("{}: HTTP {status}", self.shown)))
            }
            _ => Err(SinkError::Failed(format!("{}: HTTP {status}", self.shown))),
        }
    }

    fn probe(&self) -> Result<(), SinkError> {
        probe_tcp(&self.url, self.timeout).map_err(SinkError::Unreachable)
    }

    fn describe(&self) -> String {
        format!("HTTP POST {}", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_messages_never_show_url_credentials() {
        let sink = HttpSink::new(
            "http://clinic:s3cret@127.0.0.1:9/results",
            Duration::from_millis(200),
        );
        assert!(!sink.describe().contains("s3cret"), "{}", sink.describe());
        let failure = sink.send("k", b"{}").unwrap_err();
        assert!(!format!("{failure:?}").contains("s3cret"), "{failure:?}");
    }
}
