//! The audience's published frames: on PostgreSQL, what the hall screen and
//! the public page of a meeting see, as the node that hosts the meeting
//! published it last, for every other node to serve its own viewers from
//! (see `crate::hub::relay` and docs/architecture.md, "The audience on every
//! node"). SQLite is served by one process, which publishes nothing.

use super::rows::{from_sql, to_sql};
use super::sql::{self, AudienceColumn};
use super::{Lease, Pool, Store, StoreError};
use gavel_protocol::MeetingId;
use sqlx::postgres::PgListener;

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

    /// The highest version in it.
    pub fn version(&self) -> Option<u64> {
        [&self.snapshot, &self.floor, &self.tally]
            .into_iter()
            .flatten()
            .map(|(version, _)| *version)
            .max()
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
