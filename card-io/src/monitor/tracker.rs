//! What the monitor believes about each reader, and the events that changes to it produce.

use std::collections::BTreeMap;

use super::{CardEvent, ReaderFilter};

/// Last known state of one reader.
#[derive(Debug, Clone, Copy)]
struct Slot {
    present: bool,
    /// PC/SC insertion/removal counter, once seen.
    event_count: Option<u32>,
}

/// The readers being watched and whether each holds a card.
#[derive(Debug)]
pub(super) struct ReaderTracker {
    filter: ReaderFilter,
    readers: BTreeMap<String, Slot>,
}

impl ReaderTracker {
    pub(super) fn new(filter: ReaderFilter) -> Self {
        Self {
            filter,
            readers: BTreeMap::new(),
        }
    }

    /// Whether `reader` is being watched.
    pub(super) fn watches(&self, reader: &str) -> bool {
        self.readers.contains_key(reader)
    }

    /// Takes the current reader list: readers that matched the filter and are gone produce
    /// (`CardRemoved` and) `ReaderRemoved`, new matching ones produce `ReaderAdded`.
    pub(super) fn sync_readers(&mut self, listed: &[String]) -> Vec<CardEvent> {
        let mut events = Vec::new();
        let gone: Vec<String> = self
            .readers
            .keys()
            .filter(|name| !listed.contains(name))
            .cloned()
            .collect();
        for name in gone {
            if self.readers.remove(&name).is_some_and(|slot| slot.present) {
                events.push(CardEvent::CardRemoved {
                    reader: name.clone(),
                });
            }
            events.push(CardEvent::ReaderRemoved(name));
        }
        for name in listed {
            if self.filter.matches(name) && !self.readers.contains_key(name) {
                self.readers.insert(
                    name.clone(),
                    Slot {
                        present: false,
                        event_count: None,
                    },
                );
                events.push(CardEvent::ReaderAdded(name.clone()));
            }
        }
        events
    }

    /// Takes a state reported by PC/SC for `reader`. A changed event counter with a card present
    /// before and after means the card was swapped between two waits.
    pub(super) fn observe(
        &mut self,
        reader: &str,
        present: bool,
        event_count: u32,
    ) -> Vec<CardEvent> {
        let Some(slot) = self.readers.get_mut(reader) else {
            return Vec::new();
        };
        let swapped = slot.event_count.is_some_and(|seen| seen != event_count);
        let was_present = slot.present;
        *slot = Slot {
            present,
            event_count: Some(event_count),
        };
        let removed = || CardEvent::CardRemoved {
            reader: reader.to_owned(),
        };
        let inserted = || CardEvent::CardInserted {
            reader: reader.to_owned(),
        };
        match (was_present, present) {
            (false, true) => vec![inserted()],
            (true, false) => vec![removed()],
            (true, true) if swapped => vec![removed(), inserted()],
            _ => Vec::new(),
        }
    }

    /// Forgets every reader (the PC/SC service went away).
    pub(super) fn clear(&mut self) {
        self.readers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn inserted(r: &str) -> CardEvent {
        CardEvent::CardInserted { reader: r.into() }
    }

    fn removed(r: &str) -> CardEvent {
        CardEvent::CardRemoved { reader: r.into() }
    }

    #[test]
    fn only_matching_readers_are_added() {
        let mut t = ReaderTracker::new(ReaderFilter::Contains("PCD 00 00".into()));
        let events = t.sync_readers(&names(&["Virtual PCD 00 00", "Virtual PCD 00 01"]));
        assert_eq!(
            events,
            vec![CardEvent::ReaderAdded("Virtual PCD 00 00".into())]
        );
        assert!(t.watches("Virtual PCD 00 00"));
        assert!(!t.watches("Virtual PCD 00 01"));
        assert!(t.sync_readers(&names(&["Virtual PCD 00 00"])).is_empty());
    }

    #[test]
    fn insert_and_remove_produce_events_once() {
        let mut t = ReaderTracker::new(ReaderFilter::Any);
        t.sync_readers(&names(&["R"]));
        assert_eq!(t.observe("R", true, 1), vec![inserted("R")]);
        assert!(t.observe("R", true, 1).is_empty());
        assert_eq!(t.observe("R", false, 2), vec![removed("R")]);
        assert!(t.observe("R", false, 2).is_empty());
    }

    #[test]
    fn swap_between_waits_is_reported_as_removal_then_insertion() {
        let mut t = ReaderTracker::new(ReaderFilter::Any);
        t.sync_readers(&names(&["R"]));
        t.observe("R", true, 1);
        assert_eq!(t.observe("R", true, 3), vec![removed("R"), inserted("R")]);
    }

    #[test]
    fn reader_gone_with_a_card_reports_removal_first() {
        let mut t = ReaderTracker::new(ReaderFilter::Any);
        t.sync_readers(&names(&["R", "S"]));
        t.observe("R", true, 1);
        assert_eq!(
            t.sync_readers(&names(&["S"])),
            vec![removed("R"), CardEvent::ReaderRemoved("R".into())]
        );
        assert!(t.observe("R", true, 2).is_empty());
    }

    #[test]
    fn clear_forgets_readers_so_they_are_added_again() {
        let mut t = ReaderTracker::new(ReaderFilter::Any);
        t.sync_readers(&names(&["R"]));
        t.observe("R", true, 1);
        t.clear();
        assert_eq!(
            t.sync_readers(&names(&["R"])),
            vec![CardEvent::ReaderAdded("R".into())]
        );
        assert_eq!(t.observe("R", true, 0), vec![inserted("R")]);
    }
}
