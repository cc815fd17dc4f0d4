// The editor's pure parts: the roster as pasted lines, where a refused
// field is, in the app's words, and what an edit may do to the agenda. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { agendaLimits, blankForm, fieldPlace, problemText, rosterText, seatsFrom } from "./editor.js";

const WORDS = { "editor.topicTitle": "Topic {n}", "editor.itemN": "Item {n}", "editor.seatN": "Seat {n}" };
const t = (key, vars = {}) => (WORDS[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name]));

test("pasted roster lines become seats 1..N with their groups and titles, and back", () => {
  const seats = seatsFrom("Nguyễn Văn An\tTổ 1\tChủ tịch\n\n  Trần Thị Bình  \nLê Văn Cường\t Tổ 2 \n");
  assert.deepEqual(seats, [
    { number: 1, name: "Nguyễn Văn An", group: "Tổ 1", title: "Chủ tịch" },
    { number: 2, name: "Trần Thị Bình", group: "", title: "" },
    { number: 3, name: "Lê Văn Cường", group: "Tổ 2", title: "" },
  ]);
  assert.deepEqual(seatsFrom(rosterText(seats)), seats);
});

test("a refused field is named by its topic, item or seat", () => {
  assert.equal(fieldPlace("topics[1].items[0].title", null, t), "Topic 2 › Item 1");
  assert.equal(fieldPlace("seats[4].name", null, t), "Seat 5");
  assert.equal(fieldPlace("labels.yes", null, t), "labels.yes");
});

test("a meeting from nothing has one topic with one voted item", () => {
  const form = blankForm();
  assert.equal(form.topics.length, 1);
  assert.equal(form.topics[0].items[0].vote.rule.threshold, "more_than_half");
  assert.notEqual(blankForm().topics, form.topics, "each blank form is its own");
});

test("a roster problem is worded from its reason and values, or kept as the server says it", async () => {
  const { WORDS: APP } = await import("./words.js");
  const vi = (key, vars = {}) => (APP.vi[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name]));
  const twice = { row: 4, column: "A", reason: "seat_twice", seat: 2, first_row: 3, message: "seat 2 is listed twice (first on row 3)" };
  assert.equal(problemText(twice, vi), "Ghế 2 được ghi hai lần (lần đầu ở dòng 3)");
  const missing = { row: 0, column: null, reason: "seats_without_row", count: 12, total: 40, seats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], message: "…" };
  assert.equal(problemText(missing, vi), "12/40 ghế không có dòng nào: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 và 2 ghế khác");
  const column = { row: 1, column: null, reason: "no_column", missing: "name", message: "no name (họ và tên) column in the header row" };
  assert.equal(problemText(column, vi), "Dòng tiêu đề không có cột họ và tên");
  const unknown = { row: 2, column: "B", reason: "something_new", message: "as the server says" };
  assert.equal(problemText(unknown, vi), "as the server says");
});

test("an edit keeps a voted item where it is: nothing before it is removed, new items come after it", () => {
  const topics = [{ items: [{}, {}] }, { items: [{}, {}] }, { items: [{}] }];
  const free = agendaLimits(topics);
  assert.ok(free.every((topic) => topic.removable && topic.extendable && topic.items.every((item) => item.removable && item.why === null)));

  // Item 2 (the first of topic 2) was voted on.
  const limits = agendaLimits(topics, new Map([[2, "item_voted"]]));
  assert.deepEqual(
    limits.map((topic) => topic.items.map((item) => [item.index, item.why, item.removable])),
    [[[0, null, false], [1, null, false]], [[2, "item_voted", false], [3, null, true]], [[4, null, true]]],
  );
  assert.deepEqual(limits.map((topic) => [topic.removable, topic.extendable]), [[false, false], [false, true], [true, true]]);
});
