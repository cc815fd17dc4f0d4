//! Store outages: what the meeting does while its store does not answer.
//!
//! A failed write marks the store unavailable (the chair's console shows
//! it) and starts reading the meeting's live state back in the background
//! until the store answers; a write that failed on a lost connection may
//! still have committed (ballots, a check-in, or a round opened, paused,
//! extended, closed or voided), so what comes back is merged into memory
//! before the store is called healthy again ([`Outage::reread`]). Meanwhile the
//! meeting keeps answering: ballots and commands that need the store are
//! refused with `store_unavailable`, and nothing is counted that was not
//! committed.

use super::Refusal;
use crate::store::{BallotRecord, RoundRecord, SecretBallots, Store, StoreError};
use gavel_protocol::messages::{RoundStatus, StoreHealth};
use gavel_protocol::{MeetingId, RefusalReason, SeatNo};
use std::time::Duration;
use tokio::sync::oneshot;

/// How often a store that failed is read again to find out whether it is back.
const REREAD_EVERY: Duration = Duration::from_secs(1);

/// What the store holds of the meeting's live state, read back after it
/// failed: a write that failed on a lost connection may still have committed.
pub(super) struct Reread {
    pub(super) present: Vec<SeatNo>,
    /// The meeting's latest stored round, and its stored ballots (named and
    /// secret) if it is open: a round may have been opened or ended by a
    /// commit whose answer was lost.
    pub(super) latest: Option<(RoundRecord, Vec<BallotRecord>, SecretBallots)>,
}

/// The store's health as the meeting last found it, and the read-back
/// under way while it is unavailable.
pub(super) struct Outage {
    /// Shown to the chair; `Unavailable` from a failed write until one succeeds.
    health: StoreHealth,
    /// The store read back once it answers again, while one is pending.
    reread: Option<oneshot::Receiver<Reread>>,
}

impl Outage {
    pub(super) fn new() -> Outage {
        Outage {
            health: StoreHealth::Ok,
            reread: None,
        }
    }

    pub(super) fn health(&self) -> StoreHealth {
        self.health
    }

    /// A write failed: the store is read back (in the background, so that
    /// the meeting keeps answering) until it answers. True if this is news
    /// that the chair must be shown.
    pub(super) fn failed(&mut self, store: &Store, meeting: &MeetingId) -> bool {
        if self.reread.is_none() {
            let (done, reread) = oneshot::channel();
            tokio::spawn(reread_until_answered(store.clone(), meeting.clone(), done));
            self.reread = Some(reread);
        }
        if self.health == StoreHealth::Ok {
            tracing::error!(meeting = %meeting, "store unavailable; nothing new is recorded until it answers");
            self.health = StoreHealth::Unavailable;
            return true;
        }
        false
    }

    /// A write succeeded: the store is back. True if this is news.
    pub(super) fn answered(&mut self, meeting: &MeetingId) -> bool {
        if self.health == StoreHealth::Unavailable {
            tracing::info!(meeting = %meeting, "store available again");
            self.health = StoreHealth::Ok;
            return true;
        }
        false
    }

    /// What the store held when it answered again; pending until then, and
    /// for ever while the store is healthy.
    pub(super) async fn reread(&mut self) -> Option<Reread> {
        let reread = match &mut self.reread {
            Some(receiver) => receiver.await.ok(),
            None => std::future::pending().await,
        };
        self.reread = None;
        reread
    }
}

/// A store error turned into the refusal the client sees; the error itself is logged.
pub(super) fn store_refusal(meeting: &MeetingId) -> impl Fn(StoreError) -> Refusal + '_ {
    move |e| {
        tracing::error!(%meeting, error = %e, "store error");
        Refusal::from(RefusalReason::StoreUnavailable)
    }
}

/// Reads the meeting's live state back from the store every [`REREAD_EVERY`]
/// until it answers, or until the actor no longer waits for it.
async fn reread_until_answered(
    store: Store,
    meeting: MeetingId,
    mut done: oneshot::Sender<Reread>,
) {
    let read = async || -> Result<Reread, StoreError> {
        let present = store.present(&meeting).await?;
        let latest = match store.rounds(&meeting).await?.pop() {
            Some(round) if round.status == RoundStatus::Open => {
                let ballots = store.ballots(round.id).await?;
                let secret = store.secret_ballots(round.id).await?;
                Some((round, ballots, secret))
            }
            Some(round) => Some((round, Vec::new(), SecretBallots::default())),
            None => None,
        };
        Ok(Reread { present, latest })
    };
    loop {
        let reread = tokio::select! {
            () = done.closed() => return,
            reread = read() => reread,
        };
        match reread {
            Ok(reread) => {
                let _ = done.send(reread);
                return;
            }
            Err(e) => tracing::warn!(meeting = %meeting, error = %e, "store still unavailable"),
        }
        tokio::time::sleep(REREAD_EVERY).await;
    }
}
