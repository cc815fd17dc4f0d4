// The official table of a result on a list, for every app that shows one:
// per candidate or official its name and post, each mark's count with its
// share of all seats, and what the row came to (elected, tied; low
// confidence from more than half or two thirds of all seats; no
// confidence reached). Names come from the meeting file and are set as
// text. The rows are `paperRows` (protocol.js), so every screen reads the
// same numbers the same way.

import { paperRows } from "./protocol.js";
import { h } from "./dom.js";

/**
 * The table of `result` (the item's list is `list`) in the app's language:
 * all rows, or those in `[from, to)` when a screen splits the list into
 * columns. `testid` names the table for the browser tests; each row
 * carries its entry (`data-entry`, 0-based) and outcome (`data-outcome`).
 */
export function paperTable(t, result, list, lang, { from = 0, to = Infinity, testid = "paper-table" } = {}) {
  const { marks, rows } = paperRows(result, list, lang);
  const head = h(
    "tr",
    {},
    h("th", { class: "paper-no" }, t("paper.col.number")),
    h("th", { class: "paper-name" }, t("paper.col.name")),
    marks.map((m) => h("th", { class: "num" }, t(`paper.mark.${result.kind}.${m}`))),
    h("th", { class: "paper-outcome" }, t("paper.col.outcome")),
  );
  const body = rows.slice(from, to).map((row, k) => {
    const entry = from + k;
    return h(
      "tr",
      { dataset: { entry: String(entry), outcome: row.outcome ?? "" } },
      h("td", { class: "paper-no" }, String(entry + 1)),
      h("td", { class: "paper-name" }, h("span", { class: "paper-who" }, row.name), row.post ? h("span", { class: "paper-post" }, row.post) : null),
      row.cells.map((c) => h("td", { class: "num" }, h("span", { class: "paper-count" }, String(c.n)), " ", h("span", { class: "paper-pct" }, `(${c.pct})`))),
      h("td", { class: "paper-outcome" }, row.outcome ? h("span", { class: `paper-flag flag-${row.outcome}` }, t(`paper.outcome.${row.outcome}`)) : null),
    );
  });
  return h("table", { class: `paper-table paper-${result.kind}`, "data-testid": testid }, h("thead", {}, head), h("tbody", {}, body));
}
