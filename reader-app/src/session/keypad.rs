//! The eyes-free path and assisted mode: keypad keys become the touches of the screen shown,
//! PIN digits are confirmed by a tone (never spoken), consent items are asked one at a time
//! (1 = yes, 2 = no), face guidance is spoken at a pace that does not talk over itself, the
//! repeat key says the prompt again, and assisted mode (larger type, longer timeouts, one
//! question per screen, the prompt repeated after silence) calls staff on help or a timeout.

use super::effect::{Effect, Notice, Prompt, Screen, TimerId};
use super::event::{Event, Key, Touch};
use super::machine::Session;
use super::state::{State, Step};
use super::steps::{Face, Pin, StaffStep};
use super::types::{AuditRecord, ConsentItem, Guidance};

/// Face-capture seconds between two spoken guidance prompts, so one is heard to its end.
const GUIDANCE_GAP_TICKS: u32 = 3;
/// Digits of the patient PIN: the pad is full after this many.
const PIN_LEN: usize = 4;

/// What [`after`] compares with: the session before the event.
pub(super) struct Before {
    screen: Screen,
    item: usize,
    digits: usize,
    guidance: Option<Guidance>,
    notice: Option<(Screen, Notice)>,
    /// The event is the card front's read or the card's answer to it.
    card_front_answer: bool,
}

impl Before {
    pub fn of(s: &Session, event: &Event) -> Self {
        Self {
            screen: s.state.screen(),
            item: s.assist.item,
            digits: pin_digits(&s.state),
            notice: s.step_notice,
            guidance: match event {
                Event::FaceGuidance(g) => Some(*g),
                _ => None,
            },
            card_front_answer: matches!(event, Event::CardFrontRead(_) | Event::PinBSubmitted(_)),
        }
    }
}

/// Handles keys, the assisted-mode touch and the repeat timer; counts face ticks and calls
/// staff on an assisted timeout. `None`: the event was handled here.
pub(super) fn before(s: &mut Session, event: Event, fx: &mut Vec<Effect>) -> Option<Event> {
    match event {
        Event::Key(key) => key_touch(s, key, fx).map(Event::Touch),
        Event::Touch(Touch::Assisted) => {
            toggle(s, fx);
            None
        }
        Event::Touch(Touch::ConsentReview) if s.assist.on && next_item(s) => {
            reshow(s, fx);
            None
        }
        Event::TimerFired(TimerId::RepeatPrompt) => {
            if s.assist.on && s.state.waits_for_touch() {
                if let Some(prompt) = s.assist.said {
                    fx.push(Effect::Speak(prompt, s.lang));
                    fx.push(Effect::StartTimer(
                        TimerId::RepeatPrompt,
                        s.settings.repeat(),
                    ));
                }
            }
            None
        }
        Event::TimerFired(TimerId::FaceTick) => {
            s.assist.quiet_ticks += 1;
            Some(event)
        }
        Event::TimerFired(TimerId::Idle)
            if s.assist.on
                && s.idle_armed
                && s.state.waits_for_touch()
                && s.state.card().is_some() =>
        {
            notify_staff(fx);
            Some(event)
        }
        Event::CardRemoved { ref reader }
            if s.state.card().is_some_and(|c| &c.reader == reader) =>
        {
            s.assist.on = s.settings.assisted;
            Some(event)
        }
        event => Some(event),
    }
}

/// The touch a key stands for on the screen shown; repeat, help and assisted are done here.
fn key_touch(s: &mut Session, key: Key, fx: &mut Vec<Effect>) -> Option<Touch> {
    use Screen as S;
    let screen = s.state.screen();
    Some(match (key, screen) {
        (Key::Repeat, _) => {
            fx.extend(s.assist.said.map(|p| Effect::Speak(p, s.lang)));
            return None;
        }
        (Key::Help, _) => {
            help(s, fx);
            return None;
        }
        (Key::Assisted, _) => {
            toggle(s, fx);
            return None;
        }
        (Key::CallStaff, _) => Touch::CallStaff,
        // Only while a pad takes digits: a digit that reached a sub-flow's "ignored" log
        // would show there.
        (Key::Digit(d), _) if on_pad(&s.state) => {
            fx.push(Effect::Speak(Prompt::Tone, s.lang));
            Touch::Digit(d)
        }
        (Key::Back, _) if on_pad(&s.state) => Touch::Backspace,
        (Key::Enter, _) if on_pad(&s.state) => Touch::Submit,
        (
            Key::Cancel,
            S::PinEntry
            | S::StaffLogin
            | S::FacePreparing
            | S::FaceCapture
            | S::ConsentItems
            | S::ConsentSummary,
        ) => Touch::Cancel,
        (Key::Digit(1), S::MethodChoice) => Touch::ChooseFace,
        (Key::Digit(2), S::MethodChoice) => Touch::ChoosePin,
        (Key::Digit(1), S::ConsentChoice) => Touch::ConsentAll,
        (Key::Digit(2), S::ConsentChoice) => Touch::ConsentPerItem,
        (Key::Digit(d @ (1 | 2)), S::ConsentItems) => {
            let (item, _) = *consent_items(&s.state).get(s.assist.item)?;
            fx.extend(s.handle(Event::Touch(Touch::ConsentSet(item, d == 1))));
            if next_item(s) {
                reshow(s, fx);
                return None;
            }
            Touch::ConsentReview
        }
        (Key::Enter, S::ConsentSummary) => Touch::ConsentConfirm,
        (Key::Digit(1), S::RegistrationOffer) => Touch::Register(true),
        (Key::Digit(2), S::RegistrationOffer) => Touch::Register(false),
        _ => {
            tracing::debug!(?screen, "key not used on this screen");
            return None;
        }
    })
}

/// A PIN pad (the patient's or the staff's) waits for digits.
fn on_pad(state: &State) -> bool {
    matches!(
        state,
        State::Patient(_, Step::Pin(Pin::Entry { .. })) | State::Staff(StaffStep::Login { .. }, _)
    )
}

/// Moves to the next consent item; false after the last.
fn next_item(s: &mut Session) -> bool {
    let more = s.state.screen() == Screen::ConsentItems
        && s.assist.item + 1 < consent_items(&s.state).len();
    if more {
        s.assist.item += 1;
    }
    more
}

fn consent_items(state: &State) -> &[(ConsentItem, bool)] {
    match state {
        State::Patient(_, Step::Consent(v, _)) => &v.consent.items,
        _ => &[],
    }
}

/// Shows the current state again (same screen: nothing is spoken by `go`).
fn reshow(s: &mut Session, fx: &mut Vec<Effect>) {
    let state = std::mem::replace(&mut s.state, State::Idle);
    s.go(state, fx);
}

/// Assisted mode on or off, said and shown at once.
fn toggle(s: &mut Session, fx: &mut Vec<Effect>) {
    s.assist.on = !s.assist.on;
    fx.push(Effect::Speak(Prompt::Assisted(s.assist.on), s.lang));
    reshow(s, fx);
}

/// The help key: the keys are said, assisted mode goes on and staff are called (as by
/// 係員を呼ぶ, without leaving the screen).
fn help(s: &mut Session, fx: &mut Vec<Effect>) {
    s.assist.on = true;
    if !matches!(s.state, State::Staff(..)) {
        notify_staff(fx);
        if s.state.card().is_some() {
            s.raise(s.state.screen(), Notice::StaffCalled);
        }
    }
    fx.push(Effect::Speak(Prompt::Help, s.lang));
    reshow(s, fx);
}

fn notify_staff(fx: &mut Vec<Effect>) {
    fx.push(Effect::NotifyStaff);
    fx.push(Effect::Audit(AuditRecord::StaffCalled));
}

/// PIN digits on the patient pad.
fn pin_digits(state: &State) -> usize {
    match state {
        State::Patient(_, Step::Pin(Pin::Entry { pad })) => pad.len(),
        _ => 0,
    }
}

/// The prompts that depend on more than the screen (consent item, challenge, full pad, face
/// guidance), the repeat timer, and what the repeat key says.
pub(super) fn after(s: &mut Session, before: Before, fx: &mut Vec<Effect>) {
    let screen = s.state.screen();
    let lang = s.lang;
    if screen != before.screen {
        s.assist.item = 0;
        s.assist.guidance = None;
        s.assist.quiet_ticks = 0;
    }
    let spoken = fx.iter().rposition(|e| matches!(e, Effect::Speak(..)));
    let replace = |fx: &mut Vec<Effect>, prompt| match spoken {
        Some(i) => fx[i] = Effect::Speak(prompt, lang),
        None => fx.push(Effect::Speak(prompt, lang)),
    };
    match &s.state {
        State::Patient(_, Step::Consent(..)) if screen == Screen::ConsentItems => {
            let asked = (screen != before.screen || s.assist.item != before.item)
                .then(|| consent_items(&s.state).get(s.assist.item))
                .flatten();
            if let Some(&(item, _)) = asked {
                replace(fx, Prompt::ConsentItem(item));
            }
        }
        State::Patient(
            _,
            Step::Face(Face::Capture {
                challenge,
                guidance,
                ..
            }),
        ) => {
            if screen != before.screen {
                if let Some(c) = challenge {
                    replace(fx, Prompt::Challenge(*c));
                }
            } else if let Some(g) = before.guidance.filter(|&g| {
                Some(g) == *guidance
                    && g != Guidance::HoldStill
                    && s.assist.guidance != Some(g)
                    && s.assist.quiet_ticks >= GUIDANCE_GAP_TICKS
            }) {
                s.assist.guidance = Some(g);
                s.assist.quiet_ticks = 0;
                replace(fx, Prompt::Guidance(g));
            }
        }
        state if pin_digits(state) == PIN_LEN && before.digits < PIN_LEN => {
            replace(fx, Prompt::PinEntered);
        }
        // The card front is to be read again and the patient must do something first (turn the
        // card face up, place it again, take the second card away): said each time, since the
        // screen does not change.
        State::Patient(_, Step::Face(Face::Preparing { ask: Some(_) }))
            if before.card_front_answer && spoken.is_none() =>
        {
            replace(fx, Prompt::Screen(screen));
        }
        // A step said what happened on the same screen (e.g. a wrong PIN): the screen's
        // prompt, which says its notices first, again.
        _ if screen == before.screen
            && spoken.is_none()
            && s.step_notice.is_some()
            && s.step_notice != before.notice =>
        {
            replace(fx, Prompt::Screen(screen));
        }
        _ => {}
    }
    // The repeat key says what to do, not a key's confirmation.
    let said = fx.iter().rev().find_map(|e| match e {
        Effect::Speak(p, _) if !matches!(p, Prompt::Tone | Prompt::Assisted(_)) => Some(*p),
        _ => None,
    });
    if let Some(prompt) = said {
        s.assist.said = Some(prompt);
        if s.assist.on && s.state.waits_for_touch() {
            fx.push(Effect::StartTimer(
                TimerId::RepeatPrompt,
                s.settings.repeat(),
            ));
        } else {
            fx.push(Effect::CancelTimer(TimerId::RepeatPrompt));
        }
    }
}
