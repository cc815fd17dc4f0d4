// What the screen should show, derived from the session's state alone, so
// that the views stay simple and the rules for "which round belongs to the
// current item" live in one place.

import { byHandOf, presentedDocument } from "../common/protocol.js";

/**
 * The scene for the session: `state` is loading | refused | none | open |
 * document | floor | closed | voided | provisional (a secret result the
 * counting board is confirming: the ballots returned, no counts) |
 * session_closed (the chair closed the session, PROTOCOL.md §9.9: the
 * agenda with its outcomes, nothing current). A vote under way has the stage;
 * otherwise a page the chair presents does. After the chair moves on, `snapshot.round` still holds the
 * previous item's round (PROTOCOL.md §8), so a round only counts when it is
 * on the current item; an item decided earlier shows its stored result.
 */
export function sceneOf(session) {
  if (session.status === "refused") return { state: "refused" };
  const { meeting, snapshot, floor } = session;
  if (!meeting || !snapshot) return { state: "loading" };
  if (snapshot.closed_at != null) return { state: "session_closed", item: null, round: null, settings: null, closedAt: snapshot.closed_at };
  const index = snapshot.current_item;
  const item = index == null ? null : (meeting.agenda[index] ?? null);
  const settings = item?.vote ?? null;
  const round = snapshot.round?.item === index ? snapshot.round : null;
  if (round?.status === "open") return { state: "open", item, round, settings: round.settings, result: null };
  const document = presentedDocument(meeting, snapshot.presentation);
  if (document) return { state: "document", item, round, settings, presentation: snapshot.presentation, document };
  // Between votes the floor takes the stage while someone speaks or waits to.
  if (floor?.item === index && (floor.turn || floor.waiting > 0)) return { state: "floor", item, round, settings, floor };
  if (round?.status === "closed" && round.board && round.board.announced_at === null) {
    return { state: "provisional", item, round, settings: round.settings, board: round.board };
  }
  // A result recorded by hand says so, by whom and when (PROTOCOL.md §9.8).
  const byHand = byHandOf(snapshot, index);
  if (round) return { state: round.status, item, round, settings: round.settings, result: round.result, byHand };
  const stored = index == null ? null : snapshot.items[index];
  if (stored?.result && ["passed", "not_passed", "counted"].includes(stored.status)) {
    return { state: "closed", item, round: null, settings, result: stored.result, byHand };
  }
  if (stored?.status === "voided" || stored?.status === "provisional") return { state: stored.status, item, round: null, settings };
  return { state: "none", item, round: null, settings };
}

/**
 * Who is present, as the band shows it: the devices' check-ins, except
 * while the stage shows a result recorded by hand, whose own count of
 * those present is what that result was decided with (the devices, which
 * failed, may have none checked in). `{ count, byHand }`; `count` is null
 * before the first snapshot.
 */
export function bandPresence(session, scene) {
  if (scene.byHand && scene.result) {
    // A tally has `counts`, a paper's result (an election, a rating) its `turnout`.
    const present = (scene.result.counts ?? scene.result.turnout).present;
    return { count: present, byHand: true };
  }
  return { count: session?.snapshot?.present ?? null, byHand: false };
}

/** Seats that may show individual choices: only a named round whose interim setting lets watchers see them. */
export function seatChoices(scene) {
  const { round } = scene;
  if (!round || round.settings.secrecy !== "named") return null;
  return round.live?.choices ?? null;
}
