//! The five-language walk: a keypad-only patient through every flow in ja, en, zh-Hans, ko and
//! vi. After each key or device answer the window is read as shown (every labelled element)
//! and as said (the prompt's words): all in the chosen language, at most one instruction and
//! always one the patient can follow, notices only on the step that raised them, a keypad
//! action said and shown on every screen that waits for the patient.

use i_slint_backend_testing::ElementQuery;

use mynakiosk::errors::KioskError;

use super::*;

/// Screens that wait for the patient: each says and shows what to do with the keypad.
const WAITING_FOR_THE_PATIENT: [ui::Screen; 8] = [
    ui::Screen::Waiting,
    ui::Screen::MethodChoice,
    ui::Screen::FaceCapture,
    ui::Screen::PinEntry,
    ui::Screen::ConsentChoice,
    ui::Screen::ConsentSummary,
    ui::Screen::RegistrationOffer,
    ui::Screen::Error,
];

/// A patient in `lang` at the kiosk; `faults` gathers what a look found wrong.
struct Walk<'a> {
    k: &'a Kiosk,
    lang: Lang,
    flow: &'static str,
    faults: RefCell<Vec<String>>,
    views_seen: RefCell<usize>,
    /// The language was chosen for the card in the reader (the next patient starts in Japanese).
    chosen: std::cell::Cell<bool>,
    /// Texts read in the chosen language.
    read: std::cell::Cell<usize>,
}

impl Walk<'_> {
    fn fault(&self, what: String) {
        let at = format!("{:?} {} {:?}: ", self.lang, self.flow, self.k.screen());
        self.faults.borrow_mut().push(at + &what);
    }

    /// Reads the window and the views shown since the last look.
    fn look(&self) {
        let k = self.k;
        let chosen = self.chosen.get();
        for text in shown_texts(&k.window).into_iter().filter(|_| chosen) {
            self.read.set(self.read.get() + 1);
            if text.chars().any(|c| foreign(self.lang, c)) {
                self.fault(format!("shown in another language: {text}"));
            }
        }
        let views = k.record.borrow().views.clone();
        for v in &views[*self.views_seen.borrow()..] {
            self.check_notices(v);
        }
        *self.views_seen.borrow_mut() = views.len();
        let screen = k.screen();
        let hint = ElementHandle::find_by_element_id(&k.window, "KeypadBar::hint")
            .next()
            .and_then(|h| h.accessible_label())
            .map(|l| plain(&l))
            .unwrap_or_default();
        if WAITING_FOR_THE_PATIENT.contains(&screen) && hint.is_empty() {
            self.fault("no keypad action shown".into());
        }
        let nothing_to_choose = screen == ui::Screen::MethodChoice
            && !k.window.get_face_available()
            && !k.window.get_pin_available();
        let asked_to_choose = plain(&k.window.global::<ui::Texts>().invoke_prompt(screen));
        if nothing_to_choose && shown_texts(&k.window).contains(&asked_to_choose) {
            self.fault(format!(
                "asked to choose with nothing to choose: {asked_to_choose}"
            ));
        }
        let proxy = ElementHandle::find_by_element_id(&k.window, "MethodChoiceScreen::proxy");
        if screen == ui::Screen::MethodChoice && !k.window.get_pin_available() && proxy.count() > 0
        {
            self.fault("代理 (PIN only) offered without a usable PIN".into());
        }
        let said = k.record.borrow().words.last().cloned().unwrap_or_default();
        if nothing_to_choose && said.contains(&asked_to_choose) {
            self.fault(format!("said to choose with nothing to choose: {said}"));
        }
        if chosen && said.chars().any(|c| foreign(self.lang, c)) {
            self.fault(format!("said in another language: {said}"));
        }
        if ["?.", "?。", "？。", "？."]
            .iter()
            .any(|m| said.contains(m))
        {
            self.fault(format!("a question mark and a stop: {said}"));
        }
        let sentences: Vec<&str> = said
            .split(['。', '.'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if (1..sentences.len()).any(|i| sentences[..i].contains(&sentences[i])) {
            self.fault(format!("a sentence said twice: {said}"));
        }
    }

    fn check_notices(&self, v: &View) {
        let instructions: Vec<_> = v.notices.iter().filter(|n| n.is_instruction()).collect();
        if instructions.len() > 1 {
            self.fault(format!(
                "{:?}: several instructions {instructions:?}",
                v.screen
            ));
        }
        let impossible = v.notices.iter().any(|n| match n {
            Notice::UsePin | Notice::EnterPinAgain => !v.pin_available,
            Notice::UseFace => !v.face_available,
            _ => false,
        });
        if impossible {
            self.fault(format!(
                "{:?}: an impossible instruction {:?}",
                v.screen, v.notices
            ));
        }
        let stale = v.notices.iter().any(|n| match n {
            Notice::PinWrong | Notice::EnterPinAgain => v.screen != Screen::PinEntry,
            Notice::FaceFailed | Notice::FaceUnavailable => v.screen != Screen::MethodChoice,
            _ => false,
        });
        if stale {
            self.fault(format!(
                "{:?}: a notice off its step {:?}",
                v.screen, v.notices
            ));
        }
    }

    /// The screen's prompt, said last, ends with the keypad action shown.
    fn said_with_keys(&self) {
        let k = self.k;
        let hint = ElementHandle::find_by_element_id(&k.window, "KeypadBar::hint")
            .next()
            .and_then(|h| h.accessible_label())
            .map(|l| plain(&l))
            .unwrap_or_default();
        let said = k.record.borrow().words.last().cloned().unwrap_or_default();
        if hint.is_empty() || !said.ends_with(hint.trim_end_matches(['。', '.'])) {
            self.fault(format!("said {said:?} without the keypad action {hint:?}"));
        }
    }

    fn key(&self, text: &str) {
        self.k.key(text);
        self.look();
    }

    fn send(&self, event: Event) {
        match event {
            Event::Touch(Touch::Language(_)) => self.chosen.set(true),
            Event::CardRemoved { .. } => self.chosen.set(false),
            _ => {}
        }
        self.k.send(event);
        self.look();
    }

    /// A card placed, the language chosen on the method choice.
    fn place(&self, pin: PinState) {
        self.k.place_card(pin);
        self.send(Event::Touch(Touch::Language(self.lang)));
        self.said_with_keys();
    }

    fn remove(&self) {
        self.send(Event::CardRemoved {
            reader: READER.into(),
        });
        assert_eq!(self.k.screen(), ui::Screen::Waiting, "{:?}", self.lang);
    }

    fn pin(&self, outcome: PinOutcome) {
        assert_eq!(self.k.screen(), ui::Screen::PinEntry);
        self.said_with_keys();
        for d in PIN.chars() {
            self.key(&d.to_string());
        }
        self.key("\n");
        self.send(Event::PinVerified(Ok(outcome)));
    }

    fn verified() -> PinOutcome {
        PinOutcome::Verified(Kiosk::proof())
    }

    /// Consent by `answers`, Enter on the summary, the reception's answer and the result.
    fn consent(&self, answers: &str) {
        assert_eq!(self.k.screen(), ui::Screen::ConsentChoice);
        self.said_with_keys();
        for a in answers.chars() {
            self.key(&a.to_string());
        }
        assert_eq!(self.k.screen(), ui::Screen::ConsentSummary);
        self.said_with_keys();
        self.key("\n");
        self.send(Event::Delivered(Ok(Qualification::Valid)));
        assert_eq!(self.k.screen(), ui::Screen::Result);
    }

    /// From the method choice, face chosen and the card's face opened; `matched` per attempt.
    fn face(&self, attempts: &[bool]) {
        self.key("1");
        self.send(Event::PinBCounterRead(Ok(Some(10))));
        self.send(Event::CardFrontRead(Ok(CardFrontReading::Read {
            pin_b: PinB::new("90010120291234"),
            min_confidence: 1.0,
            agreeing_frames: 2,
            second_look: false,
        })));
        self.send(Event::PinBSubmitted(Ok(PinBOutcome::Accepted)));
        self.send(Event::FacePhotoRead(Ok(())));
        for &matched in attempts {
            assert_eq!(self.k.screen(), ui::Screen::FaceCapture);
            self.send(Event::FaceGuidance(Guidance::MoveCloser));
            self.send(Event::FaceCaptured(Ok(Capture::Captured {
                liveness: LivenessCheck::Passed,
            })));
            self.send(Event::FacesCompared(Ok(FaceMatch {
                score: if matched { 0.7 } else { 0.08 },
                matched,
            })));
        }
    }
}

/// Every non-empty accessible label on the window but the language row's own names.
fn shown_texts(w: &ui::KioskWindow) -> Vec<String> {
    ElementQuery::from_root(w)
        .match_descendants()
        .match_predicate(|e| e.accessible_checkable() != Some(true))
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_label())
        .map(|l| plain(&l))
        .filter(|l| !l.is_empty())
        .collect()
}

/// One flow in one language.
type Flow = fn(&Walk);

const FLOWS: [(&str, Flow); 8] = [
    ("PIN", |w| {
        w.place(PinState::Remaining(3));
        w.key("2");
        w.pin(Walk::verified());
        w.consent("1");
    }),
    ("wrong PIN then right", |w| {
        w.place(PinState::Remaining(3));
        w.key("2");
        w.pin(PinOutcome::Wrong { remaining: 2 });
        w.pin(Walk::verified());
        w.consent("1");
    }),
    ("face then PIN", |w| {
        w.place(PinState::Remaining(3));
        w.face(&[false, false, false]);
        assert_eq!(w.k.screen(), ui::Screen::MethodChoice);
        w.said_with_keys();
        w.key("2");
        w.pin(Walk::verified());
        w.consent("22121");
    }),
    ("face matched", |w| {
        w.place(PinState::Remaining(3));
        w.face(&[false, true]);
        assert_eq!(w.k.screen(), ui::Screen::Verified);
        w.send(Event::TimerFired(TimerId::VerifiedHold));
        w.consent("1");
    }),
    ("call staff", |w| {
        w.place(PinState::Remaining(3));
        w.key("+");
        assert_eq!(w.k.screen(), ui::Screen::StaffLogin);
    }),
    ("cancel", |w| {
        w.place(PinState::Remaining(3));
        w.key("2");
        w.key("9");
        w.key("-");
        assert_eq!(w.k.screen(), ui::Screen::MethodChoice);
        w.said_with_keys();
        w.key("1");
        w.key("-");
        assert_eq!(w.k.screen(), ui::Screen::MethodChoice);
    }),
    ("PIN locked, face fails", |w| {
        w.place(PinState::Remaining(0));
        w.face(&[false, false, false]);
        assert_eq!(w.k.screen(), ui::Screen::MethodChoice);
        w.said_with_keys();
    }),
    ("card errors", |w| {
        for error in [KioskError::NotMyNumberCard, KioskError::CardNotRecognised] {
            w.send(Event::CardInserted {
                reader: READER.into(),
            });
            w.send(Event::Touch(Touch::Language(w.lang)));
            w.send(Event::CardIdentityRead(Err(error)));
            assert_eq!(w.k.screen(), ui::Screen::Error);
            w.said_with_keys();
            w.remove();
        }
        w.place(PinState::Remaining(3));
        w.key("2");
        w.send(Event::PinVerified(Err(KioskError::CardRemoved)));
    }),
];

#[test]
fn a_keypad_patient_walks_every_flow_in_each_language_without_a_contradiction() {
    let mut faults = Vec::new();
    let mut read = 0;
    for lang in Lang::ALL {
        for (flow, walk) in FLOWS {
            let k = Kiosk::new();
            let w = Walk {
                k: &k,
                lang,
                flow,
                faults: RefCell::new(Vec::new()),
                views_seen: RefCell::new(0),
                chosen: std::cell::Cell::new(false),
                read: std::cell::Cell::new(0),
            };
            walk(&w);
            w.look();
            read += w.read.get();
            // A fact about the card (the images deleted) is said once, on the screen that
            // first shows it; later screens show it without saying it again.
            view::select_language(lang);
            let texts = k.window.global::<ui::Texts>();
            let deleted = plain(&texts.invoke_notice(ui::Notice::ImagesDeleted, 0));
            let deleted = deleted.trim_end_matches(['。', '.']);
            let times = k
                .record
                .borrow()
                .words
                .iter()
                .filter(|w| w.contains(deleted))
                .count();
            if times > 1 {
                faults.push(format!("{lang:?} {flow}: {deleted:?} said {times} times"));
            }
            faults.extend(w.faults.into_inner());
            if k.record.borrow().log.contains("Digit(") {
                k.assert_no_pin_leaked();
            }
        }
    }
    view::select_language(Lang::Ja);
    assert!(read > 2_000, "only {read} texts read");
    faults.dedup();
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
