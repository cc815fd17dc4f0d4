-- A secret round never stores a seat beside its choice, not even while it is
-- open (see the store's notes on secret ballots). Each admitted ballot of a
-- secret round is two rows written in one transaction: a participation row
-- in `secret_participants` (the seat and its last ballot's sequence number
-- and time, no choice) and a choice row in `secret_choices` (the choice or
-- paper, keyed by a tracker drawn from the ballot, no seat, no time). The
-- hub knows, in memory only, which tracker is a seat's, so that a changed
-- vote replaces its choice row. Nothing is unlinked when the round ends:
-- these rows are the round's record. Kept parallel to
-- ../sqlite/0010_secret_while_open.sql.
ALTER TABLE secret_participants ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE secret_participants ADD COLUMN recorded_at BIGINT NOT NULL DEFAULT 0;

-- A round that ended before this migration keeps its shuffled order: its
-- ordinal becomes a tracker that sorts the same way.
ALTER TABLE secret_choices ADD COLUMN tracker BYTEA;
UPDATE secret_choices SET tracker = decode(lpad(to_hex(ordinal), 32, '0'), 'hex');
ALTER TABLE secret_choices ALTER COLUMN tracker SET NOT NULL;
ALTER TABLE secret_choices ADD CONSTRAINT secret_choices_tracker_check
    CHECK (length(tracker) = 16);
ALTER TABLE secret_choices DROP CONSTRAINT secret_choices_pkey;
ALTER TABLE secret_choices DROP COLUMN ordinal;
ALTER TABLE secret_choices ADD PRIMARY KEY (round_id, tracker);

-- A secret round open during the upgrade: its ballots move to the two
-- tables, each choice under a random tracker; the hub reads them back as it
-- does after any restart.
INSERT INTO secret_participants (round_id, seat, seq, recorded_at)
SELECT b.round_id, b.seat, b.seq, b.recorded_at
FROM ballots b JOIN rounds r ON r.id = b.round_id
WHERE r.secret AND r.status = 'open';

INSERT INTO secret_choices (round_id, tracker, choice, marks)
SELECT b.round_id, uuid_send(gen_random_uuid()), b.choice, b.marks
FROM ballots b JOIN rounds r ON r.id = b.round_id
WHERE r.secret AND r.status = 'open';

DELETE FROM ballots
WHERE round_id IN (SELECT id FROM rounds WHERE secret AND status = 'open');
