//! The console's HTML, rendered on the server in each of the kiosk's languages: the sign-in
//! form, the page, and the status panel that the server-sent events replace. Only the kiosk's
//! state and its staff calls: no name, no card data, no PIN, no image.

use std::fmt::Write;

use super::status::{Activity, Call, Status};
use super::words::{words, Words};
use crate::errors::KioskError;
use crate::lang::Lang;

/// The page's language: `?lang=` if given, else the browser's `Accept-Language` (highest `q`
/// first, by primary tag: any `zh` is Simplified Chinese), else Japanese.
pub fn lang_of(query: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = query.and_then(by_tag) {
        return lang;
    }
    let mut ranges: Vec<(f32, Lang)> = accept_language
        .unwrap_or_default()
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let lang = by_tag(parts.next()?.trim())?;
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse().ok())?;
            (q > 0.0).then_some((q, lang))
        })
        .collect();
    // Stable: of equal weights, the first listed wins.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.first().map_or(Lang::Ja, |&(_, lang)| lang)
}

/// The kiosk language of a BCP 47 tag, by its primary subtag.
fn by_tag(tag: &str) -> Option<Lang> {
    let primary = tag.split('-').next()?.to_ascii_lowercase();
    Lang::ALL
        .into_iter()
        .find(|l| l.code().split('-').next() == Some(primary.as_str()))
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

/// Links to the page in the other languages, each named in its own.
fn lang_links(lang: Lang) -> String {
    let mut nav = String::from("<nav id=\"langs\">");
    for other in Lang::ALL.into_iter().filter(|&l| l != lang) {
        let code = other.code();
        let _ = write!(
            nav,
            "<a href=\"/?lang={code}\" lang=\"{code}\" hreflang=\"{code}\">{}</a> ",
            words(other).name
        );
    }
    nav.push_str("</nav>");
    nav
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
    let screen = w.screen_name(status.screen);
    let mut out = format!(
        "<section id=\"kiosk\"><h2>{kiosk} {id}</h2><dl>\
<dt>{state_}</dt><dd id=\"state\">{state}</dd><dt>{screen_}</dt><dd id=\"screen\">{screen}</dd>\
<dt>{waiting_}</dt><dd id=\"waiting\">{waiting}</dd>\
<dt>{reader_}</dt><dd id=\"reader-missing\">{reader}</dd><dt>{camera_}</dt><dd id=\"camera-missing\">{camera}</dd>\
<dt>{outbox_}</dt><dd id=\"outbox\">{queued} ({age} {seconds})</dd>{error}</dl></section>",
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
        error = status.error.map_or(String::new(), |e| error_rows(
            w,
            w.error,
            e,
            status.cause.as_deref()
        )),
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

/// An error's code, its cause in the catalogue's staff wording (Japanese, the catalogue's only
/// staff language) and the adapter's own words (English), when it reported them.
fn error_rows(w: &Words, label: &str, error: KioskError, detail: Option<&str>) -> String {
    let text = error.text();
    let mut rows = format!(
        "<dt>{}</dt><dd class=\"code\">{}</dd><dt>{}</dt><dd class=\"cause\" lang=\"ja\">{}</dd>",
        label,
        text.code,
        w.cause,
        escape(text.staff)
    );
    if let Some(detail) = detail {
        let _ = write!(
            rows,
            "<dt>{}</dt><dd class=\"detail\" lang=\"en\">{}</dd>",
            w.detail,
            escape(detail)
        );
    }
    rows
}

fn call_row(w: &Words, csrf: &str, call: &Call, now_ms: i64) -> String {
    let mut row = format!(
        "<article class=\"call\" id=\"call-{n}\" data-open=\"{open}\"><h3>#{n} {screen_}: {screen}</h3><dl>",
        n = call.number,
        open = !call.acknowledged,
        screen_ = w.screen,
        screen = escape(w.screen_named(&call.screen)),
    );
    if let Some(e) = call.error {
        row.push_str(&error_rows(w, w.error, e, call.cause.as_deref()));
    }
    if let Some(e) = call.earlier_error {
        row.push_str(&error_rows(w, w.earlier_error, e, None));
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
    use super::super::words::EN;
    use super::*;
    use crate::errors::KioskError;

    fn call(number: u64, acknowledged: bool) -> Call {
        Call {
            number,
            screen: "MethodChoice".into(),
            error: Some(KioskError::PcscdDown),
            cause: Some("the PC/SC service (pcscd) is not running".into()),
            earlier_error: None,
            pin_retries_left: Some(0),
            face_attempts_left: Some(1),
            called_at_ms: 1_000,
            acknowledged,
        }
    }

    #[test]
    fn a_call_shows_its_code_cause_detail_tries_and_wait_and_escapes_text() {
        let mut open = call(1, false);
        open.error = Some(KioskError::CardRemoved);
        open.cause = Some("<no card session>".into());
        let status = Status {
            kiosk_id: "<k1>".into(),
            calls: vec![open],
            ..Status::default()
        };
        let html = panel(Lang::En, "c5rf", &status, 43_000);
        assert!(html.contains("&lt;k1&gt;") && !html.contains("<k1>"));
        assert!(html.contains(KioskError::CardRemoved.text().code));
        assert!(html.contains(&escape(KioskError::CardRemoved.text().staff)));
        assert!(html.contains(
            "<dt>Detail</dt><dd class=\"detail\" lang=\"en\">&lt;no card session&gt;</dd>"
        ));
        assert!(html.contains("<dt>PIN tries left</dt><dd>0</dd>"));
        assert!(html.contains(">42 s<"));
        assert!(html.contains("value=\"c5rf\""));
        assert!(panel(Lang::Ja, "c", &status, 0).contains("向かいます"));
    }

    #[test]
    fn a_call_from_a_screen_without_an_error_shows_the_visits_earlier_one() {
        let mut after_face = call(1, false);
        (after_face.error, after_face.cause) = (None, None);
        after_face.earlier_error = Some(KioskError::FaceNotMatched);
        let status = Status {
            calls: vec![after_face],
            ..Status::default()
        };
        let html = panel(Lang::En, "c", &status, 0);
        let text = KioskError::FaceNotMatched.text();
        assert!(html.contains(&format!(
            "<dt>Earlier in this visit</dt><dd class=\"code\">{}</dd>",
            text.code
        )));
        assert!(html.contains(&escape(text.staff)));
        assert!(!html.contains("<dt>Error</dt>"));
    }

    #[test]
    fn the_error_shown_on_the_kiosk_comes_with_the_adapters_cause() {
        let status = Status {
            error: Some(KioskError::PcscdDown),
            cause: Some("the PC/SC service (pcscd) is not running".into()),
            ..Status::default()
        };
        let html = panel(Lang::Ja, "c", &status, 0);
        let kiosk = &html[..html.find("id=\"calls\"").unwrap()];
        assert!(kiosk.contains(KioskError::PcscdDown.text().code));
        assert!(kiosk.contains("<dt>詳細</dt><dd class=\"detail\" lang=\"en\">the PC/SC service (pcscd) is not running</dd>"));
    }

    /// Every page in every language: the `lang` attribute, each of the language's words shown,
    /// none of them left in English, and links to the four other languages.
    #[test]
    fn every_page_renders_in_each_language_with_no_untranslated_word() {
        use super::super::gate::Verdict;
        let earlier = Call {
            earlier_error: Some(KioskError::FaceNotMatched),
            ..call(2, false)
        };
        let status = Status {
            kiosk_id: "k1".into(),
            screen: Some(crate::session::Screen::StaffMenu),
            error: Some(KioskError::CameraMissing),
            cause: Some("the PC/SC service (pcscd) is not running".into()),
            calls: vec![call(1, true), earlier],
            ..Status::default()
        };
        let quiet = Status::default();
        let unavailable = Status {
            error: Some(KioskError::ReaderMissing),
            ..Status::default()
        };
        let in_session = Status {
            screen: Some(crate::session::Screen::PinEntry),
            ..Status::default()
        };
        for lang in Lang::ALL {
            let w = words(lang);
            let pages = [
                sign_in(lang, None),
                sign_in(lang, Some(Verdict::Refused)),
                sign_in(lang, Some(Verdict::Limited)),
                console(lang, "nurse-7", "c", &status),
                console(lang, "nurse-7", "c", &quiet),
                panel(lang, "c", &unavailable, 0),
                panel(lang, "c", &in_session, 0),
            ];
            let all = pages.concat();
            for page in &pages[..5] {
                assert!(page.contains(&format!("<html lang=\"{}\">", lang.code())));
            }
            for (word, english) in w.shown().into_iter().zip(EN.shown()) {
                assert!(
                    all.contains(&escape(word)),
                    "{lang:?}: {word:?} is not shown"
                );
                if lang != Lang::En {
                    assert_ne!(word, english, "{lang:?}: {word:?} is not translated");
                }
            }
            for other in Lang::ALL.into_iter().filter(|&l| l != lang) {
                let link = format!(
                    "href=\"/?lang={code}\" lang=\"{code}\"",
                    code = other.code()
                );
                assert!(pages[0].contains(&link) && pages[0].contains(words(other).name));
            }
        }
    }

    #[test]
    fn screens_are_named_in_the_pages_language() {
        let status = Status {
            screen: Some(crate::session::Screen::PinEntry),
            calls: vec![call(1, false)],
            ..Status::default()
        };
        let ja = panel(Lang::Ja, "c", &status, 0);
        assert!(ja.contains("<dd id=\"screen\">暗証番号の入力</dd>"), "{ja}");
        assert!(ja.contains("#1 画面: 認証方法の選択"), "{ja}");
        assert!(panel(Lang::Vi, "c", &Status::default(), 0).contains(">Chờ</dd>"));
        for lang in Lang::ALL {
            let names = words(lang).screens;
            for (i, name) in names.iter().enumerate() {
                assert!(!names[..i].contains(name), "{lang:?}: {name} twice");
                if lang != Lang::En {
                    assert_ne!(*name, EN.screens[i], "{lang:?}: {name} is not translated");
                }
            }
        }
    }

    #[test]
    fn the_language_is_the_query_then_accept_language_then_japanese() {
        assert_eq!(lang_of(Some("vi"), Some("ko")), Lang::Vi);
        assert_eq!(lang_of(Some("zh-Hans"), None), Lang::ZhHans);
        assert_eq!(lang_of(Some("xx"), Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(lang_of(None, Some("ko-KR,ko;q=0.9,en-US;q=0.8")), Lang::Ko);
        assert_eq!(lang_of(None, Some("fr-FR, de;q=0.9, en;q=0.5")), Lang::En);
        assert_eq!(lang_of(None, Some("en;q=0.2, zh-TW;q=0.6")), Lang::ZhHans);
        assert_eq!(lang_of(None, Some("vi;q=0, ja;q=0.1")), Lang::Ja);
        assert_eq!(lang_of(None, Some("en;q=0.5, vi")), Lang::Vi);
        assert_eq!(lang_of(None, Some("fr")), Lang::Ja);
        assert_eq!(lang_of(None, None), Lang::Ja);
    }
}
