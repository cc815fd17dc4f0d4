-- Gavel's store, SQLite flavour.
--
-- Kept table-for-table and column-for-column parallel to
-- ../postgres/0001_schema.sql, so that one reading shows both stores hold the
-- same thing. Differences are only in types: INTEGER here is PostgreSQL's
-- BIGINT, BLOB is BYTEA, and booleans are INTEGER 0/1.
--
-- Encodings (decoded and checked by src/store/mod.rs):
-- - meeting ids are their slugs, round ids 32 lower-case hex digits;
-- - a principal is 'chair' or 'seat:<number>';
-- - a choice is 'yes', 'no' or 'abstain';
-- - times are Unix milliseconds;
-- - settings and results are the JSON of the protocol's types, with the
--   tally's numbers copied into columns so that reports can use plain SQL.
--
-- STRICT tables refuse a value of the wrong type instead of converting it.

-- A meeting as the secretary defined it. The definition is the TOML file,
-- kept verbatim; it may be replaced only until the first vote round opens,
-- so that every round's settings stay explained by the stored definition.
CREATE TABLE meetings (
    id           TEXT PRIMARY KEY,
    definition   TEXT NOT NULL,
    -- The agenda item on the screens (0-based); NULL before the first one.
    current_item INTEGER
) STRICT;

-- One-time enrollment codes. Only a hash of the code is stored: a copy of
-- the database does not let anyone enroll a device.
CREATE TABLE enrollment_codes (
    code_hash  TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    principal  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the code is redeemed: a used code is kept, not deleted, so
    -- that a second attempt is told "already used" rather than "unknown".
    used_at    INTEGER
) STRICT;

-- The public key each principal's device signs with. One key per principal
-- (a new enrollment replaces the old device), and one principal per key, so
-- that a device can never speak for two seats.
CREATE TABLE device_keys (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    principal  TEXT NOT NULL,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    PRIMARY KEY (meeting_id, principal),
    UNIQUE (meeting_id, public_key)
) STRICT;

-- Attendance: the first check-in of each seat.
CREATE TABLE attendance (
    meeting_id    TEXT NOT NULL REFERENCES meetings (id),
    seat          INTEGER NOT NULL,
    checked_in_at INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, seat)
) STRICT;

-- Vote rounds. A re-vote on an item is a new round with a new id.
CREATE TABLE rounds (
    id         TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    item       INTEGER NOT NULL,
    settings   TEXT NOT NULL,
    -- Copied from settings so that SQL (closing, voiding) can see it.
    secret     INTEGER NOT NULL CHECK (secret IN (0, 1)),
    opened_at  INTEGER NOT NULL,
    deadline   INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'closed', 'voided')),
    -- When the round was closed or voided.
    closed_at  INTEGER,
    CHECK ((status = 'open') = (closed_at IS NULL))
) STRICT;

CREATE INDEX rounds_by_meeting ON rounds (meeting_id, opened_at);

-- The hub runs at most one round per meeting; a restart rebuilds it from here.
CREATE UNIQUE INDEX one_open_round_per_meeting ON rounds (meeting_id)
    WHERE status = 'open';

-- Each seat's last ballot in a round, with the delegate's signature so that
-- anyone holding an export can verify it. The key (round, seat) makes a
-- retried ballot harmless. A secret round's rows are deleted when it ends.
CREATE TABLE ballots (
    round_id    TEXT NOT NULL REFERENCES rounds (id),
    seat        INTEGER NOT NULL,
    choice      TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    seq         INTEGER NOT NULL,
    signature   BLOB NOT NULL CHECK (length(signature) = 64),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (round_id, seat)
) STRICT;

-- A closed round's result: the JSON the hub announced, and its numbers.
CREATE TABLE tallies (
    round_id    TEXT PRIMARY KEY REFERENCES rounds (id),
    total_seats INTEGER NOT NULL,
    present     INTEGER NOT NULL,
    yes         INTEGER NOT NULL,
    no          INTEGER NOT NULL,
    abstain     INTEGER NOT NULL,
    passed      INTEGER NOT NULL CHECK (passed IN (0, 1)),
    result      TEXT NOT NULL
) STRICT;

-- What a secret round keeps once it has ended: who took part, and the
-- choices in an order unrelated to the seats. The two tables share nothing
-- but the round: no time, no sequence, no order that could join them.
CREATE TABLE secret_participants (
    round_id TEXT NOT NULL REFERENCES rounds (id),
    seat     INTEGER NOT NULL,
    PRIMARY KEY (round_id, seat)
) STRICT;

CREATE TABLE secret_choices (
    round_id TEXT NOT NULL REFERENCES rounds (id),
    ordinal  INTEGER NOT NULL,
    choice   TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    PRIMARY KEY (round_id, ordinal)
) STRICT;
