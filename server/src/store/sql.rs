//! Every SQL statement of the store, each in a small function named for what
//! it does, and the connections they run on.
//!
//! A statement the two databases agree on is written once, with `$N`
//! placeholders (sqlx binds `$N` on SQLite too, by number), and runs on
//! either through [`Db`]: [`on_each!`] compiles its one spelling once per
//! driver. Text differs only where the databases do: PostgreSQL's row locks
//! (SQLite's write transactions hold the whole database from
//! `BEGIN IMMEDIATE`), and batch inserts (`UNNEST` of arrays against
//! multi-row `VALUES`). Statements that exist on one database only take that
//! database's connection. This file is long because it is the one place
//! where the store's SQL is written: reviewing a statement or a schema
//! change means reading this file and the migrations, nothing else.

use super::rows::{
    AuditInsert, AuditRow, BallotColumns, BallotRow, CodeInsert, CodeRow, DocumentInsert,
    DocumentRow, KeyRow, MeetingRow, RoundInsert, RoundRow, SecretBatch, SecretColumns,
    SecretariatCodeRow, TallyInsert,
};
use super::{Lease, Pool};
use gavel_protocol::{MeetingId, PublicKey};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::sync::Arc;

/// A connection of either backend, inside a transaction or not.
pub(super) enum Db<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` with `$conn` bound to the backend's connection: one spelling,
/// compiled and type-checked against each driver.
macro_rules! on_each {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            Db::Sqlite($conn) => $body,
            Db::Postgres($conn) => $body,
        }
    };
}

/// A write transaction. SQLite's begins with `BEGIN IMMEDIATE`, which takes
/// the write lock at once: a plain (deferred) `BEGIN` reads a snapshot first
/// and can then fail with "database is locked" when it tries to write,
/// whatever the busy timeout. PostgreSQL's runs at READ COMMITTED, and where
/// a write depends on what it read, the read takes a row lock.
///
/// A transaction carries the lease of the store it was begun on, which
/// `append` checks (see [`pg_lease_fence`]).
pub(super) struct Tx {
    conn: TxConn,
    pub(super) lease: Option<Arc<Lease>>,
}

enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// SQLite's start of a write transaction (see [`Tx`]).
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

impl Tx {
    pub(super) async fn begin(store: &super::Store) -> Result<Tx, sqlx::Error> {
        let conn = match store.pool() {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with(BEGIN_WRITE).await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            lease: store.lease.clone(),
        })
    }

    /// A PostgreSQL transaction begun apart (the ballot batch's).
    pub(super) fn postgres(
        tx: sqlx::Transaction<'static, Postgres>,
        lease: Option<Arc<Lease>>,
    ) -> Tx {
        Tx {
            conn: TxConn::Postgres(tx),
            lease,
        }
    }

    pub(super) fn db(&mut self) -> Db<'_> {
        match &mut self.conn {
            TxConn::Sqlite(tx) => Db::Sqlite(tx),
            TxConn::Postgres(tx) => Db::Postgres(tx),
        }
    }

    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await,
            TxConn::Postgres(tx) => tx.commit().await,
        }
    }
}

/// A connection from the pool, for reads outside a transaction.
pub(super) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub(super) async fn acquire(store: &super::Store) -> Result<Pooled, sqlx::Error> {
        Ok(match store.pool() {
            Pool::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    pub(super) fn db(&mut self) -> Db<'_> {
        match self {
            Pooled::Sqlite(conn) => Db::Sqlite(conn),
            Pooled::Postgres(conn) => Db::Postgres(conn),
        }
    }
}

/// A row lock PostgreSQL takes on a meeting; each caller says why it takes
/// its lock.
#[derive(Clone, Copy)]
pub(super) enum MeetingLock {
    /// Conflicts with the key-share lock that inserting a round takes.
    Update,
    /// Serializes appends to the meeting's audit chain.
    NoKeyUpdate,
    /// Waits for every transaction that holds one of the other two.
    Share,
}

/// Locks the meeting's row on PostgreSQL. SQLite needs no row lock: its
/// write transactions hold the one write lock from their `BEGIN IMMEDIATE`,
/// and its commits end with the process that made them.
pub(super) async fn lock_meeting(
    db: Db<'_>,
    meeting: &MeetingId,
    lock: MeetingLock,
) -> Result<(), sqlx::Error> {
    let Db::Postgres(conn) = db else {
        return Ok(());
    };
    let statement = match lock {
        MeetingLock::Update => "SELECT 1 FROM meetings WHERE id = $1 FOR UPDATE",
        MeetingLock::NoKeyUpdate => "SELECT 1 FROM meetings WHERE id = $1 FOR NO KEY UPDATE",
        MeetingLock::Share => "SELECT 1 FROM meetings WHERE id = $1 FOR SHARE",
    };
    sqlx::query(statement)
        .bind(meeting.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Milliseconds since the Unix epoch by PostgreSQL's clock: leases are
/// timed by the one clock every node shares, so that a node whose own clock
/// is off cannot take a lease that has not ended.
macro_rules! pg_now_ms {
    () => {
        "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
    };
}

/// Bounds how long the rest of the transaction waits for a row lock, after
/// which PostgreSQL refuses the statement with SQLSTATE 55P03
/// (`lock_not_available`).
pub(super) async fn pg_lock_timeout(conn: &mut PgConnection, ms: u64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("SET LOCAL lock_timeout = {ms}"))
        .execute(conn)
        .await
        .map(drop)
}

/// Takes the meeting's lease for `holder` if nobody holds it, its holder let
/// it end, or `holder` itself holds it (a node restarted under its id); the
/// new fencing number, or `None` if another node holds it.
/// The caller has locked the meeting's row (`FOR UPDATE`), so that every
/// transaction of the previous holder that passed its fence check has
/// committed before the fence moves.
pub(super) async fn pg_take_lease(
    conn: &mut PgConnection,
    meeting: &MeetingId,
    holder: &str,
    term_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "INSERT INTO meeting_leases (meeting_id, holder, fence, expires_at)
         VALUES ($1, $2, 1, ",
        pg_now_ms!(),
        " + $3)
         ON CONFLICT (meeting_id) DO UPDATE
         SET holder = excluded.holder, fence = meeting_leases.fence + 1,
             expires_at = excluded.expires_at
         WHERE meeting_leases.holder = excluded.holder OR meeting_leases.expires_at <= ",
        pg_now_ms!(),
        " RETURNING fence"
    ))
    .bind(meeting.as_str())
    .bind(holder)
    .bind(term_ms)
    .fetch_optional(conn)
    .await
}

/// Extends every running lease `holder` holds, and its node's row; the
/// meetings it still holds, with their fencing numbers. A lease that ran
/// out or was given back stays so, even if nobody took it yet: its node
/// must take it again, with a new fencing number.
pub(super) async fn pg_renew_leases(
    conn: &mut PgConnection,
    holder: &str,
    term_ms: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO hub_nodes (id, expires_at) VALUES ($1, ",
        pg_now_ms!(),
        " + $2)
         ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at"
    ))
    .bind(holder)
    .bind(term_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(concat!(
        "UPDATE meeting_leases SET expires_at = ",
        pg_now_ms!(),
        " + $2 WHERE holder = $1 AND expires_at > ",
        pg_now_ms!(),
        " RETURNING meeting_id, fence"
    ))
    .bind(holder)
    .bind(term_ms)
    .fetch_all(conn)
    .await
}

/// Ends the lease at once if `holder` still holds it with `fence`, so that
/// another node need not wait for it to run out.
pub(super) async fn pg_release_lease(
    conn: &mut PgConnection,
    meeting: &MeetingId,
    holder: &str,
    fence: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE meeting_leases SET expires_at = 0
         WHERE meeting_id = $1 AND holder = $2 AND fence = $3",
    )
    .bind(meeting.as_str())
    .bind(holder)
    .bind(fence)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets a node that stops: it no longer counts for the fair share.
pub(super) async fn pg_remove_node(
    conn: &mut PgConnection,
    holder: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM hub_nodes WHERE id = $1")
        .bind(holder)
        .execute(conn)
        .await
        .map(drop)
}

/// Every meeting with the holder of its lease while that lease runs, and
/// how many nodes run now.
pub(super) async fn pg_lease_holders(
    conn: &mut PgConnection,
) -> Result<(Vec<(String, Option<String>)>, i64), sqlx::Error> {
    let holders = sqlx::query_as(concat!(
        "SELECT m.id, l.holder FROM meetings m
         LEFT JOIN meeting_leases l ON l.meeting_id = m.id AND l.expires_at > ",
        pg_now_ms!(),
        " ORDER BY m.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let nodes = sqlx::query_scalar(concat!(
        "SELECT count(*) FROM hub_nodes WHERE expires_at > ",
        pg_now_ms!()
    ))
    .fetch_one(conn)
    .await?;
    Ok((holders, nodes))
}

/// The meeting's fencing number if `holder` holds its lease. Read after the
/// meeting's row was locked, so that a takeover (which locks it first) has
/// either committed, and is seen, or waits for this transaction.
pub(super) async fn pg_lease_fence(
    conn: &mut PgConnection,
    meeting: &MeetingId,
    holder: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT fence FROM meeting_leases WHERE meeting_id = $1 AND holder = $2")
        .bind(meeting.as_str())
        .bind(holder)
        .fetch_optional(conn)
        .await
}

pub(super) async fn ping(db: Db<'_>) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query("SELECT 1 FROM meetings LIMIT 1")
        .fetch_optional(c)
        .await
        .map(drop))
}

/// Inserts the meeting, or replaces a different definition while the meeting
/// has no rounds and nothing happened at its floor; false if nothing was written.
pub(super) async fn upsert_meeting(
    db: Db<'_>,
    id: &MeetingId,
    definition: &str,
) -> Result<bool, sqlx::Error> {
    let written = on_each!(db, |c| {
        sqlx::query(
        "INSERT INTO meetings (id, definition) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET definition = excluded.definition
         WHERE meetings.definition <> excluded.definition
             AND NOT EXISTS (SELECT 1 FROM rounds WHERE rounds.meeting_id = excluded.id)
             AND NOT EXISTS (SELECT 1 FROM floor_events WHERE floor_events.meeting_id = excluded.id)",
    )
    .bind(id.as_str())
    .bind(definition)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(written > 0)
}

/// Replaces the meeting's definition; the caller holds the meeting's lock
/// and has checked that the change may be made.
pub(super) async fn set_definition(
    db: Db<'_>,
    id: &MeetingId,
    definition: &str,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "UPDATE meetings SET definition = $2 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(definition)
    .execute(c)
    .await
    .map(drop))
}

/// Inserts a new meeting; false if one with this id is already stored.
pub(super) async fn insert_meeting(
    db: Db<'_>,
    id: &MeetingId,
    definition: &str,
) -> Result<bool, sqlx::Error> {
    let written = on_each!(db, |c| sqlx::query(
        "INSERT INTO meetings (id, definition) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(definition)
    .execute(c)
    .await?
    .rows_affected());
    Ok(written > 0)
}

pub(super) async fn definition(db: Db<'_>, id: &MeetingId) -> Result<Option<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT definition FROM meetings WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)
}

pub(super) async fn meetings(db: Db<'_>) -> Result<Vec<MeetingRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT id, definition, current_item, closed_at FROM meetings ORDER BY id"
    )
    .fetch_all(c)
    .await)
}

/// When the meeting's session closed; `None` while it is under way (or
/// the meeting is not stored).
pub(super) async fn closed_at(db: Db<'_>, meeting: &MeetingId) -> Result<Option<i64>, sqlx::Error> {
    let closed: Option<Option<i64>> = on_each!(db, |c| sqlx::query_scalar(
        "SELECT closed_at FROM meetings WHERE id = $1"
    )
    .bind(meeting.as_str())
    .fetch_optional(c)
    .await)?;
    Ok(closed.flatten())
}

/// False if the meeting is not stored or its session already closed.
pub(super) async fn close_session(
    db: Db<'_>,
    meeting: &MeetingId,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = on_each!(db, |c| sqlx::query(
        "UPDATE meetings SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL"
    )
    .bind(at)
    .bind(meeting.as_str())
    .execute(c)
    .await?
    .rows_affected());
    Ok(updated > 0)
}

/// False if the meeting is not stored.
pub(super) async fn set_current_item(
    db: Db<'_>,
    meeting: &MeetingId,
    item: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let updated = on_each!(db, |c| sqlx::query(
        "UPDATE meetings SET current_item = $1 WHERE id = $2"
    )
    .bind(item)
    .bind(meeting.as_str())
    .execute(c)
    .await?
    .rows_affected());
    Ok(updated > 0)
}

pub(super) async fn insert_code(db: Db<'_>, code: &CodeInsert<'_>) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO enrollment_codes (code_hash, meeting_id, principal, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(code.code_hash)
    .bind(code.meeting.as_str())
    .bind(&code.principal)
    .bind(code.expires_at)
    .execute(c)
    .await
    .map(drop))
}

/// The code, locked on PostgreSQL so that two devices racing with it are
/// served one after the other.
pub(super) async fn code_to_redeem(
    db: Db<'_>,
    code_hash: &str,
) -> Result<Option<CodeRow>, sqlx::Error> {
    const SELECT: &str = "SELECT meeting_id, principal, expires_at, used_at
         FROM enrollment_codes WHERE code_hash = $1";
    match db {
        Db::Sqlite(c) => {
            sqlx::query_as(SELECT)
                .bind(code_hash)
                .fetch_optional(c)
                .await
        }
        Db::Postgres(c) => {
            sqlx::query_as(&format!("{SELECT} FOR UPDATE"))
                .bind(code_hash)
                .fetch_optional(c)
                .await
        }
    }
}

pub(super) async fn burn_code(db: Db<'_>, code_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2"
    )
    .bind(now)
    .bind(code_hash)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn insert_secretariat_code(
    db: Db<'_>,
    code_hash: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO secretariat_codes (code_hash, expires_at) VALUES ($1, $2)"
    )
    .bind(code_hash)
    .bind(expires_at)
    .execute(c)
    .await
    .map(drop))
}

/// The secretariat's code, locked on PostgreSQL as [`code_to_redeem`] locks
/// a seat's.
pub(super) async fn secretariat_code_to_redeem(
    db: Db<'_>,
    code_hash: &str,
) -> Result<Option<SecretariatCodeRow>, sqlx::Error> {
    const SELECT: &str = "SELECT expires_at, used_at FROM secretariat_codes WHERE code_hash = $1";
    match db {
        Db::Sqlite(c) => {
            sqlx::query_as(SELECT)
                .bind(code_hash)
                .fetch_optional(c)
                .await
        }
        Db::Postgres(c) => {
            sqlx::query_as(&format!("{SELECT} FOR UPDATE"))
                .bind(code_hash)
                .fetch_optional(c)
                .await
        }
    }
}

pub(super) async fn burn_secretariat_code(
    db: Db<'_>,
    code_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "UPDATE secretariat_codes SET used_at = $1 WHERE code_hash = $2"
    )
    .bind(now)
    .bind(code_hash)
    .execute(c)
    .await
    .map(drop))
}

/// Adds a secretariat device's key; a key enrolled again keeps its first time.
pub(super) async fn insert_secretariat_key(
    db: Db<'_>,
    key: &PublicKey,
    now: i64,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO secretariat_keys (public_key, enrolled_at) VALUES ($1, $2)
         ON CONFLICT (public_key) DO NOTHING"
    )
    .bind(key.as_bytes().as_slice())
    .bind(now)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn is_secretariat_key(db: Db<'_>, key: &PublicKey) -> Result<bool, sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "SELECT 1 FROM secretariat_keys WHERE public_key = $1"
    )
    .bind(key.as_bytes().as_slice())
    .fetch_optional(c)
    .await
    .map(|row| row.is_some()))
}

/// Removes `key` from every other principal of the meeting.
pub(super) async fn unbind_key_elsewhere(
    db: Db<'_>,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "DELETE FROM device_keys WHERE meeting_id = $1 AND public_key = $2 AND principal <> $3",
    )
    .bind(meeting.as_str())
    .bind(&key.as_bytes()[..])
    .bind(principal)
    .execute(c)
    .await
    .map(drop))
}

/// Makes `key` the principal's key, replacing its earlier one.
pub(super) async fn bind_key(
    db: Db<'_>,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO device_keys (meeting_id, principal, public_key) VALUES ($1, $2, $3)
         ON CONFLICT (meeting_id, principal) DO UPDATE SET public_key = excluded.public_key",
    )
    .bind(meeting.as_str())
    .bind(principal)
    .bind(&key.as_bytes()[..])
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn unbind_key(
    db: Db<'_>,
    meeting: &MeetingId,
    principal: &str,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "DELETE FROM device_keys WHERE meeting_id = $1 AND principal = $2",
    )
    .bind(meeting.as_str())
    .bind(principal)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn keys(db: Db<'_>, meeting: &MeetingId) -> Result<Vec<KeyRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT principal, public_key FROM device_keys WHERE meeting_id = $1"
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

/// False if the seat had already checked in (its first time is kept).
pub(super) async fn check_in(
    db: Db<'_>,
    meeting: &MeetingId,
    seat: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = on_each!(db, |c| sqlx::query(
        "INSERT INTO attendance (meeting_id, seat, checked_in_at) VALUES ($1, $2, $3)
         ON CONFLICT (meeting_id, seat) DO NOTHING",
    )
    .bind(meeting.as_str())
    .bind(seat)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(inserted > 0)
}

pub(super) async fn present(db: Db<'_>, meeting: &MeetingId) -> Result<Vec<i64>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT seat FROM attendance WHERE meeting_id = $1 ORDER BY seat"
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

pub(super) async fn insert_round(db: Db<'_>, round: &RoundInsert<'_>) -> Result<(), sqlx::Error> {
    on_each!(db, |c| {
        sqlx::query(
        "INSERT INTO rounds (id, meeting_id, item, settings, secret, opened_at, deadline, status,
                             documents, closed_at, by_hand)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&round.id)
    .bind(round.meeting.as_str())
    .bind(round.item)
    .bind(&round.settings)
    .bind(round.secret)
    .bind(round.opened_at)
    .bind(round.deadline)
    .bind(round.status)
    .bind(&round.documents)
    .bind(round.closed_at)
    .bind(&round.by_hand)
    .execute(c)
    .await
    .map(drop)
    })
}

/// The round's meeting, or None if the round is not open.
pub(super) async fn set_deadline(
    db: Db<'_>,
    id: &str,
    deadline: i64,
) -> Result<Option<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "UPDATE rounds SET deadline = $1 WHERE id = $2 AND status = 'open' RETURNING meeting_id",
    )
    .bind(deadline)
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Holds an open, running round from `at`; its meeting, or None if the
/// round is not open or already held.
pub(super) async fn pause_round(
    db: Db<'_>,
    id: &str,
    at: i64,
) -> Result<Option<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "UPDATE rounds SET paused_at = $1
         WHERE id = $2 AND status = 'open' AND paused_at IS NULL RETURNING meeting_id",
    )
    .bind(at)
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Resumes a held round with `deadline`; its meeting, or None if the round
/// is not open and held.
pub(super) async fn resume_round(
    db: Db<'_>,
    id: &str,
    deadline: i64,
) -> Result<Option<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "UPDATE rounds SET paused_at = NULL, deadline = $1
         WHERE id = $2 AND status = 'open' AND paused_at IS NOT NULL RETURNING meeting_id",
    )
    .bind(deadline)
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Moves an open round to `status` (closed or voided); its secrecy and
/// meeting, or None if the round is not open. On PostgreSQL, updating the
/// round row first serializes the end with any ballot batch still writing
/// to the round.
pub(super) async fn end_round(
    db: Db<'_>,
    id: &str,
    status: &str,
    at: i64,
) -> Result<Option<(bool, String)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "UPDATE rounds SET status = $1, closed_at = $2 WHERE id = $3 AND status = 'open'
         RETURNING secret, meeting_id",
    )
    .bind(status)
    .bind(at)
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// A secret round's rows written again in the given order (see
/// `rewrite_sorted`), after [`delete_secret_rows`].
pub(super) async fn insert_secret_rows(
    db: Db<'_>,
    id: &str,
    rows: &SecretColumns,
) -> Result<(), sqlx::Error> {
    match db {
        Db::Postgres(c) => {
            sqlx::query(
                "INSERT INTO secret_participants (round_id, seat, seq, recorded_at)
                 SELECT $1, seat, seq, recorded_at
                 FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::BIGINT[]) AS p (seat, seq, recorded_at)",
            )
            .bind(id)
            .bind(&rows.seats)
            .bind(&rows.seqs)
            .bind(&rows.recorded_at)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO secret_choices (round_id, tracker, choice, marks)
                 SELECT $1, tracker, choice, marks
                 FROM UNNEST($2::BYTEA[], $3::TEXT[], $4::BYTEA[]) AS c (tracker, choice, marks)",
            )
            .bind(id)
            .bind(&rows.choices.trackers)
            .bind(&rows.choices.choices)
            .bind(&rows.choices.marks)
            .execute(c)
            .await?;
        }
        Db::Sqlite(c) => {
            let seats: Vec<usize> = (0..rows.seats.len()).collect();
            for chunk in seats.chunks(SQLITE_ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO secret_participants (round_id, seat, seq, recorded_at) ",
                );
                insert.push_values(chunk, |mut row, &i| {
                    row.push_bind(id)
                        .push_bind(rows.seats[i])
                        .push_bind(rows.seqs[i])
                        .push_bind(rows.recorded_at[i]);
                });
                insert.build().execute(&mut *c).await?;
            }
            let choices = &rows.choices;
            let all: Vec<usize> = (0..choices.trackers.len()).collect();
            for chunk in all.chunks(SQLITE_ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO secret_choices (round_id, tracker, choice, marks) ",
                );
                insert.push_values(chunk, |mut row, &i| {
                    row.push_bind(id)
                        .push_bind(&choices.trackers[i][..])
                        .push_bind(choices.choices[i])
                        .push_bind(choices.marks[i].as_deref());
                });
                insert.build().execute(&mut *c).await?;
            }
        }
    }
    Ok(())
}

/// Deletes a secret round's participation and choice rows.
pub(super) async fn delete_secret_rows(db: Db<'_>, id: &str) -> Result<(), sqlx::Error> {
    on_each!(db, |c| {
        sqlx::query("DELETE FROM secret_participants WHERE round_id = $1")
            .bind(id)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM secret_choices WHERE round_id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(drop)
    })
}

pub(super) async fn insert_tally(db: Db<'_>, id: &str, t: &TallyInsert) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO tallies (round_id, total_seats, present, yes, no, abstain, passed, result)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(t.total_seats)
    .bind(t.present)
    .bind(t.yes)
    .bind(t.no)
    .bind(t.abstain)
    .bind(t.passed)
    .bind(&t.result)
    .execute(c)
    .await
    .map(drop))
}

/// Every version of every document of the meeting, by item, slot and version.
pub(super) async fn documents(
    db: Db<'_>,
    meeting: &MeetingId,
) -> Result<Vec<DocumentRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT item, slot, version, title, kind, public, sha256, size, stored_at FROM documents
         WHERE meeting_id = $1 ORDER BY item, slot, version",
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

pub(super) async fn document_versions(db: Db<'_>, meeting: &MeetingId) -> Result<i64, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM documents WHERE meeting_id = $1"
    )
    .bind(meeting.as_str())
    .fetch_one(c)
    .await)
}

/// The SHA-256 of each of the item's documents at its latest version, in
/// the item's order: what a round opened on the item is about.
pub(super) async fn item_documents(
    db: Db<'_>,
    meeting: &MeetingId,
    item: i64,
) -> Result<Vec<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT d.sha256 FROM documents d
         WHERE d.meeting_id = $1 AND d.item = $2
           AND d.version = (SELECT MAX(v.version) FROM documents v
                            WHERE v.meeting_id = d.meeting_id AND v.item = d.item
                              AND v.slot = d.slot)
         ORDER BY d.slot",
    )
    .bind(meeting.as_str())
    .bind(item)
    .fetch_all(c)
    .await)
}

/// Whether the meeting has an open round.
pub(super) async fn has_open_round(db: Db<'_>, meeting: &MeetingId) -> Result<bool, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM rounds WHERE meeting_id = $1 AND status = 'open')"
    )
    .bind(meeting.as_str())
    .fetch_one(c)
    .await)
}

/// Whether a round was ever opened on the item: its documents are then fixed.
pub(super) async fn item_has_rounds(
    db: Db<'_>,
    meeting: &MeetingId,
    item: i64,
) -> Result<bool, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM rounds WHERE meeting_id = $1 AND item = $2)"
    )
    .bind(meeting.as_str())
    .bind(item)
    .fetch_one(c)
    .await)
}

/// Keeps a file's bytes under their hash; bytes already kept are left as they are.
pub(super) async fn insert_blob(
    db: Db<'_>,
    sha256: &str,
    content: &[u8],
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO document_blobs (sha256, content) VALUES ($1, $2)
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(content)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn insert_document(
    db: Db<'_>,
    meeting: &MeetingId,
    d: &DocumentInsert<'_>,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO documents
             (meeting_id, item, slot, version, title, kind, public, sha256, size, stored_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(meeting.as_str())
    .bind(d.item)
    .bind(d.slot)
    .bind(d.version)
    .bind(d.title)
    .bind(&d.kind)
    .bind(d.public)
    .bind(d.sha256)
    .bind(d.size)
    .bind(d.stored_at)
    .execute(c)
    .await
    .map(drop))
}

/// The bytes kept under a hash, if any.
pub(super) async fn blob(db: Db<'_>, sha256: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT content FROM document_blobs WHERE sha256 = $1"
    )
    .bind(sha256)
    .fetch_optional(c)
    .await)
}

/// The last entry of the meeting's audit chain: its seq and hash.
pub(super) async fn audit_head(
    db: Db<'_>,
    meeting: &MeetingId,
) -> Result<Option<(i64, Vec<u8>)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE meeting_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(meeting.as_str())
    .fetch_optional(c)
    .await)
}

/// The columns of an audit row, for a single append and SQLite's batch.
macro_rules! audit_insert {
    () => {
        "INSERT INTO audit_log (meeting_id, seq, at, kind, body, prev_hash, hash) "
    };
}

pub(super) async fn insert_audit(
    db: Db<'_>,
    meeting: &MeetingId,
    entry: &AuditInsert,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(concat!(
        audit_insert!(),
        "VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(meeting.as_str())
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.kind)
    .bind(&entry.body)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn audit_log(
    db: Db<'_>,
    meeting: &MeetingId,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT seq, at, kind, body, prev_hash, hash
         FROM audit_log WHERE meeting_id = $1 ORDER BY seq",
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

pub(super) async fn insert_floor_event(
    db: Db<'_>,
    meeting: &MeetingId,
    seq: i64,
    change: &str,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| sqlx::query(
        "INSERT INTO floor_events (meeting_id, seq, change) VALUES ($1, $2, $3)"
    )
    .bind(meeting.as_str())
    .bind(seq)
    .bind(change)
    .execute(c)
    .await
    .map(drop))
}

pub(super) async fn floor_events(
    db: Db<'_>,
    meeting: &MeetingId,
) -> Result<Vec<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "SELECT change FROM floor_events WHERE meeting_id = $1 ORDER BY seq"
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

/// Records a board member's confirmation of a closed round's count; false
/// if the round is not closed or its result was already announced.
pub(super) async fn insert_confirmation(
    db: Db<'_>,
    round: &str,
    seat: i64,
    key: &str,
    signature: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = on_each!(db, |c| sqlx::query(
        "INSERT INTO count_confirmations (round_id, seat, public_key, signature, confirmed_at)
         SELECT id, $2, $3, $4, $5 FROM rounds
         WHERE id = $1 AND status = 'closed' AND announced_at IS NULL",
    )
    .bind(round)
    .bind(seat)
    .bind(key)
    .bind(signature)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(inserted > 0)
}

/// Announces a closed round's result; its meeting, or None if the round is
/// not closed or was already announced.
pub(super) async fn announce_round(
    db: Db<'_>,
    id: &str,
    at: i64,
) -> Result<Option<String>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "UPDATE rounds SET announced_at = $1
         WHERE id = $2 AND status = 'closed' AND announced_at IS NULL RETURNING meeting_id",
    )
    .bind(at)
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// The board's confirmations of the meeting's rounds, in the order given:
/// `(round, seat, confirmed_at)`.
pub(super) async fn confirmations(
    db: Db<'_>,
    meeting: &MeetingId,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT c.round_id, c.seat, c.confirmed_at
         FROM count_confirmations c JOIN rounds r ON r.id = c.round_id
         WHERE r.meeting_id = $1
         ORDER BY c.confirmed_at, c.seat",
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

pub(super) async fn rounds(db: Db<'_>, meeting: &MeetingId) -> Result<Vec<RoundRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT r.id, r.meeting_id, r.item, r.settings, r.opened_at, r.deadline,
                r.paused_at, r.status, r.closed_at, r.announced_at, t.result, r.documents,
                r.by_hand
         FROM rounds r LEFT JOIN tallies t ON t.round_id = r.id
         WHERE r.meeting_id = $1
         ORDER BY r.opened_at, r.id",
    )
    .bind(meeting.as_str())
    .fetch_all(c)
    .await)
}

/// A round's stored ballots counted by choice: `(choice, ballots)`.
pub(super) async fn choice_counts(db: Db<'_>, id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT choice, COUNT(*) FROM ballots WHERE round_id = $1 GROUP BY choice"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

/// A secret round's choice rows counted by choice: `(choice, rows)`.
pub(super) async fn secret_choice_counts(
    db: Db<'_>,
    id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT choice, COUNT(*) FROM secret_choices WHERE round_id = $1 GROUP BY choice"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

pub(super) async fn ballots(db: Db<'_>, id: &str) -> Result<Vec<BallotRow>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT b.round_id, b.seat, b.choice, b.seq, b.signature, b.recorded_at, b.marks,
                r.documents
         FROM ballots b JOIN rounds r ON r.id = b.round_id
         WHERE b.round_id = $1 ORDER BY b.seat",
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

/// A secret round's participation rows, `(seat, seq, recorded_at)`, by seat.
pub(super) async fn secret_participants(
    db: Db<'_>,
    id: &str,
) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT seat, seq, recorded_at FROM secret_participants WHERE round_id = $1 ORDER BY seat"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

/// A secret round's choice rows, `(tracker, choice, marks)`, by tracker.
pub(super) async fn secret_choices(
    db: Db<'_>,
    id: &str,
) -> Result<Vec<(Vec<u8>, String, Option<Vec<u8>>)>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_as(
        "SELECT tracker, choice, marks FROM secret_choices WHERE round_id = $1 ORDER BY tracker"
    )
    .bind(id)
    .fetch_all(c)
    .await)
}

/// The ballot upsert's rule, in both batch statements: a ballot replaces the
/// stored one of its (round, seat) only with a higher `seq`.
macro_rules! keep_latest_ballot {
    () => {
        " ON CONFLICT (round_id, seat) DO UPDATE SET
             choice = excluded.choice, seq = excluded.seq,
             signature = excluded.signature, recorded_at = excluded.recorded_at,
             marks = excluded.marks
         WHERE excluded.seq > ballots.seq"
    };
}

/// The same rule for a secret round's participation rows.
macro_rules! keep_latest_participation {
    () => {
        " ON CONFLICT (round_id, seat) DO UPDATE SET
             seq = excluded.seq, recorded_at = excluded.recorded_at
         WHERE excluded.seq > secret_participants.seq"
    };
}

/// A secret ballot's choice row is written once: a resent ballot has the
/// same tracker.
macro_rules! write_choice_once {
    () => {
        " ON CONFLICT (round_id, tracker) DO NOTHING"
    };
}

// PostgreSQL only.

/// The round's meeting and secrecy if it is open. `FOR SHARE` makes a
/// concurrent close (which updates the round row first) wait for the
/// ballots' transaction, or the transaction see the round closed.
pub(super) async fn pg_open_round_shared(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<(String, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT meeting_id, secret FROM rounds WHERE id = $1 AND status = 'open' FOR SHARE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The whole batch in one statement, its columns bound as arrays.
pub(super) async fn pg_upsert_ballots(
    conn: &mut PgConnection,
    ballots: &BallotColumns,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO ballots (round_id, seat, choice, seq, signature, recorded_at, marks)
         SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[],
                              $5::BYTEA[], $6::BIGINT[], $7::BYTEA[])",
        keep_latest_ballot!()
    ))
    .bind(&ballots.round_ids)
    .bind(&ballots.seats)
    .bind(&ballots.choices)
    .bind(&ballots.seqs)
    .bind(&ballots.signatures)
    .bind(&ballots.recorded_at)
    .bind(&ballots.marks)
    .execute(conn)
    .await
    .map(drop)
}

/// A batch's secret ballots: participation rows upserted, replaced choice
/// rows deleted, new choice rows inserted (in tracker order), each
/// statement with its columns bound as arrays.
pub(super) async fn pg_write_secret_ballots(
    conn: &mut PgConnection,
    batch: &SecretBatch,
) -> Result<(), sqlx::Error> {
    if batch.round_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(concat!(
        "INSERT INTO secret_participants (round_id, seat, seq, recorded_at)
         SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[])",
        keep_latest_participation!()
    ))
    .bind(&batch.round_ids)
    .bind(&batch.seats)
    .bind(&batch.seqs)
    .bind(&batch.recorded_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM secret_choices c
         USING UNNEST($1::TEXT[], $2::BYTEA[]) AS gone (round_id, tracker)
         WHERE c.round_id = gone.round_id AND c.tracker = gone.tracker",
    )
    .bind(&batch.replaced_round_ids)
    .bind(&batch.replaced)
    .execute(&mut *conn)
    .await?;
    let choices = &batch.choices;
    sqlx::query(concat!(
        "INSERT INTO secret_choices (round_id, tracker, choice, marks)
         SELECT * FROM UNNEST($1::TEXT[], $2::BYTEA[], $3::TEXT[], $4::BYTEA[])",
        write_choice_once!()
    ))
    .bind(&choices.round_ids)
    .bind(&choices.trackers)
    .bind(&choices.choices)
    .bind(&choices.marks)
    .execute(conn)
    .await
    .map(drop)
}

// SQLite only.

/// SQLite refuses statements with more than 32766 bound values; multi-row
/// inserts are cut into statements of at most this many rows (of seven values
/// at most), all in the caller's transaction.
const SQLITE_ROWS_PER_INSERT: usize = 1000;

/// `VACUUM INTO` refuses a file that exists, so a backup never overwrites one.
pub(super) async fn sqlite_backup_into(pool: &SqlitePool, out: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO $1")
        .bind(out)
        .execute(pool)
        .await
        .map(drop)
}

/// Copies the write-ahead log into the database file and empties it; the
/// first column is 1 if readers blocked the checkpoint.
pub(super) async fn sqlite_checkpoint_truncate(
    pool: &SqlitePool,
) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(pool)
        .await
}

/// The batch's first trip: `BEGIN IMMEDIATE`, then the batch's open rounds
/// with the last entry of each one's meeting's audit chain.
pub(super) fn sqlite_begin_and_read_open_rounds(
    ballots: &BallotColumns,
) -> QueryBuilder<'_, Sqlite> {
    let mut read = QueryBuilder::<Sqlite>::new(BEGIN_WRITE);
    read.push(
        "; SELECT r.id, r.meeting_id, r.secret, a.seq AS head_seq, a.hash AS head_hash
         FROM rounds r LEFT JOIN audit_log a ON a.meeting_id = r.meeting_id
             AND a.seq = (SELECT MAX(seq) FROM audit_log WHERE meeting_id = r.meeting_id)
         WHERE r.status = 'open' AND r.id IN (",
    );
    let mut ids = read.separated(", ");
    for id in ballots.accepted.keys() {
        ids.push_bind(id);
    }
    read.push(")");
    read
}

/// The batch's second trip: the ballots' multi-row upserts, the audit
/// entries and `COMMIT`.
pub(super) fn sqlite_write_and_commit<'a>(
    ballots: &'a BallotColumns,
    entries: &'a [(MeetingId, AuditInsert)],
) -> QueryBuilder<'a, Sqlite> {
    let mut write = QueryBuilder::<Sqlite>::new("");
    sqlite_write_secret_ballots(&mut write, &ballots.secret);
    let rows: Vec<usize> = (0..ballots.round_ids.len()).collect();
    for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
        write.push(
            "INSERT INTO ballots (round_id, seat, choice, seq, signature, recorded_at, marks) ",
        );
        write.push_values(chunk, |mut row, &i| {
            row.push_bind(&ballots.round_ids[i])
                .push_bind(ballots.seats[i])
                .push_bind(ballots.choices[i])
                .push_bind(ballots.seqs[i])
                .push_bind(&ballots.signatures[i][..])
                .push_bind(ballots.recorded_at[i])
                .push_bind(ballots.marks[i].as_deref());
        });
        write.push(concat!(keep_latest_ballot!(), "; "));
    }
    write.push(audit_insert!());
    write.push_values(entries, |mut row, (meeting, entry)| {
        row.push_bind(meeting.as_str())
            .push_bind(entry.seq)
            .push_bind(entry.at)
            .push_bind(entry.kind)
            .push_bind(&entry.body)
            .push_bind(&entry.prev_hash)
            .push_bind(&entry.hash);
    });
    write.push("; COMMIT");
    write
}

/// The secret ballots' part of the batch's second trip: participation
/// upserts, deletions of replaced choice rows, choice row inserts.
fn sqlite_write_secret_ballots<'a>(write: &mut QueryBuilder<'a, Sqlite>, batch: &'a SecretBatch) {
    let rows: Vec<usize> = (0..batch.round_ids.len()).collect();
    for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
        write.push("INSERT INTO secret_participants (round_id, seat, seq, recorded_at) ");
        write.push_values(chunk, |mut row, &i| {
            row.push_bind(&batch.round_ids[i])
                .push_bind(batch.seats[i])
                .push_bind(batch.seqs[i])
                .push_bind(batch.recorded_at[i]);
        });
        write.push(concat!(keep_latest_participation!(), "; "));
    }
    for (round, tracker) in batch.replaced_round_ids.iter().zip(&batch.replaced) {
        write.push("DELETE FROM secret_choices WHERE round_id = ");
        write.push_bind(round);
        write.push(" AND tracker = ");
        write.push_bind(&tracker[..]);
        write.push("; ");
    }
    let choices = &batch.choices;
    let rows: Vec<usize> = (0..choices.round_ids.len()).collect();
    for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
        write.push("INSERT INTO secret_choices (round_id, tracker, choice, marks) ");
        write.push_values(chunk, |mut row, &i| {
            row.push_bind(&choices.round_ids[i])
                .push_bind(&choices.trackers[i][..])
                .push_bind(choices.choices[i])
                .push_bind(choices.marks[i].as_deref());
        });
        write.push(concat!(write_choice_once!(), "; "));
    }
}

/// One kind of the public audience's frames as a row of `audience_state`
/// holds it: the frame and its version, or neither.
pub(super) type AudienceColumn = (Option<String>, Option<i64>);

/// Publishes the latest of each kind of the audience's frames given (the
/// others keep what they held), if `holder` still holds the meeting's
/// lease with `fence`, and notifies the nodes (`gavel_audience`, the
/// meeting as payload) in the same statement: a node that lost the meeting
/// publishes nothing. True if it was published.
pub(super) async fn pg_publish_audience(
    conn: &mut PgConnection,
    meeting: &MeetingId,
    holder: &str,
    fence: i64,
    [snapshot, floor, tally]: [&AudienceColumn; 3],
) -> Result<bool, sqlx::Error> {
    let notified: Option<String> = sqlx::query_scalar(
        "WITH published AS (
             INSERT INTO audience_state (meeting_id, fence, snapshot, snapshot_version,
                 floor, floor_version, tally, tally_version)
             SELECT $1, $3, $4, $5, $6, $7, $8, $9 FROM meeting_leases
             WHERE meeting_id = $1 AND holder = $2 AND fence = $3
             ON CONFLICT (meeting_id) DO UPDATE SET
                 fence = excluded.fence,
                 snapshot = COALESCE(excluded.snapshot, audience_state.snapshot),
                 snapshot_version = COALESCE(excluded.snapshot_version, audience_state.snapshot_version),
                 floor = COALESCE(excluded.floor, audience_state.floor),
                 floor_version = COALESCE(excluded.floor_version, audience_state.floor_version),
                 tally = COALESCE(excluded.tally, audience_state.tally),
                 tally_version = COALESCE(excluded.tally_version, audience_state.tally_version)
             RETURNING meeting_id
         )
         SELECT meeting_id FROM published,
             LATERAL (SELECT pg_notify('gavel_audience', published.meeting_id)) AS notified",
    )
    .bind(meeting.as_str())
    .bind(holder)
    .bind(fence)
    .bind(&snapshot.0)
    .bind(snapshot.1)
    .bind(&floor.0)
    .bind(floor.1)
    .bind(&tally.0)
    .bind(tally.1)
    .fetch_optional(conn)
    .await?;
    Ok(notified.is_some())
}

/// Marks `node` as relaying the audience of each of `meetings` for
/// `term_ms` more, and as relaying no other.
pub(super) async fn pg_relay_audience(
    conn: &mut PgConnection,
    node: &str,
    meetings: &[String],
    term_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM audience_relays WHERE node_id = $1 AND meeting_id <> ALL($2)")
        .bind(node)
        .bind(meetings)
        .execute(&mut *conn)
        .await?;
    sqlx::query(concat!(
        "INSERT INTO audience_relays (meeting_id, node_id, expires_at)
         SELECT meeting_id, $1, ",
        pg_now_ms!(),
        " + $3 FROM UNNEST($2::text[]) AS m (meeting_id)
         ON CONFLICT (meeting_id, node_id) DO UPDATE SET expires_at = excluded.expires_at"
    ))
    .bind(node)
    .bind(meetings)
    .bind(term_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// The meetings some node relays the audience of now.
pub(super) async fn pg_relayed_meetings(
    conn: &mut PgConnection,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT DISTINCT meeting_id FROM audience_relays WHERE expires_at > ",
        pg_now_ms!()
    ))
    .fetch_all(conn)
    .await
}

/// Clears the meeting's published frames, keeping their versions, if they
/// were published under `fence` and no node relays the meeting now;
/// whether it did.
pub(super) async fn pg_withdraw_audience(
    conn: &mut PgConnection,
    meeting: &MeetingId,
    fence: i64,
) -> Result<bool, sqlx::Error> {
    let withdrawn = sqlx::query(concat!(
        "UPDATE audience_state SET snapshot = NULL, floor = NULL, tally = NULL
         WHERE meeting_id = $1 AND fence = $2
         AND NOT EXISTS (SELECT 1 FROM audience_relays
                         WHERE meeting_id = $1 AND expires_at > ",
        pg_now_ms!(),
        ")"
    ))
    .bind(meeting.as_str())
    .bind(fence)
    .execute(conn)
    .await?;
    Ok(withdrawn.rows_affected() > 0)
}

/// The highest version the meeting's audience frames were published with,
/// withdrawn ones included.
pub(super) async fn pg_audience_version(
    conn: &mut PgConnection,
    meeting: &MeetingId,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GREATEST(snapshot_version, floor_version, tally_version)
         FROM audience_state WHERE meeting_id = $1",
    )
    .bind(meeting.as_str())
    .fetch_optional(conn)
    .await
    .map(Option::flatten)
}

/// The meeting's published audience frames: snapshot, floor and tally.
pub(super) async fn pg_audience_state(
    conn: &mut PgConnection,
    meeting: &MeetingId,
) -> Result<Option<[AudienceColumn; 3]>, sqlx::Error> {
    type Row = (
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT snapshot, snapshot_version, floor, floor_version, tally, tally_version
         FROM audience_state WHERE meeting_id = $1",
    )
    .bind(meeting.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(s, sv, f, fv, t, tv)| [(s, sv), (f, fv), (t, tv)]))
}

/// Keeps a download token (by its hash) for `meeting` until `expires_at`,
/// and forgets those that expired by `now`.
pub(super) async fn insert_download(
    db: Db<'_>,
    token_hash: &str,
    meeting: &MeetingId,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    on_each!(db, |c| {
        sqlx::query("DELETE FROM download_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO download_tokens (token_hash, meeting_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(meeting.as_str())
        .bind(expires_at)
        .execute(c)
        .await
        .map(drop)
    })
}

/// Deletes the download token (by its hash) of `meeting`; its expiry if it
/// was there. One statement: of two nodes redeeming it at once, one gets it.
pub(super) async fn take_download(
    db: Db<'_>,
    token_hash: &str,
    meeting: &MeetingId,
) -> Result<Option<i64>, sqlx::Error> {
    on_each!(db, |c| sqlx::query_scalar(
        "DELETE FROM download_tokens WHERE token_hash = $1 AND meeting_id = $2 RETURNING expires_at"
    )
    .bind(token_hash)
    .bind(meeting.as_str())
    .fetch_optional(c)
    .await)
}

/// Stores a call to `meeting`'s owner node and announces it to every node
/// (`meeting` and `id` as the payload), in one statement.
pub(super) async fn pg_put_owner_call(
    conn: &mut PgConnection,
    id: &str,
    meeting: &MeetingId,
    call: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH stored AS (
             INSERT INTO owner_calls (id, meeting_id, call) VALUES ($1, $2, $3)
             RETURNING meeting_id || ' ' || id AS payload
         )
         SELECT pg_notify('gavel_owner_call', payload) FROM stored",
    )
    .bind(id)
    .bind(meeting.as_str())
    .bind(call)
    .execute(conn)
    .await
    .map(drop)
}

/// Claims the call `id` to `meeting` for `holder`, if nobody claimed it and
/// `holder` still holds the meeting's running lease under `fence`: the call.
pub(super) async fn pg_claim_owner_call(
    conn: &mut PgConnection,
    id: &str,
    meeting: &MeetingId,
    holder: &str,
    fence: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "UPDATE owner_calls SET claimed_by = $3
         WHERE id = $1 AND meeting_id = $2 AND claimed_by IS NULL
           AND EXISTS (
               SELECT 1 FROM meeting_leases
               WHERE meeting_id = $2 AND holder = $3 AND fence = $4 AND expires_at > ",
        pg_now_ms!(),
        ") RETURNING call"
    ))
    .bind(id)
    .bind(meeting.as_str())
    .bind(holder)
    .bind(fence)
    .fetch_optional(conn)
    .await
}

/// Writes the answer to the call `id` and announces it (`id` as the payload).
pub(super) async fn pg_answer_owner_call(
    conn: &mut PgConnection,
    id: &str,
    answer: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH answered AS (
             UPDATE owner_calls SET answer = $2 WHERE id = $1 RETURNING id
         )
         SELECT pg_notify('gavel_owner_answer', id) FROM answered",
    )
    .bind(id)
    .bind(answer)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes the call `id` if it was answered, or if nobody claimed it, or
/// in any case when `give_up`: its answer and whether it was claimed.
/// `None` if it was kept (claimed and not yet answered).
pub(super) async fn pg_finish_owner_call(
    conn: &mut PgConnection,
    id: &str,
    give_up: bool,
) -> Result<Option<(Option<String>, bool)>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM owner_calls
         WHERE id = $1 AND (answer IS NOT NULL OR claimed_by IS NULL OR $2)
         RETURNING answer, claimed_by IS NOT NULL",
    )
    .bind(id)
    .bind(give_up)
    .fetch_optional(conn)
    .await
}
