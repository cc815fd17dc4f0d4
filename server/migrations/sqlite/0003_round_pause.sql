-- The chair can hold an open round: while paused_at is set (Unix ms, server
-- clock) no ballot is taken and the clock stands still; resuming clears it and
-- moves the deadline by the length of the pause. The audit chain records both.
ALTER TABLE rounds ADD COLUMN paused_at INTEGER;
