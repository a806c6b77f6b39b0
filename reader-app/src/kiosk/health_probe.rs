//! The series read when Prometheus scrapes: pcscd, the camera, the outbox, the audit chain and
//! the trust anchors.

use std::path::Path;
use std::time::Duration;

use card_io::certificate::TrustAnchors;
use card_io::transport::TransportError;

use crate::config::{CameraKind, Config};
use crate::handoff::outbox::{now_ms, Outbox};

use crate::metrics::Metrics;

/// What a scrape looks at, taken from the configuration at start.
pub struct Probe {
    outbox_dir: std::path::PathBuf,
    audit_dir: std::path::PathBuf,
    /// The camera's device node, or its folder of images.
    camera: std::path::PathBuf,
    anchors: Option<TrustAnchors>,
    /// The audit folder's files (name, size, modified) when last verified, and the verdict.
    audit: Option<(Vec<FileStamp>, bool)>,
    /// How far the audit chain was verified, while it verifies.
    audit_checkpoint: Option<crate::audit::Checkpoint>,
}

type FileStamp = (std::path::PathBuf, u64, Option<std::time::SystemTime>);

/// The camera's device node, or its folder of images: there while the camera is.
pub fn camera_path(config: &Config) -> std::path::PathBuf {
    match config.camera.source {
        CameraKind::V4l2 => config.camera.device.clone(),
        CameraKind::Images => config.camera.folder.clone(),
    }
}

/// What the outbox in `dir` holds, and how long its oldest queued entry has waited.
pub fn backlog(
    dir: &Path,
) -> Result<(crate::handoff::outbox::Census, Duration), crate::handoff::outbox::OutboxError> {
    let outbox = Outbox::open(dir)?;
    let oldest = outbox.oldest_queued_ms()?;
    let age = oldest.map_or(Duration::ZERO, |ms| {
        Duration::from_millis(now_ms().saturating_sub(ms))
    });
    Ok((outbox.census()?, age))
}

impl Probe {
    pub fn new(config: &Config) -> Self {
        Self {
            outbox_dir: config.handoff.outbox_dir.clone(),
            audit_dir: config.audit.dir.clone(),
            camera: camera_path(config),
            anchors: config.card.trust_anchors().ok(),
            audit: None,
            audit_checkpoint: None,
        }
    }

    /// Sets the scraped gauges of `m` to what is there now.
    pub fn update(&mut self, m: &Metrics) {
        match backlog(&self.outbox_dir) {
            Ok((census, age)) => {
                m.outbox_queued.set(to_i64(census.queued));
                m.outbox_dead.set(to_i64(census.dead));
                m.outbox_oldest_age_seconds.set(age.as_secs_f64());
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
        }
        m.audit_chain_ok.set(i64::from(self.audit_chain_ok()));
        m.camera_up.set(i64::from(self.camera.exists()));
        let pcscd = card_io::pcsc_transport::list_readers();
        m.pcscd_up
            .set(i64::from(!matches!(pcscd, Err(TransportError::NoService))));
        let now = chrono::Utc::now().timestamp();
        if let Some((_, days)) = self
            .anchors
            .as_ref()
            .and_then(|a| crate::config::first_expiry(a, now))
        {
            m.trust_anchor_expiry_days.set(days);
        }
    }

    /// Whether the audit log's hash chain verifies (no log yet: nothing broken). The chain is
    /// checked again only when a file of the folder changed since the last scrape, and then
    /// only what was appended since the last check (`audit::verify_appended`), so a scrape's
    /// cost does not grow with the log's age.
    fn audit_chain_ok(&mut self) -> bool {
        if !self.audit_dir.exists() {
            return true;
        }
        let stamps = file_stamps(&self.audit_dir);
        if let Some((seen, ok)) = &self.audit {
            if *seen == stamps {
                return *ok;
            }
        }
        let key = crate::audit::default_key_path(&self.audit_dir);
        let since = self.audit_checkpoint.take();
        let checked = crate::audit::verify_appended(&self.audit_dir, &key, since.as_ref());
        let ok = checked.is_ok();
        self.audit_checkpoint = checked.ok().map(|(_, checkpoint)| checkpoint);
        self.audit = Some((stamps, ok));
        ok
    }
}

/// Name, size and modification time of each entry of `dir`, sorted.
fn file_stamps(dir: &Path) -> Vec<FileStamp> {
    let mut stamps: Vec<FileStamp> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((e.path(), meta.len(), meta.modified().ok()))
        })
        .collect();
    stamps.sort();
    stamps
}

fn to_i64(n: usize) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, AuditLog};
    use crate::config::AuditConfig;

    #[test]
    fn a_tampered_audit_log_is_seen_at_the_next_scrape() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-probe-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let audit = AuditConfig {
            dir: dir.join("audit"),
            max_file_bytes: 1 << 20,
        };
        let log = AuditLog::open(&audit, "probe-1").unwrap();
        for version in ["one", "two"] {
            let version = version.into();
            log.record(AuditEvent::KioskStarted { version }).unwrap();
        }
        let config = Config {
            audit: audit.clone(),
            ..Config::default()
        };
        let mut probe = Probe::new(&config);
        assert!(probe.audit_chain_ok());
        assert!(probe.audit_chain_ok(), "unchanged: the cached verdict");
        let file = audit.dir.join("audit.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("\"one\"", "\"three\"")).unwrap();
        assert!(!probe.audit_chain_ok(), "tampered");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
