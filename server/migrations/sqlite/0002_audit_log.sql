-- The audit chain: every change to a meeting, appended last in the same
-- transaction as the change, each entry holding the hash of the one before
-- (see records/src/chain.rs for what is hashed). Kept parallel to
-- ../postgres/0002_audit_log.sql.
--
-- Append-only: the triggers below refuse UPDATE and DELETE, so that a bug
-- cannot rewrite history quietly. They do not stop whoever holds the file,
-- who can drop them; the chain's hashes and the server's signature on an
-- exported head are what make such a rewrite visible.
CREATE TABLE audit_log (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    -- The event's canonical JSON, as hashed.
    body       TEXT NOT NULL,
    prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (meeting_id, seq)
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
