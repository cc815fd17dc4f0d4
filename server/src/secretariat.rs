//! The secretariat's API, behind `/admin/`: the council's office, which
//! prepares meetings rather than taking part in one.
//!
//! Its devices log in as delegates' tablets do, with a WebCrypto key that
//! never leaves the browser: a one-time code from `gavel codes --admin`
//! enrolls the key (`POST /api/secretariat/enroll`, signed over the enroll
//! layout), and each login answers a fresh challenge
//! (`POST /api/secretariat/challenge`, then `POST /api/secretariat/login`,
//! signed over the admin-auth layout) for a session token that every other
//! call carries as `Authorization: Bearer`.
//!
//! **HTTP rather than the WebSocket.** A WebSocket session belongs to one
//! meeting (its login signs the meeting's id and joins that meeting's actor),
//! while the secretariat works on every meeting and on none live: its calls
//! are questions and edits, each answered once, not a stream of state. Over
//! HTTP the wire protocol's messages stay as they are (the one addition is
//! the admin-auth layout), and the uploads to come (spreadsheets, PDFs) are
//! request bodies rather than 16 KiB frames.
//!
//! **Amending a stored meeting.** `GET …/meetings/{id}/form` gives the form
//! with the hash of the stored text it was read from, whether a round was
//! held and the items that had one; `PUT` of `{previous, form}` amends the
//! meeting under the rules of [`crate::meeting::amend`], through the
//! meeting's actor ([`Hub::amend`]), as the secretariat's device. Its keys
//! and documents are kept as stored: keys are bound by enrollment, documents
//! change by their uploads (`documents`), which are amendments too.
//!
//! **A session's results.** A meeting under way or finished shows its items
//! and results (`GET …/meetings/{id}/results`), takes the counts of a show
//! of hands or the counting board's figures of a paper vote when the devices
//! fail (`POST …/items/{item}/by-hand`, decided by
//! the meeting's actor, see [`crate::hub::hand`]), and offers its record,
//! minutes and results table for download as `gavel export` prints them.
//!
//! **On every node.** Behind one address a call may reach any node. Those
//! the meeting's actor decides (a result by hand, a revocation, the list of
//! devices, an amendment and so an uploaded document) run on the meeting's node, reached through the store when
//! another node hosts it, or are refused `owner_unreachable` ([`owner`]);
//! the others read or write the store and are answered where they land.
//!
//! **Refusals.** Every refusal is a [`Refusal`] with a `reason` a program can
//! match and a `message` a person can read. A key enrolled for a seat or the
//! chair's console is told `not_secretariat`, apart from a key nobody
//! enrolled: a delegate's tablet is not a way into the meetings' definitions.
//! Failed enrollments and logins count against the address as the
//! WebSocket's do, and an address refused for a while is refused here too.

mod documents;
mod owner;

pub use owner::answer_calls;

use crate::app::Peer;
use crate::clock::now_ms;
use crate::documents::DocumentFault;
use crate::enrollment;
use crate::export::{self, ExportError, MinutesOptions};
use crate::hub::hand::{HandCount, HandRefusal, HandVotes};
use crate::hub::{AmendError, Hub, MeetingHandle};
use crate::limits::AddressLimits;
use crate::meeting::amend::AmendRefusal;
use crate::meeting::{
    DefinitionError, DocumentSource, MeetingDefinition, MeetingForm, SeatDefinition,
};
use crate::roster::{self, CsvEncoding, Problem, ProblemReason, RosterSeat, Sheet};
use crate::store::{RoundRecord, StoreError, StoredMeeting, code_hash};
use crate::tokens;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::{Ballots, ByHand, Labels, PaperList, RoundStatus};
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::{admin_auth_bytes, enroll_bytes};
use gavel_protocol::{MeetingId, Principal, PublicKey, Signature};
use gavel_records::chain::Sha;
use gavel_records::minutes::Lang;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// How long a login challenge may be answered.
const CHALLENGE_MS: u64 = 60_000;
/// How long a login lasts: a working day of preparing a session.
const SESSION_MS: u64 = 12 * 3_600_000;

/// Why a call to the secretariat's API was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no such secretariat code")]
    UnknownCode,
    #[error("this code was already used; ask for a new one with gavel codes --admin")]
    CodeUsed,
    #[error("this code has expired; ask for a new one with gavel codes --admin")]
    CodeExpired,
    #[error("the signature does not match this device's key")]
    BadSignature,
    #[error("the challenge is unknown or more than a minute old; ask for a new one")]
    UnknownChallenge,
    #[error("this device is enrolled for a seat or the chair's console, not the secretariat")]
    NotSecretariat,
    #[error("this device is not enrolled; enroll it with a secretariat code")]
    UnknownKey,
    #[error("log in first: the session is missing or has expired")]
    NotLoggedIn,
    #[error("too many failed attempts from this address; wait a minute")]
    RateLimited,
    #[error("the store does not answer; try again")]
    StoreUnavailable,
    #[error("no meeting {0}")]
    UnknownMeeting(String),
    #[error("a meeting with the id {0} already exists; choose another id")]
    MeetingExists(String),
    /// A meeting file that does not pass the checks of `gavel meeting
    /// import`: told with its line and column.
    #[error("{0}")]
    InvalidDefinition(DefinitionError),
    /// The app's form of a meeting, which does not pass the same checks:
    /// told by its field alone, as the form has no lines.
    #[error("{}", .0.message)]
    InvalidForm(DefinitionError),
    /// A spreadsheet that is not a roster: every problem, by row and column.
    #[error("the spreadsheet has {} problem(s); nothing was taken from it", .0.len())]
    InvalidRoster(Vec<Problem>),
    /// The tablet app's address for the enrollment cards' QR codes is not
    /// an http(s) address a tablet could open.
    #[error("{0}")]
    InvalidLink(String),
    /// A device to revoke for a seat that has none (or no such seat).
    #[error("seat {0} has no enrolled device to revoke")]
    NoDevice(u32),
    /// A result by hand that cannot be recorded: its reason, and for counts
    /// that cannot be, the field to correct.
    #[error("{0}")]
    HandCount(HandRefusal),
    /// A language the minutes and the results table are not printed in.
    #[error("{0:?} is not a language of the minutes: vi or en")]
    InvalidLanguage(String),
    /// The meeting changed throughout the reading of its record.
    #[error("the meeting kept changing while its record was read; try again")]
    Busy,
    /// An uploaded document that is too large or not a PDF that opens.
    #[error("the file {0}")]
    Document(DocumentFault),
    #[error("the meeting has no agenda item {0}")]
    UnknownItem(u32),
    #[error("agenda item {item} has no document {slot}")]
    UnknownDocument { item: u32, slot: u32 },
    /// A round was opened on the item: its documents are what was voted on.
    #[error("agenda item {item} has been voted on; its document {title:?} can no longer change")]
    ItemVoted { item: u32, title: String },
    #[error("meeting {0} was changed meanwhile; open it again")]
    MeetingChanged(String),
    /// An amendment the record does not allow (see
    /// [`crate::meeting::amend`]), with the form's field it is about.
    #[error("{refusal}")]
    Amend {
        refusal: AmendRefusal,
        field: String,
    },
    /// Another node of the deployment hosts the meeting: its changes are
    /// made there, where its actor learns of them.
    #[error("{0}")]
    HostedElsewhere(String),
    /// The upload's body ended before all of it arrived.
    #[error("the upload broke off before the whole file arrived; try again")]
    UploadBroken,
    /// Another node hosts the meeting, and no node claimed the call in
    /// time: nothing was done.
    #[error(
        "the server that hosts meeting {0} did not answer, and nothing was done; try again in a few seconds (a meeting whose server stopped moves to another)"
    )]
    OwnerUnreachable(String),
    /// The node that hosts the meeting took the call and did not answer in
    /// time: it may have been done.
    #[error(
        "the server that hosts meeting {0} took the call but did not answer in time; look at the meeting before you try again, it may have been done"
    )]
    OwnerNoAnswer(String),
    /// The chair closed the meeting's session: its record is final.
    #[error("the session of meeting {0} is closed; nothing more is recorded in it")]
    SessionClosed(String),
}

impl Refusal {
    /// The refusal's name, for programs.
    fn reason(&self) -> &'static str {
        match self {
            Refusal::UnknownCode => "unknown_code",
            Refusal::CodeUsed => "code_used",
            Refusal::CodeExpired => "code_expired",
            Refusal::BadSignature => "bad_signature",
            Refusal::UnknownChallenge => "unknown_challenge",
            Refusal::NotSecretariat => "not_secretariat",
            Refusal::UnknownKey => "unknown_key",
            Refusal::NotLoggedIn => "not_logged_in",
            Refusal::RateLimited => "rate_limited",
            Refusal::StoreUnavailable => "store_unavailable",
            Refusal::UnknownMeeting(_) => "unknown_meeting",
            Refusal::MeetingExists(_) => "meeting_exists",
            Refusal::InvalidDefinition(_) | Refusal::InvalidForm(_) => "invalid_definition",
            Refusal::InvalidRoster(_) => "invalid_roster",
            Refusal::InvalidLink(_) => "invalid_link",
            Refusal::NoDevice(_) => "no_device",
            Refusal::HandCount(refusal) => match refusal {
                HandRefusal::UnknownItem(_) => "unknown_item",
                HandRefusal::NotVoted(_) => "not_voted",
                HandRefusal::RoundOpen => "round_open",
                HandRefusal::ItemDecided(_) => "item_decided",
                HandRefusal::AwaitingAnnouncement => "awaiting_announcement",
                HandRefusal::SessionClosed => "session_closed",
                HandRefusal::Counts { .. } => "invalid_counts",
                HandRefusal::StoreUnavailable => "store_unavailable",
            },
            Refusal::Busy => "busy",
            Refusal::InvalidLanguage(_) => "invalid_language",
            Refusal::Document(DocumentFault::TooLarge { .. }) => "document_too_large",
            Refusal::Document(_) => "not_a_pdf",
            Refusal::UnknownItem(_) => "unknown_item",
            Refusal::UnknownDocument { .. } => "unknown_document",
            Refusal::ItemVoted { .. } => "item_voted",
            Refusal::MeetingChanged(_) => "meeting_changed",
            Refusal::UploadBroken => "upload_broken",
            Refusal::OwnerUnreachable(_) => "owner_unreachable",
            Refusal::OwnerNoAnswer(_) => "owner_no_answer",
            Refusal::Amend { refusal, .. } => match refusal {
                AmendRefusal::ItemVoted { .. } => "item_voted",
                AmendRefusal::ItemRecorded { .. } => "item_recorded",
                AmendRefusal::MeetingStarted { .. } => "meeting_started",
                AmendRefusal::Invalid { .. } => "invalid_definition",
            },
            Refusal::HostedElsewhere(_) => "hosted_elsewhere",
            Refusal::SessionClosed(_) => "session_closed",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refusal::UnknownCode | Refusal::CodeUsed | Refusal::CodeExpired => {
                StatusCode::BAD_REQUEST
            }
            Refusal::BadSignature
            | Refusal::UnknownChallenge
            | Refusal::UnknownKey
            | Refusal::NotLoggedIn => StatusCode::UNAUTHORIZED,
            Refusal::NotSecretariat => StatusCode::FORBIDDEN,
            Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Refusal::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::UnknownMeeting(_) => StatusCode::NOT_FOUND,
            Refusal::MeetingExists(_)
            | Refusal::NoDevice(_)
            | Refusal::Busy
            | Refusal::ItemVoted { .. }
            | Refusal::MeetingChanged(_)
            | Refusal::SessionClosed(_) => StatusCode::CONFLICT,
            Refusal::HandCount(refusal) => match refusal {
                HandRefusal::UnknownItem(_) => StatusCode::NOT_FOUND,
                HandRefusal::RoundOpen
                | HandRefusal::AwaitingAnnouncement
                | HandRefusal::SessionClosed
                | HandRefusal::ItemDecided(_) => StatusCode::CONFLICT,
                HandRefusal::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                HandRefusal::NotVoted(_) | HandRefusal::Counts { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
            },
            Refusal::UnknownItem(_) | Refusal::UnknownDocument { .. } => StatusCode::NOT_FOUND,
            Refusal::Document(DocumentFault::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::InvalidDefinition(_)
            | Refusal::InvalidForm(_)
            | Refusal::InvalidRoster(_)
            | Refusal::InvalidLink(_)
            | Refusal::InvalidLanguage(_)
            | Refusal::Document(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::UploadBroken => StatusCode::BAD_REQUEST,
            Refusal::OwnerUnreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::OwnerNoAnswer(_) => StatusCode::GATEWAY_TIMEOUT,
            Refusal::Amend {
                refusal: AmendRefusal::Invalid { .. },
                ..
            } => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Amend { .. } => StatusCode::CONFLICT,
            Refusal::HostedElsewhere(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether the attempt counts against the address, as a wrong code or
    /// key does on the WebSocket.
    fn is_failed_attempt(&self) -> bool {
        matches!(
            self,
            Refusal::UnknownCode
                | Refusal::CodeUsed
                | Refusal::CodeExpired
                | Refusal::BadSignature
                | Refusal::UnknownKey
                | Refusal::NotSecretariat
        )
    }
}

/// A refusal as sent: its reason and message, and for a definition that
/// does not pass, where it fails: the field path, and for a file the line
/// and column.
#[derive(Serialize)]
struct RefusalBody {
    reason: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<Problem>>,
}

impl Refusal {
    /// What is sent of it: also what the meeting's node answers another
    /// node with ([`owner`]).
    fn body(&self) -> RefusalBody {
        let (field, place) = match self {
            Refusal::InvalidDefinition(e) => (Some(e.field.clone()), Some((e.line, e.column))),
            Refusal::InvalidForm(e) => (Some(e.field.clone()), None),
            Refusal::HandCount(HandRefusal::Counts { field, .. }) => (Some(field.clone()), None),
            Refusal::Document(_) => (Some("file".to_owned()), None),
            Refusal::Amend { field, .. } => (Some(field.clone()), None),
            _ => (None, None),
        };
        RefusalBody {
            reason: self.reason(),
            message: self.to_string(),
            field,
            line: place.map(|(line, _)| line),
            column: place.map(|(_, column)| column),
            problems: match self {
                Refusal::InvalidRoster(problems) => Some(problems.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<AmendError> for Refusal {
    fn from(error: AmendError) -> Refusal {
        match error {
            AmendError::Store(e) => e.into(),
            AmendError::HostedElsewhere(_) => Refusal::HostedElsewhere(error.to_string()),
            AmendError::Stopped(_) => Refusal::StoreUnavailable,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Refusal {
        match error {
            StoreError::CodeUnknown => Refusal::UnknownCode,
            StoreError::CodeUsed => Refusal::CodeUsed,
            StoreError::CodeExpired => Refusal::CodeExpired,
            StoreError::MeetingExists(id) => Refusal::MeetingExists(id.to_string()),
            StoreError::ItemVoted { item, title } => Refusal::ItemVoted { item, title },
            StoreError::DefinitionChanged(id) => Refusal::MeetingChanged(id.to_string()),
            StoreError::Amend(refusal) => Refusal::Amend {
                field: match &refusal {
                    AmendRefusal::ItemVoted { item, .. }
                    | AmendRefusal::ItemRecorded { item, .. } => format!("items[{item}]"),
                    AmendRefusal::MeetingStarted { field, .. } => (*field).to_owned(),
                    AmendRefusal::Invalid { field, .. } => field.clone(),
                },
                refusal,
            },
            StoreError::SessionClosed(id) => Refusal::SessionClosed(id.to_string()),
            other => {
                tracing::error!(error = %other, "the secretariat's call failed in the store");
                Refusal::StoreUnavailable
            }
        }
    }
}

/// Login challenges and sessions, which every node of a deployment
/// honours whichever node issued them ([`crate::tokens`]): behind the proxy
/// the challenge, the login and each later call may reach different nodes.
/// A node remembers the challenges answered through it until they expire,
/// so that each is used once there.
struct Desk {
    /// The server's key, which every node holds.
    key: SigningKey,
    answered: Mutex<HashMap<[u8; 32], u64>>,
}

impl Desk {
    fn new(key: SigningKey) -> Desk {
        Desk {
            key,
            answered: Mutex::default(),
        }
    }

    fn challenge(&self) -> [u8; 32] {
        tokens::secretariat_challenge(&self.key, now_ms() + CHALLENGE_MS)
    }

    /// Uses up `nonce`: true once on this node, if a node issued it and it
    /// has not expired.
    fn answer(&self, nonce: &[u8; 32]) -> bool {
        let Some(expiry) = tokens::secretariat_challenge_expiry(&self.key, nonce) else {
            return false;
        };
        let now = now_ms();
        let mut answered = self.answered.lock().expect("challenge lock");
        answered.retain(|_, e| *e > now);
        expiry > now && answered.insert(*nonce, expiry).is_none()
    }

    fn open_session(&self, device: PublicKey) -> (String, u64) {
        let expires_at = now_ms() + SESSION_MS;
        let token = tokens::secretariat_session(&self.key, &device, expires_at);
        (token, expires_at)
    }

    /// The device whose session the call carries, if it is still valid.
    fn session_valid(&self, headers: &HeaderMap) -> Result<PublicKey, Refusal> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Refusal::NotLoggedIn)?;
        tokens::secretariat_session_valid(&self.key.verifying_key(), token, now_ms())
            .ok_or(Refusal::NotLoggedIn)
    }
}

#[derive(Clone)]
struct Office {
    hub: Arc<Hub>,
    limits: Arc<AddressLimits>,
    desk: Arc<Desk>,
}

impl Office {
    /// Counts a failed attempt against `peer`, and logs every refusal.
    fn refused(&self, peer: SocketAddr, refusal: Refusal) -> Refusal {
        if refusal.is_failed_attempt() {
            self.limits.record_failure(peer.ip());
        }
        tracing::info!(reason = refusal.reason(), %peer, "secretariat call refused");
        refusal
    }

    fn admit(&self, peer: SocketAddr) -> Result<(), Refusal> {
        if self.limits.blocked(peer.ip()) {
            Err(Refusal::RateLimited)
        } else {
            Ok(())
        }
    }
}

/// The secretariat's routes.
pub fn routes(hub: Arc<Hub>, limits: Arc<AddressLimits>) -> Router {
    let office = Office {
        desk: Arc::new(Desk::new(hub.server_signing_key().clone())),
        hub,
        limits,
    };
    Router::new()
        .route("/api/secretariat/enroll", post(enroll))
        .route("/api/secretariat/challenge", post(challenge))
        .route("/api/secretariat/login", post(login))
        .route("/api/secretariat/meetings", get(meetings).post(create))
        .route("/api/secretariat/meetings/import", post(import))
        .route(
            "/api/secretariat/meetings/{id}/form",
            get(form).put(amend_form),
        )
        .route("/api/secretariat/meetings/{id}/file", get(file))
        .route("/api/secretariat/roster", post(read_roster))
        .route("/api/secretariat/meetings/{id}/cards", post(cards))
        .route("/api/secretariat/meetings/{id}/devices", get(devices))
        .route(
            "/api/secretariat/meetings/{id}/devices/{seat}/revoke",
            post(revoke),
        )
        .route("/api/secretariat/meetings/{id}/results", get(results))
        .route(
            "/api/secretariat/meetings/{id}/items/{item}/by-hand",
            post(record_by_hand),
        )
        .route("/api/secretariat/meetings/{id}/record", get(record))
        .route("/api/secretariat/meetings/{id}/minutes", get(minutes))
        .route(
            "/api/secretariat/meetings/{id}/results.csv",
            get(results_csv),
        )
        .route(
            "/api/secretariat/meetings/{id}/documents",
            get(documents::list),
        )
        .route(
            "/api/secretariat/meetings/{id}/items/{item}/documents",
            post(documents::attach),
        )
        .route(
            "/api/secretariat/meetings/{id}/items/{item}/documents/{slot}",
            post(documents::replace),
        )
        .with_state(office)
}

#[derive(Deserialize)]
struct EnrollBody {
    code: String,
    public_key: PublicKey,
    signature: Signature,
}

#[derive(Serialize)]
struct Enrolled {
    enrolled: bool,
}

async fn enroll(
    State(office): State<Office>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Json(body): Json<EnrollBody>,
) -> Result<Json<Enrolled>, Refusal> {
    office.admit(peer)?;
    let redeemed = async {
        body.public_key
            .verify(&enroll_bytes(&body.code, &body.public_key), &body.signature)
            .map_err(|_| Refusal::BadSignature)?;
        let store = office.hub.store();
        store
            .redeem_secretariat_code(&code_hash(&body.code), now_ms(), &body.public_key)
            .await?;
        Ok(())
    };
    redeemed.await.map_err(|r| office.refused(peer, r))?;
    tracing::info!(key = %body.public_key.to_hex(), "secretariat device enrolled");
    Ok(Json(Enrolled { enrolled: true }))
}

#[derive(Serialize)]
struct Challenge {
    nonce: String,
}

async fn challenge(State(office): State<Office>) -> Json<Challenge> {
    Json(Challenge {
        nonce: hex::encode(office.desk.challenge()),
    })
}

#[derive(Deserialize)]
struct LoginBody {
    nonce: String,
    public_key: PublicKey,
    signature: Signature,
}

#[derive(Serialize)]
struct LoggedIn {
    token: String,
    expires_at: u64,
}

async fn login(
    State(office): State<Office>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Json(body): Json<LoginBody>,
) -> Result<Json<LoggedIn>, Refusal> {
    office.admit(peer)?;
    let checked = async {
        let mut nonce = [0u8; 32];
        hex::decode_to_slice(&body.nonce, &mut nonce).map_err(|_| Refusal::UnknownChallenge)?;
        if !office.desk.answer(&nonce) {
            return Err(Refusal::UnknownChallenge);
        }
        body.public_key
            .verify(&admin_auth_bytes(&nonce, &body.public_key), &body.signature)
            .map_err(|_| Refusal::BadSignature)?;
        if office
            .hub
            .store()
            .is_secretariat_key(&body.public_key)
            .await?
        {
            return Ok(());
        }
        let enrolled_elsewhere = office.hub.meetings().iter().any(|d| {
            office
                .hub
                .meeting(&d.id)
                .is_some_and(|m| m.principal_of(&body.public_key).is_some())
        });
        Err(if enrolled_elsewhere {
            Refusal::NotSecretariat
        } else {
            Refusal::UnknownKey
        })
    };
    checked.await.map_err(|r| office.refused(peer, r))?;
    let (token, expires_at) = office.desk.open_session(body.public_key);
    Ok(Json(LoggedIn { token, expires_at }))
}

/// Where a meeting stands, for the secretariat's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingState {
    /// No item has been put on the screens and no vote opened.
    Upcoming,
    InSession,
    /// The chair closed the session.
    Finished,
}

impl MeetingState {
    /// From what the store holds: the chair's close alone finishes a
    /// meeting (a session may go on after its last vote, with reports and
    /// questions), and an item put on the screens or a round starts it.
    pub fn of(stored: &StoredMeeting, rounds: &[RoundRecord]) -> MeetingState {
        if stored.closed_at.is_some() {
            MeetingState::Finished
        } else if stored.current_item.is_none() && rounds.is_empty() {
            MeetingState::Upcoming
        } else {
            MeetingState::InSession
        }
    }
}

#[derive(Serialize)]
struct MeetingRow {
    id: String,
    title: String,
    body: String,
    seats: u32,
    items: usize,
    state: MeetingState,
}

async fn meetings(
    State(office): State<Office>,
    headers: HeaderMap,
) -> Result<Json<Vec<MeetingRow>>, Refusal> {
    office.desk.session_valid(&headers)?;
    let store = office.hub.store();
    let mut rows = Vec::new();
    for stored in store.meetings().await? {
        let id = &stored.id;
        let Ok(definition) = MeetingDefinition::parse(&stored.definition) else {
            tracing::error!(%id, "a stored meeting definition does not parse");
            continue;
        };
        let rounds = store.rounds(id).await?;
        rows.push(MeetingRow {
            id: id.to_string(),
            state: MeetingState::of(&stored, &rounds),
            title: definition.title,
            body: definition.body,
            seats: definition.total_seats,
            items: definition.agenda.len(),
        });
    }
    Ok(Json(rows))
}

/// The stored text of meeting `id` and its definition.
async fn stored(office: &Office, id: &str) -> Result<(String, MeetingDefinition), Refusal> {
    let unknown = || Refusal::UnknownMeeting(id.to_owned());
    let id = MeetingId::parse(id).map_err(|_| unknown())?;
    let stored = office
        .hub
        .store()
        .meetings()
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(unknown)?;
    let definition = MeetingDefinition::parse(&stored.definition).map_err(|e| {
        tracing::error!(%id, error = %e, "a stored meeting definition does not parse");
        Refusal::StoreUnavailable
    })?;
    Ok((stored.definition, definition))
}

/// The meeting as the app edits it: its form, the hash of the stored text
/// it was read from (what an edit is made to), whether a round was held
/// (the header's count of seats, quorum, labels and counting board are
/// then fixed), and the items that can no longer change, each with why.
#[derive(Serialize)]
struct Editable {
    form: MeetingForm,
    previous: String,
    started: bool,
    locked: Vec<Locked>,
}

/// An agenda item the app shows as it stands.
#[derive(Serialize)]
struct Locked {
    item: u32,
    /// `item_voted`: a round was held on it.
    reason: &'static str,
    message: String,
}

/// The meeting as stored, as the app edits it.
async fn editable(office: &Office, id: &str) -> Result<Editable, Refusal> {
    let (text, definition) = stored(office, id).await?;
    let rounds = office.hub.store().rounds(&definition.id).await?;
    let voted: BTreeSet<u32> = rounds.iter().map(|r| r.item).collect();
    let locked = voted
        .iter()
        .map(|&item| Locked {
            item,
            reason: "item_voted",
            message: AmendRefusal::ItemVoted {
                item,
                title: definition
                    .item(item)
                    .map_or_else(String::new, |i| i.title.clone()),
            }
            .to_string(),
        })
        .collect();
    Ok(Editable {
        form: MeetingForm::of(&definition),
        previous: Sha::of(text.as_bytes()).to_hex(),
        started: !rounds.is_empty(),
        locked,
    })
}

async fn form(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Editable>, Refusal> {
    office.desk.session_valid(&headers)?;
    Ok(Json(editable(&office, &id).await?))
}

/// An edit of a stored meeting: the form as the app sends it back, and
/// the hash of the stored text it was read from.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    previous: String,
    form: MeetingForm,
}

/// Amends a stored meeting from the app's form, checked as its file would
/// be and then against what its record holds ([`crate::meeting::amend`]),
/// as the secretariat's device; the meeting's devices then fetch its new
/// view. Seats' keys are kept as stored (an edit never binds one), and the
/// documents are as stored too: they change by their uploads.
async fn amend_form(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(edit): Json<Edit>,
) -> Result<Response, Refusal> {
    let device = office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let previous = Sha::from_hex(&edit.previous).map_err(|_| {
        Refusal::InvalidForm(DefinitionError {
            line: 0,
            column: 0,
            field: "previous".to_owned(),
            message: "previous is the SHA-256 of the stored text, as GET …/form gives it"
                .to_owned(),
        })
    })?;
    let mut form = edit.form;
    for seat in &mut form.seats {
        seat.public_key = definition
            .seat(seat.number)
            .and_then(|s| s.public_key)
            .map(|k| k.to_hex());
    }
    let (text, amended) = form.check().map_err(Refusal::InvalidForm)?;
    if let Some(item) = documents_moved(&definition, &amended) {
        return Err(Refusal::InvalidForm(DefinitionError {
            line: 0,
            column: 0,
            field: format!("{}.documents", item_path(&form, item)),
            message: "documents are attached and replaced by their uploads; the form keeps them as they are".to_owned(),
        }));
    }
    let amend = owner::AmendCall {
        previous,
        text,
        device,
        document: None,
    };
    let call = owner::Call::Amend(Box::new(amend));
    let answer = owner::at_owner(&office.hub, &definition.id, call).await?;
    if !answer.is_done() {
        return Ok(answer.into_response());
    }
    tracing::info!(%id, "the secretariat amended the meeting");
    Ok(Json(editable(&office, &id).await?).into_response())
}

/// Why an amendment was refused, as the app is told; for an edit of the
/// form (`form_of` the definition it was made to), an item it may not
/// change is named by its place in the form.
fn amend_refusal(error: AmendError, form_of: Option<&MeetingDefinition>) -> Refusal {
    let mut refusal = Refusal::from(error);
    if let (
        Some(definition),
        Refusal::Amend {
            refusal: AmendRefusal::ItemVoted { item, .. } | AmendRefusal::ItemRecorded { item, .. },
            field,
        },
    ) = (form_of, &mut refusal)
    {
        *field = item_path(&MeetingForm::of(definition), *item);
    }
    refusal
}

/// The first item whose documents differ between the two, if any.
fn documents_moved(old: &MeetingDefinition, new: &MeetingDefinition) -> Option<u32> {
    let count = old.agenda.len().max(new.agenda.len());
    (0..u32::try_from(count).expect("fewer than 2^32 items")).find(|&item| {
        let of = |d: &MeetingDefinition| -> Vec<DocumentSource> {
            d.documents
                .iter()
                .filter(|x| x.item == item)
                .cloned()
                .collect()
        };
        of(old) != of(new)
    })
}

/// The form's path of agenda item `index` (`topics[1].items[0]`), or
/// `items[index]` past the form's end.
fn item_path(form: &MeetingForm, index: u32) -> String {
    form.place(index).map_or_else(
        || format!("items[{index}]"),
        |(t, i)| format!("topics[{t}].items[{i}]"),
    )
}

/// The meeting file exactly as stored: what `gavel meeting import` or the
/// app's import reads back unchanged.
async fn file(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let (text, definition) = stored(&office, &id).await?;
    let disposition = format!("attachment; filename=\"{}.toml\"", definition.id);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

#[derive(Serialize)]
struct Created {
    id: String,
}

/// Stores a new meeting's checked text and starts serving it.
async fn add(
    office: &Office,
    text: &str,
    definition: &MeetingDefinition,
) -> Result<Json<Created>, Refusal> {
    office.hub.store().add_meeting(&definition.id, text).await?;
    office.hub.start_added(&definition.id).await.map_err(|e| {
        tracing::error!(id = %definition.id, error = %e, "a new meeting could not be started");
        Refusal::StoreUnavailable
    })?;
    tracing::info!(id = %definition.id, "the secretariat added a meeting");
    Ok(Json(Created {
        id: definition.id.to_string(),
    }))
}

/// A new meeting from the app's form (a meeting made from nothing, or a
/// copy of one under a new id), checked as its file would be.
async fn create(
    State(office): State<Office>,
    headers: HeaderMap,
    Json(form): Json<MeetingForm>,
) -> Result<Json<Created>, Refusal> {
    office.desk.session_valid(&headers)?;
    let (text, definition) = form.check().map_err(Refusal::InvalidForm)?;
    add(&office, &text, &definition).await
}

/// A new meeting from a meeting file, stored as written.
async fn import(
    State(office): State<Office>,
    headers: HeaderMap,
    text: String,
) -> Result<Json<Created>, Refusal> {
    office.desk.session_valid(&headers)?;
    let definition = MeetingDefinition::parse(&text).map_err(Refusal::InvalidDefinition)?;
    add(&office, &text, &definition).await
}

#[derive(Deserialize)]
struct RosterQuery {
    /// "csv" or "xlsx".
    format: String,
    /// For a CSV: `auto` (the default), `utf-8`, `utf-16` or `windows-1258`.
    encoding: Option<String>,
    /// The meeting's number of seats: every one must have a row.
    seats: u32,
}

#[derive(Serialize)]
struct RosterRead {
    seats: Vec<RosterSeat>,
}

/// Reads a spreadsheet into a roster and keeps nothing: the app shows it
/// (or every problem in it) and puts it into the meeting being edited,
/// which is saved, checked as a whole, only when the secretariat saves it.
async fn read_roster(
    State(office): State<Office>,
    headers: HeaderMap,
    Query(query): Query<RosterQuery>,
    body: Bytes,
) -> Result<Json<RosterRead>, Refusal> {
    office.desk.session_valid(&headers)?;
    let refuse = |reason: ProblemReason| Refusal::InvalidRoster(vec![Problem::file(reason)]);
    let encoding = query.encoding.as_deref().unwrap_or("auto");
    let encoding = CsvEncoding::named(encoding).ok_or_else(|| {
        refuse(ProblemReason::UnknownEncoding {
            value: encoding.to_owned(),
        })
    })?;
    let sheet = match query.format.as_str() {
        "xlsx" => Sheet::Xlsx,
        "csv" => Sheet::Csv(encoding),
        other => {
            return Err(refuse(ProblemReason::UnknownFormat {
                value: other.to_owned(),
            }));
        }
    };
    let seats = roster::read(&body, sheet, query.seats).map_err(Refusal::InvalidRoster)?;
    Ok(Json(RosterRead { seats }))
}

/// How long the codes on a set of enrollment cards stay valid: printed the
/// day before, handed out at the door.
const CARD_TTL_HOURS: u32 = 72;

#[derive(Deserialize)]
struct CardsBody {
    /// The tablet app's address as the hall's tablets reach it
    /// (`http://hall:8080/tablet/`): the app knows it, the server may not.
    tablet_url: String,
}

/// One seat's enrollment card: who sits there, its one-time code, and a QR
/// code of the link that opens the tablet app with that code.
#[derive(Serialize)]
struct Card {
    seat: u32,
    name: String,
    group: String,
    title: String,
    code: String,
    link: String,
    /// The QR code as an SVG document.
    qr_svg: String,
}

#[derive(Serialize)]
struct Cards {
    title: String,
    body: String,
    cards: Vec<Card>,
}

/// The link a card's QR code holds: the tablet app with `?code=`, which the
/// app takes out of its address and enrolls with.
fn card_link(tablet_url: &str, code: &str) -> Result<String, Refusal> {
    let web = tablet_url.starts_with("http://") || tablet_url.starts_with("https://");
    if !web || tablet_url.contains(['?', '#']) || tablet_url.len() > 200 {
        return Err(Refusal::InvalidLink(format!(
            "{tablet_url:?} is not the tablet app's address: http(s)://host[:port]/tablet/, without ? or #"
        )));
    }
    Ok(format!("{tablet_url}?code={code}"))
}

/// The card of `seat` with its new `code`.
fn card(seat: &SeatDefinition, code: String, tablet_url: &str) -> Result<Card, Refusal> {
    let link = card_link(tablet_url, &code)?;
    Ok(Card {
        seat: seat.number,
        name: seat.name.clone(),
        group: seat.group.clone(),
        title: seat.title.clone(),
        qr_svg: qr_svg(&link)?,
        code,
        link,
    })
}

fn qr_svg(link: &str) -> Result<String, Refusal> {
    let code = QrCode::new(link.as_bytes())
        .map_err(|e| Refusal::InvalidLink(format!("no QR code holds {link:?}: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

/// Issues a fresh one-time code for every seat of the meeting and answers
/// with the cards to print. Codes are shown once, here, and only their
/// hashes are kept; printing again issues new ones, and any code not yet
/// used still works until it expires.
async fn cards(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<CardsBody>,
) -> Result<Json<Cards>, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    card_link(&body.tablet_url, "")?;
    let principals: Vec<Principal> = definition
        .seats
        .iter()
        .map(|s| Principal::Seat(s.number))
        .collect();
    let issued = enrollment::issue(
        office.hub.store(),
        &definition.id,
        &principals,
        CARD_TTL_HOURS,
    )
    .await?;
    let cards = definition
        .seats
        .iter()
        .zip(issued)
        .map(|(seat, (_, code))| card(seat, code, &body.tablet_url))
        .collect::<Result<Vec<Card>, Refusal>>()?;
    tracing::info!(%id, seats = cards.len(), "the secretariat printed enrollment cards");
    Ok(Json(Cards {
        title: definition.title,
        body: definition.body,
        cards,
    }))
}

/// One seat (or the chair's console) and its device: whether a key is
/// enrolled for it, whether that device is connected now, and when this
/// server last saw it (absent if not since it started).
#[derive(Serialize)]
struct Device {
    /// Absent for the chair's console.
    #[serde(skip_serializing_if = "Option::is_none")]
    seat: Option<u32>,
    name: String,
    group: String,
    enrolled: bool,
    online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<u64>,
}

#[derive(Serialize)]
struct Devices {
    /// The chair's console first, then every seat in order.
    devices: Vec<Device>,
}

/// Which seats have a tablet and which have been seen, for handing out
/// the devices and finding the ones missing before a session opens: asked
/// of the meeting's node, to which its devices connect.
async fn devices(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let answer = owner::at_owner(&office.hub, &definition.id, owner::Call::Devices).await?;
    Ok(answer.into_response())
}

/// The devices of the meeting `handle` serves, as this node sees them.
fn devices_of(handle: &MeetingHandle) -> Devices {
    let enrolled = handle.enrolled();
    let presence = handle.presence();
    let device = |principal: Principal, name: String, group: String| {
        let seen = presence.get(&principal);
        Device {
            seat: match principal {
                Principal::Seat(n) => Some(n),
                Principal::Chair => None,
            },
            name,
            group,
            enrolled: enrolled.contains(&principal),
            online: seen.is_some_and(|p| p.connections > 0),
            last_seen: seen.map(|p| p.last_seen),
        }
    };
    let mut devices = vec![device(Principal::Chair, String::new(), String::new())];
    devices.extend(
        handle
            .definition
            .seats
            .iter()
            .map(|s| device(Principal::Seat(s.number), s.name.clone(), s.group.clone())),
    );
    Devices { devices }
}

/// Revokes the key of a seat's device (a lost or broken tablet) and issues
/// the seat a new code, answered as its card to print or read out. The
/// revocation is in the meeting's audit chain; the old key is refused from
/// then on, with its reason, and its live sessions end at once: the
/// revocation is made by the meeting's node, whichever node the call
/// reached, and refused there before the call is answered.
async fn revoke(
    State(office): State<Office>,
    headers: HeaderMap,
    Path((id, seat)): Path<(String, u32)>,
    Json(body): Json<CardsBody>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    card_link(&body.tablet_url, "")?;
    let sits = definition
        .seats
        .iter()
        .find(|s| s.number == seat)
        .ok_or(Refusal::NoDevice(seat))?;
    let principal = Principal::Seat(seat);
    let revoked =
        owner::at_owner(&office.hub, &definition.id, owner::Call::Revoke { seat }).await?;
    if !revoked.is_done() {
        return Ok(revoked.into_response());
    }
    let issued = enrollment::issue(
        office.hub.store(),
        &definition.id,
        &[principal],
        CARD_TTL_HOURS,
    )
    .await?;
    let (_, code) = issued.into_iter().next().expect("one code was issued");
    tracing::info!(%id, seat, "the secretariat revoked a seat's device and issued a new code");
    Ok(Json(card(sits, code, &body.tablet_url)?).into_response())
}

/// One round of an item as the secretariat's meeting view lists it.
#[derive(Serialize)]
struct RoundLine {
    status: RoundStatus,
    opened_at: u64,
    closed_at: Option<u64>,
    /// Absent while a secret round's result awaits the counting board and
    /// the chair's announcement: the secretariat learns it with the hall.
    result: Option<RoundResult>,
    by_hand: Option<ByHand>,
}

impl RoundLine {
    /// A round recorded by hand as the app is told of it: its result is
    /// everyone's at once, as a show of hands is.
    fn of(round: RoundRecord) -> RoundLine {
        RoundLine {
            status: round.status,
            opened_at: round.opened_at,
            closed_at: round.closed_at,
            result: round.result,
            by_hand: round.by_hand,
        }
    }
}

/// An agenda item, how it is voted on, and its rounds.
#[derive(Serialize)]
struct ItemLine {
    index: u32,
    topic: String,
    title: String,
    /// `yes_no` or `list`; absent for an item that is not voted on.
    ballot: Option<&'static str>,
    secret: bool,
    /// A list's kind, posts and entries: the rows of its count by hand.
    paper: Option<PaperList>,
    rounds: Vec<RoundLine>,
}

#[derive(Serialize)]
struct MeetingResults {
    id: String,
    title: String,
    body: String,
    state: MeetingState,
    /// When the chair closed the session (Unix milliseconds), if it has.
    closed_at: Option<u64>,
    total_seats: u32,
    /// The council's words for the three choices.
    labels: Labels,
    /// The item whose round is open on the devices, if one is.
    open_item: Option<u32>,
    items: Vec<ItemLine>,
}

/// The meeting's items with their rounds and results: the secretariat's
/// view of a session under way or finished, where it records a result by
/// hand and downloads the record.
async fn results(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<MeetingResults>, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let store = office.hub.store();
    let rounds = store.rounds(&definition.id).await?;
    let meeting = store
        .meetings()
        .await?
        .into_iter()
        .find(|m| m.id == definition.id)
        .ok_or_else(|| Refusal::UnknownMeeting(id.clone()))?;
    let awaiting = |r: &RoundRecord| {
        r.settings.secrecy == Secrecy::Secret
            && r.by_hand.is_none()
            && !definition.counting_board.is_empty()
            && r.announced_at.is_none()
    };
    let items = definition
        .agenda
        .iter()
        .map(|item| ItemLine {
            index: item.index,
            topic: item.topic.clone(),
            title: item.title.clone(),
            ballot: item.vote.map(|_| {
                if item.paper.is_some() {
                    "list"
                } else {
                    "yes_no"
                }
            }),
            secret: item.vote.is_some_and(|v| v.secrecy == Secrecy::Secret),
            paper: item.paper.clone(),
            rounds: rounds
                .iter()
                .filter(|r| r.item == item.index)
                .map(|r| RoundLine {
                    status: r.status,
                    opened_at: r.opened_at,
                    closed_at: r.closed_at,
                    result: r.result.clone().filter(|_| !awaiting(r)),
                    by_hand: r.by_hand.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(Json(MeetingResults {
        id: definition.id.to_string(),
        state: MeetingState::of(&meeting, &rounds),
        closed_at: meeting.closed_at,
        open_item: rounds
            .iter()
            .find(|r| r.status == RoundStatus::Open)
            .map(|r| r.item),
        total_seats: definition.total_seats,
        labels: definition.labels,
        title: definition.title,
        body: definition.body,
        items,
    }))
}

/// Counts as the app sends them: any JSON value, so that a negative count,
/// a fraction or an empty field is told as such, with its field, rather than
/// as a body that does not parse. A paper vote adds the counting board's
/// `ballots` (`issued`, `returned`, `invalid`); a list sends `marks`, one
/// row per entry of each mark's count, instead of `yes`, `no` and `abstain`.
#[derive(Deserialize)]
struct HandBody {
    #[serde(default)]
    present: serde_json::Value,
    #[serde(default)]
    yes: serde_json::Value,
    #[serde(default)]
    no: serde_json::Value,
    #[serde(default)]
    abstain: serde_json::Value,
    #[serde(default)]
    ballots: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    marks: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    by: String,
}

/// `value` as a count, or why it is not one, naming its field.
fn count(field: &str, value: &serde_json::Value) -> Result<u32, Refusal> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            Refusal::HandCount(HandRefusal::Counts {
                field: field.to_owned(),
                message: format!("{field} is {value}: a count is a whole number, 0 or more"),
            })
        })
}

impl HandBody {
    /// The figures as counts, each refused with its field when it is not one.
    fn figures(&self) -> Result<(Option<Ballots>, HandVotes), Refusal> {
        let ballots = self
            .ballots
            .as_ref()
            .map(|b| {
                let figure = |name: &str| {
                    count(
                        &format!("ballots.{name}"),
                        b.get(name).unwrap_or(&serde_json::Value::Null),
                    )
                };
                Ok::<_, Refusal>(Ballots {
                    issued: figure("issued")?,
                    returned: figure("returned")?,
                    invalid: figure("invalid")?,
                })
            })
            .transpose()?;
        let votes = match &self.marks {
            Some(rows) => HandVotes::Marks(
                rows.iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let field = format!("marks.{i}");
                        row.as_array()
                            .ok_or_else(|| {
                                Refusal::HandCount(HandRefusal::Counts {
                                    field: field.clone(),
                                    message: format!(
                                        "{field} is {row}: an entry's figures are a list of counts"
                                    ),
                                })
                            })?
                            .iter()
                            .map(|n| count(&field, n))
                            .collect()
                    })
                    .collect::<Result<_, _>>()?,
            ),
            None => HandVotes::Choices {
                yes: count("yes", &self.yes)?,
                no: count("no", &self.no)?,
                abstain: count("abstain", &self.abstain)?,
            },
        };
        Ok((ballots, votes))
    }
}

/// Records the figures of a show of hands or of the counting board's record
/// of a paper vote for an item, when the devices failed: stored as a round
/// with no ballots, marked as recorded by hand by the name given and this
/// session's device, in the audit chain, and shown at once on every screen
/// of the meeting. Decided by the meeting's actor, on its node, whichever
/// node the call reached.
async fn record_by_hand(
    State(office): State<Office>,
    headers: HeaderMap,
    Path((id, item)): Path<(String, u32)>,
    Json(body): Json<HandBody>,
) -> Result<Response, Refusal> {
    let device = office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let (ballots, votes) = body.figures()?;
    let call = owner::Call::ByHand(Box::new(HandCount {
        item,
        present: count("present", &body.present)?,
        ballots,
        votes,
        by: body.by,
        device,
    }));
    let answer = owner::at_owner(&office.hub, &definition.id, call).await?;
    if answer.is_done() {
        tracing::info!(%id, item, "the secretariat recorded a result by hand");
    }
    Ok(answer.into_response())
}

impl From<ExportError> for Refusal {
    fn from(error: ExportError) -> Refusal {
        match error {
            ExportError::UnknownMeeting(id) => Refusal::UnknownMeeting(id.to_string()),
            ExportError::Busy(_) => Refusal::Busy,
            other => {
                tracing::error!(error = %other, "the secretariat's download failed");
                Refusal::StoreUnavailable
            }
        }
    }
}

/// A file to save, named `file`.
fn attachment(content_type: &'static str, file: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The meeting's record, as `gavel export` writes it and `gavel verify`
/// checks it, signed with the server's key.
async fn record(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let bundle = office.hub.export(&definition.id).await?;
    Ok(attachment(
        "application/json",
        format!("{}.record.json", definition.id),
        bundle.to_json(),
    ))
}

#[derive(Deserialize)]
struct LangQuery {
    /// `vi` (the default) or `en`.
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Result<Lang, Refusal> {
        match self.lang.as_deref() {
            None | Some("vi") => Ok(Lang::Vi),
            Some("en") => Ok(Lang::En),
            Some(other) => Err(Refusal::InvalidLanguage(other.to_owned())),
        }
    }
}

fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "vi",
        Lang::En => "en",
    }
}

/// The minutes printed from the record, as `gavel export` writes them.
async fn minutes(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let lang = query.lang()?;
    let (_, definition) = stored(&office, &id).await?;
    let html = office.hub.minutes(&definition.id, lang).await?;
    Ok(attachment(
        "text/html; charset=utf-8",
        format!("{}.minutes.{}.html", definition.id, lang_tag(lang)),
        html,
    ))
}

/// The results table, one row per round, as `gavel export` writes it.
async fn results_csv(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, Refusal> {
    office.desk.session_valid(&headers)?;
    let lang = query.lang()?;
    let (_, definition) = stored(&office, &id).await?;
    let store = office.hub.store();
    let key = office.hub.server_signing_key();
    let options = MinutesOptions::default();
    let csv = export::results_csv(store, key, &definition.id, lang, &options).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("{}.results.{}.csv", definition.id, lang_tag(lang)),
        csv,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::EXAMPLE;
    use gavel_protocol::RoundId;

    fn round(item: u32, status: RoundStatus) -> RoundRecord {
        let definition = MeetingDefinition::parse(EXAMPLE).unwrap();
        let settings = definition.agenda[item as usize].vote.unwrap();
        RoundRecord {
            id: RoundId(rand::random()),
            meeting: definition.id,
            item,
            settings,
            opened_at: 0,
            deadline: 1,
            paused_at: None,
            status,
            closed_at: None,
            announced_at: None,
            result: None,
            documents: None,
            by_hand: None,
        }
    }

    #[test]
    fn a_meeting_is_upcoming_then_in_session_then_finished_when_the_chair_closes_it() {
        let mut stored = StoredMeeting {
            id: MeetingDefinition::parse(EXAMPLE).unwrap().id,
            definition: EXAMPLE.to_owned(),
            current_item: None,
            closed_at: None,
        };
        assert_eq!(MeetingState::of(&stored, &[]), MeetingState::Upcoming);
        let rounds = [round(0, RoundStatus::Closed)];
        assert_eq!(
            MeetingState::of(&stored, &rounds),
            MeetingState::InSession,
            "a result recorded before any item was put on the screens"
        );
        stored.current_item = Some(0);
        assert_eq!(MeetingState::of(&stored, &[]), MeetingState::InSession);
        assert_eq!(
            MeetingState::of(&stored, &rounds),
            MeetingState::InSession,
            "every vote taken is not the session's end: reports and questions may follow"
        );
        stored.closed_at = Some(1);
        assert_eq!(MeetingState::of(&stored, &rounds), MeetingState::Finished);
    }
}
