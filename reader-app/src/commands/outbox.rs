//! `mynakiosk outbox …`: what an integrator runs to check and drive the hand-off.

use crate::config::Config;
use crate::errors::KioskError;
use crate::handoff::courier::{deliver_queued, RetryPolicy};
use crate::handoff::outbox::Outbox;
use crate::handoff::result::{
    now, Certificate, Consent, ConsentItems, Evidence, FaceEvidence, Liveness, SessionId,
    SessionInfo, VerificationResult,
};
use crate::handoff::sink;
use chrono::Duration;

#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// Prints how many results wait, were refused, were given up on (`dead`), and the entries
    /// in `pending/` that are not results (`foreign`), as JSON.
    Status,
    /// Delivers every queued result that is due now (after another deliverer, if one runs);
    /// fails if the reception system cannot be reached.
    Deliver,
    /// Moves the results given up on (`dead/`) back into the queue.
    RequeueDead,
    /// Queues sample results marked `"test": true` (not patients), printing their keys.
    SendTest {
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
}

pub fn run(config: &Config, command: &OutboxCommand) -> anyhow::Result<()> {
    let dir = &config.handoff.outbox_dir;
    match command {
        OutboxCommand::Status => {
            let census = Outbox::open(dir)?.census()?;
            let foreign: Vec<String> = census
                .foreign
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            println!(
                "{}",
                serde_json::json!({"queued": census.queued, "rejected": census.rejected,
                    "dead": census.dead, "foreign": foreign})
            );
        }
        OutboxCommand::Deliver => {
            let Some(sink) = sink::from_config(&config.handoff) else {
                anyhow::bail!("handoff.sink is \"none\": results stay in the outbox");
            };
            let policy = RetryPolicy::from_config(&config.handoff);
            match deliver_queued(&Outbox::create(dir)?, sink.as_ref(), &policy) {
                Ok(pass) => println!(
                    "{}",
                    serde_json::json!({"delivered": pass.delivered, "refused": pass.refused,
                        "failed": pass.failed, "dead": pass.dead, "waiting": pass.waiting})
                ),
                Err(e) => {
                    let text = KioskError::ReceptionUnreachable.text();
                    anyhow::bail!("{} {}: {e}", text.code, text.staff);
                }
            }
        }
        OutboxCommand::RequeueDead => {
            let moved = Outbox::create(dir)?.requeue_dead()?;
            println!("{}", serde_json::json!({"requeued": moved}));
        }
        OutboxCommand::SendTest { count } => {
            let outbox = Outbox::create(dir)?;
            for _ in 0..*count {
                let result = sample(&config.kiosk_id);
                outbox.enqueue(&result)?;
                println!("{}", result.idempotency_key);
            }
        }
    }
    Ok(())
}

/// A result for no patient: a placeholder certificate, face evidence, 包括同意.
fn sample(kiosk_id: &str) -> VerificationResult {
    let session_id = SessionId::new();
    let started_at = now();
    let session = SessionInfo {
        kiosk_id: kiosk_id.into(),
        session_id,
        started_at,
    };
    let serial = uuid::Uuid::new_v4().into_bytes();
    let certificate = Certificate::new(
        b"TEST RESULT: not a certificate",
        &serial[..8],
        "CN=mynakiosk test issuer".into(),
        started_at + Duration::days(365),
    );
    let evidence = Evidence::Face(FaceEvidence {
        match_score: 0.61,
        match_threshold: 0.42,
        liveness: Liveness::Passed,
        attempts: 1,
    });
    let all = Some(true);
    let consent = Consent::new(
        started_at,
        true,
        ConsentItems {
            medication: all,
            health_checkup: all,
            medical_care: all,
            surgery: all,
        },
    );
    let mut result = VerificationResult::new(&session, started_at, certificate, evidence, consent);
    result.test = true;
    result
}
