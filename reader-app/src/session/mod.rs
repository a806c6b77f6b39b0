//! The session state machine: every card, camera, timer and touch event goes through
//! [`Session::handle`], which returns the [`Effect`]s the runtime carries out. Pure, so each
//! transition is unit-tested without hardware.
//!
//! 待機 → read (certificate + retry counters) → method choice → face (照合番号B counter →
//! card-front OCR → 照合番号B → photo → live capture with guidance and a liveness challenge →
//! compare) / PIN / staff 目視 → consent → hand-off → result (初回利用登録 offer when 未登録) →
//! カードをお取りください → 待機.
//!
//! Each sub-flow is a module with its states and their transitions: [`common`] (card, reader,
//! language, 係員を呼ぶ and idle timeouts, handled first in every state), [`choice`] (reading
//! the card, choosing a method), [`face`], [`pin`], [`staff`] and [`consent`] (consent,
//! hand-off, result). [`state`] holds the states, each with exactly its data.

mod choice;
mod common;
mod consent;
mod effect;
mod event;
mod face;
mod pin;
mod settings;
mod staff;
mod state;
#[cfg(test)]
mod tests;
mod types;

pub use effect::{Effect, Notice, Screen, TimerId, View};
pub use event::{Event, Touch};
pub use settings::Settings;
pub use types::*;

use crate::errors::KioskError;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use state::{State, Step};

/// One kiosk's session state.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    state: State,
    /// The screen last shown: entering another one speaks its prompt.
    shown: Screen,
    lang: Lang,
    /// The staff member logged in, from unlocking until they leave or the card is removed.
    operator: Option<Operator>,
    /// The last error, in staff wording on the staff screen.
    last_error: Option<KioskError>,
    /// Notices on the waiting screen (e.g. the last card was removed too early).
    idle_notices: Vec<Notice>,
    idle_armed: bool,
    /// Draws each capture's liveness challenge, so the next one cannot be predicted; the
    /// runtime seeds it from the operating system ([`Session::with_challenge_seed`]).
    challenge_draw: ChaCha8Rng,
}

/// What a transition leaves the session in.
enum Next {
    /// Enter the state: show it, speak its prompt if the screen changed, (re)arm the idle timer.
    Go(State),
    /// Stay without showing anything (waiting for a device, or the event did not apply).
    Stay(State),
    /// The handler entered its state itself, with effects that must follow the view.
    Entered,
}

impl Next {
    /// Late results of cancelled effects, touches on buttons not shown, stale timers.
    fn ignore(state: State, event: &Event) -> Next {
        tracing::debug!(screen = ?state.screen(), ?event, "event ignored");
        Next::Stay(state)
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl Session {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            state: State::Idle,
            shown: Screen::Waiting,
            lang: Lang::Ja,
            operator: None,
            last_error: None,
            idle_notices: Vec::new(),
            idle_armed: false,
            challenge_draw: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// Seeds the draw of liveness challenges (a fixed seed makes tests reproducible).
    pub fn with_challenge_seed(mut self, seed: u64) -> Self {
        self.challenge_draw = ChaCha8Rng::seed_from_u64(seed);
        self
    }

    /// Advances the session by one event and returns what the runtime must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut fx = Vec::new();
        let state = std::mem::replace(&mut self.state, State::Idle);
        let next = match common::handle(self, state, event, &mut fx) {
            common::Shared::Handled(next) => next,
            common::Shared::Own(state, event) => self.step(state, event, &mut fx),
        };
        self.apply(next, &mut fx);
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

    fn apply(&mut self, next: Next, fx: &mut Vec<Effect>) {
        match next {
            Next::Go(state) => self.go(state, fx),
            Next::Stay(state) => self.state = state,
            Next::Entered => {}
        }
    }

    /// Enters `state`: shows it, speaks its prompt if the screen changed, arms the idle timer.
    fn go(&mut self, state: State, fx: &mut Vec<Effect>) {
        let screen = state.screen();
        self.state = state;
        if self.state.waits_for_touch() {
            self.idle_armed = true;
            fx.push(Effect::StartTimer(TimerId::Idle, self.settings.idle()));
        } else if std::mem::take(&mut self.idle_armed) {
            fx.push(Effect::CancelTimer(TimerId::Idle));
        }
        fx.push(Effect::Show(self.view()));
        if screen != std::mem::replace(&mut self.shown, screen) {
            fx.push(Effect::Speak(screen, self.lang));
        }
    }

    /// An error ends what the card's session was doing: shown until the card is removed.
    fn fail(&mut self, state: State, error: KioskError, fx: &mut Vec<Effect>) -> Next {
        let text = error.text();
        tracing::warn!(code = text.code, cause = text.staff, "session error");
        self.last_error = Some(error);
        fx.push(Effect::Audit(AuditRecord::Error(error)));
        Next::Go(match state {
            State::Reading(card) => State::CardRefused {
                card,
                error,
                serial: None,
            },
            State::CardRefused { card, serial, .. } => State::CardRefused {
                card,
                error,
                serial,
            },
            State::Patient(p, step) => {
                let verified = step.into_verified();
                State::Patient(p, Step::Failed { error, verified })
            }
            State::Staff(_, paused) => return self.fail(paused.resume(), error, fx),
            state @ (State::Idle | State::Unavailable(_)) => state,
        })
    }

    /// The screen and everything on it now.
    pub fn view(&self) -> View {
        let mut view = View::new(self.state.screen(), self.lang);
        view.operator = self.operator.clone();
        view.last_error = self.last_error;
        view.max_attempts = self.settings.face_attempts;
        match &self.state {
            State::Unavailable(e)
            | State::CardRefused { error: e, .. }
            | State::Patient(_, Step::Failed { error: e, .. }) => view.error = Some(*e),
            State::Patient(_, Step::Result(q)) => view.answer = Some(*q),
            State::Staff(step, _) => step.describe(&mut view),
            _ => {}
        }
        match self.state.card() {
            Some(card) => view.notices.extend(card.notices.iter().copied()),
            None => view.notices.extend(self.idle_notices.iter().copied()),
        }
        let Some(p) = self.state.patient() else {
            return view;
        };
        match &self.state {
            State::Patient(_, Step::Face(face)) => face.describe(&mut view),
            State::Patient(_, Step::Pin(pin)) => pin.describe(&mut view),
            State::Patient(_, step) => consent::describe(step, &mut view),
            _ => {}
        }
        if p.proxy {
            view.notices.push(Notice::Proxy);
        }
        view.pin_retries = match p.identity.pin {
            PinState::Remaining(n) => Some(n),
            PinState::NotSet => None,
        };
        view.face_available = p.face_available(&self.settings);
        view.pin_available = p.pin_available();
        view.proxy = p.proxy;
        view.visual_available = true;
        view
    }
}
