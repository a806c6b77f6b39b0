//! The series read when Prometheus scrapes: pcscd, the camera, the outbox, the audit chain and
//! the trust anchors.

use std::path::Path;
use std::time::Duration;

use card_io::certificate::TrustAnchors;
use card_io::transport::TransportError;

use crate::config::{CameraKind, Config};
use crate::handoff::outbox::{now_ms, Outbox};

use super::Metrics;

/// What a scrape looks at, taken from the configuration at start.
pub struct Probe {
    outbox_dir: std::path::PathBuf,
    audit_dir: std::path::PathBuf,
    /// The camera's device node, or its folder of images.
    camera: std::path::PathBuf,
    anchors: Option<TrustAnchors>,
}

impl Probe {
    pub fn new(config: &Config) -> Self {
        Self {
            outbox_dir: config.handoff.outbox_dir.clone(),
            audit_dir: config.audit.dir.clone(),
            camera: match config.camera.source {
                CameraKind::V4l2 => config.camera.device.clone(),
                CameraKind::Images => config.camera.folder.clone(),
            },
            anchors: config.card.trust_anchors().ok(),
        }
    }

    /// Sets the scraped gauges of `m` to what is there now.
    pub fn update(&self, m: &Metrics) {
        match Outbox::open(&self.outbox_dir).and_then(|o| Ok((o.census()?, o.oldest_queued_ms()?)))
        {
            Ok((census, oldest)) => {
                m.outbox_queued.set(to_i64(census.queued));
                m.outbox_dead.set(to_i64(census.dead));
                let age = oldest.map_or(Duration::ZERO, |ms| {
                    Duration::from_millis(now_ms().saturating_sub(ms))
                });
                m.outbox_oldest_age_seconds.set(age.as_secs_f64());
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
        }
        m.audit_chain_ok
            .set(i64::from(audit_chain_ok(&self.audit_dir)));
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
}

/// Whether the audit log's hash chain verifies (no log yet: nothing broken).
fn audit_chain_ok(dir: &Path) -> bool {
    !dir.exists() || crate::audit::verify(&[dir.to_owned()]).is_ok()
}

fn to_i64(n: usize) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
