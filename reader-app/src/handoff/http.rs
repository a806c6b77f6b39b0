//! HTTP to local services (the reception system, the qualification service): plain HTTP,
//! loopback only unless the configuration allows another host, no proxy, no redirects.

use super::sink::{Sink, SinkError};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;
use ureq::http::Uri;

/// Parses `url` and checks it is `http://` to a loopback host (any host when
/// `allow_non_loopback`). The error says what was expected.
pub fn check_url(url: &str, allow_non_loopback: bool) -> Result<Uri, String> {
    let expected_http = "an http:// URL with a host, e.g. http://127.0.0.1:8750/results";
    let uri: Uri = url.parse().map_err(|_| expected_http.to_owned())?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(expected_http.into());
    }
    if !allow_non_loopback && !is_loopback(uri.host().unwrap_or_default()) {
        return Err(
            "a loopback host (127.0.0.1, [::1] or localhost); set handoff.allow_non_loopback = true to send elsewhere"
                .into(),
        );
    }
    Ok(uri)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

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
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
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
    timeout: Duration,
    agent: ureq::Agent,
}

impl HttpSink {
    pub fn new(url: &str, timeout: Duration) -> Self {
        Self {
            url: url.into(),
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
            .map_err(|e| SinkError::Unreachable(format!("{}: {e}", self.url)))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            400 | 413 | 415 | 422 => {
                Err(SinkError::Refused(format!("{}: HTTP {status}", self.url)))
            }
            _ => Err(SinkError::Failed(format!("{}: HTTP {status}", self.url))),
        }
    }

    fn probe(&self) -> Result<(), SinkError> {
        probe_tcp(&self.url, self.timeout).map_err(SinkError::Unreachable)
    }

    fn describe(&self) -> String {
        format!("HTTP POST {}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_pass_and_others_need_permission() {
        for ok in [
            "http://127.0.0.1:8750/results",
            "http://[::1]/r",
            "http://localhost:9/",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        let e = check_url("http://192.168.1.20/results", false).unwrap_err();
        assert!(e.contains("allow_non_loopback"), "{e}");
        assert!(check_url("http://192.168.1.20/results", true).is_ok());
        for bad in ["https://127.0.0.1/", "127.0.0.1:80", "ftp://localhost/", ""] {
            assert!(
                check_url(bad, true).unwrap_err().contains("http://"),
                "{bad}"
            );
        }
    }
}
