//! The ballot writer: group commit between the meeting actor and the store.
//!
//! The actor hands over accepted ballots; the writer takes whatever has
//! queued up (up to [`MAX_BATCH`]), commits it in one statement, signs the
//! receipts and hands the batch back. While one batch commits the next one
//! gathers, so the batch size follows the load without a timer. A ballot is
//! only counted and acknowledged after it comes back as committed.

use crate::clock::now_ms;
use crate::metrics;
use crate::store::{BallotRecord, Store};
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::Receipt;
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{MeetingId, Signature};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The largest batch committed in one statement.
pub const MAX_BATCH: usize = 1024;

/// How often a failed batch is tried before its ballots are refused as
/// `store_unavailable` (the tablets may then send them again). Once a batch
/// has been refused, later ones are tried once until one commits: during an
/// outage each try waits for the pool's acquire timeout, and ballots are
/// better refused quickly than held for many of them.
const ATTEMPTS: u32 = 4;

/// What the writer reports back to the actor.
pub enum Written {
    Committed(Vec<(BallotRecord, Receipt)>),
    Failed(Vec<BallotRecord>),
}

/// Signs the receipt for a recorded ballot. Ed25519 is deterministic, so the
/// same ballot always gets the same receipt, also when rebuilt after a restart.
pub fn receipt(key: &SigningKey, meeting: &MeetingId, ballot: &BallotRecord) -> Receipt {
    let content = BallotContent {
        meeting,
        round: ballot.round,
        seat: ballot.seat,
        choice: ballot.choice,
        seq: ballot.seq,
    };
    Receipt {
        meeting: meeting.clone(),
        round: ballot.round,
        seat: ballot.seat,
        choice: ballot.choice,
        seq: ballot.seq,
        recorded_at: ballot.recorded_at,
        server_signature: Signature::sign(key, &content.receipt_bytes(ballot.recorded_at)),
    }
}

/// Runs until the actor drops its sender; every ballot received is reported back.
pub async fn run(
    meeting: MeetingId,
    store: Store,
    key: Arc<SigningKey>,
    mut queue: mpsc::Receiver<BallotRecord>,
    done: mpsc::UnboundedSender<Written>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut attempts = ATTEMPTS;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ballots = std::mem::take(&mut batch);
        let started = Instant::now();
        let committed = commit(&meeting, &store, &ballots, attempts).await;
        attempts = if committed.is_ok() { ATTEMPTS } else { 1 };
        let report = match committed {
            Ok(()) => {
                metrics::ballots_committed(ballots.len(), started.elapsed());
                let committed_at = now_ms();
                tracing::debug!(meeting = %meeting, size = ballots.len(), committed_at, "ballot batch committed");
                Written::Committed(
                    ballots
                        .into_iter()
                        .map(|b| {
                            let r = receipt(&key, &meeting, &b);
                            (b, r)
                        })
                        .collect(),
                )
            }
            Err(()) => Written::Failed(ballots),
        };
        if done.send(report).is_err() {
            return;
        }
    }
}

async fn commit(
    meeting: &MeetingId,
    store: &Store,
    ballots: &[BallotRecord],
    attempts: u32,
) -> Result<(), ()> {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=attempts {
        match store.record_ballots(ballots).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(%meeting, error = %e, attempt, size = ballots.len(), "ballot batch not committed");
                if attempt < attempts {
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
            }
        }
    }
    tracing::error!(
        %meeting,
        size = ballots.len(),
        "ballot batch refused: the store is unavailable"
    );
    Err(())
}
