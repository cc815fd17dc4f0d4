// The public page of one meeting, /public/{meeting}, for citizens and for
// the council's own website (which may frame it: the server's
// `public_frame_ancestors`). At the top, the hall screen's live feed, drawn
// by the hall screen's own Hall, until the chair closes the session: then
// the page takes its after-session form, the close and its time in place of
// the feed (PROTOCOL.md §9.9). Below it what the session has decided
// (each result in the official form, the resolutions adopted with the text
// voted on, the minutes as `gavel export` prints them) and the agenda with
// its public documents. Delegates-only documents are never listed: the
// page watches without a token and could not open them.

import { Session } from "../common/session.js";
import { currentLang, makeTranslator, setLang } from "../common/i18n.js";
import { byHandLine, closedLine, documentUrl, isPaperResult, officialSentence, paperSentences } from "../common/protocol.js";
import { paperTable } from "../common/papers.js";
import { h } from "../common/dom.js";
import { fileSize } from "../tablet/library.js";
import { WORDS as HALL_WORDS } from "../screen/words.js";
import { Hall } from "../screen/hall.js";
import { WORDS } from "./words.js";

const t = makeTranslator({
  vi: { ...HALL_WORDS.vi, ...WORDS.vi },
  en: { ...HALL_WORDS.en, ...WORDS.en },
});
const $ = (id) => document.getElementById(id);
const hall = new Hall(t);
/** The meeting: the last segment of /public/{meeting}. */
const meetingId = decodeURIComponent(location.pathname.split("/").pop());
/** What the record parts were last drawn for; redrawn only when it changes. */
let recordKey = "";

/** An item's public documents, each a link that opens the PDF. */
function documentLinks(meeting, item) {
  const docs = item.documents.filter((doc) => doc.public);
  if (docs.length === 0) return h("p", { class: "record-none" }, t("documents.none"));
  const lang = currentLang();
  return h(
    "ul",
    { class: "record-documents" },
    docs.map((doc) =>
      h(
        "li",
        { class: "record-document" },
        h("span", { class: "record-document-kind" }, t(`document.kind.${doc.kind}`)),
        h(
          "a",
          { href: documentUrl(meeting.id, doc, null), target: "_blank", rel: "noopener", "data-testid": "public-document" },
          doc.title,
        ),
        h("span", { class: "record-document-size" }, `${fileSize(doc.size, t, lang)} · ${t("document.version", { version: doc.version })}`),
      ),
    ),
  );
}

function itemLine(item, ...parts) {
  return h(
    "li",
    { class: "record-item", dataset: { item: String(item.index) } },
    h("span", { class: "record-number" }, item.index + 1),
    h("div", { class: "record-body" }, parts),
  );
}

function statusTag(status) {
  return h("span", { class: `agenda-status status-${status}` }, t(`status.${status}`));
}

/** Items whose last round decided them (or, on a list, was counted and announced), with their results. */
function decidedItems(meeting, snapshot) {
  return meeting.agenda
    .map((item) => ({ item, stored: snapshot.items[item.index] }))
    .filter(({ stored }) => stored?.result && ["passed", "not_passed", "counted"].includes(stored.status));
}

/** A result in the official form: the sentence of a yes/no vote, or what a paper came to and its table. */
function officialResult(meeting, item, result, byHand, lang) {
  if (!isPaperResult(result)) {
    return h("p", { class: "record-official", "data-testid": "public-result" }, officialSentence(t, result.counts, meeting.labels, lang));
  }
  return h(
    "div",
    { class: "record-official record-paper", "data-testid": "public-result" },
    h("p", {}, paperSentences(t, result, item.paper, lang, byHand).join(" · ")),
    h("div", { class: "paper-table-box" }, paperTable(t, result, item.paper, lang, { testid: "public-paper-table" })),
    h("p", { class: "paper-note" }, t("paper.of_all", { total: result.turnout.total_seats })),
  );
}

function renderResults(meeting, decided) {
  const lang = currentLang();
  $("results-list").replaceChildren(
    ...decided.map(({ item, stored }) =>
      itemLine(
        item,
        h("div", { class: "record-title" }, item.title, " ", statusTag(stored.status)),
        officialResult(meeting, item, stored.result, stored.by_hand, lang),
        stored.by_hand ? h("p", { class: "record-by-hand", "data-testid": "public-by-hand" }, byHandLine(t, stored.by_hand, lang)) : null,
      ),
    ),
  );
  $("results").hidden = decided.length === 0;
}

/** Draft resolutions the council passed, each with the text it voted on. */
function renderResolutions(meeting, decided) {
  const adopted = decided.filter(({ item, stored }) => item.kind === "draft_resolution" && stored.status === "passed");
  $("resolutions-list").replaceChildren(
    ...adopted.map(({ item }) =>
      itemLine(item, h("div", { class: "record-title", "data-testid": "public-resolution" }, item.title), documentLinks(meeting, item)),
    ),
  );
  $("resolutions").hidden = adopted.length === 0;
}

/**
 * The minutes, printed again by the server whenever the record changed;
 * shown once something is decided, and said to be final once the session
 * closed (they then print the closing time).
 */
function renderMinutes(meeting, decided, closedAt) {
  const url = `/api/meetings/${encodeURIComponent(meeting.id)}/minutes?lang=${currentLang()}`;
  $("minutes-link").setAttribute("href", url);
  $("minutes-frame").setAttribute("title", t("minutes.title"));
  $("minutes-note").textContent = t(closedAt == null ? "minutes.note" : "minutes.note_final");
  const shown = decided.length > 0 || closedAt != null;
  $("minutes").hidden = !shown;
  if (shown) $("minutes-frame").setAttribute("src", url);
}

/** The after-session form: the close and its time in place of the live feed. */
function renderClosed(meeting, closedAt) {
  const closed = closedAt != null;
  $("live-feed").hidden = closed;
  $("closed").hidden = !closed;
  if (!closed) return;
  $("closed-body").textContent = meeting.body;
  $("closed-title").textContent = meeting.title;
  $("closed-line").textContent = closedLine(t, closedAt, currentLang());
}

function renderAgenda(meeting, snapshot) {
  $("agenda-list").replaceChildren(
    ...meeting.agenda.map((item) => {
      const status = snapshot.items[item.index]?.status ?? "pending";
      return itemLine(
        item,
        h(
          "div",
          { class: "record-title" },
          item.kind === "other" ? null : h("span", { class: "record-kind" }, t(`kind.${item.kind}`)),
          item.title,
          status === "pending" ? null : [" ", statusTag(status)],
        ),
        documentLinks(meeting, item),
      );
    }),
  );
}

/** What the session has decided, and the agenda with its documents: redrawn when statuses or the language change. */
function renderRecord() {
  const { meeting, snapshot } = hall.session ?? {};
  if (!meeting || !snapshot) return;
  const closedAt = snapshot.closed_at ?? null;
  const key = JSON.stringify([currentLang(), meeting.id, closedAt, snapshot.items.map((i) => [i.status, i.result])]);
  if (key === recordKey) return;
  recordKey = key;
  const decided = decidedItems(meeting, snapshot);
  renderClosed(meeting, closedAt);
  renderResults(meeting, decided);
  renderResolutions(meeting, decided);
  renderMinutes(meeting, decided, closedAt);
  renderAgenda(meeting, snapshot);
}

function render() {
  hall.render();
  renderRecord();
}

function toggleLang() {
  setLang(currentLang() === "en" ? "vi" : "en");
  render();
  hall.tick();
}

function main() {
  document.documentElement.lang = currentLang();
  hall.mount($("live-feed"));
  $("lang-toggle").addEventListener("click", toggleLang);
  window.addEventListener("resize", render);
  document.fonts.addEventListener("loadingdone", render);
  hall.session = new Session({ meeting: meetingId });
  hall.session.addEventListener("change", render);
  render();
  hall.tick();
  setInterval(() => hall.tick(), 250);
  hall.session.start();
}

main();
