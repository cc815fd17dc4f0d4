-- Calls to a meeting's owner node (docs/architecture.md, "The secretariat on
-- every node"): on PostgreSQL, a secretariat call that must be decided by the
-- meeting's actor, made on a node that does not host the meeting, is a row
-- here, announced to every node (NOTIFY gavel_owner_call). The node that holds
-- the meeting's lease, with its fencing number, claims it (claimed_by), runs it
-- and writes its answer (an HTTP status and body, as JSON); the calling node
-- takes the answer and deletes the row, or deletes a call nobody claimed in
-- time and tells the secretariat the owner could not be reached. SQLite serves
-- one process only and has the table only so that both stores keep one schema.
CREATE TABLE owner_calls (
    id         TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    call       TEXT NOT NULL,
    claimed_by TEXT,
    answer     TEXT
);
