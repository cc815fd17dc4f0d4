//! The audience on every node: on PostgreSQL, the hall screen and the public
//! page of a meeting are served by whichever node they connect to, not only
//! by the node that hosts the meeting (see docs/architecture.md, "The
//! audience on every node").
//!
//! - The host publishes ([`publish`]), only while some node relays the
//!   meeting (see below): a task listens to the meeting's
//!   public channel like a hall screen, and writes the latest snapshot,
//!   floor and running tally it was sent to `audience_state`, fenced with
//!   the meeting's lease, notifying every node in the same statement. What
//!   it publishes is what the hall screen gets, so a secret round publishes
//!   nothing a hall screen does not show.
//! - Every other node relays ([`Relays`]): one connection per node listens
//!   for those notifications; each meeting a viewer asked this node for has
//!   a [`Relayed`] that reads the published frames at each notification and
//!   sends what is new to its viewers on a channel of its own, paced for
//!   its own number of viewers as the host paces its hall
//!   ([`Channel::tally_due`]), with the same skipping of stale tallies and
//!   fresh snapshots for viewers that fell behind. A listening connection
//!   that drops is connected again, and every relayed meeting is read again
//!   to catch up.
//! - Where it is read ([`keep`]): each node registers the meetings it
//!   relays in the store, at once when a relay starts and then every
//!   quarter of its lease term, for a term; the host publishes a meeting
//!   only while it is registered (`Hub::publish_where_relayed`, at each
//!   round of leases) and withdraws what it published when it no longer
//!   is. A relay whose last viewer left is torn down at the next quarter
//!   term, and its registration goes with it.

use super::leases::{Node, RENEWALS_PER_TERM};
use super::pacing::{Channel, TICK};
use super::{Audience, Command, Frame, Joined, Kind, MeetingHandle, RESTORE_RETRY, ServedView};
use crate::store::{AudienceFrames, Lease, Store};
use dashmap::DashMap;
use gavel_protocol::MeetingId;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Notify, broadcast, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a viewer waits for its relay's first reading of the published
/// frames (the store may not answer) before it is told to connect again.
const FIRST_READING: std::time::Duration = std::time::Duration::from_secs(5);

/// Publishes what `meeting`'s audience sees, under `lease`, until the
/// meeting's actor stops, the lease is found taken, or `stop` fires (no
/// node relays the meeting any more: then what was published is withdrawn,
/// unless a relay started meanwhile). A frame that could not be written is
/// written with the next, or on its own a moment later.
pub(super) async fn publish(
    meeting: MeetingHandle,
    store: Store,
    lease: Lease,
    stop: CancellationToken,
) {
    tokio::select! {
        () = publishing(meeting, &store, &lease) => {}
        () = stop.cancelled() => match store.withdraw_audience(&lease).await {
            Ok(withdrawn) => {
                tracing::info!(meeting = %lease.meeting, withdrawn, "no node relays the meeting: no longer publishing its audience's frames");
            }
            Err(e) => {
                tracing::warn!(meeting = %lease.meeting, error = %e, "the audience's frames could not be withdrawn; a relay started later reads them until the host publishes again");
            }
        },
    }
}

async fn publishing(meeting: MeetingHandle, store: &Store, lease: &Lease) {
    use broadcast::error::{RecvError, TryRecvError};
    'join: loop {
        let (reply, joined) = oneshot::channel();
        let join = Command::Join {
            audience: Audience::Public,
            principal: None,
            reply,
        };
        if meeting.send(join).await.is_err() {
            return;
        }
        let Ok(joined) = joined.await else {
            return;
        };
        let mut pending = AudienceFrames {
            snapshot: Some((joined.version, joined.snapshot.as_str().to_owned())),
            floor: Some((joined.version, joined.floor.as_str().to_owned())),
            tally: None,
        };
        let mut updates = joined.updates;
        loop {
            if !pending.is_empty() {
                let started = std::time::Instant::now();
                match store.publish_audience(lease, &pending).await {
                    Ok(true) => {
                        crate::metrics::audience_written(pending.bytes(), started.elapsed());
                        pending = AudienceFrames::default();
                    }
                    Ok(false) => {
                        tracing::info!(meeting = %lease.meeting, "the lease is taken: no longer publishing the audience's frames");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(meeting = %lease.meeting, error = %e, "the audience's frames could not be published; trying again");
                    }
                }
            }
            let mut update = if pending.is_empty() {
                updates.recv().await
            } else {
                match tokio::time::timeout(RESTORE_RETRY, updates.recv()).await {
                    Ok(update) => update,
                    Err(_) => continue,
                }
            };
            // Whatever else is queued goes in the same write.
            loop {
                let broadcast = match update {
                    Ok(broadcast) => broadcast,
                    // Joined again, for a fresh snapshot.
                    Err(RecvError::Lagged(_)) => continue 'join,
                    Err(RecvError::Closed) => return,
                };
                if let Some(version) = broadcast.tally() {
                    // Handled once read, not once written: the host's hall
                    // does not wait for the database.
                    joined.delivery.handled(version);
                }
                let frame = Some((broadcast.version, broadcast.frame.as_str().to_owned()));
                match broadcast.kind {
                    Kind::Snapshot => pending.snapshot = frame,
                    Kind::Floor => pending.floor = frame,
                    Kind::Tally => pending.tally = frame,
                }
                update = match updates.try_recv() {
                    Ok(broadcast) => Ok(broadcast),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
                    Err(TryRecvError::Closed) => Err(RecvError::Closed),
                };
            }
        }
    }
}

/// The meetings this node's audience follows without this node hosting
/// them, and the one connection that listens for what their hosts publish.
pub struct Relays {
    store: Store,
    meetings: DashMap<MeetingId, Arc<Relayed>>,
    /// Stops the listening and every relay: set when the hub starts.
    shutdown: OnceLock<CancellationToken>,
    /// This node, in whose name the relays are registered in the store.
    node: OnceLock<Node>,
    /// Set once the listening task runs: it starts with the first relay.
    listening: OnceLock<()>,
    /// Told when a relay starts: it is registered at once.
    started: Notify,
}

/// What holds a relay besides its viewers: the map of relays, and the task
/// that keeps it up to date. A relay held by nothing else has no viewer.
const HELD_BY_RELAYS: usize = 2;

impl Relays {
    pub(super) fn new(store: Store) -> Relays {
        Relays {
            store,
            meetings: DashMap::new(),
            shutdown: OnceLock::new(),
            node: OnceLock::new(),
            listening: OnceLock::new(),
            started: Notify::new(),
        }
    }

    /// Relays may run from now until `shutdown`, registered as `node`'s.
    pub(super) fn start(&self, shutdown: CancellationToken, node: &Node) {
        let _ = self.node.set(node.clone());
        let _ = self.shutdown.set(shutdown);
    }

    /// The relay of `meeting` (with its `view`), started if this node had
    /// none; `None` before the hub started.
    pub(super) fn relay(
        self: &Arc<Self>,
        meeting: &MeetingId,
        view: Arc<ServedView>,
    ) -> Option<Arc<Relayed>> {
        let shutdown = self.shutdown.get()?.clone();
        self.listening.get_or_init(|| {
            tokio::spawn(listen(self.clone(), shutdown.clone()));
            tokio::spawn(keep(self.clone(), shutdown.clone()));
        });
        let relayed = self
            .meetings
            .entry(meeting.clone())
            .or_insert_with(|| {
                let relayed = Arc::new(Relayed::new(meeting.clone(), view, shutdown.child_token()));
                tokio::spawn(follow(relayed.clone(), self.store.clone()));
                self.started.notify_one();
                relayed
            })
            .clone();
        Some(relayed)
    }

    /// Stops the relays that have no viewer left.
    fn tear_down_unwatched(&self) {
        self.meetings.retain(|meeting, relayed| {
            // Under the map's lock: no viewer can join the relay meanwhile.
            let watched = Arc::strong_count(relayed) > HELD_BY_RELAYS;
            if !watched {
                tracing::info!(%meeting, "relay: its last viewer left; no longer relaying");
                relayed.stop.cancel();
            }
            watched
        });
    }

    /// Has every relay read its meeting again: notifications may have been
    /// missed while the listening connection was down.
    fn catch_up(&self) {
        for relayed in self.meetings.iter() {
            relayed.changed.notify_one();
        }
    }
}

/// Every quarter of the lease term, and at once when a relay starts:
/// stops the relays whose last viewer left, and registers the others in the
/// store for a term more, so that their hosts publish (and no other host
/// does). At `shutdown`, registers none.
async fn keep(relays: Arc<Relays>, shutdown: CancellationToken) {
    let Some(node) = relays.node.get() else {
        return;
    };
    loop {
        relays.tear_down_unwatched();
        let meetings: Vec<MeetingId> = relays.meetings.iter().map(|r| r.key().clone()).collect();
        if let Err(e) = relays
            .store
            .relay_audience(&node.id, &meetings, node.term)
            .await
        {
            tracing::warn!(error = %e, "relays: cannot register the relayed meetings; trying again");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(node.term / RENEWALS_PER_TERM) => {}
            () = relays.started.notified() => {}
        }
    }
    if let Err(e) = relays.store.relay_audience(&node.id, &[], node.term).await {
        tracing::warn!(error = %e, "relays: the registrations could not be removed; they run out by themselves");
    }
}

/// Listens for published audience frames until `shutdown`, on one
/// connection, connected again (and every relay caught up) when it drops.
async fn listen(relays: Arc<Relays>, shutdown: CancellationToken) {
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = relays.store.audience_listener() => connected,
        };
        let mut listener = match connected {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "relays: cannot listen for the audience's frames; trying again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RESTORE_RETRY) => continue,
                }
            }
        };
        relays.catch_up();
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    let relayed = MeetingId::parse(notification.payload())
                        .ok()
                        .and_then(|meeting| relays.meetings.get(&meeting).map(|r| r.clone()));
                    if let Some(relayed) = relayed {
                        relayed.changed.notify_one();
                    }
                }
                // Connected again by itself: what came meanwhile was missed.
                Ok(None) => {
                    tracing::warn!("relays: the listening connection dropped; catching up");
                    relays.catch_up();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "relays: the listening connection failed; connecting again");
                    break;
                }
            }
        }
    }
}

/// One meeting's audience on a node that does not host it: the frames last
/// published, and the channel its viewers listen to.
pub struct Relayed {
    pub meeting: MeetingId,
    pub view: Arc<ServedView>,
    state: Mutex<RelayState>,
    /// Told at each notification for the meeting, or to catch up.
    changed: Notify,
    /// Whether it holds published frames: a viewer waits for them.
    loaded: watch::Sender<bool>,
    /// Stops it: its last viewer left, or the node stops.
    stop: CancellationToken,
    /// Never changes: a viewer has no key to revoke.
    revocations: watch::Sender<()>,
}

struct RelayState {
    snapshot: Option<(u64, Frame)>,
    floor: Option<(u64, Frame)>,
    /// The latest tally read, sent or waiting for its turn.
    tally: Option<(u64, Frame)>,
    /// The version of the last tally sent.
    tally_sent: u64,
    channel: Channel,
}

impl RelayState {
    /// The latest tally, if it is newer than the snapshot (which carries
    /// the tally of its time).
    fn current_tally(&self) -> Option<&(u64, Frame)> {
        let since = self.snapshot.as_ref().map_or(0, |(v, _)| *v);
        self.tally.as_ref().filter(|(v, _)| *v > since)
    }

    /// The tally waiting for its turn, if any.
    fn waiting_tally(&self) -> Option<&(u64, Frame)> {
        self.current_tally().filter(|(v, _)| *v > self.tally_sent)
    }

    /// Takes in what was read: snapshots and floors newer than those held
    /// go to the viewers at once, in the order of their versions; a newer
    /// tally waits for its turn ([`RelayState::send_tally_if_due`]).
    fn take_in(&mut self, read: AudienceFrames) {
        let newer = |held: &Option<(u64, Frame)>, read: Option<(u64, String)>| {
            read.filter(|(v, _)| held.as_ref().is_none_or(|(h, _)| v > h))
                .map(|(v, f)| (v, Frame::from(f)))
        };
        let snapshot = newer(&self.snapshot, read.snapshot);
        let floor = newer(&self.floor, read.floor);
        if let Some(tally) = newer(&self.tally, read.tally) {
            self.tally = Some(tally);
        }
        let mut sends: Vec<(Kind, (u64, Frame))> = snapshot
            .map(|s| (Kind::Snapshot, s))
            .into_iter()
            .chain(floor.map(|f| (Kind::Floor, f)))
            .collect();
        sends.sort_by_key(|(_, (version, _))| *version);
        for (kind, (version, frame)) in sends {
            if kind == Kind::Snapshot {
                self.channel.send_snapshot(version, frame.clone());
                self.snapshot = Some((version, frame));
            } else {
                self.channel.send_floor(version, frame.clone());
                self.floor = Some((version, frame));
            }
        }
    }

    /// Sends the waiting tally if the channel's pace allows it now;
    /// otherwise when to look again.
    fn send_tally_if_due(&mut self, now: Instant) -> Option<Instant> {
        let (version, frame) = self.waiting_tally()?.clone();
        let due = self.channel.tally_due(now, TICK);
        if due > now {
            return Some(due);
        }
        self.channel.send_tally(version, frame, now);
        self.tally_sent = version;
        None
    }

    /// The snapshot, the floor and a newer tally, for a viewer that joins,
    /// falls behind or asks to sync; `None` while nothing was published.
    fn fresh(&self) -> Option<(u64, Frame, Frame, Option<Frame>)> {
        let (version, snapshot) = self.snapshot.clone()?;
        let (_, floor) = self.floor.clone()?;
        let tally = self.current_tally().map(|(_, f)| f.clone());
        Some((version, snapshot, floor, tally))
    }
}

impl Relayed {
    fn new(meeting: MeetingId, view: Arc<ServedView>, stop: CancellationToken) -> Relayed {
        Relayed {
            meeting,
            view,
            state: Mutex::new(RelayState {
                snapshot: None,
                floor: None,
                tally: None,
                tally_sent: 0,
                channel: Channel::new(),
            }),
            changed: Notify::new(),
            loaded: watch::Sender::new(false),
            stop,
            revocations: watch::Sender::new(()),
        }
    }

    /// A viewer joins: what it is sent first, and the channel of what
    /// follows, with no gap between; `None` if the meeting's host has
    /// published nothing within [`FIRST_READING`] (a host publishes once it
    /// finds the relay registered, at its next round of leases) or the
    /// store did not answer meanwhile: the viewer is to try again.
    pub async fn join(&self) -> Option<Joined> {
        let mut loaded = self.loaded.subscribe();
        tokio::time::timeout(FIRST_READING, loaded.wait_for(|loaded| *loaded))
            .await
            .ok()?
            .ok()?;
        let state = self.state.lock().expect("relay lock");
        let (version, snapshot, floor, tally) = state.fresh()?;
        let (updates, delivery) = state.channel.subscribe();
        Some(Joined {
            snapshot,
            floor,
            version,
            tally,
            you: None,
            updates,
            delivery,
        })
    }

    /// The frames for a viewer that fell behind or asked to sync.
    pub fn fresh(&self) -> Option<Vec<Frame>> {
        let state = self.state.lock().expect("relay lock");
        let (_, snapshot, floor, tally) = state.fresh()?;
        Some([snapshot, floor].into_iter().chain(tally).collect())
    }

    /// A receiver that never changes: an audience has no key to revoke.
    pub fn revocations(&self) -> watch::Receiver<()> {
        self.revocations.subscribe()
    }
}

/// Keeps `relayed` up to date with what its meeting's host publishes, read
/// at each notification, until it is stopped.
async fn follow(relayed: Arc<Relayed>, store: Store) {
    let stop = relayed.stop.clone();
    loop {
        let mut tally_at = None;
        match store.audience_frames(&relayed.meeting).await {
            Ok(read) => {
                let mut state = relayed.state.lock().expect("relay lock");
                if let Some(read) = read {
                    state.take_in(read);
                }
                tally_at = state.send_tally_if_due(Instant::now());
                let published = state.snapshot.is_some() && state.floor.is_some();
                drop(state);
                relayed.loaded.send_replace(published);
            }
            Err(e) => {
                tracing::warn!(meeting = %relayed.meeting, error = %e, "relay: the published frames could not be read; trying again");
                relayed.changed.notify_one();
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RESTORE_RETRY) => {}
                }
            }
        }
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = relayed.changed.notified() => break,
                () = sleep_until_some(tally_at) => {
                    let mut state = relayed.state.lock().expect("relay lock");
                    tally_at = state.send_tally_if_due(Instant::now());
                }
            }
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
