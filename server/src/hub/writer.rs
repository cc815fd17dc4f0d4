//! The ballot writer: group commit between the meeting actor and the store.
//!
//! The actor hands over accepted ballots; the writer takes whatever has
//! queued up (up to [`MAX_BATCH`]), commits it in one statement and hands
//! the batch to the [signature pool](crate::signatures), which signs its
//! receipts in jobs of [`RECEIPTS_PER_JOB`] and hands each job's ballots
//! back to the actor. While one batch commits the next one gathers, so the
//! batch size follows the load without a timer; and while a committed
//! batch's receipts are signed the next batch already commits, so signing
//! (about 20 µs a receipt) never holds the store up. A ballot is only
//! counted and acknowledged after it comes back as committed.

use crate::clock::now_ms;
use crate::metrics;
use crate::signatures::Signatures;
use crate::store::{BallotRecord, Store};
use ed25519_dalek::SigningKey;
use gavel_protocol::MeetingId;
use gavel_protocol::messages::AnyReceipt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

/// The largest batch committed in one statement.
pub const MAX_BATCH: usize = 1024;
/// Receipts signed in one job of the signature pool: enough that the job's
/// hand-off costs little against its signatures (about 1.3 ms of work), few
/// enough that the first ballots of a large batch are acknowledged early
/// and that every core takes a share of the batch.
pub const RECEIPTS_PER_JOB: usize = 64;

/// How often a failed batch is tried before its ballots are refused as
/// `store_unavailable` (the tablets may then send them again), within the
/// store's bound on how long it may go unanswered
/// ([`Store::answer_within`]). Once a batch
/// has been refused, later ones are tried once until one commits: during an
/// outage each try waits for the pool's acquire timeout, and ballots are
/// better refused quickly than held for many of them.
const ATTEMPTS: u32 = 4;

/// What the writer reports back to the actor.
pub enum Written {
    Committed(Vec<(BallotRecord, AnyReceipt)>),
    Failed(Vec<BallotRecord>),
}

/// Runs until the actor drops its sender; every ballot received is reported back.
pub async fn run(
    meeting: MeetingId,
    store: Store,
    key: Arc<SigningKey>,
    signatures: Arc<Signatures>,
    mut queue: mpsc::Receiver<BallotRecord>,
    done: mpsc::UnboundedSender<Written>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut attempts = ATTEMPTS;
    // One per receipt job still being signed: closed when the job is done.
    let mut signing: Vec<oneshot::Receiver<()>> = Vec::new();
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ballots = std::mem::take(&mut batch);
        let started = Instant::now();
        let committed = commit(&meeting, &store, &ballots, attempts).await;
        attempts = if committed.is_ok() { ATTEMPTS } else { 1 };
        match committed {
            Ok(()) => {
                metrics::ballots_committed(ballots.len(), started.elapsed());
                tracing::debug!(meeting = %meeting, size = ballots.len(), committed_at = now_ms(), "ballot batch committed");
                signing.retain_mut(|job| job.try_recv() == Err(TryRecvError::Empty));
                sign_receipts(&signatures, &meeting, &key, ballots, &done, &mut signing);
            }
            Err(()) => {
                // The actor learns of the failure after the earlier batches'
                // successes, so that the store's health it shows ends as it is.
                for job in signing.drain(..) {
                    let _ = job.await;
                }
                if done.send(Written::Failed(ballots)).is_err() {
                    return;
                }
            }
        }
        if done.is_closed() {
            return;
        }
    }
}

/// Signs a committed batch's receipts on the pool, in jobs of
/// [`RECEIPTS_PER_JOB`], each reported to the actor as soon as it is signed.
/// The jobs hold their own senders, so the actor, which waits at shutdown
/// until every sender is gone, still receives them after the writer stops.
fn sign_receipts(
    signatures: &Signatures,
    meeting: &MeetingId,
    key: &Arc<SigningKey>,
    mut ballots: Vec<BallotRecord>,
    done: &mpsc::UnboundedSender<Written>,
    signing: &mut Vec<oneshot::Receiver<()>>,
) {
    while !ballots.is_empty() {
        let job = ballots.split_off(ballots.len().saturating_sub(RECEIPTS_PER_JOB));
        let (meeting, key, done) = (meeting.clone(), key.clone(), done.clone());
        let (finished, finishing) = oneshot::channel::<()>();
        signing.push(finishing);
        signatures.spawn(move || {
            let signed = job
                .into_iter()
                .map(|b| {
                    let r = b.receipt(&key, &meeting);
                    (b, r)
                })
                .collect();
            let _ = done.send(Written::Committed(signed));
            drop(finished);
        });
    }
}

/// Commits `ballots`, trying `attempts` times, all within the store's
/// bound ([`Store::answer_within`]): a database that has not answered by
/// then is silent, and the ballots are refused rather than held until TCP
/// gives up.
async fn commit(
    meeting: &MeetingId,
    store: &Store,
    ballots: &[BallotRecord],
    attempts: u32,
) -> Result<(), ()> {
    let deadline = store
        .answer_within()
        .map(|within| (within, tokio::time::Instant::now() + within));
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=attempts {
        let recorded = match deadline {
            Some((within, deadline)) => {
                match tokio::time::timeout_at(deadline, store.record_ballots(ballots)).await {
                    Ok(recorded) => recorded,
                    Err(_) => {
                        tracing::warn!(%meeting, size = ballots.len(), "ballot batch not committed: the database did not answer within {within:?}");
                        break;
                    }
                }
            }
            None => store.record_ballots(ballots).await,
        };
        match recorded {
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
