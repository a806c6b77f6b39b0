//! `[console]`: the reception console, off by default; when on, HTTPS only (certificate and key
//! files), signed in with a `[staff]` PIN or the reception token from a file.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::capped_file;
use crate::setting::Invalid;

/// The largest token file read.
const MAX_TOKEN_BYTES: u64 = 4096;
/// The shortest reception token accepted (characters, after trimming).
pub const MIN_TOKEN_CHARS: usize = 32;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve the console.
    pub enabled: bool,
    /// Address and port the console binds to (the reception PC reaches it there).
    pub listen: SocketAddr,
    /// The server certificate chain (PEM).
    pub tls_cert: PathBuf,
    /// The server's private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub tls_key: PathBuf,
    /// A file holding the reception token (at least 32 characters); empty: staff PINs only.
    pub token_file: PathBuf,
    /// Refused sign-ins allowed per address per minute; more are refused unchecked.
    pub max_failures_per_minute: u32,
    /// How long a sign-in lasts.
    pub session_minutes: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            token_file: PathBuf::new(),
            max_failures_per_minute: 5,
            session_minutes: 480,
        }
    }
}

/// Why the console's files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleFileError {
    #[error("console.tls_cert {path}: {why}")]
    Cert { path: String, why: String },
    #[error("console.tls_key {path}: {why}")]
    Key { path: String, why: String },
    #[error("console.token_file {path}: {why}")]
    Token { path: String, why: String },
}

impl ConsoleConfig {
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        if !self.enabled {
            return Ok(());
        }
        for (key, path) in [
            ("console.tls_cert", &self.tls_cert),
            ("console.tls_key", &self.tls_key),
        ] {
            if path.as_os_str().is_empty() {
                return Err(Invalid::new(
                    key,
                    "a PEM file (the console serves HTTPS only)",
                    "nothing",
                ));
            }
        }
        if !(1..=100).contains(&self.max_failures_per_minute) {
            return Err(Invalid::new(
                "console.max_failures_per_minute",
                "1 to 100",
                self.max_failures_per_minute,
            ));
        }
        if !(1..=24 * 60).contains(&self.session_minutes) {
            return Err(Invalid::new(
                "console.session_minutes",
                "1 to 1440",
                self.session_minutes,
            ));
        }
        Ok(())
    }

    /// The reception token, when a token file is configured.
    pub fn token(&self) -> Result<Option<zeroize::Zeroizing<String>>, ConsoleFileError> {
        if self.token_file.as_os_str().is_empty() {
            return Ok(None);
        }
        let error = |why: String| ConsoleFileError::Token {
            path: self.token_file.display().to_string(),
            why,
        };
        let text = zeroize::Zeroizing::new(
            capped_file::read_text(&self.token_file, MAX_TOKEN_BYTES)
                .map_err(|e| error(e.to_string()))?,
        );
        let token = text.trim();
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(error(format!(
                "the token has fewer than {MIN_TOKEN_CHARS} characters"
            )));
        }
        Ok(Some(zeroize::Zeroizing::new(token.to_owned())))
    }

    /// What `diagnose` says of the console: its address, or why it cannot start.
    pub fn describe(&self) -> Result<String, ConsoleFileError> {
        if !self.enabled {
            return Ok("off ([console] enabled = false)".into());
        }
        super::tls::server_config(self)?;
        let token = if self.token()?.is_some() {
            "staff PINs or the reception token"
        } else {
            "staff PINs"
        };
        Ok(format!("https://{} ({token})", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_console_is_off_by_default_and_needs_tls_when_on() {
        let c = Config::parse("").unwrap();
        assert!(!c.console.enabled);
        let err = Config::parse("[console]\nenabled = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("console.tls_cert"), "{err}");
        let err = Config::parse("[console]\nenabled = true\ntls_cert = \"c.pem\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("console.tls_key"), "{err}");
    }

    #[test]
    fn a_short_or_special_token_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short");
        std::fs::write(&short, "abc\n").unwrap();
        let mut c = super::ConsoleConfig {
            token_file: short,
            ..Default::default()
        };
        let e = c.token().unwrap_err().to_string();
        assert!(e.contains("fewer than 32"), "{e}");
        c.token_file = "/dev/zero".into();
        let e = c.token().unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let good = dir.join("good");
        std::fs::write(&good, format!("{}\n", "t".repeat(40))).unwrap();
        c.token_file = good;
        assert_eq!(c.token().unwrap().unwrap().as_str(), "t".repeat(40));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
