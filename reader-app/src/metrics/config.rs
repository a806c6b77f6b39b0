//! `[metrics]`: the Prometheus endpoint, off by default, on loopback unless allowed otherwise.

use serde::Deserialize;
use std::net::SocketAddr;

use crate::setting::Invalid;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics`.
    pub enabled: bool,
    /// Address and port of the endpoint.
    pub listen: SocketAddr,
    /// Lets `listen` be another address than loopback (the series then cross a network).
    pub allow_non_loopback: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            allow_non_loopback: false,
        }
    }
}

impl MetricsConfig {
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        if self.listen.ip().is_loopback() || self.allow_non_loopback {
            return Ok(());
        }
        Err(Invalid::new(
            "metrics.listen",
            "a loopback address (or allow_non_loopback = true)",
            self.listen,
        ))
    }

    /// What `diagnose` says of the endpoint.
    pub fn describe(&self) -> String {
        if self.enabled {
            format!("http://{}/metrics", self.listen)
        } else {
            "off ([metrics] enabled = false)".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_endpoint_is_off_and_on_loopback_by_default_and_refuses_other_addresses() {
        let c = Config::parse("").unwrap();
        assert!(!c.metrics.enabled);
        assert!(c.metrics.listen.ip().is_loopback());
        let err = Config::parse("[metrics]\nenabled = true\nlisten = \"0.0.0.0:9464\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics.listen"), "{err}");
        let open = "[metrics]\nlisten = \"0.0.0.0:9464\"\nallow_non_loopback = true\n";
        assert!(Config::parse(open).is_ok());
    }
}
