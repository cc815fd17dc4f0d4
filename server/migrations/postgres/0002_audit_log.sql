-- The audit chain: every change to a meeting, appended last in the same
-- transaction as the change, each entry holding the hash of the one before
-- (see records/src/chain.rs for what is hashed). Kept parallel to
-- ../sqlite/0002_audit_log.sql.
--
-- Append-only: the triggers below refuse UPDATE and DELETE, so that a bug
-- cannot rewrite history quietly. They do not stop the database's owner,
-- who can drop them; the chain's hashes and the server's signature on an
-- exported head are what make such a rewrite visible.
CREATE TABLE audit_log (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    seq        BIGINT NOT NULL CHECK (seq >= 0),
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    -- The event's canonical JSON, as hashed.
    body       TEXT NOT NULL,
    prev_hash  BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash       BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (meeting_id, seq)
);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
