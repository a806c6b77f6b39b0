//! What assisted mode and the keypad path keep between events (their transitions are in
//! `keypad`), and their part of a view.

use super::effect::{Prompt, Screen, View};
use super::settings::Settings;
use super::types::Guidance;

/// The keypad and assisted mode's part of the session.
#[derive(Debug)]
pub(super) struct Assist {
    /// Assisted mode is on for this patient.
    pub on: bool,
    /// The consent item asked on its own (index into the items shown).
    pub item: usize,
    /// The last prompt said: the repeat key says it again.
    pub said: Option<Prompt>,
    /// The face guidance last said, and the capture seconds since a prompt was said.
    pub guidance: Option<Guidance>,
    pub quiet_ticks: u32,
}

impl Assist {
    pub fn new(settings: &Settings) -> Self {
        Self {
            on: settings.assisted,
            item: 0,
            said: None,
            guidance: None,
            quiet_ticks: 0,
        }
    }

    /// Assisted mode's part of a view: the flag, and one consent item per screen.
    pub fn describe(&self, view: &mut View) {
        view.assisted = self.on;
        if self.on && view.screen == Screen::ConsentItems {
            view.consent = view.consent.get(self.item).copied().into_iter().collect();
        }
    }
}
