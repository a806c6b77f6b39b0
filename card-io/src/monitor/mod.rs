//! Card insertion/removal and reader arrival/departure events from pcscd.
//!
//! A [`CardMonitor`] thread waits in `SCardGetStatusChange` on the matching readers plus the
//! PnP notification reader (`\\?PnP?\Notification`, supported by pcsc-lite), so it sleeps until
//! something happens. If pcscd goes away it reports [`CardEvent::ServiceLost`] and keeps trying to
//! reconnect; once back, it reports [`CardEvent::ServiceRestored`], then readers and cards
//! afresh. A watched reader that did not come back is simply never added again.

mod tracker;

use std::ffi::CStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State, PNP_NOTIFICATION};

use crate::transport::TransportError;
use tracker::ReaderTracker;

/// First delay before reconnecting to pcscd; doubled after each failure.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// Longest delay between reconnection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// How long [`CardMonitor::stop`] waits for the thread before detaching it.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);
/// How often [`CardMonitor::stop`] re-sends the cancellation while waiting.
const STOP_POLL: Duration = Duration::from_millis(5);

/// Something that happened to a watched reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// A reader matching the filter appeared (also reported for readers present at start).
    ReaderAdded(String),
    /// A watched reader disappeared (after `CardRemoved` if it held a card).
    ReaderRemoved(String),
    /// A card is in the reader (also reported for a card present at start).
    CardInserted {
        /// Reader name.
        reader: String,
    },
    /// The card left the reader.
    CardRemoved {
        /// Reader name.
        reader: String,
    },
    /// The connection to pcscd was lost: every reader and card is gone. The monitor keeps
    /// reconnecting and reports `ServiceRestored`, then `ReaderAdded`/`CardInserted` again, when
    /// pcscd is back.
    ServiceLost,
    /// pcscd answers again after `ServiceLost`; the readers it has follow as `ReaderAdded`. A
    /// watched reader that is not among them is missing (unplugged while pcscd was down, or no
    /// longer configured).
    ServiceRestored,
}

/// Which readers to watch, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ReaderFilter {
    /// Every reader.
    #[default]
    Any,
    /// Readers whose name contains this text, ignoring case (integrators type names by hand).
    Contains(String),
    /// The reader with exactly this name.
    Exact(String),
}

impl ReaderFilter {
    /// Whether `reader` passes the filter.
    pub fn matches(&self, reader: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Contains(part) => reader.to_lowercase().contains(&part.to_lowercase()),
            Self::Exact(name) => reader == name,
        }
    }
}

/// Why a monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// pcscd could not be reached.
    #[error("cannot reach pcscd: {0}")]
    Service(#[from] TransportError),
    /// The monitor thread could not be created.
    #[error("cannot start the card monitor thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running monitor; stops (promptly) on [`CardMonitor::stop`] or drop.
pub struct CardMonitor {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl CardMonitor {
    /// Starts watching the readers that match `filter`; `on_event` runs on the monitor thread.
    ///
    /// Fails if pcscd is not running now; later outages are reported as
    /// [`CardEvent::ServiceLost`] and recovered from.
    pub fn spawn(
        filter: ReaderFilter,
        on_event: impl FnMut(CardEvent) + Send + 'static,
    ) -> Result<Self, MonitorError> {
        let context = Context::establish(Scope::User).map_err(TransportError::from)?;
        let shared = Arc::new(Shared::new(context.clone()));
        let thread = thread::Builder::new().name("card-monitor".into()).spawn({
            let shared = Arc::clone(&shared);
            move || run(&shared, filter, on_event, context)
        })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Stops the monitor and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            // Re-sent on each round: a cancel that reaches pcscd before the thread starts waiting
            // is lost.
            self.shared.request_stop();
            if thread.is_finished() {
                if thread.join().is_err() {
                    tracing::error!("card monitor thread panicked");
                }
                return;
            }
            if Instant::now() >= deadline {
                tracing::warn!("card monitor did not stop in time; leaving it to finish alone");
                return;
            }
            thread::sleep(STOP_POLL);
        }
    }
}

impl Drop for CardMonitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// State shared between the monitor thread and its owner.
struct Shared {
    control: Mutex<Control>,
    wake: Condvar,
}

struct Control {
    stopping: bool,
    /// The context the thread is waiting on, so it can be cancelled.
    context: Option<Context>,
}

impl Shared {
    fn new(context: Context) -> Self {
        Self {
            control: Mutex::new(Control {
                stopping: false,
                context: Some(context),
            }),
            wake: Condvar::new(),
        }
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopping(&self) -> bool {
        self.control().stopping
    }

    fn publish(&self, context: Option<Context>) {
        self.control().context = context;
    }

    fn request_stop(&self) {
        let mut control = self.control();
        control.stopping = true;
        if let Some(context) = &control.context {
            // Fails harmlessly when nothing is waiting or pcscd is gone.
            let _ = context.cancel();
        }
        self.wake.notify_all();
    }

    /// Sleeps for `delay` unless a stop is requested; true if stopping.
    fn sleep(&self, delay: Duration) -> bool {
        let control = self.control();
        let (control, _) = self
            .wake
            .wait_timeout_while(control, delay, |c| !c.stopping)
            .unwrap_or_else(PoisonError::into_inner);
        control.stopping
    }
}

/// The monitor thread: watch, and on losing pcscd report it and reconnect with backoff.
fn run(shared: &Shared, filter: ReaderFilter, mut on_event: impl FnMut(CardEvent), first: Context) {
    let mut tracker = ReaderTracker::new(filter);
    let mut context = Some(first);
    let mut backoff = RECONNECT_MIN;
    loop {
        let ctx = match context.take() {
            Some(ctx) => ctx,
            None => match Context::establish(Scope::User) {
                Ok(ctx) => {
                    tracing::info!("card monitor reconnected to pcscd");
                    shared.publish(Some(ctx.clone()));
                    backoff = RECONNECT_MIN;
                    on_event(CardEvent::ServiceRestored);
                    ctx
                }
                Err(err) => {
                    tracing::debug!(%err, "pcscd still unavailable");
                    if shared.sleep(backoff) {
                        return;
                    }
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                    continue;
                }
            },
        };
        match watch(shared, &ctx, &mut tracker, &mut on_event) {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(%err, "card monitor lost pcscd; reconnecting");
                shared.publish(None);
                tracker.clear();
                on_event(CardEvent::ServiceLost);
                if shared.sleep(backoff) {
                    return;
                }
            }
        }
    }
}

/// Waits for changes on `ctx` until stopped (`Ok`) or until the context fails (`Err`).
fn watch(
    shared: &Shared,
    ctx: &Context,
    tracker: &mut ReaderTracker,
    on_event: &mut impl FnMut(CardEvent),
) -> Result<(), pcsc::Error> {
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    loop {
        let listed = ctx.list_readers_owned()?;
        let names: Vec<String> = listed.iter().map(|name| lossy(name)).collect();
        tracker
            .sync_readers(&names)
            .into_iter()
            .for_each(&mut *on_event);
        states.retain(|rs| rs.name() == PNP_NOTIFICATION() || tracker.watches(&lossy(rs.name())));
        for (raw, name) in listed.iter().zip(&names) {
            if tracker.watches(name) && !states.iter().any(|rs| rs.name() == raw.as_c_str()) {
                states.push(ReaderState::new(raw.clone(), State::UNAWARE));
            }
        }
        for rs in &mut states {
            rs.sync_current_state();
        }
        if shared.stopping() {
            return Ok(());
        }
        match ctx.get_status_change(None, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Cancelled) if shared.stopping() => return Ok(()),
            // Cancelled by someone else, or a reader vanished between listing and waiting.
            Err(pcsc::Error::Cancelled | pcsc::Error::UnknownReader) => continue,
            Err(err) => return Err(err),
        }
        for rs in states.iter().filter(|rs| rs.name() != PNP_NOTIFICATION()) {
            let state = rs.event_state();
            if state.contains(State::CHANGED) {
                let present = state.contains(State::PRESENT) && !state.contains(State::MUTE);
                tracker
                    .observe(&lossy(rs.name()), present, rs.event_count())
                    .into_iter()
                    .for_each(&mut *on_event);
            }
        }
    }
}

fn lossy(name: &CStr) -> String {
    name.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_reader_names() {
        assert!(ReaderFilter::Any.matches("anything"));
        let slot0 = ReaderFilter::Contains("PCD 00 00".into());
        assert!(slot0.matches("Virtual PCD 00 00"));
        assert!(!slot0.matches("Virtual PCD 00 01"));
        assert!(ReaderFilter::Contains("virtual pcd".into()).matches("Virtual PCD 00 00"));
        let exact = ReaderFilter::Exact("Virtual PCD 00 00".into());
        assert!(exact.matches("Virtual PCD 00 00"));
        assert!(!exact.matches("Virtual PCD 00 00 extra"));
    }

    #[test]
    fn sleep_returns_early_when_stopped() {
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                stopping: false,
                context: None,
            }),
            wake: Condvar::new(),
        });
        assert!(!shared.sleep(Duration::from_millis(1)));
        let sleeper = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let start = Instant::now();
                (shared.sleep(Duration::from_secs(30)), start.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(20));
        shared.request_stop();
        let (stopped, slept) = sleeper.join().unwrap();
        assert!(stopped);
        assert!(slept < Duration::from_secs(5), "{slept:?}");
    }
}
