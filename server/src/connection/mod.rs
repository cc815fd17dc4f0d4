//! A WebSocket connection, from its challenge to its close.
//!
//! A connection first answers the server's challenge (enrolling a new key if
//! it brings a one-time code), then lives in one task that writes the
//! meeting's broadcasts as they come and, only when the client's side has
//! woken it ([`Gate`]), reads requests, works out their answers, pings and
//! watches for shutdown.
//! Logging in is in [`login`], the gate in [`gate`].
//! Signatures are checked here, on the [`Signatures`] pool rather than the
//! async workers, before anything reaches the meeting's actor.

mod gate;
mod login;

use gate::Gate;
use login::{log_in, verify};

use crate::clock::now_ms;
use crate::hub::VerifiedBallot;
use crate::hub::floor::Act;
use crate::hub::relay::Relayed;
use crate::hub::{Audience, Broadcast, Command, Frame, Hub, Joined, MeetingHandle, Refusal, frame};
use crate::limits::{AddressLimits, SILENT_PINGS};
use crate::metrics::{self, Role};
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use gavel_protocol::messages::{AnyReceipt, ChairCommand};
use gavel_protocol::paper::{Paper, Vote};
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{
    ClientMsg, MAX_CLIENT_FRAME_BYTES, MeetingId, PROTOCOL_VERSION, Principal, PublicKey,
    RefusalReason, RoundId, ServerMsg, Sha, Signature,
};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::time::{Interval, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// How long a closing connection waits for the client's answering close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Requests one connection may have in flight at once.
const MAX_IN_FLIGHT: usize = 16;
/// How long a new connection may take to log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a connection ended; logged, never sent.
#[derive(Debug)]
enum End {
    ClientLeft,
    Shutdown,
    SendFailed,
    TooLarge,
    LoginTimeout,
    TooManyFailures,
    MeetingStopped,
    /// Another node took the meeting over: the client is to connect again.
    Moved,
    /// Another node hosts the meeting (or will in a moment).
    Elsewhere,
    /// Nothing heard, not even a pong, for several ping intervals.
    Silent,
    /// The secretariat revoked the session's key (a lost device).
    KeyRevoked,
    /// The meeting has a new view (the secretariat uploaded a document):
    /// the client is to connect again, for a `welcome` that names it.
    ViewChanged,
}

/// Where a session's meeting is served from.
#[derive(Clone)]
enum Source {
    /// This node hosts the meeting: its actor.
    Hosted(MeetingHandle),
    /// Another node hosts it: a viewer (never a delegate or the chair) is
    /// served here from what that node publishes ([`crate::hub::relay`]).
    Relayed(Arc<Relayed>),
}

impl Source {
    /// Resolves once the meeting has a newer view than the session's (its
    /// documents changed). A relayed audience is not told: it keeps the
    /// view it was given until it reconnects.
    async fn view_changed(&self) {
        match self {
            Source::Hosted(meeting) => meeting.view_changed().await,
            Source::Relayed(_) => std::future::pending().await,
        }
    }
}

/// Who is logged in on this connection.
#[derive(Clone)]
struct Session {
    source: Source,
    principal: Option<Principal>,
    key: Option<PublicKey>,
}

impl Session {
    /// The meeting's actor, if this node hosts it.
    fn hosted(&self) -> Option<&MeetingHandle> {
        match &self.source {
            Source::Hosted(meeting) => Some(meeting),
            Source::Relayed(_) => None,
        }
    }

    /// What the session is sent first, and the channel of what follows.
    async fn join(&self) -> Option<Joined> {
        let meeting = match &self.source {
            Source::Hosted(meeting) => meeting,
            Source::Relayed(relayed) => return relayed.join().await,
        };
        let (reply, joined) = oneshot::channel();
        let join = Command::Join {
            audience: self.audience(),
            principal: self.principal,
            reply,
        };
        meeting.send(join).await.ok()?;
        joined.await.ok()
    }

    /// The meeting's snapshot and floor (and from a relay, a newer running
    /// tally), for a listener that fell behind or asked to sync.
    async fn fresh(&self) -> Option<Vec<Frame>> {
        let meeting = match &self.source {
            Source::Hosted(meeting) => meeting,
            Source::Relayed(relayed) => return relayed.fresh(),
        };
        let audience = self.audience();
        let state = ask(meeting, |reply| Command::Snapshot { audience, reply })
            .await
            .ok()?;
        Some(state.into())
    }

    fn view_hash(&self) -> &str {
        match &self.source {
            Source::Hosted(meeting) => &meeting.view.hash,
            Source::Relayed(relayed) => &relayed.view.hash,
        }
    }

    /// Changes at each revocation of a key of the meeting.
    fn revocations(&self) -> watch::Receiver<()> {
        match &self.source {
            Source::Hosted(meeting) => meeting.revocations(),
            Source::Relayed(relayed) => relayed.revocations(),
        }
    }

    fn audience(&self) -> Audience {
        match self.principal {
            Some(Principal::Chair) => Audience::Chair,
            Some(Principal::Seat(_)) => Audience::Delegates,
            None => Audience::Public,
        }
    }

    fn role(&self) -> Role {
        match self.principal {
            Some(Principal::Seat(_)) => Role::Delegate,
            Some(Principal::Chair) => Role::Chair,
            None => Role::Watcher,
        }
    }

    fn meeting_id(&self) -> &MeetingId {
        match &self.source {
            Source::Hosted(meeting) => &meeting.definition.id,
            Source::Relayed(relayed) => &relayed.meeting,
        }
    }
}

/// What a frame from the client turned out to be.
enum Incoming {
    Msg(Box<ClientMsg>),
    /// A frame that is not a valid message, with its `id` if one could be read.
    Refuse(Option<u64>, Refusal),
    /// A ping or a pong: the client is there, and there is nothing to answer
    /// (the WebSocket layer answers pings itself).
    Alive,
    Close(End),
}

/// The `id` of a frame that failed to parse as a message, so that the
/// refusal still reaches the request that is waiting for it.
fn readable_id(text: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_u64()
}

pub async fn serve(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    peer: SocketAddr,
    limits: Arc<AddressLimits>,
    shutdown: CancellationToken,
) {
    let send_timeout = limits.send_timeout();
    let nonce: [u8; 32] = rand::random();
    let challenge = ServerMsg::Challenge {
        v: PROTOCOL_VERSION,
        nonce: hex::encode(nonce),
        server_key: hub.server_key(),
        server_time: now_ms(),
    };
    if send(&mut socket, frame(&challenge), send_timeout)
        .await
        .is_err()
    {
        return;
    }
    let login = tokio::select! {
        login = tokio::time::timeout(LOGIN_TIMEOUT, log_in(&mut socket, &hub, &nonce, &limits, peer)) => {
            login.unwrap_or(Err(End::LoginTimeout))
        }
        () = shutdown.cancelled() => Err(End::Shutdown),
    };
    let (mut socket, end) = match login {
        Ok(session) => {
            tracing::info!(%peer, meeting = %session.meeting_id(), principal = ?session.principal, "connection logged in");
            let _counted = metrics::Connected::new(session.role());
            live(socket, session, &shutdown, &limits).await
        }
        Err(end) => (socket, end),
    };
    tracing::debug!(%peer, ?end, "connection ended");
    let close = match end {
        End::TooLarge => Some((close_code::SIZE, "frame too large")),
        End::Shutdown => Some((close_code::AWAY, "server shutting down")),
        End::TooManyFailures => Some((close_code::POLICY, "too many failed attempts")),
        End::LoginTimeout => Some((close_code::POLICY, "log in sooner")),
        End::MeetingStopped => Some((close_code::AWAY, "meeting stopped")),
        End::Moved => Some((
            close_code::RESTART,
            "the meeting moved to another server: connect again",
        )),
        End::Elsewhere => Some((
            close_code::AGAIN,
            "another server hosts the meeting: connect again",
        )),
        End::Silent => Some((close_code::AWAY, "no answer to pings")),
        End::KeyRevoked => Some((close_code::POLICY, "key revoked")),
        End::ViewChanged => Some((close_code::RESTART, "the meeting changed: connect again")),
        End::ClientLeft | End::SendFailed => None,
    };
    if let Some((code, reason)) = close {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        if send_msg(&mut socket, frame, send_timeout).await.is_ok() {
            // Finish the closing handshake (briefly), so that the client reads
            // the close frame before the socket goes away.
            let _ = tokio::time::timeout(CLOSE_GRACE, async {
                while let Some(Ok(_)) = socket.recv().await {}
            })
            .await;
        }
    }
}

/// Why the session's meeting stopped under it.
fn stopped(session: &Session) -> End {
    match &session.source {
        Source::Hosted(meeting) if meeting.moved() => End::Moved,
        Source::Hosted(_) => End::MeetingStopped,
        // Nothing published yet: the meeting is being taken over.
        Source::Relayed(_) => End::Elsewhere,
    }
}

/// Reads one client frame and decodes it.
async fn receive(socket: &mut WebSocket) -> Incoming {
    match socket.next().await {
        None | Some(Ok(Message::Close(_))) => Incoming::Close(End::ClientLeft),
        Some(Err(e)) => Incoming::Close(if is_too_large(e) {
            End::TooLarge
        } else {
            End::ClientLeft
        }),
        // Read whole and then refused, so that the client gets its 1009
        // close frame: a frame cut short by the WebSocket layer's own cap
        // leaves input unread, and the kernel then resets the connection.
        Some(Ok(Message::Text(text))) if text.len() > MAX_CLIENT_FRAME_BYTES => {
            Incoming::Close(End::TooLarge)
        }
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMsg>(&text) {
            Ok(msg) => Incoming::Msg(Box::new(msg)),
            Err(e) => Incoming::Refuse(
                readable_id(&text),
                Refusal::new(RefusalReason::MalformedFrame, e.to_string()),
            ),
        },
        Some(Ok(Message::Binary(_))) => Incoming::Refuse(
            None,
            Refusal::new(
                RefusalReason::MalformedFrame,
                "binary frames are not part of the protocol; send JSON text frames",
            ),
        ),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Alive,
    }
}

fn is_too_large(e: axum::Error) -> bool {
    e.into_inner()
        .downcast_ref::<tokio_tungstenite::tungstenite::Error>()
        .is_some_and(|e| matches!(e, tokio_tungstenite::tungstenite::Error::Capacity(_)))
}

/// The frames that answer one request, serialized where they were made.
type Answer = BoxFuture<'static, Vec<Frame>>;

/// What the client's side of a connection has for the socket.
enum Outgoing {
    /// Answers to requests, or a refusal of a frame, to send in this order.
    Frames(Vec<Frame>),
    /// A ping, to hear from a client that has nothing to say.
    Ping,
    /// The client is gone, broke the rules, or the server shuts down; the
    /// connection ends.
    Ended(End),
}

/// What woke a logged-in connection.
enum Event {
    Update(Result<Broadcast, broadcast::error::RecvError>),
    Client(Outgoing),
    /// A key of the meeting was revoked, perhaps this session's; the
    /// receiver, to wait for the next.
    Revoked(watch::Receiver<()>),
    /// The meeting was given a new view.
    ViewChanged,
}

/// Resolves at the meeting's next revocation (never, once the meeting is
/// gone), with the receiver to wait on again.
async fn next_revocation(mut revocations: watch::Receiver<()>) -> watch::Receiver<()> {
    if revocations.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
    revocations
}

/// The logged-in life of a connection, in one task that owns the whole
/// socket: the meeting's broadcasts, and the client's side (its frames, the
/// answers to its requests, pings, silence and shutdown; [`Requests`]).
/// Every broadcast wakes all of a meeting's connections, so that wake-up
/// must cost no more than writing the frame: the client's side sits behind
/// a [`Gate`] and is only looked at when one of its own sources woke the
/// task. Polled on every wake-up instead, it read the socket each time (a
/// zero-filled read buffer and a round of waker registrations per tablet
/// and update); split into a reader task that handed its answers over a
/// channel, each frame paid for the split socket's lock and for looking at
/// that channel (see docs/bench/findings.md).
/// Returns the socket for the closing handshake.
async fn live(
    mut socket: WebSocket,
    session: Session,
    shutdown: &CancellationToken,
    limits: &AddressLimits,
) -> (WebSocket, End) {
    let send_timeout = limits.send_timeout();
    let Some(Joined {
        snapshot,
        floor,
        tally,
        you,
        mut updates,
        delivery,
        ..
    }) = session.join().await
    else {
        return (socket, stopped(&session));
    };
    let welcome = ServerMsg::Welcome {
        meeting: session.meeting_id().clone(),
        principal: session.principal,
        view_hash: session.view_hash().to_owned(),
    };
    // A delegate's own state comes before the snapshot, so that a client
    // holding its first snapshot also knows its own check-in and ballot.
    let mut first = vec![frame(&welcome)];
    // Sent again at each ping, so that the last one lasts its grace after
    // the session ends (see `crate::tokens`).
    let access = session.principal.and(session.hosted()).map(|meeting| {
        meeting.document_access(limits.document_access_grace(), limits.ping_interval())
    });
    let access_frame = |access: &crate::tokens::DocumentAccess| {
        frame(&ServerMsg::DocumentAccess {
            token: access.token(),
        })
    };
    first.extend(access.as_ref().map(access_frame));
    first.extend(you.iter().map(frame));
    first.push(snapshot);
    first.push(floor);
    first.extend(tally);
    for f in first {
        if send(&mut socket, f, send_timeout).await.is_err() {
            return (socket, End::SendFailed);
        }
    }
    // A device's presence, for the secretariat's list, while it is here.
    let _online = session
        .principal
        .zip(session.hosted())
        .map(|(p, meeting)| meeting.online(p));
    let mut requests = Requests::new(session.clone(), shutdown.clone(), limits.ping_interval());
    let gate = Gate::new();
    // Behind the gate with the client's side: a revocation is rare, and a
    // broadcast's wake-up must not pay for looking at it.
    let mut revocations = std::pin::pin!(next_revocation(session.revocations()));
    // As rare, and behind the gate for the same reason.
    let view_source = session.source.clone();
    let mut view_changed = std::pin::pin!(view_source.view_changed());
    loop {
        let event = {
            let mut update = std::pin::pin!(updates.recv());
            // Broadcasts first, so that the `done` for a chair command
            // follows the snapshot that shows its effect (the actor
            // broadcasts it before it answers).
            std::future::poll_fn(|cx| {
                if let Poll::Ready(update) = update.as_mut().poll(cx) {
                    return Poll::Ready(Event::Update(update));
                }
                gate.poll(cx, |cx| {
                    if let Poll::Ready(revocations) = revocations.as_mut().poll(cx) {
                        return Poll::Ready(Event::Revoked(revocations));
                    }
                    // Answers before the new view: the `done` of the
                    // chair's command that changed it is written before
                    // the connection closes.
                    if let Poll::Ready(outgoing) = requests.poll_next(&mut socket, cx) {
                        return Poll::Ready(Event::Client(outgoing));
                    }
                    if view_changed.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Event::ViewChanged);
                    }
                    Poll::Pending
                })
            })
            .await
        };
        let sent = match event {
            Event::Update(update) => {
                let (frames, sent_at, tally) = match update {
                    // A tablet that is behind shows the newest tally sooner
                    // by skipping the stale ones; nothing else is skipped.
                    // Asked of the delivery count, which the actor advances
                    // for every tally and snapshot (an atomic load), not of
                    // the channel, whose length takes the lock the actor
                    // holds while it wakes the hall.
                    Ok(broadcast)
                        if broadcast
                            .tally()
                            .is_some_and(|version| delivery.superseded(version)) =>
                    {
                        continue;
                    }
                    Ok(broadcast) => {
                        let tally = broadcast.tally();
                        (vec![broadcast.frame], Some(broadcast.sent_at), tally)
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(meeting = %session.meeting_id(), missed, "listener fell behind; sending a fresh snapshot");
                        match session.fresh().await {
                            Some(frames) => (frames, None, None),
                            None => return (socket, stopped(&session)),
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return (socket, stopped(&session));
                    }
                };
                let mut sent = Ok(());
                for f in frames {
                    sent = send(&mut socket, f, send_timeout).await;
                    if sent.is_err() {
                        break;
                    }
                }
                if sent.is_ok() {
                    if let Some(sent_at) = sent_at {
                        metrics::broadcast_written(sent_at);
                    }
                    if let Some(version) = tally {
                        delivery.handled(version);
                    }
                }
                sent
            }
            Event::Client(Outgoing::Frames(frames)) => {
                let mut sent = Ok(());
                for f in frames {
                    sent = send(&mut socket, f, send_timeout).await;
                    if sent.is_err() {
                        break;
                    }
                }
                sent
            }
            Event::Client(Outgoing::Ping) => {
                let renewed = match &access {
                    Some(access) => send(&mut socket, access_frame(access), send_timeout).await,
                    None => Ok(()),
                };
                match renewed {
                    Ok(()) => {
                        send_msg(&mut socket, Message::Ping(Default::default()), send_timeout).await
                    }
                    failed => failed,
                }
            }
            Event::Client(Outgoing::Ended(end)) => return (socket, end),
            Event::Revoked(next) => {
                if session
                    .key
                    .zip(session.hosted())
                    .is_some_and(|(k, meeting)| meeting.is_revoked(&k))
                {
                    // Told before the close frame, so that the device shows why.
                    let refusal = Refusal::from(RefusalReason::KeyRevoked);
                    let _ = send(&mut socket, frame(&refusal.to_msg(None)), send_timeout).await;
                    return (socket, End::KeyRevoked);
                }
                revocations.set(next_revocation(next));
                Ok(())
            }
            Event::ViewChanged => return (socket, End::ViewChanged),
        };
        if sent.is_err() {
            return (socket, End::SendFailed);
        }
    }
}

/// The client's side of a logged-in connection: reads its frames, starts
/// the answer to each request, and says what to write (answers, refusals,
/// a ping every `every`) or that the connection ends: the server shuts down
/// (`shutdown`), the client left, broke the rules, or fell silent (nothing
/// heard, not even a pong, for [`SILENT_PINGS`] pings).
struct Requests {
    session: Session,
    answers: FuturesUnordered<Answer>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    silence: Pin<Box<Sleep>>,
    silent_after: Duration,
    pings: Interval,
}

impl Requests {
    fn new(session: Session, shutdown: CancellationToken, every: Duration) -> Requests {
        let silent_after = every * SILENT_PINGS;
        let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Requests {
            session,
            answers: FuturesUnordered::new(),
            shutdown: Box::pin(shutdown.cancelled_owned()),
            silence: Box::pin(tokio::time::sleep(silent_after)),
            silent_after,
            pings,
        }
    }

    /// In this order: shutdown, answers, the client's frames (read before
    /// its silence is judged), silence, pings.
    fn poll_next(&mut self, socket: &mut WebSocket, cx: &mut Context<'_>) -> Poll<Outgoing> {
        if self.shutdown.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Outgoing::Ended(End::Shutdown));
        }
        loop {
            if let Poll::Ready(Some(frames)) = self.answers.poll_next_unpin(cx) {
                return Poll::Ready(Outgoing::Frames(frames));
            }
            let Poll::Ready(incoming) = std::pin::pin!(receive(socket)).poll(cx) else {
                break;
            };
            self.silence
                .as_mut()
                .reset(tokio::time::Instant::now() + self.silent_after);
            match incoming {
                Incoming::Close(end) => return Poll::Ready(Outgoing::Ended(end)),
                Incoming::Alive => {}
                Incoming::Refuse(id, r) => {
                    return Poll::Ready(Outgoing::Frames(vec![frame(&r.to_msg(id))]));
                }
                Incoming::Msg(msg) if self.answers.len() >= MAX_IN_FLIGHT => {
                    if matches!(*msg, ClientMsg::Cast { .. }) {
                        metrics::ballot_refused(RefusalReason::RateLimited);
                    }
                    let refusal = Refusal::new(
                        RefusalReason::RateLimited,
                        "too many requests in flight; wait for the answers",
                    );
                    return Poll::Ready(Outgoing::Frames(vec![frame(
                        &refusal.to_msg(msg.request_id()),
                    )]));
                }
                // Polled at once, on the next turn of the loop.
                Incoming::Msg(msg) => self.answers.push(answer(&self.session, *msg)),
            }
        }
        if self.silence.as_mut().poll(cx).is_ready() {
            tracing::info!(meeting = %self.session.meeting_id(), principal = ?self.session.principal, "no answer to pings; letting the connection go");
            return Poll::Ready(Outgoing::Ended(End::Silent));
        }
        self.pings.poll_tick(cx).map(|_| Outgoing::Ping)
    }
}

/// Asks the meeting's actor and waits for its answer.
async fn ask<T>(
    meeting: &MeetingHandle,
    command: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, Refusal> {
    let (reply, rx) = oneshot::channel();
    meeting.send(command(reply)).await?;
    rx.await
        .map_err(|_| Refusal::from(RefusalReason::ShuttingDown))
}

/// Builds the future that answers one request of a viewer served by a
/// relay: a sync, or a refusal (nothing else is a viewer's to ask).
fn answer_relayed(session: &Session, msg: ClientMsg) -> Answer {
    let session = session.clone();
    Box::pin(async move {
        let id = msg.request_id();
        let refusal = match msg {
            ClientMsg::Sync { id } => match session.fresh().await {
                Some(mut frames) => {
                    frames.push(frame(&ServerMsg::Done { id }));
                    return frames;
                }
                None => RefusalReason::ShuttingDown,
            },
            ClientMsg::Enroll { .. } | ClientMsg::Auth { .. } | ClientMsg::Watch { .. } => {
                RefusalReason::AlreadyAuthenticated
            }
            ClientMsg::Chair { .. } | ClientMsg::Export { .. } => RefusalReason::NotChair,
            ClientMsg::CheckIn { .. }
            | ClientMsg::Cast { .. }
            | ClientMsg::CastPaper { .. }
            | ClientMsg::ConfirmCount { .. }
            | ClientMsg::FloorRequest { .. }
            | ClientMsg::FloorWithdraw { .. } => RefusalReason::NotADelegate,
        };
        vec![frame(&Refusal::from(refusal).to_msg(id))]
    })
}

/// Builds the future that answers one request.
fn answer(session: &Session, msg: ClientMsg) -> Answer {
    let meeting = match &session.source {
        Source::Hosted(meeting) => meeting.clone(),
        Source::Relayed(_) => return answer_relayed(session, msg),
    };
    let principal = session.principal;
    let key = session.key;
    let audience = session.audience();
    Box::pin(async move {
        let id = msg.request_id();
        let is_cast = matches!(msg, ClientMsg::Cast { .. } | ClientMsg::CastPaper { .. });
        let result: Result<Vec<Frame>, Refusal> = async {
            match msg {
                ClientMsg::Enroll { .. } | ClientMsg::Auth { .. } | ClientMsg::Watch { .. } => {
                    Err(RefusalReason::AlreadyAuthenticated.into())
                }
                ClientMsg::Sync { id } => {
                    let state =
                        ask(&meeting, |reply| Command::Snapshot { audience, reply }).await?;
                    // The actor's frames go out as they are, not parsed and made again.
                    let mut out = Vec::from(state);
                    if let Some(Principal::Seat(seat)) = principal {
                        out.push(frame(
                            &ask(&meeting, |reply| Command::You { seat, reply }).await?,
                        ));
                    }
                    out.push(frame(&ServerMsg::Done { id }));
                    Ok(out)
                }
                ClientMsg::CheckIn { id } => {
                    let Some(Principal::Seat(seat)) = principal else {
                        return Err(RefusalReason::NotADelegate.into());
                    };
                    let you = ask(&meeting, |reply| Command::CheckIn { seat, reply }).await??;
                    Ok(vec![frame(&you), frame(&ServerMsg::Done { id })])
                }
                ClientMsg::Cast {
                    id,
                    round,
                    documents,
                    choice,
                    seq,
                    signature,
                } => {
                    let ballot = Cast {
                        round,
                        documents,
                        vote: Vote::Choice(choice),
                        seq,
                        signature,
                    };
                    Ok(vec![frame(
                        &cast(&meeting, principal, key, ballot).await?.ack(id),
                    )])
                }
                ClientMsg::CastPaper {
                    id,
                    round,
                    documents,
                    kind,
                    marks,
                    seq,
                    signature,
                } => {
                    let ballot = Cast {
                        round,
                        documents,
                        vote: Vote::Paper(Paper { kind, marks }),
                        seq,
                        signature,
                    };
                    Ok(vec![frame(
                        &cast(&meeting, principal, key, ballot).await?.ack(id),
                    )])
                }
                ClientMsg::ConfirmCount {
                    id,
                    round,
                    count,
                    signature,
                } => {
                    let (Some(Principal::Seat(seat)), Some(key)) = (principal, key) else {
                        return Err(RefusalReason::NotADelegate.into());
                    };
                    ask(&meeting, |reply| Command::ConfirmCount {
                        seat,
                        key,
                        round,
                        count,
                        signature,
                        reply,
                    })
                    .await??;
                    Ok(vec![frame(&ServerMsg::Done { id })])
                }
                ClientMsg::Chair { id, command } => {
                    if principal != Some(Principal::Chair) {
                        return Err(RefusalReason::NotChair.into());
                    }
                    chair(&meeting, command).await?;
                    Ok(vec![frame(&ServerMsg::Done { id })])
                }
                ClientMsg::FloorRequest {
                    id,
                    item,
                    kind,
                    respondent,
                    topic,
                } => {
                    let Some(Principal::Seat(seat)) = principal else {
                        return Err(RefusalReason::NotADelegate.into());
                    };
                    let act = Act::Request {
                        seat,
                        item,
                        kind,
                        respondent,
                        topic,
                    };
                    ask(&meeting, |reply| Command::Floor { seat, act, reply }).await??;
                    Ok(vec![frame(&ServerMsg::Done { id })])
                }
                ClientMsg::FloorWithdraw { id, item } => {
                    let Some(Principal::Seat(seat)) = principal else {
                        return Err(RefusalReason::NotADelegate.into());
                    };
                    let act = Act::Withdraw { seat, item };
                    ask(&meeting, |reply| Command::Floor { seat, act, reply }).await??;
                    Ok(vec![frame(&ServerMsg::Done { id })])
                }
                ClientMsg::Export { id } => {
                    if principal != Some(Principal::Chair) {
                        return Err(RefusalReason::NotChair.into());
                    }
                    let (token, expires_at) =
                        meeting.issue_export_token().await.map_err(|e| {
                            tracing::error!(meeting = %meeting.definition.id, error = %e, "a download token could not be kept");
                            Refusal::from(RefusalReason::StoreUnavailable)
                        })?;
                    let url = format!(
                        "/api/meetings/{}/export?token={token}",
                        meeting.definition.id
                    );
                    Ok(vec![frame(&ServerMsg::ExportReady {
                        id,
                        url,
                        expires_at,
                    })])
                }
            }
        }
        .await;
        result.unwrap_or_else(|refusal| {
            if is_cast {
                metrics::ballot_refused(refusal.reason);
            }
            vec![frame(&refusal.to_msg(id))]
        })
    })
}

/// A chair's command, to the meeting's actor. A page to present is checked
/// first, here ([`MeetingHandle::presented`]).
async fn chair(meeting: &MeetingHandle, command: ChairCommand) -> Result<(), Refusal> {
    let presented = match command {
        ChairCommand::Present { document, page } => Some(meeting.presented(&document, page).await?),
        ChairCommand::StopPresenting => None,
        command => return ask(meeting, |reply| Command::Chair { command, reply }).await?,
    };
    ask(meeting, |reply| Command::Present { presented, reply }).await?
}

/// A ballot or a paper as it arrived, its signature not yet checked.
struct Cast {
    round: RoundId,
    documents: Sha,
    vote: Vote,
    seq: u64,
    signature: Signature,
}

/// Checks a ballot's signature for the connection's seat and hands it to
/// the meeting: the one path of a choice and of a paper on a list.
async fn cast(
    meeting: &MeetingHandle,
    principal: Option<Principal>,
    key: Option<PublicKey>,
    ballot: Cast,
) -> Result<AnyReceipt, Refusal> {
    // A new answer is polled at once (`Requests::poll_next`): this is when the frame was read.
    let read_at = std::time::Instant::now();
    let (Some(Principal::Seat(seat)), Some(key)) = (principal, key) else {
        return Err(RefusalReason::NotADelegate.into());
    };
    let Cast {
        round,
        documents,
        vote,
        seq,
        signature,
    } = ballot;
    let id = &meeting.definition.id;
    let bytes = match &vote {
        Vote::Choice(choice) => BallotContent {
            meeting: id,
            round,
            documents: Some(documents),
            seat,
            choice: *choice,
            seq,
        }
        .signed_bytes(),
        Vote::Paper(paper) => paper
            .content(id, round, Some(documents), seat, seq)
            .signed_bytes(),
    };
    verify(&meeting.signatures, key, bytes, signature.clone())
        .await
        .inspect_err(|_| {
            tracing::info!(meeting = %id, %round, seat, seq, "ballot refused: bad signature");
        })?;
    let ballot = VerifiedBallot {
        seat,
        round,
        documents,
        vote,
        seq,
        signature,
    };
    let receipt = ask(meeting, |reply| Command::Cast { ballot, reply }).await??;
    metrics::ballot_acknowledged(read_at);
    Ok(receipt)
}

/// Sends one frame; a client that does not take it within `timeout` is
/// dropped: it resyncs when it reconnects, and nobody else waits for it.
async fn send(socket: &mut WebSocket, f: Frame, timeout: Duration) -> Result<(), ()> {
    send_msg(socket, Message::Text(f), timeout).await
}

/// Sends `msg`, giving up after `timeout` if the client does not take it.
/// The timer is set only when the socket cannot take the frame at once:
/// almost every frame goes straight into the socket's buffer, and 10,000
/// writers each reading the clock for a tally add up.
async fn send_msg(socket: &mut WebSocket, msg: Message, timeout: Duration) -> Result<(), ()> {
    let mut sending = std::pin::pin!(socket.send(msg));
    let sent = match futures_util::poll!(sending.as_mut()) {
        Poll::Ready(sent) => sent,
        Poll::Pending => match tokio::time::timeout(timeout, sending).await {
            Ok(sent) => sent,
            Err(_) => return Err(()),
        },
    };
    sent.map_err(|_| ())
}
