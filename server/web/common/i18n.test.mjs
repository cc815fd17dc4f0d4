// Words that follow a number take its plural form in English, and the
// result sentence reads as the minutes print it.
// Run: node --test server/web/common/
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMON, fill } from "./i18n.js";
import { officialSentence } from "./protocol.js";
import { WORDS as TABLET } from "../tablet/words.js";

const translator = (lang) => (key, vars) => fill(COMMON[lang][key], lang, vars);
const counts = (yes, no, abstain, total_seats = 40) => ({ total_seats, present: yes + no + abstain, yes, no, abstain });

test("one delegate, two delegates; one form in Vietnamese", () => {
  const taking = (n) => fill(TABLET.en["result.taking_part"], "en", { n, pct: "x" });
  assert.equal(taking(1), "1 delegate took part (x of all seats)");
  assert.equal(taking(0), "0 delegates took part (x of all seats)");
  assert.equal(taking(2), "2 delegates took part (x of all seats)");
  assert.equal(fill(TABLET.vi["result.taking_part"], "vi", { n: 1, pct: "x" }).startsWith("1 đại biểu"), true);
});

test("the official sentence gives every percentage of the total seats", () => {
  const labels = { yes: "Tán thành", no: "Không tán thành", abstain: "Không biểu quyết" };
  assert.equal(
    officialSentence(translator("vi"), counts(35, 2, 1), labels, "vi"),
    "38 đại biểu tham gia biểu quyết (95,00% tổng số đại biểu); 35 tán thành (87,50%), 2 không tán thành (5,00%), 1 không biểu quyết (2,50%).",
  );
  assert.equal(
    officialSentence(translator("en"), counts(0, 1, 0), { yes: "Yes", no: "No", abstain: "Abstain" }, "en"),
    "1 delegate took part in the vote (2.50% of all seats); 0 yes (0.00%), 1 no (2.50%), 0 abstain (0.00%).",
  );
});

test("a council's label keeps its capitals after the first letter", () => {
  const labels = { yes: "Đồng ý với Tờ trình của UBND", no: "Không đồng ý", abstain: "Không biểu quyết" };
  assert.match(officialSentence(translator("vi"), counts(3, 0, 0, 3), labels, "vi"), /; 3 đồng ý với Tờ trình của UBND \(100,00%\)/);
});

test("a placeholder instead of a number takes the general form", () => {
  // The hall screen fills some sentences with elements: it passes "{n}" marks.
  assert.equal(fill({ count: "n", one: "{n} one", other: "{n} other" }, "en", { n: "{n}" }), "{n} other");
  assert.equal(fill("plain {a}", "en", { a: 1 }), "plain 1");
});

test("a result recorded by hand is marked with who entered it and when, in both languages", async () => {
  const { byHandLine, byHandOf } = await import("./protocol.js");
  const byHand = { by: "Lê Thị Thu", device: "ab".repeat(32), at: Date.UTC(2026, 11, 18, 3, 15) };
  const vi = byHandLine(translator("vi"), byHand, "vi");
  assert.match(vi, /^Kiểm đếm thủ công — Lê Thị Thu ghi nhận lúc \d{2}:\d{2}$/);
  assert.match(byHandLine(translator("en"), byHand, "en"), /^Recorded by hand — entered by Lê Thị Thu at /);
  // The round's mark while it is the item's, else the item's stored one.
  const snapshot = { round: { item: 2, by_hand: byHand }, items: [{ by_hand: null }, { by_hand: { ...byHand, by: "B" } }, {}] };
  assert.equal(byHandOf(snapshot, 2), byHand);
  assert.equal(byHandOf(snapshot, 1).by, "B");
  assert.equal(byHandOf(snapshot, 0), null);
  assert.equal(byHandOf({ round: { item: 0, by_hand: null }, items: [{ by_hand: byHand }] }, 0), null);
  assert.equal(byHandOf(null, 0), null);
});

test("papers the counting board counted by hand say so, with its figures, in both languages", async () => {
  const { byHandLine, paperSentences } = await import("./protocol.js");
  const byHand = { by: "Lê Thị Thu", device: "ab".repeat(32), at: Date.UTC(2026, 11, 18, 3, 15), ballots: { issued: 40, returned: 39, invalid: 1 } };
  assert.match(byHandLine(translator("vi"), byHand, "vi"), /^Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm; Lê Thị Thu ghi nhận lúc /);
  assert.match(byHandLine(translator("en"), byHand, "en"), /^Counted by hand — paper ballots counted by the counting board; entered by Lê Thị Thu at /);
  const turnout = { total_seats: 40, present: 40, papers: 38 };
  const result = { kind: "election", turnout, posts: 1, approvals: [24, 14], elected: [0], tie: null };
  const list = { kind: "election", posts: 1, entries: [{ name: "An", post: "" }, { name: "Bình", post: "" }] };
  assert.deepEqual(paperSentences(translator("en"), result, list, "en", byHand).slice(0, 3), [
    "Ballot papers returned: 39 (97.50% of all seats)",
    "Valid ballot papers: 38; invalid: 1",
    "Elected: An",
  ]);
  // Counted on the devices, the papers returned are the result's.
  assert.match(paperSentences(translator("vi"), result, list, "vi")[0], /^Số phiếu thu vào: 38 /);
});

test("the session's close is said with its time and date, in both languages", async () => {
  const { closedLine } = await import("./protocol.js");
  const at = Date.UTC(2026, 11, 18, 4, 35);
  assert.equal(closedLine(translator("vi"), null, "vi"), null);
  assert.match(closedLine(translator("vi"), at, "vi"), /^Kỳ họp đã bế mạc lúc \d{2}:\d{2} ngày \d{2}\/\d{2}\/2026$/);
  assert.match(closedLine(translator("en"), at, "en"), /^The session closed at \d{2}:\d{2} on \d{2}\/\d{2}\/2026$/);
});
