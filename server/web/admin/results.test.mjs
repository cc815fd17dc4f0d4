// Where an item's vote stands in the secretariat's results, when its counts
// may be recorded by hand, and which inputs a refusal marks.
// Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { countsOf, countsProblem, fieldsOf, itemStanding, onPaper } from "./results.js";
import { fill } from "../common/i18n.js";
import { WORDS } from "./words.js";

const counts = { total_seats: 40, present: 38, yes: 35, no: 2, abstain: 1 };
const closed = (passed, by_hand = null) => ({ status: "closed", result: { counts, passed }, by_hand });
const item = (rounds, more = {}) => ({ index: 2, ballot: "yes_no", secret: false, rounds, ...more });
const election = {
  kind: "election",
  posts: 1,
  entries: [
    { name: "Nguyễn Văn An", post: "" },
    { name: "Trần Thị Bình", post: "" },
    { name: "Phạm Minh Châu", post: "" },
  ],
};

test("an open yes/no item with no result may be recorded by hand, between rounds only", () => {
  assert.deepEqual(
    { ...itemStanding(item([]), null), last: undefined },
    { status: "pending", last: undefined, result: null, locked: false, recordable: true },
  );
  assert.equal(itemStanding(item([]), 5).recordable, false, "a round is open on another item");
  assert.equal(itemStanding(item([{ status: "voided" }]), null).recordable, true, "a voided round can be voted again");
  assert.equal(itemStanding(item([{ status: "open" }]), 2).status, "voting");
  assert.equal(itemStanding(item([]), null, Date.UTC(2026, 11, 18, 4, 35)).recordable, false, "the session is closed");
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

test("secret items and lists are recorded from the counting board's figures; items not voted on never", () => {
  assert.equal(itemStanding(item([], { secret: true }), null).recordable, true);
  assert.equal(itemStanding(item([], { ballot: "list", paper: election }), null).recordable, true);
  assert.equal(itemStanding(item([], { ballot: null }), null).recordable, false);
  assert.equal(onPaper(item([], { secret: true })), true);
  assert.equal(onPaper(item([])), false);
  const awaiting = itemStanding(item([{ status: "closed", result: null }], { secret: true }), null);
  assert.equal(awaiting.status, "provisional");
});

test("numbers go to the server as numbers, anything else as typed, for it to judge", () => {
  const open = item([]);
  assert.deepEqual(countsOf({ present: " 38", yes: "35", no: "-1", abstain: "", by: "Lê Thị Thu" }, open), {
    by: "Lê Thị Thu",
    present: 38,
    yes: 35,
    no: -1,
    abstain: "",
  });
  const secret = countsOf({ present: "38", issued: "38", returned: "37", invalid: "1", yes: "30", no: "5", abstain: "1", by: "A" }, item([], { secret: true }));
  assert.deepEqual(secret.ballots, { issued: 38, returned: 37, invalid: 1 });
  assert.equal(secret.yes, 30);
  assert.deepEqual(fieldsOf("counts"), ["yes", "no", "abstain"]);
  assert.deepEqual(fieldsOf("present"), ["present"]);
  assert.deepEqual(fieldsOf("ballots.returned"), ["returned"]);
  assert.deepEqual(fieldsOf("marks.1"), ["mark.1"]);
  assert.deepEqual(fieldsOf(undefined), []);
});

test("a list's figures go one row per entry, one column per mark of its kind", () => {
  const values = { present: "40", issued: "40", returned: "39", invalid: "1", "mark.0.0": "24", "mark.1.0": "x", by: "A" };
  const sent = countsOf(values, item([], { ballot: "list", secret: true, paper: election }));
  assert.deepEqual(sent.marks, [[24], ["x"], [""]]);
  assert.equal(sent.yes, undefined, "a list sends no yes, no and abstain");
  const rating = { kind: "rating", posts: 0, entries: [{ name: "A", post: "" }] };
  assert.deepEqual(countsOf({ "mark.0.2": "7" }, item([], { ballot: "list", paper: rating })).marks, [["", "", 7]]);
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

test("a refusal of the board's figures names the figure and the entry, in the secretariat's language", () => {
  const t = (lang) => (key, vars) => fill(WORDS[lang][key], lang, vars);
  const sent = { present: 40, ballots: { issued: 40, returned: 39, invalid: 1 }, marks: [[24], [39], [0]], by: "A" };
  const list = item([], { ballot: "list", paper: election });
  assert.equal(countsProblem(t("vi"), "marks.1", sent, 40, list), "Trần Thị Bình: 39 phiếu, nhiều hơn 38 phiếu hợp lệ");
  assert.equal(countsProblem(t("en"), "marks.1", sent, 40, list), "Trần Thị Bình: 39 marks, more than the 38 valid papers");
  assert.equal(countsProblem(t("en"), "marks", sent, 40, list), "63 approvals in all, more than 38 valid papers × 1 to be elected");
  const over = { ...sent, ballots: { issued: 40, returned: 41, invalid: 0 } };
  assert.equal(countsProblem(t("vi"), "ballots.returned", over, 40, list), "41 phiếu thu vào, nhiều hơn 40 phiếu phát ra");
  assert.equal(countsProblem(t("en"), "ballots.issued", { ...sent, present: 30 }, 40, list), "40 papers issued, more than the 30 delegates present");
  assert.match(countsProblem(t("vi"), "ballots", sent, 40, list), /biên bản kiểm phiếu/);
  const secret = { present: 38, ballots: { issued: 38, returned: 37, invalid: 2 }, yes: 30, no: 5, abstain: 1, by: "A" };
  assert.equal(countsProblem(t("en"), "counts", secret, 40), "36 votes (30 + 5 + 1), more than the 35 valid papers");
});
