// The chair's presenting panel: the current item's documents, each with a
// button that puts its first page before the hall, and, while a page is
// presented, the page turns (previous, next, a page by number) and the
// button that takes it down. Built in code, titles as text.

import { presentedDocument } from "../common/protocol.js";
import { h, setText } from "../common/dom.js";

function documentRow(v, doc, presentation) {
  const { t } = v;
  const shown = presentation?.document === doc.sha256;
  return h(
    "li",
    { class: "present-row", "data-testid": "chair-present-row", dataset: { shown: String(shown) } },
    h(
      "div",
      { class: "present-doc" },
      h("span", { class: "present-kind" }, t(`document.kind.${doc.kind}`)),
      h("span", { class: "present-title" }, doc.title),
      doc.public ? null : h("span", { class: "present-private" }, t("present.private")),
    ),
    h(
      "button",
      { type: "button", class: "btn btn-small", "data-present": "document", "data-document": doc.sha256, "data-testid": "chair-present", disabled: Boolean(v.busy) },
      t(shown ? "present.again" : "present.show"),
    ),
  );
}

function shownBlock(v, presentation, doc) {
  const { t, busy } = v;
  const button = (action, word, testid, disabled) =>
    h("button", { type: "button", class: "btn", "data-present": action, "data-testid": testid, disabled: Boolean(busy) || disabled }, t(word));
  return h(
    "div",
    { class: "present-shown", "data-testid": "chair-present-shown" },
    h(
      "div",
      { class: "present-now" },
      h("span", { class: "present-label" }, t("present.onScreen")),
      h("span", { class: "present-title" }, doc?.title ?? ""),
      h("span", { class: "present-page", "data-testid": "chair-present-page" }, t("present.page", { page: presentation.page, pages: presentation.pages })),
      doc && !doc.public ? h("span", { class: "present-private" }, t("present.tabletsOnly")) : null,
    ),
    h(
      "div",
      { class: "present-turns" },
      button("previous", "present.previous", "chair-present-previous", presentation.page <= 1),
      button("next", "present.next", "chair-present-next", presentation.page >= presentation.pages),
      button("stop", "present.stop", "chair-present-stop", false),
    ),
  );
}

/** Draws the panel; hidden while the current item has no documents and nothing is presented. */
export function renderPresenting(v) {
  const panel = document.getElementById("present-panel");
  const presentation = v.snapshot.presentation ?? null;
  const documents = v.item?.documents ?? [];
  panel.hidden = documents.length === 0 && !presentation;
  const key = JSON.stringify([v.lang, v.index, presentation, Boolean(v.busy)]);
  if (panel.dataset.drawn === key) return;
  panel.dataset.drawn = key;
  setText(document.getElementById("present-heading"), v.t("present.heading"));
  const shown = presentation ? shownBlock(v, presentation, presentedDocument(v.meeting, presentation)) : "";
  document.getElementById("present-shown").replaceChildren(shown);
  document.getElementById("present-list").replaceChildren(...documents.map((doc) => documentRow(v, doc, presentation)));
}

/** The command a click in the panel asks for, or null. */
export function presentCommand(target, presentation) {
  const button = target.closest("[data-present]");
  if (!button || button.disabled) return null;
  switch (button.dataset.present) {
    case "document":
      return { action: "present", document: button.dataset.document, page: 1 };
    case "previous":
      return { action: "present", document: presentation.document, page: presentation.page - 1 };
    case "next":
      return { action: "present", document: presentation.document, page: presentation.page + 1 };
    default:
      return { action: "stop_presenting" };
  }
}
