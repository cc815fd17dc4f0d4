//! The hub: one actor per meeting, and the registry that finds them.
//!
//! - [`actor`]: the task that owns a meeting's state (agenda position,
//!   attendance, the open round and its ballots) and serialises every change.
//! - [`writer`]: the group-commit writer that makes ballots durable before
//!   they are acknowledged or counted.
//!
//! Connections never touch meeting state: they verify signatures, then send
//! commands to the meeting's actor and relay what it broadcasts.

pub mod actor;
pub mod writer;

use crate::clock::now_ms;
use crate::meeting::MeetingDefinition;
use crate::store::{Store, StoreError, code_hash};
use anyhow::Context as _;
use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use ed25519_dalek::SigningKey;
use gavel_protocol::{MeetingId, Principal, PublicKey, RefusalReason, ServerMsg};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use actor::{Audience, Command, Joined};

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

/// What connections need of a meeting without asking its actor: the
/// definition, and which key speaks for which principal.
#[derive(Clone)]
pub struct MeetingHandle {
    pub definition: Arc<MeetingDefinition>,
    commands: mpsc::Sender<Command>,
    keys: Arc<RwLock<HashMap<[u8; 32], Principal>>>,
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

    fn set_keys(&self, keys: Vec<(Principal, PublicKey)>) {
        let map = keys.into_iter().map(|(p, k)| (*k.as_bytes(), p)).collect();
        *self.keys.write().expect("key map lock") = map;
    }
}

/// The running hub: every meeting in the store, each with its actor.
pub struct Hub {
    store: Store,
    server_key: Arc<SigningKey>,
    meetings: DashMap<MeetingId, MeetingHandle>,
    tasks: TaskTracker,
}

impl Hub {
    /// Loads every meeting from the store and starts its actor, restoring any
    /// open round with its acknowledged ballots. Actors stop when `shutdown` fires.
    pub async fn start(
        store: Store,
        server_key: SigningKey,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<Hub>> {
        let server_key = Arc::new(server_key);
        let hub = Hub {
            store: store.clone(),
            server_key: server_key.clone(),
            meetings: DashMap::new(),
            tasks: TaskTracker::new(),
        };
        for stored in store.meetings().await.context("loading meetings")? {
            let definition = MeetingDefinition::parse(&stored.definition)
                .with_context(|| format!("stored definition of meeting {}", stored.id))?;
            let definition = Arc::new(definition);
            let (commands, inbox) = mpsc::channel(actor::INBOX);
            let handle = MeetingHandle {
                definition: definition.clone(),
                commands,
                keys: Arc::default(),
            };
            handle.set_keys(store.keys(&stored.id).await?);
            let actor = actor::MeetingActor::restore(
                definition,
                stored.current_item,
                store.clone(),
                server_key.clone(),
                &hub.tasks,
            )
            .await
            .with_context(|| format!("restoring meeting {}", stored.id))?;
            hub.tasks.spawn(actor.run(inbox, shutdown.clone()));
            hub.meetings.insert(stored.id, handle);
        }
        hub.tasks.close();
        Ok(Arc::new(hub))
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

    /// Signs with the server's key (the login challenge is not signed, receipts are).
    pub fn server_signing_key(&self) -> &SigningKey {
        &self.server_key
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
        if let Some(handle) = self.meeting(&meeting) {
            let keys = self.store.keys(&meeting).await.map_err(|e| {
                tracing::error!(error = %e, "reloading keys failed");
                Refusal::from(RefusalReason::StoreUnavailable)
            })?;
            handle.set_keys(keys);
        }
        tracing::info!(meeting = %meeting, %principal, key = %key.to_hex(), "device enrolled");
        Ok((meeting, principal))
    }

    /// Waits until every meeting actor has stopped (after shutdown), so that
    /// their last commits are done.
    pub async fn stopped(&self) {
        self.tasks.wait().await;
    }
}
