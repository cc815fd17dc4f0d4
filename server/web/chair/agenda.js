// The agenda column and the history of results, drawn from the meeting's
// agenda and the snapshot's item states.

import { CHOICES, isPaperResult, labelInSentence, paperSentences } from "../common/protocol.js";
import { formatPercent, takingPart } from "../common/rules.js";
import { h, setAttr, setText } from "../common/dom.js";
import { agendaByTopic } from "../common/agenda.js";
import { roman } from "./roman.js";

function pillFor(t, item, state) {
  if (!item.vote && state.status === "pending") return ["status-novote", t("agenda.noVote")];
  return [`status-${state.status}`, t(`status.${state.status}`)];
}

/** One line under an agenda item: the yes votes of a tally, or what a paper on a list came to. */
function summary(t, item, result, labels, lang) {
  if (isPaperResult(result)) return paperSentences(t, result, item.paper, lang).slice(1).join(" · ");
  const c = result.counts;
  return t("agenda.summary", {
    yes: c.yes,
    yesLabel: labelInSentence(labels.yes, lang),
    yesPct: formatPercent(c.yes, c.total_seats, lang),
    tp: takingPart(c),
    total: c.total_seats,
  });
}

function agendaItem(t, item) {
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "agenda-item", "data-testid": `agenda-item-${item.index}`, dataset: { index: item.index } },
      h("span", { class: "ai-no" }, String(item.index + 1)),
      h(
        "span",
        { class: "ai-main" },
        h("span", { class: "ai-top" }, h("span", { class: "ai-kind" }, t(`kind.${item.kind}`)), h("span", { class: "status-pill" })),
        h("span", { class: "ai-title" }, item.title),
        h("span", { class: "ai-summary" }),
      ),
    ),
  );
}

/**
 * Draws the agenda's items grouped by topic, once per meeting and language;
 * `updateAgenda` then only changes states, so a click is never lost to a
 * redraw.
 */
export function buildAgenda(list, { t, meeting }) {
  list.replaceChildren(
    ...agendaByTopic(meeting.agenda).map((topic, i) =>
      h(
        "li",
        { class: "topic" },
        h("h3", { class: "topic-title" }, h("span", { class: "topic-no" }, `${roman(i + 1)}.`), h("span", {}, topic.topic)),
        h("ol", { class: "topic-items" }, topic.items.map((item) => agendaItem(t, item))),
      ),
    ),
  );
}

/** Each item's state, result summary and whether it is the current one. */
export function updateAgenda(list, { t, lang, meeting, snapshot }) {
  for (const button of list.querySelectorAll(".agenda-item")) {
    const index = Number(button.dataset.index);
    const item = meeting.agenda[index];
    const state = snapshot.items[index];
    const current = snapshot.current_item === index;
    setAttr(button, "data-status", state.status);
    button.classList.toggle("current", current);
    setAttr(button, "aria-current", current ? "step" : null);
    const pill = button.querySelector(".status-pill");
    const [pillClass, pillText] = pillFor(t, item, state);
    setAttr(pill, "class", `status-pill ${pillClass}`);
    setText(pill, pillText);
    const line = button.querySelector(".ai-summary");
    setText(line, state.result ? summary(t, item, state.result, meeting.labels, lang) : "");
    line.hidden = !state.result;
  }
}

function countCell(choice, n, total, lang, label) {
  return h(
    "span",
    { class: `count choice-${choice}`, title: label },
    h("i", { class: "dot", "aria-hidden": "true" }),
    h("b", {}, String(n)),
    ` (${formatPercent(n, total, lang)})`,
  );
}

function historyRow({ t, lang, meeting }, item, state) {
  const c = state.result?.counts;
  return h(
    "tr",
    { dataset: { status: state.status } },
    h("td", { class: "h-no" }, String(item.index + 1)),
    h(
      "td",
      { class: "h-main" },
      h("span", { class: "h-title", title: item.title }, item.title),
      c
        ? h("span", { class: "h-counts" }, CHOICES.map((ch) => countCell(ch, c[ch], c.total_seats, lang, meeting.labels[ch])))
        : null,
    ),
    h("td", { class: "h-status" }, h("span", { class: `status-pill status-${state.status}` }, t(`status.${state.status}`))),
  );
}

/** The decided (and voided) items so far, in agenda order. */
export function renderHistory(tbody, empty, view) {
  const decided = view.meeting.agenda
    .map((item) => [item, view.snapshot.items[item.index]])
    .filter(([, state]) => ["passed", "not_passed", "counted", "voided"].includes(state.status));
  empty.hidden = decided.length > 0;
  tbody.replaceChildren(...decided.map(([item, state]) => historyRow(view, item, state)));
}
