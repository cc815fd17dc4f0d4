//! Leases: which node of a PostgreSQL deployment hosts each meeting.
//!
//! A node takes a meeting's lease ([`Store::take_lease`]) before it restores
//! the meeting, renews all of its leases together well before they run out
//! ([`Store::renew_leases`]), and gives them back when it stops
//! ([`Store::release_lease`]). Each takeover moves the meeting's fencing
//! number up by one. The meeting's hub writes through a store fenced with
//! its lease ([`Store::fenced`]): every transaction that records something
//! for the meeting ends by appending to its audit chain, and the append,
//! once it holds the meeting's row lock, checks that the lease is still
//! this node's with the same fencing number, or fails with
//! [`StoreError::LeaseLost`] and nothing is written. So a node that was
//! paused, cut off or slow while another took its meeting over can never
//! commit for it again, whatever it still believes. Leases are timed by
//! PostgreSQL's clock, never a node's. SQLite has no leases: one process
//! serves its file (see `crate::data_lock`).

use super::rows::{from_sql, parse_meeting, to_sql};
use super::sql::{self, Tx};
use super::{Pool, Store, StoreError};
use gavel_protocol::MeetingId;
use std::sync::Arc;
use std::time::Duration;

/// How long a takeover waits for the meeting's row lock (milliseconds).
pub const TAKEOVER_WAIT_MS: u64 = 500;

/// PostgreSQL's SQLSTATE for a lock not granted within `lock_timeout`.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// A meeting's lease as its holder took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub meeting: MeetingId,
    /// The node that holds it: an id drawn at the node's start.
    pub holder: String,
    /// Grows by one at every takeover of the meeting.
    pub fence: u64,
}

/// Who holds what, as a node decides which meetings to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    /// Every stored meeting with the holder of its running lease, if any.
    pub meetings: Vec<(MeetingId, Option<String>)>,
    /// The nodes running now (their rows renewed within a term).
    pub nodes: u64,
}

impl Store {
    /// This store, for the hub of `lease`'s meeting: each of its writes that
    /// records something for a meeting checks, in its own transaction, that
    /// the lease is still held with its fencing number.
    pub fn fenced(&self, lease: Lease) -> Store {
        Store {
            pool: self.pool.clone(),
            lease: Some(Arc::new(lease)),
        }
    }

    /// Takes the meeting's lease for `holder` for `term`, if no other node
    /// holds a running one; `None` if one does, or if a transaction of the
    /// previous holder kept the meeting's row locked for longer than
    /// [`TAKEOVER_WAIT_MS`] (a node stopped mid-transaction, until PostgreSQL
    /// ends its session): the caller tries again at its next round rather
    /// than hold up the renewal of the leases it has. A holder that takes its own
    /// lease again moves the fencing number too: a restarted node fences out
    /// whatever its previous run may still have had in flight. Waits for
    /// every transaction of the previous holder that is still writing for
    /// the meeting.
    /// PostgreSQL only: SQLite is served by one process.
    pub async fn take_lease(
        &self,
        meeting: &MeetingId,
        holder: &str,
        term: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let sql::Db::Postgres(conn) = tx.db() else {
            return Err(single_node());
        };
        sql::pg_lock_timeout(conn, TAKEOVER_WAIT_MS).await?;
        match sql::lock_meeting(tx.db(), meeting, sql::MeetingLock::Update).await {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
                return Ok(None);
            }
            locked => locked?,
        }
        let sql::Db::Postgres(conn) = tx.db() else {
            return Err(single_node());
        };
        let Some(fence) = sql::pg_take_lease(conn, meeting, holder, term_ms(term)).await? else {
            return Ok(None);
        };
        tx.commit().await?;
        Ok(Some(Lease {
            meeting: meeting.clone(),
            holder: holder.to_owned(),
            fence: from_sql(fence, "fencing number")?,
        }))
    }

    /// Extends every lease `holder` holds by `term` and marks the node as
    /// running; the meetings it still holds, with their fencing numbers. A
    /// lease that ran out or was given back is not renewed, even if no
    /// other node took it.
    pub async fn renew_leases(
        &self,
        holder: &str,
        term: Duration,
    ) -> Result<Vec<Lease>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        let held = sql::pg_renew_leases(&mut conn, holder, term_ms(term)).await?;
        held.into_iter()
            .map(|(meeting, fence)| {
                Ok(Lease {
                    meeting: parse_meeting(&meeting)?,
                    holder: holder.to_owned(),
                    fence: from_sql(fence, "fencing number")?,
                })
            })
            .collect()
    }

    /// Ends `lease` now, if it is still held as it was taken, so that
    /// another node may take the meeting at once.
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let fence = to_sql(lease.fence, "fencing number")?;
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_release_lease(&mut conn, &lease.meeting, &lease.holder, fence).await?)
    }

    /// Forgets a node that stops, so that it no longer counts for the fair share.
    pub async fn remove_node(&self, holder: &str) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_remove_node(&mut conn, holder).await?)
    }

    /// Every meeting with the holder of its running lease, and how many
    /// nodes run.
    pub async fn holdings(&self) -> Result<Holdings, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        let (meetings, nodes) = sql::pg_lease_holders(&mut conn).await?;
        Ok(Holdings {
            meetings: meetings
                .into_iter()
                .map(|(m, holder)| Ok((parse_meeting(&m)?, holder)))
                .collect::<Result<_, StoreError>>()?,
            nodes: from_sql(nodes, "node count")?,
        })
    }
}

/// Refuses the transaction's write for `meeting` unless the lease it was
/// begun with still holds with its fencing number. Called by `append` once
/// it holds the meeting's row lock; a transaction without a lease (SQLite,
/// or a command such as `gavel meeting import`) is not checked.
pub(super) async fn check(tx: &mut Tx, meeting: &MeetingId) -> Result<(), StoreError> {
    let Some(lease) = tx.lease.clone() else {
        return Ok(());
    };
    let sql::Db::Postgres(conn) = tx.db() else {
        return Ok(());
    };
    let lost = || StoreError::LeaseLost(meeting.clone());
    if lease.meeting != *meeting {
        return Err(lost());
    }
    let fence = sql::pg_lease_fence(conn, meeting, &lease.holder).await?;
    match fence
        .map(|f| from_sql::<u64>(f, "fencing number"))
        .transpose()?
    {
        Some(fence) if fence == lease.fence => Ok(()),
        _ => Err(lost()),
    }
}

fn term_ms(term: Duration) -> i64 {
    i64::try_from(term.as_millis()).expect("a lease term fits in 64 bits of milliseconds")
}

/// What a call that only a deployment of several nodes makes gets on SQLite.
pub(super) fn single_node() -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(
        "several nodes share a PostgreSQL store; an SQLite store is served by one process".into(),
    ))
}
