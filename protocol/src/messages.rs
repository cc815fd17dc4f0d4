//! The JSON frames of the WebSocket protocol. Every frame is an object with a
//! `type` field; see `PROTOCOL.md` for the conversation and an example of each.
//!
//! Requests that expect an answer carry a client-chosen `id`, echoed in the
//! `ack`, `done` or `refused` that answers them. State reaches clients as a
//! full `snapshot` and then versioned `tally` updates; a client that misses
//! something asks for (or is sent) a fresh snapshot rather than a replay.

use crate::board::{BoardView, Count, ToConfirm};
use crate::documents::RoundDocuments;
use crate::floor::{FloorKind, FloorSettings, FloorView, Respondent, Speaker};
use crate::paper::{Mark, Paper, PaperError, PaperKind, Sheet, Vote};
use crate::results::RoundResult;
use crate::rules::{Counts, TallyResult, Threshold, VoteSettings};
use crate::{Choice, MeetingId, Principal, PublicKey, RoundId, SeatNo, Sha, Signature};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A frame a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Binds a new key to the seat (or the chair) that a one-time code was issued for.
    Enroll {
        v: u32,
        code: String,
        public_key: PublicKey,
        signature: Signature,
    },
    /// Logs in an enrolled key by signing the server's challenge.
    Auth {
        v: u32,
        meeting: MeetingId,
        public_key: PublicKey,
        signature: Signature,
    },
    /// Follows a meeting read-only, as the hall screen and the public do.
    Watch { v: u32, meeting: MeetingId },
    /// A delegate reports present.
    CheckIn { id: u64 },
    /// A delegate's signed ballot for the open round.
    Cast {
        id: u64,
        round: RoundId,
        /// The digest of the round's documents, as signed.
        documents: Sha,
        choice: Choice,
        seq: u64,
        signature: Signature,
    },
    /// A delegate's signed ballot paper for the open round on a list item:
    /// the marks in canonical order ([`crate::paper`]), one signature.
    CastPaper {
        id: u64,
        round: RoundId,
        /// The digest of the round's documents, as signed.
        documents: Sha,
        kind: PaperKind,
        marks: Vec<Mark>,
        seq: u64,
        signature: Signature,
    },
    /// A counting board member's device confirms the count of the closed
    /// secret round `round`, as the close computed it, signed with the
    /// `count_confirmation` layout.
    ConfirmCount {
        id: u64,
        round: RoundId,
        count: Count,
        signature: Signature,
    },
    /// A command from the chair's console.
    Chair { id: u64, command: ChairCommand },
    /// Asks for a fresh snapshot (and, for a delegate, its own state).
    Sync { id: u64 },
    /// The chair asks for a download of the meeting's record (the bundle
    /// `gavel verify` checks); answered by `export_ready`.
    Export { id: u64 },
    /// A delegate asks for the floor on `item`, which must be the one under
    /// discussion. A question names its `respondent` (an index into the
    /// meeting's respondents) and is only put in a question session.
    FloorRequest {
        id: u64,
        item: u32,
        kind: FloorKind,
        respondent: Option<u32>,
        topic: Option<String>,
    },
    /// A delegate withdraws its waiting request on `item`.
    FloorWithdraw { id: u64, item: u32 },
}

impl ClientMsg {
    /// The frame's `type`, as written on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMsg::Enroll { .. } => "enroll",
            ClientMsg::Auth { .. } => "auth",
            ClientMsg::Watch { .. } => "watch",
            ClientMsg::CheckIn { .. } => "check_in",
            ClientMsg::Cast { .. } => "cast",
            ClientMsg::CastPaper { .. } => "cast_paper",
            ClientMsg::ConfirmCount { .. } => "confirm_count",
            ClientMsg::Chair { .. } => "chair",
            ClientMsg::Sync { .. } => "sync",
            ClientMsg::Export { .. } => "export",
            ClientMsg::FloorRequest { .. } => "floor_request",
            ClientMsg::FloorWithdraw { .. } => "floor_withdraw",
        }
    }

    /// The request id to echo in a refusal, where the frame has one.
    pub fn request_id(&self) -> Option<u64> {
        match self {
            ClientMsg::CheckIn { id }
            | ClientMsg::Cast { id, .. }
            | ClientMsg::CastPaper { id, .. }
            | ClientMsg::ConfirmCount { id, .. }
            | ClientMsg::Chair { id, .. }
            | ClientMsg::Sync { id }
            | ClientMsg::Export { id }
            | ClientMsg::FloorRequest { id, .. }
            | ClientMsg::FloorWithdraw { id, .. } => Some(*id),
            ClientMsg::Enroll { .. } | ClientMsg::Auth { .. } | ClientMsg::Watch { .. } => None,
        }
    }
}

/// What the chair can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChairCommand {
    /// Makes agenda item `item` (0-based) the current one.
    SetItem { item: u32 },
    /// Opens a vote round on the current item, with the item's settings and
    /// its window unless `window_seconds` is given.
    Open { window_seconds: Option<u32> },
    /// Moves the open round's deadline `seconds` later.
    Extend { seconds: u32 },
    /// Holds the open round: the clock stops and ballots are refused
    /// (`round_paused`) until [`ChairCommand::Resume`].
    Pause,
    /// Resumes a paused round with the time it had left: its deadline moves
    /// by the length of the pause.
    Resume,
    /// Closes the open round now; its tally is committed and announced.
    Close,
    /// Cancels the open round; its ballots are kept but nothing is decided.
    /// A re-vote is a new round on the same item.
    Void,
    /// Announces the provisional result of the last round, a secret round
    /// the counting board has confirmed: everyone sees it from then on.
    Announce,
    /// Adds a speaker without a tablet (a guest, a respondent) to the
    /// current item's queue, or a request on a seat's behalf.
    FloorAdd {
        kind: FloorKind,
        speaker: Speaker,
        respondent: Option<u32>,
        topic: Option<String>,
    },
    /// Moves a waiting request to `place` (0 for the front).
    FloorMove { request: u64, place: u32 },
    /// Gives the floor to a waiting request (the next one if `request` is
    /// null), with the kind's time limit unless `limit_seconds` is given.
    FloorGive {
        request: Option<u64>,
        limit_seconds: Option<u32>,
    },
    /// Holds the speaker's clock.
    FloorPause,
    /// Starts the held clock again.
    FloorResume,
    /// Gives the running turn more time.
    FloorAddTime { seconds: u32 },
    /// Ends the running turn. A question is followed by its answer, an
    /// answer by the questioner's follow-up while the rules allow one.
    FloorEnd,
    /// Puts page `page` (from 1) of a document of the meeting (named by its
    /// `sha256`, at the version the view lists) before the hall; tablets
    /// that follow turn to it. Turning the page is presenting the next one.
    Present { document: String, page: u32 },
    /// Takes the presented page down.
    StopPresenting,
    /// Replaces the list of agenda item `item`'s paper (an election's
    /// candidates, a rating's or no-confidence vote's officials) before any
    /// round was held on it; `posts` sets an election's posts (its current
    /// ones if absent) and is absent for the other kinds. Audited as an
    /// amendment of the meeting by the chair; every device then fetches the
    /// new meeting view.
    SetList {
        item: u32,
        posts: Option<u16>,
        entries: Vec<ListEntry>,
    },
    /// Closes the session (bế mạc): refused `session_busy` while a round is
    /// open or paused, a secret round's result awaits its announcement, or
    /// someone has the floor. Final: from then on opening a round, the
    /// floor, presenting, moving the item and counts by hand are refused
    /// `session_closed`, and there is no command to reopen (a session that
    /// must go on is a new meeting: the close is what the minutes and the
    /// public page print as the end of the record).
    CloseSession,
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The first frame on every connection.
    Challenge {
        v: u32,
        nonce: String,
        server_key: PublicKey,
        server_time: u64,
    },
    /// The key is now bound to `principal` in `meeting`; log in with `auth` next.
    Enrolled {
        meeting: MeetingId,
        principal: Principal,
    },
    /// The session is open; `principal` is absent for a watcher. The meeting
    /// itself (roster, agenda) is not in the frame: it is fetched once over
    /// HTTP (`GET /api/meetings/{meeting}/view`) and checked against
    /// `view_hash`, so that a 10,000-seat roster is neither serialized per
    /// connection nor held in every connection's write buffer.
    Welcome {
        meeting: MeetingId,
        principal: Option<Principal>,
        /// [`view_hash`] of the served view's bytes.
        view_hash: String,
    },
    /// The whole live state of the meeting.
    /// Boxed: by far the largest frame, it would make every other frame as large.
    Snapshot(Box<Snapshot>),
    /// A coalesced change of the open round's live tally.
    Tally {
        version: u64,
        round: RoundId,
        live: LiveTally,
        /// When the server emitted this update, in Unix microseconds: lets a
        /// client (and the benchmark swarm) measure how long fan-out took,
        /// which on a quick machine is a few milliseconds for a thousand
        /// tablets, too short to time in whole milliseconds.
        server_time_us: u64,
    },
    /// A delegate's own state: checked in, and its recorded ballot in the open
    /// or last round of the current item.
    You {
        principal: Principal,
        checked_in: bool,
        ballot: Option<AnyReceipt>,
        /// To a counting board member while the last round's result is
        /// provisional: the count to confirm, as the close computed it.
        #[serde(default)]
        to_confirm: Option<ToConfirm>,
    },
    /// A ballot is durably recorded and counted.
    Ack { id: u64, receipt: Receipt },
    /// A ballot paper is durably recorded and counted: one receipt for the
    /// whole paper.
    PaperAck {
        id: u64,
        paper_receipt: PaperReceipt,
    },
    /// A request other than a ballot succeeded.
    Done { id: u64 },
    /// Answers `export`: the record can be fetched once from `url` (a path
    /// on this server) until `expires_at` (Unix milliseconds).
    ExportReady {
        id: u64,
        url: String,
        expires_at: u64,
    },
    /// Sent after `welcome` to the chair and to delegates: the token that
    /// opens the meeting's delegates-only documents over HTTP, as the header
    /// `X-Gavel-Document-Access` or the query parameter `access`. It is valid
    /// while this session lasts and for a few minutes after, so that a
    /// download started just before a reconnect still completes.
    DocumentAccess { token: String },
    /// The floor on the item under discussion: the turn, the queue.
    Floor(FloorView),
    /// A frame or request was refused; nothing changed.
    Refused {
        id: Option<u64>,
        reason: RefusalReason,
        message: String,
    },
}

/// The server's signed proof that a ballot was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub meeting: MeetingId,
    pub round: RoundId,
    /// The documents digest the ballot signed; null only for a round
    /// recorded before version 4.
    #[serde(default)]
    pub documents: Option<Sha>,
    pub seat: SeatNo,
    pub choice: Choice,
    pub seq: u64,
    /// When the ballot was committed, in Unix milliseconds (server clock).
    pub recorded_at: u64,
    /// The server's signature over the receipt layout (see `signing`).
    pub server_signature: Signature,
}

impl Receipt {
    /// The server's receipt for a recorded ballot, signed with `server_key`.
    /// The one function that issues receipts: the server's writer, its
    /// restart and its export all call it. Ed25519 is deterministic, so the
    /// same ballot always gets the same receipt, also when rebuilt after a
    /// restart or for the record.
    pub fn issue(
        server_key: &SigningKey,
        ballot: &crate::signing::BallotContent,
        recorded_at: u64,
    ) -> Receipt {
        Receipt {
            meeting: ballot.meeting.clone(),
            round: ballot.round,
            documents: ballot.documents,
            seat: ballot.seat,
            choice: ballot.choice,
            seq: ballot.seq,
            recorded_at,
            server_signature: Signature::sign(server_key, &ballot.receipt_bytes(recorded_at)),
        }
    }

    /// Checks the server's signature on this receipt.
    pub fn verify(&self, server_key: &PublicKey) -> Result<(), crate::signing::SignatureError> {
        let content = crate::signing::BallotContent {
            meeting: &self.meeting,
            round: self.round,
            documents: self.documents,
            seat: self.seat,
            choice: self.choice,
            seq: self.seq,
        };
        server_key.verify(
            &content.receipt_bytes(self.recorded_at),
            &self.server_signature,
        )
    }
}

/// The server's signed proof that a ballot paper was recorded, with every
/// mark, so the receipt alone shows what was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperReceipt {
    pub meeting: MeetingId,
    pub round: RoundId,
    /// As a ballot's receipt's.
    #[serde(default)]
    pub documents: Option<Sha>,
    pub seat: SeatNo,
    pub seq: u64,
    pub kind: PaperKind,
    pub marks: Vec<Mark>,
    /// When the paper was committed, in Unix milliseconds (server clock).
    pub recorded_at: u64,
    /// The server's signature over the paper-receipt layout.
    pub server_signature: Signature,
}

impl PaperReceipt {
    /// The server's receipt for a recorded paper, as [`Receipt::issue`] is
    /// for a ballot: deterministic, so rebuilt identically for the record.
    pub fn issue(
        server_key: &SigningKey,
        paper: &crate::signing::PaperContent,
        recorded_at: u64,
    ) -> PaperReceipt {
        PaperReceipt {
            meeting: paper.meeting.clone(),
            round: paper.round,
            documents: paper.documents,
            seat: paper.seat,
            seq: paper.seq,
            kind: paper.kind,
            marks: paper.marks.to_vec(),
            recorded_at,
            server_signature: Signature::sign(server_key, &paper.receipt_bytes(recorded_at)),
        }
    }

    /// Checks the server's signature on this receipt.
    pub fn verify(&self, server_key: &PublicKey) -> Result<(), crate::signing::SignatureError> {
        let content = crate::signing::PaperContent {
            meeting: &self.meeting,
            round: self.round,
            documents: self.documents,
            seat: self.seat,
            seq: self.seq,
            kind: self.kind,
            marks: &self.marks,
        };
        server_key.verify(
            &content.receipt_bytes(self.recorded_at),
            &self.server_signature,
        )
    }
}

/// A recorded ballot's receipt, of either kind: what a seat's ballot in a
/// round is answered with, and what `you.ballot` carries. On the wire it is
/// the receipt itself (a paper's has `kind` and `marks` where a ballot's has
/// `choice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnyReceipt {
    Choice(Receipt),
    Paper(PaperReceipt),
}

impl AnyReceipt {
    pub fn seq(&self) -> u64 {
        match self {
            AnyReceipt::Choice(r) => r.seq,
            AnyReceipt::Paper(r) => r.seq,
        }
    }

    pub fn server_signature(&self) -> &Signature {
        match self {
            AnyReceipt::Choice(r) => &r.server_signature,
            AnyReceipt::Paper(r) => &r.server_signature,
        }
    }

    /// What the receipt says was recorded.
    pub fn vote(&self) -> Vote {
        match self {
            AnyReceipt::Choice(r) => Vote::Choice(r.choice),
            AnyReceipt::Paper(r) => Vote::Paper(Paper {
                kind: r.kind,
                marks: r.marks.clone(),
            }),
        }
    }

    /// The frame that acknowledges request `id` with this receipt.
    pub fn ack(self, id: u64) -> ServerMsg {
        match self {
            AnyReceipt::Choice(receipt) => ServerMsg::Ack { id, receipt },
            AnyReceipt::Paper(paper_receipt) => ServerMsg::PaperAck { id, paper_receipt },
        }
    }
}

/// The meeting as configured: served once over HTTP as the JSON of this
/// struct, the same bytes for every client, named in `welcome` by their hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingView {
    pub id: MeetingId,
    pub title: String,
    pub body: String,
    pub total_seats: u32,
    /// The share of all seats that must be present for the meeting to
    /// proceed: a People's Council needs at least two thirds of its
    /// delegates; other bodies set their own.
    pub quorum: Threshold,
    pub labels: Labels,
    pub seats: Vec<SeatView>,
    pub agenda: Vec<ItemView>,
    /// Who can be questioned in a question session; a question names one
    /// by its index in this list.
    #[serde(default)]
    pub respondents: Vec<Respondent>,
    /// The time limits of turns at the floor.
    #[serde(default)]
    pub floor: FloorSettings,
}

/// The hash that names a served meeting view: the SHA-256 of its bytes, in
/// lower-case hex. A client checks the bytes it fetched against the hash in
/// its `welcome`, and keeps one parsed view per hash.
pub fn view_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The words a council uses for the three choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    pub yes: String,
    pub no: String,
    pub abstain: String,
}

/// The words of a People's Council's resolutions, which a meeting file
/// that names no labels gets.
impl Default for Labels {
    fn default() -> Labels {
        Labels {
            yes: "Tán thành".into(),
            no: "Không tán thành".into(),
            abstain: "Không biểu quyết".into(),
        }
    }
}

impl Labels {
    pub fn of(&self, choice: Choice) -> &str {
        match choice {
            Choice::Yes => &self.yes,
            Choice::No => &self.no,
            Choice::Abstain => &self.abstain,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatView {
    pub number: SeatNo,
    pub name: String,
    pub group: String,
}

/// The kind of an agenda item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Report,
    Proposal,
    DraftResolution,
    QuestionSession,
    Election,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemView {
    /// 0-based position in the agenda.
    pub index: u32,
    /// The topic the item is grouped under.
    pub topic: String,
    pub kind: ItemKind,
    pub title: String,
    /// Absent for items that are not voted on (a report, a question session).
    pub vote: Option<VoteSettings>,
    /// The item's documents, each at its latest version, in the order the
    /// meeting file lists them. Fetched by hash from
    /// `GET /api/meetings/{meeting}/documents/{sha256}`.
    #[serde(default)]
    pub documents: Vec<DocumentView>,
    /// The list a voted item puts on a ballot paper; absent (`null`) for a
    /// yes/no/abstain item.
    #[serde(default)]
    pub paper: Option<PaperList>,
}

/// An item's ballot paper: its kind, the posts an election fills, and the
/// candidates or officials in the order the paper's marks number them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperList {
    pub kind: PaperKind,
    /// The posts an election fills (the most candidates a paper approves);
    /// 0 for a rating or a no-confidence vote.
    pub posts: u16,
    pub entries: Vec<ListEntry>,
}

impl PaperList {
    /// What a paper is checked against.
    pub fn sheet(&self) -> Sheet {
        Sheet {
            kind: self.kind,
            entries: u16::try_from(self.entries.len())
                .expect("a list has fewer than 65536 entries"),
            posts: self.posts,
        }
    }
}

/// A candidate, or an official with the post they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub name: String,
    /// The post held (an official's) or stood for (a candidate's); may be empty.
    pub post: String,
}

/// What a document is to the item: the papers a People's Council item
/// comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Tờ trình: the proposal submitted to the council.
    Submission,
    /// Báo cáo.
    Report,
    /// Dự thảo nghị quyết.
    DraftResolution,
    Other,
}

/// One document of an agenda item, at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub title: String,
    pub kind: DocumentKind,
    /// SHA-256 of the file, lower-case hex: its name on the server.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// Open to anyone; otherwise only to a logged-in delegate or the chair,
    /// with the `document_access` token of its session.
    pub public: bool,
    /// 1 for the file first imported, then one more per replacement.
    pub version: u32,
    /// When the server stored this version, in Unix milliseconds: a tablet
    /// shows it beside a new version, the same on every device, unlike
    /// when each device happened to receive it.
    pub stored_at: u64,
}

/// The live state of a meeting. `version` grows with every frame that changes
/// what a client shows, snapshots and tally updates alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u64,
    pub server_time: u64,
    pub meeting: MeetingId,
    pub current_item: Option<u32>,
    /// How many seats are checked in.
    pub present: u32,
    /// Which seats are checked in, in order: for the chair, and for everyone
    /// while a named round shows individual choices (the hall screen's seat
    /// map marks who is absent). Otherwise absent, so that a snapshot to a
    /// delegate does not grow with the size of the hall.
    pub present_seats: Option<Vec<SeatNo>>,
    pub items: Vec<ItemState>,
    /// The open round, or the last round of the session once it has ended.
    pub round: Option<RoundView>,
    /// Whether the hub can write to its store right now. While it cannot,
    /// nothing new is recorded (ballots are refused `store_unavailable`), so
    /// the chair must know; the hub keeps trying and says `ok` again by itself.
    pub store: StoreHealth,
    /// The document page the chair puts before the hall, if any. Watchers
    /// (the hall screen, the public) are shown only a public document's
    /// page: they hold no token for the others.
    #[serde(default)]
    pub presentation: Option<Presentation>,
    /// When the chair closed the session (Unix milliseconds); absent while
    /// it is under way. Screens show the session closed from it, and the
    /// public page its record.
    #[serde(default)]
    pub closed_at: Option<u64>,
}

/// A page of a document put before the hall by the chair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presentation {
    /// The agenda item whose document it is.
    pub item: u32,
    /// The document's SHA-256, as in the meeting view.
    pub document: String,
    /// The page shown, from 1.
    pub page: u32,
    /// How many pages the document has, so that a console can offer the
    /// next page without opening the PDF.
    pub pages: u32,
}

/// The hub's store as the chair's console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreHealth {
    Ok,
    /// The last write failed; the hub retries until one succeeds.
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// No vote has decided it yet.
    Pending,
    Voting,
    Passed,
    NotPassed,
    /// Its last round was on a list and has closed: the result says who was
    /// elected or which officials are flagged.
    Counted,
    /// Its last round was voided and no later round decided it.
    Voided,
    /// Its last round was secret and has closed; the counting board is
    /// confirming the count, and nobody but the chair sees the result until
    /// the chair announces it.
    Provisional,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    pub index: u32,
    pub status: ItemStatus,
    /// The deciding result, once a round has closed.
    pub result: Option<RoundResult>,
    /// Set when the deciding result was recorded by hand.
    #[serde(default)]
    pub by_hand: Option<ByHand>,
}

/// A result the secretariat recorded by hand, when the hall voted by a show
/// of hands or on paper because the devices failed: there are no ballots
/// behind it, so the screens and the record say who recorded it, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByHand {
    /// Who recorded it, as the secretariat typed their name.
    pub by: String,
    /// The secretariat device that recorded it.
    pub device: PublicKey,
    /// When the hub stored it (Unix milliseconds).
    pub at: u64,
    /// The ballot papers, when the counting board counted papers (a secret
    /// item, an election, a confidence vote) and signed its record (biên
    /// bản kiểm phiếu): absent for a show of hands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballots: Option<Ballots>,
}

/// The ballot papers of a vote counted by hand, as the counting board's
/// record states them. The valid ones are those returned less the invalid;
/// the result counts only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballots {
    /// Handed out, one to each delegate present who took one.
    pub issued: u32,
    /// Found in the ballot box.
    pub returned: u32,
    /// Returned but void (spoiled, or more marks than the paper allows).
    pub invalid: u32,
}

impl Ballots {
    /// The ballots the result counts; 0 for figures
    /// [`crate::hand::check_ballots`] refuses.
    pub fn valid(&self) -> u32 {
        self.returned.saturating_sub(self.invalid)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    Open,
    Closed,
    Voided,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundView {
    pub id: RoundId,
    pub item: u32,
    pub status: RoundStatus,
    pub settings: VoteSettings,
    /// Unix milliseconds.
    pub opened_at: u64,
    /// Unix milliseconds; after it the server refuses ballots and closes the round.
    pub deadline: u64,
    /// While the chair holds the round: when it was paused (Unix
    /// milliseconds). The time left is frozen at `deadline - paused_at`; on
    /// resume the deadline moves by the length of the pause.
    pub paused_at: Option<u64>,
    /// The versions of the item's documents the round is about, recorded
    /// when it opened; every ballot signs their digest. Absent only for a
    /// round opened before protocol version 4.
    #[serde(default)]
    pub versions: Option<RoundDocuments>,
    /// What this audience may see of the running tally while the round is open.
    pub live: Option<LiveTally>,
    /// The committed result once the round is closed; while the counting
    /// board's confirmations are awaited, the chair's console and the
    /// board's tablets alone get it.
    pub result: Option<RoundResult>,
    /// A closed secret round in a meeting with a counting board: who has
    /// confirmed its count and whether the chair has announced it.
    #[serde(default)]
    pub board: Option<BoardView>,
    /// Set when the round is a result recorded by hand: closed from the
    /// start, with no ballots.
    #[serde(default)]
    pub by_hand: Option<ByHand>,
}

impl RoundView {
    /// The closed round's tally, if it was voted with yes, no and abstain.
    pub fn tally(&self) -> Option<TallyResult> {
        self.result.as_ref()?.tally().copied()
    }
}

/// The running tally, cut to what the audience may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveTally {
    /// How many seats have a recorded ballot.
    pub taking_part: u32,
    /// Totals per choice, when the round's interim setting (or the chair's role) allows.
    pub counts: Option<Counts>,
    /// In a named round on a list, for each entry the count of each of its
    /// kind's marks, in mark order, when `counts` would be shown; never in
    /// a secret round.
    pub marks: Option<Vec<Vec<u32>>>,
    /// Which seats have voted: the chair's view, and everyone's in named rounds
    /// that show individual votes. Never what they chose in a secret round.
    pub voted: Option<Vec<SeatNo>>,
    /// Each seat's choice, only in named rounds whose interim setting is `individual`.
    pub choices: Option<Vec<SeatChoice>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChoice {
    pub seat: SeatNo,
    pub choice: Choice,
}

/// Why the server refused a frame or a request. Every refusal also carries a
/// human-readable message; clients branch on the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    #[error("the frame is not valid JSON or not a known message")]
    MalformedFrame,
    #[error("the protocol version is not supported")]
    UnsupportedVersion,
    #[error("log in (auth or watch) before sending this")]
    NotAuthenticated,
    #[error("this connection is already logged in")]
    AlreadyAuthenticated,
    #[error("no such meeting")]
    UnknownMeeting,
    #[error("this key is not enrolled in the meeting")]
    UnknownKey,
    /// The secretariat revoked the key (a lost device); the seat enrolls a
    /// new device with a new code.
    #[error("this device's key was revoked; enroll the device again with a new code")]
    KeyRevoked,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("no such enrollment code")]
    UnknownCode,
    #[error("the enrollment code has expired")]
    CodeExpired,
    #[error("the enrollment code was already used")]
    CodeUsed,
    #[error("too many attempts; wait and try again")]
    RateLimited,
    #[error("only a delegate's device may do this")]
    NotADelegate,
    #[error("only the chair's console may do this")]
    NotChair,
    #[error("check in before voting")]
    NotCheckedIn,
    #[error("no vote is open")]
    NoOpenRound,
    #[error("the ballot is for a round that is not the open one")]
    WrongRound,
    /// The ballot signs other versions of the item's documents than the
    /// round recorded when it opened: the delegate voted on another text.
    #[error("the ballot was signed on other versions of the item's documents than the round's")]
    DocumentsChanged,
    #[error("the voting window has closed")]
    Late,
    #[error("the chair has paused this vote")]
    RoundPaused,
    #[error("the ballot is not of the kind the item holds")]
    WrongBallotKind,
    #[error("more candidates approved than there are posts")]
    OverCap,
    #[error("no such candidate on the item's list")]
    UnknownCandidate,
    #[error("no such official on the item's list")]
    UnknownOfficial,
    #[error("no such level or mark on this kind of ballot")]
    UnknownLevel,
    #[error("a candidate or official is marked twice")]
    DuplicateEntry,
    #[error("the marks are not in ascending order of entry")]
    MarksOutOfOrder,
    #[error("this vote does not allow changing a ballot")]
    ChangeNotAllowed,
    /// A secret ballot recorded before the hub restarted still counts, but
    /// the hub no longer knows which choice row is the seat's: it keeps that
    /// link in memory only, so it cannot replace it.
    #[error("a secret ballot recorded before the server restarted cannot be changed")]
    ChangeLostInRestart,
    #[error("a later ballot from this seat is already recorded")]
    StaleSequence,
    #[error("the command does not fit the meeting's state")]
    InvalidCommand,
    #[error("the vote store is unavailable; the ballot was not recorded")]
    StoreUnavailable,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("that agenda item is not under discussion")]
    NotUnderDiscussion,
    #[error("this seat already has a request waiting")]
    AlreadyRequested,
    #[error("no such request is waiting")]
    NoSuchRequest,
    #[error("that person is not on the meeting's list of respondents")]
    UnknownRespondent,
    #[error("this kind of turn is not asked for on this item")]
    WrongFloorKind,
    #[error("the topic is too long")]
    TopicTooLong,
    #[error("a topic is one line of text, without control characters")]
    TopicNotText,
    #[error("the meeting's view lists no document with that hash")]
    UnknownDocument,
    #[error("the document has no such page")]
    NoSuchPage,
    #[error("only a member of the counting board may confirm a count")]
    NotOnBoard,
    #[error("the round is not a closed secret round awaiting the board")]
    NotProvisional,
    #[error("the count differs from the one the close computed")]
    CountMismatch,
    #[error("this member has already confirmed the count")]
    AlreadyConfirmed,
    #[error("too few board members have confirmed the count")]
    TooFewConfirmations,
    #[error("that agenda item is not voted on with a list")]
    NoList,
    #[error("that agenda item has had a round; it can no longer change")]
    ItemVoted,
    #[error("a list has between 1 and 200 candidates or officials")]
    ListLength,
    #[error("every candidate or official on the list needs a name")]
    NameMissing,
    #[error("a name is on the list twice")]
    NameTwice,
    #[error(
        "an election fills between 1 post and as many as it has candidates; other lists have no posts"
    )]
    PostsOutOfRange,
    /// The chair has closed the session; nothing more is decided in it.
    #[error("the session is closed")]
    SessionClosed,
    /// The session cannot close yet: a vote is open or paused, a result
    /// awaits its announcement, or someone has the floor.
    #[error(
        "the session cannot close while a vote, an announcement or a speaker's turn is pending"
    )]
    SessionBusy,
}

impl From<&PaperError> for RefusalReason {
    fn from(e: &PaperError) -> RefusalReason {
        match e {
            PaperError::WrongKind { .. } => RefusalReason::WrongBallotKind,
            PaperError::OverCap { .. } => RefusalReason::OverCap,
            PaperError::UnknownCandidate { .. } => RefusalReason::UnknownCandidate,
            PaperError::UnknownOfficial { .. } => RefusalReason::UnknownOfficial,
            PaperError::UnknownLevel { .. } => RefusalReason::UnknownLevel,
            PaperError::DuplicateEntry { .. } => RefusalReason::DuplicateEntry,
            PaperError::NotCanonical { .. } => RefusalReason::MarksOutOfOrder,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_receipt_verifies_with_the_servers_key_alone() {
        let server_key = SigningKey::from_bytes(&[9; 32]);
        let meeting = MeetingId::parse("m-1").unwrap();
        let ballot = crate::signing::BallotContent {
            meeting: &meeting,
            round: RoundId([3; 16]),
            documents: Some(crate::documents::digest(&[])),
            seat: 12,
            choice: Choice::No,
            seq: 4,
        };
        let receipt = Receipt::issue(&server_key, &ballot, 1_700_000_000_123);
        assert_eq!(
            (receipt.seat, receipt.seq, receipt.choice),
            (12, 4, Choice::No)
        );
        assert!(receipt.verify(&PublicKey::of(&server_key)).is_ok());
        // Deterministic: the same ballot gets the same receipt after a restart.
        assert_eq!(
            receipt,
            Receipt::issue(&server_key, &ballot, 1_700_000_000_123)
        );
        let other_key = SigningKey::from_bytes(&[8; 32]);
        assert!(receipt.verify(&PublicKey::of(&other_key)).is_err());
        let moved = Receipt {
            recorded_at: receipt.recorded_at + 1,
            ..receipt.clone()
        };
        assert!(moved.verify(&PublicKey::of(&server_key)).is_err());
        let other_text = Receipt {
            documents: Some(crate::documents::digest(&[Sha::of(b"another text")])),
            ..receipt
        };
        assert!(other_text.verify(&PublicKey::of(&server_key)).is_err());
    }

    #[test]
    fn client_frames_parse_from_their_documented_form() {
        let frame = r#"{"type":"chair","id":3,"command":{"action":"open","window_seconds":90}}"#;
        let msg: ClientMsg = serde_json::from_str(frame).unwrap();
        assert_eq!(
            msg,
            ClientMsg::Chair {
                id: 3,
                command: ChairCommand::Open {
                    window_seconds: Some(90)
                }
            }
        );
        let frame = r#"{"type":"check_in","id":1}"#;
        assert_eq!(
            serde_json::from_str::<ClientMsg>(frame).unwrap(),
            ClientMsg::CheckIn { id: 1 }
        );
    }

    #[test]
    fn unknown_fields_and_types_are_errors() {
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"check_in","id":1,"x":2}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"hack"}"#).is_err());
    }

    #[test]
    fn refusal_reasons_are_snake_case() {
        let msg = ServerMsg::Refused {
            id: Some(1),
            reason: RefusalReason::NotCheckedIn,
            message: "check in first".into(),
        };
        let json = serde_json::to_string(&msg).unwrap();
        assert!(json.contains(r#""reason":"not_checked_in""#), "{json}");
    }
}
