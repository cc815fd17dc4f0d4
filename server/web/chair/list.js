// The chair's editor of the current item's list, before its round opens:
// an election's candidates and posts, a rating's or no-confidence vote's
// officials. The chair adds, removes, renames and reorders entries; "save"
// sends `set_list`, which the server records as an amendment of the
// meeting, and every device then fetches the new meeting view. The draft
// lives here until it is saved, reset, or the item or its list changes.
// Built in code, names as text.

import { h, setText } from "../common/dom.js";

/**
 * Whether the chair may edit the item's list now: it has a paper, no round
 * was held on it, and the session is not closed (the record ends at the
 * close, so the server refuses `set_list` after it: PROTOCOL.md §9.9).
 */
export function listEditable(item, state, closedAt = null) {
  return Boolean(item?.paper) && (state?.status ?? "pending") === "pending" && closedAt == null;
}

/** A fresh draft of the item's list: its entries (copies) and an election's posts. */
export function draftOf(index, paper) {
  return {
    index,
    source: JSON.stringify(paper),
    posts: paper.kind === "election" ? paper.posts : null,
    entries: paper.entries.map((e) => ({ name: e.name, post: e.post })),
  };
}

/** Moves entry `at` by `step` (-1 up, +1 down); no change past either end. */
export function moveEntry(entries, at, step) {
  const to = at + step;
  if (to < 0 || to >= entries.length) return entries;
  const moved = entries.slice();
  [moved[at], moved[to]] = [moved[to], moved[at]];
  return moved;
}

/** The `set_list` command for a draft: names and posts as typed, without the spaces around them. */
export function listCommand(draft) {
  return {
    action: "set_list",
    item: draft.index,
    posts: draft.posts,
    entries: draft.entries.map((e) => ({ name: e.name.trim(), post: e.post.trim() })),
  };
}

/** Whether the draft differs from the item's list. */
export function draftChanged(draft, paper) {
  const posts = paper.kind === "election" ? paper.posts : null;
  return draft.posts !== posts || JSON.stringify(draft.entries) !== JSON.stringify(paper.entries.map((e) => ({ name: e.name, post: e.post })));
}

let draft = null;

function entryRow(t, entry, at, count, busy) {
  const button = (action, word, label, disabled) =>
    h("button", { type: "button", class: "btn btn-small", "data-list": action, "data-at": String(at), "aria-label": t(label), title: t(label), disabled: busy || disabled }, word);
  return h(
    "li",
    { class: "list-row", "data-testid": "list-row" },
    h("span", { class: "list-number" }, String(at + 1)),
    h("input", { class: "list-name", "data-field": "name", "data-at": String(at), "data-testid": "list-name", value: entry.name, maxlength: "200", autocomplete: "off", placeholder: t("list.name"), "aria-label": t("list.name") }),
    h("input", { class: "list-post", "data-field": "post", "data-at": String(at), "data-testid": "list-post", value: entry.post, maxlength: "200", autocomplete: "off", placeholder: t("list.post"), "aria-label": t("list.post") }),
    button("up", "▲", "list.up", at === 0),
    button("down", "▼", "list.down", at === count - 1),
    button("remove", "✕", "list.remove", false),
  );
}

/** Bumped at each change of the rows (added, removed, moved, a new draft): typing redraws no row. */
let shape = 0;

/** Draws the panel: shown while the current item's list can still change. */
export function renderList(v) {
  const panel = document.getElementById("list-panel");
  const paper = v.item?.paper;
  const editable = listEditable(v.item, v.state, v.snapshot.closed_at);
  panel.hidden = !editable;
  if (!editable) {
    draft = null;
    panel.dataset.drawn = "";
    return;
  }
  if (!draft || draft.index !== v.index || draft.source !== JSON.stringify(paper)) {
    draft = draftOf(v.index, paper);
    shape += 1;
  }
  const { t } = v;
  const busy = Boolean(v.busy) || !v.ready;
  const key = JSON.stringify([v.lang, shape, busy]);
  if (panel.dataset.drawn !== key) {
    panel.dataset.drawn = key;
    setText(document.getElementById("list-heading"), t(paper.kind === "election" ? "list.candidates" : "list.officials"));
    setText(document.getElementById("list-note"), t("list.note"));
    document.getElementById("list-posts-field").hidden = paper.kind !== "election";
    setText(document.getElementById("list-posts-label"), t("list.posts"));
    const rows = draft.entries.map((entry, at) => entryRow(t, entry, at, draft.entries.length, busy));
    document.getElementById("list-entries").replaceChildren(...rows);
    setText(document.getElementById("list-add"), t("list.add"));
    setText(document.getElementById("list-save"), t("list.save"));
    setText(document.getElementById("list-reset"), t("list.reset"));
  }
  const posts = document.getElementById("list-posts");
  if (document.activeElement !== posts) posts.value = draft.posts ?? "";
  posts.max = String(Math.max(1, draft.entries.length));
  posts.disabled = busy;
  const changed = draftChanged(draft, paper);
  document.getElementById("list-add").disabled = busy;
  document.getElementById("list-save").disabled = busy || !changed;
  document.getElementById("list-reset").disabled = busy || !changed;
}

/**
 * Wires the panel's inputs and buttons: typing changes the draft, the
 * buttons change it and redraw, and save hands `send` the command.
 */
export function wireList(redraw, send) {
  const panel = document.getElementById("list-panel");
  panel.addEventListener("input", (event) => {
    if (!draft) return;
    const target = event.target;
    if (target.id === "list-posts") {
      const posts = Number.parseInt(target.value, 10);
      draft = { ...draft, posts: Number.isNaN(posts) ? null : posts };
    } else if (target.dataset.field) {
      const at = Number(target.dataset.at);
      const entries = draft.entries.slice();
      entries[at] = { ...entries[at], [target.dataset.field]: target.value };
      // The inputs keep their focus: only the buttons' states are redrawn.
      draft = { ...draft, entries };
      redraw();
      return;
    }
    redraw();
  });
  panel.addEventListener("click", (event) => {
    if (!draft) return;
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    const at = Number(button.dataset.at);
    if (button.id === "list-add") {
      draft = { ...draft, entries: [...draft.entries, { name: "", post: "" }] };
    } else if (button.id === "list-reset") {
      draft = null;
      shape += 1;
    } else if (button.id === "list-save") {
      send(listCommand(draft));
      return;
    } else if (button.dataset.list === "up" || button.dataset.list === "down") {
      draft = { ...draft, entries: moveEntry(draft.entries, at, button.dataset.list === "up" ? -1 : 1) };
    } else if (button.dataset.list === "remove") {
      draft = { ...draft, entries: draft.entries.filter((_, i) => i !== at) };
    }
    shape += 1;
    redraw();
    if (button.id === "list-add") document.querySelector("#list-entries li:last-child .list-name")?.focus();
  });
}
