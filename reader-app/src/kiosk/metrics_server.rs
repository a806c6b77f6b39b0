//! The `/metrics` endpoint: a small HTTP server (tiny_http) on its own thread and address,
//! answering `GET /metrics` with the OpenMetrics text and anything else with 404.

use std::thread::JoinHandle;

use tiny_http::{Header, Method, Response, Server};

use super::health_probe::Probe;
use crate::config::Config;
use crate::metrics::{global, MetricsConfig};

/// The content type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The running endpoint; it serves until the process ends.
pub struct Endpoint {
    _thread: JoinHandle<()>,
}

/// Starts serving `/metrics` when `[metrics] enabled`; `None` when off.
pub fn start(config: &Config) -> anyhow::Result<Option<Endpoint>> {
    let MetricsConfig {
        enabled, listen, ..
    } = config.metrics;
    if !enabled {
        return Ok(None);
    }
    let server = Server::http(listen).map_err(|e| anyhow::anyhow!("metrics on {listen}: {e}"))?;
    let mut probe = Probe::new(config);
    let thread = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || serve(&server, &mut probe))?;
    tracing::info!(%listen, "metrics served on http://{listen}/metrics");
    Ok(Some(Endpoint { _thread: thread }))
}

fn serve(server: &Server, probe: &mut Probe) {
    for request in server.incoming_requests() {
        let response = if *request.method() == Method::Get && request.url() == "/metrics" {
            probe.update(global());
            let mut response = Response::from_string(global().encode());
            if let Ok(header) = Header::from_bytes("Content-Type", CONTENT_TYPE) {
                response = response.with_header(header);
            }
            response
        } else {
            Response::from_string("not found\n").with_status_code(404)
        };
        if let Err(e) = request.respond(response) {
            tracing::debug!(error = %e, "metrics: could not answer a scrape");
        }
    }
}
