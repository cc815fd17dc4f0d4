//! The hub: one actor per meeting, and the registry that finds them.
//!
//! - [`actor`]: the task that owns a meeting's state (agenda position,
//!   attendance, the open round and its ballots) and serialises every change.
//! - [`round`]: a round's state and the rules of ballot intake.
//! - [`floor`]: the floor as a pure state machine: requests, the queue,
//!   turns and the speaker's clock.
//! - [`hand`]: what a result recorded by hand may be, when the devices fail.
//! - [`pacing`]: when each audience (tablets, hall screen, chair) is sent
//!   snapshots and running tallies, and how far a tally has got.
//! - [`outage`]: what the meeting does while its store does not answer.
//! - [`leases`]: on PostgreSQL, which meetings this node hosts: leases
//!   taken, renewed and given back, and a meeting let go of when another
//!   node took it over.
//! - [`relay`]: on PostgreSQL, the audience of meetings hosted elsewhere,
//!   served on this node from what their hosts publish.
//! - [`writer`]: the group-commit writer that makes ballots durable before
//!   they are acknowledged or counted.
//!
//! Connections never touch meeting state: they verify signatures (on the
//! [`Signatures`] pool the hub shares with every meeting's writer), then send
//! commands to the meeting's actor and relay what it broadcasts.

pub mod actor;
pub mod floor;
pub mod hand;
pub mod leases;
mod outage;
pub mod pacing;
pub mod relay;
pub mod round;
pub mod writer;

use crate::clock::now_ms;
use crate::documents;
use crate::meeting::MeetingDefinition;
use crate::signatures::Signatures;
use crate::store::{
    Amended, Amendment, Pool, Store, StoreError, StoredDocument, StoredMeeting, code_hash,
};
use crate::tokens;
use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::{DocumentView, Presentation, RoundStatus, view_hash};
use gavel_protocol::published::{ListRefusal, PublishedBallot, PublishedList};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{MeetingId, Principal, PublicKey, RefusalReason, RoundId, ServerMsg};
use gavel_records::chain::Sha;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use actor::{Command, Joined};
pub use pacing::{Audience, Broadcast, Delivery, Kind};
pub use round::VerifiedBallot;

/// One serialized frame, shared by every connection it is sent to: a
/// broadcast is serialized once, whatever the number of listeners.
pub type Frame = Utf8Bytes;

/// Serializes a server message into a frame.
pub fn frame(msg: &ServerMsg) -> Frame {
    Utf8Bytes::from(serde_json::to_string(msg).expect("server messages always serialize"))
}

/// A refusal with its typed reason and a sentence for the person in front of the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason:?}: {message}")]
pub struct Refusal {
    pub reason: RefusalReason,
    pub message: String,
}

impl Refusal {
    pub fn new(reason: RefusalReason, message: impl Into<String>) -> Refusal {
        Refusal {
            reason,
            message: message.into(),
        }
    }

    pub fn to_msg(&self, id: Option<u64>) -> ServerMsg {
        ServerMsg::Refused {
            id,
            reason: self.reason,
            message: self.message.clone(),
        }
    }
}

impl From<RefusalReason> for Refusal {
    fn from(reason: RefusalReason) -> Refusal {
        Refusal {
            reason,
            message: reason.to_string(),
        }
    }
}

/// Why an amendment of a meeting was not made.
#[derive(Debug, thiserror::Error)]
pub enum AmendError {
    /// Refused by the store's rules, or the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another node of the deployment hosts the meeting.
    #[error("meeting {0} is served by another node; its changes are made through that node")]
    HostedElsewhere(MeetingId),
    /// The meeting's actor stopped (the server is shutting down).
    #[error("meeting {0} is not running now; try again")]
    Stopped(MeetingId),
}

/// How often a serving hub looks for document versions stored elsewhere.
const DOCUMENT_WATCH: Duration = Duration::from_secs(3);

/// How long a download link the chair asked for stays valid.
const EXPORT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// A meeting's view (roster, agenda, labels) as clients fetch it over HTTP:
/// serialized once when the meeting is loaded and shared by every request,
/// named by its hash in each `welcome`. When the definition is amended or
/// a document stored, the meeting is given a new view
/// ([`Hub::definition_changed`]).
pub struct ServedView {
    pub bytes: Bytes,
    /// [`view_hash`] of `bytes`.
    pub hash: String,
    /// The documents it lists, each with its item: what the chair may present.
    documents: Vec<(u32, DocumentView)>,
}

impl ServedView {
    /// The view of `definition` with the latest version of each document it
    /// names, of those `stored`.
    pub fn of(definition: &MeetingDefinition, stored: &[StoredDocument]) -> ServedView {
        let documents: Vec<_> = definition
            .documents
            .iter()
            .filter_map(|named| {
                stored
                    .iter()
                    .filter(|d| d.item == named.item && d.slot == named.slot)
                    .max_by_key(|d| d.view.version)
                    .map(|d| (d.item, d.view.clone()))
            })
            .collect();
        let view = definition.view(&documents);
        let bytes = serde_json::to_vec(&view).expect("a meeting view serializes");
        ServedView {
            hash: view_hash(&bytes),
            bytes: Bytes::from(bytes),
            documents,
        }
    }

    /// The listed document named `sha256`, with its item.
    fn document(&self, sha256: &str) -> Option<(u32, &DocumentView)> {
        self.documents
            .iter()
            .find(|(_, d)| d.sha256 == sha256)
            .map(|(item, d)| (*item, d))
    }
}

/// A page the chair asked to present, checked against the meeting's view
/// and the document's pages, and whether watchers may be shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub presentation: Presentation,
    pub public: bool,
}

/// What connections need of a meeting without asking its actor: the
/// definition, its served view, which key speaks for which principal, and
/// which documents it has and who may read them.
#[derive(Clone)]
pub struct MeetingHandle {
    pub definition: Arc<MeetingDefinition>,
    pub view: Arc<ServedView>,
    /// Where its ballots' signatures are checked.
    pub signatures: Arc<Signatures>,
    commands: mpsc::Sender<Command>,
    keys: Arc<RwLock<HashMap<[u8; 32], Principal>>>,
    /// Held from reading the keys out of the store until they replace
    /// `keys`: two devices enrolling at once would otherwise each read the
    /// store, and the read that missed the other's key could replace the
    /// map last, leaving an enrolled device unknown until the next reload.
    reloading_keys: Arc<tokio::sync::Mutex<()>>,
    /// Every stored version's hash, and whether it is public.
    documents: Arc<HashMap<String, bool>>,
    /// Signs the sessions' `document_access` tokens.
    server_key: Arc<SigningKey>,
    /// How many versions were stored when the view was made ([`Hub::watch_documents`]).
    document_versions: u64,
    /// Cancelled when another node took the meeting over (or this one gave
    /// it up): its clients are told to connect again, to reach that node.
    moved: CancellationToken,
    /// Cancelled when the meeting was given a new view (an amendment, a
    /// document uploaded): its clients are told to connect again, for a `welcome`
    /// that names it.
    view_changed: CancellationToken,
    /// Stops the meeting's actor: at shutdown, or when the meeting moves.
    stop: CancellationToken,
    /// The documents' bytes and page counts, shared with the hub.
    served_documents: Arc<documents::Served>,
    store: Store,
    /// Each principal's devices as this server has seen them, for the
    /// secretariat's list of devices: in memory, so a restart forgets when
    /// a device that has not come back was last seen.
    presence: Arc<Mutex<HashMap<Principal, Presence>>>,
    /// Keys the secretariat revoked, so that their refusal says why.
    revoked: Arc<RwLock<HashSet<[u8; 32]>>>,
    /// Marked changed at each revocation: every live session then checks
    /// whether its own key was the one, and ends at once if it was.
    revocations: Arc<watch::Sender<()>>,
}

/// Whether a principal's device is connected now, and when it last was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    /// How many of its logged-in connections are open.
    pub connections: u32,
    /// When one last logged in or ended (Unix ms).
    pub last_seen: u64,
}

/// A logged-in connection counted in its principal's [`Presence`] while
/// this lives; dropped, it leaves the time it ended.
pub struct Online {
    principal: Principal,
    presence: Arc<Mutex<HashMap<Principal, Presence>>>,
}

impl Drop for Online {
    fn drop(&mut self) {
        let mut presence = self.presence.lock().expect("presence lock");
        if let Some(p) = presence.get_mut(&self.principal) {
            p.connections = p.connections.saturating_sub(1);
            p.last_seen = now_ms();
        }
    }
}

impl MeetingHandle {
    /// The principal an enrolled key speaks for, if any.
    pub fn principal_of(&self, key: &PublicKey) -> Option<Principal> {
        self.keys
            .read()
            .expect("key map lock")
            .get(key.as_bytes())
            .copied()
    }

    /// Sends a command to the meeting's actor; refused when the actor has stopped.
    pub async fn send(&self, command: Command) -> Result<(), Refusal> {
        self.commands
            .send(command)
            .await
            .map_err(|_| Refusal::from(RefusalReason::ShuttingDown))
    }

    /// Records an item's result by hand (see [`hand`]) through the
    /// meeting's actor: the stored round, once every audience has it.
    pub async fn record_by_hand(
        &self,
        hand: hand::HandCount,
    ) -> Result<crate::store::RoundRecord, hand::HandRefusal> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(Command::RecordByHand { hand, reply })
            .await
            .map_err(|_| hand::HandRefusal::StoreUnavailable)?;
        answer
            .await
            .map_err(|_| hand::HandRefusal::StoreUnavailable)?
    }

    /// Amends the meeting's stored definition through its actor (see
    /// [`Store::amend_meeting`]): what was stored, once the actor runs on it.
    async fn amend(&self, amendment: Amendment) -> Result<Amended, AmendError> {
        let stopped = || AmendError::Stopped(self.definition.id.clone());
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(Command::Amend { amendment, reply })
            .await
            .map_err(|_| stopped())?;
        Ok(answer.await.map_err(|_| stopped())??)
    }

    /// A token for one download of the meeting's record within a minute,
    /// and its expiry (Unix ms). The download is an ordinary link, so the
    /// console's WebSocket login is what authorises it: whoever holds the
    /// token holds it because the chair asked. Kept in the store, so that
    /// any node serves the download, once ([`crate::tokens`]).
    pub async fn issue_export_token(&self) -> Result<(String, u64), StoreError> {
        let token = hex::encode(rand::random::<[u8; 16]>());
        let expires_at = now_ms() + EXPORT_TOKEN_LIFETIME.as_millis() as u64;
        self.store
            .issue_download(&self.definition.id, &token, expires_at)
            .await?;
        Ok((token, expires_at))
    }

    /// Claims the secretariat's call `id` to this meeting, made through
    /// another node, if this node still holds the meeting's lease with the
    /// fencing number it took: the call, to run and answer
    /// ([`crate::store::Store::claim_owner_call`]).
    pub async fn claim_owner_call(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.store.claim_owner_call(id, &self.definition.id).await
    }

    /// Whether this meeting has a document stored under `sha256`, and if
    /// so whether it is public.
    pub fn document_public(&self, sha256: &str) -> Option<bool> {
        self.documents.get(sha256).copied()
    }

    /// The `document_access` tokens of a session pinged every `ping`, each
    /// to last `grace` after the session ends ([`crate::tokens`]).
    pub fn document_access(&self, grace: Duration, ping: Duration) -> tokens::DocumentAccess {
        tokens::DocumentAccess::new(
            self.server_key.clone(),
            self.definition.id.clone(),
            grace,
            ping,
        )
    }

    /// Whether the meeting left this node for another (see [`leases`]).
    pub fn moved(&self) -> bool {
        self.moved.is_cancelled()
    }

    /// Resolves once the meeting has a newer view than this handle's.
    pub async fn view_changed(&self) {
        self.view_changed.cancelled().await;
    }

    /// Counts a logged-in connection of `principal` until the guard drops.
    pub fn online(&self, principal: Principal) -> Online {
        let mut presence = self.presence.lock().expect("presence lock");
        let p = presence.entry(principal).or_insert(Presence {
            connections: 0,
            last_seen: 0,
        });
        p.connections += 1;
        p.last_seen = now_ms();
        Online {
            principal,
            presence: self.presence.clone(),
        }
    }

    /// Whether the secretariat revoked `key` (and it was not enrolled again).
    pub fn is_revoked(&self, key: &PublicKey) -> bool {
        self.revoked
            .read()
            .expect("revoked keys lock")
            .contains(key.as_bytes())
    }

    /// Changes at each revocation in this meeting, for a live session to
    /// check its key against [`MeetingHandle::is_revoked`].
    pub fn revocations(&self) -> watch::Receiver<()> {
        self.revocations.subscribe()
    }

    /// Every principal seen since this server started.
    pub fn presence(&self) -> HashMap<Principal, Presence> {
        self.presence.lock().expect("presence lock").clone()
    }

    /// The principals with an enrolled device key.
    pub fn enrolled(&self) -> Vec<Principal> {
        self.keys
            .read()
            .expect("key map lock")
            .values()
            .copied()
            .collect()
    }

    /// Checks a `present` command: a document the view lists and a page it
    /// has. Done here rather than in the actor, because counting a long
    /// PDF's pages the first time takes a while, and the actor must not
    /// wait for it while ballots arrive.
    pub async fn presented(&self, sha256: &str, page: u32) -> Result<Presented, Refusal> {
        let Some((item, document)) = self.view.document(sha256) else {
            return Err(Refusal::new(
                RefusalReason::UnknownDocument,
                format!("the meeting view lists no document {sha256}"),
            ));
        };
        let pages = self
            .served_documents
            .pages(&self.store, sha256)
            .await
            .map_err(|e| {
                tracing::error!(meeting = %self.definition.id, error = %e, "a presented document could not be read");
                Refusal::from(RefusalReason::StoreUnavailable)
            })?;
        if page == 0 || page > pages {
            return Err(Refusal::new(
                RefusalReason::NoSuchPage,
                format!("\"{}\" has pages 1 to {pages}", document.title),
            ));
        }
        Ok(Presented {
            presentation: Presentation {
                item,
                document: sha256.to_owned(),
                page,
                pages,
            },
            public: document.public,
        })
    }

    fn set_keys(&self, keys: Vec<(Principal, PublicKey)>) {
        let map = keys.into_iter().map(|(p, k)| (*k.as_bytes(), p)).collect();
        *self.keys.write().expect("key map lock") = map;
    }

    /// Reads the meeting's keys from the store again and puts them in
    /// place, one reload at a time (see `reloading_keys`).
    async fn reload_keys(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.reloading_keys.lock().await;
        self.set_keys(self.store.keys(&self.definition.id).await?);
        Ok(())
    }
}

/// The running hub: every meeting in the store, each with its actor.
pub struct Hub {
    store: Store,
    server_key: Arc<SigningKey>,
    /// Checks ballots' signatures and signs receipts, for every meeting.
    signatures: Arc<Signatures>,
    meetings: DashMap<MeetingId, MeetingHandle>,
    tasks: TaskTracker,
    /// Whether every stored meeting has its actor: connections wait for it.
    restored: watch::Sender<bool>,
    /// On a node: asks for a lease round now, and counts the rounds done,
    /// so that a meeting added by the secretariat is taken at once.
    lease_rounds: (tokio::sync::Notify, watch::Sender<u64>),
    /// The documents' checked bytes, shared by every request.
    served_documents: Arc<documents::Served>,
    /// Held while a meeting is given its new view, so that of two uploads
    /// close together the view read after both is the one kept.
    renewing_views: tokio::sync::Mutex<()>,
    /// On PostgreSQL, this node of the deployment; `None` on SQLite, whose
    /// one process hosts every meeting.
    node: Option<leases::Node>,
    /// The stored meetings this node does not host (see [`leases`]).
    elsewhere: RwLock<HashSet<MeetingId>>,
    /// The views of meetings hosted elsewhere that a client asked this node for.
    elsewhere_views: DashMap<MeetingId, Arc<ServedView>>,
    /// What stops the meetings' actors, given to [`Hub::restore`].
    shutdown: OnceLock<CancellationToken>,
    /// The audience of meetings hosted elsewhere that this node serves.
    relays: Arc<relay::Relays>,
    /// Meetings whose actor amended their definition (the chair's list):
    /// [`Hub::watch_documents`] gives each its new view.
    amended: (
        mpsc::UnboundedSender<MeetingId>,
        tokio::sync::Mutex<mpsc::UnboundedReceiver<MeetingId>>,
    ),
}

impl Hub {
    /// A hub with no meeting yet: [`Hub::restore`] loads them. Apart, so
    /// that the server can answer health probes while it restores. On
    /// PostgreSQL the hub is a node of a deployment, which holds leases as
    /// `node` (or as an id of its own, drawn now, if `None`), each for
    /// `lease_term` (or [`leases::TERM`]).
    pub fn new(
        store: Store,
        server_key: SigningKey,
        node: Option<String>,
        lease_term: Option<Duration>,
    ) -> Arc<Hub> {
        let node = matches!(store.pool(), Pool::Postgres(_)).then(|| leases::Node {
            id: node.unwrap_or_else(|| hex::encode(rand::random::<[u8; 8]>())),
            term: lease_term.unwrap_or(leases::TERM),
        });
        Arc::new(Hub {
            node,
            elsewhere: RwLock::default(),
            elsewhere_views: DashMap::new(),
            relays: Arc::new(relay::Relays::new(store.clone())),
            store,
            server_key: Arc::new(server_key),
            signatures: Arc::new(Signatures::per_core()),
            meetings: DashMap::new(),
            tasks: TaskTracker::new(),
            restored: watch::Sender::new(false),
            lease_rounds: (tokio::sync::Notify::new(), watch::Sender::new(0)),
            served_documents: Arc::default(),
            renewing_views: tokio::sync::Mutex::default(),
            shutdown: OnceLock::new(),
            amended: {
                let (tx, rx) = mpsc::unbounded_channel();
                (tx, tokio::sync::Mutex::new(rx))
            },
        })
    }

    /// Loads every meeting from the store and starts its actor, restoring any
    /// open round with its acknowledged ballots. Actors stop when `shutdown`
    /// fires. While the store does not answer, it tries again every
    /// [`RESTORE_RETRY`] (a hub started while PostgreSQL restarts waits for
    /// it); a stored definition that does not parse stops it with an error.
    /// Returns early, not restored, if `shutdown` fires meanwhile.
    ///
    /// On PostgreSQL the hub instead takes its share of the meetings, and
    /// keeps doing so until `shutdown` (see [`leases`]).
    pub async fn restore(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        // Kept for the meetings the secretariat adds later (start_added).
        let _ = self.shutdown.set(shutdown.clone());
        if let Some(node) = &self.node {
            self.relays.start(shutdown.clone(), node);
            return self.hold_leases(node, shutdown).await;
        }
        let restored = self.restore_all(shutdown).await;
        self.tasks.close();
        if let Ok(true) = restored {
            tracing::info!(meetings = self.meetings.len(), "meetings restored");
            self.restored.send_replace(true);
        }
        restored.map(drop)
    }

    /// True once every meeting is restored; false if stopped before.
    async fn restore_all(&self, shutdown: &CancellationToken) -> anyhow::Result<bool> {
        let store = &self.store;
        let Some(stored) = retry(shutdown, "loading meetings", move || async move {
            Ok(store.meetings().await?)
        })
        .await?
        else {
            return Ok(false);
        };
        for stored in stored {
            if !self
                .start_meeting(&stored, self.store.clone(), shutdown)
                .await?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Restores the stored meeting from `store` (which, on a deployment of
    /// several nodes, is fenced with this node's lease on it) and starts its
    /// actor, which stops when `shutdown` fires or the meeting leaves this
    /// node. False if `shutdown` fired first.
    async fn start_meeting(
        &self,
        stored: &StoredMeeting,
        store: Store,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let (key, tasks, signatures) = (&self.server_key, &self.tasks, &self.signatures);
        let amended = &self.amended.0;
        let definition = MeetingDefinition::parse(&stored.definition)
            .with_context(|| format!("stored definition of meeting {}", stored.id))?;
        let definition = &Arc::new(definition);
        let (id, item, store) = (&stored.id, stored.current_item, &store);
        let restoring = format!("restoring meeting {id}");
        let Some((keys, revoked, documents, actor)) =
            retry(shutdown, &restoring, move || async move {
                store.settle(id).await?;
                let keys = store.keys(id).await?;
                let revoked = store.revoked_keys(id).await?;
                let documents = store.documents(id).await?;
                let actor = actor::MeetingActor::restore(
                    (definition.clone(), Sha::of(stored.definition.as_bytes())),
                    amended.clone(),
                    item,
                    store.clone(),
                    key.clone(),
                    signatures.clone(),
                    tasks,
                )
                .await?;
                Ok((keys, revoked, documents, actor))
            })
            .await?
        else {
            return Ok(false);
        };
        let (commands, inbox) = mpsc::channel(actor::INBOX);
        let stop = shutdown.child_token();
        let handle = MeetingHandle {
            document_versions: documents.len() as u64,
            definition: definition.clone(),
            view: Arc::new(ServedView::of(definition, &documents)),
            signatures: signatures.clone(),
            commands,
            keys: Arc::default(),
            reloading_keys: Arc::default(),
            documents: Arc::new(
                documents
                    .into_iter()
                    .map(|d| (d.view.sha256, d.view.public))
                    .collect(),
            ),
            server_key: self.server_key.clone(),
            moved: CancellationToken::new(),
            view_changed: CancellationToken::new(),
            stop: stop.clone(),
            served_documents: self.served_documents.clone(),
            store: store.clone(),
            presence: Arc::default(),
            revoked: Arc::new(RwLock::new(revoked.iter().map(|k| *k.as_bytes()).collect())),
            revocations: Arc::new(watch::channel(()).0),
        };
        handle.set_keys(keys);
        self.tasks.spawn(actor.run(inbox, stop));
        self.meetings.insert(stored.id.clone(), handle);
        Ok(true)
    }

    /// Serves a meeting the secretariat has just added to the store, as if
    /// the hub had restored it at its start. Only after the restore: the
    /// actors stop with the shutdown the restore was given.
    /// On a deployment of several nodes this node runs its lease rounds at
    /// once instead, and the meeting is taken by it or, if it has no room,
    /// by another node at its next round (see [`leases`]).
    pub async fn start_added(&self, id: &MeetingId) -> anyhow::Result<()> {
        if self.node.is_some() {
            // A round that began before the meeting was stored may miss
            // it: the one after that does not.
            let mut done = self.lease_rounds.1.subscribe();
            let before = *done.borrow_and_update();
            for round in 1..=2 {
                self.lease_rounds.0.notify_one();
                done.wait_for(|n| *n >= before + round).await?;
            }
            return Ok(());
        }
        self.restored().await;
        let shutdown = self
            .shutdown
            .get()
            .context("the hub was restored without its shutdown")?
            .clone();
        let stored = self
            .store
            .meetings()
            .await?
            .into_iter()
            .find(|m| &m.id == id)
            .with_context(|| format!("meeting {id} is not stored"))?;
        self.start_meeting(&stored, self.store.clone(), &shutdown)
            .await?;
        Ok(())
    }

    /// Whether every stored meeting has been restored.
    pub fn is_restored(&self) -> bool {
        *self.restored.borrow()
    }

    /// Waits until every stored meeting has been restored.
    pub async fn restored(&self) {
        let mut restored = self.restored.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = restored.wait_for(|r| *r).await;
    }

    /// Every meeting's definition, ordered by id.
    pub fn meetings(&self) -> Vec<Arc<MeetingDefinition>> {
        let mut all: Vec<_> = self.meetings.iter().map(|m| m.definition.clone()).collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    pub fn meeting(&self, id: &MeetingId) -> Option<MeetingHandle> {
        self.meetings.get(id).map(|m| m.clone())
    }

    pub fn server_key(&self) -> PublicKey {
        PublicKey::of(&self.server_key)
    }

    /// The meeting's record as `gavel export` writes it, signed with the server's key.
    pub async fn export(
        &self,
        meeting: &MeetingId,
    ) -> Result<gavel_records::bundle::Bundle, crate::export::ExportError> {
        crate::export::bundle(&self.store, &self.server_key, meeting).await
    }

    /// The length of the meeting's audit chain (see [`Store::audit_length`]).
    pub async fn record_length(&self, meeting: &MeetingId) -> Result<u64, StoreError> {
        self.store.audit_length(meeting).await
    }

    /// The meeting's minutes in `lang`, from its record as `gavel export`
    /// prints them (with the export's default options).
    pub async fn minutes(
        &self,
        meeting: &MeetingId,
        lang: gavel_records::minutes::Lang,
    ) -> Result<String, crate::export::ExportError> {
        let options = crate::export::MinutesOptions::default();
        crate::export::minutes_html(&self.store, &self.server_key, meeting, lang, &options).await
    }

    /// Uses up the chair's download token `token` of `meeting`, whichever
    /// node issued it: true once, if it was issued and has not expired.
    pub async fn redeem_export_token(
        &self,
        meeting: &MeetingId,
        token: &str,
    ) -> Result<bool, StoreError> {
        self.store.redeem_download(meeting, token).await
    }

    /// Whether `meeting` has a document stored under `sha256`, and if so
    /// whether it is public: asked of the meeting's handle where this node
    /// hosts it, else of the store (behind the proxy, a tablet's request
    /// may reach any node). `None` for a meeting that is not stored.
    pub async fn document_public(
        &self,
        meeting: &MeetingId,
        sha256: &str,
    ) -> Result<Option<Option<bool>>, StoreError> {
        if let Some(handle) = self.meeting(meeting) {
            return Ok(Some(handle.document_public(sha256)));
        }
        if !self.hosted_elsewhere(meeting) {
            return Ok(None);
        }
        let documents = self.store.documents(meeting).await?;
        Ok(Some(
            documents
                .iter()
                .find(|d| d.view.sha256 == sha256)
                .map(|d| d.view.public),
        ))
    }

    /// Whether `token` opens `meeting`'s delegates-only documents now,
    /// whichever node issued it ([`crate::tokens`]).
    pub fn document_access_valid(&self, meeting: &MeetingId, token: &str) -> bool {
        tokens::document_access_valid(&self.server_key.verifying_key(), meeting, token, now_ms())
    }

    /// A document's bytes, checked against `sha256` (see [`documents`]).
    pub async fn document(&self, sha256: &str) -> Result<Bytes, documents::ServeError> {
        self.served_documents.get(&self.store, sha256).await
    }

    /// A secret round's published list (PROTOCOL.md §6.4), read from the
    /// store so that it outlives a restart, once the result is out: the
    /// round closed and, where a counting board confirms it, announced.
    /// The round is looked up among `meeting`'s own, so another meeting's
    /// round is as unknown as one that never was.
    pub async fn published_list(
        &self,
        meeting: &MeetingId,
        round: RoundId,
    ) -> Result<Result<PublishedList, ListRefusal>, StoreError> {
        let Some(handle) = self.meeting(meeting) else {
            return Ok(Err(ListRefusal::UnknownRound));
        };
        let Some(record) = self
            .store
            .rounds(meeting)
            .await?
            .into_iter()
            .find(|r| r.id == round)
        else {
            return Ok(Err(ListRefusal::UnknownRound));
        };
        let refusal = if record.settings.secrecy != Secrecy::Secret {
            Some(ListRefusal::NotSecret)
        } else if record.status == RoundStatus::Open {
            Some(ListRefusal::NotClosed)
        } else if record.status == RoundStatus::Voided {
            Some(ListRefusal::Voided)
        } else if !handle.definition.counting_board.is_empty() && record.announced_at.is_none() {
            Some(ListRefusal::NotAnnounced)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Ok(Err(refusal));
        }
        let ballots = self.store.secret_ballots(round).await?;
        Ok(Ok(PublishedList {
            round,
            item: record.item,
            ballots: ballots
                .choices
                .iter()
                .map(|(tracker, vote)| PublishedBallot::new(*tracker, vote))
                .collect(),
        }))
    }

    /// The pool that checks signatures and signs receipts.
    pub fn signatures(&self) -> &Signatures {
        &self.signatures
    }

    /// Signs with the server's key (the login challenge is not signed, receipts are).
    pub fn server_signing_key(&self) -> &SigningKey {
        &self.server_key
    }

    /// The store the hub writes to, for the secretariat's calls, which read
    /// and prepare meetings outside any meeting's actor.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Redeems a one-time enrollment code for `key`; the code is burnt.
    pub async fn enroll(
        &self,
        code: &str,
        key: &PublicKey,
    ) -> Result<(MeetingId, Principal), Refusal> {
        let (meeting, principal) = match self
            .store
            .redeem_code(&code_hash(code), now_ms(), key)
            .await
        {
            Ok(bound) => bound,
            Err(StoreError::CodeUnknown) => return Err(RefusalReason::UnknownCode.into()),
            Err(StoreError::CodeUsed) => return Err(RefusalReason::CodeUsed.into()),
            Err(StoreError::CodeExpired) => return Err(RefusalReason::CodeExpired.into()),
            Err(e) => {
                tracing::error!(error = %e, "enrollment failed in the store");
                return Err(RefusalReason::StoreUnavailable.into());
            }
        };
        self.reload_keys(&meeting).await?;
        if let Some(handle) = self.meeting(&meeting) {
            handle
                .revoked
                .write()
                .expect("revoked keys lock")
                .remove(key.as_bytes());
        }
        tracing::info!(meeting = %meeting, %principal, key = %key.to_hex(), "device enrolled");
        Ok((meeting, principal))
    }

    /// Reads the meeting's keys from the store again, if this node hosts it.
    /// On several nodes, a device may have enrolled through another one.
    pub async fn reload_keys(&self, meeting: &MeetingId) -> Result<(), Refusal> {
        if let Some(handle) = self.meeting(meeting) {
            handle.reload_keys().await.map_err(|e| {
                tracing::error!(%meeting, error = %e, "reloading keys failed");
                Refusal::from(RefusalReason::StoreUnavailable)
            })?;
        }
        Ok(())
    }

    /// The relay of `meeting`, hosted by another node, for a viewer (the
    /// hall screen, the public page) that connected to this one (see
    /// [`relay`]); `None` on SQLite, or for a meeting that is not stored.
    pub async fn relay(
        &self,
        meeting: &MeetingId,
    ) -> Result<Option<Arc<relay::Relayed>>, StoreError> {
        if self.node.is_none() {
            return Ok(None);
        }
        let Some(view) = self.view_of(meeting).await? else {
            return Ok(None);
        };
        Ok(self.relays.relay(meeting, view))
    }

    /// Whether other nodes may host meetings of this store (PostgreSQL).
    pub fn is_node(&self) -> bool {
        self.node.is_some()
    }

    /// Amends a stored meeting's definition ([`Store::amend_meeting`]):
    /// through its actor, where this node hosts it, so that no round opens
    /// on an item while it changes and the actor runs on the new definition
    /// from the next command; then the meeting is given its new view
    /// ([`Hub::definition_changed`]). A meeting another node hosts is
    /// refused ([`AmendError::HostedElsewhere`]): its actor would not learn
    /// of the change.
    pub async fn amend(
        &self,
        meeting: &MeetingId,
        amendment: Amendment,
    ) -> Result<Amended, AmendError> {
        let Some(handle) = self.meeting(meeting) else {
            return Err(AmendError::HostedElsewhere(meeting.clone()));
        };
        let amended = handle.amend(amendment).await?;
        self.definition_changed(meeting).await?;
        Ok(amended)
    }

    /// Gives a meeting this node serves the view of its stored definition
    /// and documents, after the secretariat or the chair changed them:
    /// requests for the view or a document are answered from it at once,
    /// and every live session of the meeting is ended with "connect
    /// again", so that each device's next `welcome` names the new view and
    /// it fetches it. The actor is given the stored definition too, which
    /// it takes up if it does not run on it already (a change by `gavel
    /// meeting import` in another process; an amendment went through it).
    /// A node that does not host the meeting forgets the view it cached;
    /// the node that does, and a server whose store `gavel meeting import`
    /// wrote to, learn it from [`Hub::watch_documents`].
    pub async fn definition_changed(&self, meeting: &MeetingId) -> Result<(), StoreError> {
        let _renewing = self.renewing_views.lock().await;
        self.elsewhere_views.remove(meeting);
        let Some(current) = self.meeting(meeting) else {
            return Ok(());
        };
        let stored = self
            .store
            .meetings()
            .await?
            .into_iter()
            .find(|m| &m.id == meeting)
            .ok_or_else(|| StoreError::Corrupt(format!("meeting {meeting} is not stored")))?;
        let definition = Arc::new(MeetingDefinition::parse(&stored.definition).map_err(|e| {
            StoreError::Corrupt(format!("stored definition of meeting {meeting}: {e}"))
        })?);
        let documents = self.store.documents(meeting).await?;
        let adopt = Command::Adopt {
            definition: definition.clone(),
            sha: Sha::of(stored.definition.as_bytes()),
        };
        if current.send(adopt).await.is_err() {
            tracing::debug!(%meeting, "the meeting's actor has stopped");
        }
        let renewed = MeetingHandle {
            document_versions: documents.len() as u64,
            view: Arc::new(ServedView::of(&definition, &documents)),
            definition,
            documents: Arc::new(
                documents
                    .into_iter()
                    .map(|d| (d.view.sha256, d.view.public))
                    .collect(),
            ),
            view_changed: CancellationToken::new(),
            ..current.clone()
        };
        self.meetings.insert(meeting.clone(), renewed);
        current.view_changed.cancel();
        tracing::info!(%meeting, "the meeting changed; its devices connect again");
        Ok(())
    }

    /// Asks the store every 3 s (`DOCUMENT_WATCH`) whether a meeting this node
    /// serves has document versions its view lacks (stored by `gavel meeting
    /// import` in another process, or by the secretariat through another
    /// node), and gives it its new view ([`Hub::definition_changed`]); and
    /// gives its new view at once to a meeting whose actor amended it (the
    /// chair's list). Runs until `shutdown`.
    pub async fn watch_documents(&self, shutdown: &CancellationToken) {
        let mut tick = tokio::time::interval(DOCUMENT_WATCH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut amended = self.amended.1.lock().await;
        loop {
            let changed: Vec<MeetingId> = tokio::select! {
                () = shutdown.cancelled() => return,
                Some(meeting) = amended.recv() => vec![meeting],
                _ = tick.tick() => self.documents_stored_elsewhere().await,
            };
            for meeting in changed {
                if let Err(e) = self.definition_changed(&meeting).await {
                    tracing::warn!(%meeting, error = %e, "the meeting's new view could not be served");
                }
            }
        }
    }

    /// The meetings this node serves whose stored document versions are
    /// not those their view was made from.
    async fn documents_stored_elsewhere(&self) -> Vec<MeetingId> {
        let served: Vec<(MeetingId, u64)> = self
            .meetings
            .iter()
            .map(|m| (m.key().clone(), m.document_versions))
            .collect();
        let mut changed = Vec::new();
        for (meeting, known) in served {
            match self.store.document_versions(&meeting).await {
                Ok(stored) if stored != known => changed.push(meeting),
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%meeting, error = %e, "the documents could not be counted");
                }
            }
        }
        changed
    }

    /// Revokes the key of `principal`'s device in `meeting` (a lost tablet):
    /// stored and audited, then refused here at once, its live sessions
    /// ended with the reason. Returns the revoked key.
    pub async fn revoke(
        &self,
        meeting: &MeetingId,
        principal: Principal,
    ) -> Result<PublicKey, StoreError> {
        let key = self.store.revoke_key(meeting, principal).await?;
        if let Some(handle) = self.meeting(meeting) {
            handle.reload_keys().await?;
            handle
                .revoked
                .write()
                .expect("revoked keys lock")
                .insert(*key.as_bytes());
            handle.revocations.send_replace(());
        }
        tracing::info!(%meeting, %principal, key = %key.to_hex(), "device key revoked");
        Ok(key)
    }

    /// Waits until every meeting actor has stopped (after shutdown), so that
    /// their last commits are done.
    pub async fn stopped(&self) {
        self.tasks.wait().await;
    }
}

/// How long restoring waits before it asks a store that did not answer again.
pub const RESTORE_RETRY: Duration = Duration::from_secs(1);

/// Runs `step` until it succeeds, trying again after [`RESTORE_RETRY`] as
/// long as it fails because the store does not answer; `None` if `shutdown`
/// fires first. Any other error is returned at once.
async fn retry<T, Step>(
    shutdown: &CancellationToken,
    what: &str,
    mut step: impl FnMut() -> Step,
) -> anyhow::Result<Option<T>>
where
    Step: Future<Output = anyhow::Result<T>>,
{
    loop {
        let error = tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            done = step() => match done {
                Ok(value) => return Ok(Some(value)),
                Err(e) if store_unavailable(&e) => e,
                Err(e) => return Err(e.context(what.to_owned())),
            },
        };
        tracing::warn!(error = %error, "{what}: the store does not answer; trying again");
        tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            () = tokio::time::sleep(RESTORE_RETRY) => {}
        }
    }
}

/// Whether an error means the store could not be reached (worth trying
/// again), rather than that what it holds is wrong.
fn store_unavailable(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<StoreError>(),
        Some(StoreError::Database(
            sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Database(_)
        ))
    )
}
