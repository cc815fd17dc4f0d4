// The countdown every app shows. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { countdownText, isPaused, secondsLeft, shareLeft, turnPhase, turnSecondsLeft, turnText } from "./countdown.js";

const running = (deadline, opened_at = 0) => ({ opened_at, deadline, paused_at: null });

test("the countdown rounds up and stops at zero", () => {
  assert.equal(secondsLeft(running(10_000), 0), 10);
  assert.equal(secondsLeft(running(10_000), 9_001), 1);
  assert.equal(secondsLeft(running(10_000), 9_999.5), 1);
  assert.equal(secondsLeft(running(10_000), 10_000), 0);
  assert.equal(secondsLeft(running(10_000), 12_000), 0);
});

test("minutes and seconds", () => {
  assert.equal(countdownText(65), "1:05");
  assert.equal(countdownText(9), "0:09");
  assert.equal(countdownText(0), "0:00");
  assert.equal(countdownText(600), "10:00");
});

test("the share of the window left runs from one to zero", () => {
  const round = running(61_000, 1_000);
  assert.equal(shareLeft(round, 1_000), 1);
  assert.equal(shareLeft(round, 31_000), 0.5);
  assert.equal(shareLeft(round, 61_000), 0);
  assert.equal(shareLeft(round, 90_000), 0);
  assert.equal(shareLeft(round, 0), 1);
  assert.equal(shareLeft(running(5, 5), 0), 0);
});

test("a paused round keeps the time it had left, however long the pause", () => {
  const paused = { opened_at: 0, deadline: 60_000, paused_at: 17_500 };
  assert.equal(isPaused(paused), true);
  for (const now of [17_500, 30_000, 60_000, 600_000]) {
    assert.equal(secondsLeft(paused, now), 43);
    assert.equal(shareLeft(paused, now), 42_500 / 60_000);
  }
});

test("resumed, the moved deadline gives back the time that was left", () => {
  // Paused at 17.5 s for 100 s: the server moves the deadline 100 s on.
  const resumed = { opened_at: 0, deadline: 160_000, paused_at: null };
  assert.equal(isPaused(resumed), false);
  assert.equal(secondsLeft(resumed, 117_500), 43);
  assert.equal(secondsLeft(resumed, 160_000), 0);
});

test("a round view without the field, or no round at all, is not paused", () => {
  assert.equal(isPaused({ opened_at: 0, deadline: 1 }), false);
  assert.equal(isPaused(null), false);
});

test("a turn counts down, warns in its last 30 seconds and then counts the overrun", () => {
  const turn = { started_at: 0, ends_at: 60_000, paused_at: null };
  assert.equal(turnSecondsLeft(turn, 0), 60);
  assert.equal(turnSecondsLeft(turn, 29_500), 31);
  assert.equal(turnPhase(turnSecondsLeft(turn, 29_500)), "running");
  assert.equal(turnPhase(turnSecondsLeft(turn, 30_000)), "warning");
  assert.equal(turnSecondsLeft(turn, 60_000), 0);
  assert.equal(turnText(turnSecondsLeft(turn, 60_000)), "0:00");
  assert.equal(turnSecondsLeft(turn, 60_500), 0);
  assert.equal(turnSecondsLeft(turn, 61_200), -1);
  assert.equal(turnText(turnSecondsLeft(turn, 72_000)), "+0:12");
  assert.equal(turnPhase(turnSecondsLeft(turn, 72_000)), "over");
  assert.equal(turnText(turnSecondsLeft(turn, 2_000)), "0:58");
  const late = { started_at: 5_000, ends_at: 65_000, paused_at: null };
  assert.equal(turnSecondsLeft(late, 4_200), 60, "a clock behind the server's shows the whole limit");
});

test("a held turn stands where it was paused", () => {
  const held = { started_at: 0, ends_at: 60_000, paused_at: 20_000 };
  assert.equal(turnSecondsLeft(held, 20_000), 40);
  assert.equal(turnSecondsLeft(held, 500_000), 40);
});
