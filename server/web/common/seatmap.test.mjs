// The seat maps' model. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { givenName, seatState, seatStates, seatTier } from "./seatmap.js";

test("a tile shows the given name, the last word", () => {
  assert.equal(givenName("Lương Thị Thanh Huyền"), "Huyền");
  assert.equal(givenName("  Đỗ Văn   Thắng "), "Thắng");
});

test("large bodies get smaller tiles", () => {
  assert.deepEqual([1, 60, 61, 200, 201, 500].map(seatTier), ["named", "named", "numbered", "numbered", "plain", "plain"]);
});

const round = (secrecy, live) => ({ settings: { secrecy }, live });
const live = { voted: [1, 2], choices: [{ seat: 1, choice: "yes" }, { seat: 2, choice: "no" }] };

test("a named round shows who voted and their choices", () => {
  const states = seatStates([1, 2, 3], round("named", live));
  assert.deepEqual([1, 2, 3, 4].map((n) => seatState(states, n)), ["voted", "voted", "present", "absent"]);
  assert.equal(states.choices.get(2), "no");
  assert.equal(states.voting, true);
});

test("a secret round never shows a choice", () => {
  const states = seatStates([1, 2], round("secret", live));
  assert.equal(states.choices.size, 0);
  assert.equal(seatState(states, 1), "voted");
});

test("a watcher may get choices without the list of who voted", () => {
  const states = seatStates([1], round("named", { voted: null, choices: [{ seat: 1, choice: "abstain" }] }));
  assert.equal(seatState(states, 1), "voted");
  assert.equal(states.choices.get(1), "abstain");
});

test("between votes only presence is shown", () => {
  const states = seatStates(null, null);
  assert.equal(states.voting, false);
  assert.equal(seatState(states, 1), "absent");
});
