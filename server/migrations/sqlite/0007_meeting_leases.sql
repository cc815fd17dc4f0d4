-- Which node of a PostgreSQL deployment hosts each meeting (docs/architecture.md,
-- "More than one node"). One row per meeting that a node ever took: the
-- holder (a node id, new at every start), the fencing number, which grows by
-- one on every takeover, and when the lease ends unless its holder renews it
-- (Unix ms by the database's clock, so that the nodes' clocks do not matter).
-- Every transaction that records something for the meeting checks, after it
-- locked the meeting's row, that the fencing number is still the one its
-- node took: a node that lost the lease can never commit for it again.
-- SQLite serves one process only (a lock file beside the database says so)
-- and has the table only so that both stores keep one schema.
CREATE TABLE meeting_leases (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings (id),
    holder     TEXT NOT NULL,
    fence      INTEGER NOT NULL CHECK (fence > 0),
    expires_at INTEGER NOT NULL
);

-- The nodes that run now, each renewing its row as it renews its leases:
-- how many there are sets each one's fair share of the meetings.
CREATE TABLE hub_nodes (
    id         TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
