// The chair's console: enrolls the chair's key, follows the meeting over one
// live session, and sends the chair's commands (move through the agenda,
// open, extend, pause, resume, close, void, a list set before its vote). Everything on screen is drawn from the
// session's state on each "change"; nothing polls the server.

import { Refused, Session, enroll } from "../common/session.js";
import { loadIdentity } from "../common/keys.js";
import { currentLang, makeTranslator, reasonText, setLang } from "../common/i18n.js";
import { describeRule, formatPercent, yesNeeded } from "../common/rules.js";
import { isPaused } from "../common/countdown.js";
import { renderBoard } from "./board.js";
import { buildAgenda, renderHistory, updateAgenda } from "./agenda.js";
import { $, setAttr, setText } from "../common/dom.js";
import { renderCountdown, renderItemPanel, renderTally } from "./panel.js";
import { seatStates } from "../common/seatmap.js";
import { buildSeatMap, renderLegend, renderSeatDetail, updateSeatMap } from "./seatmap.js";
import { WORDS } from "./words.js";
import { floorCommand, renderFloor, renderFloorClock } from "./floor.js";
import { presentCommand, renderPresenting } from "./present.js";
import { renderList, wireList } from "./list.js";
import { closedLine } from "../common/protocol.js";

const SLOT = "chair";
const t = makeTranslator(WORDS);

let session = null;
/** The command waiting for its answer, if any: buttons stay disabled meanwhile. */
let busy = null;
/** The latest view, for the countdown timer between changes. */
let view = null;

// ---- Enrollment -------------------------------------------------------------

/** The enrollment screen's notice and error, as functions so that they follow a language switch. */
let enrollNotice = null;
let enrollError = null;

function renderEnrollWords() {
  setText($("enroll-notice"), enrollNotice?.() ?? "");
  $("enroll-notice").hidden = !enrollNotice;
  setText($("enroll-error"), enrollError?.() ?? "");
  $("enroll-error").hidden = !enrollError;
}

function showEnroll(notice = null) {
  $("console-view").hidden = true;
  $("keys").hidden = true;
  $("enroll-view").hidden = false;
  enrollNotice = notice;
  renderEnrollWords();
  $("enroll-code").focus();
}

function showEnrollError(error) {
  enrollError = error;
  renderEnrollWords();
}

/** A one-time code in the link (`?code=`) is used once and removed, so it is not left in the history. */
function takeCodeFromUrl() {
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  if (!code) return null;
  url.searchParams.delete("code");
  history.replaceState(null, "", url);
  return code.trim();
}

async function enrollWith(code) {
  showEnroll();
  $("enroll-code").value = code;
  if (!code) return showEnrollError(() => t("enroll.empty"));
  const button = $("enroll-button");
  button.disabled = true;
  setText(button, t("enroll.working"));
  showEnrollError(null);
  try {
    const identity = await enroll(code, SLOT, (principal) => principal === "chair");
    $("enroll-code").value = "";
    useIdentity(identity);
  } catch (error) {
    if (error instanceof Refused && error.reason === "wrong_principal") {
      return showEnrollError(() => t("enroll.notChair", { seat: error.principal?.seat ?? "?" }));
    }
    showEnrollError(
      error instanceof Refused ? () => t("enroll.failed", { reason: reasonText(t, error.reason) }) : () => t("enroll.unreachable"),
    );
  } finally {
    button.disabled = false;
    setText(button, t("enroll.button"));
  }
}

/** Starts the console with a saved identity, unless it speaks for a seat rather than the chair. */
function useIdentity(identity) {
  if (identity.principal !== "chair") {
    return showEnroll(() => t("enroll.notChair", { seat: identity.principal?.seat ?? "?" }));
  }
  session?.stop();
  session = new Session({ identity });
  session.addEventListener("change", scheduleRender);
  session.start();
  scheduleRender();
}

// ---- Rendering ----------------------------------------------------------------

let renderPending = false;

/** Live tallies can arrive every 25 ms: draw at most once per frame. */
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function makeView() {
  const { meeting, snapshot } = session;
  const index = snapshot.current_item;
  const item = index === null ? null : meeting.agenda[index];
  return {
    t,
    lang: currentLang(),
    session,
    meeting,
    snapshot,
    index,
    item,
    state: index === null ? null : snapshot.items[index],
    open: session.openRound,
    // Once the session is closed nothing more can be done: the buttons rest.
    ready: session.status === "online" && snapshot.closed_at == null,
    busy,
  };
}

function renderConnection() {
  const status = session?.status ?? "connecting";
  const words = status === "online" ? t("conn.online") : t(`conn.${status}`);
  document.body.dataset.conn = status;
  const conn = $("conn");
  conn.hidden = !session;
  setAttr(conn, "data-state", status);
  setText(conn, words);
  const badge = $("conn-badge");
  badge.hidden = !session || status === "online" || status === "refused";
  setText(badge, words);
}

/**
 * While the server cannot write to its database nothing new is recorded, so
 * the chair must see it at once; the banner goes when the server says the
 * store is back (it retries by itself).
 */
function renderStore(v) {
  const banner = $("store-banner");
  banner.hidden = v.snapshot.store !== "unavailable";
  setText(banner, t("store.unavailable"));
}

/** The header names the council and the session. */
function renderHeader(meeting) {
  setText($("body-name"), meeting.body);
  setText($("meeting-title"), meeting.title);
  document.title = `${t("app.role")} — ${meeting.title}`;
}

/**
 * What changes only with the meeting's view or the language is drawn once
 * per pair: a view fetched anew (an amended agenda, a new document) has a
 * new hash.
 */
let built = "";
let lastSnapshot = null;
let lastCurrent = undefined;

function buildOnce(v) {
  // A new view (the meeting was amended) redraws the agenda too.
  const key = `${v.meeting.id}|${session.viewHash}|${v.lang}`;
  if (key === built) return;
  built = key;
  // Which view the console shows: what a test waits on after an amendment.
  document.body.dataset.view = session.viewHash;
  renderHeader(v.meeting);
  buildAgenda($("agenda"), v);
  buildSeatMap($("seat-map"), v.meeting);
  lastSnapshot = null;
  lastCurrent = undefined;
}

/** Agenda states and history change only with a snapshot, not with live tallies. */
function renderSnapshotParts(v) {
  if (v.snapshot === lastSnapshot) return;
  lastSnapshot = v.snapshot;
  updateAgenda($("agenda"), v);
  renderHistory($("history-rows"), $("history-empty"), v);
  if (v.index !== lastCurrent) {
    lastCurrent = v.index;
    $("agenda").querySelector(".agenda-item.current")?.scrollIntoView({ block: "nearest" });
  }
}

function renderAttendance(v) {
  const present = v.snapshot.present;
  const total = v.meeting.total_seats;
  setText($("present-count"), present);
  setAttr($("present-count"), "data-total", total);
  setText($("present-total"), `/${total}`);
  setText($("present-words"), `${t("attendance.present")} · ${formatPercent(present, total, v.lang)}`);
  // The meeting's quorum is a share of all seats, counted as a rule counts yes votes.
  const rule = { base: "all_seats", threshold: v.meeting.quorum };
  const quorum = yesNeeded(rule, { total_seats: total });
  const quorumLine = $("quorum");
  setText(quorumLine, t(present >= quorum ? "attendance.quorumOk" : "attendance.quorumLow", { quorum, rule: describeRule(rule, t) }));
  setAttr(quorumLine, "data-ok", present >= quorum);
}

/** The seat under the pointer (or last tapped), described below the map. */
let pointedSeat = null;

function renderSeats(v) {
  const states = seatStates(v.snapshot.present_seats, v.open);
  updateSeatMap($("seat-map"), v, states);
  renderLegend($("seat-legend"), v);
  renderSeatDetail($("seat-detail"), v, states, pointedSeat);
}

function render() {
  if (session?.status === "refused") {
    const reason = session.refusal?.reason;
    session.stop();
    session = null;
    renderConnection();
    return showEnroll(() => t("enroll.refused", { reason: reasonText(t, reason) }));
  }
  renderConnection();
  if (!session?.snapshot || !session.meeting) return;
  $("enroll-view").hidden = true;
  $("console-view").hidden = false;
  $("keys").hidden = false;
  view = makeView();
  buildOnce(view);
  renderSnapshotParts(view);
  renderStore(view);
  renderSessionClosed(view);
  renderItemPanel(view);
  renderCountdown(view);
  renderTally(view);
  renderBoard(view);
  renderFloor(view);
  renderPresenting(view);
  renderList(view);
  renderAttendance(view);
  renderSeats(view);
  // A vote that ended by itself while the chair was asked to void it needs no answer.
  if (!view.open && $("void-dialog").open) $("void-dialog").close();
}

// ---- Commands -----------------------------------------------------------------

/** How long a refusal stays on screen unless dismissed or followed by a successful command. */
const ERROR_SECONDS = 12;
let errorTimer = null;

function showError(action, reason, detail) {
  const box = $("chair-error");
  setAttr(box, "data-reason", reason);
  setText($("chair-error-text"), `${t(`action.${action}`)}: ${detail ?? reasonText(t, reason)}.`);
  box.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(clearError, ERROR_SECONDS * 1000);
}

function clearError() {
  clearTimeout(errorTimer);
  $("chair-error").hidden = true;
  setAttr($("chair-error"), "data-reason", null);
}

/** The server's "invalid_command" covers several cases; say which one the chair hit. */
function explain(action, reason) {
  if (reason !== "invalid_command") return undefined;
  if (action === "set_item" && session.openRound) return t("error.voteOpen");
  // Another console of the chair may have pressed first.
  if (action === "pause") return t("error.alreadyPaused");
  if (action === "resume") return t("error.notPaused");
  return undefined;
}

/** Sends one chair command; refusals are shown in words, and only one command is in flight. */
async function command(cmd) {
  if (!session || busy) return;
  busy = cmd.action;
  scheduleRender();
  try {
    await session.chair(cmd);
    clearError();
  } catch (error) {
    const reason = error instanceof Refused ? error.reason : "other";
    showError(cmd.action, reason, explain(cmd.action, reason));
  } finally {
    busy = null;
    scheduleRender();
  }
}

/**
 * Downloads the meeting's record (the bundle `gavel verify` checks): the
 * server answers with a link that works once, within a minute.
 */
async function downloadRecord() {
  if (!session) return;
  try {
    const { url } = await session.exportRecord();
    const link = document.createElement("a");
    link.href = url;
    link.download = `${session.meeting.id}.record.json`;
    link.click();
    clearError();
  } catch (error) {
    const reason = error instanceof Refused ? error.reason : "other";
    showError("export", reason);
  }
}

/** A whole number of seconds from an input, or null when it is not one within [min, max]. */
function secondsFrom(input, min, max) {
  const value = Number(input.value);
  return Number.isInteger(value) && value >= min && value <= max ? value : null;
}

function openVote() {
  const raw = $("window-seconds").value.trim();
  const seconds = raw === "" ? null : secondsFrom($("window-seconds"), 1, 86400);
  if (raw !== "" && seconds === null) return showError("open", "invalid_command", t("error.window"));
  command({ action: "open", window_seconds: seconds });
}

function extend(seconds) {
  if (seconds === null) return showError("extend", "invalid_command", t("error.extend"));
  command({ action: "extend", seconds });
}

function setItem(item) {
  if (!view || item < 0 || item >= view.meeting.agenda.length) return;
  command({ action: "set_item", item });
}

/** One step through the agenda; with no current item, the first one. */
function moveBy(step) {
  if (!view) return;
  setItem(view.index === null ? 0 : view.index + step);
}

/** Closing the session is final, so it asks first; the safe answer has the focus. */
function askCloseSession() {
  const dialog = $("close-session-dialog");
  dialog.returnValue = "";
  dialog.showModal();
}

/** Once the session is closed: said above the item, and the close is offered no more (PROTOCOL.md §9.9). */
function renderSessionClosed(v) {
  const closedAt = v.snapshot.closed_at ?? null;
  $("close-session").hidden = closedAt !== null;
  $("session-closed").hidden = closedAt === null;
  setText($("session-closed"), closedAt === null ? "" : closedLine(t, closedAt, v.lang));
}

/** Voiding discards ballots, so it asks first; the safe answer has the focus. */
function askVoid() {
  const dialog = $("void-dialog");
  dialog.returnValue = "";
  dialog.showModal();
}

// ---- Wiring ---------------------------------------------------------------------

/** Shortcuts press the same buttons the mouse does, so they obey the same enabled state. */
function press(id) {
  const button = $(id);
  if (!button.disabled && !button.closest("[hidden]")) button.click();
}

const SHORTCUTS = {
  KeyO: () => press("open-vote"),
  KeyC: () => press("close-vote"),
  KeyE: () => press("extend-vote"),
  KeyV: () => press("void-vote"),
  KeyA: () => press("announce-result"),
  // Pause and resume share a key: only the one that fits is shown.
  KeyP: () => press(isPaused(view?.open) ? "resume-vote" : "pause-vote"),
  KeyN: () => press("next-item"),
  ArrowDown: () => view?.ready && moveBy(1),
  ArrowUp: () => view?.ready && moveBy(-1),
};

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if ($("console-view").hidden || $("void-dialog").open || $("close-session-dialog").open) return;
  const action = SHORTCUTS[event.code];
  if (!action || (event.repeat && event.code.startsWith("Key"))) return;
  event.preventDefault();
  action();
}

function pointSeat(event) {
  const tile = event.target.closest(".seat");
  if (!tile || !view) return;
  pointedSeat = Number(tile.dataset.seat);
  renderSeats(view);
}

/** A mouse leaving the map clears the detail; a tapped seat stays described until the next tap. */
function leaveSeats(event) {
  if (event.pointerType !== "mouse" || !view) return;
  pointedSeat = null;
  renderSeats(view);
}

/** Words in the static markup carry `data-i18n`; they are set again on a language switch. */
function applyStaticWords() {
  document.documentElement.lang = currentLang();
  for (const node of document.querySelectorAll("[data-i18n]")) setText(node, t(node.dataset.i18n));
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  setText($("lang-toggle"), t("language"));
  renderEnrollWords();
  if (session?.meeting) renderHeader(session.meeting);
}

function switchLanguage() {
  setLang(currentLang() === "vi" ? "en" : "vi");
  applyStaticWords();
  clearError();
  render();
}

function wire() {
  $("enroll-form").addEventListener("submit", (event) => {
    event.preventDefault();
    enrollWith($("enroll-code").value.trim());
  });
  $("lang-toggle").addEventListener("click", switchLanguage);
  $("export-record").addEventListener("click", downloadRecord);
  $("agenda").addEventListener("click", (event) => {
    const button = event.target.closest(".agenda-item");
    if (button) setItem(Number(button.dataset.index));
  });
  $("open-vote").addEventListener("click", openVote);
  $("next-item").addEventListener("click", () => moveBy(1));
  $("extend-vote").addEventListener("click", () => extend(30));
  $("extend-custom").addEventListener("click", () => extend(secondsFrom($("extend-seconds"), 1, 3600)));
  $("pause-vote").addEventListener("click", () => command({ action: "pause" }));
  $("resume-vote").addEventListener("click", () => command({ action: "resume" }));
  $("announce-result").addEventListener("click", () => command({ action: "announce" }));
  $("close-vote").addEventListener("click", () => command({ action: "close" }));
  $("void-vote").addEventListener("click", askVoid);
  $("close-session").addEventListener("click", askCloseSession);
  $("close-session-dialog").addEventListener("close", () => {
    if ($("close-session-dialog").returnValue === "confirm") command({ action: "close_session" });
  });
  $("void-dialog").addEventListener("close", () => {
    if ($("void-dialog").returnValue === "confirm") command({ action: "void" });
  });
  $("chair-error-dismiss").addEventListener("click", clearError);
  $("floor-panel").addEventListener("click", (event) => {
    const typed = $("floor-limit").value.trim();
    const limit = typed === "" ? null : secondsFrom($("floor-limit"), 1, 3600);
    if (typed !== "" && limit === null) return showError("floor_give", "invalid_command", t("error.turnLimit"));
    const cmd = floorCommand(event.target, limit);
    if (!cmd) return;
    // A limit is for one turn: the next one starts from the kind's again.
    if (cmd.action === "floor_give") $("floor-limit").value = "";
    command(cmd);
  });
  $("present-panel").addEventListener("click", (event) => {
    const cmd = presentCommand(event.target, session?.snapshot?.presentation);
    if (cmd) command(cmd);
  });
  $("floor-guest").addEventListener("submit", (event) => {
    event.preventDefault();
    const guest = { name: $("guest-name").value.trim(), post: $("guest-post").value.trim() };
    if (!guest.name) return showError("floor_add", "invalid_command", t("error.guestName"));
    command({ action: "floor_add", kind: "speak", speaker: { guest }, respondent: null, topic: null }).then(() => {
      if ($("chair-error").hidden) $("floor-guest").reset();
    });
  });
  wireList(scheduleRender, command);
  for (const type of ["pointerover", "focusin", "click"]) $("seat-map").addEventListener(type, pointSeat);
  $("seat-map").addEventListener("pointerleave", leaveSeats);
  document.addEventListener("keydown", onKey);
  // Only the countdown moves between changes; it reads the server's clock.
  setInterval(() => {
    renderCountdown(view);
    renderFloorClock(view);
  }, 250);
}

async function boot() {
  setLang(currentLang());
  applyStaticWords();
  wire();
  renderConnection();
  const code = takeCodeFromUrl();
  if (code !== null) return enrollWith(code);
  const identity = await loadIdentity(SLOT);
  if (identity) useIdentity(identity);
  else showEnroll();
}

boot();
