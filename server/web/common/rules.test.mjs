// Checks the JavaScript pass rules and percentages against
// protocol/vectors/rules.json, the file the Rust crate is checked against.
// Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { baseValue, describeRule, formatPercent, passes, percentHundredths, takingPart, yesNeeded } from "./rules.js";

const vectors = JSON.parse(readFileSync(new URL("../../../protocol/vectors/rules.json", import.meta.url)));

for (const { note, result, percent_of_all_seats } of vectors.results) {
  const { rule, counts } = result;
  test(`${note}: the rule decides as the server does`, () => {
    assert.equal(baseValue(rule, counts), result.base_value);
    assert.equal(yesNeeded(rule, counts), result.yes_needed);
    assert.equal(passes(rule, counts), result.passed);
  });
  test(`${note}: percentages are of all seats`, () => {
    for (const [lang, shares] of Object.entries(percent_of_all_seats)) {
      const parts = { taking_part: takingPart(counts), yes: counts.yes, no: counts.no, abstain: counts.abstain };
      for (const [name, printed] of Object.entries(shares)) {
        assert.equal(formatPercent(parts[name], counts.total_seats, lang), printed, `${lang} ${name}`);
      }
    }
  });
}

test("the vectors cover every base and threshold", () => {
  const seen = (f) => new Set(vectors.results.map(({ result }) => f(result.rule)));
  assert.deepEqual([...seen((r) => r.base)].sort(), ["all_seats", "cast", "present", "yes_no"]);
  const thresholds = seen((r) => (typeof r.threshold === "string" ? r.threshold : `fraction strict=${r.threshold.fraction.strict}`));
  assert.equal(thresholds.size, 5);
});

for (const p of vectors.percentages) {
  test(`${p.part} of ${p.total} is ${p.vi} / ${p.en}`, () => {
    assert.equal(percentHundredths(p.part, p.total), p.hundredths);
    assert.equal(formatPercent(p.part, p.total, "vi"), p.vi);
    assert.equal(formatPercent(p.part, p.total, "en"), p.en);
  });
}

test("a rule in words", () => {
  const t = (key, vars) => `${key}${vars ? JSON.stringify(vars) : ""}`;
  assert.equal(
    describeRule({ base: "all_seats", threshold: "more_than_half" }, t),
    'rule.more_than{"fraction":"1/2","base":"rule.base.all_seats"}',
  );
  assert.equal(
    describeRule({ base: "cast", threshold: { fraction: { num: 3, den: 5, strict: false } } }, t),
    'rule.at_least{"fraction":"3/5","base":"rule.base.cast"}',
  );
});
