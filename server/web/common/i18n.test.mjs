// Words that follow a number take its plural form in English.
// Run: node --test server/web/common/
import { test } from "node:test";
import assert from "node:assert/strict";
import { fill } from "./i18n.js";
import { WORDS as CHAIR } from "../chair/words.js";
import { WORDS as SCREEN } from "../screen/words.js";
import { WORDS as TABLET } from "../../../tablet-client/web/words.js";

test("one delegate, two delegates; one form in Vietnamese", () => {
  const taking = (n) => fill(TABLET.en["result.taking_part"], "en", { n, pct: "x" });
  assert.equal(taking(1), "1 delegate took part (x of all seats)");
  assert.equal(taking(0), "0 delegates took part (x of all seats)");
  assert.equal(taking(2), "2 delegates took part (x of all seats)");
  assert.equal(fill(TABLET.vi["result.taking_part"], "vi", { n: 1, pct: "x" }).startsWith("1 đại biểu"), true);
});

test("every official sentence in English agrees with its count", () => {
  const chair = (tp) => fill(CHAIR.en["result.official"], "en", { tp });
  const screen = (taking) => fill(SCREEN.en["result.sentence"], "en", { taking });
  assert.match(chair(1), /^1 delegate took part /);
  assert.match(chair(38), /^38 delegates took part /);
  assert.match(screen(1), /^1 delegate took part /);
  assert.match(screen(38), /^38 delegates took part /);
});

test("a placeholder instead of a number takes the general form", () => {
  // The hall screen fills some sentences with elements: it passes "{n}" marks.
  assert.equal(fill({ count: "n", one: "{n} one", other: "{n} other" }, "en", { n: "{n}" }), "{n} other");
  assert.equal(fill("plain {a}", "en", { a: 1 }), "plain 1");
});
