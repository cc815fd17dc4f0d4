-- The counting board's confirmations: a closed secret round in a meeting
-- with a board is provisional until the required number of members have
-- confirmed its count (each device's signature over the count_confirmation
-- layout, PROTOCOL.md §7.6) and the chair has announced it. Each row is
-- written in the transaction that appends the same confirmation to the audit
-- chain; a restart reads them to keep a provisional round provisional. No
-- row names a choice: the count is the round's whole result, the same for
-- every member. Kept parallel to ../sqlite/0009_count_confirmations.sql.
CREATE TABLE count_confirmations (
    round_id     TEXT NOT NULL REFERENCES rounds (id),
    seat         BIGINT NOT NULL,
    public_key   TEXT NOT NULL,
    signature    TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    PRIMARY KEY (round_id, seat)
);

-- When the chair announced a provisional round's result (Unix ms).
ALTER TABLE rounds ADD COLUMN announced_at BIGINT;
