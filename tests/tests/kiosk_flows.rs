//! Whole patient flows through the session state machine and the real Slint window (headless
//! testing backend): device results go in as events, touches are clicks on the real buttons,
//! and the tests assert what the window shows and what is handed off.

use std::cell::RefCell;
use std::num::NonZeroU32;
use std::rc::Rc;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use mynakiosk::errors::KioskError;
use mynakiosk::kiosk::view;
use mynakiosk::session::*;
use mynakiosk::staff::{hash_pin, StaffConfig, StaffMember};
use slint::platform::PointerEventButton;
use slint::ComponentHandle;

const READER: &str = "Virtual PCD 00 00";

/// The session and the window, wired as the runtime wires them; effects other than `Show`
/// are recorded for the test to answer.
struct Kiosk {
    window: ui::KioskWindow,
    session: Rc<RefCell<Session>>,
    effects: Rc<RefCell<Vec<Effect>>>,
}

fn dispatch(
    window: &ui::KioskWindow,
    session: &RefCell<Session>,
    effects: &RefCell<Vec<Effect>>,
    event: Event,
) {
    let out = session.borrow_mut().handle(event);
    for effect in out {
        match effect {
            Effect::Show(v) => view::apply(window, &v),
            other => effects.borrow_mut().push(other),
        }
    }
}

impl Kiosk {
    fn new() -> Self {
        Self::with(Settings::default())
    }

    fn with(settings: Settings) -> Self {
        let window = crate::common::window_without_event_loop();
        let session = Rc::new(RefCell::new(Session::new(settings)));
        let effects = Rc::new(RefCell::new(Vec::new()));
        let weak = window.as_weak();
        let (s, e) = (session.clone(), effects.clone());
        window.on_act(move |action, arg| {
            let w = weak.upgrade().unwrap();
            let rows = view::consent_items(&w);
            if let Some(touch) = view::touch(action, arg, &rows) {
                dispatch(&w, &s, &e, Event::Touch(touch));
            }
        });
        let weak = window.as_weak();
        let (s, e) = (session.clone(), effects.clone());
        window.on_call_staff(move || {
            let w = weak.upgrade().unwrap();
            dispatch(&w, &s, &e, Event::Touch(Touch::CallStaff));
        });
        let weak = window.as_weak();
        let (s, e) = (session.clone(), effects.clone());
        window.on_select_language(move |code| {
            let w = weak.upgrade().unwrap();
            let lang = Lang::from_code(&code).unwrap();
            dispatch(&w, &s, &e, Event::Touch(Touch::Language(lang)));
        });
        Self {
            window,
            session,
            effects,
        }
    }

    fn send(&self, event: Event) {
        dispatch(&self.window, &self.session, &self.effects, event);
    }

    /// Effects since the last call.
    fn take(&self) -> Vec<Effect> {
        std::mem::take(&mut self.effects.borrow_mut())
    }

    fn element(&self, id: &str) -> Option<ElementHandle> {
        ElementHandle::find_by_element_id(&self.window, id).next()
    }

    fn label(&self, id: &str) -> String {
        self.element(id)
            .unwrap_or_else(|| panic!("{id} is not shown on {:?}", self.window.get_screen()))
            .accessible_label()
            .unwrap_or_default()
            .to_string()
    }

    fn click(&self, id: &str) {
        self.element(id)
            .unwrap_or_else(|| panic!("{id} is not shown on {:?}", self.window.get_screen()))
            .mock_single_click(PointerEventButton::Left);
    }

    /// Clicks the button whose label is `label`.
    fn press(&self, label: &str) {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no button {label:?} on {:?}", self.window.get_screen()))
            .mock_single_click(PointerEventButton::Left);
    }

    fn screen(&self) -> ui::Screen {
        self.window.get_screen()
    }

    fn notices(&self) -> Vec<ui::Notice> {
        use slint::Model;
        self.window.get_notices().iter().collect()
    }

    fn place_card(&self, identity: Result<CardIdentity, KioskError>) {
        self.send(Event::CardInserted {
            reader: READER.into(),
        });
        assert_eq!(self.screen(), ui::Screen::Reading);
        assert!(self.take().contains(&Effect::ReadCardIdentity {
            reader: READER.into()
        }));
        self.send(Event::CardIdentityRead(identity));
    }

    fn remove_card(&self) {
        self.send(Event::CardRemoved {
            reader: READER.into(),
        });
    }

    fn type_pin(&self, pin: &str) -> PinEntry {
        for d in pin.chars() {
            self.press(&d.to_string());
        }
        assert_eq!(self.window.get_digits_entered(), pin.len() as i32);
        self.take();
        self.click("DigitPad::submit");
        self.take()
            .into_iter()
            .find_map(|e| match e {
                Effect::VerifyPin(p) => Some(p),
                _ => None,
            })
            .expect("VerifyPin")
    }

    /// 包括同意 then confirm; returns what is handed off.
    fn consent_all(&self) -> VerificationResult {
        assert_eq!(self.screen(), ui::Screen::ConsentChoice);
        self.click("ConsentChoiceScreen::all");
        assert_eq!(self.screen(), ui::Screen::ConsentSummary);
        self.confirm()
    }

    fn confirm(&self) -> VerificationResult {
        self.take();
        self.click("ConsentSummaryScreen::confirm");
        assert_eq!(self.screen(), ui::Screen::Delivering);
        self.take()
            .into_iter()
            .find_map(|e| match e {
                Effect::DeliverResult(r) => Some(r),
                _ => None,
            })
            .expect("DeliverResult")
    }

    /// Face path from the method choice to the capture screen.
    fn start_face(&self) {
        self.take();
        self.click("MethodChoiceScreen::face");
        assert_eq!(self.screen(), ui::Screen::FacePreparing);
        assert_eq!(self.take()[0], Effect::QueryPinBCounter);
        self.send(Event::PinBCounterRead(Ok(Some(10))));
        assert_eq!(self.take(), vec![Effect::ReadCardFront]);
        self.send(Event::CardFrontRead(Ok(CardFrontReading::Read {
            pin_b: PinB::new("90010120291234"),
            min_confidence: 1.0,
            agreeing_frames: 2,
            second_look: false,
        })));
        assert!(matches!(self.take()[0], Effect::SubmitPinB(_)));
        self.send(Event::PinBSubmitted(Ok(PinBOutcome::Accepted)));
        assert_eq!(self.take(), vec![Effect::ReadFacePhoto]);
        self.send(Event::FacePhotoRead(Ok(())));
        assert_eq!(self.screen(), ui::Screen::FaceCapture);
        assert!(self
            .take()
            .iter()
            .any(|e| matches!(e, Effect::StartFaceCapture { .. })));
    }

    fn face_attempt(&self, matched: bool) {
        self.send(Event::FaceCaptured(Ok(Capture::Captured {
            liveness: LivenessCheck::Passed,
        })));
        assert!(self.take().contains(&Effect::CompareFaces));
        self.send(Event::FacesCompared(Ok(FaceMatch {
            score: if matched { 0.72 } else { 0.08 },
            matched,
        })));
    }
}

fn identity(pin: PinState, days_left: i64) -> CardIdentity {
    CardIdentity {
        certificate: Certificate {
            serial: "1A2B3C".into(),
            not_after: "2030-03-31".into(),
            days_left,
            der: vec![0x30, 0x82, 0x01],
        },
        pin,
        pin_b_retries: Some(10),
    }
}

fn proof() -> PinProof {
    PinProof {
        challenge: vec![7; 32],
        signature: vec![9; 256],
    }
}

#[test]
fn face_success_is_handed_off_and_the_card_taken() {
    let k = Kiosk::new();
    assert_eq!(k.screen(), ui::Screen::Waiting);
    k.send(Event::CardInserted {
        reader: READER.into(),
    });
    assert_eq!(k.label("ReadingScreen::message"), "読み取り中です");
    k.send(Event::CardIdentityRead(Ok(identity(
        PinState::Remaining(3),
        800,
    ))));
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    assert_eq!(
        k.label("MethodChoiceScreen::retries"),
        "暗証番号はあと3回入力できます"
    );
    k.start_face();
    k.send(Event::FaceGuidance(Guidance::RemoveMask));
    assert_eq!(
        k.label("FaceCaptureScreen::guidance"),
        "マスクを外してください"
    );
    // One prompt at a time: the face problem first, then the challenge alone.
    assert!(k.element("FaceCaptureScreen::challenge").is_none());
    k.send(Event::FaceGuidance(Guidance::HoldStill));
    assert!(!k.label("FaceCaptureScreen::challenge").is_empty());
    assert!(k.element("FaceCaptureScreen::guidance").is_none());
    assert!(k.label("FaceCaptureScreen::height-hint").contains("車いす"));
    k.send(Event::TimerFired(TimerId::FaceTick));
    assert_eq!(k.window.get_seconds_left(), 19);
    assert!(k
        .label("FaceCaptureScreen::countdown")
        .starts_with("残り19秒"));
    k.face_attempt(true);
    assert!(k.take().contains(&Effect::DiscardBiometrics));
    assert!(k.notices().contains(&ui::Notice::ImagesDeleted));
    assert_eq!(k.label("VerifiedScreen::message"), "本人確認ができました");
    k.send(Event::TimerFired(TimerId::VerifiedHold));
    let result = k.consent_all();
    assert_eq!(result.certificate.serial, "1A2B3C");
    assert_eq!(
        result.method,
        Method::Face {
            score: 0.72,
            liveness: LivenessCheck::Passed,
            attempts: 1,
        }
    );
    assert!(result.consent.comprehensive && !result.proxy && !result.register);
    k.send(Event::Delivered(Ok(Qualification::Valid)));
    assert_eq!(k.label("ResultScreen::message"), "受付が完了しました");
    assert_eq!(k.label("ResultScreen::remove"), "カードをお取りください");
    k.send(Event::TimerFired(TimerId::ResultHold));
    assert_eq!(
        k.label("RemoveCardScreen::message"),
        "カードをお取りください"
    );
    k.remove_card();
    assert_eq!(k.screen(), ui::Screen::Waiting);
    assert!(k.notices().is_empty());
}

#[test]
fn face_fails_then_pin_succeeds() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.start_face();
    for _ in 0..3 {
        k.face_attempt(false);
    }
    assert_eq!(k.screen(), ui::Screen::MethodChoice);
    assert!(k.element("MethodChoiceScreen::face").is_none());
    let notices = k.notices();
    assert_eq!(
        notices,
        [
            ui::Notice::ImagesDeleted,
            ui::Notice::FaceFailed,
            ui::Notice::UsePin
        ]
    );
    k.click("MethodChoiceScreen::pin");
    assert_eq!(k.screen(), ui::Screen::PinEntry);
    assert_eq!(k.type_pin("1234").expose(), "1234");
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert_eq!(k.consent_all().method, Method::Pin(proof()));
}

#[test]
fn pin_wrong_then_right() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::pin");
    assert_eq!(
        k.label("PinEntryScreen::retries"),
        "暗証番号はあと3回入力できます"
    );
    // Backspace and clear edit the masked entry.
    k.press("5");
    k.press("6");
    k.click("DigitPad::backspace");
    assert_eq!(k.window.get_digits_entered(), 1);
    k.click("DigitPad::clear");
    assert_eq!(k.window.get_digits_entered(), 0);
    k.type_pin("9999");
    k.send(Event::PinVerified(Ok(PinOutcome::Wrong { remaining: 1 })));
    assert_eq!(k.screen(), ui::Screen::PinEntry);
    assert_eq!(
        k.label("PinEntryScreen::retries"),
        "暗証番号の入力はあと1回です。間違えるとロックされます"
    );
    assert_eq!(k.window.get_digits_entered(), 0);
    k.type_pin("1234");
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert_eq!(k.screen(), ui::Screen::ConsentChoice);
}

#[test]
fn pin_locked_then_staff_visual_check() {
    let k = Kiosk::with(Settings {
        face_enabled: false,
        ..Settings::default()
    });
    let staff = StaffConfig {
        card_reader: String::new(),
        members: vec![StaffMember {
            id: "nurse-7".into(),
            pin_hash: hash_pin("2468", b"kiosk-salt", NonZeroU32::new(1000).unwrap()),
            card_serial: None,
        }],
    };
    k.place_card(Ok(identity(PinState::Remaining(0), 800)));
    // Neutral: a 顔認証マイナンバーカード may answer like a locked PIN.
    assert_eq!(
        k.notices(),
        [ui::Notice::PinUnusable, ui::Notice::CallStaff]
    );
    assert!(k.element("MethodChoiceScreen::retries").is_none());
    assert!(k.element("MethodChoiceScreen::pin").is_none());
    assert!(k.element("MethodChoiceScreen::face").is_none());
    k.click("TopBar::call-staff");
    assert_eq!(k.screen(), ui::Screen::StaffLogin);
    assert!(k.take().contains(&Effect::NotifyStaff));
    for d in ["2", "4", "6", "8"] {
        k.press(d);
    }
    k.click("DigitPad::submit");
    let pin = k
        .take()
        .into_iter()
        .find_map(|e| match e {
            Effect::CheckStaffPin(p) => Some(p),
            _ => None,
        })
        .unwrap();
    k.send(Event::StaffPinChecked(staff.check(&pin)));
    assert_eq!(k.screen(), ui::Screen::StaffMenu);
    assert!(k
        .take()
        .contains(&Effect::Audit(AuditRecord::StaffUnlocked {
            operator: Operator("nurse-7".into()),
            credential: Credential::Pin,
        })));
    assert!(k.label("StaffMenuScreen::cause").contains("E009"));
    k.press("暗証番号ロック");
    let audit = k.take();
    assert!(audit.contains(&Effect::Audit(AuditRecord::VisualCheck {
        operator: Operator("nurse-7".into()),
        reason: VisualReason::PinLocked
    })));
    let result = k.consent_all();
    assert_eq!(
        result.method,
        Method::Visual {
            operator: Operator("nurse-7".into()),
            reason: VisualReason::PinLocked
        }
    );
    assert_eq!(k.window.get_pin_retries(), 0, "staff never reset counters");
}

#[test]
fn face_only_card_offers_face_only() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::NotSet, 800)));
    assert!(k.element("MethodChoiceScreen::face").is_some());
    assert!(k.element("MethodChoiceScreen::pin").is_none());
    assert_eq!(k.notices(), [ui::Notice::PinUnusable, ui::Notice::UseFace]);
    k.start_face();
    k.face_attempt(true);
    k.send(Event::TimerFired(TimerId::VerifiedHold));
    assert!(matches!(k.consent_all().method, Method::Face { .. }));
}

#[test]
fn card_removed_during_face_capture() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.start_face();
    k.remove_card();
    let fx = k.take();
    assert!(fx.contains(&Effect::StopFaceCapture));
    assert!(fx.contains(&Effect::DiscardBiometrics));
    assert_eq!(k.screen(), ui::Screen::Waiting);
    assert_eq!(k.notices(), vec![ui::Notice::CardRemoved]);
}

#[test]
fn card_removed_during_pin_entry() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::pin");
    k.press("1");
    k.press("2");
    k.remove_card();
    assert_eq!(k.screen(), ui::Screen::Waiting);
    assert_eq!(k.window.get_digits_entered(), 0);
    assert_eq!(k.notices(), vec![ui::Notice::CardRemoved]);
    assert!(!k.take().iter().any(|e| matches!(e, Effect::VerifyPin(_))));
}

#[test]
fn not_a_my_number_card() {
    let k = Kiosk::new();
    k.place_card(Err(KioskError::NotMyNumberCard));
    assert_eq!(k.screen(), ui::Screen::Error);
    assert_eq!(
        k.label("ErrorScreen::message"),
        "マイナンバーカードではありません。マイナンバーカードを置いてください。"
    );
    assert_eq!(k.label("ErrorScreen::code"), "E002");
    k.remove_card();
    assert_eq!(k.screen(), ui::Screen::Waiting);
}

#[test]
fn expired_certificate_says_where_to_renew() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), -1)));
    assert_eq!(k.label("ErrorScreen::code"), "E006");
    assert!(k
        .label("ErrorScreen::message")
        .contains("市区町村の窓口で更新"));
}

#[test]
fn consent_item_by_item_with_summary() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::pin");
    k.type_pin("1234");
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    k.click("ConsentChoiceScreen::per-item");
    assert_eq!(k.screen(), ui::Screen::ConsentItems);
    // Facility defaults: 薬剤・特定健診 提供する, 診療・手術 提供しない.
    k.press("薬剤情報: 提供をやめる");
    k.press("手術情報: 提供する");
    k.click("ConsentItemsScreen::review");
    assert_eq!(k.screen(), ui::Screen::ConsentSummary);
    let lines: Vec<String> =
        ElementHandle::find_by_element_id(&k.window, "ConsentSummaryScreen::summary")
            .map(|e| e.accessible_label().unwrap_or_default().to_string())
            .collect();
    assert_eq!(
        lines,
        [
            "薬剤情報: 提供しない",
            "特定健診情報: 提供する",
            "診療情報: 提供しない",
            "手術情報: 提供する"
        ]
    );
    let result = k.confirm();
    assert!(!result.consent.comprehensive);
    assert_eq!(
        result.consent.items,
        vec![
            (ConsentItem::Drug, false),
            (ConsentItem::Checkup, true),
            (ConsentItem::Clinical, false),
            (ConsentItem::Surgery, true)
        ]
    );
}

#[test]
fn facility_shows_only_its_items_and_registration_is_offered() {
    let k = Kiosk::with(Settings {
        consent_items: vec![ConsentItem::Drug, ConsentItem::Checkup],
        ..Settings::default()
    });
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::pin");
    k.type_pin("1234");
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    let result = k.consent_all();
    assert_eq!(
        result.consent.items,
        vec![(ConsentItem::Drug, true), (ConsentItem::Checkup, true)]
    );
    k.send(Event::Delivered(Ok(Qualification::NotRegistered)));
    assert_eq!(k.screen(), ui::Screen::RegistrationOffer);
    k.take();
    k.click("RegistrationOfferScreen::yes");
    let again = k
        .take()
        .into_iter()
        .find_map(|e| match e {
            Effect::DeliverResult(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert!(again.register);
    k.send(Event::Delivered(Ok(Qualification::Invalid)));
    assert_eq!(
        k.label("ResultScreen::message"),
        "保険の資格が確認できませんでした"
    );
    assert!(k
        .label("ResultScreen::next")
        .contains("受付にお声がけください"));
}

#[test]
fn proxy_operates_with_the_pin() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::proxy");
    assert!(k.notices().contains(&ui::Notice::Proxy));
    assert!(k.element("MethodChoiceScreen::face").is_none());
    k.click("MethodChoiceScreen::pin");
    assert!(k.label("PinEntryScreen::title").contains("カードの持ち主"));
    k.type_pin("1234");
    k.send(Event::PinVerified(Ok(PinOutcome::Verified(proof()))));
    assert!(k.consent_all().proxy);
}

#[test]
fn idle_timeout_asks_to_take_the_card() {
    let k = Kiosk::new();
    k.place_card(Ok(identity(PinState::Remaining(3), 800)));
    k.click("MethodChoiceScreen::pin");
    k.send(Event::TimerFired(TimerId::Idle));
    assert_eq!(k.screen(), ui::Screen::Error);
    assert_eq!(k.label("ErrorScreen::code"), "E023");
    k.remove_card();
    assert_eq!(k.screen(), ui::Screen::Waiting);
}

#[test]
fn language_choice_translates_the_screens() {
    let k = Kiosk::new();
    k.press("English");
    assert_eq!(
        k.label("WaitingScreen::prompt"),
        "Please place your My Number Card"
    );
    k.press("한국어");
    assert_eq!(
        k.label("WaitingScreen::prompt"),
        "마이넘버 카드를 올려 주세요"
    );
    // The patient's language lasts for their card; errors too come in that language.
    k.place_card(Err(KioskError::NotMyNumberCard));
    assert!(k
        .label("ErrorScreen::message")
        .contains("마이넘버 카드가 아닙니다"));
    k.remove_card();
    assert_eq!(
        k.label("WaitingScreen::prompt"),
        "マイナンバーカードを置いてください"
    );
}
