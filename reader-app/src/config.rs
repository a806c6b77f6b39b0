//! The kiosk's TOML configuration: documented defaults, precise errors.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Everything an integrator can set. Unknown keys are errors, so typos never pass silently.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Identifies this kiosk in logs and hand-off results.
    pub kiosk_id: String,
    pub reader: ReaderConfig,
    pub face: FaceConfig,
    pub demo: DemoConfig,
    pub session: crate::session::Settings,
    pub staff: crate::kiosk::staff::StaffConfig,
    pub voice: crate::voice::VoiceConfig,
}

/// Which PC/SC reader the kiosk uses.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderConfig {
    /// Case-insensitive substring of the reader name; empty means every reader.
    pub name: String,
}

/// ONNX Runtime and the face models.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    /// Path of `libonnxruntime.so`.
    pub onnx_runtime: PathBuf,
    /// Folder holding the folded YuNet and SFace models.
    pub models_dir: PathBuf,
    /// Threads ONNX Runtime may use per inference.
    pub threads: usize,
}

/// The demo's virtual card (a simulator, never used by `run`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// TCP port of the vpcd slot the virtual card plugs into.
    pub vpcd_port: u16,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            kiosk_id: "kiosk-1".into(),
            reader: ReaderConfig::default(),
            face: FaceConfig::default(),
            demo: DemoConfig::default(),
            session: Default::default(),
            staff: Default::default(),
            voice: Default::default(),
        }
    }
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            onnx_runtime: built_in_path(
                option_env!("MYNAKIOSK_ORT_DYLIB"),
                "/usr/lib/mynakiosk/libonnxruntime.so.1.31.1",
            ),
            models_dir: built_in_path(
                option_env!("MYNAKIOSK_MODELS_DIR"),
                "/usr/share/mynakiosk/models",
            ),
            threads: 2,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self { vpcd_port: 35963 }
    }
}

/// A development build knows where `scripts/setup.sh` put its files; an installed one
/// uses the packaged location.
fn built_in_path(from_build: Option<&str>, installed: &str) -> PathBuf {
    PathBuf::from(from_build.unwrap_or(installed))
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`, or returns the defaults when no path is given.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses TOML text; the error names line, column, key and what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.kiosk_id.trim().is_empty() {
            return Err("kiosk_id: must not be empty".into());
        }
        if !(1..=16).contains(&self.face.threads) {
            return Err(format!(
                "face.threads: expected 1 to 16, found {}",
                self.face.threads
            ));
        }
        self.staff.validate().map_err(|e| e.to_string())?;
        self.voice.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn values_override_defaults() {
        let c = Config::parse("kiosk_id = \"east-2\"\n[reader]\nname = \"SONY\"\n").unwrap();
        assert_eq!(c.kiosk_id, "east-2");
        assert_eq!(c.reader.name, "SONY");
        assert_eq!(c.face.threads, 2);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = Config::parse("[reader]\nnmae = \"x\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("unknown field `nmae`"), "{e}");
        assert!(e.contains("expected `name`"), "{e}");
    }

    #[test]
    fn wrong_type_names_expected_type() {
        let e = Config::parse("[face]\nthreads = \"two\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(
            e.contains("invalid type: string \"two\", expected usize"),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_threads_is_rejected() {
        let e = Config::parse("[face]\nthreads = 0\n").unwrap_err();
        assert_eq!(e, "face.threads: expected 1 to 16, found 0");
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let e = Config::load(Some(Path::new("/nonexistent/mynakiosk.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(e.to_string().contains("/nonexistent/mynakiosk.toml"));
    }
}
