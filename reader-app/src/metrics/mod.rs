//! Prometheus metrics of the kiosk: sessions, face, OCR, PIN, card and decision latency,
//! devices, the outbox, the audit chain, the trust anchors and the build. Off by default
//! (`[metrics]`); served on their own address by [`server`]. No label carries patient data:
//! labels are methods, outcomes and results from fixed lists.

pub mod config;
mod observe;

use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

pub use config::MetricsConfig;
pub use observe::SessionObserver;

/// Sessions by how the patient was verified (`none` when not) and how it ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLabels {
    pub method: &'static str,
    pub outcome: &'static str,
}

/// One result of a fixed list (`captured`, `wrong` …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: &'static str,
}

/// The verification method of a decision.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    pub method: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Latency buckets: 50 ms to about 50 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 11))
}

/// Every series the kiosk exports.
pub struct Metrics {
    pub sessions: Family<SessionLabels, Counter>,
    /// Face captures: `captured`, `liveness_refused`, `failed_to_acquire`.
    pub face_captures: Family<ResultLabel, Counter>,
    /// Face comparisons: `matched`, `not_matched`.
    pub face_matches: Family<ResultLabel, Counter>,
    /// Card-front OCR: `read`, `rejected`, `reread` (a read after the first of a session).
    pub ocr_reads: Family<ResultLabel, Counter>,
    /// PIN tries answered by the card: `verified`, `wrong`, `locked`, `error`.
    pub pin_tries: Family<ResultLabel, Counter>,
    pub card_read_seconds: Histogram,
    pub decision_seconds: Family<MethodLabel, Histogram, fn() -> Histogram>,
    pub reader_up: Gauge,
    pub pcscd_up: Gauge,
    pub camera_up: Gauge,
    pub outbox_queued: Gauge,
    pub outbox_oldest_age_seconds: FloatGauge,
    pub outbox_dead: Gauge,
    pub delivery_failures: Counter,
    pub staff_calls: Counter,
    pub audit_chain_ok: Gauge,
    pub trust_anchor_expiry_days: Gauge,
    registry: Registry,
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            sessions: Family::default(),
            face_captures: Family::default(),
            face_matches: Family::default(),
            ocr_reads: Family::default(),
            pin_tries: Family::default(),
            card_read_seconds: latency(),
            decision_seconds: Family::new_with_constructor(latency),
            reader_up: Gauge::default(),
            pcscd_up: Gauge::default(),
            camera_up: Gauge::default(),
            outbox_queued: Gauge::default(),
            outbox_oldest_age_seconds: FloatGauge::default(),
            outbox_dead: Gauge::default(),
            delivery_failures: Counter::default(),
            staff_calls: Counter::default(),
            audit_chain_ok: Gauge::default(),
            trust_anchor_expiry_days: Gauge::default(),
            registry: Registry::with_prefix("mynakiosk"),
        };
        m.register();
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "sessions",
            "Patient sessions by method and outcome",
            self.sessions.clone(),
        );
        r.register(
            "face_captures",
            "Face captures by result (FTA: failed_to_acquire)",
            self.face_captures.clone(),
        );
        r.register(
            "face_matches",
            "Face comparisons with the chip photo by result",
            self.face_matches.clone(),
        );
        r.register(
            "ocr_reads",
            "Card-front OCR reads of 照合番号B by result",
            self.ocr_reads.clone(),
        );
        r.register(
            "pin_tries",
            "PIN tries answered by the card by result",
            self.pin_tries.clone(),
        );
        r.register(
            "card_read_seconds",
            "Time to read the card's certificate",
            self.card_read_seconds.clone(),
        );
        r.register(
            "decision_seconds",
            "Time of the verification decision by method",
            self.decision_seconds.clone(),
        );
        r.register(
            "reader_up",
            "Patient card readers present",
            self.reader_up.clone(),
        );
        r.register("pcscd_up", "1 when pcscd answers", self.pcscd_up.clone());
        r.register(
            "camera_up",
            "1 when the patient camera's device (or image folder) is present",
            self.camera_up.clone(),
        );
        r.register(
            "outbox_queued",
            "Results and staff calls waiting in the outbox",
            self.outbox_queued.clone(),
        );
        r.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest queued entry (0: none)",
            self.outbox_oldest_age_seconds.clone(),
        );
        r.register(
            "outbox_dead",
            "Entries given up on after repeated failures (dead/)",
            self.outbox_dead.clone(),
        );
        r.register(
            "delivery_failures",
            "Deliveries the receiver failed or refused",
            self.delivery_failures.clone(),
        );
        r.register(
            "staff_calls",
            "Presses of 係員を呼ぶ",
            self.staff_calls.clone(),
        );
        r.register(
            "audit_chain_ok",
            "1 when the audit log's hash chain verifies",
            self.audit_chain_ok.clone(),
        );
        r.register(
            "trust_anchor_expiry_days",
            "Days until the first configured CA certificate expires",
            self.trust_anchor_expiry_days.clone(),
        );
        r.register(
            "build",
            "The kiosk's build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
    }

    /// The OpenMetrics text of every series.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The kiosk's metrics (one set per process).
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
