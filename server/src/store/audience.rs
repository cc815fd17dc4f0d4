//! The audience's published frames: on PostgreSQL, what the hall screen and
//! the public page of a meeting see, as the node that hosts the meeting
//! published it last, for every other node to serve its own viewers from
//! (see `crate::hub::relay` and docs/architecture.md, "The audience on every
//! node"), and which meetings each node relays, so that a host publishes
//! only those. SQLite is served by one process, which publishes nothing.

use super::rows::{from_sql, parse_meeting, to_sql};
use super::sql::{self, AudienceColumn};
use super::{Lease, Pool, Store, StoreError};
use gavel_protocol::MeetingId;
use sqlx::postgres::PgListener;
use std::collections::HashSet;
use std::time::Duration;

/// The PostgreSQL channel on which a meeting's audience frames are
/// announced, with the meeting's id as payload.
pub const AUDIENCE_CHANNEL: &str = "gavel_audience";

/// The latest public snapshot, floor and running tally of a meeting, each
/// with its version (`None`: none published, or none in this batch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceFrames {
    pub snapshot: Option<(u64, String)>,
    pub floor: Option<(u64, String)>,
    pub tally: Option<(u64, String)>,
}

impl AudienceFrames {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.floor.is_none() && self.tally.is_none()
    }

    /// The frames' length in bytes.
    pub fn bytes(&self) -> usize {
        [&self.snapshot, &self.floor, &self.tally]
            .into_iter()
            .flatten()
            .map(|(_, frame)| frame.len())
            .sum()
    }
}

impl Store {
    /// Publishes `frames` (the kinds it has; the others stay as they were)
    /// for `lease`'s meeting and notifies every node, if the lease is still
    /// held with its fencing number; false if it is not (the meeting moved).
    pub async fn publish_audience(
        &self,
        lease: &Lease,
        frames: &AudienceFrames,
    ) -> Result<bool, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(false);
        };
        let column = |kind: &Option<(u64, String)>| -> Result<AudienceColumn, StoreError> {
            Ok(match kind {
                Some((version, frame)) => (Some(frame.clone()), Some(to_sql(*version, "version")?)),
                None => (None, None),
            })
        };
        let columns = [
            column(&frames.snapshot)?,
            column(&frames.floor)?,
            column(&frames.tally)?,
        ];
        let mut conn = pool.acquire().await?;
        let fence = to_sql(lease.fence, "fencing number")?;
        let [snapshot, floor, tally] = &columns;
        Ok(sql::pg_publish_audience(
            &mut conn,
            &lease.meeting,
            &lease.holder,
            fence,
            [snapshot, floor, tally],
        )
        .await?)
    }

    /// What the meeting's audience was last published to see; `None` if
    /// nothing was (or on SQLite).
    pub async fn audience_frames(
        &self,
        meeting: &MeetingId,
    ) -> Result<Option<AudienceFrames>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        let Some(columns) = sql::pg_audience_state(&mut conn, meeting).await? else {
            return Ok(None);
        };
        let [snapshot, floor, tally] = columns.map(|(frame, version)| match (frame, version) {
            (Some(frame), Some(version)) => Some((version, frame)),
            _ => None,
        });
        let kind = |kind: Option<(i64, String)>| -> Result<Option<(u64, String)>, StoreError> {
            kind.map(|(version, frame)| Ok((from_sql(version, "version")?, frame)))
                .transpose()
        };
        Ok(Some(AudienceFrames {
            snapshot: kind(snapshot)?,
            floor: kind(floor)?,
            tally: kind(tally)?,
        }))
    }

    /// Marks `node` as relaying the audience of each of `meetings` for
    /// `term` more (their hosts publish meanwhile), and of no other; on
    /// SQLite, nothing.
    pub async fn relay_audience(
        &self,
        node: &str,
        meetings: &[MeetingId],
        term: Duration,
    ) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        let meetings: Vec<String> = meetings.iter().map(|m| m.as_str().to_owned()).collect();
        let term = i64::try_from(term.as_millis()).unwrap_or(i64::MAX);
        let mut tx = pool.begin().await?;
        sql::pg_relay_audience(&mut tx, node, &meetings, term).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The meetings whose audience some node relays now: those whose host
    /// is to publish; none on SQLite.
    pub async fn relayed_meetings(&self) -> Result<HashSet<MeetingId>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(HashSet::new());
        };
        let mut conn = pool.acquire().await?;
        sql::pg_relayed_meetings(&mut conn)
            .await?
            .iter()
            .map(|m| parse_meeting(m))
            .collect()
    }

    /// Withdraws what `lease`'s meeting's audience was published to see,
    /// unless another host published it since or a node relays the meeting
    /// again; whether it was withdrawn. A relay started later finds nothing
    /// and waits for the host to publish afresh rather than show its
    /// viewers frames from before. The versions stay
    /// ([`Store::audience_version`]).
    pub async fn withdraw_audience(&self, lease: &Lease) -> Result<bool, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(false);
        };
        let fence = to_sql(lease.fence, "fencing number")?;
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_withdraw_audience(&mut conn, &lease.meeting, fence).await?)
    }

    /// The highest version the meeting's audience frames were ever
    /// published with (withdrawn or not), if any: a new host numbers its
    /// frames above it, since a relay's viewers stay connected across a
    /// takeover and drop frames older than their last.
    pub async fn audience_version(&self, meeting: &MeetingId) -> Result<Option<u64>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        sql::pg_audience_version(&mut conn, meeting)
            .await?
            .map(|v| from_sql(v, "version"))
            .transpose()
    }

    /// A connection of its own that listens on [`AUDIENCE_CHANNEL`];
    /// `None` on SQLite.
    pub async fn audience_listener(&self) -> Result<Option<PgListener>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(AUDIENCE_CHANNEL).await?;
        Ok(Some(listener))
    }
}
