-- The documents of the agenda items. A file's bytes are kept once, named by
-- their SHA-256 (lower-case hex), however many meetings or versions use it;
-- each version of an item's document is a row that names its bytes. Rows are
-- never updated nor deleted: a replaced document gets a new version, and the
-- audit chain records each (document_stored).
CREATE TABLE document_blobs (
    sha256  TEXT PRIMARY KEY,
    content BLOB NOT NULL
) STRICT;

CREATE TABLE documents (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    -- The agenda item (0-based) and the document's place among its
    -- documents in the meeting file (0-based).
    item       INTEGER NOT NULL,
    slot       INTEGER NOT NULL,
    -- 1 for the first file imported, then one more per replacement.
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    -- 'submission', 'report', 'draft_resolution' or 'other'.
    kind       TEXT NOT NULL,
    public     INTEGER NOT NULL CHECK (public IN (0, 1)),
    sha256     TEXT NOT NULL REFERENCES document_blobs (sha256),
    size       INTEGER NOT NULL,
    stored_at  INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, item, slot, version)
) STRICT;
