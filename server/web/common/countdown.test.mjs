// The countdown every app shows. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { countdownText, secondsLeft, shareLeft } from "./countdown.js";

test("the countdown rounds up and stops at zero", () => {
  assert.equal(secondsLeft(10_000, 0), 10);
  assert.equal(secondsLeft(10_000, 9_001), 1);
  assert.equal(secondsLeft(10_000, 9_999.5), 1);
  assert.equal(secondsLeft(10_000, 10_000), 0);
  assert.equal(secondsLeft(10_000, 12_000), 0);
});

test("minutes and seconds", () => {
  assert.equal(countdownText(65), "1:05");
  assert.equal(countdownText(9), "0:09");
  assert.equal(countdownText(0), "0:00");
  assert.equal(countdownText(600), "10:00");
});

test("the share of the window left runs from one to zero", () => {
  const round = { opened_at: 1_000, deadline: 61_000 };
  assert.equal(shareLeft(round, 1_000), 1);
  assert.equal(shareLeft(round, 31_000), 0.5);
  assert.equal(shareLeft(round, 61_000), 0);
  assert.equal(shareLeft(round, 90_000), 0);
  assert.equal(shareLeft(round, 0), 1);
  assert.equal(shareLeft({ opened_at: 5, deadline: 5 }, 0), 0);
});
