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
//! the form, documents) are answered by the node they reach.

use super::{Refusal, RoundLine, devices_of};
use crate::hub::hand::HandCount;
use crate::hub::{Hub, MeetingHandle, RESTORE_RETRY};
use crate::store::{CallOutcome, OWNER_ANSWER_CHANNEL, OWNER_CALL_CHANNEL, StoreError};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gavel_protocol::{MeetingId, Principal, PublicKey};
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
    /// Records an item's result by hand ([`crate::hub::hand`]).
    ByHand {
        item: u32,
        present: u32,
        yes: u32,
        no: u32,
        abstain: u32,
        by: String,
        /// Boxed: a key with its checked point is large beside the others.
        device: Box<PublicKey>,
    },
    /// Revokes a seat's device key; refused on the owner at once.
    Revoke { seat: u32 },
    /// The devices of the meeting, as the node its devices connect to sees them.
    Devices,
    /// A document version was stored: the meeting's node serves its new
    /// view at once ([`Hub::documents_changed`]).
    DocumentsChanged,
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
        Call::ByHand {
            item,
            present,
            yes,
            no,
            abstain,
            by,
            device,
        } => {
            let hand = HandCount {
                item,
                present,
                yes,
                no,
                abstain,
                by,
                device: *device,
            };
            let round = handle
                .record_by_hand(hand)
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
        Call::DocumentsChanged => {
            hub.documents_changed(&handle.definition.id).await?;
            Ok(serde_json::Value::Null)
        }
    }
}

/// Gives `meeting` its new view after a document was stored through this
/// node: here (the meeting's view, or this node's copy of it), and on the
/// meeting's node at once if another hosts it. The document is stored
/// either way, so an owner that does not answer is only logged: its watch
/// finds the new version within seconds ([`Hub::watch_documents`]).
pub(super) async fn documents_changed(hub: &Hub, meeting: &MeetingId) -> Result<(), Refusal> {
    hub.documents_changed(meeting).await?;
    if hub.meeting(meeting).is_some() || !hub.is_node() {
        return Ok(());
    }
    match ask(hub, meeting, &Call::DocumentsChanged).await {
        Ok(answer) if answer.is_done() => {}
        Ok(answer) => {
            tracing::warn!(%meeting, ?answer, "the meeting's node did not take its new documents; its watch will");
        }
        Err(refusal) => {
            tracing::warn!(%meeting, %refusal, "the meeting's node was not told of its new documents; its watch will");
        }
    }
    Ok(())
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
