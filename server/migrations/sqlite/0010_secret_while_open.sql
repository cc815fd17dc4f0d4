-- A secret round never stores a seat beside its choice, not even while it is
-- open (see the store's notes on secret ballots). Each admitted ballot of a
-- secret round is two rows written in one transaction: a participation row
-- in `secret_participants` (the seat and its last ballot's sequence number
-- and time, no choice) and a choice row in `secret_choices` (the choice or
-- paper, keyed by a tracker drawn from the ballot, no seat, no time). The
-- hub knows, in memory only, which tracker is a seat's, so that a changed
-- vote replaces its choice row. Nothing is unlinked when the round ends:
-- these rows are the round's record. Kept parallel to
-- ../postgres/0010_secret_while_open.sql.
ALTER TABLE secret_participants ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secret_participants ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;

-- Keyed by tracker, without a rowid: a rowid would count the rows in the
-- order they were written, the order of the participation rows beside them.
-- A round that ended before this migration keeps its shuffled order: its
-- ordinal becomes a tracker that sorts the same way.
CREATE TABLE secret_choices_by_tracker (
    round_id TEXT NOT NULL REFERENCES rounds (id),
    tracker  BLOB NOT NULL CHECK (length(tracker) = 16),
    choice   TEXT NOT NULL
        CHECK (choice IN ('yes', 'no', 'abstain', 'election', 'rating', 'no_confidence')),
    marks    BLOB CHECK ((marks IS NULL) = (choice IN ('yes', 'no', 'abstain'))),
    PRIMARY KEY (round_id, tracker)
) STRICT, WITHOUT ROWID;

INSERT INTO secret_choices_by_tracker (round_id, tracker, choice, marks)
SELECT round_id, unhex(printf('%032x', ordinal)), choice, marks FROM secret_choices;

DROP TABLE secret_choices;

ALTER TABLE secret_choices_by_tracker RENAME TO secret_choices;

-- A secret round open during the upgrade: its ballots move to the two
-- tables, each choice under a random tracker; the hub reads them back as it
-- does after any restart.
INSERT INTO secret_participants (round_id, seat, seq, recorded_at)
SELECT b.round_id, b.seat, b.seq, b.recorded_at
FROM ballots b JOIN rounds r ON r.id = b.round_id
WHERE r.secret = 1 AND r.status = 'open';

INSERT INTO secret_choices (round_id, tracker, choice, marks)
SELECT b.round_id, randomblob(16), b.choice, b.marks
FROM ballots b JOIN rounds r ON r.id = b.round_id
WHERE r.secret = 1 AND r.status = 'open';

DELETE FROM ballots
WHERE round_id IN (SELECT id FROM rounds WHERE secret = 1 AND status = 'open');
