//! The session state machine: every card, camera, timer and touch event goes through
//! [`Session::handle`], which returns the [`Effect`]s the runtime carries out. Pure, so each
//! transition is unit-tested without hardware.
//!
//! 待機 → read (certificate + retry counters) → method choice → face (照合番号B counter →
//! card-front OCR → 照合番号B → photo → live capture with guidance and a liveness challenge →
//! compare → 本人確認ができました) / PIN / staff 目視 → consent → hand-off → result
//! (初回利用登録 offer when 未登録) → カードをお取りください → 待機.
//!
//! Each sub-flow is a module with its transitions: `common` (card, reader, language,
//! 係員を呼ぶ and idle timeouts, handled first in every state), `choice` (reading the card,
//! choosing a method), `face`, `pin`, `staff` and `consent` (consent, hand-off, result);
//! `keypad` sees every event before them and after them (keypad keys as touches, the prompts
//! that depend on more than the screen, assisted mode), with its data in `assisted`.
//! `state` holds the states and `steps` each sub-flow's step, each with exactly its data;
//! `machine` the session's own data and what every sub-flow uses. Imports go one way, in this
//! order, and never back: types ← effect ← event ← settings ← assisted, steps ← state ←
//! machine ← consent ← face, pin ← staff ← choice, common ← keypad.

mod assisted;
mod choice;
mod common;
mod consent;
mod effect;
mod event;
mod face;
mod keypad;
mod machine;
mod pin;
mod settings;
mod staff;
mod state;
mod steps;
#[cfg(test)]
mod tests;
mod types;

pub(crate) use effect::with_screens;
pub use effect::{Effect, Notice, Prompt, Screen, TimerId, View};
pub use event::{Event, Key, Touch};
pub use settings::Settings;
pub use types::*;

use machine::Next;
pub use machine::Session;
use state::{State, Step};

impl Session {
    /// Advances the session by one event and returns what the runtime must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut fx = Vec::new();
        let before = keypad::Before::of(self, &event);
        if let Some(event) = keypad::before(self, event, &mut fx) {
            let state = std::mem::replace(&mut self.state, State::Idle);
            let next = match common::handle(self, state, event, &mut fx) {
                common::Shared::Handled(next) => next,
                common::Shared::Own(state, event) => self.step(state, event, &mut fx),
            };
            self.apply(next, &mut fx);
        }
        keypad::after(self, before, &mut fx);
        fx
    }

    /// The event of one state's own sub-flow.
    fn step(&mut self, state: State, event: Event, fx: &mut Vec<Effect>) -> Next {
        match state {
            State::Reading(card) => choice::reading(self, card, event, fx),
            State::Patient(p, Step::MethodChoice) => choice::handle(self, p, event, fx),
            State::Patient(p, Step::Face(face)) => face::handle(self, p, face, event, fx),
            State::Patient(p, Step::Pin(pin)) => pin::handle(self, p, pin, event, fx),
            State::Patient(p, step) => consent::handle(self, p, step, event, fx),
            State::Staff(step, paused) => staff::handle(self, step, paused, event, fx),
            state => Next::ignore(state, &event),
        }
    }
}
