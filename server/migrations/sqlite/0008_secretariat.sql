-- The secretariat: the council's office, which prepares every meeting
-- rather than taking part in one, so its codes and keys belong to no
-- meeting. Only a hash of each code is stored, as for enrollment_codes; a
-- used code is kept so that a second attempt is told "already used".
CREATE TABLE secretariat_codes (
    code_hash  TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- Each device of the secretariat: its public key and when it was enrolled.
CREATE TABLE secretariat_keys (
    public_key  BLOB PRIMARY KEY CHECK (length(public_key) = 32),
    enrolled_at INTEGER NOT NULL
) STRICT;
