//! Talking to a Gavel server: the login conversation and a logged-in session.
//!
//! A session reads frames only when asked to (by [`Session::next`] or while
//! waiting for an answer), folding every broadcast it meets into its
//! [`MeetingState`], so a caller never misses an update and never needs a
//! second task.

use crate::arrival::Arrivals;
use crate::state::MeetingState;
use crate::tls::{TlsError, Trust};
use crate::view::{ViewCache, ViewError};
use ed25519_dalek::SigningKey;
use futures_util::{SinkExt, StreamExt};
use gavel_protocol::board::{Confirmation, Count};
use gavel_protocol::floor::FloorKind;
use gavel_protocol::messages::{ChairCommand, MeetingView, PaperReceipt, Receipt};
use gavel_protocol::paper::{Mark, Paper, PaperKind};
use gavel_protocol::signing::{BallotContent, auth_bytes, enroll_bytes};

use gavel_protocol::{
    Choice, ClientMsg, MeetingId, PROTOCOL_VERSION, Principal, PublicKey, RefusalReason, RoundId,
    ServerMsg, Signature,
};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::error::UrlError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<Arrivals>>;

/// The socket's read buffer. A tablet receives frames of a few hundred
/// bytes (the roster is fetched over HTTP, not sent on the socket; a snapshot
/// of a large hall is read in several reads); tungstenite's default of
/// 128 KiB is zero-filled afresh before each read, which made it the largest
/// cost of the benchmark swarm's 2,000 tablets.
pub const READ_BUFFER: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("refused ({reason:?}): {message}")]
    Refused {
        reason: RefusalReason,
        message: String,
    },
    #[error("connection: {0}")]
    Connection(#[from] tokio_tungstenite::tungstenite::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error("the server closed the connection")]
    Closed,
    #[error("unexpected frame from the server: {0}")]
    Protocol(String),
    #[error("no vote is open")]
    NoOpenRound,
    #[error("the server's receipt does not verify under its key")]
    BadReceipt,
    #[error("only a delegate's device signs ballots")]
    NotADelegate,
}

impl ClientError {
    /// The refusal reason, if the server refused.
    pub fn reason(&self) -> Option<RefusalReason> {
        match self {
            ClientError::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// A connection that has received the server's challenge and is not yet logged in.
pub struct Client {
    socket: Socket,
    url: String,
    views: Arc<ViewCache>,
    nonce: [u8; 32],
    server_key: PublicKey,
}

async fn read(socket: &mut Socket) -> Result<ServerMsg, ClientError> {
    loop {
        match socket.next().await {
            None => return Err(ClientError::Closed),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text)
                    .map_err(|e| ClientError::Protocol(format!("{e}: {text}")));
            }
            Some(Ok(Message::Close(_))) => return Err(ClientError::Closed),
            Some(Ok(_)) => continue,
        }
    }
}

/// Opens the WebSocket at `url` (TLS through `connector` for `wss://`)
/// over a TCP stream without Nagle's delay whose arrival times can be
/// stamped ([`Arrivals`]).
pub async fn open_socket(
    url: &str,
    config: WebSocketConfig,
    connector: Option<Connector>,
) -> Result<Socket, ClientError> {
    let request = url.into_client_request()?;
    let uri = request.uri();
    let host = uri.host().ok_or(WsError::Url(UrlError::NoHostName))?;
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("wss") => 443,
        _ => 80,
    });
    let tcp = TcpStream::connect(format!("{host}:{port}"))
        .await
        .map_err(WsError::Io)?;
    tcp.set_nodelay(true).map_err(WsError::Io)?;
    let (socket, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        Arrivals::new(tcp),
        Some(config),
        connector,
    )
    .await?;
    Ok(socket)
}

/// The TCP stream under a socket, plain or under TLS.
pub fn arrivals(socket: &mut Socket) -> Option<&mut Arrivals> {
    match socket.get_mut() {
        MaybeTlsStream::Plain(tcp) => Some(tcp),
        MaybeTlsStream::Rustls(tls) => Some(tls.get_mut().0),
        _ => None,
    }
}

async fn write(socket: &mut Socket, msg: &ClientMsg) -> Result<(), ClientError> {
    let text = serde_json::to_string(msg).expect("client messages serialize");
    socket.send(Message::text(text)).await?;
    Ok(())
}

fn refused(msg: ServerMsg) -> ClientError {
    match msg {
        ServerMsg::Refused {
            reason, message, ..
        } => ClientError::Refused { reason, message },
        other => ClientError::Protocol(format!("{other:?}")),
    }
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`, or `wss://` to a
    /// server whose certificate a public authority signed) and reads the challenge.
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        Client::connect_trusting(url, &Trust::default()).await
    }

    /// Connects to `url`, accepting over `wss://` the server certificates
    /// `trust` allows, and reads the challenge.
    pub async fn connect_trusting(url: &str, trust: &Trust) -> Result<Client, ClientError> {
        let views = Arc::new(ViewCache::new(trust)?);
        Client::connect_with_views(url, trust, views).await
    }

    /// Connects as [`Client::connect_trusting`] does, fetching the meeting
    /// view through `views`: sessions that share the cache fetch and hold
    /// one view between them.
    pub async fn connect_with_views(
        url: &str,
        trust: &Trust,
        views: Arc<ViewCache>,
    ) -> Result<Client, ClientError> {
        let connector = trust.for_url(url)?.map(Connector::Rustls);
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let mut socket = open_socket(url, config, connector).await?;
        match read(&mut socket).await? {
            ServerMsg::Challenge {
                v: _,
                nonce,
                server_key,
                ..
            } => {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(&nonce, &mut bytes)
                    .map_err(|_| ClientError::Protocol(format!("challenge nonce {nonce:?}")))?;
                Ok(Client {
                    socket,
                    url: url.to_owned(),
                    views,
                    nonce: bytes,
                    server_key,
                })
            }
            other => Err(ClientError::Protocol(format!(
                "expected a challenge, got {other:?}"
            ))),
        }
    }

    /// The server's public key, as announced in its challenge.
    pub fn server_key(&self) -> PublicKey {
        self.server_key
    }

    /// Enrolls `key` with a one-time code; the connection stays open for a login.
    pub async fn enroll(
        &mut self,
        code: &str,
        key: &SigningKey,
    ) -> Result<(MeetingId, Principal), ClientError> {
        let public_key = PublicKey::of(key);
        let signature = Signature::sign(key, &enroll_bytes(code, &public_key));
        let msg = ClientMsg::Enroll {
            v: PROTOCOL_VERSION,
            code: code.to_owned(),
            public_key,
            signature,
        };
        write(&mut self.socket, &msg).await?;
        match read(&mut self.socket).await? {
            ServerMsg::Enrolled { meeting, principal } => Ok((meeting, principal)),
            other => Err(refused(other)),
        }
    }

    /// Logs in with an enrolled key by signing the challenge.
    pub async fn login(
        self,
        meeting: &MeetingId,
        key: &SigningKey,
    ) -> Result<Session, ClientError> {
        let public_key = PublicKey::of(key);
        let signature = Signature::sign(key, &auth_bytes(meeting, &self.nonce, &public_key));
        let msg = ClientMsg::Auth {
            v: PROTOCOL_VERSION,
            meeting: meeting.clone(),
            public_key,
            signature,
        };
        self.open(msg, Some(key.clone())).await
    }

    /// Follows a meeting read-only.
    pub async fn watch(self, meeting: &MeetingId) -> Result<Session, ClientError> {
        self.open(
            ClientMsg::Watch {
                v: PROTOCOL_VERSION,
                meeting: meeting.clone(),
            },
            None,
        )
        .await
    }

    /// Sends a raw frame before login (for tests of the server's refusals).
    pub async fn send_text(&mut self, text: &str) -> Result<ServerMsg, ClientError> {
        self.socket.send(Message::text(text)).await?;
        read(&mut self.socket).await
    }

    async fn open(
        mut self,
        hello: ClientMsg,
        key: Option<SigningKey>,
    ) -> Result<Session, ClientError> {
        write(&mut self.socket, &hello).await?;
        let (meeting, principal) = match read(&mut self.socket).await? {
            ServerMsg::Welcome {
                meeting,
                principal,
                view_hash,
            } => (
                self.views.view(&self.url, &meeting, &view_hash).await?,
                principal,
            ),
            other => return Err(refused(other)),
        };
        let mut session = Session {
            socket: self.socket,
            server_key: self.server_key,
            meeting,
            principal,
            key,
            state: MeetingState::default(),
            next_id: 1,
            last_seq: 0,
        };
        // The snapshot and the floor always follow the welcome.
        while session.state.snapshot.is_none() || session.state.floor.is_none() {
            session.next().await?;
        }
        Ok(session)
    }
}

/// A logged-in (or watching) connection.
pub struct Session {
    socket: Socket,
    server_key: PublicKey,
    /// The meeting as configured, shared with every session of the same cache.
    pub meeting: Arc<MeetingView>,
    pub principal: Option<Principal>,
    key: Option<SigningKey>,
    pub state: MeetingState,
    next_id: u64,
    last_seq: u64,
}

impl Session {
    /// The server's public key, as announced in its challenge: receipts verify under it.
    pub fn server_key(&self) -> PublicKey {
        self.server_key
    }

    /// Has the kernel stamp when the server's frames reach this session's
    /// socket, for [`Session::arrived`] (Linux).
    pub fn stamp_arrivals(&mut self) -> std::io::Result<()> {
        match arrivals(&mut self.socket) {
            Some(tcp) => tcp.stamp(),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "no TCP stream under this socket",
            )),
        }
    }

    /// When the frame just read reached the socket, once
    /// [`Session::stamp_arrivals`] has been called: the time a tablet with a
    /// processor of its own would have it, however long this task took to
    /// read it.
    pub fn arrived(&mut self) -> Option<SystemTime> {
        arrivals(&mut self.socket).and_then(|tcp| tcp.last())
    }

    /// Reads the next frame from the server and folds it into the state.
    pub async fn next(&mut self) -> Result<ServerMsg, ClientError> {
        let msg = read(&mut self.socket).await?;
        self.state.apply(&msg);
        Ok(msg)
    }

    /// Reads frames until `done` holds for the state.
    pub async fn wait_until(
        &mut self,
        done: impl Fn(&MeetingState) -> bool,
    ) -> Result<(), ClientError> {
        while !done(&self.state) {
            self.next().await?;
        }
        Ok(())
    }

    /// Sends a request and reads frames until its answer; refusals become errors.
    pub async fn request(
        &mut self,
        build: impl FnOnce(u64) -> ClientMsg,
    ) -> Result<ServerMsg, ClientError> {
        let id = self.send(build).await?;
        self.answer(id).await
    }

    /// Sends a request without waiting for its answer and returns its id,
    /// for a caller that reads every frame itself with [`Session::next`]
    /// (the benchmark swarm times each broadcast while its ballots are in flight).
    pub async fn send(&mut self, build: impl FnOnce(u64) -> ClientMsg) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        write(&mut self.socket, &build(id)).await?;
        Ok(id)
    }

    async fn answer(&mut self, id: u64) -> Result<ServerMsg, ClientError> {
        loop {
            let msg = self.next().await?;
            match &msg {
                ServerMsg::Ack { id: got, .. }
                | ServerMsg::PaperAck { id: got, .. }
                | ServerMsg::Done { id: got }
                | ServerMsg::ExportReady { id: got, .. }
                    if *got == id =>
                {
                    return Ok(msg);
                }
                ServerMsg::Refused { id: Some(got), .. } if *got == id => return Err(refused(msg)),
                // A refusal without an id answers a frame the server could not read.
                ServerMsg::Refused { id: None, .. } => return Err(refused(msg)),
                _ => {}
            }
        }
    }

    /// Sends raw text (for tests of the server's refusals) and returns the next frame that is not a broadcast.
    pub async fn send_text(&mut self, text: &str) -> Result<ServerMsg, ClientError> {
        self.socket.send(Message::text(text)).await?;
        loop {
            let msg = self.next().await?;
            if !matches!(
                msg,
                ServerMsg::Snapshot(_) | ServerMsg::Tally { .. } | ServerMsg::Floor(_)
            ) {
                return Ok(msg);
            }
        }
    }

    pub async fn check_in(&mut self) -> Result<(), ClientError> {
        self.request(|id| ClientMsg::CheckIn { id }).await?;
        Ok(())
    }

    pub async fn sync(&mut self) -> Result<(), ClientError> {
        self.request(|id| ClientMsg::Sync { id }).await?;
        Ok(())
    }

    /// A fresh sequence number: Unix milliseconds, always above the last one used.
    pub fn next_seq(&mut self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.last_seq = now.max(self.last_seq + 1);
        self.last_seq
    }

    /// Casts `choice` in the open round and returns the verified receipt.
    pub async fn cast(&mut self, choice: Choice) -> Result<Receipt, ClientError> {
        let round = self.state.open_round().ok_or(ClientError::NoOpenRound)?.id;
        let seq = self.next_seq();
        self.cast_in(round, choice, seq).await
    }

    /// Signs and sends a ballot for any round and sequence number.
    pub async fn cast_in(
        &mut self,
        round: RoundId,
        choice: Choice,
        seq: u64,
    ) -> Result<Receipt, ClientError> {
        let signature = self.sign_ballot(round, choice, seq)?;
        self.send_ballot(round, choice, seq, signature).await
    }

    /// The signature this device puts on a ballot; only a delegate's session has one.
    pub fn sign_ballot(
        &self,
        round: RoundId,
        choice: Choice,
        seq: u64,
    ) -> Result<Signature, ClientError> {
        let (Some(Principal::Seat(seat)), Some(key)) = (self.principal, self.key.as_ref()) else {
            return Err(ClientError::NotADelegate);
        };
        let content = BallotContent {
            meeting: &self.meeting.id,
            round,
            documents: Some(self.state.documents_digest(round)),
            seat,
            choice,
            seq,
        };
        Ok(Signature::sign(key, &content.signed_bytes()))
    }

    /// Sends a ballot with the given signature (which may be someone else's,
    /// in tests) and checks the receipt.
    pub async fn send_ballot(
        &mut self,
        round: RoundId,
        choice: Choice,
        seq: u64,
        signature: Signature,
    ) -> Result<Receipt, ClientError> {
        let documents = self.state.documents_digest(round);
        match self
            .request(|id| ClientMsg::Cast {
                id,
                round,
                documents,
                choice,
                seq,
                signature,
            })
            .await?
        {
            ServerMsg::Ack { receipt, .. } => {
                receipt
                    .verify(&self.server_key)
                    .map_err(|_| ClientError::BadReceipt)?;
                Ok(receipt)
            }
            other => Err(ClientError::Protocol(format!(
                "expected an ack, got {other:?}"
            ))),
        }
    }

    /// Casts a paper with these marks in the open round, whose item must be
    /// on a list: the marks are put in canonical order (ascending by entry)
    /// and the whole paper is signed once. Marks the server would refuse
    /// (an entry twice, one off the list, over an election's cap) are sent
    /// as they are, and refused with their reason.
    pub async fn cast_paper(
        &mut self,
        kind: PaperKind,
        mut marks: Vec<Mark>,
    ) -> Result<PaperReceipt, ClientError> {
        let round = self.state.open_round().ok_or(ClientError::NoOpenRound)?.id;
        let seq = self.next_seq();
        marks.sort_by_key(|m| m.entry);
        let paper = Paper { kind, marks };
        let signature = self.sign_paper(round, &paper, seq)?;
        self.send_paper(round, paper, seq, signature).await
    }

    /// The signature this device puts on a paper, marks in the order given.
    pub fn sign_paper(
        &self,
        round: RoundId,
        paper: &Paper,
        seq: u64,
    ) -> Result<Signature, ClientError> {
        let (Some(Principal::Seat(seat)), Some(key)) = (self.principal, self.key.as_ref()) else {
            return Err(ClientError::NotADelegate);
        };
        let documents = Some(self.state.documents_digest(round));
        let content = paper.content(&self.meeting.id, round, documents, seat, seq);
        Ok(Signature::sign(key, &content.signed_bytes()))
    }

    /// Sends a paper with the given signature and checks its receipt: the
    /// server's signature, and that it records exactly the marks sent.
    pub async fn send_paper(
        &mut self,
        round: RoundId,
        paper: Paper,
        seq: u64,
        signature: Signature,
    ) -> Result<PaperReceipt, ClientError> {
        let Paper { kind, marks } = paper;
        let sent = marks.clone();
        let documents = self.state.documents_digest(round);
        match self
            .request(|id| ClientMsg::CastPaper {
                id,
                round,
                documents,
                kind,
                marks,
                seq,
                signature,
            })
            .await?
        {
            ServerMsg::PaperAck { paper_receipt, .. } => {
                paper_receipt
                    .verify(&self.server_key)
                    .map_err(|_| ClientError::BadReceipt)?;
                if paper_receipt.marks != sent || paper_receipt.round != round {
                    return Err(ClientError::BadReceipt);
                }
                Ok(paper_receipt)
            }
            other => Err(ClientError::Protocol(format!(
                "expected a paper_ack, got {other:?}"
            ))),
        }
    }

    /// Confirms, as a counting board member, the count of the closed round
    /// `round`: this device signs the count as given, and the server
    /// compares it with the close's.
    pub async fn confirm_count(&mut self, round: RoundId, count: Count) -> Result<(), ClientError> {
        let (Some(Principal::Seat(seat)), Some(key)) = (self.principal, self.key.as_ref()) else {
            return Err(ClientError::NotADelegate);
        };
        let signed = Confirmation {
            meeting: &self.meeting.id,
            round,
            seat,
            count: &count,
        }
        .signed_bytes();
        let signature = Signature::sign(key, &signed);
        self.request(|id| ClientMsg::ConfirmCount {
            id,
            round,
            count,
            signature,
        })
        .await?;
        Ok(())
    }

    pub async fn chair(&mut self, command: ChairCommand) -> Result<(), ClientError> {
        self.request(|id| ClientMsg::Chair { id, command }).await?;
        Ok(())
    }

    /// Asks for the floor on `item` (the one under discussion); a question
    /// names its respondent, by index in the meeting's list.
    pub async fn request_floor(
        &mut self,
        item: u32,
        kind: FloorKind,
        respondent: Option<u32>,
        topic: Option<String>,
    ) -> Result<(), ClientError> {
        self.request(|id| ClientMsg::FloorRequest {
            id,
            item,
            kind,
            respondent,
            topic,
        })
        .await?;
        Ok(())
    }

    /// Withdraws this seat's waiting request on `item`.
    pub async fn withdraw_floor(&mut self, item: u32) -> Result<(), ClientError> {
        self.request(|id| ClientMsg::FloorWithdraw { id, item })
            .await?;
        Ok(())
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
