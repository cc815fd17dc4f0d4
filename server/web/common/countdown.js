// The countdown to a round's deadline, the same on every app: whole seconds
// rounded up, so "0:00" appears only when the time is over, and read from
// the server's clock (`Session.serverNow`), never the device's.

/** Whole seconds left until `deadline` at server time `now`, never below zero. */
export function secondsLeft(deadline, now) {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** "1:05", "0:09": minutes and seconds for `seconds` whole seconds left. */
export function countdownText(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** How much of the round's window is left at `now`, from 1 when it opened down to 0. */
export function shareLeft(round, now) {
  const window = round.deadline - round.opened_at;
  return window > 0 ? Math.min(1, Math.max(0, (round.deadline - now) / window)) : 0;
}

/** The last seconds of a vote, which every app shows in red. */
export const URGENT_SECONDS = 10;
