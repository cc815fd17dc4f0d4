//! The secretariat's calls that a meeting's actor decides, whichever node
//! they land on (see docs/architecture.md, "The secretariat on every node").
//!
//! Behind one address the app's calls reach any node, while a meeting's
//! actor, its keys and its devices' presence live on the one node that
//! holds its lease. A [`Call`] is therefore run where the actor is
//! ([`at_owner`]): at once if this node hosts the meeting, else through the
//! store, as a row of `owner_calls` that the owner claims under its lease's
//! fencing number, runs as it would its own and answers in the row
//! ([`crate::store::Store::claim_owner_call`]). Nothing is ever decided on a
//! copy of the meeting: a call nobody claimed within [`ANSWER_WITHIN`] is
//! withdrawn and refused `owner_unreachable` (nothing was done), one claimed
//! and not answered within as long again `owner_no_answer` (it may have
//! been done). Calls that only read or write the store (results, downloads,
//! reading the form, the list of documents) are answered by the node they
//! reach.

use super::{Refusal, RoundLine, amend_refusal, devices_of};
use crate::hub::hand::HandCount;
use crate::hub::{Hub, MeetingHandle, RESTORE_RETRY};
use crate::store::{
    Amendment, CallOutcome, NewDocument, OWNER_ANSWER_CHANNEL, OWNER_CALL_CHANNEL, Store,
    StoreError,
};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gavel_protocol::messages::DocumentKind;
use gavel_protocol::{MeetingId, Principal, PublicKey, Sha};
use gavel_records::chain::Amender;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a call waits for the owner to claim and answer it, and then,
/// once claimed, for its answer: a live owner answers in milliseconds, and
/// a dead one's meeting moves to another node within a lease term.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// What the meeting's actor (or its node's memory of the meeting) decides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub(super) enum Call {
    /// Records an item's result by hand ([`crate::hub::hand`]): the
    /// figures as the node the call reached read them, passed on unchanged.
    /// Boxed: the figures and a key with its checked point are large beside
    /// the others.
    ByHand(Box<HandCount>),
    /// Revokes a seat's device key; refused on the owner at once.
    Revoke { seat: u32 },
    /// The devices of the meeting, as the node its devices connect to sees them.
    Devices,
    /// Amends the meeting's definition, from the app's form or with an
    /// uploaded document ([`Hub::amend`]).
    Amend(Box<AmendCall>),
}

/// An amendment as the secretariat made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AmendCall {
    /// SHA-256 of the stored text it was made to.
    pub previous: Sha,
    /// The new text, checked as the meeting file is.
    pub text: String,
    pub device: PublicKey,
    /// The document uploaded with it; none for an edit of the form.
    pub document: Option<Upload>,
}

/// An uploaded document, named by its hash: for another node, its bytes
/// are stored ahead of the call ([`Call::send_ahead`]) rather than carried
/// in it, and read back there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Upload {
    pub item: u32,
    pub slot: u32,
    pub title: String,
    pub kind: DocumentKind,
    pub public: bool,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// The bytes, on the node the upload reached.
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
}

impl Upload {
    /// The document to store, its bytes read back where the call was sent on.
    async fn document(self, store: &Store) -> Result<NewDocument, Refusal> {
        let content = match self.content {
            Some(content) => content,
            None => store
                .document_content(&self.sha256)
                .await?
                .ok_or(Refusal::StoreUnavailable)?,
        };
        Ok(NewDocument {
            item: self.item,
            slot: self.slot,
            title: self.title,
            kind: self.kind,
            public: self.public,
            sha256: self.sha256,
            content,
        })
    }
}

impl Call {
    /// Stores what another node needs to run the call and the call does not
    /// carry: an uploaded document's bytes. Kept by their hash, as every
    /// document's are; bytes whose amendment is then refused stay unnamed.
    async fn send_ahead(&self, store: &Store) -> Result<(), StoreError> {
        if let Call::Amend(amend) = self
            && let Some(Upload {
                sha256,
                content: Some(content),
                ..
            }) = &amend.document
        {
            store.store_document_content(sha256, content).await?;
        }
        Ok(())
    }
}

/// A call's answer, as the app is sent it: an HTTP status and a JSON body
/// (a refusal's reason and message when it is not 200).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Answer {
    status: u16,
    body: serde_json::Value,
}

impl Answer {
    fn of(result: Result<serde_json::Value, Refusal>) -> Answer {
        match result {
            Ok(body) => Answer { status: 200, body },
            Err(refusal) => Answer {
                status: refusal.status().as_u16(),
                body: serde_json::to_value(refusal.body()).expect("a refusal serializes"),
            },
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.status == 200
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        (status, Json(self.body)).into_response()
    }
}

/// Runs `call` for `meeting` where its actor is: here if this node hosts
/// it, else on the node that does (see the module's notes).
pub(super) async fn at_owner(
    hub: &Hub,
    meeting: &MeetingId,
    call: Call,
) -> Result<Answer, Refusal> {
    if let Some(handle) = hub.meeting(meeting) {
        return Ok(Answer::of(run(hub, &handle, call).await));
    }
    if !hub.is_node() {
        return Err(Refusal::UnknownMeeting(meeting.to_string()));
    }
    ask(hub, meeting, &call).await
}

/// The call as the meeting's own node runs it.
async fn run(hub: &Hub, handle: &MeetingHandle, call: Call) -> Result<serde_json::Value, Refusal> {
    match call {
        Call::ByHand(hand) => {
            let round = handle
                .record_by_hand(*hand)
                .await
                .map_err(Refusal::HandCount)?;
            Ok(value(&RoundLine::of(round)))
        }
        Call::Revoke { seat } => {
            hub.revoke(&handle.definition.id, Principal::Seat(seat))
                .await
                .map_err(|e| match e {
                    StoreError::NotEnrolled(_) => Refusal::NoDevice(seat),
                    other => other.into(),
                })?;
            Ok(serde_json::Value::Null)
        }
        Call::Devices => Ok(value(&devices_of(handle))),
        Call::Amend(amend) => {
            let AmendCall {
                previous,
                text,
                device,
                document,
            } = *amend;
            let from_form = document.is_none();
            let document = match document {
                Some(upload) => Some(upload.document(hub.store()).await?),
                None => None,
            };
            let amendment = Amendment {
                previous,
                text,
                by: Amender::Secretariat { device },
                document,
            };
            hub.amend(&handle.definition.id, amendment)
                .await
                .map_err(|e| amend_refusal(e, from_form.then_some(&*handle.definition)))?;
            Ok(serde_json::Value::Null)
        }
    }
}

/// An answer's body.
fn value(answer: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(answer).expect("an answer serializes")
}

/// Asks the node that hosts `meeting` to run `call`, through the store.
async fn ask(hub: &Hub, meeting: &MeetingId, call: &Call) -> Result<Answer, Refusal> {
    let store = hub.store();
    let Some(mut answers) = store.listener(OWNER_ANSWER_CHANNEL).await? else {
        return Err(Refusal::UnknownMeeting(meeting.to_string()));
    };
    let id = hex::encode(rand::random::<[u8; 16]>());
    let text = serde_json::to_string(call).expect("a call serializes");
    call.send_ahead(store).await?;
    store.put_owner_call(&id, meeting, &text).await?;
    let mut give_up = false;
    loop {
        // Whether or not the answer was announced, the row says what became
        // of the call: a notification missed costs only the wait.
        let _ = tokio::time::timeout(ANSWER_WITHIN, announced(&mut answers, &id)).await;
        match store.finish_owner_call(&id, give_up).await? {
            CallOutcome::Answered(answer) => {
                return serde_json::from_str(&answer).map_err(|e| {
                    tracing::error!(%meeting, error = %e, "the owner's answer does not parse");
                    Refusal::StoreUnavailable
                });
            }
            CallOutcome::Unclaimed => {
                tracing::warn!(%meeting, "no node claimed the secretariat's call; withdrawn");
                return Err(Refusal::OwnerUnreachable(meeting.to_string()));
            }
            CallOutcome::Running if give_up => {
                tracing::warn!(%meeting, "the owner claimed the secretariat's call and did not answer");
                return Err(Refusal::OwnerNoAnswer(meeting.to_string()));
            }
            CallOutcome::Running => give_up = true,
        }
    }
}

/// Waits until the answer to call `id` is announced; forever if the
/// listening connection fails (the caller's timeout ends the wait).
async fn announced(answers: &mut PgListener, id: &str) {
    loop {
        match answers.try_recv().await {
            Ok(Some(notification)) if notification.payload() == id => return,
            Ok(_) => {}
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

/// Answers the calls made through other nodes to the meetings this node
/// hosts, until `shutdown`; on SQLite, where one process hosts every
/// meeting, nothing. Listens on one connection of its own, connected again
/// when it drops: a call announced meanwhile is not claimed, and its
/// caller withdraws it and says so.
pub async fn answer_calls(hub: Arc<Hub>, shutdown: CancellationToken) {
    if !hub.is_node() {
        return;
    }
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = hub.store().listener(OWNER_CALL_CHANNEL) => connected,
        };
        let mut listener = match connected {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for the secretariat's calls; trying again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RESTORE_RETRY) => continue,
                }
            }
        };
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    let Some((meeting, id)) = notification.payload().split_once(' ') else {
                        continue;
                    };
                    let hosted = MeetingId::parse(meeting)
                        .ok()
                        .and_then(|meeting| hub.meeting(&meeting));
                    if let Some(handle) = hosted {
                        tokio::spawn(answer(hub.clone(), handle, id.to_owned()));
                    }
                }
                Ok(None) => {
                    tracing::warn!(
                        "the connection for the secretariat's calls dropped; calls made meanwhile are withdrawn by their callers"
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the connection for the secretariat's calls failed; connecting again");
                    break;
                }
            }
        }
    }
}

/// Claims the call `id`, runs it and answers it, if this node still holds
/// the meeting's lease; another node's call is left alone.
async fn answer(hub: Arc<Hub>, handle: MeetingHandle, id: String) {
    let meeting = handle.definition.id.clone();
    let call = match handle.claim_owner_call(&id).await {
        Ok(Some(call)) => call,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(%meeting, error = %e, "a secretariat's call could not be claimed");
            return;
        }
    };
    let answer = match serde_json::from_str::<Call>(&call) {
        Ok(call) => Answer::of(run(&hub, &handle, call).await),
        Err(e) => {
            tracing::error!(%meeting, error = %e, "a secretariat's call this node does not know");
            Answer::of(Err(Refusal::StoreUnavailable))
        }
    };
    let text = serde_json::to_string(&answer).expect("an answer serializes");
    if let Err(e) = hub.store().answer_owner_call(&id, &text).await {
        tracing::warn!(%meeting, error = %e, "a secretariat's call could not be answered");
    }
}
