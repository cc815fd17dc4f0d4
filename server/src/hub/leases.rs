//! Which meetings this node hosts, on a PostgreSQL deployment of several
//! equal nodes (see `docs/architecture.md`, "More than one node").
//!
//! Every quarter of its lease term ([`TERM`] unless set), in one round, the node:
//!
//! 1. renews all of its running leases at once, for the term; a meeting it
//!    hosts whose lease is gone (ran out, even if nobody took it, or was
//!    taken again with another fencing number) has moved: its hub stops
//!    and its clients are told to reconnect;
//! 2. reads who holds which meeting and how many nodes run, and takes
//!    meetings that nobody holds while it hosts fewer than its fair share
//!    (the meetings divided by the nodes, rounded up), restoring each from
//!    the store through a store fenced with the new lease;
//! 3. gives back meetings beyond its share that have no open round, so that
//!    a node that joins later gets some; a meeting mid-vote stays where it is.
//!
//! A node stopped (SIGSTOP) or cut off longer than its term finds, when it
//! comes back, that its leases were taken: its writes were refused all
//! along by the fencing check in the store, and its first round lets go of
//! the meetings. Its own leases that have not yet run out are taken again
//! only in the first round after a start: a node restarted with the same
//! id (its data directory's) does not wait for them to end.

use super::{Hub, ServedView, relay, store_unavailable};
use crate::meeting::MeetingDefinition;
use crate::store::{Lease, StoreError};
use gavel_protocol::MeetingId;
use gavel_protocol::messages::RoundStatus;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a lease lasts unless renewed, by default: how long a dead
/// node's meetings wait for another node. A takeover also waits for the
/// dead node's open transactions, which PostgreSQL ends after at most 5 s
/// (see `store::postgres`). Set with `lease_term_ms`.
pub const TERM: Duration = Duration::from_secs(4);

/// The shortest lease term a node accepts: below it a busy machine's
/// pauses would move meetings between nodes for nothing.
pub const MIN_TERM: Duration = Duration::from_millis(500);

/// How many renewals a lease term spans: a lease survives three missed ones.
/// A relay's registration is renewed as often ([`relay`]).
pub(super) const RENEWALS_PER_TERM: u32 = 4;

/// This node of a deployment.
#[derive(Clone)]
pub struct Node {
    /// Its lease holder id: the same across restarts of one data directory.
    pub id: String,
    /// How long its leases last unless renewed.
    pub term: Duration,
}

impl Hub {
    /// Hosts this node's share of the meetings until `shutdown`, then, once
    /// their actors have stopped, gives their leases back. A round that
    /// finds the store unavailable is tried again at the next.
    pub(super) async fn hold_leases(
        &self,
        node: &Node,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let mut hosted: HashMap<MeetingId, Lease> = HashMap::new();
        let mut publishing: HashMap<MeetingId, CancellationToken> = HashMap::new();
        let mut first = true;
        let outcome = loop {
            let round = self.lease_round(node, &mut hosted, first, shutdown).await;
            let round = match round {
                Ok(()) => {
                    self.publish_where_relayed(&hosted, &mut publishing, shutdown)
                        .await
                }
                failed => failed,
            };
            match round {
                Ok(()) if first => {
                    tracing::info!(node = %node.id, meetings = hosted.len(), "meetings taken");
                    self.restored.send_replace(true);
                    first = false;
                }
                Ok(()) => {}
                Err(e) if store_unavailable(&e) => {
                    tracing::warn!(error = %e, "leases: the store does not answer; trying again");
                }
                Err(e) => break Err(e.context("taking meetings")),
            }
            self.lease_rounds.1.send_modify(|n| *n += 1);
            tokio::select! {
                () = shutdown.cancelled() => break Ok(()),
                () = tokio::time::sleep(node.term / RENEWALS_PER_TERM) => {}
                () = self.lease_rounds.0.notified() => {}
            }
        };
        for handle in self.meetings.iter() {
            handle.stop.cancel();
        }
        self.tasks.close();
        self.tasks.wait().await;
        for lease in hosted.values() {
            if let Err(e) = self.store.release_lease(lease).await {
                tracing::warn!(meeting = %lease.meeting, error = %e, "a lease could not be given back; it runs out by itself");
            }
        }
        if let Err(e) = self.store.remove_node(&node.id).await {
            tracing::warn!(node = %node.id, error = %e, "the node's row could not be removed; it runs out by itself");
        }
        outcome
    }

    /// One round of renewing, taking and giving back (see the module's notes).
    async fn lease_round(
        &self,
        node: &Node,
        hosted: &mut HashMap<MeetingId, Lease>,
        first: bool,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let renewed: HashMap<MeetingId, Lease> = self
            .store
            .renew_leases(&node.id, node.term)
            .await?
            .into_iter()
            .map(|lease| (lease.meeting.clone(), lease))
            .collect();
        hosted.retain(|meeting, lease| {
            let kept = renewed.get(meeting) == Some(lease) && self.hosts(meeting);
            if !kept {
                tracing::warn!(%meeting, fence = lease.fence, "the meeting's lease was taken over; letting go of it");
                self.let_go(meeting);
            }
            kept
        });
        let holdings = self.store.holdings().await?;
        let nodes = usize::try_from(holdings.nodes.max(1)).unwrap_or(usize::MAX);
        let share = holdings.meetings.len().div_ceil(nodes);
        let free: Vec<&MeetingId> = holdings
            .meetings
            .iter()
            .filter(|(meeting, holder)| {
                !hosted.contains_key(meeting)
                    && (holder.is_none() || (first && holder.as_deref() == Some(&node.id)))
            })
            .map(|(meeting, _)| meeting)
            .take(share.saturating_sub(hosted.len()))
            .collect();
        if !free.is_empty() {
            let stored = self.store.meetings().await?;
            for meeting in free {
                let Some(stored) = stored.iter().find(|m| &m.id == meeting) else {
                    continue;
                };
                let Some(lease) = self.store.take_lease(meeting, &node.id, node.term).await? else {
                    continue;
                };
                tracing::info!(%meeting, fence = lease.fence, "meeting taken");
                let fenced = self.store.fenced(lease.clone());
                if !self.start_meeting(stored, fenced, shutdown).await? {
                    // Stopped meanwhile: the lease is given back with the others.
                    hosted.insert(meeting.clone(), lease);
                    return Ok(());
                }
                hosted.insert(meeting.clone(), lease);
            }
        }
        *self.elsewhere.write().expect("elsewhere lock") = holdings
            .meetings
            .into_iter()
            .map(|(meeting, _)| meeting)
            .filter(|meeting| !hosted.contains_key(meeting))
            .collect();
        self.give_back_beyond(share, hosted).await
    }

    /// Publishes the audience's frames of each hosted meeting that a node
    /// relays, and stops publishing (withdrawing what was published) those
    /// that no node relays any more: a meeting nobody follows on another
    /// node costs the database no write (see [`relay`]).
    async fn publish_where_relayed(
        &self,
        hosted: &HashMap<MeetingId, Lease>,
        publishing: &mut HashMap<MeetingId, CancellationToken>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let relayed = self.store.relayed_meetings().await?;
        publishing.retain(|meeting, stop| {
            let go_on = hosted.contains_key(meeting) && relayed.contains(meeting);
            if !go_on {
                stop.cancel();
            }
            go_on
        });
        for (meeting, lease) in hosted {
            if !relayed.contains(meeting) || publishing.contains_key(meeting) {
                continue;
            }
            let Some(handle) = self.meeting(meeting) else {
                continue;
            };
            tracing::info!(%meeting, "a node relays the meeting: publishing its audience's frames");
            let stop = shutdown.child_token();
            let published = relay::publish(handle, self.store.clone(), lease.clone(), stop.clone());
            self.tasks.spawn(published);
            publishing.insert(meeting.clone(), stop);
        }
        Ok(())
    }

    /// Gives back meetings beyond `share` that have no open round. The
    /// lease goes back at once: whatever the stopping actor still tries to
    /// write is refused by the fencing check once another node took it.
    async fn give_back_beyond(
        &self,
        share: usize,
        hosted: &mut HashMap<MeetingId, Lease>,
    ) -> anyhow::Result<()> {
        let mut beyond = hosted.len().saturating_sub(share);
        let candidates: Vec<MeetingId> = hosted.keys().cloned().collect();
        for meeting in candidates {
            if beyond == 0 {
                break;
            }
            let rounds = self.store.rounds(&meeting).await?;
            if rounds.last().is_some_and(|r| r.status == RoundStatus::Open) {
                continue;
            }
            let lease = hosted.remove(&meeting).expect("a hosted meeting");
            tracing::info!(%meeting, "giving the meeting to a node with fewer");
            self.let_go(&meeting);
            self.store.release_lease(&lease).await?;
            beyond -= 1;
        }
        Ok(())
    }

    /// Stops hosting `meeting`: its actor stops, and its clients are closed
    /// with the reason that sends them to reconnect. It counts as hosted
    /// elsewhere from now on, so that a client who logs in before this node
    /// or another has taken it again is sent to try again, not told that
    /// there is no such meeting.
    fn let_go(&self, meeting: &MeetingId) {
        self.elsewhere
            .write()
            .expect("elsewhere lock")
            .insert(meeting.clone());
        if let Some((_, handle)) = self.meetings.remove(meeting) {
            handle.moved.cancel();
            handle.stop.cancel();
        }
    }

    fn hosts(&self, meeting: &MeetingId) -> bool {
        self.meetings.contains_key(meeting)
    }

    /// Every meeting of the deployment by id, with whether this node hosts
    /// it: those it hosts as they run, the others as stored (read at each
    /// call, as the secretariat's list is: a list of the meetings is asked
    /// for now and then, not at every frame). A stored definition that does
    /// not parse is left out and logged.
    pub async fn every_meeting(&self) -> Result<Vec<(Arc<MeetingDefinition>, bool)>, StoreError> {
        let mut all: Vec<_> = self.meetings().into_iter().map(|d| (d, true)).collect();
        let elsewhere = self.elsewhere.read().expect("elsewhere lock").clone();
        if elsewhere.is_empty() {
            return Ok(all);
        }
        for stored in self.store.meetings().await? {
            if !elsewhere.contains(&stored.id) || self.hosts(&stored.id) {
                continue;
            }
            match MeetingDefinition::parse(&stored.definition) {
                Ok(definition) => all.push((Arc::new(definition), false)),
                Err(e) => {
                    tracing::error!(meeting = %stored.id, error = %e, "a stored meeting definition does not parse");
                }
            }
        }
        all.sort_by(|(a, _), (b, _)| a.id.cmp(&b.id));
        Ok(all)
    }

    /// The view of `meeting`, whichever node hosts it: a client that logged
    /// in on the meeting's node fetches its view over HTTP, and behind the
    /// reverse proxy that request may reach any node. A view of a meeting
    /// hosted elsewhere is built from the store once and kept, as its host
    /// keeps its own; `None` for a meeting that is not stored.
    pub async fn view_of(
        &self,
        meeting: &MeetingId,
    ) -> Result<Option<Arc<ServedView>>, StoreError> {
        if let Some(handle) = self.meeting(meeting) {
            return Ok(Some(handle.view.clone()));
        }
        if !self.hosted_elsewhere(meeting) {
            return Ok(None);
        }
        if let Some(view) = self.elsewhere_views.get(meeting) {
            return Ok(Some(view.clone()));
        }
        let Some(stored) = self
            .store
            .meetings()
            .await?
            .into_iter()
            .find(|m| &m.id == meeting)
        else {
            return Ok(None);
        };
        let Ok(definition) = MeetingDefinition::parse(&stored.definition) else {
            return Ok(None);
        };
        let documents = self.store.documents(meeting).await?;
        let view = Arc::new(ServedView::of(&definition, &documents));
        self.elsewhere_views.insert(meeting.clone(), view.clone());
        Ok(Some(view))
    }

    /// Whether `meeting` is stored but hosted by another node (or by none
    /// for the moment): its clients are to try again, to reach the node
    /// that hosts it.
    pub fn hosted_elsewhere(&self, meeting: &MeetingId) -> bool {
        self.elsewhere
            .read()
            .expect("elsewhere lock")
            .contains(meeting)
    }
}
