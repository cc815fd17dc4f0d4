// The agenda's grouping under topics, and what an open round is about. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { agendaByTopic, versionsText } from "./agenda.js";
import { COMMON, fill } from "./i18n.js";

test("the agenda is grouped by consecutive topics", () => {
  const agenda = [
    { index: 0, topic: "Khai mạc" },
    { index: 1, topic: "Báo cáo" },
    { index: 2, topic: "Báo cáo" },
    { index: 3, topic: "Khai mạc" },
  ];
  const groups = agendaByTopic(agenda);
  assert.deepEqual(
    groups.map((g) => [g.topic, g.items.map((i) => i.index)]),
    [["Khai mạc", [0]], ["Báo cáo", [1, 2]], ["Khai mạc", [3]]],
  );
  assert.deepEqual(agendaByTopic([]), []);
});

test("a round's versions are named by title and version, a replaced one by its hash", () => {
  const translator = (lang) => (key, vars) => fill(COMMON[lang][key], lang, vars);
  const item = {
    documents: [
      { sha256: "a".repeat(64), title: "Tờ trình", version: 2 },
      { sha256: "b".repeat(64), title: "Dự thảo", version: 1 },
    ],
  };
  const versions = { sha256: ["a".repeat(64), "c".repeat(64), "b".repeat(64)] };
  assert.equal(versionsText(translator("vi"), versions, item), `Biểu quyết về: Tờ trình (bản 2); ${"c".repeat(12)}; Dự thảo (bản 1)`);
  assert.equal(versionsText(translator("en"), versions, item), `Voting on: Tờ trình (version 2); ${"c".repeat(12)}; Dự thảo (version 1)`);
  assert.equal(versionsText(translator("en"), { sha256: [] }, item), "");
  assert.equal(versionsText(translator("en"), null, item), "");
});
