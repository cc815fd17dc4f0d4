-- The chair's one-time record downloads (docs/architecture.md, "Tokens every
-- node honours"): a row per download link asked for and not yet used, by the
-- SHA-256 of its token (the token itself is never stored), with its meeting
-- and its expiry (Unix ms). Whichever node serves the download deletes the
-- row as it does, so a link is used once across every node.
CREATE TABLE download_tokens (
    token_hash TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    expires_at INTEGER NOT NULL
);
