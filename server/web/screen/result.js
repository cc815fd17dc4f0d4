// A closed round in the official form (percentages of the total seats) and
// the pass/fail banner with the rule that decided it.

import { CHOICES, byHandLine, isPaperResult, labelInSentence, officialSentence, paperRows, paperSentences } from "../common/protocol.js";
import { paperTable } from "../common/papers.js";
import { describeRule, formatPercent, takingPart } from "../common/rules.js";
import { h, sentence } from "../common/dom.js";
import { barRow, choiceRows } from "./bars.js";

/** The full-width decision: THÔNG QUA / KHÔNG THÔNG QUA, the rule and the yes votes it needed. */
function banner(ctx, result) {
  const { t, meeting } = ctx;
  const passed = result.passed;
  const num = (n) => h("span", { class: "num" }, n);
  return h(
    "div",
    {
      class: `result-banner ${passed ? "banner-passed" : "banner-not-passed"}`,
      "data-testid": "result-banner",
      dataset: { passed: String(passed) },
    },
    h("div", { class: "banner-word" }, t(passed ? "status.passed" : "status.not_passed")),
    h(
      "div",
      { class: "banner-rule" },
      h("span", { class: "rule-label" }, t("result.rule")),
      h("div", { "data-testid": "result-rule" }, describeRule(result.rule, t)),
      h(
        "div",
        { class: "banner-needed" },
        sentence(t, "result.needed", {
          needed: num(result.yes_needed),
          yes: labelInSentence(meeting.labels.yes, ctx.lang),
          yes_count: num(result.counts.yes),
        }),
      ),
    ),
  );
}

/** The table: total seats, taking part, each choice, not taking part; each with its share of the total. */
function table(ctx, result) {
  const { t, meeting, lang } = ctx;
  const { counts, yes_needed: needed } = result;
  const total = counts.total_seats;
  const taking = takingPart(counts);
  const totalRow = h(
    "div",
    { class: "bar-row tone-total" },
    h("span", { class: "bar-label" }, t("result.total")),
    h("div", { class: "bar-track-empty" }),
    h("span", { class: "bar-count", "data-testid": "total-seats" }, total),
    h("span", { class: "bar-percent" }),
  );
  const takingRow = barRow({ label: t("result.taking_part"), tone: "taking", countId: "taking-part" });
  const choiceLines = choiceRows(meeting.labels);
  const absentRow = barRow({ label: t("result.not_voting"), tone: "away" });
  takingRow.set(taking, total, lang);
  choiceLines.forEach((row, i) => row.set(counts[CHOICES[i]], total, lang, i === 0 ? needed : null));
  absentRow.set(total - taking, total, lang);
  return h("div", { class: "bars result-table" }, totalRow, takingRow.el, choiceLines.map((r) => r.el), absentRow.el);
}

/**
 * Up to this many candidates or officials are read in one column; a longer
 * list (a year-end rating has some 30) is split into two side by side, so
 * the whole result stays on the screen at once: the hall reads it at its
 * own pace, a photograph of the screen holds all of it, and no row is
 * hidden while the chair reads it out, as it would be on a timed page.
 */
const ONE_COLUMN = 12;

/**
 * A closed round on a list: that it was counted, what it came to (the
 * papers returned, who was elected or how many officials are flagged) and
 * the official table, each count with its share of all seats.
 */
function paperView(ctx, scene) {
  const { t, lang } = ctx;
  const { result } = scene;
  const list = scene.item?.paper;
  const sentences = paperSentences(t, result, list, lang, scene.byHand);
  const entries = paperRows(result, list, lang).rows.length;
  const columns = entries > ONE_COLUMN ? 2 : 1;
  const perColumn = Math.ceil(entries / columns);
  const tables = Array.from({ length: columns }, (_, c) =>
    paperTable(t, result, list, lang, { from: c * perColumn, to: (c + 1) * perColumn, testid: "screen-paper-table" }),
  );
  const columnsEl = h("div", { class: "paper-columns", dataset: { columns: String(columns) } }, tables);
  // The rows share the height left: fewer rows are read larger (through the CSSOM; no inline styles).
  columnsEl.style.setProperty("--rows", String(Math.max(perColumn, 5)));
  return h(
    "div",
    { class: "result paper-view" },
    h(
      "div",
      { class: "result-banner banner-counted", "data-testid": "result-banner" },
      h("div", { class: "banner-word" }, t("status.counted")),
      h("div", { class: "banner-rule paper-summary", "data-testid": "screen-paper-summary" }, sentences.map((text) => h("p", {}, text))),
    ),
    h(
      "div",
      { class: "result-body paper-body", "data-testid": "screen-paper-result" },
      columnsEl,
      h("p", { class: "paper-note" }, t("paper.of_all", { total: result.turnout.total_seats })),
      scene.byHand ? h("p", { class: "by-hand", "data-testid": "by-hand" }, byHandLine(t, scene.byHand, lang)) : null,
    ),
  );
}

/**
 * A secret result the counting board is confirming: the ballots returned
 * and the board's progress, never a count, until the chair announces it.
 */
export function provisionalView(ctx, scene) {
  const { t, meeting, lang } = ctx;
  const total = meeting.total_seats;
  const board = scene.board;
  const lines = board
    ? [
        h("p", { "data-testid": "provisional-turnout" }, t("provisional.turnout", { n: board.ballots, total, pct: formatPercent(board.ballots, total, lang) })),
        h("p", { "data-testid": "provisional-board" }, t("provisional.board", { n: board.confirmed.length, required: board.required })),
      ]
    : [];
  const el = h(
    "div",
    { class: "result", "data-testid": "provisional" },
    h("div", { class: "result-banner banner-provisional", "data-testid": "result-banner" }, h("div", { class: "banner-word" }, t("status.provisional"))),
    h("div", { class: "result-body paper-sentences" }, lines),
  );
  return { el };
}

export function resultView(ctx, scene) {
  const { t, meeting, lang } = ctx;
  const { result } = scene;
  if (isPaperResult(result)) return { el: paperView(ctx, scene) };
  const el = h(
    "div",
    { class: "result" },
    banner(ctx, result),
    h(
      "div",
      { class: "result-body" },
      table(ctx, result),
      h("p", { class: "official" }, officialSentence(t, result.counts, meeting.labels, lang)),
      scene.byHand ? h("p", { class: "by-hand", "data-testid": "by-hand" }, byHandLine(t, scene.byHand, lang)) : null,
    ),
  );
  return { el };
}
