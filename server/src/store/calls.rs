//! Calls to a meeting's owner node: on PostgreSQL, a secretariat call that
//! the meeting's actor must decide, made on a node that does not host the
//! meeting (see `crate::secretariat` and docs/architecture.md, "The
//! secretariat on every node"). The call is a row of `owner_calls`,
//! announced on [`OWNER_CALL_CHANNEL`]; the node that holds the meeting's
//! lease claims it, fenced like every write for the meeting, and answers in
//! the row, announced on [`OWNER_ANSWER_CHANNEL`]; the calling node takes
//! the answer and deletes the row. SQLite is served by one process, which
//! hosts every meeting and never calls another.

use super::lease::single_node;
use super::rows::to_sql;
use super::{Pool, Store, StoreError, sql};
use gavel_protocol::MeetingId;
use sqlx::postgres::PgListener;

/// The channel on which calls are announced: `{meeting} {call id}`.
pub const OWNER_CALL_CHANNEL: &str = "gavel_owner_call";

/// The channel on which answers are announced: the call's id.
pub const OWNER_ANSWER_CHANNEL: &str = "gavel_owner_answer";

/// What became of a call its caller stops waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The owner's answer.
    Answered(String),
    /// No node claimed it: it was withdrawn, and nothing was done.
    Unclaimed,
    /// Claimed and not yet answered: kept, unless the caller gave up.
    Running,
}

impl Store {
    /// A connection of its own that listens on `channel`; `None` on SQLite.
    pub async fn listener(&self, channel: &str) -> Result<Option<PgListener>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        Ok(Some(listener))
    }

    /// Stores the call `id` to `meeting`'s owner and announces it.
    pub async fn put_owner_call(
        &self,
        id: &str,
        meeting: &MeetingId,
        call: &str,
    ) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_put_owner_call(&mut conn, id, meeting, call).await?)
    }

    /// Claims the call `id` to `meeting` for the node of this store's lease,
    /// if that lease still holds with its fencing number and nobody claimed
    /// the call: the call, to run and answer. A store without a lease (or a
    /// lease of another meeting) claims nothing.
    pub async fn claim_owner_call(
        &self,
        id: &str,
        meeting: &MeetingId,
    ) -> Result<Option<String>, StoreError> {
        let (Pool::Postgres(pool), Some(lease)) = (&self.pool, &self.lease) else {
            return Ok(None);
        };
        if lease.meeting != *meeting {
            return Ok(None);
        }
        let fence = to_sql(lease.fence, "fencing number")?;
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_claim_owner_call(&mut conn, id, meeting, &lease.holder, fence).await?)
    }

    /// Answers the call `id` and tells its caller.
    pub async fn answer_owner_call(&self, id: &str, answer: &str) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        Ok(sql::pg_answer_owner_call(&mut conn, id, answer).await?)
    }

    /// Ends the call `id` if it was answered or nobody claimed it (or, when
    /// `give_up`, whatever became of it), deleting its row; a claimed call
    /// not yet answered is kept unless the caller gives up.
    pub async fn finish_owner_call(
        &self,
        id: &str,
        give_up: bool,
    ) -> Result<CallOutcome, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(single_node());
        };
        let mut conn = pool.acquire().await?;
        Ok(
            match sql::pg_finish_owner_call(&mut conn, id, give_up).await? {
                Some((Some(answer), _)) => CallOutcome::Answered(answer),
                Some((None, false)) => CallOutcome::Unclaimed,
                Some((None, true)) | None => CallOutcome::Running,
            },
        )
    }
}
