// The delegate's tablet: enroll once with the seat's code, then check in,
// follow the agenda and vote. The session (../common/session.js) holds the
// meeting's state and reconnects by itself; this file turns presses into
// requests and keeps the little the page must remember between renders.

import { forgetIdentity, loadIdentity } from "../common/keys.js";
import { enroll, Refused, Session } from "../common/session.js";
import { currentLang, makeTranslator, setLang } from "../common/i18n.js";
import { WORDS } from "./words.js";
import { applyWords, render, renderCountdown } from "./view.js";
import { forgetDocuments, prefetch } from "./reader.js";
import { forgetState, keepAppFiles, rememberState, restoreState } from "./offline.js";
import { applyReaderWords, closeDocument, openDocument, readingPlace, readingSuspended, resumeReading, suspendReading, turnReaderTo, wireReader } from "./viewer.js";
import { checkBallot, presentedDocument, publishedListUrl } from "../common/protocol.js";
import { boardTask, focusOf, trackerToKeep } from "./state.js";
import { forgetTrackers, keepTracker, loadTrackers } from "./trackers.js";

const SLOT = "tablet";
const COUNTDOWN_TICK_MS = 250;
/** How long after a document failed to download the tablet tries again (the hall's Wi-Fi may have dropped). */
const PREFETCH_RETRY_MS = 10_000;
/** How long the receipt of a ballot cast from the reader stays on screen before the document comes back. */
const BACK_TO_READING_MS = 1500;
const t = makeTranslator(WORDS);
const $ = (id) => document.getElementById(id);

/** What the page knows of the documents on this device before fetching any. */
function emptyLibrary() {
  return { key: null, progress: null, places: new Map(), kept: new Set() };
}

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
  // The meeting's documents on this device: which view's set was fetched
  // (`key`), the download's progress, what is held at each agenda place.
  library: emptyLibrary(),
  lastOpenRound: null, // the last round seen open, so a vote is brought forward once
  votingFrom: null, // the round that took the screen from the reader, until it is cast or ends
  floorBusy: false, // a request for the floor waits for its answer
  floorRefusal: null, // the reason the last one was refused
  following: false, // the reader follows the page the chair presents
  followed: null, // the presented "sha256|page" the reader last turned to
  boardAsked: null, // the round whose count this board member's tablet last asked for
  confirming: false, // a confirmation of the count waits for its answer
  trackers: new Map(), // round → {round, seq, tracker, cast}: this device's secret ballots (trackers.js)
  ballotCheck: null, // {round, status, counted}: the last check of a published list (checking | counted | otherwise | missing | unavailable)
};

function update() {
  keepMyTracker(ui.session);
  followBoard(ui.session);
  followVote(ui.session);
  followPresenter(ui.session);
  keepDocuments(ui.session);
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

// ---- checking a secret ballot ---------------------------------------------

/** Keeps the tracker of a secret ballot the session has just had acknowledged, on the device. */
function keepMyTracker(session) {
  const mine = session?.myBallot;
  const entry = trackerToKeep(mine, mine && ui.trackers.get(mine.round));
  if (!entry) return;
  ui.trackers.set(entry.round, entry);
  // Without IndexedDB the tracker still shows until the page is reloaded.
  keepTracker(entry).catch(() => {});
}

/**
 * "Check my ballot": fetches the round's published list and looks this
 * device's tracker up in it (PROTOCOL.md §6.4).
 */
async function checkMyBallot(roundId) {
  const kept = ui.trackers.get(roundId);
  if (!kept || ui.ballotCheck?.status === "checking") return;
  ui.ballotCheck = { round: roundId, status: "checking", counted: null };
  update();
  try {
    const response = await fetch(publishedListUrl(ui.session.meetingId, roundId), { cache: "no-cache" });
    if (!response.ok) throw new Error(`the published list: HTTP ${response.status}`);
    ui.ballotCheck = { round: roundId, ...checkBallot(await response.json(), kept.tracker, kept.cast) };
  } catch {
    ui.ballotCheck = { round: roundId, status: "unavailable", counted: null };
  }
  update();
}

// ---- the session -----------------------------------------------------------

/** Starts the session from the meeting state this device last had (shown until the server answers). */
async function startSession(identity) {
  const session = new Session({ identity });
  await restoreState(session);
  ui.trackers = await loadTrackers().catch(() => new Map());
  Object.assign(ui, { booting: false, identity, session, pending: null, refusal: null, checkInError: null });
  session.addEventListener("change", () => {
    if (ui.session !== session) return;
    rememberState(session);
    update();
  });
  session.start();
  update();
}

/** Stops the session and removes this device's key, back to the enrollment screen. */
async function forgetDevice() {
  await closeDocument();
  ui.session?.stop();
  Object.assign(ui, { session: null, identity: null, enrolledNotice: false, enrollError: null, library: emptyLibrary() });
  await forgetIdentity(SLOT);
  await forgetDocuments();
  await forgetTrackers();
  ui.trackers = new Map();
  forgetState();
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

// ---- the counting board ---------------------------------------------------------

/**
 * A counting board member's tablet asks for the count once a secret round
 * it must confirm has closed: the server gives it in `you`, to the board
 * alone, never in the snapshot every tablet gets.
 */
function followBoard(session) {
  const round = session?.snapshot?.round;
  if (session?.status !== "online" || boardTask(round, session.principal?.seat, session.toConfirm) !== "ask") return;
  if (ui.boardAsked === round.id) return;
  ui.boardAsked = round.id;
  session.sync().catch(() => {
    ui.boardAsked = null;
  });
}

/** Signs and sends this member's confirmation of the count shown. */
async function confirmCount() {
  const { session } = ui;
  const round = session?.snapshot?.round;
  if (!round || ui.confirming) return;
  ui.confirming = true;
  ui.refusal = null;
  update();
  try {
    await session.confirmCount();
  } catch (error) {
    const reason = error instanceof Refused ? error.reason : "other";
    ui.refusal = { round: round.id, deadline: round.deadline, reason };
  } finally {
    ui.confirming = false;
    update();
  }
}

// ---- documents -----------------------------------------------------------------

/**
 * Once the delegate is checked in, fetches every document of the meeting
 * onto the device (again when the meeting's view changes: a new version;
 * and a while after a download failed, for the ones still missing).
 */
function keepDocuments(session) {
  if (!session?.checkedIn || !session.meeting || !session.documentAccess) return;
  const key = `${session.meeting.id}/${session.viewHash}`;
  if (ui.library.key === key) return;
  ui.library.key = key;
  prefetch(session.meeting, session.documentAccess, (progress) => {
    if (ui.library.key !== key) return;
    ui.library.progress = progress;
    update();
  })
    .then((places) => {
      if (ui.library.key !== key) return;
      ui.library.places = places;
      ui.library.kept = new Set([...places.values()].map((kept) => kept.sha256));
      if (ui.library.progress?.failed) setTimeout(() => retryDocuments(key), PREFETCH_RETRY_MS);
      update();
    })
    .catch(() => {
      // The device's storage is unavailable (private mode, quota): documents open from the server.
    });
}

/** Fetches the documents still missing, unless another fetch has started since `key`'s. */
function retryDocuments(key) {
  if (ui.library.key !== key) return;
  ui.library.key = null;
  update();
}

function openFromList(event) {
  const button = event.target.closest(".document-open");
  const { session } = ui;
  if (!button || !session?.meeting) return;
  const item = focusOf(session.meeting, session.snapshot).item;
  const doc = item?.documents?.[Number(button.dataset.slot)];
  if (doc) openDocument({ meetingId: session.meeting.id, doc, token: session.documentAccess }, t);
}

/**
 * A delegate deep in a document must not miss a vote: when a round opens
 * the reader steps aside for it, and comes back at the same page once the
 * delegate has cast (after a moment to see the receipt) or the round ends.
 */
function followVote(session) {
  const round = session?.openRound ?? null;
  if (round && round.id !== ui.lastOpenRound) {
    ui.lastOpenRound = round.id;
    if (readingPlace() && !readingSuspended()) {
      ui.votingFrom = round.id;
      suspendReading();
    }
  }
  if (ui.votingFrom === null) return;
  const ended = round?.id !== ui.votingFrom;
  const cast = session.myBallot?.round === ui.votingFrom;
  if (!ended && !cast) return;
  ui.votingFrom = null;
  setTimeout(() => {
    resumeReading();
    // A page presented during the vote is followed now.
    update();
  }, ended ? 0 : BACK_TO_READING_MS);
}

/**
 * While the delegate follows the presenter, the reader opens the document
 * the chair presents and turns to each page presented; the delegate may
 * leaf through meanwhile, until the chair turns again. A vote still comes
 * first: nothing is followed while it holds the screen.
 */
function followPresenter(session) {
  if (!ui.following || !session?.meeting || ui.votingFrom !== null || readingSuspended()) return;
  const presentation = session.snapshot?.presentation ?? null;
  const doc = presentedDocument(session.meeting, presentation);
  if (!doc) return;
  const key = `${doc.sha256}|${presentation.page}`;
  if (ui.followed === key) return;
  ui.followed = key;
  if (readingPlace()?.sha256 === doc.sha256) turnReaderTo(presentation.page);
  else openDocument({ meetingId: session.meeting.id, doc, token: session.documentAccess, page: presentation.page }, t);
}

function setFollowing(on) {
  ui.following = on;
  ui.followed = null;
  update();
}

// ---- wiring ------------------------------------------------------------------

/** Asks for the floor (`kind`), or withdraws with `kind` null, on the item under discussion. */
async function floor(kind) {
  const session = ui.session;
  const item = session?.snapshot?.current_item;
  if (item == null || ui.floorBusy) return;
  Object.assign(ui, { floorBusy: true, floorRefusal: null });
  update();
  try {
    if (kind === null) await session.withdrawFloor(item);
    else {
      const topic = $("floor-topic").value.trim() || null;
      const respondent = kind === "question" ? Number($("floor-respondent").value) : null;
      await session.requestFloor(item, kind, respondent, topic);
      $("floor-topic").value = "";
    }
  } catch (error) {
    ui.floorRefusal = error instanceof Refused ? error.reason : "connection_lost";
  } finally {
    ui.floorBusy = false;
    update();
  }
}

function toggleLanguage() {
  setLang(currentLang() === "vi" ? "en" : "vi");
  // A ?lang= in the address would otherwise win over the choice just made.
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.delete("lang");
    history.replaceState(null, "", url);
  }
  applyWords(t);
  applyReaderWords();
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
  $("floor-ask").addEventListener("click", (event) => {
    const kind = event.target.closest("[data-kind]")?.dataset.kind;
    if (kind) floor(kind);
  });
  $("floor-ask").addEventListener("submit", (event) => event.preventDefault());
  $("floor-withdraw").addEventListener("click", () => floor(null));
  $("choices").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-choice]");
    if (button && !button.disabled) vote(button.dataset.choice);
  });
  $("paper").addEventListener("click", (event) => pressPaper(event.target));
  $("board-confirm-button").addEventListener("click", confirmCount);
  $("tracker-check").addEventListener("click", () => {
    const round = focusOf(ui.session.meeting, ui.session.snapshot).round;
    if (round) checkMyBallot(round.id);
  });
  $("enrolled-close").addEventListener("click", () => {
    ui.enrolledNotice = false;
    update();
  });
  $("forget").addEventListener("click", askToForget);
  $("forget-dialog").addEventListener("close", () => {
    if ($("forget-dialog").returnValue === "forget") forgetDevice();
  });
  $("reenroll").addEventListener("click", forgetDevice);
  $("item-documents").addEventListener("click", openFromList);
  $("versions-fetch").addEventListener("click", () => retryDocuments(ui.library.key));
  $("presenting-follow").addEventListener("click", () => setFollowing(!ui.following));
  $("reader-follow").addEventListener("click", () => setFollowing(!ui.following));
  // Closing the reader is leaving the presenter too: the next page would open it again.
  wireReader(() => setFollowing(false));
  setInterval(() => renderCountdown(ui, t), COUNTDOWN_TICK_MS);
}

async function boot() {
  applyWords(t);
  wire();
  update();
  keepAppFiles().then((kept) => {
    document.body.dataset.appFiles = kept ? "kept" : "not_kept";
  });
  const code = takeCodeFromUrl();
  const identity = await loadIdentity(SLOT);
  if (identity) startSession(identity);
  else {
    showEnrollment();
    if (code) submitCode(code);
  }
}

boot();
