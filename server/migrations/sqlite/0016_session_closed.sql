-- When the chair closed the session (bế mạc), Unix milliseconds; NULL while
-- it is under way. Once set, the store refuses every write for the meeting
-- but a device key's binding or revocation (gavel_records::chain,
-- Event::allowed_after_close), and the audit chain holds its
-- session_closed entry.
ALTER TABLE meetings ADD COLUMN closed_at INTEGER;
