//! Delivery from the outbox to the sink: oldest first, one deliverer at a time (the outbox's
//! lock), removed from the outbox only once acknowledged. With the receiver's dedup by
//! idempotency key this makes delivery exactly-once across crashes and outages. A result the
//! receiver keeps failing is retried on its own backoff, so it never holds up the ones behind
//! it, and is moved to `dead/` (with an error in the log and the status) after
//! [`RetryPolicy::dead_after`] failures.

use super::config::HandoffConfig;
use super::outbox::{now_ms, Outbox, OutboxError, Queued};
use super::sink::{self, Sink, SinkError};
use super::Outgoing;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Failures of one result (the receiver answered, but not with an acknowledgement) before it
/// is moved to `dead/`.
pub const DEAD_AFTER: u32 = 8;

/// What the UI and staff see about the hand-off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoffStatus {
    /// Results waiting in the outbox.
    pub queued: usize,
    /// Results the receiver refused (kept in the outbox's `rejected/` folder).
    pub rejected: usize,
    /// Results given up on after repeated failures (`dead/`): staff must look.
    pub dead: usize,
    /// Entries in `pending/` that are not results, ignored.
    pub foreign: usize,
    /// The last failure, cleared by the next pass without one.
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub refused: usize,
    /// Results that failed this pass and wait for their retry.
    pub failed: usize,
    /// Results moved to `dead/` this pass.
    pub dead: usize,
    /// Results whose retry is not due yet, left alone.
    pub waiting: usize,
    /// The last failure of this pass.
    pub last_error: Option<String>,
    /// When the earliest waiting or failed result is due.
    pub next_due: Option<Duration>,
}

/// How failed results are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// Failures of one result before it is moved to `dead/`.
    pub dead_after: u32,
}

impl RetryPolicy {
    /// `[handoff] retry_initial_ms` and `retry_max_ms`, dead after [`DEAD_AFTER`] failures.
    pub fn from_config(config: &HandoffConfig) -> Self {
        Self {
            backoff: Backoff {
                initial: Duration::from_millis(config.retry_initial_ms),
                max: Duration::from_millis(config.retry_max_ms),
            },
            dead_after: DEAD_AFTER,
        }
    }
}

/// Sends every queued result that is due, oldest first, holding the outbox's delivery lock.
/// A result the receiver fails is retried later on its own backoff while the rest go on; when
/// the receiver cannot be reached at all, the pass stops and the rest stays queued, in order.
pub fn deliver_queued(
    outbox: &Outbox,
    sink: &dyn Sink,
    policy: &RetryPolicy,
) -> Result<Pass, DeliveryError> {
    let _lock = outbox.lock()?;
    let census = outbox.census()?;
    for path in &census.foreign {
        tracing::warn!(entry = %path.display(), "not a queued result; ignored in the outbox");
    }
    let mut pass = Pass::default();
    for queued in outbox.pending()? {
        let attempts = outbox.attempts(&queued);
        let now = now_ms();
        if attempts.next_attempt_ms > now {
            pass.waiting += 1;
            pass.due_in(Duration::from_millis(attempts.next_attempt_ms - now));
            continue;
        }
        match sink.send(&queued.key, &queued.body) {
            Ok(()) => {
                outbox.delivered(&queued)?;
                tracing::info!(key = %queued.key, sink = %sink.describe(), "result delivered");
                pass.delivered += 1;
            }
            Err(SinkError::Refused(reason)) => refuse(outbox, &queued, &reason, &mut pass)?,
            Err(SinkError::Failed(reason)) => fail(
                outbox,
                &queued,
                reason,
                attempts.failures,
                policy,
                &mut pass,
            )?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(pass)
}

impl Pass {
    fn due_in(&mut self, delay: Duration) {
        self.next_due = Some(self.next_due.map_or(delay, |d| d.min(delay)));
    }
}

fn refuse(
    outbox: &Outbox,
    queued: &Queued,
    reason: &str,
    pass: &mut Pass,
) -> Result<(), OutboxError> {
    tracing::error!(key = %queued.key, %reason, "result refused by the reception system; kept in rejected/");
    outbox.rejected(queued)?;
    crate::metrics::global().delivery_failures.inc();
    pass.refused += 1;
    Ok(())
}

/// Records a failure of `queued`; after `policy.dead_after` of them it goes to `dead/`.
fn fail(
    outbox: &Outbox,
    queued: &Queued,
    reason: String,
    failures_before: u32,
    policy: &RetryPolicy,
    pass: &mut Pass,
) -> Result<(), OutboxError> {
    let failures = failures_before.saturating_add(1);
    crate::metrics::global().delivery_failures.inc();
    if failures >= policy.dead_after {
        tracing::error!(
            key = %queued.key, failures, %reason,
            "ALERT: result given up on after repeated failures; kept in the outbox's dead/ \
             folder, `mynakiosk outbox requeue-dead` sends it again"
        );
        outbox.dead_lettered(queued)?;
        pass.dead += 1;
    } else {
        let delay = policy.backoff.delay(failures);
        tracing::warn!(key = %queued.key, failures, %reason, retry_in = ?delay, "result not taken; retried later");
        outbox.failed(queued, &reason, delay)?;
        pass.failed += 1;
        pass.due_in(delay);
    }
    pass.last_error = Some(reason);
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
        let outbox = Outbox::create(&config.outbox_dir)?;
        let dir = config.outbox_dir.clone();
        Self::spawn(
            outbox,
            sink::from_config(config),
            RetryPolicy::from_config(config),
        )
        .map_err(|source| OutboxError::Io { path: dir, source })
    }

    /// Starts delivering what `outbox` holds (results left from a previous run first);
    /// without a sink it only keeps the status current.
    pub fn spawn(
        outbox: Outbox,
        sink: Option<Box<dyn Sink>>,
        policy: RetryPolicy,
    ) -> std::io::Result<Self> {
        let status = Arc::new(Mutex::new(HandoffStatus::default()));
        let (signal, signals) = mpsc::channel();
        let (box_, shared) = (outbox.clone(), status.clone());
        let thread = std::thread::Builder::new()
            .name("handoff".into())
            .spawn(move || {
                let mut failures: u32 = 0;
                loop {
                    let outcome = match &sink {
                        Some(sink) => deliver_queued(&box_, sink.as_ref(), &policy),
                        None => Ok(Pass::default()),
                    };
                    let (last_error, next) = match outcome {
                        Ok(pass) => {
                            failures = 0;
                            (pass.last_error, pass.next_due)
                        }
                        Err(e) => {
                            failures = failures.saturating_add(1);
                            (Some(e.to_string()), Some(policy.backoff.delay(failures)))
                        }
                    };
                    update(&shared, &box_, last_error);
                    let wait = match next {
                        None => signals.recv().map_err(|_| RecvTimeoutError::Disconnected),
                        Some(delay) => signals.recv_timeout(delay),
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

    /// Queues `result` (or a staff call) durably and wakes the delivery thread.
    pub fn enqueue(&self, result: &impl Outgoing) -> Result<(), OutboxError> {
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
    let census = match outbox.census() {
        Ok(census) => census,
        Err(e) => {
            tracing::error!(error = %e, "cannot count the outbox");
            return;
        }
    };
    if let Some(e) = &last_error {
        tracing::warn!(error = %e, queued = census.queued, "hand-off delayed");
    }
    *status.lock().unwrap_or_else(PoisonError::into_inner) = HandoffStatus {
        queued: census.queued,
        rejected: census.rejected,
        dead: census.dead,
        foreign: census.foreign.len(),
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
