-- The floor: every change of the queue and of the speaker's clock (a
-- request, a withdrawal, a reorder, a turn's start, pause, resume, added
-- time, end), in order. A restarted hub replays them to rebuild the queue
-- and a running turn with its clock. Each row is written in the transaction
-- that appends the same change to the audit chain, and `seq` is that
-- entry's position, so the two cannot disagree. Rows are never updated nor
-- deleted. Kept parallel to ../sqlite/0005_floor.sql.
CREATE TABLE floor_events (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    seq        BIGINT NOT NULL,
    -- The change's JSON (gavel_protocol::floor::FloorChange).
    change     TEXT NOT NULL,
    PRIMARY KEY (meeting_id, seq)
);
