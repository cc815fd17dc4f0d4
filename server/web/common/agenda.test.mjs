// The agenda's grouping under topics. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { agendaByTopic } from "./agenda.js";

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
