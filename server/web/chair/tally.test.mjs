// The chair's live "needed to pass" must agree with the server's rule
// arithmetic (PROTOCOL.md §13). Run: node --test server/web/chair/
import { test } from "node:test";
import assert from "node:assert/strict";
import { clock, inSentence, roman, shortName, wouldPass, yesNeeded } from "./tally.js";

const counts = (yes, no, abstain, present = 40, total_seats = 40) => ({ total_seats, present, yes, no, abstain });

test("more than half of all seats: 21 of 40, however many came", () => {
  const rule = { base: "all_seats", threshold: "more_than_half" };
  assert.equal(yesNeeded(rule, counts(0, 0, 0, 30)), 21);
  assert.equal(wouldPass(rule, counts(21, 0, 0, 30)), true);
  assert.equal(wouldPass(rule, counts(20, 0, 9, 30)), false);
});

test("at least two thirds of all seats: 27 of 40", () => {
  assert.equal(yesNeeded({ base: "all_seats", threshold: "at_least_two_thirds" }, counts(0, 0, 0)), 27);
});

test("bases other than all seats follow the counts", () => {
  assert.equal(yesNeeded({ base: "present", threshold: "more_than_half" }, counts(0, 0, 0, 31)), 16);
  assert.equal(yesNeeded({ base: "cast", threshold: "at_least_three_quarters" }, counts(6, 1, 1)), 6);
  assert.equal(yesNeeded({ base: "yes_no", threshold: { fraction: { num: 3, den: 5, strict: false } } }, counts(3, 2, 9)), 3);
});

test("nothing passes on an empty base, and at least one yes is needed", () => {
  const rule = { base: "cast", threshold: "at_least_two_thirds" };
  assert.equal(yesNeeded(rule, counts(0, 0, 0)), 1);
  assert.equal(wouldPass(rule, counts(0, 0, 0)), false);
});

test("small helpers", () => {
  assert.equal(inSentence("Đồng ý", "vi"), "đồng ý");
  assert.equal(inSentence("Yes", "en"), "Yes");
  assert.equal(shortName("Lương Thị Thanh Huyền"), "Huyền");
  assert.deepEqual([1, 4, 9, 14, 40].map(roman), ["I", "IV", "IX", "XIV", "XL"]);
  assert.equal(clock(65), "1:05");
  assert.equal(clock(-3), "0:00");
  assert.equal(clock(0.2), "0:01");
});
