// The secretariat's app: enrolls this browser's key with a secretariat code,
// logs in with it, lists the meetings by where they stand, and prepares new
// ones: from nothing, as a copy of another, or from a meeting file; edits a
// stored one in the same editor; any meeting goes out as its file. A
// session under way or finished shows its results, takes the counts of a
// show of hands when the devices failed, and offers its record, minutes
// and results table for download.

import { Refused } from "../common/session.js";
import { loadIdentity } from "../common/keys.js";
import { currentLang, makeTranslator, reasonText, setLang } from "../common/i18n.js";
import { $, h, setText } from "../common/dom.js";
import {
  DOWNLOADS,
  SLOT,
  amendMeeting,
  createMeeting,
  enroll,
  enrollmentCards,
  importMeeting,
  logIn,
  meetingFile,
  meetingDevices,
  meetingDownload,
  meetingForm,
  meetingResults,
  meetings,
  readRoster,
  recordByHand,
  revokeDevice,
} from "./desk.js";
import { closedLine } from "../common/protocol.js";
import { countsOf, countsProblem, renderResults } from "./results.js";
import { hideDocuments, renderDocuments, showDocuments } from "./documents.js";
import { blankForm, fieldPlace, markField, renderEditor } from "./editor.js";
import { WORDS } from "./words.js";

const t = makeTranslator(WORDS);
const STATES = ["in_session", "upcoming", "finished"];
const VIEWS = ["enroll-view", "meetings-view", "editor-view", "cards-view", "devices-view", "results-view", "documents-view"];
/** The name typed for counts recorded by hand, offered again next time on this device. */
const RECORDER = "gavel.admin.recorder";

/** What is on screen, as functions where they are words, so that they follow a language switch. */
let token = null;
let enrollError = null;
let listed = null;
let listError = null;
/** What was just done from the list (a stored meeting's edit saved), or null. */
let listDone = null;
/**
 * The form being edited (`{ form, copyOf, stored }`), or null: `copyOf`,
 * the meeting it copies; `stored`, for an edit of a stored meeting, what
 * the server said of it (`{ id, previous, started, locked }`, `locked` as
 * a Map of item index to reason), and `stale` once someone else saved it
 * first.
 */
let editing = null;
let editorError = null;
/** The field path a refusal of the editor's form names, marked on every drawing. */
let invalidField = null;
/** The enrollment cards on screen (the API's answer), or null. */
let printing = null;
/**
 * The meeting whose devices are on screen and the API's answer (`{ id,
 * devices }`), with the new card of a seat whose device was just revoked
 * (`reissued`) or why revoking failed (`revokeError`); or null.
 */
let watching = null;
/** A spreadsheet read for the roster and not yet used or discarded (see editor.js `rosterPreview`). */
let rosterRead = null;
/**
 * The meeting whose results are on screen (`{ id, view }`, the API's
 * answer), why loading or a download failed (`error`), and what was just
 * recorded (`done`); or null.
 */
let reviewing = null;
/** The count by hand being entered: `{ item, values, error, sending }`, or null. */
let hand = null;

function failure(error) {
  if (!(error instanceof Refused)) return t("enroll.unreachable");
  // A definition that does not pass is told in the file's own terms.
  return error.reason === "invalid_definition" ? error.message : reasonText(t, error.reason);
}

function show(view) {
  for (const id of VIEWS) $(id).hidden = id !== view;
}

function showEnroll(error = null) {
  show("enroll-view");
  enrollError = error;
  render();
  $("enroll-code").focus();
}

async function enrollWith(code) {
  if (!code) return showEnroll(() => t("enroll.empty"));
  const button = $("enroll-button");
  button.disabled = true;
  setText(button, t("enroll.working"));
  try {
    const identity = await enroll(code);
    $("enroll-code").value = "";
    await open(identity);
  } catch (error) {
    showEnroll(() => t("enroll.failed", { reason: failure(error) }));
  } finally {
    button.disabled = false;
    setText(button, t("enroll.button"));
  }
}

/** Logs in with `identity` and lists the meetings; a key the server refuses asks for a new code. */
async function open(identity) {
  try {
    token = await logIn(identity);
  } catch (error) {
    return showEnroll(() => t("enroll.failed", { reason: failure(error) }));
  }
  await showList();
}

async function showList() {
  listDone = null;
  editing = null;
  printing = null;
  watching = null;
  reviewing = null;
  hand = null;
  hideDocuments();
  show("meetings-view");
  try {
    listed = await meetings(token);
    listError = null;
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
  }
  render();
}

// ---- Meetings ---------------------------------------------------------------

/** Saves the meeting file as `ID.toml`, exactly as the server stores it. */
async function download(id) {
  try {
    const text = await meetingFile(token, id);
    const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/toml" })), download: `${id}.toml` });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

async function copy(id) {
  try {
    const { form } = await meetingForm(token, id);
    // A new session has its own id and its own papers.
    form.id = "";
    for (const topic of form.topics) for (const item of topic.items) delete item.documents;
    edit(form, { copyOf: id });
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

/** Opens stored meeting `id` in the editor, as the server has it now. */
async function editStored(id) {
  try {
    const { form, previous, started, locked } = await meetingForm(token, id);
    const reasons = new Map(locked.map((l) => [l.item, l.reason]));
    edit(form, { stored: { id, previous, started, locked: reasons } });
  } catch (error) {
    show("meetings-view");
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

async function importFile(file) {
  try {
    await importMeeting(token, await file.text());
    await showList();
  } catch (error) {
    listError = () => t("meetings.importFailed", { file: file.name, reason: failure(error) });
    render();
  }
}

function meetingRow(m) {
  const action = (name, words, run) => {
    const b = h("button", { type: "button", class: "btn-small", "data-testid": `${name}-${m.id}` }, words);
    b.addEventListener("click", run);
    return b;
  };
  return h(
    "li",
    { class: "meeting", "data-testid": `meeting-${m.id}`, dataset: { state: m.state } },
    h("span", { class: "meeting-body" }, m.body),
    h("span", { class: "meeting-title" }, m.title),
    h("span", { class: "meeting-facts" }, t("meetings.facts", { seats: m.seats, items: m.items }), " · ", h("code", {}, m.id)),
    h("span", { class: "meeting-state", "data-testid": `state-${m.id}` }, t(`state.${m.state}`)),
    h(
      "span",
      { class: "meeting-actions" },
      action("edit", t("meetings.edit"), () => editStored(m.id)),
      action("download", t("meetings.download"), () => download(m.id)),
      action("copy", t("meetings.copy"), () => copy(m.id)),
      action("cards", t("meetings.cards"), () => showCards(m.id)),
      action("devices", t("meetings.devices"), () => showDevices(m.id)),
      m.state === "upcoming" ? null : action("results", t("meetings.results"), () => showResults(m.id)),
      action("documents", t("meetings.documents"), () => {
        show("documents-view");
        showDocuments(m.id, { token: () => token, t, failure });
      }),
    ),
  );
}

// ---- Enrollment cards ---------------------------------------------------------

/** Issues a new code for every seat and shows the cards, one A4 page each when printed. */
async function showCards(id) {
  try {
    printing = await enrollmentCards(token, id);
    show("cards-view");
    render();
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

function card(c, meeting) {
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(c.qr_svg)}`;
  return h(
    "article",
    { class: "card", "data-testid": `card-${c.seat}` },
    h("p", { class: "card-meeting" }, meeting.body, h("br"), meeting.title),
    h("p", { class: "card-seat" }, t("cards.seat", { n: c.seat })),
    h("p", { class: "card-name" }, c.name),
    h("p", { class: "card-group" }, [c.group, c.title].filter(Boolean).join(" · ")),
    h("img", { class: "card-qr", src: qr, alt: t("cards.qrAlt", { n: c.seat }) }),
    h("p", { class: "card-code", "data-testid": `card-code-${c.seat}` }, c.code),
    h("p", { class: "card-how" }, t("cards.how")),
  );
}

// ---- Devices --------------------------------------------------------------------

/** Lists which seats have an enrolled device, which are connected, and when each was last seen. */
async function showDevices(id, reissued = null) {
  try {
    watching = { id, reissued, ...(await meetingDevices(token, id)) };
    show("devices-view");
    render();
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

/** Revokes a lost tablet's key, after asking, and shows the seat's new card. */
async function revoke(d) {
  if (!confirm(t("devices.confirm", { n: d.seat, name: d.name }))) return;
  try {
    const reissued = await revokeDevice(token, watching.id, d.seat);
    const { title, body } = listed.find((m) => m.id === watching.id) ?? { title: "", body: "" };
    await showDevices(watching.id, { ...reissued, meeting: { title, body } });
  } catch (error) {
    watching.revokeError = () => t("devices.revokeFailed", { n: d.seat, reason: failure(error) });
    render();
  }
}

function lastSeen(d) {
  if (d.online) return t("devices.online");
  if (d.last_seen === undefined) return d.enrolled ? t("devices.notSeen") : "—";
  return new Date(d.last_seen).toLocaleString(document.documentElement.lang);
}

function deviceRow(d) {
  const at = d.seat ?? "chair";
  return h(
    "tr",
    { "data-testid": `device-${at}`, dataset: { enrolled: String(d.enrolled), online: String(d.online) } },
    h("td", {}, d.seat === undefined ? "" : String(d.seat)),
    h("td", {}, d.seat === undefined ? t("devices.chair") : d.name),
    h("td", {}, d.group),
    h("td", { class: d.enrolled ? "enrolled" : "missing" }, t(d.enrolled ? "devices.enrolled" : "devices.missing")),
    h("td", { class: d.online ? "online" : "" }, lastSeen(d)),
    h(
      "td",
      {},
      d.seat !== undefined && d.enrolled
        ? (() => {
            const b = h("button", { type: "button", class: "btn-small", "data-testid": `revoke-${d.seat}` }, t("devices.revoke"));
            b.addEventListener("click", () => revoke(d));
            return b;
          })()
        : null,
    ),
  );
}

// ---- Results, counts by hand and downloads ---------------------------------------

/** Shows the meeting's items and results, with its downloads. */
async function showResults(id) {
  try {
    const view = await meetingResults(token, id);
    reviewing = { id, view, error: reviewing?.id === id ? reviewing.error : null, done: reviewing?.id === id ? reviewing.done : null };
    show("results-view");
    render();
  } catch (error) {
    if (reviewing?.id === id) {
      reviewing.error = () => t("results.failed", { reason: failure(error) });
      return render();
    }
    listError = () => t("meetings.failed", { reason: failure(error) });
    render();
  }
}

const handActions = {
  open(item) {
    hand = { item, values: { by: localStorage.getItem(RECORDER) ?? "" }, error: null, sending: false };
    if (reviewing) reviewing.done = null;
    render();
    document.getElementById("hand-present")?.focus();
  },
  cancel() {
    hand = null;
    render();
  },
  async save(item) {
    hand.sending = true;
    hand.error = null;
    render();
    const counted = reviewing.view.items[item];
    const counts = countsOf(hand.values, counted);
    try {
      await recordByHand(token, reviewing.id, item, counts);
      localStorage.setItem(RECORDER, counts.by.trim());
      const title = counted?.title ?? "";
      hand = null;
      reviewing.done = () => t("hand.done", { n: item + 1, title });
      await showResults(reviewing.id);
    } catch (error) {
      hand.sending = false;
      const field = error instanceof Refused ? error.field : undefined;
      const reason = () =>
        error instanceof Refused && error.reason === "invalid_counts"
          ? countsProblem(t, field, counts, reviewing.view.total_seats, counted)
          : failure(error);
      hand.error = { field, text: () => t("hand.refused", { reason: reason() }) };
      render();
    }
  },
};

/** Saves one of the meeting's downloads under its own name. */
async function saveDownload(item) {
  try {
    const blob = await meetingDownload(token, reviewing.id, item);
    const link = h("a", { href: URL.createObjectURL(blob), download: item.file(reviewing.id) });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    reviewing.error = () => t("results.downloadFailed", { file: item.file(reviewing.id), reason: failure(error) });
    render();
  }
}

function renderReview() {
  const { view } = reviewing;
  setText($("results-lead"), t("results.lead", { title: view.title, body: view.body, state: t(`state.${view.state}`) }));
  const closed = closedLine(t, view.closed_at ?? null, currentLang());
  setText($("results-closed"), closed ?? "");
  $("results-closed").hidden = closed === null;
  $("download-buttons").replaceChildren(
    ...DOWNLOADS.map((item) => {
      const b = h("button", { type: "button", class: "btn-secondary", "data-testid": `download-${item.key}` }, t(`downloads.${item.key}`));
      b.addEventListener("click", () => saveDownload(item));
      return b;
    }),
  );
  $("downloads").hidden = view.state === "upcoming";
  setText($("results-error"), reviewing.error?.() ?? "");
  $("results-error").hidden = !reviewing.error;
  setText($("results-done"), reviewing.done?.() ?? "");
  $("results-done").hidden = !reviewing.done;
  renderResults($("results"), view, t, currentLang(), hand, handActions);
}

// ---- Editor -------------------------------------------------------------------

/** Opens `form` in the editor: a new meeting, a copy (`copyOf`) or a stored meeting's edit (`stored`). */
function edit(form, { copyOf = null, stored = null } = {}) {
  editing = { form, copyOf, stored, stale: false };
  editorError = null;
  invalidField = null;
  rosterRead = null;
  show("editor-view");
  render();
  $("editor").querySelector(stored ? "[data-field=title]" : "[data-field=id]").focus();
}

/**
 * Reads a spreadsheet for the roster into a preview; nothing goes into the
 * meeting until the secretariat uses it, and a sheet with any problem
 * gives none of its rows.
 */
async function readSheet(file, encoding) {
  const seats = editing.form.total_seats;
  if (!(seats > 0)) {
    rosterRead = { file: file.name, error: () => t("editor.rosterNeedsSeats") };
    return render();
  }
  try {
    rosterRead = { file: file.name, ...(await readRoster(token, file, seats, encoding)) };
  } catch (error) {
    rosterRead = error instanceof Refused && error.problems
      ? { file: file.name, problems: error.problems }
      : { file: file.name, error: () => t("editor.rosterFailed", { file: file.name, reason: failure(error) }) };
  }
  render();
}

const rosterActions = {
  read: readSheet,
  accept() {
    editing.form.seats = rosterRead.seats;
    editing.form.total_seats = rosterRead.seats.length;
    rosterRead = null;
    render();
  },
  discard() {
    rosterRead = null;
    render();
  },
};

/**
 * Saves a new meeting, or a stored meeting's edit over the version it was
 * opened at. A refusal marks the field it names; a save refused because
 * someone else saved first offers to open their version.
 */
async function save() {
  const button = $("editor-save");
  button.disabled = true;
  invalidField = null;
  const { stored } = editing;
  try {
    if (stored) {
      await amendMeeting(token, stored.id, stored.previous, editing.form);
      await showList();
      listDone = () => t("meetings.amended", { id: stored.id });
      return render();
    }
    await createMeeting(token, editing.form);
    await showList();
  } catch (error) {
    const field = error instanceof Refused ? error.field : undefined;
    // Someone else's save came first: this edit was made to a version that is gone.
    editing.stale = error instanceof Refused && error.reason === "meeting_changed";
    if (editing.stale) {
      editorError = () => t("editor.refused", { reason: t("editor.stale") });
      return render();
    }
    if (field === undefined) {
      editorError = () => t("editor.refused", { reason: failure(error) });
      return render();
    }
    invalidField = field;
    editorError = () =>
      t("editor.refused", { reason: `${fieldPlace(field, $("editor").querySelector(".invalid"), t)}: ${failure(error)}` });
    render();
  } finally {
    button.disabled = false;
  }
}

// ---- Drawing ------------------------------------------------------------------

function render() {
  for (const node of document.querySelectorAll("[data-i18n]")) setText(node, t(node.dataset.i18n));
  setText($("lang-toggle"), t("language"));
  document.title = `Gavel — ${t("app.role")}`;
  setText($("enroll-error"), enrollError?.() ?? "");
  $("enroll-error").hidden = !enrollError;
  setText($("meetings-error"), listError?.() ?? "");
  $("meetings-error").hidden = !listError;
  setText($("meetings-done"), listDone?.() ?? "");
  $("meetings-done").hidden = !listDone;
  for (const state of STATES) {
    const rows = (listed ?? []).filter((m) => m.state === state).map(meetingRow);
    $(`meetings-${state}`).replaceChildren(...(rows.length ? rows : [h("li", { class: "none" }, t("meetings.none"))]));
  }
  if (editing) {
    const { copyOf, stored } = editing;
    const heading = stored
      ? t("editor.editHeading", { id: stored.id })
      : copyOf
        ? t("editor.copyHeading", { id: copyOf })
        : t("editor.newHeading");
    setText($("editor-heading"), heading);
    setText($("editor-save"), t(stored ? "editor.saveChanges" : "editor.save"));
    $("editor-reload").hidden = !editing.stale;
    // Kept in sight over the whole form: what is saved now goes into the minutes.
    setText($("editor-started"), stored?.started ? t("editor.started") : "");
    $("editor-started").hidden = !stored?.started;
    const preview = rosterRead && { ...rosterRead, error: rosterRead.error?.() };
    renderEditor($("editor"), editing.form, t, { preview, ...rosterActions }, stored);
    if (invalidField !== null) markField($("editor"), invalidField);
  }
  if (printing) {
    setText($("cards-lead"), t("cards.lead", { count: printing.cards.length }));
    $("cards").replaceChildren(...printing.cards.map((c) => card(c, printing)));
  }
  if (watching) {
    const seats = watching.devices.filter((d) => d.seat !== undefined);
    const count = (f) => seats.filter(f).length;
    setText(
      $("devices-lead"),
      t("devices.lead", { id: watching.id, enrolled: count((d) => d.enrolled), count: seats.length, online: count((d) => d.online) }),
    );
    $("devices").replaceChildren(...watching.devices.map(deviceRow));
    const reissued = watching.reissued;
    $("reissued").hidden = !reissued;
    setText($("reissued-lead"), reissued ? t("devices.reissued", { n: reissued.seat, name: reissued.name }) : "");
    $("reissued-card").replaceChildren(...(reissued ? [card(reissued, reissued.meeting)] : []));
    setText($("devices-error"), watching.revokeError?.() ?? "");
    $("devices-error").hidden = !watching.revokeError;
  }
  if (reviewing) renderReview();
  renderDocuments(t);
  setText($("editor-error"), editorError?.() ?? "");
  $("editor-error").hidden = !editorError;
}

async function start() {
  document.documentElement.lang = currentLang();
  $("lang-toggle").addEventListener("click", () => {
    setLang(currentLang() === "vi" ? "en" : "vi");
    render();
  });
  $("enroll-form").addEventListener("submit", (event) => {
    event.preventDefault();
    enrollWith($("enroll-code").value.trim());
  });
  $("new-meeting").addEventListener("click", () => edit(blankForm()));
  $("import-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) importFile(file);
  });
  $("editor-cancel").addEventListener("click", showList);
  $("editor-reload").addEventListener("click", () => editStored(editing.stored.id));
  $("cards-back").addEventListener("click", showList);
  $("devices-back").addEventListener("click", showList);
  $("documents-back").addEventListener("click", showList);
  $("devices-refresh").addEventListener("click", () => showDevices(watching.id));
  $("results-back").addEventListener("click", showList);
  $("results-refresh").addEventListener("click", () => showResults(reviewing.id));
  $("cards-print").addEventListener("click", () => print());
  $("editor-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  render();
  const identity = await loadIdentity(SLOT);
  if (identity) await open(identity);
  else showEnroll();
}

start();
