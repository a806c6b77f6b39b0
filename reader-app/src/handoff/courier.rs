//! Delivery from the outbox to the sink: oldest first, retried with exponential backoff,
//! removed from the outbox only once acknowledged. With the receiver's dedup by idempotency
//! key this makes delivery exactly-once across crashes and outages.

use super::outbox::{Outbox, OutboxError, Queued};
use super::result::VerificationResult;
use super::sink::{self, Sink, SinkError};
use crate::config::HandoffConfig;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the UI and staff see about the hand-off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoffStatus {
    /// Results waiting in the outbox.
    pub queued: usize,
    /// Results the receiver refused (kept in the outbox's `rejected/` folder).
    pub rejected: usize,
    /// The last failure, cleared by the next successful delivery.
    pub last_error: Option<String>,
}

impl HandoffStatus {
    /// Whether the UI should say the reception system cannot be reached.
    pub fn unreachable(&self) -> bool {
        self.last_error.is_some() && self.queued > 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub refused: usize,
}

/// Sends every queued result, oldest first, until the queue is empty or the receiver is
/// unreachable (then the rest stays queued, in order).
pub fn deliver_queued(outbox: &Outbox, sink: &dyn Sink) -> Result<Pass, DeliveryError> {
    let mut pass = Pass::default();
    for queued in outbox.pending()? {
        match sink.send(&queued.key, &queued.body) {
            Ok(()) => {
                outbox.delivered(&queued)?;
                tracing::info!(key = %queued.key, sink = %sink.describe(), "result delivered");
                pass.delivered += 1;
            }
            Err(SinkError::Refused(reason)) => refuse(outbox, &queued, &reason, &mut pass)?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(pass)
}

fn refuse(
    outbox: &Outbox,
    queued: &Queued,
    reason: &str,
    pass: &mut Pass,
) -> Result<(), OutboxError> {
    tracing::error!(key = %queued.key, %reason, "result refused by the reception system; kept in rejected/");
    outbox.rejected(queued)?;
    pass.refused += 1;
    Ok(())
}

/// Retry delays: `initial`, doubling after each failure, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `failures` (1 for the first retry).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

enum Signal {
    Wake,
    Stop,
}

/// The background thread that keeps delivering. Dropping it stops the thread.
pub struct Courier {
    outbox: Outbox,
    status: Arc<Mutex<HandoffStatus>>,
    signal: Sender<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Courier {
    /// Opens the configured outbox and starts delivering to the configured sink; with
    /// `sink = "none"` results are only queued.
    pub fn start(config: &HandoffConfig) -> Result<Self, OutboxError> {
        let outbox = Outbox::open(&config.outbox_dir)?;
        let backoff = Backoff {
            initial: Duration::from_millis(config.retry_initial_ms),
            max: Duration::from_millis(config.retry_max_ms),
        };
        let dir = config.outbox_dir.clone();
        Self::spawn(outbox, sink::from_config(config), backoff)
            .map_err(|source| OutboxError::Io { path: dir, source })
    }

    /// Starts delivering what `outbox` holds (results left from a previous run first);
    /// without a sink it only keeps the status current.
    pub fn spawn(
        outbox: Outbox,
        sink: Option<Box<dyn Sink>>,
        backoff: Backoff,
    ) -> std::io::Result<Self> {
        let status = Arc::new(Mutex::new(HandoffStatus::default()));
        let (signal, signals) = mpsc::channel();
        let (box_, shared) = (outbox.clone(), status.clone());
        let thread = std::thread::Builder::new()
            .name("handoff".into())
            .spawn(move || {
                let mut failures = 0;
                loop {
                    let outcome = match &sink {
                        Some(sink) => deliver_queued(&box_, sink.as_ref()).map(drop),
                        None => Ok(()),
                    };
                    failures = if outcome.is_ok() { 0 } else { failures + 1 };
                    update(&shared, &box_, outcome.err().map(|e| e.to_string()));
                    let wait = if failures == 0 {
                        signals.recv().map_err(|_| RecvTimeoutError::Disconnected)
                    } else {
                        signals.recv_timeout(backoff.delay(failures))
                    };
                    match wait {
                        Ok(Signal::Wake) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })?;
        Ok(Self {
            outbox,
            status,
            signal,
            thread: Some(thread),
        })
    }

    /// Queues `result` durably and wakes the delivery thread.
    pub fn enqueue(&self, result: &VerificationResult) -> Result<(), OutboxError> {
        self.outbox.enqueue(result)?;
        update(&self.status, &self.outbox, self.status().last_error);
        let _ = self.signal.send(Signal::Wake);
        Ok(())
    }

    /// The current status, for the UI.
    pub fn status(&self) -> HandoffStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        let _ = self.signal.send(Signal::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn update(status: &Mutex<HandoffStatus>, outbox: &Outbox, last_error: Option<String>) {
    let (queued, rejected) = match outbox.counts() {
        Ok(counts) => counts,
        Err(e) => {
            tracing::error!(error = %e, "cannot count the outbox");
            return;
        }
    };
    if let Some(e) = &last_error {
        tracing::warn!(error = %e, queued, "hand-off delayed");
    }
    *status.lock().unwrap_or_else(PoisonError::into_inner) = HandoffStatus {
        queued,
        rejected,
        last_error,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(5),
        };
        let delays: Vec<_> = (1..=6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(b.delay(200), Duration::from_secs(5));
    }
}
