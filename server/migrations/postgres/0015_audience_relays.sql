-- Which nodes relay which meeting's audience now (docs/architecture.md,
-- "The audience on every node"): a row per meeting hosted elsewhere that a
-- node has viewers of, renewed by that node while it has them, until
-- expires_at (Unix ms, PostgreSQL's clock). The node that hosts the meeting
-- writes its audience's frames to audience_state only while the meeting has
-- a row that has not expired, and withdraws them once none is left: a
-- meeting that no other node relays costs the database nothing. A node
-- that stops deletes its rows; one that dies leaves rows that run out.
-- SQLite serves one process only and has the table so that both stores keep
-- one schema.
CREATE TABLE audience_relays (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    node_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, node_id)
);
