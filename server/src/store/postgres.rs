//! What only PostgreSQL does: how it is connected, and its ballot batch.

use super::rows::{BallotColumns, not_open, parse_meeting};
use super::sql::{self, Tx};
use super::{Lease, StoreError, append};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long a query waits for a connection. While the database is down the
/// pool keeps trying to connect for this long before the query fails; the
/// default (30 s) would hold every ballot and check-in that long before it is
/// refused and the chair is told.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long PostgreSQL lets a connection sit in an open transaction
/// without a statement before it ends the session, rolling back and letting
/// go of its row locks. A node stopped (SIGSTOP) in the middle of a
/// transaction would otherwise hold its meeting's row lock for as long as
/// its socket lives, and no other node could take the meeting over
/// (a takeover waits on that lock). No transaction of the hub waits that
/// long between two of its statements.
const IDLE_IN_TRANSACTION: &str = "5000";

/// How long PostgreSQL lets one statement run before it cancels it
/// (SQLSTATE 57014). Everything the hub waits on (a ballot batch, a
/// check-in, opening or closing a round) is a few short statements; one
/// that runs this long is a stalled database (a lock held elsewhere, a
/// disk that does not answer), and failing it makes an outage the chair's
/// console shows, instead of a writer that hangs while ballots pile up.
/// Well within the tablets' patience: they resend what is not acknowledged.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects and runs the migrations.
///
/// `synchronous_commit` is set on every connection: the hub acknowledges a
/// ballot once its commit returns, so a server configured with it off must
/// not silently turn acknowledged ballots into ones that a crash can lose.
/// The migrations run on a connection of their own without
/// [`STATEMENT_TIMEOUT`]: bringing a large database up to date may take
/// longer, and a node waits there while another node migrates.
pub(super) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let base = PgConnectOptions::from_str(url)?;
    let migrating = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(base.clone())
        .await?;
    sqlx::migrate!("./migrations/postgres")
        .run(&migrating)
        .await?;
    migrating.close().await;
    let statement_timeout = STATEMENT_TIMEOUT.as_millis().to_string();
    let options = base.options([
        ("synchronous_commit", "on"),
        ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION),
        ("statement_timeout", statement_timeout.as_str()),
    ]);
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?)
}

/// How long a ballot batch waits for PostgreSQL's answers in all, retries
/// included, before the database counts as silent: a live server answers
/// or cancels each statement within [`STATEMENT_TIMEOUT`], but when its
/// host goes silent (packets dropped, no reset: a dead host, a black-holed
/// route) a connection waits for an answer until TCP gives up, many minutes
/// later, and neither the server's timeouts nor sqlx (which sets no
/// keepalive or `TCP_USER_TIMEOUT`, and offers no option for them) cut that
/// short; nor does the pool's acquire timeout, which fails one try but
/// not the retries. Past this the ballot writer gives the batch up
/// (`hub::writer`): the meeting shows the outage and refuses the ballots,
/// which the tablets send again. Whether a commit went through meanwhile
/// is read back with the rest of the outage.
pub const SILENT_AFTER: Duration = Duration::from_secs(6);

/// Upserts a batch with one `UNNEST` statement (and a secret round's with
/// three), after checking, with a share lock on each, that its rounds are
/// open.
pub(super) async fn record_ballots(
    pool: &PgPool,
    lease: Option<Arc<Lease>>,
    ballots: &BallotColumns,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let mut entries = Vec::with_capacity(ballots.accepted.len());
    for id in ballots.accepted.keys() {
        let Some((meeting, secret)) = sql::pg_open_round_shared(&mut tx, id).await? else {
            return Err(StoreError::Corrupt(format!("a ballot's {}", not_open(id))));
        };
        entries.push((parse_meeting(&meeting)?, ballots.event(id, secret)?));
    }
    sql::pg_upsert_ballots(&mut tx, ballots).await?;
    sql::pg_write_secret_ballots(&mut tx, &ballots.secret).await?;
    let mut tx = Tx::postgres(tx, lease);
    for (meeting, event) in entries {
        append(&mut tx, &meeting, event).await?;
    }
    tx.commit().await?;
    Ok(())
}
