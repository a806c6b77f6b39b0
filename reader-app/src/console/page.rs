//! The console's HTML, rendered on the server in Japanese or English: the sign-in form, the
//! page, and the status panel that the server-sent events replace. Only the kiosk's state and
//! its staff calls: no name, no card data, no PIN, no image.

use std::fmt::Write;

use super::status::{Activity, Call, Status};
use crate::lang::Lang;

/// The page's words in one language.
struct Words {
    title: &'static str,
    sign_in: &'static str,
    staff_id: &'static str,
    staff_pin: &'static str,
    or_token: &'static str,
    token: &'static str,
    refused: &'static str,
    limited: &'static str,
    sign_out: &'static str,
    signed_in_as: &'static str,
    kiosk: &'static str,
    state: &'static str,
    idle: &'static str,
    in_session: &'static str,
    staff_mode: &'static str,
    unavailable: &'static str,
    screen: &'static str,
    waiting_for_staff: &'static str,
    reader_missing: &'static str,
    camera_missing: &'static str,
    outbox: &'static str,
    calls: &'static str,
    no_calls: &'static str,
    error: &'static str,
    cause: &'static str,
    pin_left: &'static str,
    face_left: &'static str,
    waited: &'static str,
    seconds: &'static str,
    acknowledge: &'static str,
    acknowledged: &'static str,
    yes: &'static str,
    no: &'static str,
}

const JA: Words = Words {
    title: "受付コンソール",
    sign_in: "サインイン",
    staff_id: "職員ID",
    staff_pin: "職員番号",
    or_token: "または受付トークン",
    token: "受付トークン",
    refused: "サインインできませんでした",
    limited: "失敗が続いたため、しばらくお待ちください",
    sign_out: "サインアウト",
    signed_in_as: "サインイン中",
    kiosk: "端末",
    state: "状態",
    idle: "待機中",
    in_session: "受付中",
    staff_mode: "係員操作中",
    unavailable: "利用不可",
    screen: "画面",
    waiting_for_staff: "係員待ち",
    reader_missing: "カードリーダーなし",
    camera_missing: "カメラなし",
    outbox: "未送信",
    calls: "係員呼び出し",
    no_calls: "呼び出しはありません",
    error: "エラー",
    cause: "原因",
    pin_left: "暗証番号の残り回数",
    face_left: "顔認証の残り回数",
    waited: "待ち時間",
    seconds: "秒",
    acknowledge: "向かいます",
    acknowledged: "対応中",
    yes: "はい",
    no: "いいえ",
};

const EN: Words = Words {
    title: "Reception console",
    sign_in: "Sign in",
    staff_id: "Staff id",
    staff_pin: "Staff PIN",
    or_token: "or the reception token",
    token: "Reception token",
    refused: "Sign-in refused",
    limited: "Too many failed sign-ins: please wait a minute",
    sign_out: "Sign out",
    signed_in_as: "Signed in",
    kiosk: "Kiosk",
    state: "State",
    idle: "Idle",
    in_session: "In session",
    staff_mode: "Staff mode",
    unavailable: "Unavailable",
    screen: "Screen",
    waiting_for_staff: "Waiting for staff",
    reader_missing: "Reader missing",
    camera_missing: "Camera missing",
    outbox: "Outbox backlog",
    calls: "Staff calls",
    no_calls: "No calls",
    error: "Error",
    cause: "Cause",
    pin_left: "PIN tries left",
    face_left: "Face attempts left",
    waited: "Waiting for",
    seconds: "s",
    acknowledge: "On my way",
    acknowledged: "Acknowledged",
    yes: "yes",
    no: "no",
};

/// The console's languages: Japanese, and English for every other kiosk language.
fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ja => &JA,
        _ => &EN,
    }
}

/// The page language asked for (`ja` or `en`).
pub fn lang_of(code: Option<&str>) -> Lang {
    match code {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(lang: Lang, w: &Words, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
<link rel=\"stylesheet\" href=\"/console.css\"></head><body>{body}</body></html>",
        lang.code(),
        w.title
    )
}

fn lang_links(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "<a href=\"/?lang=en\" id=\"lang\" lang=\"en\">English</a>",
        _ => "<a href=\"/?lang=ja\" id=\"lang\" lang=\"ja\">日本語</a>",
    }
}

/// The sign-in form, with what went wrong last.
pub fn sign_in(lang: Lang, problem: Option<super::gate::Verdict>) -> String {
    let w = words(lang);
    let problem = match problem {
        Some(super::gate::Verdict::Refused) => w.refused,
        Some(super::gate::Verdict::Limited) => w.limited,
        _ => "",
    };
    let problem = if problem.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\" id=\"problem\">{problem}</p>")
    };
    let body = format!(
        "<header><h1>{title}</h1>{links}</header>{problem}\
<form method=\"post\" action=\"/sign-in\" id=\"sign-in\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">\
<label>{id} <input name=\"staff_id\" autocomplete=\"username\"></label>\
<label>{pin} <input name=\"staff_pin\" type=\"password\" inputmode=\"numeric\" autocomplete=\"current-password\"></label>\
<p>{or_token}</p>\
<label>{token} <input name=\"token\" id=\"token\" type=\"password\" autocomplete=\"off\"></label>\
<button type=\"submit\" id=\"submit\">{sign_in}</button></form>",
        title = w.title,
        links = lang_links(lang),
        code = lang.code(),
        id = w.staff_id,
        pin = w.staff_pin,
        or_token = w.or_token,
        token = w.token,
        sign_in = w.sign_in,
    );
    document(lang, w, &body)
}

/// The signed-in page: the status panel, kept current by `/console.js` from `/events`.
pub fn console(lang: Lang, operator: &str, csrf: &str, status: &Status) -> String {
    let w = words(lang);
    let body = format!(
        "<header><h1>{title}</h1>{links}<span>{as_}: {operator}</span>\
<form method=\"post\" action=\"/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\">{sign_out}</button></form></header>\
<main id=\"status\" data-seconds=\"{seconds}\">{panel}</main><script src=\"/console.js\"></script>",
        title = w.title,
        links = lang_links(lang),
        as_ = w.signed_in_as,
        operator = escape(operator),
        sign_out = w.sign_out,
        seconds = w.seconds,
        panel = panel(lang, csrf, status, chrono::Utc::now().timestamp_millis()),
    );
    document(lang, w, &body)
}

/// The status panel at `now_ms`: the kiosk's state, then its staff calls, newest first.
pub fn panel(lang: Lang, csrf: &str, status: &Status, now_ms: i64) -> String {
    let w = words(lang);
    let state = match status.activity() {
        Activity::Idle => w.idle,
        Activity::InSession => w.in_session,
        Activity::StaffMode => w.staff_mode,
        Activity::Unavailable => w.unavailable,
    };
    let flag = |on: bool| if on { w.yes } else { w.no };
    let screen = status
        .screen
        .map_or("Waiting".to_owned(), |s| format!("{s:?}"));
    let mut out = format!(
        "<section id=\"kiosk\"><h2>{kiosk} {id}</h2><dl>\
<dt>{state_}</dt><dd id=\"state\">{state}</dd><dt>{screen_}</dt><dd id=\"screen\">{screen}</dd>\
<dt>{waiting_}</dt><dd id=\"waiting\">{waiting}</dd>\
<dt>{reader_}</dt><dd id=\"reader-missing\">{reader}</dd><dt>{camera_}</dt><dd id=\"camera-missing\">{camera}</dd>\
<dt>{outbox_}</dt><dd id=\"outbox\">{queued} ({age} {seconds})</dd></dl></section>",
        kiosk = w.kiosk,
        id = escape(&status.kiosk_id),
        state_ = w.state,
        screen_ = w.screen,
        waiting_ = w.waiting_for_staff,
        waiting = flag(status.waiting_for_staff()),
        reader_ = w.reader_missing,
        reader = flag(status.reader_missing()),
        camera_ = w.camera_missing,
        camera = flag(status.camera_missing()),
        outbox_ = w.outbox,
        queued = status.devices.outbox_queued,
        age = status.devices.outbox_oldest_seconds,
        seconds = w.seconds,
    );
    let _ = write!(out, "<section id=\"calls\"><h2>{}</h2>", w.calls);
    if status.calls.is_empty() {
        let _ = write!(out, "<p>{}</p>", w.no_calls);
    }
    for call in status.calls.iter().rev() {
        out.push_str(&call_row(w, csrf, call, now_ms));
    }
    out.push_str("</section>");
    out
}

fn call_row(w: &Words, csrf: &str, call: &Call, now_ms: i64) -> String {
    let mut row = format!(
        "<article class=\"call\" id=\"call-{n}\" data-open=\"{open}\"><h3>#{n} {screen_}: {screen}</h3><dl>",
        n = call.number,
        open = !call.acknowledged,
        screen_ = w.screen,
        screen = escape(&call.screen),
    );
    if let Some(e) = call.error {
        let text = e.text();
        let _ = write!(
            row,
            "<dt>{}</dt><dd class=\"code\">{}</dd><dt>{}</dt><dd class=\"cause\">{}</dd>",
            w.error,
            text.code,
            w.cause,
            escape(text.staff)
        );
    }
    for (label, left) in [
        (w.pin_left, call.pin_retries_left),
        (w.face_left, call.face_attempts_left),
    ] {
        if let Some(n) = left {
            let _ = write!(row, "<dt>{label}</dt><dd>{n}</dd>");
        }
    }
    let waited = (now_ms - call.called_at_ms).max(0) / 1000;
    let _ = write!(
        row,
        "<dt>{}</dt><dd class=\"waited\" data-since=\"{}\">{waited} {}</dd></dl>",
        w.waited, call.called_at_ms, w.seconds
    );
    if call.acknowledged {
        let _ = write!(row, "<p class=\"acknowledged\">{}</p>", w.acknowledged);
    } else {
        let _ = write!(
            row,
            "<form method=\"post\" action=\"/acknowledge\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\" class=\"acknowledge\">{}</button></form>",
            w.acknowledge
        );
    }
    row.push_str("</article>");
    row
}

/// The page's script: the status panel from the server-sent events, the waiting times ticking.
pub const SCRIPT: &str = r#"// Reception console: replaces the status panel on each server-sent event.
const panel = document.getElementById('status');
const events = new EventSource('/events');
events.onmessage = (e) => { panel.innerHTML = e.data; };
setInterval(() => {
  for (const d of document.querySelectorAll('.waited')) {
    const s = Math.max(0, Math.floor((Date.now() - Number(d.dataset.since)) / 1000));
    d.textContent = s + ' ' + panel.dataset.seconds;
  }
}, 1000);
"#;

/// The page's style sheet.
pub const STYLE: &str = "body{font-family:sans-serif;margin:1rem 2rem;max-width:60rem}\
header{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dd{margin:0}\
.call{border:2px solid #c33;border-radius:.5rem;padding:.5rem 1rem;margin:.5rem 0}\
.call[data-open=false]{border-color:#999}.acknowledge{font-size:1.2rem;padding:.4rem 1.2rem}\
label{display:block;margin:.5rem 0}#problem{color:#c33;font-weight:bold}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::KioskError;

    #[test]
    fn a_call_shows_its_code_cause_tries_and_wait_and_escapes_text() {
        let status = Status {
            kiosk_id: "<k1>".into(),
            calls: vec![Call {
                number: 1,
                screen: "MethodChoice".into(),
                error: Some(KioskError::CardRemoved),
                pin_retries_left: Some(0),
                face_attempts_left: None,
                called_at_ms: 1_000,
                acknowledged: false,
            }],
            ..Status::default()
        };
        let html = panel(Lang::En, "c5rf", &status, 43_000);
        assert!(html.contains("&lt;k1&gt;") && !html.contains("<k1>"));
        assert!(html.contains(KioskError::CardRemoved.text().code));
        assert!(html.contains(&escape(KioskError::CardRemoved.text().staff)));
        assert!(html.contains("<dt>PIN tries left</dt><dd>0</dd>"));
        assert!(html.contains(">42 s<"));
        assert!(html.contains("value=\"c5rf\""));
        assert!(panel(Lang::Ja, "c", &status, 0).contains("向かいます"));
    }
}
