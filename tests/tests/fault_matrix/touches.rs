//! The scripted patient of a cell: touches and waits that stop at the first fault.

use super::*;

/// Face path: either matched and consented, or withdrawn (then the PIN path).
pub(super) fn face_or_pin(t: &Touches) -> bool {
    let mut patience = Patience::new();
    loop {
        if t.slot.gone() {
            return false;
        }
        let screen = t.observe();
        if screen == ui::Screen::Error {
            return false;
        }
        if screen == ui::Screen::ConsentChoice {
            return t.consent();
        }
        // Read in one go: the screen above and a face button read apart may straddle the
        // update to 顔認証の準備 and look like a choice without face.
        let face = "MethodChoiceScreen::face";
        if screen == ui::Screen::MethodChoice
            && t.d.screen_showing(face) == (ui::Screen::MethodChoice, false)
        {
            *t.withdrawn.borrow_mut() = notices(t.d).contains(&ui::Notice::FaceUnavailable);
            return t.click("MethodChoiceScreen::pin") && t.pin("1234") && t.consent();
        }
        assert!(patience.moving(t.d), "face path stuck on {screen:?}");
        std::thread::sleep(POLL);
    }
}

/// Touches that stop as soon as the card is gone (no touch after the card left), and
/// fail the test if the kiosk does not show what it should while the card is in.
pub(super) struct Touches<'a> {
    pub(super) d: &'a Driver,
    pub(super) slot: &'a Slot,
    /// Error codes seen, in order.
    pub(super) codes: RefCell<Vec<String>>,
    /// Whether face was withdrawn with the face-unavailable notice.
    pub(super) withdrawn: RefCell<bool>,
}

impl Touches<'_> {
    /// Watches the screen for `time`, noting error codes.
    pub(super) fn watch(&self, time: Duration) {
        let end = Instant::now() + time;
        while Instant::now() < end {
            self.observe();
            std::thread::sleep(POLL);
        }
    }

    /// Notes the error code if the error screen shows now; the screen.
    pub(super) fn observe(&self) -> ui::Screen {
        let (screen, code) = self
            .d
            .on_ui(|w| (w.get_screen(), w.get_error_code().to_string()));
        let mut codes = self.codes.borrow_mut();
        if screen == ui::Screen::Error && codes.last() != Some(&code) {
            codes.push(code);
        }
        screen
    }

    /// Waits until the session's outcome stops changing: a result or error screen, or 待機
    /// once the card left; returns that screen.
    pub(super) fn settle(&self) -> ui::Screen {
        let mut patience = Patience::new();
        loop {
            let screen = self.observe();
            let gone = self.slot.gone();
            match screen {
                ui::Screen::Waiting if gone => return screen,
                ui::Screen::Result | ui::Screen::Error if !gone => return screen,
                _ => {}
            }
            assert!(
                patience.moving(self.d),
                "the kiosk did not settle: {screen:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits for `done`; false as soon as the card is gone or an error screen shows.
    pub(super) fn until(&self, what: &str, done: impl Fn(&Driver) -> bool) -> bool {
        let mut patience = Patience::new();
        loop {
            if self.slot.gone() || self.observe() == ui::Screen::Error {
                return false;
            }
            if done(self.d) {
                return true;
            }
            assert!(
                patience.moving(self.d),
                "timed out waiting for {what} on {:?}",
                self.d.screen()
            );
            std::thread::sleep(POLL);
        }
    }

    pub(super) fn reach(&self, screen: ui::Screen) -> bool {
        self.until(&format!("{screen:?}"), |d| d.screen() == screen)
    }

    pub(super) fn click(&self, id: &'static str) -> bool {
        self.until(id, |d| d.try_click(id))
    }

    pub(super) fn press(&self, label: &'static str) -> bool {
        self.until(label, |d| {
            d.on_ui(move |w| {
                ElementHandle::find_by_accessible_label(w, label)
                    .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                    .map(|e| e.mock_single_click(PointerEventButton::Left))
                    .is_some()
            })
        })
    }

    /// Types `pin` on the pad shown and submits it.
    pub(super) fn pin(&self, pin: &'static str) -> bool {
        for i in 0..pin.len() {
            if !self.press(&pin[i..=i]) {
                return false;
            }
        }
        self.until("the digits typed", |d| {
            d.on_ui(|w| w.get_digits_entered()) == pin.len() as i32
        }) && self.click("DigitPad::submit")
    }

    /// 包括同意, confirmation, the result screen.
    pub(super) fn consent(&self) -> bool {
        self.reach(ui::Screen::ConsentChoice)
            && self.click("ConsentChoiceScreen::all")
            && self.reach(ui::Screen::ConsentSummary)
            && self.click("ConsentSummaryScreen::confirm")
            && self.reach(ui::Screen::Result)
    }
}

/// The bound of a wait for the kiosk: it runs out only once the kiosk has shown the same thing
/// (screen, error code, digits entered) for longer than its own longest wait on one screen
/// (`[session] idle_seconds`, after which every waiting screen gives up) plus a step's card
/// work ([`TIMEOUT`]), or after four such spans in all. A loaded machine only slows the
/// kiosk, which then still changes what it shows within that; a kiosk that does not is hung.
struct Patience {
    seen: (ui::Screen, String, i32),
    since: Instant,
    started: Instant,
}

impl Patience {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            seen: (ui::Screen::Waiting, String::new(), -1),
            since: now,
            started: now,
        }
    }

    fn stall() -> Duration {
        mynakiosk::session::Settings::default().idle() + TIMEOUT
    }

    /// Notes what `d` shows now; false once the kiosk stalled or the wait ran out.
    fn moving(&mut self, d: &Driver) -> bool {
        let shown = d.on_ui(|w| {
            let code = w.get_error_code().to_string();
            (w.get_screen(), code, w.get_digits_entered())
        });
        let now = Instant::now();
        if shown != self.seen {
            self.seen = shown;
            self.since = now;
        }
        now - self.since < Self::stall() && now - self.started < Self::stall() * 4
    }
}
