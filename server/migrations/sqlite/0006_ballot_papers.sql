-- Ballot papers on a list: an election's candidates, a confidence rating's or
-- a no-confidence vote's officials. A paper is one row of `ballots` like any
-- ballot (one per seat and round, the last one counts), with the paper's kind
-- in `choice` and its marks in `marks`: 3 bytes a mark (entry u16 big-endian,
-- mark u8), in the order the paper layout signs them. A yes/no/abstain
-- ballot has no marks. A secret round keeps its papers' marks in
-- `secret_choices` the same way, in the shuffled order, linked to no seat.
--
-- SQLite cannot change a CHECK in place: both tables are rebuilt, their rows
-- copied as they are.
CREATE TABLE ballots_with_papers (
    round_id    TEXT NOT NULL REFERENCES rounds (id),
    seat        INTEGER NOT NULL,
    choice      TEXT NOT NULL
        CHECK (choice IN ('yes', 'no', 'abstain', 'election', 'rating', 'no_confidence')),
    seq         INTEGER NOT NULL,
    signature   BLOB NOT NULL CHECK (length(signature) = 64),
    recorded_at INTEGER NOT NULL,
    marks       BLOB CHECK ((marks IS NULL) = (choice IN ('yes', 'no', 'abstain'))),
    PRIMARY KEY (round_id, seat)
) STRICT;

INSERT INTO ballots_with_papers (round_id, seat, choice, seq, signature, recorded_at)
SELECT round_id, seat, choice, seq, signature, recorded_at FROM ballots;

DROP TABLE ballots;

ALTER TABLE ballots_with_papers RENAME TO ballots;

CREATE TABLE secret_choices_with_papers (
    round_id TEXT NOT NULL REFERENCES rounds (id),
    ordinal  INTEGER NOT NULL,
    choice   TEXT NOT NULL
        CHECK (choice IN ('yes', 'no', 'abstain', 'election', 'rating', 'no_confidence')),
    marks    BLOB CHECK ((marks IS NULL) = (choice IN ('yes', 'no', 'abstain'))),
    PRIMARY KEY (round_id, ordinal)
) STRICT;

INSERT INTO secret_choices_with_papers (round_id, ordinal, choice)
SELECT round_id, ordinal, choice FROM secret_choices;

DROP TABLE secret_choices;

ALTER TABLE secret_choices_with_papers RENAME TO secret_choices;
