//! The hub's durable state: meetings and their definitions, enrollment codes
//! and device keys, attendance, vote rounds, ballots and committed tallies.
//!
//! The hub keeps every live meeting in memory (one actor each) and uses the
//! store for two things: nothing is acknowledged before it is committed here,
//! and a restarted hub rebuilds its meetings, open rounds and ballots from
//! here. What is stored:
//!
//! - `meetings`: the secretary's TOML definition and the current agenda item;
//! - `enrollment_codes`: SHA-256 of each one-time code ([`code_hash`]), never
//!   the code itself, with its expiry and when it was used;
//! - `device_keys`: the Ed25519 public key bound to each principal;
//! - `secretariat_codes` and `secretariat_keys`: the same for the
//!   secretariat, which prepares every meeting and belongs to none;
//! - `attendance`: the first check-in of each seat;
//! - `rounds` and `tallies`: every round with its settings, window and end,
//!   and a closed round's result;
//! - `ballots`: each seat's last signed ballot in a round (a paper on a
//!   list: its kind in `choice` and its marks in `marks`, one row like any
//!   ballot);
//! - `secret_participants` and `secret_choices`: a secret round's ballots,
//!   as who took part and what was chosen, unlinked from the start;
//! - `audit_log`: the meeting's audit chain ([`gavel_records::chain`]);
//! - `documents` and `document_blobs`: every version of each item's
//!   documents, and their bytes once per SHA-256;
//! - `count_confirmations`: the counting board's signed confirmations of
//!   secret rounds' counts, and `rounds.announced_at` when the chair
//!   announced such a round's result;
//! - `floor_events`: every change of the floor (requests, turns and their
//!   clock), which a restarted hub replays; each is also an audit entry, at
//!   the same position;
//! - `meeting_leases` and `hub_nodes`: on PostgreSQL, which node hosts each
//!   meeting, with its fencing number, and which nodes run (see [`lease`]);
//! - `audience_state`: on PostgreSQL, the latest frames of each meeting's
//!   audience, for the nodes that do not host it (see [`audience`]);
//! - `download_tokens`: the chair's one-time record downloads not yet used,
//!   by hash, so that whichever node serves the download uses it up;
//! - `owner_calls`: on PostgreSQL, the secretariat's calls to the node that
//!   hosts a meeting, made through another node, until answered (see [`calls`]).
//!
//! **Documents in the database.** A document's bytes are a row of
//! `document_blobs`, not a file beside the database: the import that names
//! them is then one transaction, all or nothing, with its audit entries, and
//! a PostgreSQL deployment of several hub nodes finds every document in the
//! one place they all share, with its backups. Files are at most
//! [`crate::documents::MAX_DOCUMENT_BYTES`], and a hub reads each once into
//! memory, checks it against its hash and shares that one copy with every
//! request for it (see [`crate::documents`]).
//!
//! **The audit chain.** Every operation that changes a meeting appends one
//! entry to its chain as the last statement of its own transaction, so that
//! an entry exists exactly when its change was committed: a definition
//! stored or amended, a key bound, a first check-in, the current item set, a round opened, extended, closed
//! (with its tally) or voided, and one entry per committed batch of ballots.
//! Appends to one meeting's chain are serialized: PostgreSQL locks the
//! meeting's row (`FOR NO KEY UPDATE`, which does not block inserts that
//! only reference it), SQLite runs every such transaction under
//! `BEGIN IMMEDIATE`. A secret round's ballots enter the chain without their
//! choice.
//!
//! **Two backends.** SQLite is the embedded default, so that a first run
//! needs no database server; PostgreSQL is the production store. Both run
//! the same operations with the same schema (see `migrations/`; the test
//! `tests/tests/schema.rs` fails if the two migrations drift apart). Each
//! operation is written once, here, as a transaction (`Tx`) of
//! statements from `sql.rs`, where every statement is a small named
//! function, written once where the two databases agree. Encoding values
//! and decoding rows, with the checks that need no SQL, are in `rows.rs`. What only one database
//! does is in `sqlite.rs` (its file, its backup, its ballot batch in three
//! trips) and `postgres.rs` (its connection, its `UNNEST` ballot batch).
//!
//! A shared statement runs on either database through one small enum of
//! their two connections, matched once per statement by a macro that
//! compiles the statement's one spelling against each driver. sqlx's `Any`
//! driver was not used: it cannot bind the arrays PostgreSQL's `UNNEST`
//! batches need, maps types through a lowest common set, and dispatches
//! every value at run time, on the ballot path too. Functions generic over
//! `sqlx::Database` would need half a dozen higher-ranked bounds each (an
//! executor, its arguments, an `Encode + Type` per bound type, `FromRow`
//! per row type), which would say more about sqlx than about the meeting.
//!
//! **Secret ballots.** No row of a secret round holds a seat beside its
//! choice, not even while the round is open. Each ballot is written, in the
//! batch's one transaction, as two rows that share nothing but the round: a
//! participation row (`secret_participants`: seat, sequence number and time
//! of its last ballot) and a choice row (`secret_choices`: the choice or
//! paper, keyed by its [`Tracker`] (which the record publishes), no seat and
//! no time). The signature,
//! which binds seat and choice, is not stored at all. A batch writes its
//! choice rows in tracker order, not in the seats' order. A changed vote
//! deletes the seat's earlier choice row by its tracker, which only the
//! hub's memory knows ([`SecretBallot::replaces`]); a resent ballot has the
//! same tracker and changes nothing. A restarted hub reads both lists back
//! ([`Store::secret_ballots`]) and counts the choice rows, but no longer
//! knows which is whose (see `hub::round` for what it then refuses).
//!
//! What the rows' physical history still tells: a participation row and its
//! choice row are written by the same transaction, so whoever reads the
//! database's own bookkeeping while the round is open can pair them when a
//! batch holds one ballot: PostgreSQL's `xmin` and `ctid` system columns and
//! its WAL, SQLite's write-ahead log and the order of cells in a page. When
//! the round ends, in the transaction that closes (or voids) it, its rows
//! are rewritten sorted (participants by seat, choices by tracker), which
//! erases the write order from the live tables; SQLite is opened with
//! `secure_delete` and its write-ahead log is truncated after such a
//! transaction. PostgreSQL keeps dead row versions until VACUUM reuses their
//! space, and its WAL archive and backups hold history: an operator who
//! needs secrecy against someone with access to the server's disks or
//! superuser SQL must treat those as secret material (SECURITY.md).
//!
//! **Integrity checks.** The store refuses what would make the record
//! inconsistent: a ballot for a round that is not open (or sent as secret to
//! a named round, or the other way round), a second open round
//! in a meeting, closing a round that is not open, a tally whose counts are
//! not those of the stored ballots (a secret round's: its choice rows, which
//! must be as many as its participants). These surface as
//! [`StoreError::Corrupt`].

mod audience;
mod calls;
mod lease;
mod postgres;
mod rows;
mod sql;
mod sqlite;

use rows::{
    AuditInsert, AuditRow, BallotColumns, BallotRow, Close, CodeInsert, DocumentInsert,
    DocumentRow, KeyRow, MeetingRow, RoundInsert, RoundRow, SecretColumns, TallyInsert, found,
    from_sql, kind_text, not_open, parse_meeting, parse_round, parse_tracker, parse_vote,
    principal_text, to_sql,
};

pub use audience::{AUDIENCE_CHANNEL, AudienceFrames};
pub use calls::{CallOutcome, OWNER_ANSWER_CHANNEL, OWNER_CALL_CHANNEL};
pub use lease::{Holdings, Lease};
pub use postgres::{SILENT_AFTER, STATEMENT_TIMEOUT};
use sql::{MeetingLock, Pooled, Tx};

use crate::meeting::MeetingDefinition;
use crate::meeting::amend::{self, AmendRefusal, Recorded};
use ed25519_dalek::SigningKey;
use gavel_protocol::board::{Confirmed, Count};
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::floor::FloorChange;
use gavel_protocol::messages::{
    AnyReceipt, ByHand, DocumentKind, DocumentView, PaperReceipt, Receipt, RoundStatus,
};
use gavel_protocol::paper::Vote;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{
    MeetingId, Principal, PublicKey, RoundId, SeatNo, Signature, Tracker, VoteSettings,
};
use gavel_records::chain::{Amender, Entry, Event, Sha, split_votes};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// A connection pool to one of the two backends, and, for a meeting's hub on
/// a PostgreSQL deployment of several nodes, the lease it holds: every write
/// for the meeting through this store checks it ([`Store::fenced`]).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    lease: Option<Arc<Lease>>,
}

/// The two backends' connection pools.
#[derive(Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no such enrollment code")]
    CodeUnknown,
    #[error("the enrollment code has expired")]
    CodeExpired,
    #[error("the enrollment code was already used")]
    CodeUsed,
    #[error("meeting {0} is already stored")]
    MeetingExists(MeetingId),
    #[error("{0} has no enrolled device")]
    NotEnrolled(Principal),
    /// Also once anything happened at its floor: a restarted hub replays
    /// the floor's changes on the definition they were made with.
    #[error(
        "meeting {0} already has vote rounds or requests for the floor; its definition can no longer be replaced"
    )]
    MeetingHasRounds(MeetingId),
    #[error(
        "agenda item {item} has been voted on; its document {title:?} can no longer be replaced"
    )]
    ItemVoted { item: u32, title: String },
    /// An amendment that would change what the record holds.
    #[error("{0}")]
    Amend(AmendRefusal),
    /// The definition a change was made to is no longer the stored one.
    #[error("meeting {0} was changed meanwhile; read it again")]
    DefinitionChanged(MeetingId),
    /// Stored data that does not decode, or a write that would leave the
    /// record inconsistent (see the module's notes on integrity checks).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The node's lease on the meeting was taken over by another node (or
    /// it never held one): nothing was written, and nothing this store
    /// writes for the meeting will ever commit again.
    #[error("this node no longer holds meeting {0}: another node took it over")]
    LeaseLost(MeetingId),
    /// The chair closed the meeting's session: only a device key's binding
    /// or revocation is written after it ([`Event::allowed_after_close`]).
    #[error("the session of meeting {0} is closed; nothing more is recorded in it")]
    SessionClosed(MeetingId),
}

/// A meeting as stored: its id, the secretary's TOML text, the current
/// item and when its session closed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMeeting {
    pub id: MeetingId,
    pub definition: String,
    pub current_item: Option<u32>,
    /// When the chair closed the session (Unix milliseconds), if it has.
    pub closed_at: Option<u64>,
}

/// A document file to store with a meeting, read and checked by
/// [`crate::documents::read`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub item: u32,
    /// Its place among the item's documents, from 0.
    pub slot: u32,
    pub title: String,
    pub kind: DocumentKind,
    pub public: bool,
    /// SHA-256 of `content`, lower-case hex.
    pub sha256: String,
    pub content: Vec<u8>,
}

/// A change of a stored meeting's definition ([`Store::amend_meeting`]).
#[derive(Debug, Clone)]
pub struct Amendment {
    /// SHA-256 of the stored text the change was made to.
    pub previous: Sha,
    /// The new text, checked by the caller as the meeting file is.
    pub text: String,
    pub by: Amender,
    /// A document uploaded with the change, which the new text names.
    pub document: Option<NewDocument>,
}

/// A stored amendment: the new definition, the SHA-256 of the text now
/// stored, and the items it changed.
#[derive(Debug, Clone)]
pub struct Amended {
    pub definition: MeetingDefinition,
    pub sha: Sha,
    pub items: Vec<u32>,
}

/// One stored version of an item's document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    pub item: u32,
    pub slot: u32,
    pub view: DocumentView,
}

/// A one-time enrollment code, as issued by the secretary.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCode {
    /// [`code_hash`] of the code: the code itself is never stored.
    pub code_hash: String,
    pub meeting: MeetingId,
    pub principal: Principal,
    /// Unix milliseconds; the code is refused from this moment on.
    pub expires_at: u64,
}

/// A counting board member's signed confirmation of a round's count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountConfirmation {
    pub round: RoundId,
    pub seat: SeatNo,
    /// The member's device key, which signed.
    pub key: PublicKey,
    pub count: Count,
    /// Over the `count_confirmation` layout.
    pub signature: Signature,
    pub confirmed_at: u64,
}

/// A seat's recorded ballot in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct BallotRecord {
    pub round: RoundId,
    /// The round's documents digest, which the ballot signed and its
    /// receipt repeats; read back from the round, not kept per ballot.
    /// None for a round recorded before rounds recorded their documents.
    pub documents: Option<Sha>,
    pub seat: SeatNo,
    /// A choice, or a whole paper on a list.
    pub vote: Vote,
    pub seq: u64,
    pub signature: Signature,
    /// Unix milliseconds, as on the delegate's receipt.
    pub recorded_at: u64,
    /// In a secret round, which of the seat's choice rows this ballot
    /// replaces; `None` in a named round.
    pub secret: Option<SecretBallot>,
}

/// A secret ballot's place among the round's choice rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecretBallot {
    /// The trackers of the seat's choice rows that this ballot replaces: its
    /// last recorded ballot's, and any whose commit the hub could not
    /// confirm (deleting one that is not there deletes nothing).
    pub replaces: Vec<Tracker>,
}

/// A secret round's ballots as stored: who took part, and what was chosen,
/// two lists that share nothing but the round.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecretBallots {
    /// By seat.
    pub participants: Vec<Participation>,
    /// By tracker: an order that says nothing about the seats.
    pub choices: Vec<(Tracker, Vote)>,
}

impl SecretBallots {
    /// The seats that took part, in order.
    pub fn seats(&self) -> Vec<SeatNo> {
        self.participants.iter().map(|p| p.seat).collect()
    }

    /// The choices (or papers), in tracker order.
    pub fn votes(&self) -> Vec<Vote> {
        self.choices.iter().map(|(_, v)| v.clone()).collect()
    }
}

/// A seat's part in a secret round: its last ballot's sequence number and
/// time, without its choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participation {
    pub seat: SeatNo,
    pub seq: u64,
    pub recorded_at: u64,
}

impl BallotRecord {
    /// The key of this ballot's choice row, in a secret round.
    pub fn tracker(&self) -> Tracker {
        Tracker::of(&self.signature)
    }

    /// The server's receipt for this ballot ([`Receipt::issue`], or
    /// [`PaperReceipt::issue`] for a paper).
    pub fn receipt(&self, server_key: &SigningKey, meeting: &MeetingId) -> AnyReceipt {
        match &self.vote {
            Vote::Choice(choice) => {
                let content = BallotContent {
                    meeting,
                    round: self.round,
                    documents: self.documents,
                    seat: self.seat,
                    choice: *choice,
                    seq: self.seq,
                };
                AnyReceipt::Choice(Receipt::issue(server_key, &content, self.recorded_at))
            }
            Vote::Paper(paper) => {
                let content =
                    paper.content(meeting, self.round, self.documents, self.seat, self.seq);
                AnyReceipt::Paper(PaperReceipt::issue(server_key, &content, self.recorded_at))
            }
        }
    }
}

/// A vote round and, once closed, its result.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRecord {
    pub id: RoundId,
    pub meeting: MeetingId,
    pub item: u32,
    pub settings: VoteSettings,
    pub opened_at: u64,
    pub deadline: u64,
    /// While the chair holds the round: since when.
    pub paused_at: Option<u64>,
    pub status: RoundStatus,
    /// When the round was closed or voided.
    pub closed_at: Option<u64>,
    /// When the chair announced a provisional result the counting board
    /// confirmed.
    pub announced_at: Option<u64>,
    pub result: Option<RoundResult>,
    /// The versions of the item's documents the round is about, recorded
    /// by [`Store::open_round`]; None for a round opened before rounds
    /// recorded them.
    pub documents: Option<RoundDocuments>,
    /// A result the secretariat recorded by hand: who, from which device,
    /// when ([`Store::record_by_hand`]). Such a round has no ballots.
    pub by_hand: Option<ByHand>,
}

/// The stored form of an enrollment code: hex SHA-256 of the code in upper
/// case without `-` and spaces, so that `ab12-cd34` typed on a tablet matches
/// `AB12 CD34` printed on the slip.
/// What the store keeps of a download token: its SHA-256, in hex.
fn download_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn code_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

impl Store {
    /// Connects to `sqlite://PATH` (the file is created if missing) or
    /// `postgres://...`, and runs the migrations embedded in the binary, so
    /// that a new database is ready and an older one is brought up to date.
    /// How each backend is tuned for durability is told in its module.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::of(Pool::Sqlite(sqlite::connect(url).await?)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::of(Pool::Postgres(postgres::connect(url).await?)))
        } else {
            Err(sqlx::Error::Configuration(
                format!("store url {url:?} must start with sqlite:// or postgres://").into(),
            )
            .into())
        }
    }

    fn of(pool: Pool) -> Store {
        Store { pool, lease: None }
    }

    /// The connection pool, for what only one backend does.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// `"sqlite"` or `"postgres"`, for logs and the status page.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection; SQLite then folds its write-ahead log into
    /// the file and removes the `-wal` and `-shm` files beside it.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Reads from the store to find out whether it answers now (the
    /// readiness probe): a row of `meetings`, so that SQLite reads its file
    /// and PostgreSQL runs a query, not just a connection check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(sql::ping(self.pooled().await?.db()).await?)
    }

    /// Writes a consistent copy of an SQLite store to the new file `out`,
    /// also while the server is writing: `VACUUM INTO` reads one snapshot
    /// and leaves out deleted rows (a secret round's ballots). PostgreSQL has
    /// no such statement; it is backed up with its own tools (`pg_dump`),
    /// which take the same kind of snapshot.
    pub async fn backup_into(&self, out: &Path) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::backup_into(pool, out).await,
            Pool::Postgres(_) => Err(StoreError::Database(sqlx::Error::Configuration(
                "a PostgreSQL store is backed up with pg_dump -Fc and restored with pg_restore \
                 (see docs/operations.md)"
                    .into(),
            ))),
        }
    }

    /// Imports a meeting with the public keys of its principals, in one
    /// transaction: all or nothing. The definition is inserted, or replaces
    /// a different one while the meeting has no rounds and no floor events:
    /// once a round exists, its settings came from the stored definition, and
    /// the floor's changes are replayed on the definition they were made
    /// with (its respondents, its registered questions); replacing it would
    /// rewrite history ([`StoreError::MeetingHasRounds`], and nothing is
    /// written). The same definition again writes nothing, so a meeting with
    /// rounds can still be given new keys. Each key is bound as
    /// [`Store::redeem_code`] binds one: it replaces the principal's earlier
    /// key and leaves any other principal of the meeting that held it.
    ///
    /// Each document that differs from the latest stored version of its
    /// item's slot (its bytes, title, kind or openness) is stored as the next
    /// version, with a `document_stored` audit entry; every earlier version
    /// stays. Once a round was opened on an item its documents are what was
    /// voted on: a different one is [`StoreError::ItemVoted`], and nothing
    /// is written.
    pub async fn import_meeting(
        &self,
        id: &MeetingId,
        definition: &str,
        keys: &[(Principal, PublicKey)],
        documents: &[NewDocument],
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        // The upsert's own row lock does not conflict with the key-share
        // lock that inserting a round takes on its meeting, so PostgreSQL
        // locks the meeting row first: a round being opened at the same
        // moment is then either seen by the upsert or made to wait.
        sql::lock_meeting(tx.db(), id, MeetingLock::Update).await?;
        if sql::upsert_meeting(tx.db(), id, definition).await? {
            let event = Event::MeetingDefined {
                definition_sha256: Sha::of(definition.as_bytes()),
            };
            append(&mut tx, id, event).await?;
        } else if sql::definition(tx.db(), id).await?.as_deref() != Some(definition) {
            return Err(StoreError::MeetingHasRounds(id.clone()));
        }
        for &(principal, key) in keys {
            bind_key(&mut tx, id, principal, &key).await?;
        }
        let stored = sql::documents(tx.db(), id).await?;
        for document in documents {
            store_document(&mut tx, id, &stored, document).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a new meeting, with a `meeting_defined` audit entry, in one
    /// transaction; [`StoreError::MeetingExists`] if its id is taken, which
    /// is left as it was (the secretariat's "new meeting" never replaces one).
    pub async fn add_meeting(&self, id: &MeetingId, definition: &str) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        if !sql::insert_meeting(tx.db(), id, definition).await? {
            return Err(StoreError::MeetingExists(id.clone()));
        }
        let event = Event::MeetingDefined {
            definition_sha256: Sha::of(definition.as_bytes()),
        };
        append(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Amends a stored meeting's definition, in one transaction: the
    /// stored text must still be the one `amendment.previous` hashes
    /// ([`StoreError::DefinitionChanged`] if another change came first),
    /// and the new text must keep what the record holds
    /// ([`amend::check`], against the rounds, document versions and floor
    /// changes read under the meeting's lock, so that a round being opened
    /// at the same moment is either seen or waits:
    /// [`StoreError::Amend`]). The new text, if it says something else than
    /// the stored one, is written with a `meeting_amended` audit entry
    /// (who, which items), and the stored text kept otherwise; after the
    /// session's close nothing is ([`StoreError::SessionClosed`]); a document
    /// uploaded with it is stored as [`Store::import_meeting`] stores one,
    /// with its `document_stored` entry. Refused, nothing is written. On a
    /// deployment of several nodes the entry's append checks this store's
    /// lease, as every write for a hosted meeting does.
    pub async fn amend_meeting(
        &self,
        id: &MeetingId,
        amendment: &Amendment,
    ) -> Result<Amended, StoreError> {
        let mut tx = Tx::begin(self).await?;
        sql::lock_meeting(tx.db(), id, MeetingLock::Update).await?;
        // The record ends at the close: checked before the amendment's own
        // rules, so that even an unchanged text is refused for that reason.
        if sql::closed_at(tx.db(), id).await?.is_some() {
            return Err(StoreError::SessionClosed(id.clone()));
        }
        let stored = sql::definition(tx.db(), id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("meeting {id} is not stored")))?;
        if Sha::of(stored.as_bytes()) != amendment.previous {
            return Err(StoreError::DefinitionChanged(id.clone()));
        }
        let parse = |text: &str| {
            MeetingDefinition::parse(text)
                .map_err(|e| StoreError::Corrupt(format!("a definition of meeting {id}: {e}")))
        };
        let (old, new) = (parse(&stored)?, parse(&amendment.text)?);
        let recorded = recorded(&mut tx, id).await?;
        let items = amend::check(&old, &new, &recorded).map_err(StoreError::Amend)?;
        // The same meeting in other words (a hand-written file's comments)
        // is left as it was written.
        let sha = if new == old {
            amendment.previous
        } else {
            let sha = Sha::of(amendment.text.as_bytes());
            sql::set_definition(tx.db(), id, &amendment.text).await?;
            let event = Event::MeetingAmended {
                definition_sha256: sha,
                by: amendment.by,
                items: items.clone(),
            };
            append(&mut tx, id, event).await?;
            sha
        };
        if let Some(document) = &amendment.document {
            let stored = sql::documents(tx.db(), id).await?;
            store_document(&mut tx, id, &stored, document).await?;
        }
        tx.commit().await?;
        Ok(Amended {
            definition: new,
            sha,
            items,
        })
    }

    /// How many document versions the meeting has stored: a running hub
    /// compares it with the count its view was made from.
    pub async fn document_versions(&self, meeting: &MeetingId) -> Result<u64, StoreError> {
        let count = sql::document_versions(self.pooled().await?.db(), meeting).await?;
        from_sql(count, "document versions")
    }

    /// Every stored version of the meeting's documents, by item, slot and version.
    pub async fn documents(&self, meeting: &MeetingId) -> Result<Vec<StoredDocument>, StoreError> {
        let rows = sql::documents(self.pooled().await?.db(), meeting).await?;
        rows.into_iter().map(DocumentRow::decode).collect()
    }

    /// Keeps `content` under its SHA-256 `sha256`, if no bytes are kept
    /// under it yet: a document's bytes stored ahead of the amendment that
    /// names them, made on another node (`crate::secretariat`).
    pub async fn store_document_content(
        &self,
        sha256: &str,
        content: &[u8],
    ) -> Result<(), StoreError> {
        Ok(sql::insert_blob(self.pooled().await?.db(), sha256, content).await?)
    }

    /// The bytes stored under `sha256`, as the store returns them: whether
    /// they still have that hash is for the caller to check.
    pub async fn document_content(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sql::blob(self.pooled().await?.db(), sha256).await?)
    }

    /// Keeps the chair's one-time download token for `meeting` (its hash
    /// alone) until `expires_at` (Unix ms), so that any node can honour it
    /// once (see `crate::tokens`).
    pub async fn issue_download(
        &self,
        meeting: &MeetingId,
        token: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let expires_at = rows::to_sql(expires_at, "expiry")?;
        let now = rows::to_sql(crate::clock::now_ms(), "time")?;
        Ok(sql::insert_download(
            self.pooled().await?.db(),
            &download_hash(token),
            meeting,
            expires_at,
            now,
        )
        .await?)
    }

    /// Uses up `meeting`'s download token `token`: true once, if it was
    /// issued and has not expired.
    pub async fn redeem_download(
        &self,
        meeting: &MeetingId,
        token: &str,
    ) -> Result<bool, StoreError> {
        let expires_at =
            sql::take_download(self.pooled().await?.db(), &download_hash(token), meeting).await?;
        Ok(expires_at
            .is_some_and(|e| e > i64::try_from(crate::clock::now_ms()).unwrap_or(i64::MAX)))
    }

    /// Every stored meeting, by id.
    pub async fn meetings(&self) -> Result<Vec<StoredMeeting>, StoreError> {
        let rows = sql::meetings(self.pooled().await?.db()).await?;
        rows.into_iter().map(MeetingRow::decode).collect()
    }

    /// Waits until no transaction that changes `meeting` is still in flight,
    /// so that what is read next is all the store will ever hold of them. A
    /// hub killed while its COMMIT was on the way leaves PostgreSQL to
    /// finish it; a hub restarted at once must not restore the meeting
    /// before it has (else its counts would miss a committed ballot, and the
    /// round's close, checked against the store, would be refused). Every
    /// change takes the meeting row's lock to append to the audit chain, so
    /// a share lock on that row waits for exactly those transactions.
    /// SQLite's commits end with the process that made them.
    pub async fn settle(&self, meeting: &MeetingId) -> Result<(), StoreError> {
        let mut conn = self.pooled().await?;
        Ok(sql::lock_meeting(conn.db(), meeting, MeetingLock::Share).await?)
    }

    /// Records the agenda item on the screens, so that a restarted hub shows
    /// the same one; `None` before the first item.
    pub async fn set_current_item(
        &self,
        meeting: &MeetingId,
        item: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        let updated = sql::set_current_item(tx.db(), meeting, item.map(i64::from)).await?;
        found(updated, || format!("meeting {meeting} is not stored"))?;
        append(&mut tx, meeting, Event::ItemSet { item }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes the meeting's session at `at`, with its `session_closed`
    /// audit entry. The actor checks first that nothing is under way; the
    /// store refuses a second close as every write after the first.
    pub async fn close_session(&self, meeting: &MeetingId, at: u64) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        // The entry first: `append` refuses once `closed_at` is set, which
        // the update below does.
        append(&mut tx, meeting, Event::SessionClosed { closed_at: at }).await?;
        let updated = sql::close_session(tx.db(), meeting, to_sql(at, "closing time")?).await?;
        found(updated, || format!("meeting {meeting} is not stored"))?;
        tx.commit().await?;
        Ok(())
    }

    /// When the meeting's session closed, if it has.
    pub async fn session_closed_at(&self, meeting: &MeetingId) -> Result<Option<u64>, StoreError> {
        let at = sql::closed_at(self.pooled().await?.db(), meeting).await?;
        at.map(|at| from_sql(at, "closing time")).transpose()
    }

    /// Stores a batch of codes in one transaction: all or none.
    pub async fn add_codes(&self, codes: &[NewCode]) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        for c in codes {
            let row = CodeInsert {
                code_hash: &c.code_hash,
                meeting: &c.meeting,
                principal: principal_text(c.principal),
                expires_at: to_sql(c.expires_at, "expiry")?,
            };
            sql::insert_code(tx.db(), &row).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Redeems an enrollment code for a device's `key`, in one transaction:
    /// checks the code (unknown, then used, then expired at `now`), burns it,
    /// and binds the key to the code's (meeting, principal), replacing any
    /// earlier key of that principal. Atomic, so two devices racing with one
    /// code cannot both enroll.
    ///
    /// If the key was bound to another principal of the meeting, that binding
    /// is removed: a device speaks for one principal only.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        now: u64,
        key: &PublicKey,
    ) -> Result<(MeetingId, Principal), StoreError> {
        let now = to_sql(now, "redemption time")?;
        let mut tx = Tx::begin(self).await?;
        let code = sql::code_to_redeem(tx.db(), code_hash)
            .await?
            .ok_or(StoreError::CodeUnknown)?;
        let (meeting, principal) = code.redeemable(now)?;
        sql::burn_code(tx.db(), code_hash, now).await?;
        bind_key(&mut tx, &meeting, principal, key).await?;
        tx.commit().await?;
        Ok((meeting, principal))
    }

    /// Stores the secretariat's codes (their [`code_hash`]es) in one
    /// transaction: all or none.
    pub async fn add_secretariat_codes(
        &self,
        code_hashes: &[String],
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let expires_at = to_sql(expires_at, "expiry")?;
        let mut tx = Tx::begin(self).await?;
        for hash in code_hashes {
            sql::insert_secretariat_code(tx.db(), hash, expires_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a secretariat code for a device's `key`, in one transaction,
    /// checked and refused as [`Store::redeem_code`] does.
    pub async fn redeem_secretariat_code(
        &self,
        code_hash: &str,
        now: u64,
        key: &PublicKey,
    ) -> Result<(), StoreError> {
        let now = to_sql(now, "redemption time")?;
        let mut tx = Tx::begin(self).await?;
        sql::secretariat_code_to_redeem(tx.db(), code_hash)
            .await?
            .ok_or(StoreError::CodeUnknown)?
            .redeemable(now)?;
        sql::burn_secretariat_code(tx.db(), code_hash, now).await?;
        sql::insert_secretariat_key(tx.db(), key, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `key` is one of the secretariat's devices.
    pub async fn is_secretariat_key(&self, key: &PublicKey) -> Result<bool, StoreError> {
        Ok(sql::is_secretariat_key(self.pooled().await?.db(), key).await?)
    }

    /// The meeting's bound keys, by principal (seats in order, then the chair).
    pub async fn keys(
        &self,
        meeting: &MeetingId,
    ) -> Result<Vec<(Principal, PublicKey)>, StoreError> {
        let rows = sql::keys(self.pooled().await?.db(), meeting).await?;
        let mut keys = rows
            .into_iter()
            .map(KeyRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_unstable_by_key(|(principal, _)| *principal);
        Ok(keys)
    }

    /// Revokes the key bound to `principal` (a lost device): the binding
    /// goes and the revocation joins the audit chain, in one transaction.
    /// Returns the revoked key.
    pub async fn revoke_key(
        &self,
        meeting: &MeetingId,
        principal: Principal,
    ) -> Result<PublicKey, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let mut key = None;
        for row in sql::keys(tx.db(), meeting).await? {
            let (bound, public_key) = row.decode()?;
            if bound == principal {
                key = Some(public_key);
            }
        }
        let public_key = key.ok_or(StoreError::NotEnrolled(principal))?;
        sql::unbind_key(tx.db(), meeting, &principal_text(principal)).await?;
        let event = Event::KeyRevoked {
            principal,
            public_key,
        };
        append(&mut tx, meeting, event).await?;
        tx.commit().await?;
        Ok(public_key)
    }

    /// The meeting's revoked keys not registered again since, from its
    /// audit chain: a restarted server still tells them why it refuses.
    pub async fn revoked_keys(&self, meeting: &MeetingId) -> Result<Vec<PublicKey>, StoreError> {
        let mut revoked = Vec::new();
        for entry in self.audit_log(meeting).await? {
            match entry.event {
                Event::KeyRevoked { public_key, .. } => revoked.push(public_key),
                Event::KeyRegistered { public_key, .. } => revoked.retain(|k| *k != public_key),
                _ => {}
            }
        }
        Ok(revoked)
    }

    /// Records a seat's check-in; checking in again keeps the first time.
    pub async fn check_in(
        &self,
        meeting: &MeetingId,
        seat: SeatNo,
        at: u64,
    ) -> Result<(), StoreError> {
        let at = to_sql(at, "check-in time")?;
        let mut tx = Tx::begin(self).await?;
        if sql::check_in(tx.db(), meeting, i64::from(seat), at).await? {
            append(&mut tx, meeting, Event::CheckedIn { seat }).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The seats checked in, in order.
    pub async fn present(&self, meeting: &MeetingId) -> Result<Vec<SeatNo>, StoreError> {
        let seats = sql::present(self.pooled().await?.db(), meeting).await?;
        seats.into_iter().map(|s| from_sql(s, "seat")).collect()
    }

    /// Stores a new round as open, with the versions of its item's documents
    /// as they stand now: what the round is about, returned for its record.
    /// The record's status, `closed_at`, `result` and `documents` are not
    /// read: a round begins open, and ends through [`Store::close_round`] or
    /// [`Store::void_round`].
    pub async fn open_round(&self, round: &RoundRecord) -> Result<RoundDocuments, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let (row, documents) = round_insert(&mut tx, round, None).await?;
        let event = Event::RoundOpened {
            round: round.id,
            item: round.item,
            settings: round.settings,
            opened_at: round.opened_at,
            deadline: round.deadline,
            documents: Some(documents.clone()),
        };
        sql::insert_round(tx.db(), &row).await?;
        append(&mut tx, &round.meeting, event).await?;
        tx.commit().await?;
        Ok(documents)
    }

    /// Stores a result the secretariat recorded by hand (the record's
    /// `by_hand` and `result`, a tally) as a round closed at `by_hand.at`,
    /// with its tally and one `result_recorded_by_hand` audit entry, in one
    /// transaction; the versions of the item's documents as they stand are
    /// returned for its record, as [`Store::open_round`] does. Refused, with
    /// nothing written, if the meeting has an open round (the hub refuses
    /// that first, with its reason) or the record has no result.
    pub async fn record_by_hand(&self, round: &RoundRecord) -> Result<RoundDocuments, StoreError> {
        let (Some(by_hand), Some(result)) = (&round.by_hand, &round.result) else {
            return Err(StoreError::Corrupt(format!(
                "round {} is not a result recorded by hand",
                round.id
            )));
        };
        let tally = TallyInsert::of(result)?;
        let mut tx = Tx::begin(self).await?;
        if sql::has_open_round(tx.db(), &round.meeting).await? {
            return Err(StoreError::Corrupt(format!(
                "meeting {} has an open round; a result cannot be recorded by hand meanwhile",
                round.meeting
            )));
        }
        let (row, documents) = round_insert(&mut tx, round, Some(by_hand)).await?;
        let event = Event::ResultRecordedByHand {
            round: round.id,
            item: round.item,
            settings: round.settings,
            documents: documents.clone(),
            result: result.clone(),
            by_hand: by_hand.clone(),
        };
        sql::insert_round(tx.db(), &row).await?;
        sql::insert_tally(tx.db(), &row.id, &tally).await?;
        append(&mut tx, &round.meeting, event).await?;
        tx.commit().await?;
        Ok(documents)
    }

    /// Moves an open round's deadline.
    pub async fn set_deadline(&self, round: RoundId, deadline: u64) -> Result<(), StoreError> {
        let event = Event::RoundExtended { round, deadline };
        let (id, deadline) = (round.to_hex(), to_sql(deadline, "deadline")?);
        let mut tx = Tx::begin(self).await?;
        let meeting = sql::set_deadline(tx.db(), &id, deadline)
            .await?
            .ok_or_else(|| StoreError::Corrupt(not_open(round)))?;
        append(&mut tx, &parse_meeting(&meeting)?, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Holds an open round from `at`: the hub takes no ballot for it until
    /// [`Store::resume_round`].
    pub async fn pause_round(&self, round: RoundId, at: u64) -> Result<(), StoreError> {
        let event = Event::RoundPaused {
            round,
            paused_at: at,
        };
        let (id, at) = (round.to_hex(), to_sql(at, "paused_at")?);
        let mut tx = Tx::begin(self).await?;
        let meeting = sql::pause_round(tx.db(), &id, at)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("round {round} is not open and running")))?;
        append(&mut tx, &parse_meeting(&meeting)?, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resumes a held round at `at` with its new `deadline` (the old one moved
    /// by the length of the pause).
    pub async fn resume_round(
        &self,
        round: RoundId,
        at: u64,
        deadline: u64,
    ) -> Result<(), StoreError> {
        let event = Event::RoundResumed {
            round,
            resumed_at: at,
            deadline,
        };
        let (id, deadline) = (round.to_hex(), to_sql(deadline, "deadline")?);
        let mut tx = Tx::begin(self).await?;
        let meeting = sql::resume_round(tx.db(), &id, deadline)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("round {round} is not open and paused")))?;
        append(&mut tx, &parse_meeting(&meeting)?, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a counting board member's confirmation of a closed round's
    /// count, with its audit entry, in one transaction.
    pub async fn confirm_count(
        &self,
        meeting: &MeetingId,
        confirmation: &CountConfirmation,
    ) -> Result<(), StoreError> {
        let c = confirmation;
        let event = Event::CountConfirmed {
            round: c.round,
            seat: c.seat,
            key: c.key,
            count: c.count.clone(),
            signature: c.signature.clone(),
            confirmed_at: c.confirmed_at,
        };
        let id = c.round.to_hex();
        let mut tx = Tx::begin(self).await?;
        let inserted = sql::insert_confirmation(
            tx.db(),
            &id,
            i64::from(c.seat),
            &c.key.to_hex(),
            &c.signature.to_hex(),
            to_sql(c.confirmed_at, "confirmation time")?,
        )
        .await?;
        found(inserted, || {
            format!("round {} is not closed and awaiting the board", c.round)
        })?;
        append(&mut tx, meeting, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Announces a provisional round's result at `at`.
    pub async fn announce_round(&self, round: RoundId, at: u64) -> Result<(), StoreError> {
        let event = Event::ResultAnnounced {
            round,
            announced_at: at,
        };
        let (id, at) = (round.to_hex(), to_sql(at, "announcement time")?);
        let mut tx = Tx::begin(self).await?;
        let meeting = sql::announce_round(tx.db(), &id, at)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("round {round} is not closed and unannounced"))
            })?;
        append(&mut tx, &parse_meeting(&meeting)?, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The board's confirmations of the meeting's rounds, oldest first.
    pub async fn confirmations(
        &self,
        meeting: &MeetingId,
    ) -> Result<Vec<(RoundId, Confirmed)>, StoreError> {
        let rows = sql::confirmations(self.pooled().await?.db(), meeting).await?;
        rows.into_iter()
            .map(|(round, seat, at)| {
                Ok((
                    parse_round(&round)?,
                    Confirmed {
                        seat: from_sql(seat, "seat")?,
                        at: from_sql(at, "confirmation time")?,
                    },
                ))
            })
            .collect()
    }

    /// Ends an open round without a result. A named round keeps its ballots
    /// (the record shows what happened), a secret round its participants
    /// and choices, rewritten sorted as a close rewrites them.
    pub async fn void_round(&self, round: RoundId, at: u64) -> Result<(), StoreError> {
        let event = Event::RoundVoided {
            round,
            voided_at: at,
        };
        let (id, at) = (round.to_hex(), to_sql(at, "voiding time")?);
        let mut tx = Tx::begin(self).await?;
        let (secret, meeting) = end_round(&mut tx, &id, "voided", at).await?;
        if secret {
            let kept = read_secret_ballots(&mut tx, &id).await?;
            rewrite_sorted(&mut tx, &id, &kept).await?;
        }
        append(&mut tx, &meeting, event).await?;
        tx.commit().await?;
        if secret {
            self.forget_deleted_rows().await;
        }
        Ok(())
    }

    /// How long a batch of ballots may wait for the database's answers in
    /// all, retries included, before the database counts as silent:
    /// [`SILENT_AFTER`] on PostgreSQL; no bound on SQLite, a file that does
    /// not go silent as a network does.
    pub fn answer_within(&self) -> Option<std::time::Duration> {
        matches!(self.pool, Pool::Postgres(_)).then_some(SILENT_AFTER)
    }

    /// Commits a batch of ballots in one transaction, each as an upsert on
    /// (round, seat) that replaces a stored ballot only with a higher `seq`:
    /// a retried ballot (same `seq`) is harmless, and a late-arriving older
    /// ballot never replaces a newer one. A secret round's ballot is the
    /// same upsert of its participation row, the deletion of the choice
    /// rows it replaces and the insertion of its own (once: a resent one has
    /// the same tracker), see the module's notes on secret ballots. PostgreSQL writes the batch with a
    /// single `INSERT ... SELECT FROM UNNEST(...)`, SQLite with multi-row
    /// inserts: one statement per batch rather than per ballot is what lets
    /// the writer keep up with a hall voting at once.
    ///
    /// Every ballot's round must be open, and of the ballot's secrecy, or
    /// the whole batch is refused. Each round of the batch gets one audit entry
    /// listing its ballots, without their choices if the round is secret.
    pub async fn record_ballots(&self, batch: &[BallotRecord]) -> Result<(), StoreError> {
        let ballots = BallotColumns::of_latest(batch)?;
        if ballots.accepted.is_empty() {
            return Ok(());
        }
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::record_ballots(pool, &ballots).await,
            Pool::Postgres(pool) => {
                postgres::record_ballots(pool, self.lease.clone(), &ballots).await
            }
        }
    }

    /// Closes a round in one transaction, so that a result is never
    /// announced without being stored, nor stored half: the tally row, the
    /// round's status and `closed_at`, and for a secret round (`secrecy`)
    /// its participants and choices rewritten sorted (see the module's notes
    /// on secret ballots). The audit entry carries a secret round's choices
    /// in the order the record keeps them, by tracker.
    ///
    /// Refused, with nothing written, if the round is not open, if
    /// `secrecy` is not the round's, or if the result's counts are not
    /// those of the stored ballots (a secret round's choice rows, as many as
    /// its participants).
    pub async fn close_round(
        &self,
        round: RoundId,
        closed_at: u64,
        result: &RoundResult,
        secrecy: Secrecy,
    ) -> Result<(), StoreError> {
        let close = Close { round, result };
        let (id, at) = (round.to_hex(), to_sql(closed_at, "closing time")?);
        let tally = TallyInsert::of(result)?;
        let mut tx = Tx::begin(self).await?;
        let (secret, meeting) = end_round(&mut tx, &id, "closed", at).await?;
        close.check_secrecy(secret, secrecy == Secrecy::Secret)?;
        let kept = if secret {
            let kept = read_secret_ballots(&mut tx, &id).await?;
            close.check_secret(&kept)?;
            Some(kept)
        } else {
            None
        };
        match (result, &kept) {
            (RoundResult::Tally(_), None) => {
                close.check_counts(&sql::choice_counts(tx.db(), &id).await?)?
            }
            (RoundResult::Tally(_), Some(_)) => {
                close.check_counts(&sql::secret_choice_counts(tx.db(), &id).await?)?
            }
            (RoundResult::Paper(_), None) => {
                let rows = sql::ballots(tx.db(), &id).await?;
                let votes = rows
                    .iter()
                    .map(|r| parse_vote(&r.choice, r.marks.as_deref()))
                    .collect::<Result<Vec<_>, _>>()?;
                close.check_papers(&votes)?
            }
            (RoundResult::Paper(_), Some(kept)) => close.check_papers(&kept.votes())?,
        }
        let split = kept.as_ref().map(|k| split_votes(&k.votes()));
        let event = Event::RoundClosed {
            round,
            closed_at,
            result: result.clone(),
            secret_choices: split.as_ref().map(|(choices, _)| choices.clone()),
            secret_papers: split.and_then(|(_, papers)| (!papers.is_empty()).then_some(papers)),
            secret_trackers: kept
                .as_ref()
                .map(|k| k.choices.iter().map(|(tracker, _)| *tracker).collect()),
        };
        if let Some(kept) = &kept {
            rewrite_sorted(&mut tx, &id, kept).await?;
        }
        sql::insert_tally(tx.db(), &id, &tally).await?;
        append(&mut tx, &meeting, event).await?;
        tx.commit().await?;
        if kept.is_some() {
            self.forget_deleted_rows().await;
        }
        Ok(())
    }

    /// The meeting's rounds in the order they were opened, with the result
    /// of each closed one.
    pub async fn rounds(&self, meeting: &MeetingId) -> Result<Vec<RoundRecord>, StoreError> {
        let rows = sql::rounds(self.pooled().await?.db(), meeting).await?;
        rows.into_iter().map(RoundRow::decode).collect()
    }

    /// Records changes of the meeting's floor, in order, in one
    /// transaction: each as a row of `floor_events` and an entry of the
    /// audit chain at the same position.
    pub async fn record_floor(
        &self,
        meeting: &MeetingId,
        changes: &[FloorChange],
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        for change in changes {
            let body = serde_json::to_string(change).expect("floor changes serialize");
            let event = Event::Floor {
                change: change.clone(),
            };
            let seq = append(&mut tx, meeting, event).await?;
            sql::insert_floor_event(tx.db(), meeting, seq, &body).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every change of the meeting's floor, in order: replayed, the floor as
    /// it stands.
    pub async fn floor_changes(&self, meeting: &MeetingId) -> Result<Vec<FloorChange>, StoreError> {
        let rows = sql::floor_events(self.pooled().await?.db(), meeting).await?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(row)
                    .map_err(|e| StoreError::Corrupt(format!("a floor change of {meeting}: {e}")))
            })
            .collect()
    }

    /// How long the meeting's audit chain is: every change of the record
    /// lengthens it, so what is printed from the record is unchanged while
    /// this is.
    pub async fn audit_length(&self, meeting: &MeetingId) -> Result<u64, StoreError> {
        let head = sql::audit_head(self.pooled().await?.db(), meeting).await?;
        // Entries count from 0: the head's position is one less.
        head.map_or(Ok(0), |(seq, _)| Ok(from_sql::<u64>(seq, "audit seq")? + 1))
    }

    /// The meeting's audit chain, in order. Each entry is decoded as stored;
    /// whether the links hold is for [`gavel_records::chain::check_links`].
    pub async fn audit_log(&self, meeting: &MeetingId) -> Result<Vec<Entry>, StoreError> {
        let rows = sql::audit_log(self.pooled().await?.db(), meeting).await?;
        rows.into_iter().map(AuditRow::decode).collect()
    }

    /// A named round's ballots, by seat. Empty for a secret round, whose
    /// ballots are [`Store::secret_ballots`].
    pub async fn ballots(&self, round: RoundId) -> Result<Vec<BallotRecord>, StoreError> {
        let rows = sql::ballots(self.pooled().await?.db(), &round.to_hex()).await?;
        rows.into_iter().map(BallotRow::decode).collect()
    }

    /// A secret round's ballots, open or ended: participants by seat,
    /// choices by tracker. Empty for a named round.
    pub async fn secret_ballots(&self, round: RoundId) -> Result<SecretBallots, StoreError> {
        let mut conn = self.pooled().await?;
        let id = round.to_hex();
        let participants = sql::secret_participants(conn.db(), &id).await?;
        let choices = sql::secret_choices(conn.db(), &id).await?;
        decode_secret(participants, choices)
    }

    async fn pooled(&self) -> Result<Pooled, sqlx::Error> {
        Pooled::acquire(self).await
    }

    /// After a secret round's rows were rewritten: SQLite empties its
    /// write-ahead log, which still holds their pages in the order they were
    /// written (see the module's notes on secret ballots).
    async fn forget_deleted_rows(&self) {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlite::truncate_wal(pool).await;
        }
    }
}

/// Makes `key` the principal's only key, and the principal the key's only
/// one, and records it in the meeting's audit chain.
async fn bind_key(
    tx: &mut Tx,
    meeting: &MeetingId,
    principal: Principal,
    key: &PublicKey,
) -> Result<(), StoreError> {
    let text = principal_text(principal);
    sql::unbind_key_elsewhere(tx.db(), meeting, &text, key).await?;
    sql::bind_key(tx.db(), meeting, &text, key).await?;
    let event = Event::KeyRegistered {
        principal,
        public_key: *key,
    };
    append(tx, meeting, event).await.map(drop)
}

/// Stores `document` as the next version of its slot unless the latest
/// stored version (in `stored`) is the same; refused once the item has a round.
async fn store_document(
    tx: &mut Tx,
    meeting: &MeetingId,
    stored: &[DocumentRow],
    document: &NewDocument,
) -> Result<(), StoreError> {
    let (item, slot) = (i64::from(document.item), i64::from(document.slot));
    let kind = kind_text(document.kind);
    let latest = stored
        .iter()
        .filter(|row| row.item == item && row.slot == slot)
        .max_by_key(|row| row.version);
    if latest.is_some_and(|row| {
        row.sha256 == document.sha256
            && row.title == document.title
            && row.kind == kind
            && row.public == document.public
    }) {
        return Ok(());
    }
    if sql::item_has_rounds(tx.db(), meeting, item).await? {
        return Err(StoreError::ItemVoted {
            item: document.item,
            title: document.title.clone(),
        });
    }
    let version = latest.map_or(1, |row| row.version + 1);
    let size = u64::try_from(document.content.len()).expect("a length fits in 64 bits");
    let sha256 = Sha::from_hex(&document.sha256).map_err(StoreError::Corrupt)?;
    sql::insert_blob(tx.db(), &document.sha256, &document.content).await?;
    let row = DocumentInsert {
        item,
        slot,
        version,
        title: &document.title,
        kind,
        public: document.public,
        sha256: &document.sha256,
        size: to_sql(size, "document size")?,
        stored_at: to_sql(crate::clock::now_ms(), "storing time")?,
    };
    sql::insert_document(tx.db(), meeting, &row).await?;
    let event = Event::DocumentStored {
        item: document.item,
        slot: document.slot,
        version: from_sql(version, "document version")?,
        title: document.title.clone(),
        document_kind: document.kind,
        public: document.public,
        sha256,
        size,
    };
    append(tx, meeting, event).await.map(drop)
}

/// The row of a new round (open, or closed at `by_hand.at` when it was
/// recorded by hand), with the versions of its item's documents as they
/// stand: what the round is about. Storing a document takes the meeting's
/// row lock first and refuses a version once the item has a round; the lock
/// taken here conflicts with it, so the versions read stay the item's latest.
async fn round_insert<'a>(
    tx: &mut Tx,
    round: &'a RoundRecord,
    by_hand: Option<&ByHand>,
) -> Result<(RoundInsert<'a>, RoundDocuments), StoreError> {
    sql::lock_meeting(tx.db(), &round.meeting, MeetingLock::NoKeyUpdate).await?;
    let sha256 = sql::item_documents(tx.db(), &round.meeting, i64::from(round.item))
        .await?
        .iter()
        .map(|hex| Sha::from_hex(hex).map_err(StoreError::Corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    let documents = RoundDocuments::of(sha256);
    let json = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
    let row = RoundInsert {
        id: round.id.to_hex(),
        meeting: &round.meeting,
        item: i64::from(round.item),
        settings: serde_json::to_string(&round.settings).map_err(|e| json("round settings", e))?,
        secret: round.settings.secrecy == Secrecy::Secret,
        opened_at: to_sql(round.opened_at, "opening time")?,
        deadline: to_sql(round.deadline, "deadline")?,
        documents: serde_json::to_string(&documents.sha256)
            .map_err(|e| json("round documents", e))?,
        status: if by_hand.is_some() { "closed" } else { "open" },
        closed_at: by_hand
            .map(|b| to_sql(b.at, "recording time"))
            .transpose()?,
        by_hand: by_hand
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| json("recorded by hand", e))?,
    };
    Ok((row, documents))
}

/// A secret round's rows, read in the caller's transaction.
async fn read_secret_ballots(tx: &mut Tx, id: &str) -> Result<SecretBallots, StoreError> {
    let participants = sql::secret_participants(tx.db(), id).await?;
    let choices = sql::secret_choices(tx.db(), id).await?;
    decode_secret(participants, choices)
}

fn decode_secret(
    participants: Vec<(i64, i64, i64)>,
    choices: Vec<(Vec<u8>, String, Option<Vec<u8>>)>,
) -> Result<SecretBallots, StoreError> {
    let participation = |(seat, seq, at): (i64, i64, i64)| -> Result<Participation, StoreError> {
        Ok(Participation {
            seat: from_sql(seat, "seat")?,
            seq: from_sql(seq, "ballot sequence number")?,
            recorded_at: from_sql(at, "recording time")?,
        })
    };
    let choice = |(tracker, text, marks): &(Vec<u8>, String, Option<Vec<u8>>)| -> Result<(Tracker, Vote), StoreError> {
        Ok((parse_tracker(tracker)?, parse_vote(text, marks.as_deref())?))
    };
    Ok(SecretBallots {
        participants: participants
            .into_iter()
            .map(participation)
            .collect::<Result<_, _>>()?,
        choices: choices.iter().map(choice).collect::<Result<_, _>>()?,
    })
}

/// Deletes a secret round's rows and writes them again, participants by
/// seat and choices by tracker, so that neither where they lie nor which
/// transaction wrote them tells in what order they came.
async fn rewrite_sorted(tx: &mut Tx, id: &str, kept: &SecretBallots) -> Result<(), StoreError> {
    sql::delete_secret_rows(tx.db(), id).await?;
    sql::insert_secret_rows(tx.db(), id, &SecretColumns::of(kept)?).await?;
    Ok(())
}

/// Moves an open round to `status` (closed or voided): its secrecy and
/// meeting, refused if the round is not open.
async fn end_round(
    tx: &mut Tx,
    id: &str,
    status: &str,
    at: i64,
) -> Result<(bool, MeetingId), StoreError> {
    let (secret, meeting) = sql::end_round(tx.db(), id, status, at)
        .await?
        .ok_or_else(|| StoreError::Corrupt(not_open(id)))?;
    Ok((secret, parse_meeting(&meeting)?))
}

/// What the record holds of the meeting, by item, read in `tx` (under the
/// meeting's lock): what an amendment must keep ([`amend::check`]).
async fn recorded(tx: &mut Tx, meeting: &MeetingId) -> Result<Recorded, StoreError> {
    let item = |i: i64| from_sql::<u32>(i, "agenda item");
    let mut recorded = Recorded::default();
    for round in sql::rounds(tx.db(), meeting).await? {
        recorded.voted.insert(item(round.item)?);
    }
    for document in sql::documents(tx.db(), meeting).await? {
        recorded.documents.insert(item(document.item)?);
    }
    for row in sql::floor_events(tx.db(), meeting).await? {
        recorded.floor_used = true;
        let change: FloorChange = serde_json::from_str(&row)
            .map_err(|e| StoreError::Corrupt(format!("a floor change of {meeting}: {e}")))?;
        if let FloorChange::Requested { request, .. } | FloorChange::TurnStarted { request, .. } =
            change
        {
            recorded.floor_items.insert(request.item);
        }
    }
    Ok(recorded)
}

/// Appends `event` to the meeting's audit chain, as the last statement of
/// the caller's transaction. No other append can come in between the read
/// of the last entry and this insert: PostgreSQL locks the meeting's row
/// `FOR NO KEY UPDATE` (each append waits for the previous one to commit,
/// then reads its entry; inserts that merely reference the meeting are not
/// blocked), SQLite's transaction holds the write lock. Every caller appends
/// last, after its other row locks, so locks are always taken in the same
/// order: round rows, then the meeting. Under that lock it also checks the
/// transaction's lease, if it has one (see [`lease`]): this is the one place
/// every write for a meeting passes through.
/// Returns the entry's position in the chain.
async fn append(tx: &mut Tx, meeting: &MeetingId, event: Event) -> Result<i64, StoreError> {
    sql::lock_meeting(tx.db(), meeting, MeetingLock::NoKeyUpdate).await?;
    lease::check(tx, meeting).await?;
    if !event.allowed_after_close() && sql::closed_at(tx.db(), meeting).await?.is_some() {
        return Err(StoreError::SessionClosed(meeting.clone()));
    }
    let head = sql::audit_head(tx.db(), meeting).await?;
    let entry = AuditInsert::after(meeting, head, event)?;
    sql::insert_audit(tx.db(), meeting, &entry).await?;
    Ok(entry.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_hashes_ignore_case_dashes_and_spaces() {
        assert_eq!(code_hash("ab12-cd34"), code_hash("AB12 CD34"));
        assert_eq!(code_hash("AB12CD34").len(), 64);
        assert_ne!(code_hash("AB12CD34"), code_hash("AB12CD35"));
    }
}
