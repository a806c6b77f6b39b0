//! The session's own data between events, and what every sub-flow uses: entering a state,
//! failing, the view.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

use super::assisted::Assist;
use super::effect::{Effect, Notice, Prompt, Screen, TimerId, View};
use super::event::Event;
use super::settings::Settings;
use super::state::{Card, State, Step};
use super::types::{AuditRecord, Lang, Operator, PinState};
use crate::errors::KioskError;

/// One kiosk's session state.
#[derive(Debug)]
pub struct Session {
    pub(super) settings: Settings,
    pub(super) state: State,
    /// The screen last shown: entering another one speaks its prompt.
    pub(super) shown: Screen,
    pub(super) lang: Lang,
    /// The staff member logged in, from unlocking until they leave or the card is removed.
    pub(super) operator: Option<Operator>,
    /// The last error, in staff wording on the staff screen.
    pub(super) last_error: Option<KioskError>,
    /// Notices on the waiting screen (e.g. the last card was removed too early).
    pub(super) idle_notices: Vec<Notice>,
    /// What the last step said happened, with the screen it is shown on: cleared as soon as
    /// another screen is entered.
    pub(super) step_notice: Option<(Screen, Notice)>,
    /// The card's notices a screen prompt has said: shown on later screens, not said again.
    pub(super) heard: Vec<Notice>,
    pub(super) idle_armed: bool,
    /// What keeps the patient's reader from taking a card (pcscd down, the reader missing),
    /// kept while another stop (E024) is shown, to be shown once that one lifts.
    pub(super) reader_fault: Option<KioskError>,
    /// The keypad path and assisted mode ([`super::keypad`]).
    pub(super) assist: Assist,
    /// Draws each capture's liveness challenge, so the next one cannot be predicted; the
    /// runtime seeds it from the operating system ([`Session::with_challenge_seed`]).
    pub(super) challenge_draw: ChaCha8Rng,
}

/// What a transition leaves the session in.
pub(super) enum Next {
    /// Enter the state: show it, speak its prompt if the screen changed, (re)arm the idle timer.
    Go(State),
    /// Stay without showing anything (waiting for a device, or the event did not apply).
    Stay(State),
    /// The handler entered its state itself, with effects that must follow the view.
    Entered,
}

impl Next {
    /// Late results of cancelled effects, touches on buttons not shown, stale timers.
    pub(super) fn ignore(state: State, event: &Event) -> Next {
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
            assist: Assist::new(&settings),
            settings,
            state: State::Idle,
            shown: Screen::Waiting,
            lang: Lang::Ja,
            operator: None,
            last_error: None,
            idle_notices: Vec::new(),
            step_notice: None,
            heard: Vec::new(),
            idle_armed: false,
            reader_fault: None,
            challenge_draw: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// Seeds the draw of liveness challenges (a fixed seed makes tests reproducible).
    pub fn with_challenge_seed(mut self, seed: u64) -> Self {
        self.challenge_draw = ChaCha8Rng::seed_from_u64(seed);
        self
    }

    pub(super) fn apply(&mut self, next: Next, fx: &mut Vec<Effect>) {
        match next {
            Next::Go(state) => self.go(state, fx),
            Next::Stay(state) => self.state = state,
            Next::Entered => {}
        }
    }

    /// What every patient-facing time limit is multiplied by: `[session]
    /// assisted_timeout_factor` in assisted mode, else 1.
    pub(super) fn slower(&self) -> u32 {
        if self.assist.on {
            self.settings.assisted_timeout_factor
        } else {
            1
        }
    }

    /// `d` × [`Self::slower`].
    pub(super) fn longer(&self, d: Duration) -> Duration {
        d.saturating_mul(self.slower())
    }

    /// Says `notice` on `screen` (the screen the step goes to) until another screen is entered.
    pub(super) fn raise(&mut self, screen: Screen, notice: Notice) {
        self.step_notice = Some((screen, notice));
    }

    /// Enters `state`: shows it, speaks its prompt if the screen changed, arms the idle timer.
    pub(super) fn go(&mut self, state: State, fx: &mut Vec<Effect>) {
        let screen = state.screen();
        self.state = state;
        if self.step_notice.is_some_and(|(raised, _)| raised != screen) {
            self.step_notice = None;
        }
        if self.state.waits_for_touch() {
            self.idle_armed = true;
            fx.push(Effect::StartTimer(
                TimerId::Idle,
                self.longer(self.settings.idle()),
            ));
        } else if std::mem::take(&mut self.idle_armed) {
            fx.push(Effect::CancelTimer(TimerId::Idle));
        }
        if self.state.card().is_none() {
            self.heard.clear();
        }
        fx.push(Effect::Show(self.view()));
        if screen != std::mem::replace(&mut self.shown, screen) {
            fx.push(Effect::Speak(Prompt::Screen(screen), self.lang));
            self.heard_card_notices();
        }
    }

    /// The screen prompt just said has said the card's notices.
    pub(super) fn heard_card_notices(&mut self) {
        self.heard = self.state.card().map_or(Vec::new(), |c| c.notices.clone());
    }

    /// Ends staff mode, if a staff member is logged in.
    pub(super) fn leave_staff_mode(&mut self, fx: &mut Vec<Effect>) {
        if let Some(operator) = self.operator.take() {
            fx.push(Effect::Audit(AuditRecord::StaffLeft { operator }));
        }
    }

    /// `error` met by `card`'s session, which goes on (another attempt, another method).
    pub(super) fn went_on_from(&mut self, card: &mut Card, error: KioskError) {
        self.last_error = Some(error);
        card.error = Some(error);
    }

    /// An error ends what the card's session was doing: shown until the card is removed.
    pub(super) fn fail(&mut self, state: State, error: KioskError, fx: &mut Vec<Effect>) -> Next {
        let text = error.text();
        tracing::warn!(code = text.code, cause = text.staff, "session error");
        self.last_error = Some(error);
        fx.push(Effect::Audit(AuditRecord::Error(error)));
        Next::Go(match state {
            State::Reading(mut card) => {
                card.error = Some(error);
                State::CardRefused {
                    card,
                    error,
                    serial: None,
                }
            }
            State::CardRefused {
                mut card, serial, ..
            } => {
                card.error = Some(error);
                State::CardRefused {
                    card,
                    error,
                    serial,
                }
            }
            State::Patient(mut p, step) => {
                p.card.error = Some(error);
                let verified = step.into_verified();
                State::Patient(p, Step::Failed { error, verified })
            }
            State::Staff(_, paused) => return self.fail(paused.resume(), error, fx),
            state @ (State::Idle | State::Unavailable(_)) => state,
        })
    }

    /// The one thing to do next on `view`, when the screen alone does not say it; always one
    /// the patient can do there.
    fn instruction(&self, view: &View) -> Option<Notice> {
        match &self.state {
            State::CardRefused { error, .. } | State::Patient(_, Step::Failed { error, .. }) => {
                Some(match error {
                    KioskError::CardNotRecognised
                    | KioskError::NotMyNumberCard
                    | KioskError::CardRemoved => Notice::TakeCardPlaceAgain,
                    _ => Notice::TakeCardAskReception,
                })
            }
            State::Patient(_, Step::MethodChoice) => {
                match (view.face_available, view.pin_available) {
                    (true, true) => None,
                    (true, false) => Some(Notice::UseFace),
                    (false, true) => Some(Notice::UsePin),
                    (false, false) => Some(Notice::CallStaff),
                }
            }
            State::Patient(_, Step::Pin(_)) if view.notices.contains(&Notice::PinWrong) => {
                Some(Notice::EnterPinAgain)
            }
            _ => None,
        }
    }

    /// The screen and everything on it now.
    pub fn view(&self) -> View {
        let mut view = View::new(self.state.screen(), self.lang);
        view.operator = self.operator.clone();
        // Staff mode's 直前のエラー: the card's, while a card is in (never an earlier
        // patient's); without one, the kiosk's last error.
        view.card_error = self.state.card().and_then(|c| c.error);
        view.last_error = match self.state.card() {
            Some(_) => view.card_error,
            None => self.last_error,
        };
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
            Some(card) => {
                view.notices.extend(card.notices.iter().copied());
                view.heard = self.heard.clone();
            }
            None => view.notices.extend(self.idle_notices.iter().copied()),
        }
        view.notices.extend(self.step_notice.map(|(_, n)| n));
        if let Some(p) = self.state.patient() {
            match &self.state {
                State::Patient(_, Step::Face(face)) => face.describe(&mut view),
                State::Patient(_, Step::Pin(pin)) => pin.describe(&mut view),
                State::Patient(_, step) => step.describe(&mut view),
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
            if view.screen == Screen::MethodChoice
                && !p.pin_available()
                && !view.notices.contains(&Notice::PinLocked)
            {
                view.notices.push(Notice::PinUnusable);
            }
        }
        if !view.notices.iter().any(|n| n.is_instruction()) {
            view.notices.extend(self.instruction(&view));
        }
        self.assist.describe(&mut view);
        view
    }
}
