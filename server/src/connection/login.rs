//! Logging a connection in: the server's challenge answered with a
//! signature (`auth`), a new device's key enrolled with a one-time code
//! (`enroll`), or a watcher that needs neither (`watch`). Failed attempts
//! count against the connection, which is closed after a few, and against
//! its address, which is refused for a while after many.

use super::{End, Incoming, Session, Source, receive, send};
use crate::hub::{Hub, Refusal, frame};
use crate::limits::AddressLimits;
use crate::signatures::Signatures;
use axum::extract::ws::WebSocket;
use gavel_protocol::signing::{auth_bytes, enroll_bytes};
use gavel_protocol::{
    ClientMsg, MeetingId, PROTOCOL_VERSION, Principal, PublicKey, RefusalReason, ServerMsg,
    Signature,
};
use std::net::SocketAddr;

/// Failed enrollment attempts before the connection is closed.
const MAX_ENROLL_FAILURES: u32 = 5;

pub(super) fn check_version(v: u32) -> Result<(), Refusal> {
    if v == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(Refusal::new(
            RefusalReason::UnsupportedVersion,
            format!("this server speaks protocol version {PROTOCOL_VERSION}, not {v}"),
        ))
    }
}

/// Runs the login conversation until the client is logged in or gives up.
/// Failed attempts count against the connection (it is closed after a few)
/// and against its address (which is refused for a while after many).
pub(super) async fn log_in(
    socket: &mut WebSocket,
    hub: &Hub,
    nonce: &[u8; 32],
    limits: &AddressLimits,
    peer: SocketAddr,
) -> Result<Session, End> {
    let mut failures = 0;
    loop {
        let msg = match receive(socket).await {
            Incoming::Close(end) => return Err(end),
            Incoming::Alive => continue,
            Incoming::Refuse(id, r) => {
                send(socket, frame(&r.to_msg(id)), limits.send_timeout())
                    .await
                    .map_err(|()| End::SendFailed)?;
                continue;
            }
            Incoming::Msg(msg) => *msg,
        };
        let id = msg.request_id();
        // A delegate or the chair is sent on to the node that hosts the
        // meeting; a viewer is served here (see `crate::hub::relay`).
        if let ClientMsg::Auth { meeting, .. } = &msg
            && hub.meeting(meeting).is_none()
            && hub.hosted_elsewhere(meeting)
        {
            return Err(End::Elsewhere);
        }
        let outcome = match msg {
            ClientMsg::Enroll { .. } | ClientMsg::Auth { .. } if limits.blocked(peer.ip()) => {
                Err(Refusal::new(
                    RefusalReason::RateLimited,
                    "too many failed attempts from this address; wait a minute",
                ))
            }
            ClientMsg::Enroll {
                v,
                code,
                public_key,
                signature,
            } => match enroll(hub, v, &code, &public_key, &signature).await {
                Ok((meeting, principal)) => {
                    send(
                        socket,
                        frame(&ServerMsg::Enrolled { meeting, principal }),
                        limits.send_timeout(),
                    )
                    .await
                    .map_err(|()| End::SendFailed)?;
                    continue;
                }
                Err(r) => Err(r),
            },
            ClientMsg::Auth {
                v,
                meeting,
                public_key,
                signature,
            } => match authenticate(hub, v, &meeting, &public_key, &signature, nonce) {
                // Enrolled through another node since this one read the keys.
                Err(r) if r.reason == RefusalReason::UnknownKey && hub.is_node() => {
                    match hub.reload_keys(&meeting).await {
                        Ok(()) => authenticate(hub, v, &meeting, &public_key, &signature, nonce),
                        Err(refusal) => Err(refusal),
                    }
                }
                authenticated => authenticated,
            },
            ClientMsg::Watch { v, meeting } => match check_version(v) {
                Err(refusal) => Err(refusal),
                Ok(()) => watch(hub, &meeting).await,
            },
            other => Err(Refusal::new(
                RefusalReason::NotAuthenticated,
                format!(
                    "log in with auth or watch before sending {}",
                    other.type_name()
                ),
            )),
        };
        match outcome {
            Ok(session) => return Ok(session),
            Err(refusal) => {
                if matches!(
                    refusal.reason,
                    RefusalReason::UnknownCode
                        | RefusalReason::CodeUsed
                        | RefusalReason::CodeExpired
                        | RefusalReason::BadSignature
                        | RefusalReason::UnknownKey
                ) {
                    failures += 1;
                    limits.record_failure(peer.ip());
                }
                tracing::info!(reason = ?refusal.reason, "login refused: {}", refusal.message);
                send(socket, frame(&refusal.to_msg(id)), limits.send_timeout())
                    .await
                    .map_err(|()| End::SendFailed)?;
                if failures >= MAX_ENROLL_FAILURES {
                    return Err(End::TooManyFailures);
                }
            }
        }
    }
}

/// A viewer's session: on the meeting's actor if this node hosts it, else
/// on this node's relay of it.
async fn watch(hub: &Hub, meeting: &MeetingId) -> Result<Session, Refusal> {
    let source = match hub.meeting(meeting) {
        Some(hosted) => Source::Hosted(hosted),
        None if hub.hosted_elsewhere(meeting) => match hub.relay(meeting).await {
            Ok(Some(relayed)) => Source::Relayed(relayed),
            Ok(None) => return Err(RefusalReason::UnknownMeeting.into()),
            Err(e) => {
                tracing::error!(%meeting, error = %e, "a viewer's relay could not be started");
                return Err(RefusalReason::StoreUnavailable.into());
            }
        },
        None => return Err(RefusalReason::UnknownMeeting.into()),
    };
    Ok(Session {
        source,
        principal: None,
        key: None,
    })
}

async fn enroll(
    hub: &Hub,
    v: u32,
    code: &str,
    key: &PublicKey,
    signature: &Signature,
) -> Result<(MeetingId, Principal), Refusal> {
    check_version(v)?;
    verify(
        hub.signatures(),
        *key,
        enroll_bytes(code, key),
        signature.clone(),
    )
    .await?;
    hub.enroll(code, key).await
}

fn authenticate(
    hub: &Hub,
    v: u32,
    meeting: &MeetingId,
    key: &PublicKey,
    signature: &Signature,
    nonce: &[u8; 32],
) -> Result<Session, Refusal> {
    check_version(v)?;
    let handle = hub
        .meeting(meeting)
        .ok_or(Refusal::from(RefusalReason::UnknownMeeting))?;
    let principal = handle.principal_of(key).ok_or_else(|| {
        Refusal::from(if handle.is_revoked(key) {
            RefusalReason::KeyRevoked
        } else {
            RefusalReason::UnknownKey
        })
    })?;
    // One signature per login: cheap enough to check inline.
    key.verify(&auth_bytes(meeting, nonce, key), signature)
        .map_err(|_| Refusal::from(RefusalReason::BadSignature))?;
    Ok(Session {
        source: Source::Hosted(handle),
        principal: Some(principal),
        key: Some(*key),
    })
}

/// Checks a signature on the signature pool, so that a burst of ballots does
/// not stall the async workers that move frames.
pub(super) async fn verify(
    signatures: &Signatures,
    key: PublicKey,
    bytes: Vec<u8>,
    signature: Signature,
) -> Result<(), Refusal> {
    signatures
        .run(move || key.verify(&bytes, &signature))
        .await
        .map_err(|_| Refusal::from(RefusalReason::ShuttingDown))?
        .map_err(|_| {
            Refusal::new(
                RefusalReason::BadSignature,
                "the signature does not match this device's key",
            )
        })
}
