//! `mynakiosk qual-sim`: a SIMULATOR of the clinic side for demos and tests, on loopback.
//! It answers qualification queries by certificate serial from a data file, with configurable
//! latency and failures, and is a reception sink: it keeps each result once per idempotency
//! key (in a JSON-lines file, fsynced before it acknowledges) and lists what it received.

use crate::handoff::outbox::MAX_RESULT_BYTES;
use crate::handoff::qualification::{Qualification, QualificationAnswer};
use crate::handoff::result::VerificationResult;
use crate::handoff::result::SCHEMA_VERSION;
use crate::handoff::staff_call::{self, StaffCall};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server};

#[derive(clap::Args)]
pub struct QualSimArgs {
    /// Data file (TOML): `latency_ms`, `fail_every`, `default` and a `[cards]` table of
    /// serial (hex) = "valid" | "invalid" | "no_record" | "unregistered".
    #[arg(long)]
    data: PathBuf,
    /// Loopback address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8750")]
    listen: SocketAddr,
    /// JSON-lines file of received results; reloaded at start so dedup survives restarts.
    #[arg(long)]
    received: Option<PathBuf>,
}

/// The simulator's data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SimData {
    /// Delay before every answer, in milliseconds.
    latency_ms: u64,
    /// Every n-th request is answered 503 (0: never).
    fail_every: u64,
    /// The answer for serials not listed.
    default: Qualification,
    cards: BTreeMap<String, Qualification>,
}

impl Default for SimData {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            fail_every: 0,
            default: Qualification::NoRecord,
            cards: BTreeMap::new(),
        }
    }
}

/// Results received, deduplicated by idempotency key.
struct Received {
    keys: HashSet<String>,
    order: Vec<String>,
    attempts: u64,
    file: Option<File>,
}

pub fn run(args: &QualSimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.listen.ip().is_loopback(),
        "qual-sim listens on loopback only, not {}",
        args.listen
    );
    let text = crate::capped_file::read_text(&args.data, crate::config::MAX_CONFIG_BYTES)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    let data: SimData =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    let mut received = Received::load(args.received.as_deref())?;
    let server = Server::http(args.listen).map_err(|e| anyhow::anyhow!("{}: {e}", args.listen))?;
    let addr = server.server_addr().to_ip().unwrap_or(args.listen);
    tracing::info!(%addr, cards = data.cards.len(), "qual-sim (SIMULATOR) listening on http://{addr}");
    let mut requests = 0u64;
    for request in server.incoming_requests() {
        requests += 1;
        std::thread::sleep(Duration::from_millis(data.latency_ms));
        if data.fail_every > 0 && requests.is_multiple_of(data.fail_every) {
            respond(
                request,
                503,
                &serde_json::json!({"error": "injected failure"}),
            );
            continue;
        }
        handle(request, &data, &mut received);
    }
    Ok(())
}

fn handle(mut request: Request, data: &SimData, received: &mut Received) {
    let url = request.url().to_owned();
    match (request.method(), url.as_str()) {
        (Method::Get, "/health") => respond(request, 200, &serde_json::json!({"simulator": true})),
        (Method::Get, "/results") => {
            let body = serde_json::json!({
                "simulator": true,
                "received": received.order,
                "attempts": received.attempts,
            });
            respond(request, 200, &body);
        }
        (Method::Post, "/results") => {
            let header = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Idempotency-Key"))
                .map(|h| h.value.as_str().to_owned());
            // No more than the largest result an outbox queues, and one byte to tell.
            let mut body = Vec::new();
            let (code, answer) = match request
                .as_reader()
                .take(MAX_RESULT_BYTES + 1)
                .read_to_end(&mut body)
            {
                Ok(n) if n as u64 > MAX_RESULT_BYTES => (
                    413,
                    serde_json::json!({"error": format!("a result is at most {MAX_RESULT_BYTES} bytes")}),
                ),
                Ok(_) => received.accept(&body, header.as_deref()),
                Err(e) => (400, serde_json::json!({"error": e.to_string()})),
            };
            respond(request, code, &answer);
        }
        (Method::Get, path) if path.starts_with("/qualification/") => {
            let serial = path
                .trim_start_matches("/qualification/")
                .to_ascii_lowercase();
            let status = data.cards.get(&serial).copied().unwrap_or(data.default);
            let answer = QualificationAnswer {
                label: status.label().into(),
                serial,
                status,
            };
            let mut body = serde_json::to_value(answer).unwrap_or_default();
            body["simulator"] = true.into();
            respond(request, 200, &body);
        }
        _ => respond(request, 404, &serde_json::json!({"error": "not found"})),
    }
}

impl Received {
    fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut received = Self {
            keys: HashSet::new(),
            order: Vec::new(),
            attempts: 0,
            file: None,
        };
        let Some(path) = path else {
            return Ok(received);
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let lines = complete_lines(&file, path)?;
        for (n, line) in lines.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_slice(line)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
            if let Some(key) = value["idempotency_key"].as_str() {
                received.remember(key);
            }
        }
        received.file = Some(file);
        Ok(received)
    }

    fn remember(&mut self, key: &str) -> bool {
        let new = self.keys.insert(key.to_owned());
        if new {
            self.order.push(key.to_owned());
        }
        new
    }

    /// Keeps a new result (durably, before answering) and acknowledges repeats.
    fn accept(&mut self, body: &[u8], header: Option<&str>) -> (u16, serde_json::Value) {
        self.attempts += 1;
        let (key, test) = match parse(body) {
            Ok(parsed) => parsed,
            Err(error) => return (422, serde_json::json!({ "error": error })),
        };
        let key = key.as_str();
        if header.is_some_and(|h| h != key) {
            return (
                400,
                serde_json::json!({"error": "Idempotency-Key header differs from the body"}),
            );
        }
        if self.keys.contains(key) {
            tracing::info!(key, "qual-sim acknowledged a duplicate result");
            return (200, serde_json::json!({"status": "duplicate", "key": key}));
        }
        if let Some(file) = &mut self.file {
            let mut line = body.to_vec();
            line.push(b'\n');
            if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
                return (503, serde_json::json!({"error": e.to_string()}));
            }
        }
        self.remember(key);
        tracing::info!(key, test, "qual-sim received a result");
        (201, serde_json::json!({"status": "accepted", "key": key}))
    }
}

/// The idempotency key and test flag of a result or a staff call, or why it is refused.
fn parse(body: &[u8]) -> Result<(String, bool), String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if value["event"] == staff_call::EVENT {
        let call: StaffCall = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if call.schema_version != staff_call::SCHEMA_VERSION {
            return Err(format!("unknown schema_version {}", call.schema_version));
        }
        return Ok((call.idempotency_key, false));
    }
    let result: VerificationResult = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if result.schema_version != SCHEMA_VERSION {
        return Err(format!("unknown schema_version {}", result.schema_version));
    }
    Ok((result.idempotency_key, result.test))
}

fn respond(request: Request, code: u16, body: &serde_json::Value) {
    let json = Header::from_bytes("Content-Type", "application/json").ok();
    let sim = Header::from_bytes("X-Simulator", "mynakiosk qual-sim").ok();
    let mut response = Response::from_string(body.to_string()).with_status_code(code);
    for header in [json, sim].into_iter().flatten() {
        response = response.with_header(header);
    }
    if let Err(e) = request.respond(response) {
        tracing::warn!(error = %e, "qual-sim could not answer");
    }
}

/// The complete lines of the received file: a torn last line (a crash before its newline, so
/// never acknowledged) is cut off and logged; the sender sends that result again.
fn complete_lines(mut file: &File, path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        tracing::warn!(file = %path.display(), bytes = bytes.len() - complete, "torn last line removed");
        file.set_len(complete as u64)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        bytes.truncate(complete);
    }
    Ok(bytes)
}
