-- What the meeting's audience (the hall screen, the public page) sees, as the
-- node that hosts the meeting published it last (docs/architecture.md,
-- "The audience on every node"): the latest snapshot, floor and running tally
-- frames of the public audience, each with its version, and the fencing
-- number of the lease it was published under. Every node with viewers of the
-- meeting reads it when PostgreSQL notifies it of a change (channel
-- gavel_audience, the meeting's id as payload), and when its listening
-- connection comes back, to catch up. A row holds nothing the hall screen
-- does not show, so nothing in it links a seat to a secret choice.
-- SQLite serves one process only and has the table so that both stores keep
-- one schema.
CREATE TABLE audience_state (
    meeting_id       TEXT PRIMARY KEY REFERENCES meetings (id),
    fence            INTEGER NOT NULL,
    snapshot         TEXT,
    snapshot_version INTEGER,
    floor            TEXT,
    floor_version    INTEGER,
    tally            TEXT,
    tally_version    INTEGER
);
