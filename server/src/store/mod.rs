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
//! - `attendance`: the first check-in of each seat;
//! - `rounds` and `tallies`: every round with its settings, window and end,
//!   and a closed round's result;
//! - `ballots`: each seat's last signed ballot in a round;
//! - `secret_participants` and `secret_choices`: what a secret round keeps;
//! - `audit_log`: the meeting's audit chain ([`gavel_records::chain`]).
//!
//! **The audit chain.** Every operation that changes a meeting appends one
//! entry to its chain as the last statement of its own transaction, so that
//! an entry exists exactly when its change was committed: a key bound, a
//! first check-in, the current item set, a round opened, extended, closed
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
//! function, written once where the two databases agree. Decoding rows and
//! every check that does not need SQL live here too. What only one database
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
//! **Secret ballots.** While a secret round is open its ballots are stored
//! like any other (seat, choice, signature), because an acknowledged ballot
//! must survive a restart and a changed ballot must replace the earlier one.
//! When the round ends, in the same transaction that closes (or voids) it,
//! its ballot rows are deleted and only two unlinked lists remain: the seats
//! that took part, and the choices in an order unrelated to the seats (the
//! caller's shuffle on close; sorted by choice on void). No row then links a
//! seat to a choice. SQLite is opened with `secure_delete` and its write-ahead
//! log is truncated after such a transaction, so the deleted rows do not
//! linger in the file. PostgreSQL keeps dead row versions until VACUUM reuses
//! their space, and its WAL archive and backups hold history: an operator who
//! needs secrecy against someone with access to the server's disks must
//! treat those as secret material.
//!
//! **Integrity checks.** The store refuses what would make the record
//! inconsistent: a ballot for a round that is not open, a second open round
//! in a meeting, closing a round that is not open, a tally whose counts are
//! not those of the stored ballots, or a secret close whose participants and
//! choices are not those of the stored ballots (after the close nobody can
//! check them any more). These surface as [`StoreError::Corrupt`].

mod postgres;
mod sql;
mod sqlite;

use sql::{MeetingLock, Pooled, Tx};

use ed25519_dalek::SigningKey;
use gavel_protocol::messages::{Receipt, RoundStatus};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{
    Choice, Counts, MeetingId, Principal, PublicKey, RoundId, SeatNo, Signature, TallyResult,
    VoteSettings,
};
use gavel_records::chain::{Accepted, Entry, Event, Sha};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// A connection pool to one of the two backends.
#[derive(Clone)]
pub enum Store {
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
    #[error("meeting {0} already has vote rounds; its definition can no longer be replaced")]
    MeetingHasRounds(MeetingId),
    /// Stored data that does not decode, or a write that would leave the
    /// record inconsistent (see the module's notes on integrity checks).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// A meeting as stored: its id, the secretary's TOML text and the current item.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMeeting {
    pub id: MeetingId,
    pub definition: String,
    pub current_item: Option<u32>,
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

/// A seat's recorded ballot in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct BallotRecord {
    pub round: RoundId,
    pub seat: SeatNo,
    pub choice: Choice,
    pub seq: u64,
    pub signature: Signature,
    /// Unix milliseconds, as on the delegate's receipt.
    pub recorded_at: u64,
}

impl BallotRecord {
    /// The server's receipt for this ballot ([`Receipt::issue`]).
    pub fn receipt(&self, server_key: &SigningKey, meeting: &MeetingId) -> Receipt {
        let content = BallotContent {
            meeting,
            round: self.round,
            seat: self.seat,
            choice: self.choice,
            seq: self.seq,
        };
        Receipt::issue(server_key, &content, self.recorded_at)
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
    pub status: RoundStatus,
    /// When the round was closed or voided.
    pub closed_at: Option<u64>,
    pub result: Option<TallyResult>,
}

/// What a secret round keeps once it has ended: who took part, and the
/// choices in an order that says nothing about who made them.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretClose {
    /// Sorted when read back.
    pub participants: Vec<SeatNo>,
    /// Already shuffled by the caller when closing; stored in this order.
    pub choices: Vec<Choice>,
}

/// The stored form of an enrollment code: hex SHA-256 of the code in upper
/// case without `-` and spaces, so that `ab12-cd34` typed on a tablet matches
/// `AB12 CD34` printed on the slip.
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
            Ok(Store::Sqlite(sqlite::connect(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::connect(url).await?))
        } else {
            Err(sqlx::Error::Configuration(
                format!("store url {url:?} must start with sqlite:// or postgres://").into(),
            )
            .into())
        }
    }

    /// `"sqlite"` or `"postgres"`, for logs and the status page.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection; SQLite then folds its write-ahead log into
    /// the file and removes the `-wal` and `-shm` files beside it.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool) => pool.close().await,
            Store::Postgres(pool) => pool.close().await,
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
        match self {
            Store::Sqlite(pool) => sqlite::backup_into(pool, out).await,
            Store::Postgres(_) => Err(StoreError::Database(sqlx::Error::Configuration(
                "a PostgreSQL store is backed up with pg_dump -Fc and restored with pg_restore \
                 (see docs/operations.md)"
                    .into(),
            ))),
        }
    }

    /// Imports a meeting with the public keys of its principals, in one
    /// transaction: all or nothing. The definition is inserted, or replaces
    /// a different one while the meeting has no rounds: once a round exists,
    /// its settings came from the stored definition and replacing it would
    /// rewrite history ([`StoreError::MeetingHasRounds`], and nothing is
    /// written). The same definition again writes nothing, so a meeting with
    /// rounds can still be given new keys. Each key is bound as
    /// [`Store::redeem_code`] binds one: it replaces the principal's earlier
    /// key and leaves any other principal of the meeting that held it.
    pub async fn import_meeting(
        &self,
        id: &MeetingId,
        definition: &str,
        keys: &[(Principal, PublicKey)],
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
        tx.commit().await?;
        Ok(())
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

    /// Stores a new round as open. The record's status, `closed_at` and
    /// `result` are not read: a round begins open, and ends through
    /// [`Store::close_round`] or [`Store::void_round`].
    pub async fn open_round(&self, round: &RoundRecord) -> Result<(), StoreError> {
        let row = RoundInsert {
            id: round.id.to_hex(),
            meeting: &round.meeting,
            item: i64::from(round.item),
            settings: serde_json::to_string(&round.settings)
                .map_err(|e| StoreError::Corrupt(format!("round settings: {e}")))?,
            secret: round.settings.secrecy == Secrecy::Secret,
            opened_at: to_sql(round.opened_at, "opening time")?,
            deadline: to_sql(round.deadline, "deadline")?,
        };
        let event = Event::RoundOpened {
            round: round.id,
            item: round.item,
            settings: round.settings,
            opened_at: round.opened_at,
            deadline: round.deadline,
        };
        let mut tx = Tx::begin(self).await?;
        sql::insert_round(tx.db(), &row).await?;
        append(&mut tx, &round.meeting, event).await?;
        tx.commit().await?;
        Ok(())
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

    /// Ends an open round without a result. A named round keeps its ballots
    /// (the record shows what happened); a secret round keeps only who took
    /// part and its choices sorted, like a secret close.
    pub async fn void_round(&self, round: RoundId, at: u64) -> Result<(), StoreError> {
        let event = Event::RoundVoided {
            round,
            voided_at: at,
        };
        let (id, at) = (round.to_hex(), to_sql(at, "voiding time")?);
        let mut tx = Tx::begin(self).await?;
        let (secret, meeting) = end_round(&mut tx, &id, "voided", at).await?;
        if secret {
            sql::keep_secret_record_sorted(tx.db(), &id).await?;
            sql::delete_ballots(tx.db(), &id).await?;
        }
        append(&mut tx, &meeting, event).await?;
        tx.commit().await?;
        if secret {
            self.forget_deleted_ballots().await;
        }
        Ok(())
    }

    /// Commits a batch of ballots in one transaction, each as an upsert on
    /// (round, seat) that replaces a stored ballot only with a higher `seq`:
    /// a retried ballot (same `seq`) is harmless, and a late-arriving older
    /// ballot never replaces a newer one. PostgreSQL writes the batch with a
    /// single `INSERT ... SELECT FROM UNNEST(...)`, SQLite with multi-row
    /// inserts: one statement per batch rather than per ballot is what lets
    /// the writer keep up with a hall voting at once.
    ///
    /// Every ballot's round must be open, or the whole batch is refused: a
    /// ballot written after its round ended would, in a secret round, link a
    /// seat to a choice again. Each round of the batch gets one audit entry
    /// listing its ballots, without their choices if the round is secret.
    pub async fn record_ballots(&self, batch: &[BallotRecord]) -> Result<(), StoreError> {
        let ballots = BallotColumns::of_latest(batch)?;
        if ballots.round_ids.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(pool) => sqlite::record_ballots(pool, &ballots).await,
            Store::Postgres(pool) => postgres::record_ballots(pool, &ballots).await,
        }
    }

    /// Closes a round in one transaction, so that a result is never
    /// announced without being stored, nor stored half: the tally row, the
    /// round's status and `closed_at`, and for a secret round (`secret` is
    /// `Some`) the deletion of its ballots and the insertion of who took part
    /// and of the choices (in the given, shuffled order, each with its
    /// ordinal), after which no row links a seat to a choice.
    ///
    /// Refused, with nothing written, if the round is not open, if `secret`
    /// does not match the round's secrecy, or if the result's counts (and a
    /// secret close's lists) are not those of the stored ballots.
    pub async fn close_round(
        &self,
        round: RoundId,
        closed_at: u64,
        result: &TallyResult,
        secret: Option<&SecretClose>,
    ) -> Result<(), StoreError> {
        let close = Close {
            round,
            result,
            secret,
        };
        let event = Event::RoundClosed {
            round,
            closed_at,
            result: *result,
            secret_choices: secret.map(|s| s.choices.clone()),
        };
        let (id, closed_at) = (round.to_hex(), to_sql(closed_at, "closing time")?);
        let tally = TallyInsert::of(result)?;
        let mut tx = Tx::begin(self).await?;
        let (secret_round, meeting) = end_round(&mut tx, &id, "closed", closed_at).await?;
        close.check_secrecy(secret_round)?;
        close.check_counts(&sql::choice_counts(tx.db(), &id).await?)?;
        if let Some(secret) = secret {
            close.check_secret(&sql::ballots(tx.db(), &id).await?)?;
            sql::delete_ballots(tx.db(), &id).await?;
            sql::insert_secret_record(tx.db(), &id, &SecretColumns::of(secret)).await?;
        }
        sql::insert_tally(tx.db(), &id, &tally).await?;
        append(&mut tx, &meeting, event).await?;
        tx.commit().await?;
        if secret.is_some() {
            self.forget_deleted_ballots().await;
        }
        Ok(())
    }

    /// The meeting's rounds in the order they were opened, with the result
    /// of each closed one.
    pub async fn rounds(&self, meeting: &MeetingId) -> Result<Vec<RoundRecord>, StoreError> {
        let rows = sql::rounds(self.pooled().await?.db(), meeting).await?;
        rows.into_iter().map(RoundRow::decode).collect()
    }

    /// The meeting's audit chain, in order. Each entry is decoded as stored;
    /// whether the links hold is for [`gavel_records::chain::check_links`].
    pub async fn audit_log(&self, meeting: &MeetingId) -> Result<Vec<Entry>, StoreError> {
        let rows = sql::audit_log(self.pooled().await?.db(), meeting).await?;
        rows.into_iter().map(AuditRow::decode).collect()
    }

    /// The round's ballots, by seat. Empty for a secret round once it ended.
    pub async fn ballots(&self, round: RoundId) -> Result<Vec<BallotRecord>, StoreError> {
        let rows = sql::ballots(self.pooled().await?.db(), &round.to_hex()).await?;
        rows.into_iter().map(BallotRow::decode).collect()
    }

    /// What an ended secret round kept: participants sorted, choices in their stored order.
    pub async fn secret_record(&self, round: RoundId) -> Result<SecretClose, StoreError> {
        let id = round.to_hex();
        let mut conn = self.pooled().await?;
        let seats = sql::secret_participants(conn.db(), &id).await?;
        let choices = sql::secret_choices(conn.db(), &id).await?;
        Ok(SecretClose {
            participants: seats
                .into_iter()
                .map(|s| from_sql(s, "seat"))
                .collect::<Result<_, _>>()?,
            choices: choices
                .iter()
                .map(|c| parse_choice(c))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn pooled(&self) -> Result<Pooled, sqlx::Error> {
        Pooled::acquire(self).await
    }

    /// After a secret round's ballots were deleted: SQLite empties its
    /// write-ahead log, which still holds their pages (see the module's notes
    /// on secret ballots).
    async fn forget_deleted_ballots(&self) {
        if let Store::Sqlite(pool) = self {
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
    append(tx, meeting, event).await
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

/// Appends `event` to the meeting's audit chain, as the last statement of
/// the caller's transaction. No other append can come in between the read
/// of the last entry and this insert: PostgreSQL locks the meeting's row
/// `FOR NO KEY UPDATE` (each append waits for the previous one to commit,
/// then reads its entry; inserts that merely reference the meeting are not
/// blocked), SQLite's transaction holds the write lock. Every caller appends
/// last, after its other row locks, so locks are always taken in the same
/// order: round rows, then the meeting.
async fn append(tx: &mut Tx, meeting: &MeetingId, event: Event) -> Result<(), StoreError> {
    sql::lock_meeting(tx.db(), meeting, MeetingLock::NoKeyUpdate).await?;
    let head = sql::audit_head(tx.db(), meeting).await?;
    let entry = AuditInsert::after(meeting, head, event)?;
    sql::insert_audit(tx.db(), meeting, &entry).await?;
    Ok(())
}

// Values on their way in, already encoded for SQL: both backends bind the same fields.

/// An enrollment code's row.
struct CodeInsert<'a> {
    code_hash: &'a str,
    meeting: &'a MeetingId,
    principal: String,
    expires_at: i64,
}

/// A new round's row.
struct RoundInsert<'a> {
    id: String,
    meeting: &'a MeetingId,
    item: i64,
    settings: String,
    secret: bool,
    opened_at: i64,
    deadline: i64,
}

/// An open round that a batch of ballots names, with the last entry of its
/// meeting's audit chain (none if the chain is empty).
#[derive(sqlx::FromRow)]
struct OpenRoundRow {
    id: String,
    meeting_id: String,
    secret: bool,
    head_seq: Option<i64>,
    head_hash: Option<Vec<u8>>,
}

/// A batch of ballots as parallel columns: PostgreSQL binds them as arrays
/// for `UNNEST`, SQLite reads them row by row.
struct BallotColumns {
    round_ids: Vec<String>,
    seats: Vec<i64>,
    choices: Vec<&'static str>,
    seqs: Vec<i64>,
    signatures: Vec<Vec<u8>>,
    recorded_at: Vec<i64>,
    /// The same ballots as the audit chain records them, by round: its keys
    /// are the batch's distinct rounds, which must all be open.
    accepted: BTreeMap<String, Vec<Accepted>>,
}

impl BallotColumns {
    /// The audit entry of `round`'s ballots in this batch; a secret round's
    /// carry who took part and not what they chose.
    fn event(&self, round: &str, secret: bool) -> Result<Event, StoreError> {
        let ballots = self.accepted.get(round).cloned().unwrap_or_default();
        Ok(Event::BallotsAccepted {
            round: parse_round(round)?,
            ballots: ballots
                .into_iter()
                .map(|a| Accepted {
                    choice: if secret { None } else { a.choice },
                    ..a
                })
                .collect(),
        })
    }

    /// The batch's audit entries, one per round, each chained after the
    /// last entry of its meeting's chain (or after the entry before it in
    /// this batch). `open` holds the batch's rounds that are open, as read in
    /// the batch's transaction; the batch is refused if one is missing.
    fn audit_entries(
        &self,
        open: Vec<OpenRoundRow>,
    ) -> Result<Vec<(MeetingId, AuditInsert)>, StoreError> {
        let mut heads: BTreeMap<String, Option<(i64, Vec<u8>)>> = BTreeMap::new();
        let mut rounds = BTreeMap::new();
        for row in open {
            heads.insert(row.meeting_id.clone(), row.head_seq.zip(row.head_hash));
            rounds.insert(row.id, (row.meeting_id, row.secret));
        }
        let mut entries = Vec::with_capacity(self.accepted.len());
        for id in self.accepted.keys() {
            let Some((meeting, secret)) = rounds.get(id) else {
                return Err(StoreError::Corrupt(format!("a ballot's {}", not_open(id))));
            };
            let head = heads.entry(meeting.clone()).or_default();
            let meeting = parse_meeting(meeting)?;
            let entry = AuditInsert::after(&meeting, head.take(), self.event(id, *secret)?)?;
            *head = Some((entry.seq, entry.hash.clone()));
            entries.push((meeting, entry));
        }
        Ok(entries)
    }

    fn of_latest(batch: &[BallotRecord]) -> Result<BallotColumns, StoreError> {
        let latest = latest_per_seat(batch);
        let mut columns = BallotColumns {
            round_ids: Vec::with_capacity(latest.len()),
            seats: Vec::with_capacity(latest.len()),
            choices: Vec::with_capacity(latest.len()),
            seqs: Vec::with_capacity(latest.len()),
            signatures: Vec::with_capacity(latest.len()),
            recorded_at: Vec::with_capacity(latest.len()),
            accepted: BTreeMap::new(),
        };
        for b in latest {
            columns
                .accepted
                .entry(b.round.to_hex())
                .or_default()
                .push(Accepted {
                    seat: b.seat,
                    seq: b.seq,
                    choice: Some(b.choice),
                });
            columns.round_ids.push(b.round.to_hex());
            columns.seats.push(i64::from(b.seat));
            columns.choices.push(b.choice.as_str());
            columns.seqs.push(to_sql(b.seq, "ballot sequence number")?);
            columns.signatures.push(b.signature.to_bytes().to_vec());
            columns
                .recorded_at
                .push(to_sql(b.recorded_at, "recording time")?);
        }
        Ok(columns)
    }
}

/// The last ballot of each (round, seat) in a batch, in (round, seat) order.
/// A delegate who changes a vote twice within one batch window sends two
/// ballots for the same key, and PostgreSQL refuses an upsert that touches a
/// row twice; the fixed order also makes concurrent batches lock rows in the
/// same order.
fn latest_per_seat(batch: &[BallotRecord]) -> Vec<&BallotRecord> {
    let mut latest: BTreeMap<(RoundId, SeatNo), &BallotRecord> = BTreeMap::new();
    for ballot in batch {
        latest
            .entry((ballot.round, ballot.seat))
            .and_modify(|kept| {
                if ballot.seq > kept.seq {
                    *kept = ballot;
                }
            })
            .or_insert(ballot);
    }
    latest.into_values().collect()
}

/// A tally's row: the JSON the hub announced and its numbers for SQL readers.
struct TallyInsert {
    total_seats: i64,
    present: i64,
    yes: i64,
    no: i64,
    abstain: i64,
    passed: bool,
    result: String,
}

impl TallyInsert {
    fn of(result: &TallyResult) -> Result<TallyInsert, StoreError> {
        let c = &result.counts;
        Ok(TallyInsert {
            total_seats: i64::from(c.total_seats),
            present: i64::from(c.present),
            yes: i64::from(c.yes),
            no: i64::from(c.no),
            abstain: i64::from(c.abstain),
            passed: result.passed,
            result: serde_json::to_string(result)
                .map_err(|e| StoreError::Corrupt(format!("tally result: {e}")))?,
        })
    }
}

/// A secret round's record as parallel columns; a choice's ordinal is its
/// position in the caller's shuffled list.
struct SecretColumns {
    seats: Vec<i64>,
    ordinals: Vec<i64>,
    choices: Vec<&'static str>,
}

impl SecretColumns {
    fn of(record: &SecretClose) -> SecretColumns {
        SecretColumns {
            seats: record.participants.iter().map(|&s| i64::from(s)).collect(),
            ordinals: (0..).take(record.choices.len()).collect(),
            choices: record.choices.iter().map(|c| c.as_str()).collect(),
        }
    }
}

/// What a close announces, checked against the stored round and ballots.
struct Close<'a> {
    round: RoundId,
    result: &'a TallyResult,
    secret: Option<&'a SecretClose>,
}

impl Close<'_> {
    /// Checks, inside the closing transaction, the round's secrecy against
    /// the call.
    fn check_secrecy(&self, secret_round: bool) -> Result<(), StoreError> {
        let round = self.round;
        match (secret_round, self.secret.is_some()) {
            (true, false) => Err(StoreError::Corrupt(format!(
                "round {round} is secret but was closed without a secret record"
            ))),
            (false, true) => Err(StoreError::Corrupt(format!(
                "round {round} is named but was closed with a secret record"
            ))),
            _ => Ok(()),
        }
    }

    /// Checks the announced counts against the stored ballots, counted by
    /// the database (`(choice, ballots)` rows): one short answer instead of
    /// every row, which at 10,000 ballots was nearly all of a close's time.
    fn check_counts(&self, counted: &[(String, i64)]) -> Result<(), StoreError> {
        let mut stored = Counts::tally(0, 0, std::iter::empty());
        for (choice, n) in counted {
            let n: u32 = from_sql(*n, "ballot count")?;
            match parse_choice(choice)? {
                Choice::Yes => stored.yes += n,
                Choice::No => stored.no += n,
                Choice::Abstain => stored.abstain += n,
            }
        }
        let announced = &self.result.counts;
        if (stored.yes, stored.no, stored.abstain)
            != (announced.yes, announced.no, announced.abstain)
        {
            return Err(StoreError::Corrupt(format!(
                "round {}: the result counts {}/{}/{} but the stored ballots are {}/{}/{}",
                self.round,
                announced.yes,
                announced.no,
                announced.abstain,
                stored.yes,
                stored.no,
                stored.abstain
            )));
        }
        Ok(())
    }

    /// Checks a secret round's lists against its stored ballots (sorted by
    /// seat): here, because once its ballots are deleted nobody can check
    /// them any more.
    fn check_secret(&self, stored: &[BallotRow]) -> Result<(), StoreError> {
        let Some(secret) = self.secret else {
            return Ok(());
        };
        let mut seats = Vec::with_capacity(stored.len());
        let mut choices = Vec::with_capacity(stored.len());
        for row in stored {
            seats.push(from_sql::<SeatNo>(row.seat, "seat")?);
            choices.push(parse_choice(&row.choice)?);
        }
        let mut participants = secret.participants.clone();
        participants.sort_unstable();
        let mut given = secret.choices.clone();
        given.sort_unstable();
        choices.sort_unstable();
        if participants != seats || given != choices {
            return Err(StoreError::Corrupt(format!(
                "round {}: the secret record does not match the stored ballots",
                self.round
            )));
        }
        Ok(())
    }
}

/// The next entry of a meeting's chain, encoded for SQL. `last` is the
/// chain's last row as read under the append lock (its seq and hash).
struct AuditInsert {
    seq: i64,
    at: i64,
    kind: &'static str,
    body: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditInsert {
    fn after(
        meeting: &MeetingId,
        last: Option<(i64, Vec<u8>)>,
        event: Event,
    ) -> Result<AuditInsert, StoreError> {
        let last = last
            .map(|(seq, hash)| {
                Ok::<_, StoreError>((from_sql(seq, "audit seq")?, parse_sha(&hash)?))
            })
            .transpose()?;
        let entry = Entry::next(meeting, last, crate::clock::now_ms(), event);
        Ok(AuditInsert {
            seq: to_sql(entry.seq, "audit seq")?,
            at: to_sql(entry.at, "audit time")?,
            kind: entry.event.kind(),
            body: entry.event.canonical_json(),
            prev_hash: entry.prev.0.to_vec(),
            hash: entry.hash.0.to_vec(),
        })
    }
}

// Rows on their way out: both backends decode into these, and they are
// turned into the protocol's types here, once.

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: String,
    definition: String,
    current_item: Option<i64>,
}

impl MeetingRow {
    fn decode(self) -> Result<StoredMeeting, StoreError> {
        Ok(StoredMeeting {
            id: parse_meeting(&self.id)?,
            definition: self.definition,
            current_item: self
                .current_item
                .map(|i| from_sql(i, "current item"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    meeting_id: String,
    principal: String,
    expires_at: i64,
    used_at: Option<i64>,
}

impl CodeRow {
    /// The code's (meeting, principal) if it may be redeemed at `now`.
    fn redeemable(&self, now: i64) -> Result<(MeetingId, Principal), StoreError> {
        if self.used_at.is_some() {
            return Err(StoreError::CodeUsed);
        }
        if now >= self.expires_at {
            return Err(StoreError::CodeExpired);
        }
        Ok((
            parse_meeting(&self.meeting_id)?,
            parse_principal(&self.principal)?,
        ))
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    principal: String,
    public_key: Vec<u8>,
}

impl KeyRow {
    fn decode(self) -> Result<(Principal, PublicKey), StoreError> {
        let bytes: [u8; 32] = self
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("a public key is not 32 bytes".into()))?;
        let key = PublicKey::from_bytes(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("public key {}: {e}", hex::encode(bytes))))?;
        Ok((parse_principal(&self.principal)?, key))
    }
}

#[derive(sqlx::FromRow)]
struct RoundRow {
    id: String,
    meeting_id: String,
    item: i64,
    settings: String,
    opened_at: i64,
    deadline: i64,
    status: String,
    closed_at: Option<i64>,
    result: Option<String>,
}

impl RoundRow {
    fn decode(self) -> Result<RoundRecord, StoreError> {
        let status = match self.status.as_str() {
            "open" => RoundStatus::Open,
            "closed" => RoundStatus::Closed,
            "voided" => RoundStatus::Voided,
            other => return Err(StoreError::Corrupt(format!("round status {other:?}"))),
        };
        Ok(RoundRecord {
            id: parse_round(&self.id)?,
            meeting: parse_meeting(&self.meeting_id)?,
            item: from_sql(self.item, "agenda item")?,
            settings: parse_json(&self.settings, "round settings")?,
            opened_at: from_sql(self.opened_at, "opening time")?,
            deadline: from_sql(self.deadline, "deadline")?,
            status,
            closed_at: self
                .closed_at
                .map(|t| from_sql(t, "closing time"))
                .transpose()?,
            result: self
                .result
                .map(|r| parse_json(&r, "tally result"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BallotRow {
    round_id: String,
    seat: i64,
    choice: String,
    seq: i64,
    signature: Vec<u8>,
    recorded_at: i64,
}

impl BallotRow {
    fn decode(self) -> Result<BallotRecord, StoreError> {
        let signature: [u8; 64] = self
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("a ballot signature is not 64 bytes".into()))?;
        Ok(BallotRecord {
            round: parse_round(&self.round_id)?,
            seat: from_sql(self.seat, "seat")?,
            choice: parse_choice(&self.choice)?,
            seq: from_sql(self.seq, "ballot sequence number")?,
            signature: Signature::from_bytes(&signature),
            recorded_at: from_sql(self.recorded_at, "recording time")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    kind: String,
    body: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditRow {
    fn decode(self) -> Result<Entry, StoreError> {
        let event: Event = parse_json(&self.body, "audit entry")?;
        if event.kind() != self.kind {
            return Err(StoreError::Corrupt(format!(
                "audit entry {} is stored as {:?} but holds {:?}",
                self.seq,
                self.kind,
                event.kind()
            )));
        }
        Ok(Entry {
            seq: from_sql(self.seq, "audit seq")?,
            at: from_sql(self.at, "audit time")?,
            prev: parse_sha(&self.prev_hash)?,
            hash: parse_sha(&self.hash)?,
            event,
        })
    }
}

// Encodings shared by both backends.

fn parse_sha(bytes: &[u8]) -> Result<Sha, StoreError> {
    bytes
        .try_into()
        .map(Sha)
        .map_err(|_| StoreError::Corrupt("an audit hash is not 32 bytes".into()))
}

/// `u64` into a signed 64-bit column, refusing values that would wrap.
fn to_sql(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("{what} {value} is too large to store")))
}

/// A signed 64-bit column into the unsigned type it was stored from.
fn from_sql<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

fn principal_text(principal: Principal) -> String {
    match principal {
        Principal::Seat(n) => format!("seat:{n}"),
        Principal::Chair => "chair".to_owned(),
    }
}

fn parse_principal(text: &str) -> Result<Principal, StoreError> {
    if text == "chair" {
        return Ok(Principal::Chair);
    }
    text.strip_prefix("seat:")
        .and_then(|n| n.parse().ok())
        .map(Principal::Seat)
        .ok_or_else(|| StoreError::Corrupt(format!("principal {text:?}")))
}

fn parse_choice(text: &str) -> Result<Choice, StoreError> {
    Choice::ALL
        .into_iter()
        .find(|c| c.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("choice {text:?}")))
}

fn parse_meeting(text: &str) -> Result<MeetingId, StoreError> {
    MeetingId::parse(text).map_err(StoreError::Corrupt)
}

fn parse_round(text: &str) -> Result<RoundId, StoreError> {
    RoundId::from_hex(text).map_err(StoreError::Corrupt)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Turns "no row was updated" into an error that says why.
fn found(updated: bool, why: impl FnOnce() -> String) -> Result<(), StoreError> {
    if updated {
        Ok(())
    } else {
        Err(StoreError::Corrupt(why()))
    }
}

fn not_open(round: impl std::fmt::Display) -> String {
    format!("round {round} is not stored or not open")
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

    #[test]
    fn principals_round_trip_through_text() {
        for p in [
            Principal::Chair,
            Principal::Seat(0),
            Principal::Seat(u32::MAX),
        ] {
            assert_eq!(parse_principal(&principal_text(p)).unwrap(), p);
        }
        assert!(parse_principal("seat:").is_err());
        assert!(parse_principal("seat:-1").is_err());
    }

    #[test]
    fn integers_that_do_not_fit_are_refused_not_wrapped() {
        assert!(to_sql(u64::MAX, "t").is_err());
        assert!(from_sql::<u64>(-1, "t").is_err());
        assert!(from_sql::<u32>(i64::from(u32::MAX) + 1, "t").is_err());
        assert_eq!(from_sql::<u32>(7, "t").unwrap(), 7);
    }
}
