// Topic numbers in the chair's agenda. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { roman } from "./roman.js";

test("topic numbers are roman", () => {
  assert.deepEqual([1, 4, 9, 14, 40, 99].map(roman), ["I", "IV", "IX", "XIV", "XL", "XCIX"]);
});
