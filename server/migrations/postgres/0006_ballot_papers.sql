-- Ballot papers on a list: an election's candidates, a confidence rating's or
-- a no-confidence vote's officials. A paper is one row of `ballots` like any
-- ballot (one per seat and round, the last one counts), with the paper's kind
-- in `choice` and its marks in `marks`: 3 bytes a mark (entry u16 big-endian,
-- mark u8), in the order the paper layout signs them. A yes/no/abstain
-- ballot has no marks. A secret round keeps its papers' marks in
-- `secret_choices` the same way, in the shuffled order, linked to no seat.
ALTER TABLE ballots DROP CONSTRAINT ballots_choice_check;
ALTER TABLE ballots ADD CONSTRAINT ballots_choice_check
    CHECK (choice IN ('yes', 'no', 'abstain', 'election', 'rating', 'no_confidence'));
ALTER TABLE ballots ADD COLUMN marks BYTEA
    CHECK ((marks IS NULL) = (choice IN ('yes', 'no', 'abstain')));

ALTER TABLE secret_choices DROP CONSTRAINT secret_choices_choice_check;
ALTER TABLE secret_choices ADD CONSTRAINT secret_choices_choice_check
    CHECK (choice IN ('yes', 'no', 'abstain', 'election', 'rating', 'no_confidence'));
ALTER TABLE secret_choices ADD COLUMN marks BYTEA
    CHECK ((marks IS NULL) = (choice IN ('yes', 'no', 'abstain')));
