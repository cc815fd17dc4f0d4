// The delegate's tablet: enroll once with the seat's code, then check in,
// follow the agenda and vote. The session (../common/session.js) holds the
// meeting's state and reconnects by itself; this file turns presses into
// requests and keeps the little the page must remember between renders.

import { forgetIdentity, loadIdentity } from "../common/keys.js";
import { enroll, Refused, Session } from "../common/session.js";
import { currentLang, makeTranslator, setLang } from "../common/i18n.js";
import { WORDS } from "./words.js";
import { applyWords, render, renderCountdown } from "./view.js";

const SLOT = "tablet";
const COUNTDOWN_TICK_MS = 250;
const t = makeTranslator(WORDS);
const $ = (id) => document.getElementById(id);

/** The page's own state; everything about the meeting is in `session`. */
const ui = {
  booting: true,
  session: null,
  identity: null,
  meetingInfo: null, // {title, body} shown on the enrollment screen when the server hosts one meeting
  enrollBusy: false,
  enrollError: null,
  enrolledNotice: false,
  checkingIn: false,
  checkInError: null,
  pending: null, // {round, choice}: a press waiting for the server's answer ("paper" for a paper)
  paper: null, // {round, marks: Map(entry → mark), step: "mark" | "review"}: a paper being filled in
  refusal: null, // {round, reason}: the server's last refusal of a press
};

function update() {
  render(ui, t);
}

// ---- enrollment ----------------------------------------------------------

/** Takes a `?code=` from a link or QR code out of the address, so a reload does not reuse it. */
function takeCodeFromUrl() {
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  if (code === null) return null;
  url.searchParams.delete("code");
  history.replaceState(null, "", url);
  return code;
}

/** The words for why enrolling failed: the server's reason, or what went wrong here. */
function enrollFailure(error) {
  if (error instanceof Refused) return error.reason;
  if (error?.name === "NotSupportedError") return "no_ed25519";
  return "offline";
}

async function submitCode(typed) {
  const code = typed.trim();
  $("enroll-code").value = code;
  if (!code) {
    ui.enrollError = "empty_code";
    update();
    return;
  }
  ui.enrollBusy = true;
  ui.enrollError = null;
  update();
  try {
    const identity = await enroll(code, SLOT, (principal) => typeof principal?.seat === "number");
    ui.enrolledNotice = true;
    startSession(identity);
  } catch (error) {
    ui.enrollError = enrollFailure(error);
  } finally {
    ui.enrollBusy = false;
    update();
  }
  if (ui.enrollError) $("enroll-code").focus();
}

/** Shows the enrollment screen, with the meeting's name when the server hosts exactly one. */
async function showEnrollment() {
  ui.booting = false;
  update();
  $("enroll-code").focus();
  try {
    const meetings = await (await fetch("../api/meetings")).json();
    if (meetings.length === 1) ui.meetingInfo = meetings[0];
  } catch {
    // The screen works without the meeting's name.
  }
  update();
}

// ---- the session -----------------------------------------------------------

function startSession(identity) {
  const session = new Session({ identity });
  Object.assign(ui, { booting: false, identity, session, pending: null, refusal: null, checkInError: null });
  session.addEventListener("change", () => {
    if (ui.session === session) update();
  });
  session.start();
  update();
}

/** Stops the session and removes this device's key, back to the enrollment screen. */
async function forgetDevice() {
  ui.session?.stop();
  Object.assign(ui, { session: null, identity: null, enrolledNotice: false, enrollError: null });
  await forgetIdentity(SLOT);
  $("enroll-code").value = "";
  showEnrollment();
}

async function checkIn() {
  ui.checkingIn = true;
  ui.checkInError = null;
  update();
  try {
    await ui.session.checkIn();
  } catch (error) {
    ui.checkInError = error instanceof Refused ? error.reason : "other";
  } finally {
    ui.checkingIn = false;
    update();
  }
}

/** Resolves once `session` is online again after a dropped connection. */
function onlineAgain(session) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (session.status === "online") resolve();
      else if (session.status === "refused") reject(session.refusal);
      else return;
      session.removeEventListener("change", check);
    };
    session.addEventListener("change", check);
    check();
  });
}

/**
 * Casts one ballot. If the connection drops before the answer, waits until
 * the session is back and sends the very same ballot again (same seq, so
 * the server answers with the same receipt) while its round is still open:
 * a reconnect neither loses a press nor counts it twice.
 */
async function castUntilAnswered(session, roundId, seq, send) {
  for (;;) {
    try {
      return await send(seq);
    } catch (error) {
      if (!(error instanceof Refused) || error.reason !== "connection_lost") throw error;
    }
    await onlineAgain(session);
    const recorded = session.myBallot;
    if (recorded?.round === roundId && recorded.seq === seq) return recorded;
    if (session.openRound?.id !== roundId) throw new Refused("wrong_round");
  }
}

/** Casts `choice` (yes, no or abstain), or with `choice` "paper" the paper being filled in. */
async function vote(choice) {
  const { session } = ui;
  const round = session.openRound;
  if (!round || ui.pending) return;
  const paper = ui.paper?.round === round.id ? ui.paper : null;
  if (choice === "paper" && !paper) return;
  ui.pending = { round: round.id, choice };
  ui.refusal = null;
  update();
  const send =
    choice === "paper"
      ? (seq) => session.castPaper(session.meeting.agenda[round.item].paper.kind, [...paper.marks], seq)
      : (seq) => session.cast(choice, seq);
  try {
    await castUntilAnswered(session, round.id, session.nextSeq(), send);
    if (ui.paper === paper) ui.paper = null;
  } catch (error) {
    if (ui.session === session) {
      const reason = error instanceof Refused ? error.reason : "other";
      ui.refusal = { round: round.id, deadline: round.deadline, reason };
    }
  } finally {
    if (ui.session === session) ui.pending = null;
    update();
  }
}

/**
 * The paper of the open round being filled in, started from the recorded
 * one when the delegate changes it.
 */
function draftPaper() {
  const round = ui.session.openRound;
  if (!round) return null;
  if (ui.paper?.round !== round.id) {
    const mine = ui.session.myBallot?.round === round.id ? ui.session.myBallot : null;
    ui.paper = { round: round.id, marks: new Map(mine?.marks ?? []), step: "mark" };
  }
  return ui.paper;
}

/** A press on the paper: a mark (again to clear it), review, change or cast. */
function pressPaper(target) {
  const button = target.closest("button");
  if (!button || button.disabled) return;
  if (button.dataset.entry !== undefined) {
    const paper = draftPaper();
    const entry = Number(button.dataset.entry);
    const mark = Number(button.dataset.mark);
    if (paper.marks.get(entry) === mark) paper.marks.delete(entry);
    else paper.marks.set(entry, mark);
  } else if (button.id === "paper-edit") {
    draftPaper().step = "mark";
  } else if (button.id === "paper-next") {
    const paper = draftPaper();
    if (paper.step === "review") {
      vote("paper");
      return;
    }
    paper.step = "review";
    $("paper").scrollIntoView({ block: "start" });
  }
  ui.refusal = null;
  update();
}

// ---- wiring ------------------------------------------------------------------

function toggleLanguage() {
  setLang(currentLang() === "vi" ? "en" : "vi");
  // A ?lang= in the address would otherwise win over the choice just made.
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.delete("lang");
    history.replaceState(null, "", url);
  }
  applyWords(t);
  update();
}

function askToForget() {
  const seat = ui.session?.principal?.seat ?? ui.identity?.principal?.seat;
  $("forget-body").textContent = t("forget.body", { seat: t("seat", { n: seat }) });
  // The dialog keeps its last answer; Escape must not repeat an earlier "forget".
  $("forget-dialog").returnValue = "";
  $("forget-dialog").showModal();
}

function wire() {
  document.querySelector("[data-testid=lang-toggle]").addEventListener("click", toggleLanguage);
  $("enroll-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ui.enrollBusy) submitCode($("enroll-code").value);
  });
  $("check-in").addEventListener("click", checkIn);
  $("choices").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-choice]");
    if (button && !button.disabled) vote(button.dataset.choice);
  });
  $("paper").addEventListener("click", (event) => pressPaper(event.target));
  $("enrolled-close").addEventListener("click", () => {
    ui.enrolledNotice = false;
    update();
  });
  $("forget").addEventListener("click", askToForget);
  $("forget-dialog").addEventListener("close", () => {
    if ($("forget-dialog").returnValue === "forget") forgetDevice();
  });
  $("reenroll").addEventListener("click", forgetDevice);
  setInterval(() => renderCountdown(ui, t), COUNTDOWN_TICK_MS);
}

async function boot() {
  applyWords(t);
  wire();
  update();
  const code = takeCodeFromUrl();
  const identity = await loadIdentity(SLOT);
  if (identity) startSession(identity);
  else {
    showEnrollment();
    if (code) submitCode(code);
  }
}

boot();
