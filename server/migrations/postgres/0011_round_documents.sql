-- What a vote is about: the SHA-256 of each of its item's documents at the
-- version current when the round opened, in the item's order, as a JSON
-- array of lower-case hex strings (an empty array for an item without
-- documents). Every ballot of the round signs their digest (PROTOCOL.md
-- §7.2). NULL for a round opened before the column existed: its ballots
-- were signed without a digest. Kept parallel to
-- ../sqlite/0011_round_documents.sql.
ALTER TABLE rounds ADD COLUMN documents TEXT;
