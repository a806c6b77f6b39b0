//! The console's HTTPS server (axum on axum-server with rustls): the sign-in, the page, its
//! server-sent events and the acknowledgement, which goes to the kiosk as an
//! [`Event::StaffAcknowledged`] on the session's channel. Nothing is served without TLS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tokio::sync::watch;
use zeroize::Zeroize;

use super::gate::{Credential, Gate, Verdict};
use super::page;
use super::status::Status;
use crate::audit::{AuditEvent, AuditLog};
use crate::session::{Event, PinEntry};

/// The session cookie: `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
const COOKIE: &str = "__Host-console";

/// What every handler shares.
#[derive(Clone)]
pub(super) struct App {
    pub gate: Arc<Mutex<Gate>>,
    pub status: watch::Receiver<Status>,
    /// The session thread's channel: acknowledgements go in as events.
    pub kiosk: mpsc::Sender<Event>,
    pub audit: AuditLog,
}

impl App {
    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Audits what `operator_id` did at the console.
    fn staff_action(&self, operator_id: String, action: &str) {
        self.record(AuditEvent::StaffAction {
            session_id: None,
            operator_id,
            action: action.into(),
            reason_code: None,
        });
    }

    fn record(&self, event: AuditEvent) {
        if let Err(e) = self.audit.record(event) {
            tracing::error!(error = %e, "audit log unwritable");
        }
    }

    /// The signed-in session of the request's cookie: its cookie value, language and CSRF token.
    fn signed_in(
        &self,
        headers: &HeaderMap,
    ) -> Option<(String, crate::lang::Lang, String, String)> {
        let cookie = cookie(headers)?;
        let gate = self.gate();
        let s = gate.session(&cookie)?;
        Some((cookie.clone(), s.lang, s.csrf.clone(), s.operator.clone()))
    }
}

/// The console's routes.
pub(super) fn router(app: App) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/acknowledge", post(acknowledge))
        .route("/events", get(events))
        .route(
            "/console.js",
            get(|| async { asset("text/javascript", page::SCRIPT) }),
        )
        .route(
            "/console.css",
            get(|| async { asset("text/css", page::STYLE) }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(app)
}

/// No caching, no framing, scripts and styles from the console only, HTTPS from now on.
async fn secure_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The value of the session cookie, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The browser's `Accept-Language`.
fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

async fn index(State(app): State<App>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let Some((cookie, lang, csrf, operator)) = app.signed_in(&headers) else {
        let lang = page::lang_of(q.lang.as_deref(), accept_language(&headers));
        return html(StatusCode::OK, page::sign_in(lang, None));
    };
    // The language chosen at sign-in stays until a language link is followed.
    let lang = match q.lang.as_deref() {
        Some(code) => {
            let lang = page::lang_of(Some(code), None);
            app.gate().set_lang(&cookie, lang);
            lang
        }
        None => lang,
    };
    let status = app.status.borrow().clone();
    html(
        StatusCode::OK,
        page::console(lang, &operator, &csrf, &status),
    )
}

#[derive(Deserialize)]
struct SignInForm {
    lang: Option<String>,
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    staff_pin: String,
    #[serde(default)]
    token: String,
}

async fn sign_in(
    State(app): State<App>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(mut form): Form<SignInForm>,
) -> Response {
    let lang = page::lang_of(form.lang.as_deref(), accept_language(&headers));
    let credential = if form.token.is_empty() {
        Credential::Staff {
            id: std::mem::take(&mut form.staff_id),
            pin: PinEntry::new(&form.staff_pin),
        }
    } else {
        Credential::Token(zeroize::Zeroizing::new(std::mem::take(&mut form.token)))
    };
    form.staff_pin.zeroize();
    let verdict = app.gate().sign_in(from.ip(), &credential, lang);
    match verdict {
        Verdict::Accepted(cookie) => {
            let operator_id = app.gate().session(&cookie).map(|s| s.operator.clone());
            app.staff_action(operator_id.unwrap_or_default(), "console_sign_in");
            let set = format!("{COOKIE}={cookie}; Secure; HttpOnly; SameSite=Strict; Path=/");
            ([(header::SET_COOKIE, set)], Redirect::to("/")).into_response()
        }
        Verdict::Refused => {
            tracing::warn!(address = %from.ip(), credential = credential.kind(), "console sign-in refused");
            app.record(AuditEvent::ConsoleSignInRefused {
                address: from.ip().to_string(),
                credential: credential.kind().into(),
            });
            html(StatusCode::UNAUTHORIZED, page::sign_in(lang, Some(verdict)))
        }
        Verdict::Limited => {
            tracing::warn!(address = %from.ip(), "console sign-in not checked: too many refusals");
            html(
                StatusCode::TOO_MANY_REQUESTS,
                page::sign_in(lang, Some(verdict)),
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The signed-in session of a form post whose CSRF token matches.
fn authorised(app: &App, headers: &HeaderMap, form: &CsrfForm) -> Option<(String, String)> {
    let (cookie, _, csrf, operator) = app.signed_in(headers)?;
    let same = ring::digest::digest(&ring::digest::SHA256, csrf.as_bytes()).as_ref()
        == ring::digest::digest(&ring::digest::SHA256, form.csrf.as_bytes()).as_ref();
    same.then_some((cookie, operator))
}

async fn sign_out(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some((cookie, _)) = authorised(&app, &headers, &form) else {
        return (StatusCode::FORBIDDEN, "forbidden\n").into_response();
    };
    app.gate().sign_out(&cookie);
    let clear = format!("{COOKIE}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, clear)], Redirect::to("/")).into_response()
}

/// Staff are on their way: the kiosk shows 係員が向かっています.
async fn acknowledge(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some((_, operator)) = authorised(&app, &headers, &form) else {
        return (StatusCode::FORBIDDEN, "forbidden\n").into_response();
    };
    if !app.status.borrow().waiting_for_staff() {
        return Redirect::to("/").into_response();
    }
    if app.kiosk.send(Event::StaffAcknowledged).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "the kiosk is stopping\n").into_response();
    }
    app.staff_action(operator, "staff_call_acknowledged");
    Redirect::to("/").into_response()
}

/// The status panel, rendered again for each change, while the sign-in lasts.
async fn events(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some((cookie, ..)) = app.signed_in(&headers) else {
        return (StatusCode::UNAUTHORIZED, "sign in first\n").into_response();
    };
    let mut status = app.status.clone();
    status.mark_changed();
    let stream = futures_util::stream::unfold(
        (status, app, cookie),
        |(mut status, app, cookie)| async move {
            status.changed().await.ok()?;
            let (lang, csrf) = {
                let gate = app.gate();
                let s = gate.session(&cookie)?;
                (s.lang, s.csrf.clone())
            };
            let now = chrono::Utc::now().timestamp_millis();
            let panel = page::panel(lang, &csrf, &status.borrow_and_update(), now);
            let event = sse::Event::default().data(panel);
            Some((Ok::<_, Infallible>(event), (status, app, cookie)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
