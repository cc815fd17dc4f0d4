// The secretariat's view of a session under way or finished: every agenda
// item with where its vote stands and its result in the official wording,
// a form to record the counts of a show of hands or a paper vote when the
// devices failed, and the record, minutes and results table to download.

import { byHandLine, isPaperResult, officialSentence } from "../common/protocol.js";
import { h } from "../common/dom.js";

/**
 * Where an item's vote stands, from its rounds (oldest first) and the item
 * whose round is open on the devices: its status as the screens name it, its
 * last round, whether its counts may be recorded by hand now (a yes/no item
 * voted in the open, no round open, its last round not closed) and whether
 * it is locked (its last round closed: the result stands, the server refuses
 * any other).
 */
export function itemStanding(item, openItem) {
  const last = item.rounds.at(-1) ?? null;
  const result = last?.status === "closed" ? last.result : null;
  let status = "pending";
  if (last?.status === "open") status = "voting";
  else if (last?.status === "voided") status = "voided";
  else if (last?.status === "closed") {
    status = !result ? "provisional" : isPaperResult(result) ? "counted" : result.passed ? "passed" : "not_passed";
  }
  const locked = last?.status === "closed";
  const recordable = item.ballot === "yes_no" && !item.secret && openItem == null && !locked;
  return { status, last, result, locked, recordable };
}

const FIELDS = ["present", "yes", "no", "abstain"];

/** The counts typed into the form, as numbers where they are numbers (the server judges them). */
export function countsOf(values) {
  const counts = { by: values.by ?? "" };
  for (const field of FIELDS) {
    const text = String(values[field] ?? "").trim();
    counts[field] = /^-?\d+$/.test(text) ? Number(text) : text;
  }
  return counts;
}

/**
 * Why the server refused the `counts` sent (`invalid_counts`), in the app's
 * words: the server's message names the field in English, the app says it
 * in the secretariat's language from the numbers it sent.
 */
export function countsProblem(t, field, counts, totalSeats) {
  const value = counts[field];
  const whole = Number.isInteger(value) && value >= 0;
  if (field === "by") return t("hand.problem.by");
  if (field === "counts") {
    const sum = counts.yes + counts.no + counts.abstain;
    return t("hand.problem.counts", { sum, yes: counts.yes, no: counts.no, abstain: counts.abstain, present: counts.present });
  }
  if (field === "present" && whole) return t("hand.problem.present", { total: totalSeats });
  return t("hand.problem.number", { value: value === "" ? "—" : String(value) });
}

/** Which inputs a refusal's `field` names: `counts` is the three choices together. */
export function fieldsOf(field) {
  if (field === "counts") return ["yes", "no", "abstain"];
  return field ? [field] : [];
}

function statusTag(t, status) {
  const word = status === "provisional" ? t("results.provisional") : t(`status.${status}`);
  return h("span", { class: `status status-${status}`, "data-testid": "item-status" }, word);
}

function resultLines(t, lang, view, standing) {
  const { result, last } = standing;
  if (!result || isPaperResult(result)) return [];
  return [
    h("p", { class: "official" }, officialSentence(t, result.counts, view.labels, lang)),
    last.by_hand ? h("p", { class: "by-hand", "data-testid": "by-hand" }, byHandLine(t, last.by_hand, lang)) : null,
  ];
}

/** The form of a count by hand for `item`: the numbers, who records them, and why the server refused them. */
function handForm(t, view, item, hand, actions) {
  const input = (field, attrs = {}) => {
    const el = h("input", {
      id: `hand-${field}`,
      name: field,
      "data-testid": `hand-${field}`,
      inputmode: field === "by" ? "text" : "numeric",
      autocomplete: field === "by" ? "name" : "off",
      class: fieldsOf(hand.error?.field).includes(field) ? "invalid" : null,
      "aria-invalid": fieldsOf(hand.error?.field).includes(field) ? "true" : null,
      ...attrs,
    });
    el.value = hand.values[field] ?? "";
    el.addEventListener("input", () => {
      hand.values[field] = el.value;
    });
    // The three choices by the council's own words, as on the tablets.
    const word = view.labels[field] ?? t(`hand.${field}`);
    return h("label", { class: `hand-field hand-${field}` }, h("span", {}, word), el);
  };
  const form = h(
    "form",
    { class: "hand-form", "data-testid": "hand-form", novalidate: true },
    h("p", { class: "hand-lead" }, t("hand.lead", { total: view.total_seats })),
    h("div", { class: "hand-counts" }, FIELDS.map((field) => input(field))),
    input("by", { maxlength: "100" }),
    hand.error ? h("p", { class: "error", role: "alert", "data-testid": "hand-error" }, hand.error.text()) : null,
    h(
      "div",
      { class: "toolbar" },
      h("button", { type: "button", class: "btn-secondary", "data-testid": "hand-cancel" }, t("editor.cancel")),
      h("button", { type: "submit", class: "btn-primary", "data-testid": "hand-save", disabled: hand.sending }, t("hand.save")),
    ),
  );
  form.querySelector("[data-testid=hand-cancel]").addEventListener("click", () => actions.cancel());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    actions.save(item.index);
  });
  return form;
}

function itemRow(t, lang, view, item, hand, actions) {
  const standing = itemStanding(item, view.open_item);
  const how = item.ballot ? t(item.ballot === "list" ? "results.list" : item.secret ? "secrecy.secret" : "secrecy.named") : t("results.notVoted");
  let action = null;
  if (standing.recordable && hand?.item !== item.index) {
    action = h("button", { type: "button", class: "btn-small", "data-testid": `record-${item.index}` }, t("hand.record"));
    action.addEventListener("click", () => actions.open(item.index));
  } else if (standing.locked) {
    action = h("span", { class: "locked", "data-testid": `locked-${item.index}`, title: t("results.lockedWhy") }, t("results.locked"));
  }
  return h(
    "li",
    { class: "result-item", "data-testid": `result-item-${item.index}`, dataset: { status: standing.status } },
    h("span", { class: "result-number" }, String(item.index + 1)),
    h(
      "div",
      { class: "result-body" },
      h("p", { class: "result-topic" }, item.topic),
      h("p", { class: "result-title" }, item.title),
      h("p", { class: "result-facts" }, how, item.ballot ? " · " : null, item.ballot ? statusTag(t, standing.status) : null),
      resultLines(t, lang, view, standing),
      hand?.item === item.index ? handForm(t, view, item, hand, actions) : null,
    ),
    h("span", { class: "result-action" }, action),
  );
}

/**
 * Draws `view` (the API's `results`) into `el`: the items in agenda order,
 * with `hand` the count by hand being entered (`{ item, values, error,
 * sending }`) or null, and `actions` its `open`, `cancel` and `save`.
 */
export function renderResults(el, view, t, lang, hand, actions) {
  el.replaceChildren(
    h(
      "ol",
      { class: "result-items" },
      view.items.map((item) => itemRow(t, lang, view, item, hand, actions)),
    ),
  );
}
