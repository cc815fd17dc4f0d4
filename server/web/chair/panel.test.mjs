// The console's clock for the open round, running and paused.
// Run: node --test server/web/chair/
import { test } from "node:test";
import assert from "node:assert/strict";
import { clockFace } from "./panel.js";

const round = (paused_at) => ({ opened_at: 0, deadline: 60_000, paused_at });

test("a running round counts down, red in its last seconds, then closing", () => {
  assert.deepEqual(clockFace(round(null), 15_000), {
    paused: false,
    closing: false,
    urgent: false,
    text: "0:45",
    label: "vote.remaining",
    share: 0.75,
  });
  assert.equal(clockFace(round(null), 52_000).urgent, true);
  assert.equal(clockFace(round(null), 60_000).closing, true);
});

test("a paused round keeps its time left, neither urgent nor closing", () => {
  const face = clockFace(round(55_500), 90_000);
  assert.equal(face.paused, true);
  assert.equal(face.text, "0:05");
  assert.equal(face.label, "vote.paused");
  assert.equal(face.urgent, false);
  assert.equal(face.closing, false);
  assert.equal(face.share, 4_500 / 60_000);
});

test("a round paused at its very deadline waits for the chair rather than closing", () => {
  const face = clockFace(round(60_000), 61_000);
  assert.equal(face.text, "0:00");
  assert.equal(face.closing, false);
});
