// The meeting editor: the meeting file's fields (the server's MeetingForm,
// server/src/meeting/form.rs) as a form, for a new meeting, a copy, or an
// edit of a stored one. The editor only gathers them; the server checks them
// as `gavel meeting import` checks a file (and, for an edit, against what the
// session has recorded), and a refusal names the field, which the editor
// finds by its `data-field` path and marks. An edit shows what can no longer
// change read-only with why, so that the secretariat is not refused for it.

import { h } from "../common/dom.js";
import { describeRule } from "../common/rules.js";

const KINDS = ["draft_resolution", "proposal", "report", "question_session", "election", "other"];
const BASES = ["all_seats", "present", "cast", "yes_no"];
const THRESHOLDS = ["more_than_half", "at_least_two_thirds", "at_least_three_quarters"];
const INTERIMS = ["none", "totals", "individual"];

/** The settings a new voted item starts with: a People's Council resolution's. */
export function defaultVote() {
  return {
    rule: { base: "all_seats", threshold: "more_than_half" },
    secrecy: "named",
    interim: "totals",
    allow_change: true,
    require_check_in: true,
    window_seconds: 60,
  };
}

function newItem() {
  return { kind: "draft_resolution", title: "", vote: defaultVote() };
}

/** A meeting from nothing: one topic with one item, the council's usual words. */
export function blankForm() {
  return {
    id: "",
    title: "",
    body: "",
    total_seats: 0,
    quorum: "at_least_two_thirds",
    labels: { yes: "Tán thành", no: "Không tán thành", abstain: "Không biểu quyết" },
    seats: [],
    topics: [{ title: "", items: [newItem()] }],
  };
}

/** The roster as lines of "name", "name<TAB>group" or "name<TAB>group<TAB>title" (columns pasted from a spreadsheet). */
export function rosterText(seats) {
  return seats.map((s) => [s.name, s.group ?? "", s.title ?? ""].join("\t").replace(/\t+$/, "")).join("\n");
}

/** Seats 1..N from roster lines; blank lines are left out. */
export function seatsFrom(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line, i) => {
      const [name, group = "", title = ""] = line.split("\t").map((part) => part.trim());
      return { number: i + 1, name, group, title };
    });
}

const ENCODINGS = ["auto", "utf-8", "utf-16", "windows-1258"];

/**
 * A roster problem in the app's language: the words for its `reason`, with
 * the values the server sent beside it (a seat, a row, a cell, an encoding);
 * the server's own English message for a reason this app has no words for.
 */
export function problemText(problem, t) {
  const key = `roster.problem.${problem.reason}`;
  const vars = { ...problem };
  if (problem.missing) vars.missing = t(`roster.column.${problem.missing}`);
  if (Array.isArray(problem.seats)) {
    vars.seats = problem.seats.join(", ");
    const more = problem.count - problem.seats.length;
    if (more > 0) vars.seats += t("roster.problem.more", { more });
  }
  const text = t(key, vars);
  return text === key ? problem.message : text;
}

/**
 * The roster read from a spreadsheet, shown before it is used: its seats
 * with a button to use them, or every problem by row and column, or why it
 * could not be read. `roster` is `{ preview, read, accept, discard }`: the
 * preview (`{ file, seats }`, `{ file, problems }` or `{ file, error }`, or
 * null) and what the buttons do.
 */
function rosterPreview(roster, t, button) {
  const preview = roster.preview;
  if (!preview) return null;
  const table = (heads, rows) =>
    h(
      "table",
      { class: "roster-table" },
      h("thead", {}, h("tr", {}, heads.map((head) => h("th", {}, t(`editor.col.${head}`))))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    );
  const discard = button("roster-discard", t("editor.rosterDiscard"), roster.discard, "btn-secondary");
  if (preview.seats) {
    return h(
      "div",
      { class: "roster-preview", "data-testid": "roster-preview" },
      h("p", { class: "preview-lead" }, t("editor.rosterRead", { file: preview.file, count: preview.seats.length })),
      h("div", { class: "preview-actions" }, button("roster-accept", t("editor.rosterAccept"), roster.accept, "btn-primary"), discard),
      table(
        ["seat", "name", "group", "title"],
        preview.seats.map((s) => [String(s.number), s.name, s.group, s.title]),
      ),
    );
  }
  const problems = preview.problems ?? [];
  return h(
    "div",
    { class: "roster-preview refused", "data-testid": "roster-preview" },
    h(
      "p",
      { class: "preview-lead", role: "alert" },
      preview.error ?? t("editor.rosterProblems", { file: preview.file, count: problems.length }),
    ),
    h("div", { class: "preview-actions" }, discard),
    problems.length
      ? table(
          ["row", "column", "problem"],
          problems.map((p) => [p.row ? String(p.row) : t("editor.wholeFile"), p.column ?? "", problemText(p, t)]),
        )
      : null,
  );
}

/**
 * What an edit of a stored meeting may do to its agenda. An item that had a
 * round is locked (`why`, the server's reason), and nothing may move it,
 * since its rounds, documents and floor history are recorded by its
 * position: no item before the last locked one may be removed, and new
 * items go after it. `locked` maps an item's index in the agenda to its
 * reason. Per topic: `{ removable, extendable, items: [{ index, why,
 * removable }] }`; with nothing locked, everything may change.
 */
export function agendaLimits(topics, locked = new Map()) {
  const last = Math.max(-1, ...locked.keys());
  let next = 0;
  return topics.map((topic) => {
    const first = next;
    const items = topic.items.map(() => {
      const index = next++;
      return { index, why: locked.get(index) ?? null, removable: index > last };
    });
    return { items, removable: first > last, extendable: next > last };
  });
}

/**
 * Draws `form` into `root` and keeps `form` up to date as the fields change;
 * a change of structure (a topic or an item added or removed, a vote turned
 * on or off) draws it again. `roster` is the spreadsheet import's preview
 * and actions (see `rosterPreview`). `stored` is null for a new meeting;
 * for an edit of a stored one it is `{ started, locked }`: whether a round
 * exists (the seats, the quorum and the labels are then fixed) and the
 * locked items (see `agendaLimits`). A stored meeting keeps its id.
 */
export function renderEditor(root, form, t, roster, stored = null) {
  const redraw = () => renderEditor(root, form, t, roster, stored);
  const started = Boolean(stored?.started);
  const limits = agendaLimits(form.topics, stored?.locked);

  /** Why a field shown read-only cannot change: `key` in the app's words. */
  function why(testid, key) {
    return h("p", { class: "fixed-why", "data-testid": testid }, t(key));
  }

  function field(path, label, input) {
    input.dataset.field = path;
    input.setAttribute("data-testid", path);
    return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input);
  }

  function text(path, label, get, set, attrs = {}) {
    const input = h("input", { type: "text", value: get() ?? "", ...attrs });
    input.addEventListener("input", () => set(input.value));
    return field(path, label, input);
  }

  function number(path, label, get, set, attrs = {}) {
    const input = h("input", { type: "number", value: String(get()), ...attrs });
    input.addEventListener("input", () => set(Number(input.value)));
    return field(path, label, input);
  }

  function select(path, label, options, selected, set, attrs = {}) {
    const input = h(
      "select",
      attrs,
      options.map(([value, words]) => h("option", { value, selected: value === selected }, words)),
    );
    input.addEventListener("change", () => set(input.value));
    return field(path, label, input);
  }

  function check(path, label, get, set, attrs = {}) {
    const input = h("input", { type: "checkbox", checked: get(), ...attrs });
    input.addEventListener("change", () => set(input.checked));
    input.dataset.field = path;
    input.setAttribute("data-testid", path);
    return h("label", { class: "check" }, input, h("span", {}, label));
  }

  function button(testid, words, action, cls = "btn-small") {
    const b = h("button", { type: "button", class: cls, "data-testid": testid }, words);
    b.addEventListener("click", action);
    return b;
  }

  function thresholdOptions(current) {
    const options = THRESHOLDS.map((th) => [th, th]);
    if (!THRESHOLDS.includes(current)) options.push([JSON.stringify(current), JSON.stringify(current)]);
    return options;
  }

  function ruleField(path, vote, attrs) {
    const options = [];
    for (const base of BASES) {
      for (const [key] of thresholdOptions(vote.rule.threshold)) {
        const threshold = THRESHOLDS.includes(key) ? key : JSON.parse(key);
        if (!THRESHOLDS.includes(key) && base !== vote.rule.base) continue;
        options.push([`${base}|${key}`, describeRule({ base, threshold }, t)]);
      }
    }
    const key = THRESHOLDS.includes(vote.rule.threshold) ? vote.rule.threshold : JSON.stringify(vote.rule.threshold);
    return select(`${path}.rule`, t("editor.rule"), options, `${vote.rule.base}|${key}`, (value) => {
      const [base, threshold] = value.split("|");
      vote.rule = { base, threshold: THRESHOLDS.includes(threshold) ? threshold : JSON.parse(threshold) };
    }, attrs);
  }

  function voteFields(path, item, fixed) {
    const vote = item.vote;
    if (!vote) return null;
    const attrs = { disabled: fixed };
    return h(
      "div",
      { class: "vote-fields" },
      ruleField(path, vote, attrs),
      select(`${path}.secrecy`, t("editor.secrecy"), [["named", t("secrecy.named")], ["secret", t("secrecy.secret")]], vote.secrecy, (v) => {
        vote.secrecy = v;
      }, attrs),
      select(`${path}.interim`, t("editor.interim"), INTERIMS.map((i) => [i, t(`editor.interim.${i}`)]), vote.interim, (v) => {
        vote.interim = v;
      }, attrs),
      number(`${path}.window_seconds`, t("editor.window"), () => vote.window_seconds, (v) => {
        vote.window_seconds = v;
      }, { min: 1, step: 1, ...attrs }),
      check(`${path}.allow_change`, t("editor.allowChange"), () => vote.allow_change, (v) => {
        vote.allow_change = v;
      }, attrs),
    );
  }

  /** An item; one that had a round is shown as it stands, with why it cannot change. */
  function itemBlock(topic, ti, item, ii) {
    const path = `topics[${ti}].items[${ii}]`;
    const limit = limits[ti].items[ii];
    const fixed = limit.why !== null;
    const attrs = { disabled: fixed };
    return h(
      "li",
      { class: fixed ? "item-edit fixed" : "item-edit", "data-testid": path, "data-field": path, dataset: { locked: String(fixed) } },
      fixed ? why(`${path}.locked`, `editor.locked.${limit.why}`) : null,
      h(
        "div",
        { class: "item-line" },
        select(`${path}.kind`, t("editor.kind"), KINDS.map((k) => [k, t(`kind.${k}`)]), item.kind, (v) => {
          item.kind = v;
        }, attrs),
        text(`${path}.title`, t("editor.itemTitle"), () => item.title, (v) => {
          item.title = v;
        }, { class: "wide", ...attrs }),
        limit.removable
          ? button(`${path}.remove`, t("editor.remove"), () => {
              topic.items.splice(ii, 1);
              redraw();
            })
          : null,
      ),
      check(`${path}.vote`, t("editor.voted"), () => Boolean(item.vote), (on) => {
        item.vote = on ? defaultVote() : false;
        redraw();
      }, attrs),
      voteFields(`${path}.vote`, item, fixed),
    );
  }

  function topicBlock(topic, ti) {
    const path = `topics[${ti}]`;
    return h(
      "section",
      { class: "topic-edit", "data-testid": path, "data-field": path },
      h(
        "div",
        { class: "item-line" },
        text(`${path}.title`, t("editor.topicTitle", { n: ti + 1 }), () => topic.title, (v) => {
          topic.title = v;
        }, { class: "wide" }),
        limits[ti].removable
          ? button(`${path}.remove`, t("editor.removeTopic"), () => {
              form.topics.splice(ti, 1);
              redraw();
            })
          : null,
      ),
      h("ol", { class: "items-edit" }, topic.items.map((item, ii) => itemBlock(topic, ti, item, ii))),
      limits[ti].extendable
        ? button(`${path}.add-item`, t("editor.addItem"), () => {
            topic.items.push(newItem());
            redraw();
          })
        : null,
    );
  }

  const rosterLines = h("textarea", { rows: 8, "data-testid": "roster", "data-field": "seats", spellcheck: "false" }, rosterText(form.seats));
  const totalSeats = number("total_seats", t("editor.totalSeats"), () => form.total_seats, (v) => {
    form.total_seats = v;
  }, { min: 1, step: 1, disabled: started });
  rosterLines.addEventListener("input", () => {
    form.seats = seatsFrom(rosterLines.value);
    form.total_seats = form.seats.length;
    totalSeats.querySelector("input").value = String(form.total_seats);
    seatCount.textContent = t("editor.seatCount", { count: form.total_seats });
  });
  const seatCount = h("span", { class: "seat-count", "data-testid": "seat-count" }, t("editor.seatCount", { count: form.seats.length }));
  const encoding = h(
    "select",
    { "data-testid": "roster-encoding" },
    ENCODINGS.map((e) => h("option", { value: e }, t(`editor.encoding.${e}`))),
  );
  const sheet = h("input", { type: "file", "data-testid": "roster-file", accept: ".csv,.xlsx,text/csv" });
  sheet.addEventListener("change", () => {
    const [file] = sheet.files;
    sheet.value = "";
    if (file) roster.read(file, encoding.value);
  });

  root.replaceChildren(
    h(
      "fieldset",
      { class: "header-edit" },
      h("legend", {}, t("editor.header")),
      text("id", t("editor.id"), () => form.id, (v) => {
        form.id = v;
      }, { placeholder: "phuc-loi-2027-ky-1", spellcheck: "false", disabled: Boolean(stored) }),
      text("title", t("editor.title"), () => form.title, (v) => {
        form.title = v;
      }, { class: "wide" }),
      text("body", t("editor.body"), () => form.body, (v) => {
        form.body = v;
      }, { class: "wide" }),
      select(
        "quorum",
        t("editor.quorum"),
        thresholdOptions(form.quorum).map(([key]) => [key, describeRule({ base: "all_seats", threshold: THRESHOLDS.includes(key) ? key : JSON.parse(key) }, t)]),
        THRESHOLDS.includes(form.quorum) ? form.quorum : JSON.stringify(form.quorum),
        (v) => {
          form.quorum = THRESHOLDS.includes(v) ? v : JSON.parse(v);
        },
        { disabled: started },
      ),
      h(
        "div",
        { class: "labels-edit" },
        ["yes", "no", "abstain"].map((choice) =>
          text(`labels.${choice}`, t(`editor.label.${choice}`), () => form.labels[choice], (v) => {
            form.labels[choice] = v;
          }, { disabled: started }),
        ),
      ),
      stored ? why("id-fixed", "editor.fixed.id") : null,
      started ? why("header-fixed", "editor.fixed.header") : null,
    ),
    h(
      "fieldset",
      { class: "roster-edit" },
      h("legend", {}, t("editor.roster")),
      totalSeats,
      started ? why("seats-fixed", "editor.fixed.seats") : null,
      h(
        "div",
        { class: "roster-import" },
        h("label", { class: "field" }, h("span", { class: "field-label" }, t("editor.encoding")), encoding),
        h("label", { class: "btn-secondary file-button" }, h("span", {}, t("editor.rosterImport")), sheet),
      ),
      rosterPreview(roster, t, button),
      h("p", { class: "hint" }, t("editor.rosterHint")),
      rosterLines,
      seatCount,
    ),
    h(
      "fieldset",
      { class: "agenda-edit" },
      h("legend", {}, t("editor.agenda")),
      form.topics.map(topicBlock),
      button("add-topic", t("editor.addTopic"), () => {
        form.topics.push({ title: "", items: [newItem()] });
        redraw();
      }),
    ),
  );
}

/** Marks the input of the field a refusal names (`topics[1].items[0].title`), or its nearest enclosing one. */
export function markField(root, path) {
  for (const node of root.querySelectorAll(".invalid")) node.classList.remove("invalid");
  let at = path;
  while (at) {
    const node = root.querySelector(`[data-field="${CSS.escape(at)}"]`);
    if (node) {
      node.classList.add("invalid");
      node.focus();
      return node;
    }
    at = at.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
  }
  return null;
}

/**
 * Where a refused field is, in the app's words: "Topic 2 › Item 2 › Title"
 * from `topics[1].items[1].title` and the label of the field's input.
 */
export function fieldPlace(path, node, t) {
  const parts = [];
  const topic = path.match(/^topics\[(\d+)\]/);
  if (topic) parts.push(t("editor.topicTitle", { n: Number(topic[1]) + 1 }));
  const item = path.match(/items\[(\d+)\]/);
  if (item) parts.push(t("editor.itemN", { n: Number(item[1]) + 1 }));
  const seat = path.match(/^seats\[(\d+)\]/);
  if (seat) parts.push(t("editor.seatN", { n: Number(seat[1]) + 1 }));
  const label = node?.closest("label")?.querySelector(".field-label")?.textContent;
  if (label && !parts.includes(label)) parts.push(label);
  return parts.length ? parts.join(" › ") : path;
}
