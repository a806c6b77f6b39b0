//! The session's timers as deadlines. A delay past the clock's range (e.g. `[session]
//! idle_seconds = 9223372036854775807`) never fires instead of overflowing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::session::TimerId;

/// The running timers, each with its deadline.
#[derive(Debug, Default)]
pub(super) struct Timers(HashMap<TimerId, Instant>);

impl Timers {
    /// (Re)starts `id` to fire `after` from now; a delay the clock cannot represent means never.
    pub fn start(&mut self, id: TimerId, after: Duration) {
        match Instant::now().checked_add(after) {
            Some(at) => {
                self.0.insert(id, at);
            }
            None => {
                tracing::warn!(
                    ?id,
                    ?after,
                    "timer beyond the clock's range: it never fires"
                );
                self.0.remove(&id);
            }
        }
    }

    pub fn cancel(&mut self, id: TimerId) {
        self.0.remove(&id);
    }

    /// The timer due first and its deadline.
    pub fn next(&self) -> Option<(TimerId, Instant)> {
        self.0
            .iter()
            .map(|(&id, &at)| (id, at))
            .min_by_key(|&(_, at)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_past_the_clock_never_fires_and_does_not_panic() {
        // `[session] idle_seconds` at its largest: 係員を呼ぶ then used to panic here.
        let settings = crate::session::Settings {
            idle_seconds: 9_223_372_036_854_775_807,
            ..Default::default()
        };
        let mut timers = Timers::default();
        timers.start(TimerId::ResultHold, Duration::from_secs(8));
        timers.start(TimerId::Idle, settings.idle());
        timers.start(TimerId::FaceTick, Duration::MAX);
        let (id, at) = timers.next().unwrap();
        assert_eq!(id, TimerId::ResultHold);
        assert!(at > Instant::now());
        // Restarting a timer with a delay past the clock drops its old deadline.
        timers.start(TimerId::ResultHold, Duration::MAX);
        assert_eq!(timers.next(), None);
    }

    #[test]
    fn the_earliest_timer_is_next_and_cancelled_ones_are_gone() {
        let mut timers = Timers::default();
        timers.start(TimerId::Idle, Duration::from_secs(60));
        timers.start(TimerId::FaceTick, Duration::from_secs(1));
        assert_eq!(timers.next().map(|(id, _)| id), Some(TimerId::FaceTick));
        timers.cancel(TimerId::FaceTick);
        assert_eq!(timers.next().map(|(id, _)| id), Some(TimerId::Idle));
    }
}
