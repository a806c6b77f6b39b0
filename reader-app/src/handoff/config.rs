//! `[handoff]` and `[qualification]`: where verified results go, how long delivery may take,
//! and the qualification service; URLs are plain `http://` to loopback unless allowed otherwise.

use serde::Deserialize;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::setting::{absolute, Invalid};

/// Where verified results go and how they wait for the reception system.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HandoffConfig {
    /// The sink: `http`, `unix`, `file`, or `none` (results stay queued in the outbox).
    pub sink: SinkKind,
    /// `sink = "http"`: the receiver's URL (`http://`, loopback unless `allow_non_loopback`).
    pub http_url: String,
    /// Lets `http_url` name another host (results then cross a network without TLS).
    pub allow_non_loopback: bool,
    /// `sink = "unix"`: the receiver's socket (newline-delimited JSON, one ack line per result).
    pub unix_socket: PathBuf,
    /// `sink = "file"`: the folder results are dropped into (write, fsync, rename).
    pub drop_dir: PathBuf,
    /// The durable outbox: results wait here until the sink acknowledges them.
    pub outbox_dir: PathBuf,
    /// Bound on one delivery attempt, in milliseconds.
    pub timeout_ms: u64,
    /// First retry delay after a failed delivery, in milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

/// The kind of hand-off sink.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    Http,
    Unix,
    File,
    None,
}

/// The qualification service (the bundled simulator in a demo).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QualificationConfig {
    /// Base URL (`http://`, loopback); empty: the kiosk does not query qualification itself.
    pub url: String,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        Self {
            sink: SinkKind::Http,
            http_url: "http://127.0.0.1:8750/results".into(),
            allow_non_loopback: false,
            unix_socket: "/run/mynakiosk/reception.sock".into(),
            drop_dir: "/var/lib/mynakiosk/drop".into(),
            outbox_dir: "/var/lib/mynakiosk/outbox".into(),
            timeout_ms: 5000,
            retry_initial_ms: 1000,
            retry_max_ms: 60_000,
        }
    }
}

impl HandoffConfig {
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        match self.sink {
            SinkKind::Http => {
                http_url("handoff.http_url", &self.http_url, self.allow_non_loopback)?
            }
            SinkKind::Unix => absolute("handoff.unix_socket", &self.unix_socket)?,
            SinkKind::File => absolute("handoff.drop_dir", &self.drop_dir)?,
            SinkKind::None => {}
        }
        absolute("handoff.outbox_dir", &self.outbox_dir)?;
        Invalid::check_range("handoff.timeout_ms", self.timeout_ms, 100..=120_000)?;
        let initial = self.retry_initial_ms;
        Invalid::check_range("handoff.retry_initial_ms", initial, 100..=3_600_000)?;
        if !(self.retry_initial_ms..=3_600_000).contains(&self.retry_max_ms) {
            let expected = format!("{} (retry_initial_ms) to 3600000", self.retry_initial_ms);
            return Err(Invalid::new(
                "handoff.retry_max_ms",
                expected,
                self.retry_max_ms,
            ));
        }
        Ok(())
    }
}

impl QualificationConfig {
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        if self.url.is_empty() {
            return Ok(());
        }
        http_url("qualification.url", &self.url, false)
    }
}

fn http_url(key: &'static str, url: &str, allow_non_loopback: bool) -> Result<(), Invalid> {
    check_url(url, allow_non_loopback)
        .map_err(|expected| Invalid::new(key, expected, format!("{url:?}")))
}

/// Whether `url` is an `http://` URL with a host, on loopback unless `allow_non_loopback`; the
/// error says what was expected.
fn check_url(url: &str, allow_non_loopback: bool) -> Result<(), &'static str> {
    let expected_http = "an http:// URL with a host, e.g. http://127.0.0.1:8750/results";
    let uri: ureq::http::Uri = url.parse().map_err(|_| expected_http)?;
    let host = match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(host)) => host,
        _ => return Err(expected_http),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if allow_non_loopback || loopback {
        Ok(())
    } else {
        Err("a loopback host (127.0.0.1, [::1] or localhost); set handoff.allow_non_loopback = true to send elsewhere")
    }
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn urls_are_http_with_a_host_and_loopback_unless_allowed() {
        for ok in [
            "http://127.0.0.1:8750/results",
            "http://[::1]/r",
            "http://LOCALHOST:1/",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        let e = check_url("http://192.168.1.20/results", false).unwrap_err();
        assert!(e.contains("allow_non_loopback"), "{e}");
        assert!(check_url("http://192.168.1.20/results", true).is_ok());
        for bad in [
            "https://127.0.0.1/",
            "127.0.0.1:8750",
            "http:///x",
            "ftp://127.0.0.1/",
        ] {
            assert!(
                check_url(bad, true).unwrap_err().contains("http://"),
                "{bad}"
            );
        }
    }
}
