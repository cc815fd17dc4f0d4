// Horizontal bars, one per line of a tally. Every bar is measured against
// the TOTAL seats, like every percentage, so the bars of one screen compare
// directly and the pass mark sits at the same place on each.

import { formatPercent } from "../common/rules.js";
import { h, setText } from "../common/dom.js";

/**
 * A bar row: label, bar, count, percentage. `countId` and `percentId` are
 * the testids of the numbers (`count-yes`, `percent-yes`), when they have one.
 */
export function barRow({ label, tone, countId = null, percentId = null }) {
  const fill = h("div", { class: "bar-fill" });
  const mark = h("div", { class: "bar-mark", hidden: "" });
  const count = h("span", { class: "bar-count", "data-testid": countId });
  const percent = h("span", { class: "bar-percent", "data-testid": percentId });
  const el = h(
    "div",
    { class: `bar-row tone-${tone}` },
    h("span", { class: "bar-label" }, label),
    h("div", { class: "bar-track" }, fill, mark),
    count,
    percent,
  );
  return {
    el,
    /** Shows `part` of `total`; `mark`, when given, is a count to draw a pass line at. */
    set(part, total, lang, markAt = null) {
      setText(count, String(part));
      setText(percent, formatPercent(part, total, lang));
      const share = (n) => `${total ? Math.min(100, (100 * n) / total) : 0}%`;
      // Set on the next frame so that a freshly built bar grows from zero.
      requestAnimationFrame(() => {
        fill.style.width = share(part);
      });
      mark.hidden = markAt == null;
      if (markAt != null) {
        mark.style.left = share(markAt);
        mark.dataset.label = String(markAt);
      }
    },
  };
}

/** The three choice rows, labelled with the meeting's own words. */
export function choiceRows(labels) {
  return ["yes", "no", "abstain"].map((choice) =>
    barRow({ label: labels[choice], tone: choice, countId: `count-${choice}`, percentId: `percent-${choice}` }),
  );
}
