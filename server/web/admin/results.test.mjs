// Where an item's vote stands in the secretariat's results, when its counts
// may be recorded by hand, and which inputs a refusal marks.
// Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { countsOf, countsProblem, fieldsOf, itemStanding } from "./results.js";
import { fill } from "../common/i18n.js";
import { WORDS } from "./words.js";

const counts = { total_seats: 40, present: 38, yes: 35, no: 2, abstain: 1 };
const closed = (passed, by_hand = null) => ({ status: "closed", result: { counts, passed }, by_hand });
const item = (rounds, more = {}) => ({ index: 2, ballot: "yes_no", secret: false, rounds, ...more });

test("an open yes/no item with no result may be recorded by hand, between rounds only", () => {
  assert.deepEqual(
    { ...itemStanding(item([]), null), last: undefined },
    { status: "pending", last: undefined, result: null, locked: false, recordable: true },
  );
  assert.equal(itemStanding(item([]), 5).recordable, false, "a round is open on another item");
  assert.equal(itemStanding(item([{ status: "voided" }]), null).recordable, true, "a voided round can be voted again");
  assert.equal(itemStanding(item([{ status: "open" }]), 2).status, "voting");
});

test("a closed round locks the item: its result stands", () => {
  const passed = itemStanding(item([{ status: "voided" }, closed(true)]), null);
  assert.equal(passed.status, "passed");
  assert.equal(passed.locked, true);
  assert.equal(passed.recordable, false);
  const byHand = itemStanding(item([closed(false, { by: "Lê Thị Thu", at: 1 })]), null);
  assert.equal(byHand.status, "not_passed");
  assert.equal(byHand.last.by_hand.by, "Lê Thị Thu");
});

test("secret items, lists and items not voted on are never recorded by hand", () => {
  assert.equal(itemStanding(item([], { secret: true }), null).recordable, false);
  assert.equal(itemStanding(item([], { ballot: "list" }), null).recordable, false);
  assert.equal(itemStanding(item([], { ballot: null }), null).recordable, false);
  const awaiting = itemStanding(item([{ status: "closed", result: null }], { secret: true }), null);
  assert.equal(awaiting.status, "provisional");
});

test("numbers go to the server as numbers, anything else as typed, for it to judge", () => {
  assert.deepEqual(countsOf({ present: " 38", yes: "35", no: "-1", abstain: "", by: "Lê Thị Thu" }), {
    by: "Lê Thị Thu",
    present: 38,
    yes: 35,
    no: -1,
    abstain: "",
  });
  assert.deepEqual(fieldsOf("counts"), ["yes", "no", "abstain"]);
  assert.deepEqual(fieldsOf("present"), ["present"]);
  assert.deepEqual(fieldsOf(undefined), []);
});

test("a refusal of the counts is said in the secretariat's language, from the numbers sent", () => {
  const t = (lang) => (key, vars) => fill(WORDS[lang][key], lang, vars);
  const sent = { present: 38, yes: 30, no: 6, abstain: 3, by: "Lê Thị Thu" };
  assert.equal(countsProblem(t("vi"), "counts", sent, 40), "39 phiếu (30 + 6 + 3), nhiều hơn 38 đại biểu có mặt");
  assert.equal(countsProblem(t("en"), "counts", sent, 40), "39 votes (30 + 6 + 3), more than the 38 present");
  assert.equal(countsProblem(t("en"), "present", { ...sent, present: 41 }, 40), "those present must be between 1 and the 40 seats");
  assert.equal(countsProblem(t("vi"), "no", { ...sent, no: -1 }, 40), "“-1” không phải là số phiếu: cần một số nguyên, từ 0 trở lên");
  assert.equal(countsProblem(t("en"), "present", { ...sent, present: "" }, 40), "“—” is not a count: a whole number, 0 or more");
  assert.match(countsProblem(t("vi"), "by", sent, 40), /họ tên người ghi nhận/);
});
