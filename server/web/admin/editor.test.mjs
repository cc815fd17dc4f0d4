// The editor's pure parts: the roster as pasted lines, and where a refused
// field is, in the app's words. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { blankForm, fieldPlace, rosterText, seatsFrom } from "./editor.js";

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
