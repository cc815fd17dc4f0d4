// The countdown to a round's deadline, and the speaker's clock, the same on
// every app: whole seconds
// rounded up, so "0:00" appears only when the time is over, and read from
// the server's clock (`Session.serverNow`), never the device's. A round the
// chair has paused keeps the time it had left when paused: its clock stands
// at `paused_at` until the server resumes it and moves the deadline on.
// A moment the server named (a receipt, a confirmation) is shown as the
// time of day on the device, `clockText`.

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

/** The last seconds of a turn at the floor, which every screen shows as a warning. */
export const TURN_WARNING_SECONDS = 30;

/**
 * Whole seconds left of a turn at the floor at server time `now`, rounded
 * up as a round's are; below zero once the speaker runs over (-1 a second
 * after `ends_at`). A held turn stands at `paused_at`; before `started_at`
 * (a device's clock a little behind the server's) it shows the whole limit.
 */
export function turnSecondsLeft(turn, now) {
  // A device's estimate of the server's clock may lag a little behind: a
  // turn that has just started shows its whole limit, never more.
  const clock = turn.paused_at ?? Math.max(now, turn.started_at);
  return Math.ceil((turn.ends_at - clock) / 1000) || 0;
}

/** "4:05" while time is left, "+0:12" for an overrun. */
export function turnText(seconds) {
  return seconds < 0 ? `+${countdownText(-seconds)}` : countdownText(seconds);
}

/** Whether the turn is `over` time, in its last seconds (`warning`) or `running`. */
export function turnPhase(seconds) {
  if (seconds < 0) return "over";
  return seconds <= TURN_WARNING_SECONDS ? "warning" : "running";
}

/** "10:42:13": a server time in the device's local time zone. */
export function clockText(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
