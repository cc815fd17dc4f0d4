// The agenda column and the history of results, drawn from the meeting's
// agenda and the snapshot's item states.

import { formatPercent, CHOICES, takingPart } from "../common/protocol.js";
import { el, setAttr, setText } from "./dom.js";
import { inSentence, roman } from "./tally.js";

/** Consecutive agenda items that share a topic, in agenda order. */
function byTopic(agenda) {
  const topics = [];
  for (const item of agenda) {
    const last = topics.at(-1);
    if (last && last.title === item.topic) last.items.push(item);
    else topics.push({ title: item.topic, items: [item] });
  }
  return topics;
}

function pillFor(t, item, state) {
  if (!item.vote && state.status === "pending") return ["status-novote", t("agenda.noVote")];
  return [`status-${state.status}`, t(`status.${state.status}`)];
}

function summary(t, result, labels, lang) {
  const c = result.counts;
  return t("agenda.summary", {
    yes: c.yes,
    yesLabel: inSentence(labels.yes, lang),
    yesPct: formatPercent(c.yes, c.total_seats, lang),
    tp: takingPart(c),
    total: c.total_seats,
  });
}

function agendaItem(t, item) {
  return el(
    "li",
    {},
    el(
      "button",
      { type: "button", class: "agenda-item", "data-testid": `agenda-item-${item.index}`, dataset: { index: item.index } },
      el("span", { class: "ai-no" }, String(item.index + 1)),
      el(
        "span",
        { class: "ai-main" },
        el("span", { class: "ai-top" }, el("span", { class: "ai-kind" }, t(`kind.${item.kind}`)), el("span", { class: "status-pill" })),
        el("span", { class: "ai-title" }, item.title),
        el("span", { class: "ai-summary" }),
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
    ...byTopic(meeting.agenda).map((topic, i) =>
      el(
        "li",
        { class: "topic" },
        el("h3", { class: "topic-title" }, el("span", { class: "topic-no" }, `${roman(i + 1)}.`), el("span", {}, topic.title)),
        el("ol", { class: "topic-items" }, topic.items.map((item) => agendaItem(t, item))),
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
    setText(line, state.result ? summary(t, state.result, meeting.labels, lang) : "");
    line.hidden = !state.result;
  }
}

function countCell(choice, n, total, lang, label) {
  return el(
    "span",
    { class: `count choice-${choice}`, title: label },
    el("i", { class: "dot", "aria-hidden": "true" }),
    el("b", {}, String(n)),
    ` (${formatPercent(n, total, lang)})`,
  );
}

function historyRow({ t, lang, meeting }, item, state) {
  const c = state.result?.counts;
  return el(
    "tr",
    { dataset: { status: state.status } },
    el("td", { class: "h-no" }, String(item.index + 1)),
    el(
      "td",
      { class: "h-main" },
      el("span", { class: "h-title", title: item.title }, item.title),
      c
        ? el("span", { class: "h-counts" }, CHOICES.map((ch) => countCell(ch, c[ch], c.total_seats, lang, meeting.labels[ch])))
        : null,
    ),
    el("td", { class: "h-status" }, el("span", { class: `status-pill status-${state.status}` }, t(`status.${state.status}`))),
  );
}

/** The decided (and voided) items so far, in agenda order. */
export function renderHistory(tbody, empty, view) {
  const decided = view.meeting.agenda
    .map((item) => [item, view.snapshot.items[item.index]])
    .filter(([, state]) => ["passed", "not_passed", "voided"].includes(state.status));
  empty.hidden = decided.length > 0;
  tbody.replaceChildren(...decided.map(([item, state]) => historyRow(view, item, state)));
}
