// The document reader on the tablet: one page at a time with pdf.js
// (../common/pdf.js, shared with the hall screen), zoom, text search, the
// PDF's own table of contents, and the delegate's private note on each
// page. It reads the bytes reader.js keeps on the device, so it goes on with
// the network down. `suspendReading` and `resumeReading` let the app bring
// a vote to the front and come back to the same page.

import { TextLayer } from "../common/pdfjs/pdf.min.mjs";
import { loadPdf, pageCanvas, rendered } from "../common/pdf.js";
import { $, h } from "../common/dom.js";
import { documentBytes, noteOn, saveNote } from "./reader.js";
import { searchKey, searchPages } from "./library.js";

/** The zoom steps, as a share of the page's own size. */
const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
/** How many of the pages a search found are named in its result. */
const SHOWN_PAGES = 8;
/** A note is written to the device this long after the last key press (and at once on leaving the page). */
const NOTE_SAVE_MS = 400;

/** The reader's state; one document at a time. */
const state = {
  t: null,
  loading: null, // pdf.js's loading task, which ends the document when destroyed
  pdf: null,
  doc: null, // the DocumentView being read
  page: 1,
  fit: true, // fit the page to the width of the screen, else `zoom`
  zoom: 1,
  scale: 1, // the scale the page was last drawn at
  task: null, // the page render under way
  drawing: 0, // which draw is the latest; an older one stops at its next step
  texts: null, // every page's text, read once for search
  hits: [], // [{page, count}] of the last search
  query: "",
  noteTimer: null,
  noteSaved: false, // whether "saved" shows under the note
  suspended: false,
};

/** Opens `doc` (a DocumentView) of `meetingId` at `page`, from the device's copy or the server. */
export async function openDocument({ meetingId, doc, token, page = 1 }, t) {
  await closeDocument();
  Object.assign(state, { t, doc, page, fit: true, zoom: 1, texts: null, hits: [], query: "", suspended: false });
  const root = $("reader");
  root.hidden = false;
  root.dataset.state = "loading";
  document.body.classList.add("reading");
  $("reader-title").textContent = doc.title;
  $("reader-search").value = "";
  $("reader-search-result").textContent = "";
  $("reader-count").textContent = "";
  $("reader-outline-toggle").hidden = true;
  $("reader-outline").hidden = true;
  $("reader-sheet").replaceChildren();
  delete $("reader-sheet").dataset.page;
  showStatus("reader.loading");
  try {
    const data = await documentBytes(meetingId, doc, token);
    state.loading = loadPdf(data);
    state.pdf = await state.loading.promise;
  } catch {
    root.dataset.state = "failed";
    showStatus("reader.unavailable");
    return;
  }
  root.dataset.state = "open";
  showStatus(null);
  state.page = Math.min(Math.max(1, page), state.pdf.numPages);
  await drawOutline();
  await showPage(state.page);
}

/** Closes the reader, keeping the note being written. */
export async function closeDocument() {
  await flushNote();
  state.task?.cancel();
  const { loading } = state;
  Object.assign(state, { pdf: null, loading: null, doc: null, task: null, suspended: false });
  state.drawing++;
  $("reader").hidden = true;
  $("reader").dataset.state = "closed";
  document.body.classList.remove("reading");
  // Ends the document in the worker; the worker stays for the next one.
  await loading?.destroy();
}

/** The document and page being read, or null when the reader is closed. */
export function readingPlace() {
  return state.pdf ? { sha256: state.doc.sha256, page: state.page } : null;
}

/** Turns the open document to page `n` (following the presenter). */
export function turnReaderTo(n) {
  if (state.pdf && !state.suspended) showPage(n);
}

/** Hides the reader without closing it, so that a vote can take the screen. */
export async function suspendReading() {
  if (!state.pdf || state.suspended) return;
  state.suspended = true;
  $("reader").hidden = true;
  document.body.classList.remove("reading");
  await flushNote();
}

/** Shows the reader again at the page it was on. */
export function resumeReading() {
  if (!state.pdf || !state.suspended) return;
  state.suspended = false;
  $("reader").hidden = false;
  document.body.classList.add("reading");
  showPage(state.page);
}

/** Whether the reader is hidden for a vote and waits to come back. */
export function readingSuspended() {
  return Boolean(state.pdf) && state.suspended;
}

/** Redraws the reader's words after a change of language. */
export function applyReaderWords() {
  if (!state.pdf) return;
  renderPageNumbers();
  renderSearchResult();
  $("reader-note-label").textContent = state.t("reader.note.label", { page: state.page });
  if (state.noteSaved) $("reader-note-saved").textContent = state.t("reader.note.saved");
}

function showStatus(key) {
  const status = $("reader-status");
  status.hidden = !key;
  status.textContent = key ? state.t(key) : "";
}

async function showPage(n) {
  if (!state.pdf) return;
  await flushNote();
  state.page = Math.min(Math.max(1, n), state.pdf.numPages);
  renderPageNumbers();
  $("reader-note-label").textContent = state.t("reader.note.label", { page: state.page });
  $("reader-note").value = await noteOn(state.doc.sha256, state.page);
  state.noteSaved = false;
  $("reader-note-saved").textContent = "";
  await draw();
}

function renderPageNumbers() {
  const total = state.pdf.numPages;
  $("reader-page").value = String(state.page);
  $("reader-page").max = String(total);
  $("reader-count").textContent = state.t("reader.of_pages", { total });
  $("reader-prev").disabled = state.page <= 1;
  $("reader-next").disabled = state.page >= total;
  $("reader-zoom-level").textContent = `${Math.round(state.scale * 100)}%`;
}

/** Draws the current page: the canvas at the screen's pixel density, then its text for search and selection. */
async function draw() {
  const turn = ++state.drawing;
  const page = await state.pdf.getPage(state.page);
  if (turn !== state.drawing) return;
  const stage = $("reader-stage");
  const natural = page.getViewport({ scale: 1 });
  const width = stage.clientWidth - 2 * parseFloat(getComputedStyle(stage).paddingLeft);
  const scale = state.fit ? Math.max(0.25, width / natural.width) : state.zoom;
  const viewport = page.getViewport({ scale });
  state.task?.cancel();
  const { canvas, task } = pageCanvas(page, viewport);
  state.task = task;
  if (!(await rendered(task)) || turn !== state.drawing) return;
  state.scale = scale;
  // A page fitted to the width turns with a sideways swipe; a zoomed one pans (app.css).
  stage.dataset.fit = String(state.fit);
  const sheet = $("reader-sheet");
  sheet.style.setProperty("--total-scale-factor", String(scale));
  const text = h("div", { class: "textLayer" });
  sheet.replaceChildren(canvas, text);
  await new TextLayer({ textContentSource: await page.getTextContent(), container: text, viewport }).render();
  if (turn !== state.drawing) return;
  markHits(text);
  sheet.dataset.page = String(state.page);
  renderPageNumbers();
}

/** Marks the text of the current page that matches the search. */
function markHits(layer) {
  const needle = searchKey(state.query).trim();
  for (const span of layer.querySelectorAll("span")) {
    span.classList.toggle("highlight", Boolean(needle) && searchKey(span.textContent).includes(needle));
  }
  layer.querySelector(".highlight")?.scrollIntoView({ block: "center" });
}

// ---- search ------------------------------------------------------------------

/** Every page's text, read once per document (items joined as the page reads, a line end as a space). */
async function pageTexts() {
  if (state.texts) return state.texts;
  const texts = [];
  for (let n = 1; n <= state.pdf.numPages; n++) {
    const content = await (await state.pdf.getPage(n)).getTextContent();
    texts.push(content.items.map((item) => item.str + (item.hasEOL ? " " : "")).join(""));
  }
  state.texts = texts;
  return texts;
}

/** Finds `query`, or the next page holding it when it is the query already found. */
async function search(query) {
  if (!state.pdf) return;
  if (query !== state.query) {
    state.query = query;
    state.hits = searchPages(await pageTexts(), query);
    renderSearchResult();
    const first = state.hits.find((hit) => hit.page >= state.page) ?? state.hits[0];
    if (first) await showPage(first.page);
    else await draw();
    return;
  }
  if (state.hits.length === 0) return;
  const next = state.hits.find((hit) => hit.page > state.page) ?? state.hits[0];
  await showPage(next.page);
}

function renderSearchResult() {
  const result = $("reader-search-result");
  const times = state.hits.reduce((sum, hit) => sum + hit.count, 0);
  result.dataset.pages = state.hits.map((hit) => hit.page).join(" ");
  if (!state.query.trim()) result.textContent = "";
  else result.textContent = times ? state.t("reader.found", { times, pages: pageList(state.hits.map((hit) => hit.page)) }) : state.t("reader.not_found");
}

/** "2, 5, 9": the pages found, the first few of them on a long list. */
function pageList(pages) {
  return pages.length > SHOWN_PAGES ? `${pages.slice(0, SHOWN_PAGES).join(", ")}…` : pages.join(", ");
}

// ---- table of contents ---------------------------------------------------------

/** The PDF's outline as a list of links to its pages; hidden when the PDF has none. */
async function drawOutline() {
  const outline = (await state.pdf.getOutline()) ?? [];
  $("reader-outline-toggle").hidden = outline.length === 0;
  const panel = $("reader-outline");
  panel.hidden = true;
  const entryButton = (entry) => {
    const button = h("button", { type: "button", class: "outline-entry" }, entry.title);
    button.addEventListener("click", () => goToOutline(entry));
    return button;
  };
  const list = (entries) => h("ul", {}, entries.map((entry) => h("li", {}, entryButton(entry), entry.items?.length ? list(entry.items) : null)));
  panel.replaceChildren(list(outline));
}

async function goToOutline(entry) {
  const dest = typeof entry.dest === "string" ? await state.pdf.getDestination(entry.dest) : entry.dest;
  if (!dest) return;
  const target = dest[0];
  const index = typeof target === "number" ? target : await state.pdf.getPageIndex(target);
  if (window.matchMedia("(max-width: 800px)").matches) $("reader-outline").hidden = true;
  await showPage(index + 1);
}

// ---- notes ---------------------------------------------------------------------

/** Writes the note being typed now, if a save is waiting. */
async function flushNote() {
  if (state.noteTimer === null) return;
  clearTimeout(state.noteTimer);
  state.noteTimer = null;
  await writeNote();
}

async function writeNote() {
  if (!state.doc) return;
  await saveNote(state.doc.sha256, state.page, $("reader-note").value);
  state.noteSaved = true;
  $("reader-note-saved").textContent = state.t("reader.note.saved");
}

function noteTyped() {
  clearTimeout(state.noteTimer);
  state.noteSaved = false;
  $("reader-note-saved").textContent = "";
  state.noteTimer = setTimeout(() => {
    state.noteTimer = null;
    writeNote();
  }, NOTE_SAVE_MS);
}

// ---- wiring ----------------------------------------------------------------------

/** How far a finger must travel sideways, in CSS pixels, to turn the page. */
const SWIPE_PX = 60;

/**
 * A sideways swipe turns the page, as on paper, when the page fits the
 * screen's width (a zoomed page pans instead); an up-and-down one scrolls.
 */
function wireSwipe(stage) {
  let start = null;
  stage.addEventListener("pointerdown", (event) => {
    start = event.pointerType === "mouse" ? null : { x: event.clientX, y: event.clientY };
  });
  stage.addEventListener("pointerup", (event) => {
    if (!start || !state.pdf) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    const pans = stage.scrollWidth > stage.clientWidth + 1;
    if (pans || Math.abs(dx) < SWIPE_PX || Math.abs(dx) < 2 * Math.abs(dy)) return;
    showPage(state.page + (dx < 0 ? 1 : -1));
  });
  stage.addEventListener("pointercancel", () => {
    start = null;
  });
}

/** Zooms to the next step up (`step` > 0) or down from the scale shown, a fitted one included. */
function zoomBy(step) {
  const up = ZOOMS.find((z) => z > state.scale + 0.01) ?? ZOOMS.at(-1);
  const down = ZOOMS.findLast((z) => z < state.scale - 0.01) ?? ZOOMS[0];
  state.fit = false;
  state.zoom = step > 0 ? up : down;
  draw();
}

/**
 * Shows or hides a side panel; a page fitted to the width is drawn again
 * for the width left to it. Returns whether the panel is hidden now.
 */
function togglePanel(id) {
  const panel = $(id);
  panel.hidden = !panel.hidden;
  if (state.fit) draw();
  return panel.hidden;
}

/** Connects the reader's controls; `onClose` runs after the delegate closes it. */
export function wireReader(onClose) {
  $("reader-close").addEventListener("click", async () => {
    await closeDocument();
    onClose();
  });
  $("reader-prev").addEventListener("click", () => showPage(state.page - 1));
  $("reader-next").addEventListener("click", () => showPage(state.page + 1));
  $("reader-page").addEventListener("change", () => showPage(Number($("reader-page").value) || 1));
  $("reader-zoom-in").addEventListener("click", () => zoomBy(1));
  $("reader-zoom-out").addEventListener("click", () => zoomBy(-1));
  $("reader-fit").addEventListener("click", () => {
    state.fit = true;
    draw();
  });
  $("reader-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("reader-search").value);
  });
  $("reader-outline-toggle").addEventListener("click", () => togglePanel("reader-outline"));
  $("reader-note-toggle").addEventListener("click", () => {
    if (!togglePanel("reader-note-panel")) $("reader-note").focus();
  });
  $("reader-note").addEventListener("input", noteTyped);
  wireSwipe($("reader-stage"));
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => state.pdf && !state.suspended && state.fit && draw(), 150);
  });
  document.addEventListener("keydown", (event) => {
    if (!state.pdf || state.suspended || event.target.closest("input, textarea")) return;
    if (event.key === "ArrowRight" || event.key === "PageDown") showPage(state.page + 1);
    if (event.key === "ArrowLeft" || event.key === "PageUp") showPage(state.page - 1);
  });
}

