// The screen's decisions that do not need a browser: which state the stage
// shows. Run: node --test server/web/screen/
import { test } from "node:test";
import assert from "node:assert/strict";
import { bandPresence, sceneOf, seatChoices } from "./model.js";

const counts = (yes, no, abstain, present = 38) => ({ total_seats: 40, present, yes, no, abstain });
const allSeats = (threshold) => ({ base: "all_seats", threshold });

const vote = { rule: allSeats("more_than_half"), secrecy: "named", interim: "individual" };
const meeting = {
  agenda: [
    { index: 0, title: "A", kind: "other", vote },
    { index: 1, title: "B", kind: "report", vote: null },
    { index: 2, title: "C", kind: "election", vote: { ...vote, secrecy: "secret", interim: "none" } },
  ],
};
const result = { counts: counts(30, 5, 3), rule: vote.rule, base_value: 40, yes_needed: 21, passed: true };
const live = { taking_part: 1, counts: counts(1, 0, 0), voted: [4], choices: [{ seat: 4, choice: "yes" }] };

function session(current, round, status = "pending") {
  const items = meeting.agenda.map((it) => ({ index: it.index, status: it.index === current ? status : "pending", result: null }));
  if (status === "passed") items[current].result = result;
  return { status: "online", meeting, snapshot: { current_item: current, items, round, present: 1, present_seats: [4] } };
}

test("the stage shows the round only when it is on the current item", () => {
  const closed = { item: 0, status: "closed", settings: vote, live: null, result };
  assert.equal(sceneOf(session(0, closed, "passed")).state, "closed");
  assert.equal(sceneOf(session(1, closed)).state, "none");
  assert.equal(sceneOf(session(1, closed)).settings, null);
});

test("an item decided earlier shows its stored result", () => {
  const other = { item: 2, status: "closed", settings: vote, live: null, result: null };
  const scene = sceneOf(session(0, other, "passed"));
  assert.equal(scene.state, "closed");
  assert.equal(scene.result, result);
});

test("voided, open, loading and refused", () => {
  assert.equal(sceneOf(session(0, { item: 0, status: "voided", settings: vote }, "voided")).state, "voided");
  assert.equal(sceneOf(session(0, null, "voided")).state, "voided");
  assert.equal(sceneOf(session(0, { item: 0, status: "open", settings: vote, live }, "voting")).state, "open");
  assert.equal(sceneOf({ status: "connecting", meeting: null, snapshot: null }).state, "loading");
  assert.equal(sceneOf({ status: "refused" }).state, "refused");
});

test("seat choices are shown for named rounds only", () => {
  const open = (settings) => sceneOf(session(0, { item: 0, status: "open", settings, live }, "voting"));
  assert.deepEqual(seatChoices(open(vote)), live.choices);
  assert.equal(seatChoices(open({ ...vote, secrecy: "secret" })), null);
  assert.equal(seatChoices({ round: { settings: vote, live: { ...live, choices: null } } }), null);
});

test("a paused round is still the open vote on the stage, with its pause", () => {
  const paused = { id: "r1", item: 0, status: "open", settings: vote, live, paused_at: 1_000 };
  const scene = sceneOf(session(0, paused, "voting"));
  assert.equal(scene.state, "open");
  assert.equal(scene.round.paused_at, 1_000);
});

test("between votes the floor takes the stage while someone speaks or waits; an open vote comes first", () => {
  const turn = { request: { id: 1, item: 1, kind: "speak", speaker: { seat: 4 }, respondent: null, topic: null }, started_at: 0, ends_at: 1, paused_at: null };
  const floor = (item, turn, waiting) => ({ item, turn, queue: [], waiting, places: [] });
  const withFloor = (s, f) => ({ ...s, floor: f });
  assert.equal(sceneOf(withFloor(session(1, null), floor(1, turn, 0))).state, "floor");
  assert.equal(sceneOf(withFloor(session(1, null), floor(1, null, 2))).state, "floor");
  assert.equal(sceneOf(withFloor(session(1, null), floor(1, null, 0))).state, "none");
  assert.equal(sceneOf(withFloor(session(1, null), floor(0, turn, 0))).state, "none", "another item's floor");
  const open = { item: 0, status: "open", settings: vote, live, result: null };
  assert.equal(sceneOf(withFloor(session(0, open, "voting"), floor(0, turn, 0))).state, "open");
});

test("a presented page has the stage, except while a vote is open", () => {
  const doc = { title: "Tờ trình", kind: "submission", sha256: "ab".repeat(32), size: 1, public: true, version: 1 };
  const withDocs = { agenda: meeting.agenda.map((it) => ({ ...it, documents: it.index === 1 ? [doc] : [] })) };
  const presented = (current, round) => {
    const s = session(current, round);
    return { ...s, meeting: withDocs, snapshot: { ...s.snapshot, presentation: { item: 1, document: doc.sha256, page: 2, pages: 5 } } };
  };
  const scene = sceneOf(presented(0, null));
  assert.equal(scene.state, "document");
  assert.equal(scene.document, withDocs.agenda[1].documents[0]);
  assert.equal(scene.presentation.page, 2);
  const open = { item: 0, status: "open", settings: vote, live, result: null };
  assert.equal(sceneOf(presented(0, open)).state, "open");
  // A hash the view does not list (a view older than the snapshot) shows nothing new.
  const unknown = presented(0, null);
  unknown.snapshot.presentation = { ...unknown.snapshot.presentation, document: "cd".repeat(32) };
  assert.equal(sceneOf(unknown).state, "none");
});

test("the band counts those present by the devices, but a result recorded by hand by its own count", () => {
  const byHand = { by: "Lê Thị Thu", device: "ab", at: 0 };
  const handRound = { item: 0, status: "closed", settings: vote, live: null, result, by_hand: byHand };
  const counted = session(0, handRound, "passed");
  counted.snapshot.present = 0;
  assert.deepEqual(bandPresence(counted, sceneOf(counted)), { count: 38, byHand: true });
  // A paper's result (an election counted by the board) has its turnout, not counts.
  const paper = { kind: "election", turnout: { total_seats: 40, present: 39, papers: 38 } };
  const election = session(0, { ...handRound, result: paper }, "passed");
  election.snapshot.present = 0;
  assert.deepEqual(bandPresence(election, sceneOf(election)), { count: 39, byHand: true });
  // The same item's result from the devices, and another item: the check-ins.
  const devices = session(0, { ...handRound, by_hand: null }, "passed");
  assert.deepEqual(bandPresence(devices, sceneOf(devices)), { count: 1, byHand: false });
  const moved = session(1, handRound);
  assert.deepEqual(bandPresence(moved, sceneOf(moved)), { count: 1, byHand: false });
  assert.deepEqual(bandPresence(null, { state: "loading" }), { count: null, byHand: false });
});
