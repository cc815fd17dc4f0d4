//! What only SQLite does: how the file is opened, its backup, emptying its
//! write-ahead log, and its ballot batch in three trips.

use super::StoreError;
use super::rows::{BallotColumns, OpenRoundRow};
use super::sql;
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Opens (creating if missing) the database file and runs the migrations.
///
/// WAL lets the tablets' reads go on while the ballot writer commits;
/// `synchronous = FULL` makes a commit durable before the hub acknowledges a
/// ballot (WAL's default, NORMAL, may lose the last commits on power loss);
/// `secure_delete` overwrites deleted rows, which matters for the rows a
/// secret round rewrites when it ends. The pool is small because there is
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

pub(super) async fn backup_into(pool: &SqlitePool, out: &Path) -> Result<(), StoreError> {
    let out = out
        .to_str()
        .ok_or_else(|| sqlx::Error::Configuration("the backup's path is not valid UTF-8".into()))?;
    Ok(sql::sqlite_backup_into(pool, out).await?)
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
    let open: Vec<OpenRoundRow> = sql::sqlite_begin_and_read_open_rounds(ballots)
        .build_query_as()
        .fetch_all(&mut *tx.conn)
        .await?;
    let entries = ballots.audit_entries(open)?;
    tx.commit(sql::sqlite_write_and_commit(ballots, &entries).build())
        .await
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

/// Copies the write-ahead log into the database file and empties it, so that
/// the pages holding a secret round's rows in the order they were written
/// leave the log (in the file, `secure_delete` has zeroed the deleted ones). The round is already committed,
/// so a failure here is logged rather than reported as a failed close.
pub(super) async fn truncate_wal(pool: &SqlitePool) {
    match sql::sqlite_checkpoint_truncate(pool).await {
        Ok((0, _, _)) => {}
        Ok(_) => {
            tracing::warn!("SQLite checkpoint was blocked by readers; the log is not yet truncated")
        }
        Err(e) => tracing::warn!(error = %e, "SQLite checkpoint after a secret round failed"),
    }
}
