// The countdown to a round's deadline, the same on every app: whole seconds
// rounded up, so "0:00" appears only when the time is over, and read from
// the server's clock (`Session.serverNow`), never the device's. A round the
// chair has paused keeps the time it had left when paused: its clock stands
// at `paused_at` until the server resumes it and moves the deadline on.

/** Whether the chair holds `round`: it stays open, but takes no ballots until resumed. */
export function isPaused(round) {
  return round?.paused_at != null;
}

/** The server time the round's countdown reads at `now`: stopped at `paused_at` while paused. */
function roundClock(round, now) {
  return isPaused(round) ? round.paused_at : now;
}

/** Whole seconds left of `round` at server time `now`, never below zero. */
export function secondsLeft(round, now) {
  return Math.max(0, Math.ceil((round.deadline - roundClock(round, now)) / 1000));
}

/** "1:05", "0:09": minutes and seconds for `seconds` whole seconds left. */
export function countdownText(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * How much of the round's window is left at `now`, from 1 when it opened
 * down to 0. The window runs from `opened_at` to the deadline, so after a
 * resume it includes the pause (the round view does not say how long its
 * pauses were) and the bar restarts a little shorter than it stopped.
 */
export function shareLeft(round, now) {
  const window = round.deadline - round.opened_at;
  return window > 0 ? Math.min(1, Math.max(0, (round.deadline - roundClock(round, now)) / window)) : 0;
}

/** The last seconds of a vote, which every app shows in red. */
export const URGENT_SECONDS = 10;
