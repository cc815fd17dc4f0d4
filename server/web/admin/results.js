// The secretariat's view of a session under way or finished: every agenda
// item with where its vote stands and its result in the official wording,
// a form to record the counts of a show of hands, or the figures of the
// counting board's record (biên bản kiểm phiếu) of a paper vote, when the
// devices failed, and the record, minutes and results table to download.

import { PAPER_KINDS, byHandLine, isPaperResult, officialSentence, paperSentences } from "../common/protocol.js";
import { paperTable } from "../common/papers.js";
import { h } from "../common/dom.js";

/**
 * Where an item's vote stands, from its rounds (oldest first) and the item
 * whose round is open on the devices: its status as the screens name it, its
 * last round, whether its counts may be recorded by hand now (no round open,
 * its last round not closed, the session not closed: the record ends at the
 * close, PROTOCOL.md §9.9) and whether it is locked (its last round
 * closed: the result stands, the server refuses any other).
 */
export function itemStanding(item, openItem, closedAt = null) {
  const last = item.rounds.at(-1) ?? null;
  const result = last?.status === "closed" ? last.result : null;
  let status = "pending";
  if (last?.status === "open") status = "voting";
  else if (last?.status === "voided") status = "voided";
  else if (last?.status === "closed") {
    status = !result ? "provisional" : isPaperResult(result) ? "counted" : result.passed ? "passed" : "not_passed";
  }
  const locked = last?.status === "closed";
  const recordable = Boolean(item.ballot) && openItem == null && !locked && closedAt == null;
  return { status, last, result, locked, recordable };
}

/**
 * Whether `item` is voted on paper ballots the counting board counts (a
 * secret item or a list), so that its count by hand is the board's record:
 * the ballots issued, returned and invalid.
 */
export function onPaper(item) {
  return item.secret || item.ballot === "list";
}

const BALLOTS = ["issued", "returned", "invalid"];
const CHOICE_FIELDS = ["yes", "no", "abstain"];

/** The input's key of entry `entry`'s count of the kind's `column`-th mark. */
const markKey = (entry, column) => `mark.${entry}.${column}`;

/** What a field holds as typed: a number where it is a whole number or a negative one, otherwise the text (the server judges it). */
function figure(values, key) {
  const text = String(values[key] ?? "").trim();
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/**
 * The body of a count by hand of `item` (PROTOCOL.md §9.8) from the figures
 * typed into its form: those present and who records it; the counting
 * board's ballots for a paper vote; yes, no and abstain for a yes/no item,
 * or for a list each entry's count of each mark of its kind.
 */
export function countsOf(values, item) {
  const counts = { by: values.by ?? "", present: figure(values, "present") };
  if (onPaper(item)) counts.ballots = Object.fromEntries(BALLOTS.map((f) => [f, figure(values, f)]));
  if (item.ballot === "list") {
    const columns = PAPER_KINDS[item.paper.kind].marks.length;
    counts.marks = item.paper.entries.map((_, e) => Array.from({ length: columns }, (_, c) => figure(values, markKey(e, c))));
  } else {
    for (const field of CHOICE_FIELDS) counts[field] = figure(values, field);
  }
  return counts;
}

const sum = (numbers) => numbers.reduce((a, b) => a + b, 0);
const whole = (value) => Number.isInteger(value) && value >= 0;

/**
 * Why the server refused the `counts` sent (`invalid_counts`), in the app's
 * words: the server's message names the field in English, the app says it
 * in the secretariat's language from the numbers it sent. `item` is the
 * item counted: its list names the entry a figure is wrong for.
 */
export function countsProblem(t, field, counts, totalSeats, item = null) {
  const { ballots } = counts;
  const valid = ballots ? ballots.returned - ballots.invalid : null;
  if (field === "by") return t("hand.problem.by");
  if (field === "ballots") return t("hand.problem.ballots");
  if (field === "counts") {
    const total = counts.yes + counts.no + counts.abstain;
    const args = { sum: total, yes: counts.yes, no: counts.no, abstain: counts.abstain, present: counts.present, valid };
    return t(ballots && total <= counts.present ? "hand.problem.counts_valid" : "hand.problem.counts", args);
  }
  if (field?.startsWith("ballots.")) {
    const name = field.slice("ballots.".length);
    if (!whole(ballots[name])) return t("hand.problem.number", { value: ballots[name] === "" ? "—" : String(ballots[name]) });
    return t(`hand.problem.${name}`, { ...ballots, present: counts.present });
  }
  if (field?.startsWith("marks")) {
    const rows = field === "marks" ? counts.marks : [counts.marks[Number(field.slice("marks.".length))] ?? []];
    const odd = rows.flat().find((n) => !whole(n));
    if (odd !== undefined) return t("hand.problem.number", { value: odd === "" ? "—" : String(odd) });
    if (field === "marks") return t("hand.problem.approvals", { sum: sum(counts.marks.flat()), valid, posts: item?.paper?.posts ?? 1 });
    const entry = Number(field.slice("marks.".length));
    return t("hand.problem.entry", { name: item?.paper?.entries[entry]?.name ?? `#${entry + 1}`, sum: sum(rows[0]), valid });
  }
  const value = counts[field];
  if (field === "present" && whole(value)) return t("hand.problem.present", { total: totalSeats });
  return t("hand.problem.number", { value: value === "" || value === undefined ? "—" : String(value) });
}

/**
 * Which inputs a refusal's `field` names, as keys or key prefixes: `counts`
 * is the three choices together, `ballots` the board's three figures,
 * `marks` every entry's figures and `marks.2` the third entry's.
 */
export function fieldsOf(field) {
  if (field === "counts") return CHOICE_FIELDS;
  if (field === "ballots") return BALLOTS;
  if (field?.startsWith("ballots.")) return [field.slice("ballots.".length)];
  if (field === "marks") return ["mark"];
  if (field?.startsWith("marks.")) return [`mark.${field.slice("marks.".length)}`];
  return field ? [field] : [];
}

function statusTag(t, status) {
  const word = status === "provisional" ? t("results.provisional") : t(`status.${status}`);
  return h("span", { class: `status status-${status}`, "data-testid": "item-status" }, word);
}

function resultLines(t, lang, view, item, standing) {
  const { result, last } = standing;
  if (!result) return [];
  const byHand = last.by_hand ? h("p", { class: "by-hand", "data-testid": "by-hand" }, byHandLine(t, last.by_hand, lang)) : null;
  if (isPaperResult(result)) {
    return [
      h("p", { class: "official", "data-testid": "paper-sentences" }, paperSentences(t, result, item.paper, lang, last.by_hand).join(" · ")),
      h("div", { class: "paper-table-box" }, paperTable(t, result, item.paper, lang, { testid: "admin-paper-table" })),
      byHand,
    ];
  }
  return [h("p", { class: "official" }, officialSentence(t, result.counts, view.labels, lang)), byHand];
}

/**
 * The form of a count by hand for `item`: those present; for a paper vote
 * the counting board's ballots; the yes, no and abstain counts, or for a
 * list a row per candidate or official with a column per mark of its kind;
 * who records them, and why the server refused them.
 */
function handForm(t, view, item, hand, actions) {
  const wrong = fieldsOf(hand.error?.field);
  const isWrong = (key) => wrong.some((f) => key === f || key.startsWith(`${f}.`));
  const control = (key, attrs = {}) => {
    const el = h("input", {
      id: `hand-${key.replaceAll(".", "-")}`,
      name: key,
      "data-testid": `hand-${key.replaceAll(".", "-")}`,
      inputmode: key === "by" ? "text" : "numeric",
      autocomplete: key === "by" ? "name" : "off",
      class: isWrong(key) ? "invalid" : null,
      "aria-invalid": isWrong(key) ? "true" : null,
      ...attrs,
    });
    el.value = hand.values[key] ?? "";
    el.addEventListener("input", () => {
      hand.values[key] = el.value;
    });
    return el;
  };
  // The three choices by the council's own words, as on the tablets.
  const input = (field, attrs = {}) =>
    h("label", { class: `hand-field hand-${field}` }, h("span", {}, view.labels[field] ?? t(`hand.${field}`)), control(field, attrs));
  const paper = onPaper(item);
  const list = item.ballot === "list" ? item.paper : null;
  const counts = paper ? ["present", ...BALLOTS] : ["present"];
  let votes = h("div", { class: "hand-counts" }, CHOICE_FIELDS.map((field) => input(field)));
  if (list) {
    const marks = PAPER_KINDS[list.kind].marks;
    votes = h(
      "table",
      { class: "paper-table hand-marks", "data-testid": "hand-marks" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { class: "paper-no" }, t("paper.col.number")),
          h("th", { class: "paper-name" }, t("paper.col.name")),
          marks.map((m) => h("th", { class: "num" }, t(`paper.mark.${list.kind}.${m}`))),
        ),
      ),
      h(
        "tbody",
        {},
        list.entries.map((entry, e) =>
          h(
            "tr",
            {},
            h("td", { class: "paper-no" }, String(e + 1)),
            h("td", { class: "paper-name" }, h("span", { class: "paper-who" }, entry.name), entry.post ? h("span", { class: "paper-post" }, entry.post) : null),
            marks.map((m, c) =>
              h("td", { class: "num" }, control(markKey(e, c), { "aria-label": `${entry.name} — ${t(`paper.mark.${list.kind}.${m}`)}` })),
            ),
          ),
        ),
      ),
    );
  }
  const lead = list
    ? t("hand.leadList", { total: view.total_seats, posts: list.posts })
    : paper
      ? t("hand.leadSecret", { total: view.total_seats })
      : t("hand.lead", { total: view.total_seats });
  const form = h(
    "form",
    { class: "hand-form", "data-testid": "hand-form", novalidate: true },
    h("p", { class: "hand-lead" }, lead),
    h("div", { class: "hand-counts" }, counts.map((field) => input(field))),
    votes,
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
  const standing = itemStanding(item, view.open_item, view.closed_at);
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
      resultLines(t, lang, view, item, standing),
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
