// Draws the tablet from the session and the page's own small state (a press
// waiting for its answer, the last refusal, enrollment progress). Every
// render starts from the whole state, so the page cannot show a stale mix;
// text from the server is only ever set as textContent.

import { paperTable } from "../common/papers.js";
import { CHOICES, PAPER_KINDS, byHandLine, closedLine, documentUrl, isPaperResult, paperSentences, presentedDocument, trackerGroups } from "../common/protocol.js";
import { describeRule, formatPercent, takingPart } from "../common/rules.js";
import { currentLang, reasonText } from "../common/i18n.js";
import { agendaByTopic } from "../common/agenda.js";
import { $, h } from "../common/dom.js";
import { placeOf, putTo, speakerOf } from "../common/floor.js";
import { clockText, countdownText, isPaused, secondsLeft, shareLeft, URGENT_SECONDS } from "../common/countdown.js";
import { ballotIn, boardTask, choiceLock, focusOf, refusalIn, versionsMissing } from "./state.js";
import { documentPlace, fileSize, progressShare, progressWords, versionChange } from "./library.js";

/** Fills every static text of the page (data-i18n) in the current language. */
export function applyWords(t) {
  document.documentElement.lang = currentLang();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

/** Which screen the page is on: loading | enroll | refused | meeting. */
function viewOf(ui) {
  const session = ui.session;
  if (!session) return ui.booting ? "loading" : "enroll";
  if (session.status === "refused") return "refused";
  return session.meeting && session.snapshot ? "meeting" : "loading";
}

export function render(ui, t) {
  const view = viewOf(ui);
  document.body.dataset.view = view;
  for (const el of document.querySelectorAll("main > .view")) el.hidden = el.dataset.view !== view;
  renderMasthead(ui, t);
  renderConnection(ui, t);
  if (view === "enroll") renderEnroll(ui, t);
  if (view === "refused") renderRefused(ui.session.refusal, t);
  if (view === "meeting") renderMeeting(ui, t);
}

function renderRefused(refusal, t) {
  $("refused-reason").textContent = reasonText(t, refusal?.reason);
  // A key the server no longer knows was most likely replaced by enrolling the seat elsewhere.
  $("refused-hint").hidden = refusal?.reason !== "unknown_key";
}

function seatText(t, meeting, seat) {
  const name = meeting?.seats.find((s) => s.number === seat)?.name;
  return name ? t("seat.name", { n: seat, name }) : t("seat", { n: seat });
}

function renderMasthead(ui, t) {
  const meeting = ui.session?.meeting ?? ui.meetingInfo;
  $("council").textContent = meeting?.body ?? "";
  $("meeting-title").textContent = meeting?.title ?? t("app.name");
  const seat = ui.session?.principal?.seat ?? ui.identity?.principal?.seat;
  $("seat-badge").hidden = !seat;
  if (seat) $("seat-badge").textContent = seatText(t, ui.session?.meeting, seat);
}

function renderConnection(ui, t) {
  const status = ui.session?.status;
  const pill = document.querySelector("[data-testid=conn]");
  pill.hidden = !status;
  pill.dataset.state = status ?? "none";
  const words = { online: "conn.online", connecting: "conn.short.connecting", reconnecting: "conn.short.reconnecting", refused: "conn.refused" };
  $("conn-text").textContent = status ? t(words[status]) : "";
  $("conn-banner").hidden = status !== "reconnecting";
  $("conn-banner").textContent = t("conn.reconnecting");
}

function renderEnroll(ui, t) {
  const button = $("enroll-button");
  button.disabled = ui.enrollBusy;
  button.textContent = t(ui.enrollBusy ? "enroll.busy" : "enroll.button");
  $("enroll-code").disabled = ui.enrollBusy;
  const error = $("enroll-error");
  error.hidden = !ui.enrollError;
  if (ui.enrollError) {
    error.dataset.reason = ui.enrollError;
    error.textContent = reasonText(t, ui.enrollError);
  }
}

function renderMeeting(ui, t) {
  const { session } = ui;
  const focus = focusOf(session.meeting, session.snapshot);
  renderSessionClosed(ui, t);
  renderEnrolledNotice(ui, t);
  renderAttendance(ui, t);
  renderPrefetch(ui.library, t);
  renderItem(session.meeting, focus, t);
  renderDocuments(session, ui.library, focus.item, t);
  renderPresenting(ui, t);
  renderVote(ui, focus, t);
  renderFloor(ui, t);
  renderAgenda(session, t);
  renderCountdown(ui, t);
  $("device-id").textContent = t("device", { key: ui.identity.publicKeyHex.slice(0, 8).replace(/(.{4})/, "$1 ") });
}

/** The chair closed the session (PROTOCOL.md §9.9): said above everything; nothing more to check in to or ask for. */
function renderSessionClosed(ui, t) {
  const closedAt = ui.session.snapshot?.closed_at ?? null;
  $("session-closed").hidden = closedAt == null;
  $("session-closed-text").textContent = closedAt == null ? "" : closedLine(t, closedAt, currentLang());
}

function isClosed(session) {
  return session.snapshot?.closed_at != null;
}

function renderEnrolledNotice(ui, t) {
  const show = ui.enrolledNotice && !ui.session.checkedIn && !isClosed(ui.session);
  $("enrolled-notice").hidden = !show;
  if (show) $("enrolled-text").textContent = t("enrolled.notice", { seat: seatText(t, ui.session.meeting, ui.session.principal?.seat) });
}

function renderAttendance(ui, t) {
  const { session } = ui;
  $("attendance").hidden = isClosed(session) && !session.checkedIn;
  $("check-in-block").hidden = session.checkedIn;
  $("checked-in").hidden = !session.checkedIn;
  $("attendance").classList.toggle("done", session.checkedIn);
  const button = $("check-in");
  button.disabled = ui.checkingIn || session.status !== "online";
  button.textContent = t(ui.checkingIn ? "checkin.busy" : "checkin.button");
  const hint = $("check-in-hint");
  hint.classList.toggle("error", Boolean(ui.checkInError));
  hint.textContent = ui.checkInError ? reasonText(t, ui.checkInError) : t("checkin.hint");
}

function renderItem(meeting, focus, t) {
  const { item } = focus;
  $("item-position").textContent = item ? `· ${t("item.position", { n: item.index + 1, total: meeting.agenda.length })}` : "";
  $("item-meta").textContent = item ? [item.topic, t(`kind.${item.kind}`)].filter(Boolean).join(" · ") : "";
  $("item-title").textContent = item ? item.title : t("item.none");
  const settings = focus.round?.settings ?? item?.vote;
  $("item-rule").textContent = settings ? t("vote.rule", { rule: describeRule(settings.rule, t) }) : "";
}

/**
 * The item's documents: each opens in the reader (from the tablet's copy
 * once it holds one), says whether the tablet holds it and what a new
 * version changed, and keeps a link that downloads the file itself (with
 * the session's token where it needs one).
 */
function renderDocuments(session, library, item, t) {
  const documents = item?.documents ?? [];
  $("item-documents-block").hidden = documents.length === 0;
  const lang = currentLang();
  const rows = documents.map((doc, slot) => {
    const kept = library.places.get(documentPlace(item, slot));
    const held = library.kept.has(doc.sha256);
    const details = [t(`document.kind.${doc.kind}`), fileSize(doc.size, t, lang), doc.version > 1 && t("document.version", { n: doc.version }), !doc.public && t("document.delegates_only")];
    const change = versionChange(kept, doc, t, lang);
    return h(
      "li",
      { class: "document", dataset: { sha256: doc.sha256, held: String(held) } },
      h("button", { type: "button", class: "document-open", "data-testid": "document-open", dataset: { slot: String(slot) } }, doc.title),
      h("span", { class: "document-details" }, details.filter(Boolean).join(" · ")),
      held && h("span", { class: "document-held" }, t("document.held")),
      change && h("span", { class: "document-change", "data-testid": "document-change" }, change),
      h("a", { class: "document-download", href: documentUrl(session.meeting.id, doc, session.documentAccess), download: "" }, t("document.download")),
    );
  });
  $("item-documents").replaceChildren(...rows);
}

/**
 * The page the chair presents, with the button that follows it (or stops
 * following), and the same toggle in the reader.
 */
function renderPresenting(ui, t) {
  const { session, following } = ui;
  const presentation = session.snapshot.presentation ?? null;
  const doc = presentedDocument(session.meeting, presentation);
  $("presenting").hidden = !doc;
  if (doc) {
    const page = t("present.page", { page: presentation.page, pages: presentation.pages });
    $("presenting-text").textContent = t("presenting.now", { title: doc.title, page });
    $("presenting-follow").textContent = t(following ? "presenting.stop" : "presenting.follow");
    $("presenting-follow").setAttribute("aria-pressed", String(following));
  }
  const toggle = $("reader-follow");
  toggle.hidden = !doc && !following;
  toggle.textContent = t(following ? "reader.following" : "reader.follow");
  toggle.setAttribute("aria-pressed", String(following));
}

/** The download of the meeting's documents at check-in: a bar and "12 of 31 documents, 84 of 212 MB". */
function renderPrefetch(library, t) {
  const block = $("prefetch");
  const { progress } = library;
  block.hidden = !progress || progress.total === 0;
  if (block.hidden) return;
  const done = progress.done + progress.failed === progress.total;
  block.dataset.state = !done ? "running" : progress.failed ? "failed" : "done";
  $("prefetch-bar").value = progressShare(progress);
  $("prefetch-bar").hidden = done && !progress.failed;
  $("prefetch-text").textContent = progressWords(progress, t, currentLang());
}

function renderVote(ui, focus, t) {
  const panel = $("vote-panel");
  const opened = focus.state === "open" && panel.dataset.state !== "open";
  panel.dataset.state = focus.state;
  panel.dataset.paused = String(focus.state === "open" && isPaused(focus.round));
  for (const el of panel.querySelectorAll("[data-when]")) el.hidden = el.dataset.when !== focus.state;
  const mine = ballotIn(ui.session.myBallot, focus.round);
  if (focus.state === "none") renderNone(focus, isClosed(ui.session), t);
  if (focus.state === "closed") renderClosed(ui.session.meeting, focus, t);
  if (focus.state === "provisional") renderProvisional(ui, focus, t);
  $("paper").hidden = focus.state !== "open" || !focus.item?.paper;
  $("choices").hidden = focus.state === "open" && Boolean(focus.item?.paper);
  const footnotes = focus.state === "open" ? renderOpen(ui, focus, mine, t) : [];
  renderReceipt(focus, mine, ui.session.meeting.labels, t);
  renderTracker(ui, focus, t);
  renderRefusal(ui, focus, t);
  const footnote = $("vote-footnote");
  footnote.replaceChildren(...footnotes.map((text) => h("span", {}, text)));
  footnote.hidden = footnotes.length === 0;
  if (opened) bringIntoView(panel);
}

/**
 * Says plainly, above the choices, that the tablet does not hold every
 * version of the documents the vote is about, with a button that fetches
 * them: the choices wait until it does.
 */
function renderMissing(missing, t) {
  $("versions-missing").hidden = missing.length === 0;
  $("versions-missing-text").textContent = missing.length ? t("vote.versions_missing", { n: missing.length }) : "";
  $("versions-fetch").textContent = t("vote.versions_fetch");
}

/** On a phone the vote sits below the item: when a vote opens, scroll its buttons into view. */
function bringIntoView(panel) {
  if (panel.getBoundingClientRect().top > window.innerHeight * 0.4) panel.scrollIntoView({ block: "start", behavior: "smooth" });
}

function renderNone(focus, closed, t) {
  if (closed) $("none-hint").textContent = t("session.closed");
  else $("none-hint").textContent = t(focus.item && !focus.item.vote ? "vote.none.no_vote" : "vote.none.hint");
}

/** Draws the open vote; returns the footnotes to show under it. */
function renderOpen(ui, focus, mine, t) {
  const { session } = ui;
  const { round } = focus;
  const settings = round.settings;
  $("secrecy").textContent = t(`secrecy.${settings.secrecy}`);
  const pending = ui.pending?.round === round.id ? ui.pending.choice : null;
  const missing = versionsMissing(round, ui.library);
  const lock = choiceLock({ round, online: session.status === "online", pending, mine, missing });
  renderMissing(missing, t);
  if (focus.item?.paper) renderPaper(ui, focus.item.paper, round, mine, lock, t);
  for (const button of document.querySelectorAll("#choices .choice")) {
    const choice = button.dataset.choice;
    const selected = mine?.choice === choice;
    button.querySelector(".choice-label").textContent = session.meeting.labels[choice];
    button.querySelector(".choice-mark").textContent = selected ? "✓" : "";
    button.querySelector(".choice-state").textContent = pending === choice ? t("vote.sending") : selected ? t("vote.selected") : "";
    if (selected) button.dataset.selected = "true";
    else delete button.dataset.selected;
    button.toggleAttribute("data-pending", pending === choice);
    button.setAttribute("aria-pressed", String(selected));
    button.disabled = lock !== null;
  }
  const notice =
    lock === "offline" || lock === "paused"
      ? t(`vote.${lock}`)
      : settings.require_check_in && !session.checkedIn
        ? t("vote.need_check_in")
        : null;
  $("vote-notice").hidden = !notice;
  $("vote-notice").textContent = notice ?? "";
  const notes = [];
  if (settings.allow_change) notes.push(t("vote.can_change"));
  else notes.push(t(mine ? "vote.final" : "vote.once"));
  if (round.live) notes.push(t("vote.progress", { n: round.live.taking_part, total: session.meeting.total_seats }));
  return notes;
}

/**
 * The paper on the item's list: each candidate or official with a button
 * per mark (pressing the chosen one again leaves the entry blank), then a
 * review of the whole paper before it is cast; once recorded, its receipt,
 * and where the vote allows it a change until the close.
 */
function renderPaper(ui, list, round, mine, lock, t) {
  const draft = ui.paper?.round === round.id ? ui.paper : null;
  const step = draft ? draft.step : mine ? "cast" : "mark";
  const marks = draft ? draft.marks : new Map();
  const kind = list.kind;
  const approved = kind === "election" ? marks.size : 0;
  const paper = $("paper");
  paper.dataset.step = step;
  paper.dataset.kind = kind;
  $("paper-hint").textContent = t(`paper.hint.${kind}`, { posts: list.posts });
  $("paper-hint").hidden = step !== "mark";
  const entries = list.entries.map((entry, index) => {
    const chosen = marks.get(index) ?? null;
    const buttons = PAPER_KINDS[kind].marks.map((mark) => {
      const selected = chosen === mark;
      const overCap = kind === "election" && !selected && approved >= list.posts;
      return h(
        "button",
        {
          type: "button",
          class: `mark mark-${kind}-${mark}`,
          dataset: { entry: String(index), mark: String(mark), ...(selected ? { selected: "true" } : {}) },
          "aria-pressed": String(selected),
          disabled: lock !== null || overCap,
        },
        t(`paper.mark.${kind}.${mark}`),
      );
    });
    return h(
      "li",
      { class: "paper-entry", dataset: chosen === null ? null : { marked: "true" } },
      h("span", { class: "entry-number" }, String(index + 1)),
      h("span", { class: "entry-who" }, h("span", { class: "entry-name" }, entry.name), entry.post && h("span", { class: "entry-post" }, entry.post)),
      h("span", { class: "entry-marks" }, buttons),
    );
  });
  $("paper-entries").replaceChildren(...entries);
  $("paper-entries").hidden = step !== "mark";
  const review = [...marks].sort((a, b) => a[0] - b[0]).map(([index, mark]) =>
    h("li", { class: `review-row mark-${kind}-${mark}` }, h("span", { class: "entry-name" }, `${index + 1}. ${list.entries[index].name}`), h("strong", {}, t(`paper.mark.${kind}.${mark}`))),
  );
  $("paper-review").hidden = step !== "review";
  $("paper-review-list").replaceChildren(...review);
  const blank = list.entries.length - marks.size;
  $("paper-blank").textContent = marks.size === 0 ? t("paper.nothing") : kind === "election" ? "" : blank ? t("paper.blank", { n: blank }) : t("paper.blank.none");
  $("paper-count").textContent = step === "cast" ? "" : kind === "election" ? t("paper.count.election", { n: approved, posts: list.posts }) : t("paper.count", { n: marks.size, total: list.entries.length });
  const next = $("paper-next");
  next.hidden = step === "cast";
  next.textContent = t(step === "review" ? (lock === "sending" ? "vote.sending" : "paper.cast") : "paper.review");
  next.disabled = lock !== null;
  const edit = $("paper-edit");
  edit.hidden = step === "mark" || (step === "cast" && !round.settings.allow_change);
  edit.disabled = lock !== null && lock !== "final";
}

/** Draws a decided item's result, every percentage of all seats. */
function renderClosed(meeting, focus, t) {
  const { result } = focus;
  const paper = isPaperResult(result);
  for (const id of ["taking-part", "result-rows", "result-total"]) $(id).hidden = paper;
  $("paper-result").hidden = !paper;
  $("by-hand").hidden = true;
  if (paper) {
    renderPaperResult(meeting, focus, t);
    return;
  }
  const banner = $("result-banner");
  banner.dataset.passed = String(result.passed);
  banner.className = `result-banner ${result.passed ? "banner-passed" : "banner-not-passed"}`;
  banner.textContent = t(result.passed ? "status.passed" : "status.not_passed");
  const { counts } = result;
  const lang = currentLang();
  const total = counts.total_seats;
  const taking = takingPart(counts);
  $("taking-part").textContent = t("result.taking_part", { n: taking, pct: formatPercent(taking, total, lang) });
  $("result-rows").replaceChildren(...CHOICES.map((choice) => resultRow(meeting.labels[choice], choice, counts[choice], total, lang)));
  $("result-total").textContent = t("result.total", { total, present: counts.present, n: result.yes_needed });
  $("by-hand").hidden = !focus.byHand;
  $("by-hand").textContent = focus.byHand ? byHandLine(t, focus.byHand, lang) : "";
}

/**
 * A secret result awaiting the counting board: the turnout and how many of
 * the board have confirmed; for a member who has not, the count to confirm
 * with its button; for one who has, when.
 */
function renderProvisional(ui, focus, t) {
  const { session } = ui;
  const board = focus.round?.board;
  const lang = currentLang();
  const total = session.meeting.total_seats;
  const ballots = board?.ballots ?? 0;
  $("provisional-turnout").textContent = t("board.turnout", { n: ballots, pct: formatPercent(ballots, total, lang) });
  $("provisional-board").hidden = !board;
  if (board) $("provisional-board").textContent = t("board.progress", { n: board.confirmed.length, required: board.required });
  const seat = session.principal?.seat;
  const task = boardTask(focus.round, seat, session.toConfirm);
  $("board-confirm").hidden = task !== "confirm";
  if (task === "confirm") renderCount(session.meeting, focus.item, session.toConfirm.count, t);
  const button = $("board-confirm-button");
  button.disabled = ui.confirming || session.status !== "online";
  button.textContent = t(ui.confirming ? "board.confirming" : "board.confirm");
  const mine = board?.confirmed.find((c) => c.seat === seat);
  $("board-confirmed").hidden = !mine;
  if (mine) $("board-confirmed-text").textContent = t("board.confirmed", { time: clockText(mine.at) });
}

/** The count a board member confirms: the turnout, then each row's counts. */
function renderCount(meeting, item, count, t) {
  $("board-turnout").textContent = t("board.facts", { total: count.total_seats, present: count.present, n: count.ballots });
  const kind = item?.paper?.kind;
  const marks = kind ? PAPER_KINDS[kind].marks : [];
  const head = kind
    ? h("tr", {}, h("th", {}, t("paper.col.name")), marks.map((m) => h("th", { class: "num" }, t(`paper.mark.${kind}.${m}`))))
    : h("tr", {}, h("th", {}, ""), h("th", { class: "num" }, t("board.count")));
  const rows = kind
    ? count.rows.map((cells, i) => h("tr", {}, h("td", {}, item.paper.entries[i]?.name ?? `#${i + 1}`), cells.map((n) => h("td", { class: "num" }, String(n)))))
    : CHOICES.map((choice, i) => h("tr", {}, h("td", {}, meeting.labels[choice]), h("td", { class: "num" }, String(count.rows[0]?.[i] ?? 0))));
  $("board-count").replaceChildren(h("thead", {}, head), h("tbody", {}, rows));
}

/** A closed round on a list: what it came to, and each entry's counts of all seats. */
function renderPaperResult(meeting, focus, t) {
  const { result, item } = focus;
  const lang = currentLang();
  const banner = $("result-banner");
  banner.className = "result-banner banner-counted";
  banner.textContent = t("status.counted");
  const list = item?.paper;
  $("paper-sentences").replaceChildren(...paperSentences(t, result, list, lang, focus.byHand).map((text) => h("li", {}, text)));
  $("paper-table-box").replaceChildren(paperTable(t, result, list, lang));
  $("by-hand").hidden = !focus.byHand;
  $("by-hand").textContent = focus.byHand ? byHandLine(t, focus.byHand, lang) : "";
}

function resultRow(label, choice, count, total, lang) {
  const fill = h("span", { class: "result-bar-fill" });
  fill.style.width = `${total ? (100 * count) / total : 0}%`;
  return h(
    "li",
    { class: `result-row choice-${choice}` },
    h("span", { class: "result-label" }, label),
    h("span", { class: "result-figure" }, `${count} (${formatPercent(count, total, lang)})`),
    h("span", { class: "result-bar" }, fill),
  );
}

/**
 * The delegate's proof that the ballot counts: the choice and the server's
 * time while the vote is open; after it closes, the choice only for a named
 * vote (a secret one shows just that the ballot was counted).
 */
function renderReceipt(focus, mine, labels, t) {
  const receipt = $("receipt");
  const show = Boolean(mine) && (focus.state === "open" || focus.state === "closed");
  receipt.hidden = !show;
  if (!show) return;
  const time = clockText(mine.recorded_at);
  const secretClosed = focus.state === "closed" && focus.round.settings.secrecy === "secret";
  if (mine.kind) {
    delete receipt.dataset.choice;
    receipt.dataset.kind = mine.kind;
    $("receipt-text").textContent = secretClosed ? t("paper.counted", { time }) : t("paper.receipt", { n: mine.marks.length, time });
    return;
  }
  delete receipt.dataset.kind;
  receipt.dataset.choice = mine.choice;
  const text = focus.state === "open"
    ? t("vote.receipt", { choice: labels[mine.choice], time })
    : secretClosed
      ? t("vote.your_ballot_counted", { time })
      : t("vote.your_choice", { choice: labels[mine.choice] });
  $("receipt-text").textContent = text;
}

/**
 * A secret ballot's tracker, with the receipt while the vote is open and
 * after (also after a reload, from the device's own copy); once the result
 * is out, "Check my ballot" and what the published list says: counted as
 * cast, or a warning to show the counting board.
 */
function renderTracker(ui, focus, t) {
  const block = $("tracker");
  const round = focus.round;
  const kept = round?.settings.secrecy === "secret" ? ui.trackers.get(round.id) : null;
  block.hidden = !kept || !["open", "closed", "provisional"].includes(focus.state);
  if (block.hidden) return;
  $("tracker-code").textContent = trackerGroups(kept.tracker);
  const out = focus.state === "closed";
  const check = ui.ballotCheck?.round === round.id ? ui.ballotCheck : null;
  const button = $("tracker-check");
  button.hidden = !out;
  button.disabled = check?.status === "checking";
  button.textContent = t(check?.status === "checking" ? "tracker.checking" : "tracker.check");
  const result = $("tracker-result");
  result.hidden = !out || !check || check.status === "checking";
  if (result.hidden) return;
  result.dataset.status = check.status;
  const labels = ui.session.meeting.labels;
  const vote = (v) => (v.kind ? t("tracker.paper", { n: v.marks.length }) : labels[v.choice]);
  result.textContent =
    check.status === "counted"
      ? t("tracker.counted", { vote: vote(check.counted) })
      : check.status === "otherwise"
        ? t("tracker.otherwise", { counted: vote(check.counted), cast: vote(kept.cast) })
        : t(`tracker.${check.status}`);
}

/** A ballot racing the end of the vote may be refused as no_open_round or wrong_round: all read as "time is over". */
const CLOSED_REASONS = new Set(["late", "no_open_round", "wrong_round"]);

function renderRefusal(ui, focus, t) {
  const refusal = $("refusal");
  const current = refusalIn(ui.refusal, focus.round);
  refusal.hidden = !current;
  if (!current) return;
  refusal.dataset.reason = current.reason;
  refusal.textContent = reasonText(t, CLOSED_REASONS.has(current.reason) ? "late" : current.reason);
}

function renderAgenda(session, t) {
  const { meeting, snapshot } = session;
  $("agenda-count").textContent = `· ${t("agenda.count", { n: meeting.agenda.length })}`;
  const statuses = new Map(snapshot.items.map((i) => [i.index, i.status]));
  const groups = agendaByTopic(meeting.agenda).map(({ topic, items }) =>
    h(
      "section",
      { class: "agenda-group" },
      h("h3", { class: "agenda-topic" }, topic),
      h("ol", { class: "agenda-items" }, items.map((item) => agendaRow(item, statuses.get(item.index), item.index === snapshot.current_item, t))),
    ),
  );
  $("agenda-list").replaceChildren(...groups);
}

function agendaRow(item, status, current, t) {
  const shown = !item.vote && status === "pending" ? "no_vote" : status;
  return h(
    "li",
    { class: "agenda-item", dataset: current ? { current: "true" } : null },
    h("span", { class: "agenda-number" }, String(item.index + 1)),
    h("span", { class: "agenda-body" }, h("span", { class: "agenda-title" }, item.title), current && h("span", { class: "agenda-current" }, t("agenda.current"))),
    h("span", { class: `chip chip-${shown}` }, t(`status.${shown}`)),
  );
}

/**
 * The floor on the item under discussion: who speaks, this seat's place if
 * it waits (with the button to withdraw), else the buttons to ask: to
 * speak or reply, or in a question session to question a respondent.
 */
function renderFloor(ui, t) {
  const { session } = ui;
  const floor = session.floor;
  const item = session.snapshot.current_item;
  const card = $("floor-card");
  card.hidden = !floor || item === null || floor.item !== item || Boolean(session.openRound) || isClosed(session);
  if (card.hidden) return;
  const meeting = session.meeting;
  const questions = meeting.agenda[item]?.kind === "question_session";
  const turn = floor.turn;
  $("floor-speaker").hidden = !turn;
  if (turn) {
    const who = speakerOf(t, meeting, turn.request);
    const line = [t(`floor.kind.${turn.request.kind}`), who.name, who.detail, putTo(t, meeting, turn.request)];
    $("floor-speaker").textContent = `${t("floor.now")}: ${line.filter(Boolean).join(" · ")}`;
  }
  const mine = placeOf(floor, session.principal?.seat);
  $("floor-place").hidden = !mine;
  if (mine) $("floor-place").textContent = t("floor.place", mine);
  $("floor-withdraw").hidden = !mine;
  $("floor-ask").hidden = Boolean(mine);
  $("respondent-field").hidden = !questions;
  const select = $("floor-respondent");
  const options = (meeting.respondents ?? []).map((r, i) => `${i}|${r.name}|${r.post}`).join("\n");
  if (select.dataset.options !== options) {
    select.dataset.options = options;
    select.replaceChildren(...(meeting.respondents ?? []).map((r, i) => h("option", { value: i }, `${r.name} — ${r.post}`)));
  }
  const busy = ui.floorBusy || session.status !== "online";
  for (const button of document.querySelectorAll("#floor-ask [data-kind]")) {
    button.hidden = (button.dataset.kind === "question") !== questions;
    button.disabled = busy;
  }
  $("floor-withdraw").disabled = busy;
  $("floor-refusal").hidden = !ui.floorRefusal;
  $("floor-refusal").textContent = ui.floorRefusal ? reasonText(t, ui.floorRefusal) : "";
  if (ui.floorRefusal) $("floor-refusal").dataset.reason = ui.floorRefusal;
}

/**
 * Redraws only the countdown, from the server's clock: called every few
 * hundred milliseconds by a local timer, it never talks to the server.
 * At zero the buttons stay as they are: only the server closes a vote.
 * While the chair holds the vote the box says so, over the time kept for
 * the resume.
 */
export function renderCountdown(ui, t) {
  const round = ui.session?.openRound;
  if (!round || !ui.session.snapshot) return;
  const now = ui.session.serverNow();
  const left = secondsLeft(round, now);
  const paused = isPaused(round);
  const urgent = !paused && left <= URGENT_SECONDS;
  $("countdown").textContent = countdownText(left);
  $("countdown-label").textContent = t(paused ? "vote.paused_state" : left > 0 ? "vote.remaining" : "vote.time_up");
  $("countdown-box").classList.toggle("urgent", urgent);
  $("countdown-box").classList.toggle("paused", paused);
  $("time-bar").style.width = `${(shareLeft(round, now) * 100).toFixed(2)}%`;
  $("time-bar").classList.toggle("urgent", urgent);
  $("time-bar").classList.toggle("paused", paused);
}
