//! The reception console: a small HTTPS page served by the kiosk (off by default, `[console]`)
//! where staff see the kiosk's state and its staff calls live, and acknowledge a call. The
//! runtime feeds it through a watch channel ([`Feed`]); an acknowledgement goes back as an
//! event on the session's channel. See `docs/console.md`.

pub mod config;
mod gate;
mod page;
mod server;
pub mod status;
mod tls;
mod words;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub use config::ConsoleConfig;
pub use status::{Devices, Feed, Status};

use crate::audit::AuditLog;
use crate::session::Event;
use crate::staff::StaffConfig;

/// How often the console reads the camera and the outbox itself.
const DEVICES_EVERY: Duration = Duration::from_secs(2);

/// The running console; it serves until the process ends.
pub struct Console {
    _thread: std::thread::JoinHandle<()>,
}

/// Starts the console when `[console] enabled`: binds its address, loads the TLS files and the
/// token (refusing to start without them), and serves on a thread of its own.
pub fn start(
    config: &ConsoleConfig,
    staff: &StaffConfig,
    feed: &Feed,
    kiosk: mpsc::Sender<Event>,
    audit: AuditLog,
    mut devices: impl FnMut() -> Devices + Send + 'static,
) -> anyhow::Result<Option<Console>> {
    if !config.enabled {
        return Ok(None);
    }
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(tls::server_config(config)?);
    let token = config.token()?;
    let gate = gate::Gate::new(
        staff.clone(),
        token.as_deref().map(String::as_str),
        config.max_failures_per_minute,
        Duration::from_secs(u64::from(config.session_minutes) * 60),
    );
    let listen = config.listen;
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("console on {listen}: {e}"))?;
    listener.set_nonblocking(true)?;
    let app = server::App {
        gate: Arc::new(Mutex::new(gate)),
        status: feed.sender().subscribe(),
        kiosk,
        audit,
    };
    let own = feed.sender();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("console".into())
        .spawn(move || {
            runtime.block_on(async move {
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(DEVICES_EVERY);
                    loop {
                        every.tick().await;
                        let now = devices();
                        own.send_if_modified(|s| {
                            let changed = s.devices != now;
                            s.devices = now;
                            changed
                        });
                    }
                });
                let service = server::router(app)
                    .into_make_service_with_connect_info::<std::net::SocketAddr>();
                match axum_server::from_tcp_rustls(listener, tls) {
                    Ok(server) => {
                        if let Err(e) = server.serve(service).await {
                            tracing::error!(error = %e, "the console stopped");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "the console cannot serve"),
                }
            });
        })?;
    tracing::info!(%listen, "reception console served on https://{listen}/");
    Ok(Some(Console { _thread: thread }))
}
