//! The reception console in a real browser: the kiosk runtime (real pcscd with the virtual card,
//! the real window on the headless backend) serves the console over HTTPS, and headless
//! Chromium (Debian's `chromium` and `chromium-driver`, driven over WebDriver with fantoccini)
//! refuses a wrong token (audited), signs in with a staff PIN, sees the patient's staff call
//! within a second, and acknowledges it; the kiosk then shows 係員が向かっています. Plain HTTP
//! gets nothing, nor do the events or the acknowledgement without a sign-in, and the page shows
//! no PIN, 照合番号B, My Number, name or birth date.
//!
//! `MYNAKIOSK_CONSOLE_SCREENSHOTS=1` also saves `docs/screenshots/console-{ja,en}.png`.

use crate::common;
use std::num::NonZeroU32;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{insert, remove, Driver, POLL, TIMEOUT};
use fantoccini::{Client, ClientBuilder, Locator};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::binary::Running;
use mynakiosk_tests::pcscd;
use serde_json::json;

/// The card the patient places: its PIN is locked, so the patient calls staff.
const PROFILE: &str = "pin-locked";
const STAFF_ID: &str = "nurse-7";
const STAFF_PIN: &str = "24680";
/// The console's address, for the scenario.
static CONSOLE: OnceLock<String> = OnceLock::new();

#[test]
fn staff_see_a_call_in_chromium_and_acknowledge_it_on_the_kiosk() {
    if common::reran_alone() {
        return;
    }
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (cert, key) = (d.join("console.crt"), d.join("console.key"));
    mynakiosk_tests::self_signed_certificate(&cert, &key);
    let token = d.join("reception.token");
    std::fs::write(&token, format!("{}\n", "r".repeat(48))).unwrap();
    let port = free_port();
    CONSOLE.set(format!("127.0.0.1:{port}")).unwrap();
    let pin_hash = mynakiosk::staff::hash_pin(STAFF_PIN, b"console-salt", NonZeroU32::MIN);
    let extra = format!(
        "[demo]\nvpcd_port = {vpcd}\n[console]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\n\
tls_cert = \"{cert}\"\ntls_key = \"{key}\"\ntoken_file = \"{token}\"\n\
[[staff.members]]\nid = \"{STAFF_ID}\"\npin_hash = \"{pin_hash}\"\n",
        vpcd = pcscd::SLOT0_PORT,
        cert = cert.display(),
        key = key.display(),
        token = token.display(),
    );
    let config = common::config(d, &extra);
    common::run_kiosk(&config, Mode::demo(), d, scenario);
}

fn scenario(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let address = CONSOLE.get().unwrap();
    let plain = ureq::get(format!("http://{address}/")).call();
    assert!(plain.is_err(), "plain HTTP got an answer: {plain:?}");

    let driver = ChromeDriver::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let browser = driver.browser().await;
        let outcome = in_browser(&browser, d, address).await;
        let _ = browser.close().await;
        outcome
    });
}

async fn in_browser(b: &Client, d: &Driver, address: &str) {
    let url = format!("https://{address}/");
    b.goto(&format!("{url}events")).await.unwrap();
    let body = b.find(Locator::Css("body")).await.unwrap();
    assert_eq!(
        body.text().await.unwrap(),
        "sign in first",
        "no events without a sign-in"
    );
    b.goto(&url).await.unwrap();
    // Before a sign-in the page follows the browser's Accept-Language.
    let korean = "return fetch('/', {headers: {'Accept-Language': 'ko-KR,ko;q=0.9,en;q=0.5'}})\
                .then((r) => r.text())";
    let korean = b.execute(korean, Vec::new()).await.unwrap();
    let korean = korean.as_str().unwrap();
    assert!(
        korean.contains("<html lang=\"ko\">") && korean.contains("로그인"),
        "{korean}"
    );
    let post =
        "return fetch('/acknowledge', {method: 'POST', body: new URLSearchParams({csrf: 'x'})})\
                .then((r) => r.status)";
    let status = b.execute(post, Vec::new()).await.unwrap();
    assert_eq!(status, json!(403), "no acknowledgement without a sign-in");
    sign_in(b, None, Some("wrong-token-wrong-token-wrong-token")).await;
    // The refusal page loads after the click: waited for, not read at once.
    wait_for_text(b, "problem", "サインインできませんでした").await;
    assert!(b.find(Locator::Id("status")).await.is_err(), "refused");
    let audit = d.audit_text();
    assert!(
        audit.contains("\"event\":\"console_sign_in_refused\"")
            && audit.contains("\"credential\":\"token\""),
        "the refusal is audited: {audit}"
    );

    sign_in(b, Some((STAFF_ID, STAFF_PIN)), None).await;
    wait_for_text(b, "state", "待機中").await;

    let card = insert(PROFILE);
    d.wait_for(ui::Screen::MethodChoice);
    wait_for_text(b, "state", "受付中").await;
    d.click("TopBar::call-staff");
    let called = Instant::now();
    let text = text_of(b, "article.call[data-open=true]").await;
    let shown_after = called.elapsed();
    assert!(
        shown_after <= Duration::from_secs(1),
        "the staff call took {shown_after:?} to show"
    );
    assert!(text.contains("認証方法の選択"), "{text}");
    assert!(text.contains("暗証番号の残り回数\n0"), "{text}");
    wait_for_text(b, "waiting", "はい").await;
    assert_private(&b.source().await.unwrap());
    screenshot(b, "ja").await;

    for (lang, yes) in [("zh-Hans", "是"), ("ko", "예"), ("vi", "có"), ("en", "yes")] {
        b.goto(&format!("{url}?lang={lang}")).await.unwrap();
        wait_for_text(b, "waiting", yes).await;
        let html = b.source().await.unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
        if lang == "en" {
            screenshot(b, lang).await;
        }
    }
    click(b, "button.acknowledge").await;
    d.wait_until("係員が向かっています on the kiosk", |d| {
        common::notices(d).contains(&ui::Notice::StaffComing)
            && shows_text(d, "係員が向かっています")
    });
    wait_for_text(b, "waiting", "no").await;
    assert_eq!(text_of(b, "p.acknowledged").await, "Acknowledged");
    assert_private(&b.source().await.unwrap());
    let audit = d.audit_text();
    assert!(
        audit.contains("\"action\":\"staff_call_acknowledged\""),
        "{audit}"
    );
    assert!(
        audit.contains(&format!("\"operator_id\":\"{STAFF_ID}\"")),
        "{audit}"
    );
    remove(d, card);
}

/// Fills the sign-in form with a staff id and PIN, or the token, and submits it.
async fn sign_in(b: &Client, staff: Option<(&str, &str)>, token: Option<&str>) {
    let fields = [
        ("staff_id", staff.map(|s| s.0)),
        ("staff_pin", staff.map(|s| s.1)),
        ("token", token),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            let field = b
                .find(Locator::Css(&format!("input[name={name}]")))
                .await
                .unwrap();
            field.send_keys(value).await.unwrap();
        }
    }
    b.find(Locator::Id("submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the element `id` reads `text`.
async fn wait_for_text(b: &Client, id: &str, text: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = match b.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if now == text {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "#{id} reads {now:?}, not {text:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Whether a text element on the kiosk's window reads `text`.
fn shows_text(d: &Driver, text: &'static str) -> bool {
    d.on_ui(move |w| {
        i_slint_backend_testing::ElementHandle::find_by_accessible_label(w, text)
            .next()
            .is_some()
    })
}

/// Nothing of the card holder on the page: no PIN, 照合番号B, My Number, name or birth date.
fn assert_private(html: &str) {
    let profile = card_sim::Profile::load(PROFILE).unwrap();
    let holder = profile.holder.as_ref().expect("the profile has a holder");
    let secrets = [
        profile.pin.clone().unwrap_or_default(),
        profile.pin_b.clone(),
        holder.my_number.clone(),
        holder.name.clone(),
        holder.security_code.clone(),
    ];
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !common::shows_secret(html, secret),
            "the page shows {secret:?}: {html}"
        );
    }
}

/// Saves the browser's view as `docs/screenshots/console-<lang>.png` when asked to.
async fn screenshot(b: &Client, lang: &str) {
    if std::env::var_os("MYNAKIOSK_CONSOLE_SCREENSHOTS").is_none() {
        return;
    }
    let png = b.screenshot().await.unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(format!("console-{lang}.png"));
    std::fs::write(&out, png).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// The text of the element `css` once it is there. The page redraws on every update, so an
/// element found may be gone when read: then it is looked up again.
async fn text_of(b: &Client, css: &str) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(element) = b.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "no {css} in the browser");
        tokio::time::sleep(POLL).await;
    }
}

/// Clicks the element `css` once it is there (looked up again if a redraw replaced it).
async fn click(b: &Client, css: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(element) = b.find(Locator::Css(css)).await {
            if element.click().await.is_ok() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "cannot click {css} in the browser"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Debian's chromedriver on a free loopback port, stopped on drop.
struct ChromeDriver {
    _process: Running,
    port: u16,
}

impl ChromeDriver {
    fn start() -> Self {
        let port = free_port();
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}"));
        let process = Running::spawn(cmd);
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(POLL);
        }
        Self {
            _process: process,
            port,
        }
    }

    /// Headless Chromium accepting the console's self-signed certificate.
    async fn browser(&self) -> Client {
        let capabilities = json!({
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1000,900", "--lang=ja"],
                // Headless Chromium ignores --lang for Accept-Language; this sets it.
                "prefs": {"intl.accept_languages": "ja,en"}
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a WebDriver session with headless Chromium")
    }
}
