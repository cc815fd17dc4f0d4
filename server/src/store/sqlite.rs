//! The store's SQL for SQLite, parallel to `postgres.rs` function for function.
//!
//! SQLite allows one writer at a time. Every transaction that reads before it
//! writes starts with `BEGIN IMMEDIATE`, which takes the write lock at once:
//! a plain (deferred) `BEGIN` would read a snapshot first and could then fail
//! with "database is locked" when it tries to write, whatever the busy timeout.

use super::{
    AuditInsert, AuditRow, BallotColumns, BallotRow, Close, CodeInsert, CodeRow, KeyRow,
    MeetingRow, OpenRoundRow, RoundInsert, RoundRow, StoreError, not_open, parse_meeting,
};
use gavel_protocol::{MeetingId, Principal, PublicKey};
use gavel_records::chain::Event;
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqliteExecutor, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// SQLite refuses statements with more than 32766 bound values; multi-row
/// inserts are cut into statements of at most this many rows (of six values
/// at most), all in the caller's transaction.
const ROWS_PER_INSERT: usize = 1000;

const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Opens (creating if missing) the database file and runs the migrations.
///
/// WAL lets the tablets' reads go on while the ballot writer commits;
/// `synchronous = FULL` makes a commit durable before the hub acknowledges a
/// ballot (WAL's default, NORMAL, may lose the last commits on power loss);
/// `secure_delete` overwrites deleted rows, which matters for the ballots a
/// secret round deletes when it ends. The pool is small because there is
/// only one writer at a time anyway. A connection to a file cannot go stale
/// as a network one can, so the pool does not test it before handing it out
/// (a trip to its thread on every transaction).
pub(super) async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("secure_delete", "ON");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

pub(super) async fn ping(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM meetings LIMIT 1")
        .fetch_optional(pool)
        .await?;
    Ok(())
}

/// `VACUUM INTO` refuses a file that exists, so a backup never overwrites one.
pub(super) async fn backup_into(pool: &SqlitePool, out: &Path) -> Result<(), StoreError> {
    let out = out
        .to_str()
        .ok_or_else(|| sqlx::Error::Configuration("the backup's path is not valid UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?1")
        .bind(out)
        .execute(pool)
        .await?;
    Ok(())
}

/// Inserts the meeting or replaces its definition; false if it has rounds.
pub(super) async fn put_meeting(
    pool: &SqlitePool,
    id: &MeetingId,
    definition: &str,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let written = sqlx::query(
        "INSERT INTO meetings (id, definition) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET definition = excluded.definition
         WHERE NOT EXISTS (SELECT 1 FROM rounds WHERE rounds.meeting_id = excluded.id)",
    )
    .bind(id.as_str())
    .bind(definition)
    .execute(&mut *tx)
    .await?;
    let written = written.rows_affected() > 0;
    if written {
        append(&mut tx, id, event).await?;
    }
    tx.commit().await?;
    Ok(written)
}

pub(super) async fn meetings(pool: &SqlitePool) -> Result<Vec<MeetingRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, definition, current_item FROM meetings ORDER BY id")
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn set_current_item(
    pool: &SqlitePool,
    meeting: &MeetingId,
    item: Option<i64>,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let updated = sqlx::query("UPDATE meetings SET current_item = ?1 WHERE id = ?2")
        .bind(item)
        .bind(meeting.as_str())
        .execute(&mut *tx)
        .await?;
    let updated = updated.rows_affected() > 0;
    if updated {
        append(&mut tx, meeting, event).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

pub(super) async fn add_codes(
    pool: &SqlitePool,
    codes: &[CodeInsert<'_>],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO enrollment_codes (code_hash, meeting_id, principal, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(code.code_hash)
        .bind(code.meeting.as_str())
        .bind(&code.principal)
        .bind(code.expires_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn redeem_code(
    pool: &SqlitePool,
    code_hash: &str,
    now: i64,
    key: &PublicKey,
) -> Result<(MeetingId, Principal), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let code: CodeRow = sqlx::query_as(
        "SELECT meeting_id, principal, expires_at, used_at
         FROM enrollment_codes WHERE code_hash = ?1",
    )
    .bind(code_hash)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::CodeUnknown)?;
    let (meeting, principal) = code.redeemable(now)?;
    sqlx::query("UPDATE enrollment_codes SET used_at = ?1 WHERE code_hash = ?2")
        .bind(now)
        .bind(code_hash)
        .execute(&mut *tx)
        .await?;
    bind_key(&mut tx, &meeting, &code.principal, key).await?;
    let event = Event::KeyRegistered {
        principal,
        public_key: *key,
    };
    append(&mut tx, &meeting, event).await?;
    tx.commit().await?;
    Ok((meeting, principal))
}

pub(super) async fn put_key(
    pool: &SqlitePool,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    bind_key(&mut tx, meeting, principal, key).await?;
    append(&mut tx, meeting, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `key` the principal's only key, and the principal the key's only one.
async fn bind_key(
    tx: &mut Transaction<'_, Sqlite>,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM device_keys WHERE meeting_id = ?1 AND public_key = ?2 AND principal <> ?3",
    )
    .bind(meeting.as_str())
    .bind(&key.as_bytes()[..])
    .bind(principal)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO device_keys (meeting_id, principal, public_key) VALUES (?1, ?2, ?3)
         ON CONFLICT (meeting_id, principal) DO UPDATE SET public_key = excluded.public_key",
    )
    .bind(meeting.as_str())
    .bind(principal)
    .bind(&key.as_bytes()[..])
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn keys(
    pool: &SqlitePool,
    meeting: &MeetingId,
) -> Result<Vec<KeyRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT principal, public_key FROM device_keys WHERE meeting_id = ?1")
            .bind(meeting.as_str())
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn check_in(
    pool: &SqlitePool,
    meeting: &MeetingId,
    seat: i64,
    at: i64,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let inserted = sqlx::query(
        "INSERT INTO attendance (meeting_id, seat, checked_in_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (meeting_id, seat) DO NOTHING",
    )
    .bind(meeting.as_str())
    .bind(seat)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() > 0 {
        append(&mut tx, meeting, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn present(
    pool: &SqlitePool,
    meeting: &MeetingId,
) -> Result<Vec<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT seat FROM attendance WHERE meeting_id = ?1 ORDER BY seat")
            .bind(meeting.as_str())
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn open_round(
    pool: &SqlitePool,
    round: &RoundInsert<'_>,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query(
        "INSERT INTO rounds (id, meeting_id, item, settings, secret, opened_at, deadline, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open')",
    )
    .bind(&round.id)
    .bind(round.meeting.as_str())
    .bind(round.item)
    .bind(&round.settings)
    .bind(round.secret)
    .bind(round.opened_at)
    .bind(round.deadline)
    .execute(&mut *tx)
    .await?;
    append(&mut tx, round.meeting, event).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_deadline(
    pool: &SqlitePool,
    id: &str,
    deadline: i64,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let meeting: Option<String> = sqlx::query_scalar(
        "UPDATE rounds SET deadline = ?1 WHERE id = ?2 AND status = 'open' RETURNING meeting_id",
    )
    .bind(deadline)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(meeting) = meeting else {
        return Ok(false);
    };
    append(&mut tx, &parse_meeting(&meeting)?, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Voids the round if it is open; false if it is not.
pub(super) async fn void_round(
    pool: &SqlitePool,
    id: &str,
    at: i64,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let Some((secret, meeting)) = end_round(&mut tx, id, "voided", at).await? else {
        return Ok(false);
    };
    if secret {
        sqlx::query(
            "INSERT INTO secret_participants (round_id, seat)
             SELECT round_id, seat FROM ballots WHERE round_id = ?1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO secret_choices (round_id, ordinal, choice)
             SELECT round_id, row_number() OVER (ORDER BY choice) - 1, choice
             FROM ballots WHERE round_id = ?1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        delete_ballots(&mut tx, id).await?;
    }
    append(&mut tx, &meeting, event).await?;
    tx.commit().await?;
    if secret {
        truncate_wal(pool).await;
    }
    Ok(true)
}

/// Upserts a batch in one transaction, after checking its rounds are open.
///
/// Three trips to the connection's thread: `BEGIN IMMEDIATE` with one read
/// (the rounds and their meetings' last audit entries), the writes (the
/// ballots and the audit entries) with `COMMIT`, and the pool's test of the
/// connection when it is given back. At a meeting's ordinary pace each batch
/// is a ballot or two, and each trip wakes that thread and then the writer's
/// task: that, more than SQLite's own work, is what a single ballot's commit
/// costs. sqlx's `Transaction` would spend a trip of its own on `BEGIN` and
/// on `COMMIT`, so this transaction is begun and ended by statements sqlx
/// does not track, inside an [`Untracked`] connection.
pub(super) async fn record_ballots(
    pool: &SqlitePool,
    ballots: &BallotColumns,
) -> Result<(), StoreError> {
    let mut tx = Untracked::acquire(pool).await?;
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
    let open: Vec<OpenRoundRow> = read.build_query_as().fetch_all(&mut *tx.conn).await?;
    let entries = ballots.audit_entries(open)?;

    let mut write = QueryBuilder::<Sqlite>::new("");
    let rows: Vec<usize> = (0..ballots.round_ids.len()).collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        write.push("INSERT INTO ballots (round_id, seat, choice, seq, signature, recorded_at) ");
        write.push_values(chunk, |mut row, &i| {
            row.push_bind(&ballots.round_ids[i])
                .push_bind(ballots.seats[i])
                .push_bind(ballots.choices[i])
                .push_bind(ballots.seqs[i])
                .push_bind(&ballots.signatures[i][..])
                .push_bind(ballots.recorded_at[i]);
        });
        write.push(
            " ON CONFLICT (round_id, seat) DO UPDATE SET
                 choice = excluded.choice, seq = excluded.seq,
                 signature = excluded.signature, recorded_at = excluded.recorded_at
             WHERE excluded.seq > ballots.seq; ",
        );
    }
    push_audit_insert(
        &mut write,
        entries.iter().map(|(meeting, entry)| (meeting, entry)),
    );
    write.push("; COMMIT");
    tx.commit(write.build()).await
}

/// A pooled connection inside a transaction that sqlx does not know of.
///
/// Unless [`Untracked::commit`] saw the transaction's `COMMIT` go
/// through, the connection is closed when this is dropped, not given back to
/// the pool: closing rolls the transaction back, so whatever failed (a
/// refused batch, an I/O error, a future dropped half-way) cannot leave the
/// pool holding a connection inside a transaction, and the write lock with it.
struct Untracked {
    conn: PoolConnection<Sqlite>,
    committed: bool,
}

impl Untracked {
    async fn acquire(pool: &SqlitePool) -> Result<Untracked, StoreError> {
        Ok(Untracked {
            conn: pool.acquire().await?,
            committed: false,
        })
    }

    /// Runs `query`, whose last statement is the transaction's `COMMIT`.
    async fn commit<'q>(
        mut self,
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
    ) -> Result<(), StoreError> {
        query.execute(&mut *self.conn).await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Untracked {
    fn drop(&mut self) {
        if !self.committed {
            self.conn.close_on_drop();
        }
    }
}

/// Closes the round: tally, status and, for a secret round, the unlinked record.
pub(super) async fn close_round(pool: &SqlitePool, close: &Close<'_>) -> Result<(), StoreError> {
    let id = close.id.as_str();
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let (secret, meeting) = end_round(&mut tx, id, "closed", close.closed_at)
        .await?
        .ok_or_else(|| StoreError::Corrupt(not_open(id)))?;
    close.check_secrecy(secret)?;
    close.check_counts(&choice_counts(&mut *tx, id).await?)?;
    if close.secret.is_some() {
        close.check_secret(&ballots(&mut *tx, id).await?)?;
    }
    let t = &close.tally;
    sqlx::query(
        "INSERT INTO tallies (round_id, total_seats, present, yes, no, abstain, passed, result)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(id)
    .bind(t.total_seats)
    .bind(t.present)
    .bind(t.yes)
    .bind(t.no)
    .bind(t.abstain)
    .bind(t.passed)
    .bind(&t.result)
    .execute(&mut *tx)
    .await?;
    if let Some(record) = &close.secret_columns {
        delete_ballots(&mut tx, id).await?;
        for chunk in record.seats.chunks(ROWS_PER_INSERT) {
            let mut insert =
                QueryBuilder::<Sqlite>::new("INSERT INTO secret_participants (round_id, seat) ");
            insert.push_values(chunk, |mut row, &seat| {
                row.push_bind(id).push_bind(seat);
            });
            insert.build().execute(&mut *tx).await?;
        }
        let choices: Vec<(i64, &str)> = record
            .ordinals
            .iter()
            .copied()
            .zip(record.choices.iter().copied())
            .collect();
        for chunk in choices.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO secret_choices (round_id, ordinal, choice) ",
            );
            insert.push_values(chunk, |mut row, &(ordinal, choice)| {
                row.push_bind(id).push_bind(ordinal).push_bind(choice);
            });
            insert.build().execute(&mut *tx).await?;
        }
    }
    append(&mut tx, &meeting, close.event.clone()).await?;
    tx.commit().await?;
    if close.secret_columns.is_some() {
        truncate_wal(pool).await;
    }
    Ok(())
}

/// Moves an open round to `status` (closed or voided); its secrecy and
/// meeting, or None if the round is not open.
async fn end_round(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
    status: &str,
    at: i64,
) -> Result<Option<(bool, MeetingId)>, StoreError> {
    let ended: Option<(bool, String)> = sqlx::query_as(
        "UPDATE rounds SET status = ?1, closed_at = ?2 WHERE id = ?3 AND status = 'open'
         RETURNING secret, meeting_id",
    )
    .bind(status)
    .bind(at)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    ended
        .map(|(secret, meeting)| Ok((secret, parse_meeting(&meeting)?)))
        .transpose()
}

/// Appends `event` to the meeting's audit chain. The caller's transaction
/// began with `BEGIN IMMEDIATE`, so no other append can come in between the
/// read of the last entry and this insert.
async fn append(
    tx: &mut Transaction<'_, Sqlite>,
    meeting: &MeetingId,
    event: Event,
) -> Result<(), StoreError> {
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE meeting_id = ?1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(meeting.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let entry = AuditInsert::after(meeting, last, event)?;
    let mut insert = QueryBuilder::<Sqlite>::new("");
    push_audit_insert(&mut insert, [(meeting, &entry)]);
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// Pushes the `INSERT` of audit entries onto `query`: the one spelling of
/// an audit row, for a single append and for a batch's entries alike.
fn push_audit_insert<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    entries: impl IntoIterator<Item = (&'a MeetingId, &'a AuditInsert)>,
) {
    query.push("INSERT INTO audit_log (meeting_id, seq, at, kind, body, prev_hash, hash) ");
    query.push_values(entries, |mut row, (meeting, entry)| {
        row.push_bind(meeting.as_str())
            .push_bind(entry.seq)
            .push_bind(entry.at)
            .push_bind(entry.kind)
            .push_bind(&entry.body)
            .push_bind(&entry.prev_hash)
            .push_bind(&entry.hash);
    });
}

pub(super) async fn audit_log(
    pool: &SqlitePool,
    meeting: &MeetingId,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT seq, at, kind, body, prev_hash, hash
         FROM audit_log WHERE meeting_id = ?1 ORDER BY seq",
    )
    .bind(meeting.as_str())
    .fetch_all(pool)
    .await?)
}

async fn delete_ballots(tx: &mut Transaction<'_, Sqlite>, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ballots WHERE round_id = ?1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Copies the write-ahead log into the database file and empties it, so that
/// the pages holding a secret round's deleted ballots leave the log (in the
/// file, `secure_delete` has zeroed them). The round is already committed,
/// so a failure here is logged rather than reported as a failed close.
async fn truncate_wal(pool: &SqlitePool) {
    let outcome: Result<(i64, i64, i64), sqlx::Error> =
        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await;
    match outcome {
        Ok((0, _, _)) => {}
        Ok(_) => {
            tracing::warn!("SQLite checkpoint was blocked by readers; the log is not yet truncated")
        }
        Err(e) => tracing::warn!(error = %e, "SQLite checkpoint after a secret round failed"),
    }
}

pub(super) async fn rounds(
    pool: &SqlitePool,
    meeting: &MeetingId,
) -> Result<Vec<RoundRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.meeting_id, r.item, r.settings, r.opened_at, r.deadline,
                r.status, r.closed_at, t.result
         FROM rounds r LEFT JOIN tallies t ON t.round_id = r.id
         WHERE r.meeting_id = ?1
         ORDER BY r.opened_at, r.id",
    )
    .bind(meeting.as_str())
    .fetch_all(pool)
    .await?)
}

/// A round's stored ballots counted by choice: `(choice, ballots)`.
async fn choice_counts(
    db: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT choice, COUNT(*) FROM ballots WHERE round_id = ?1 GROUP BY choice")
            .bind(id)
            .fetch_all(db)
            .await?,
    )
}

pub(super) async fn ballots(
    db: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Vec<BallotRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT round_id, seat, choice, seq, signature, recorded_at
         FROM ballots WHERE round_id = ?1 ORDER BY seat",
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}

pub(super) async fn secret_record(
    pool: &SqlitePool,
    id: &str,
) -> Result<(Vec<i64>, Vec<String>), StoreError> {
    let seats = sqlx::query_scalar(
        "SELECT seat FROM secret_participants WHERE round_id = ?1 ORDER BY seat",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let choices = sqlx::query_scalar(
        "SELECT choice FROM secret_choices WHERE round_id = ?1 ORDER BY ordinal",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok((seats, choices))
}
