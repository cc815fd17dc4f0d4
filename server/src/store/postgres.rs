//! The store's SQL for PostgreSQL, parallel to `sqlite.rs` function for function.
//!
//! Transactions run at READ COMMITTED, PostgreSQL's default. Where a write
//! depends on what it read, the read takes a row lock (`FOR UPDATE`,
//! `FOR SHARE`) so that a concurrent transaction cannot change it in between;
//! SQLite gets the same guarantee from its single writer.

use super::{
    AuditInsert, AuditRow, BallotColumns, BallotRow, Close, CodeInsert, CodeRow, KeyRow,
    MeetingRow, RoundInsert, RoundRow, StoreError, not_open, parse_meeting,
};
use gavel_protocol::{MeetingId, Principal, PublicKey};
use gavel_records::chain::Event;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// How long a query waits for a connection. While the database is down the
/// pool keeps trying to connect for this long before the query fails; the
/// default (30 s) would hold every ballot and check-in that long before it is
/// refused and the chair is told.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects and runs the migrations.
///
/// `synchronous_commit` is set on every connection: the hub acknowledges a
/// ballot once its commit returns, so a server configured with it off must
/// not silently turn acknowledged ballots into ones that a crash can lose.
pub(super) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?.options([("synchronous_commit", "on")]);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

pub(super) async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM meetings LIMIT 1")
        .fetch_optional(pool)
        .await?;
    Ok(())
}

/// Inserts the meeting or replaces its definition; false if it has rounds.
///
/// The upsert's own row lock does not conflict with the key-share lock that
/// inserting a round takes on its meeting, so the meeting row is locked
/// `FOR UPDATE` first: a round being opened at the same moment is then
/// either seen by the `NOT EXISTS` or made to wait.
pub(super) async fn put_meeting(
    pool: &PgPool,
    id: &MeetingId,
    definition: &str,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM meetings WHERE id = $1 FOR UPDATE")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    let written = sqlx::query(
        "INSERT INTO meetings (id, definition) VALUES ($1, $2)
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

pub(super) async fn meetings(pool: &PgPool) -> Result<Vec<MeetingRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, definition, current_item FROM meetings ORDER BY id")
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn settle(pool: &PgPool, meeting: &MeetingId) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM meetings WHERE id = $1 FOR SHARE")
        .bind(meeting.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn set_current_item(
    pool: &PgPool,
    meeting: &MeetingId,
    item: Option<i64>,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query("UPDATE meetings SET current_item = $1 WHERE id = $2")
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

pub(super) async fn add_codes(pool: &PgPool, codes: &[CodeInsert<'_>]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO enrollment_codes (code_hash, meeting_id, principal, expires_at)
             VALUES ($1, $2, $3, $4)",
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
    pool: &PgPool,
    code_hash: &str,
    now: i64,
    key: &PublicKey,
) -> Result<(MeetingId, Principal), StoreError> {
    let mut tx = pool.begin().await?;
    let code: CodeRow = sqlx::query_as(
        "SELECT meeting_id, principal, expires_at, used_at
         FROM enrollment_codes WHERE code_hash = $1 FOR UPDATE",
    )
    .bind(code_hash)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::CodeUnknown)?;
    let (meeting, principal) = code.redeemable(now)?;
    sqlx::query("UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2")
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
    pool: &PgPool,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    bind_key(&mut tx, meeting, principal, key).await?;
    append(&mut tx, meeting, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `key` the principal's only key, and the principal the key's only one.
async fn bind_key(
    tx: &mut Transaction<'_, Postgres>,
    meeting: &MeetingId,
    principal: &str,
    key: &PublicKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM device_keys WHERE meeting_id = $1 AND public_key = $2 AND principal <> $3",
    )
    .bind(meeting.as_str())
    .bind(&key.as_bytes()[..])
    .bind(principal)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO device_keys (meeting_id, principal, public_key) VALUES ($1, $2, $3)
         ON CONFLICT (meeting_id, principal) DO UPDATE SET public_key = excluded.public_key",
    )
    .bind(meeting.as_str())
    .bind(principal)
    .bind(&key.as_bytes()[..])
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn keys(pool: &PgPool, meeting: &MeetingId) -> Result<Vec<KeyRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT principal, public_key FROM device_keys WHERE meeting_id = $1")
            .bind(meeting.as_str())
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn check_in(
    pool: &PgPool,
    meeting: &MeetingId,
    seat: i64,
    at: i64,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO attendance (meeting_id, seat, checked_in_at) VALUES ($1, $2, $3)
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

pub(super) async fn present(pool: &PgPool, meeting: &MeetingId) -> Result<Vec<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT seat FROM attendance WHERE meeting_id = $1 ORDER BY seat")
            .bind(meeting.as_str())
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn open_round(
    pool: &PgPool,
    round: &RoundInsert<'_>,
    event: Event,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO rounds (id, meeting_id, item, settings, secret, opened_at, deadline, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')",
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
    pool: &PgPool,
    id: &str,
    deadline: i64,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let meeting: Option<String> = sqlx::query_scalar(
        "UPDATE rounds SET deadline = $1 WHERE id = $2 AND status = 'open' RETURNING meeting_id",
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
    pool: &PgPool,
    id: &str,
    at: i64,
    event: Event,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let Some((secret, meeting)) = end_round(&mut tx, id, "voided", at).await? else {
        return Ok(false);
    };
    if secret {
        sqlx::query(
            "INSERT INTO secret_participants (round_id, seat)
             SELECT round_id, seat FROM ballots WHERE round_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO secret_choices (round_id, ordinal, choice)
             SELECT round_id, row_number() OVER (ORDER BY choice) - 1, choice
             FROM ballots WHERE round_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        delete_ballots(&mut tx, id).await?;
    }
    append(&mut tx, &meeting, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Upserts a batch with one `UNNEST` statement, after checking its rounds
/// are open. The `FOR SHARE` lock makes a concurrent close (which updates
/// the round row first) wait for this batch, or this batch see it closed.
pub(super) async fn record_ballots(
    pool: &PgPool,
    ballots: &BallotColumns,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let mut entries = Vec::with_capacity(ballots.accepted.len());
    for id in ballots.accepted.keys() {
        let open: Option<(String, bool)> = sqlx::query_as(
            "SELECT meeting_id, secret FROM rounds WHERE id = $1 AND status = 'open' FOR SHARE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((meeting, secret)) = open else {
            return Err(StoreError::Corrupt(format!("a ballot's {}", not_open(id))));
        };
        entries.push((parse_meeting(&meeting)?, ballots.event(id, secret)?));
    }
    sqlx::query(
        "INSERT INTO ballots (round_id, seat, choice, seq, signature, recorded_at)
         SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[],
                              $5::BYTEA[], $6::BIGINT[])
         ON CONFLICT (round_id, seat) DO UPDATE SET
             choice = excluded.choice, seq = excluded.seq,
             signature = excluded.signature, recorded_at = excluded.recorded_at
         WHERE excluded.seq > ballots.seq",
    )
    .bind(&ballots.round_ids)
    .bind(&ballots.seats)
    .bind(&ballots.choices)
    .bind(&ballots.seqs)
    .bind(&ballots.signatures)
    .bind(&ballots.recorded_at)
    .execute(&mut *tx)
    .await?;
    for (meeting, event) in entries {
        append(&mut tx, &meeting, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Closes the round: tally, status and, for a secret round, the unlinked record.
pub(super) async fn close_round(pool: &PgPool, close: &Close<'_>) -> Result<(), StoreError> {
    let id = close.id.as_str();
    let mut tx = pool.begin().await?;
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
    .execute(&mut *tx)
    .await?;
    if let Some(record) = &close.secret_columns {
        delete_ballots(&mut tx, id).await?;
        sqlx::query(
            "INSERT INTO secret_participants (round_id, seat)
             SELECT $1, seat FROM UNNEST($2::BIGINT[]) AS p (seat)",
        )
        .bind(id)
        .bind(&record.seats)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO secret_choices (round_id, ordinal, choice)
             SELECT $1, ordinal, choice FROM UNNEST($2::BIGINT[], $3::TEXT[]) AS c (ordinal, choice)",
        )
        .bind(id)
        .bind(&record.ordinals)
        .bind(&record.choices)
        .execute(&mut *tx)
        .await?;
    }
    append(&mut tx, &meeting, close.event.clone()).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an open round to `status` (closed or voided); its secrecy and
/// meeting, or None if the round is not open. Updating the round row first
/// serializes the end with any ballot batch still writing to the round.
async fn end_round(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    status: &str,
    at: i64,
) -> Result<Option<(bool, MeetingId)>, StoreError> {
    let ended: Option<(bool, String)> = sqlx::query_as(
        "UPDATE rounds SET status = $1, closed_at = $2 WHERE id = $3 AND status = 'open'
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

/// Appends `event` to the meeting's audit chain. Locking the meeting's row
/// `FOR NO KEY UPDATE` serializes appends to one chain (each waits for the
/// previous one to commit, then reads its entry); it does not conflict with
/// the key-share locks of inserts that merely reference the meeting. Every
/// caller appends last, after its other row locks, so locks are always
/// taken in the same order: round rows, then the meeting.
async fn append(
    tx: &mut Transaction<'_, Postgres>,
    meeting: &MeetingId,
    event: Event,
) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM meetings WHERE id = $1 FOR NO KEY UPDATE")
        .bind(meeting.as_str())
        .execute(&mut **tx)
        .await?;
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE meeting_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(meeting.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let entry = AuditInsert::after(meeting, last, event)?;
    sqlx::query(
        "INSERT INTO audit_log (meeting_id, seq, at, kind, body, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(meeting.as_str())
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.kind)
    .bind(&entry.body)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn audit_log(
    pool: &PgPool,
    meeting: &MeetingId,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT seq, at, kind, body, prev_hash, hash
         FROM audit_log WHERE meeting_id = $1 ORDER BY seq",
    )
    .bind(meeting.as_str())
    .fetch_all(pool)
    .await?)
}

async fn delete_ballots(tx: &mut Transaction<'_, Postgres>, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ballots WHERE round_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn rounds(
    pool: &PgPool,
    meeting: &MeetingId,
) -> Result<Vec<RoundRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.meeting_id, r.item, r.settings, r.opened_at, r.deadline,
                r.status, r.closed_at, t.result
         FROM rounds r LEFT JOIN tallies t ON t.round_id = r.id
         WHERE r.meeting_id = $1
         ORDER BY r.opened_at, r.id",
    )
    .bind(meeting.as_str())
    .fetch_all(pool)
    .await?)
}

/// A round's stored ballots counted by choice: `(choice, ballots)`.
async fn choice_counts(
    db: impl PgExecutor<'_>,
    id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT choice, COUNT(*) FROM ballots WHERE round_id = $1 GROUP BY choice")
            .bind(id)
            .fetch_all(db)
            .await?,
    )
}

pub(super) async fn ballots(
    db: impl PgExecutor<'_>,
    id: &str,
) -> Result<Vec<BallotRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT round_id, seat, choice, seq, signature, recorded_at
         FROM ballots WHERE round_id = $1 ORDER BY seat",
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}

pub(super) async fn secret_record(
    pool: &PgPool,
    id: &str,
) -> Result<(Vec<i64>, Vec<String>), StoreError> {
    let seats = sqlx::query_scalar(
        "SELECT seat FROM secret_participants WHERE round_id = $1 ORDER BY seat",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let choices = sqlx::query_scalar(
        "SELECT choice FROM secret_choices WHERE round_id = $1 ORDER BY ordinal",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok((seats, choices))
}
