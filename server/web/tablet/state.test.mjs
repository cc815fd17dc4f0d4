// What the tablet derives from the server's state: run with `node --test server/web/`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ballotIn, boardTask, choiceLock, focusOf, refusalIn, trackerToKeep, versionsMissing } from "./state.js";

const vote = { rule: { base: "all_seats", threshold: "more_than_half" }, secrecy: "named", interim: "totals", allow_change: true, require_check_in: true, window_seconds: 60 };
const meeting = {
  agenda: [
    { index: 0, topic: "Khai mạc", kind: "other", title: "Thông qua chương trình", vote },
    { index: 1, topic: "Báo cáo", kind: "report", title: "Báo cáo năm", vote: null },
    { index: 2, topic: "Báo cáo", kind: "draft_resolution", title: "Nghị quyết", vote },
  ],
};
const result = { counts: { total_seats: 40, present: 38, yes: 35, no: 2, abstain: 1 }, passed: true };
const items = (statuses) => statuses.map((status, index) => ({ index, status, result: status === "passed" ? result : null }));
const round = (item, status) => ({ id: `r${item}${status}`, item, status, settings: vote, result: status === "closed" ? result : null });

test("before any item is on the floor there is nothing to vote on", () => {
  const focus = focusOf(meeting, { current_item: null, items: items(["pending", "pending", "pending"]), round: null });
  assert.equal(focus.state, "none");
  assert.equal(focus.item, null);
});

test("an open round is what the panel shows", () => {
  const open = round(2, "open");
  const focus = focusOf(meeting, { current_item: 2, items: items(["pending", "pending", "voting"]), round: open });
  assert.equal(focus.state, "open");
  assert.equal(focus.round, open);
  assert.equal(focus.item.title, "Nghị quyết");
});

test("a closed round shows its result", () => {
  const focus = focusOf(meeting, { current_item: 0, items: items(["passed", "pending", "pending"]), round: round(0, "closed") });
  assert.equal(focus.state, "closed");
  assert.equal(focus.result, result);
});

test("after the chair moves on, the previous item's round is not the new item's", () => {
  const focus = focusOf(meeting, { current_item: 1, items: items(["passed", "pending", "pending"]), round: round(0, "closed") });
  assert.equal(focus.state, "none");
  assert.equal(focus.round, null);
  assert.equal(focus.item.title, "Báo cáo năm");
});

test("going back to a decided item shows its result from the item's status", () => {
  const focus = focusOf(meeting, { current_item: 0, items: items(["passed", "pending", "pending"]), round: round(2, "voided") });
  assert.equal(focus.state, "closed");
  assert.equal(focus.result, result);
  assert.equal(focus.round, null);
});

test("a result recorded by hand says who recorded it, on its round and later from the item", () => {
  const byHand = { by: "Lê Thị Thu", device: "ab".repeat(32), at: 1 };
  const handRound = { ...round(0, "closed"), by_hand: byHand };
  const decided = items(["passed", "pending", "pending"]).map((i) => (i.index === 0 ? { ...i, by_hand: byHand } : i));
  assert.equal(focusOf(meeting, { current_item: 0, items: decided, round: handRound }).byHand, byHand);
  assert.equal(focusOf(meeting, { current_item: 0, items: decided, round: round(2, "voided") }).byHand, byHand);
  assert.equal(focusOf(meeting, { current_item: 0, items: items(["passed", "pending", "pending"]), round: round(0, "closed") }).byHand, null);
});

test("a voided round is shown as voided", () => {
  const focus = focusOf(meeting, { current_item: 2, items: items(["pending", "pending", "voided"]), round: round(2, "voided") });
  assert.equal(focus.state, "voided");
});

test("my ballot counts only for its own round", () => {
  const open = round(2, "open");
  assert.equal(ballotIn({ round: open.id, choice: "yes" }, open).choice, "yes");
  assert.equal(ballotIn({ round: "another", choice: "yes" }, open), null);
  assert.equal(ballotIn(null, open), null);
  assert.equal(ballotIn({ round: open.id }, null), null);
});

const openRound = (paused_at = null, allow_change = true) => ({ ...round(2, "open"), settings: { ...vote, allow_change }, deadline: 60_000, paused_at });

test("the choices can be pressed in a running round, online, with nothing in flight", () => {
  assert.equal(choiceLock({ round: openRound(), online: true, pending: null, mine: null }), null);
  assert.equal(choiceLock({ round: openRound(), online: true, pending: null, mine: { choice: "yes" } }), null);
});

test("a paused round holds the choices until the chair resumes it", () => {
  const held = openRound(1_000);
  assert.equal(choiceLock({ round: held, online: true, pending: null, mine: null }), "paused");
  assert.equal(choiceLock({ round: held, online: true, pending: "yes", mine: null }), "paused");
  assert.equal(choiceLock({ round: openRound(null), online: true, pending: null, mine: null }), null);
});

test("a vote on versions the tablet does not hold waits until it holds them", () => {
  const round = { ...openRound(), versions: { sha256: ["aa", "bb"], digest: "00" } };
  const reading = { progress: { done: 1, total: 2, failed: 0 }, kept: new Set(["aa"]) };
  assert.deepEqual(versionsMissing(round, reading), ["bb"]);
  assert.equal(choiceLock({ round, online: true, pending: null, mine: null, missing: ["bb"] }), "documents");
  assert.deepEqual(versionsMissing(round, { ...reading, kept: new Set(["aa", "bb"]) }), []);
  // Before the library was read, or without storage, nothing holds the vote back.
  assert.deepEqual(versionsMissing(round, { progress: null, kept: new Set() }), []);
  // Offline and paused still come first.
  assert.equal(choiceLock({ round, online: false, pending: null, mine: null, missing: ["bb"] }), "offline");
});

test("offline comes before the pause; a press in flight and a final choice lock too", () => {
  assert.equal(choiceLock({ round: openRound(1_000), online: false, pending: null, mine: null }), "offline");
  assert.equal(choiceLock({ round: openRound(), online: true, pending: "no", mine: null }), "sending");
  assert.equal(choiceLock({ round: openRound(null, false), online: true, pending: null, mine: { choice: "no" } }), "final");
});

test("a refusal for the pause goes with the pause; others stay for their round", () => {
  const held = openRound(1_000);
  const refusedForPause = { round: held.id, deadline: held.deadline, reason: "round_paused" };
  assert.equal(refusalIn(refusedForPause, held), refusedForPause);
  // The page had not seen the pause when its press was refused: the round
  // still looks as it did, so the refusal stands until the resume moves the deadline.
  assert.equal(refusalIn(refusedForPause, { ...held, paused_at: null }), refusedForPause);
  assert.equal(refusalIn(refusedForPause, { ...held, paused_at: null, deadline: held.deadline + 4_000 }), null);
  const late = { round: held.id, deadline: held.deadline, reason: "late" };
  assert.equal(refusalIn(late, { ...held, paused_at: null }), late);
  assert.equal(refusalIn(late, round(0, "closed")), null);
  assert.equal(refusalIn(late, null), null);
  assert.equal(refusalIn(null, held), null);
});

test("a secret result awaiting the counting board is provisional, without a result, until announced", () => {
  const board = { members: [4, 2], required: 2, confirmed: [{ seat: 4, at: 1 }], announced_at: null, ballots: 38 };
  const provisional = { ...round(0, "closed"), result: null, board };
  const focus = focusOf(meeting, { current_item: 0, items: items(["provisional", "pending", "pending"]), round: provisional });
  assert.equal(focus.state, "provisional");
  assert.equal(focus.result, null);
  const announced = { ...round(0, "closed"), board: { ...board, announced_at: 2 } };
  assert.equal(focusOf(meeting, { current_item: 0, items: items(["passed", "pending", "pending"]), round: announced }).state, "closed");
  // After the chair moves on and back, the item's status still says so.
  assert.equal(focusOf(meeting, { current_item: 0, items: items(["provisional", "pending", "pending"]), round: null }).state, "provisional");
});

test("a board member asks for the count, then confirms it once; others are not asked", () => {
  const board = { members: [4, 2], required: 2, confirmed: [{ seat: 4, at: 1 }], announced_at: null, ballots: 38 };
  const provisional = { ...round(0, "closed"), result: null, board };
  assert.equal(boardTask(provisional, 2, null), "ask");
  assert.equal(boardTask(provisional, 2, { round: "another", count: {} }), "ask");
  assert.equal(boardTask(provisional, 2, { round: provisional.id, count: {} }), "confirm");
  assert.equal(boardTask(provisional, 4, { round: provisional.id, count: {} }), "confirmed");
  assert.equal(boardTask(provisional, 7, null), null, "not on the board");
  assert.equal(boardTask({ ...provisional, board: { ...board, announced_at: 2 } }, 2, null), null, "announced");
  assert.equal(boardTask(round(0, "closed"), 2, null), null, "no board");
});

test("a secret ballot's tracker is kept once, with the vote cast, and a later ballot replaces it", () => {
  const mine = { round: "r1", seat: 3, seq: 10, choice: "no", tracker: "ab".repeat(16), recorded_at: 1 };
  const kept = trackerToKeep(mine, undefined);
  assert.deepEqual(kept, { round: "r1", seq: 10, tracker: "ab".repeat(16), cast: { choice: "no" } });
  assert.equal(trackerToKeep(mine, kept), null, "already kept");
  assert.equal(trackerToKeep({ ...mine, seq: 9 }, kept), null, "an older ballot never replaces a newer one");
  assert.equal(trackerToKeep({ ...mine, seq: 11 }, kept).seq, 11);
  const paper = { round: "r2", seq: 4, kind: "election", marks: [[0, 1]], tracker: "cd".repeat(16) };
  assert.deepEqual(trackerToKeep(paper, null).cast, { kind: "election", marks: [[0, 1]] });
  assert.equal(trackerToKeep({ round: "r3", seq: 1, choice: "yes" }, null), null, "a named ballot has no tracker");
});
