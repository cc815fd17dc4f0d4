// The agenda items' documents of a stored meeting: each item with its
// documents (title, kind, who may read it, version, size, when it was
// stored), a PDF attached to an item, and a document replaced with a new
// version. The server checks every file as `gavel meeting import` does and
// refuses with a reason and the field to blame, which is marked here; an
// item that was voted on keeps its documents, and says so.

import { Refused } from "../common/session.js";
import { $, h, setText } from "../common/dom.js";
import { currentLang, reasonText } from "../common/i18n.js";
import { fileSize } from "../tablet/library.js";
import { call } from "./desk.js";

export const KINDS = ["draft_resolution", "submission", "report", "other"];

const itemsPath = (id) => `meetings/${encodeURIComponent(id)}`;

/** Every item of meeting `id` with its documents, each with all its stored versions (oldest first). */
export function itemDocuments(token, id) {
  return call("GET", `${itemsPath(id)}/documents`, { token });
}

/**
 * Stores `file` (a PDF) on item `item`: as its next document, or with
 * `slot` as a new version of that one. `fields` (`title`, `kind`, `public`)
 * go in the query; for a new version those left out stay as they were.
 */
export function uploadDocument(token, id, item, file, fields, slot = null) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) query.set(name, String(value));
  const path = `${itemsPath(id)}/items/${item}/documents${slot === null ? "" : `/${slot}`}`;
  const fieldsGiven = query.size ? `?${query}` : "";
  return call("POST", `${path}${fieldsGiven}`, { token, text: file, type: "application/pdf" });
}

/**
 * Why an upload was refused, in the app's language: the reason's words and
 * the field the server names (file, title, kind or public), or null for a
 * refusal that names none.
 */
export function uploadFailure(error, t) {
  if (!(error instanceof Refused)) return { text: t("enroll.unreachable"), field: null };
  const field = error.field ?? null;
  if (error.reason === "invalid_definition") {
    const key = `documents.invalid.${field}`;
    const text = t(key);
    return { text: text === key ? error.message : text, field };
  }
  return { text: reasonText(t, error.reason), field };
}

/**
 * What is on screen: the meeting (`id`), its items as the API lists them,
 * why loading failed, per item (`failed[index]`) why its last upload was
 * refused, and the fields typed for a new document (`drafts[index]`), kept
 * across redrawing until it is stored; null while another view shows.
 */
let shown = null;
let env = null;

/**
 * Shows the documents of meeting `id`. `context` gives the session's token
 * (`token()`), the translator (`t`) and how to word a refusal that is not an
 * upload's (`failure`).
 */
export async function showDocuments(id, context) {
  env = context;
  shown = { id, items: [], error: null, failed: {}, drafts: {}, busy: false };
  await reload();
}

/** Forgets the view, when another one shows. */
export function hideDocuments() {
  shown = null;
}

async function reload() {
  try {
    shown.items = (await itemDocuments(env.token(), shown.id)).items;
    shown.error = null;
  } catch (error) {
    shown.error = () => env.t("meetings.failed", { reason: env.failure(error) });
  }
  renderDocuments(env.t);
}

async function upload(item, file, fields, slot = null) {
  shown.busy = true;
  delete shown.failed[item];
  renderDocuments(env.t);
  try {
    await uploadDocument(env.token(), shown.id, item, file, fields, slot);
    if (slot === null) delete shown.drafts[item];
  } catch (error) {
    shown.failed[item] = { error, file: file.name };
  }
  shown.busy = false;
  await reload();
}

function storedAt(ms) {
  return new Date(ms).toLocaleString(currentLang());
}

function documentRow(item, d, t) {
  const latest = d.versions.at(-1);
  const replace = h("input", { type: "file", accept: ".pdf,application/pdf", "data-testid": `replace-${item.index}-${d.slot}` });
  replace.addEventListener("change", () => {
    const [file] = replace.files;
    replace.value = "";
    if (file) upload(item.index, file, {}, d.slot);
  });
  return h(
    "tr",
    { "data-testid": `document-${item.index}-${d.slot}` },
    h("td", {}, latest?.title ?? d.title),
    h("td", {}, t(`document.kind.${latest?.kind ?? d.kind}`)),
    h("td", {}, t((latest?.public ?? d.public) ? "documents.public" : "documents.delegates")),
    h("td", { "data-testid": `version-${item.index}-${d.slot}` }, latest ? String(latest.version) : t("documents.notStored")),
    h("td", {}, latest ? fileSize(latest.size, t, currentLang()) : ""),
    h("td", {}, latest ? storedAt(latest.stored_at) : ""),
    h(
      "td",
      {},
      item.voted || shown.busy
        ? null
        : h("label", { class: "btn-small file-button" }, h("span", {}, t("documents.replace")), replace),
    ),
  );
}

/** The form that attaches a new document to `item`, with the field the last refusal named marked. */
function attachForm(item, t) {
  const failed = shown.failed[item.index];
  const blamed = failed && uploadFailure(failed.error, t).field;
  const mark = (field) => (blamed === field ? "invalid" : null);
  shown.drafts[item.index] ??= { title: "", kind: KINDS[0], public: false };
  const draft = shown.drafts[item.index];
  const title = h("input", { type: "text", "data-testid": `attach-title-${item.index}`, class: mark("title") });
  title.value = draft.title;
  title.addEventListener("input", () => (draft.title = title.value));
  const kind = h(
    "select",
    { "data-testid": `attach-kind-${item.index}`, class: mark("kind") },
    KINDS.map((k) => h("option", { value: k, selected: k === draft.kind }, t(`document.kind.${k}`))),
  );
  kind.addEventListener("change", () => (draft.kind = kind.value));
  const open = h("input", { type: "checkbox", "data-testid": `attach-public-${item.index}`, class: mark("public"), checked: draft.public });
  open.addEventListener("change", () => (draft.public = open.checked));
  const file = h("input", { type: "file", accept: ".pdf,application/pdf", "data-testid": `attach-file-${item.index}` });
  file.addEventListener("change", () => {
    const [chosen] = file.files;
    file.value = "";
    if (chosen) upload(item.index, chosen, { title: title.value.trim(), kind: kind.value, public: open.checked });
  });
  return h(
    "div",
    { class: "attach" },
    h("label", { class: "field" }, h("span", {}, t("documents.title")), title),
    h("label", { class: "field" }, h("span", {}, t("editor.kind")), kind),
    h("label", { class: "check" }, open, h("span", {}, t("documents.public"))),
    h(
      "label",
      { class: `btn-secondary file-button${blamed === "file" ? " invalid" : ""}` },
      h("span", {}, t("documents.attach")),
      file,
    ),
  );
}

function itemSection(item, t) {
  const failed = shown.failed[item.index];
  const heads = ["title", "kind", "readers", "version", "size", "storedAt"];
  return h(
    "section",
    { class: "item-documents", "data-testid": `item-documents-${item.index}` },
    h("h2", {}, `${item.index + 1}. ${item.title}`),
    h("p", { class: "hint" }, item.topic),
    item.documents.length
      ? h(
          "table",
          { class: "documents-table" },
          h("thead", {}, h("tr", {}, heads.map((head) => h("th", {}, t(`documents.col.${head}`))), h("th"))),
          h("tbody", {}, item.documents.map((d) => documentRow(item, d, t))),
        )
      : h("p", { class: "none" }, t("documents.none")),
    failed
      ? h(
          "p",
          { class: "error", role: "alert", "data-testid": `upload-error-${item.index}` },
          t("documents.refused", { file: failed.file, reason: uploadFailure(failed.error, t).text }),
        )
      : null,
    item.voted ? h("p", { class: "hint", "data-testid": `voted-${item.index}` }, t("documents.voted")) : attachForm(item, t),
  );
}

/** Draws the view again (after a load, an upload, or a switch of language). */
export function renderDocuments(t) {
  if (!shown) return;
  setText($("documents-lead"), t("documents.lead", { id: shown.id }));
  setText($("documents-error"), shown.error?.() ?? "");
  $("documents-error").hidden = !shown.error;
  $("documents").replaceChildren(...shown.items.map((item) => itemSection(item, t)));
}
