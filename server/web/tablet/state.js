// What the tablet shows, derived from the session's fields. Pure functions
// of the server's state, so the page never keeps its own copy of the
// meeting that could drift from the snapshot (tested in state.test.mjs).

import { isPaused } from "../common/countdown.js";
import { byHandOf, missingVersions } from "../common/protocol.js";

/**
 * The item the vote panel is about and the state of its vote: the open
 * round's item while a vote is open, else the item on the floor.
 * `state` is none | open | closed | voided | provisional (a secret result
 * awaiting the counting board and the chair's announcement); `round` is that item's latest
 * round when the snapshot still holds it (after the chair moves on, the
 * snapshot keeps the previous item's round, which is not this item's);
 * `result` is the decided result, from the round or from the item's status;
 * `byHand` who recorded it by hand and when, if it was (PROTOCOL.md §9.8).
 */
export function focusOf(meeting, snapshot) {
  const latest = snapshot.round;
  const index = latest?.status === "open" ? latest.item : snapshot.current_item;
  if (index === null || index === undefined) {
    return { index: null, item: null, round: null, state: "none", result: null, byHand: null };
  }
  const item = meeting.agenda[index] ?? null;
  const itemState = snapshot.items.find((i) => i.index === index) ?? null;
  const round = latest?.item === index ? latest : null;
  if (round) {
    const state = isProvisional(round) ? "provisional" : round.status;
    return { index, item, round, state, result: round.result ?? itemState?.result ?? null, byHand: byHandOf(snapshot, index) };
  }
  const decided = ["passed", "not_passed", "counted"].includes(itemState?.status);
  const state = decided ? "closed" : ["voided", "provisional"].includes(itemState?.status) ? itemState.status : "none";
  return { index, item, round: null, state, result: decided ? itemState.result : null, byHand: decided ? byHandOf(snapshot, index) : null };
}

/** Whether `round` is closed and its result awaits the counting board and the chair. */
export function isProvisional(round) {
  return round?.status === "closed" && Boolean(round.board) && round.board.announced_at === null;
}

/**
 * What a counting board member's tablet does about `round`: "confirm" (the
 * count is here to confirm), "ask" (the count must be asked for with a
 * sync), "confirmed" (this seat has confirmed) or null (not the board's,
 * or not this seat's).
 */
export function boardTask(round, seat, toConfirm) {
  if (!isProvisional(round) || !round.board.members.includes(seat)) return null;
  if (round.board.confirmed.some((c) => c.seat === seat)) return "confirmed";
  return toConfirm?.round === round.id ? "confirm" : "ask";
}

/** The delegate's own recorded ballot in `round`, if the session holds one for it. */
export function ballotIn(myBallot, round) {
  return round && myBallot?.round === round.id ? myBallot : null;
}

/**
 * Why the choice buttons of the open `round` cannot be pressed now, or null
 * when they can: offline | paused | sending | final | documents (the tablet
 * does not hold every version the round is about, `missing`). Offline comes
 * first: without the server the page cannot know whether the pause still
 * holds.
 */
export function choiceLock({ round, online, pending, mine, missing = [] }) {
  if (!online) return "offline";
  if (isPaused(round)) return "paused";
  if (pending) return "sending";
  if (mine && !round.settings.allow_change) return "final";
  if (missing.length > 0) return "documents";
  return null;
}

/**
 * The versions the open `round` is about that this tablet does not hold,
 * once its library has been read (`library.progress`): the delegate is
 * told, and offered to fetch them, before voting. A device whose storage
 * is unavailable reads the documents from the server and is not held back.
 */
export function versionsMissing(round, library) {
  if (!round || !library?.progress) return [];
  return missingVersions(round.versions, library.kept);
}

/**
 * The page's last refusal when it is about `round` and still holds: a
 * ballot refused because the chair paused the vote may be pressed again
 * once the chair resumes it, so that refusal goes with the pause. Resuming
 * always moves the deadline, so a round that is running with another
 * deadline than at the refusal has resumed, even if this page never saw
 * it paused (the refusal was its first news of the pause).
 */
export function refusalIn(refusal, round) {
  if (!round || refusal?.round !== round.id) return null;
  const resumed = !isPaused(round) && round.deadline !== refusal.deadline;
  return refusal.reason === "round_paused" && resumed ? null : refusal;
}

/**
 * What the device keeps of its secret ballot `mine` (a receipt the session
 * gave a tracker): the tracker and the vote cast, `{choice}` or a paper's
 * `{kind, marks}`; null for a named ballot, or when it is already kept
 * (`kept` holds this ballot or a later one of the round).
 */
export function trackerToKeep(mine, kept) {
  if (!mine?.tracker || (kept && kept.seq >= mine.seq)) return null;
  const cast = mine.kind ? { kind: mine.kind, marks: mine.marks } : { choice: mine.choice };
  return { round: mine.round, seq: mine.seq, tracker: mine.tracker, cast };
}
