// The list editor's rules, without a browser: when the chair may edit, the
// draft of a list, moving an entry, and the command a save sends.

import { test } from "node:test";
import assert from "node:assert/strict";
import { draftChanged, draftOf, listCommand, listEditable, moveEntry } from "./list.js";

const election = {
  kind: "election",
  posts: 1,
  entries: [
    { name: "Vũ Thị Lan Anh", post: "Trưởng Ban Kinh tế – Ngân sách" },
    { name: "Lương Thị Thanh Huyền", post: "" },
  ],
};
const rating = { kind: "rating", posts: 0, entries: [{ name: "Nguyễn Đức Thắng", post: "Chủ tịch HĐND" }] };

test("a list is edited only before any round on its item, and not after the session's close", () => {
  assert.equal(listEditable({ paper: election }, { status: "pending" }), true);
  assert.equal(listEditable({ paper: election }, undefined), true);
  for (const status of ["voting", "counted", "voided", "provisional"]) {
    assert.equal(listEditable({ paper: election }, { status }), false, status);
  }
  assert.equal(listEditable({ paper: null, vote: {} }, { status: "pending" }), false);
  assert.equal(listEditable(null, null), false);
  // After the session's close nothing changes, a list not voted on included.
  assert.equal(listEditable({ paper: election }, { status: "pending" }, Date.UTC(2026, 11, 18, 4, 35)), false);
  assert.equal(listEditable({ paper: election }, { status: "pending" }, null), true);
});

test("a draft copies the list, and only an election has posts", () => {
  const draft = draftOf(6, election);
  assert.equal(draft.posts, 1);
  draft.entries[0].name = "Khác";
  assert.equal(election.entries[0].name, "Vũ Thị Lan Anh", "the view's list is not touched");
  assert.equal(draftOf(8, rating).posts, null);
  assert.equal(draftChanged(draftOf(8, rating), rating), false);
  assert.equal(draftChanged(draft, election), true);
});

test("an entry moves within the list and not past its ends", () => {
  const entries = ["a", "b", "c"];
  assert.deepEqual(moveEntry(entries, 2, -1), ["a", "c", "b"]);
  assert.deepEqual(moveEntry(entries, 0, 1), ["b", "a", "c"]);
  assert.equal(moveEntry(entries, 0, -1), entries);
  assert.equal(moveEntry(entries, 2, 1), entries);
});

test("save sends set_list with the names and posts as typed, trimmed", () => {
  const draft = draftOf(6, election);
  draft.entries.push({ name: "  Đinh Công Hiếu ", post: " Ủy viên " });
  draft.posts = 2;
  assert.deepEqual(listCommand(draft), {
    action: "set_list",
    item: 6,
    posts: 2,
    entries: [
      { name: "Vũ Thị Lan Anh", post: "Trưởng Ban Kinh tế – Ngân sách" },
      { name: "Lương Thị Thanh Huyền", post: "" },
      { name: "Đinh Công Hiếu", post: "Ủy viên" },
    ],
  });
  assert.equal(listCommand(draftOf(8, rating)).posts, null);
});
