-- A result the secretariat recorded by hand (a show of hands or a paper
-- vote, when the devices failed): a round stored closed, with no ballots,
-- and here who recorded it, from which device and when, as the JSON of
-- gavel_protocol::messages::ByHand. NULL for every round voted on the
-- devices. Kept parallel to ../postgres/0012_rounds_by_hand.sql.
ALTER TABLE rounds ADD COLUMN by_hand TEXT;
