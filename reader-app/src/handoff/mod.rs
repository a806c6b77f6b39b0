//! Hand-off of verified results to the clinic's reception system: the result schema, the
//! durable outbox, the sinks (HTTP, Unix socket, drop folder), the delivery thread, the
//! qualification query, and the staff calls that travel the same way.
//!
//! Delivery contract (see `docs/handoff.md`): a result leaves the outbox only after the
//! receiver acknowledged it, so after a crash it may be sent again; the receiver keeps the
//! first result per `idempotency_key` and acknowledges repeats. Together: exactly once.

pub mod config;
pub mod courier;
mod durable;
pub mod http;
pub mod outbox;
pub mod privacy;
pub mod qualification;
pub mod result;
pub mod sink;
pub mod staff_call;

pub use durable::{create_private_dir, sync_dir, write_atomically};

/// What the outbox queues and the sinks deliver: a result or a staff call, as single-line JSON
/// under its idempotency key.
pub trait Outgoing {
    fn idempotency_key(&self) -> &str;
    fn to_json(&self) -> Vec<u8>;
}
