//! `[demo]`: the demo's virtual card slot and the impostor's images.

use serde::Deserialize;
use std::path::PathBuf;

use crate::setting::Invalid;

/// The demo's virtual card (a simulator, never used by `run`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// TCP port of the vpcd slot the virtual card plugs into.
    pub vpcd_port: u16,
    /// Images of someone else, shown to the camera when the demo strip picks the impostor
    /// (the holder's are `camera.folder`).
    pub impostor_folder: PathBuf,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            vpcd_port: 35963,
            impostor_folder: PathBuf::new(),
        }
    }
}

impl DemoConfig {
    pub(super) fn validate(&self) -> Result<(), Invalid> {
        Invalid::check_range("demo.vpcd_port", self.vpcd_port, 1..=u16::MAX)
    }
}
