// The hall screen: a read-only watcher of one meeting, drawn for a big screen
// at the front of the hall and for citizens following the session. Every
// change arrives as a session "change" event; the only timer re-draws the
// clock and the countdown from the server's clock.

import { Session } from "../common/session.js";
import { currentLang, makeTranslator, reasonText, setLang } from "../common/i18n.js";
import { h, setText } from "../common/dom.js";
import { WORDS } from "./words.js";
import { sceneOf } from "./model.js";
import { liveVariant, liveView, secrecyTag } from "./live.js";
import { resultView } from "./result.js";
import { idleView } from "./agenda.js";
import { floorView } from "./floor.js";

const t = makeTranslator(WORDS);
const $ = (id) => document.getElementById(id);

let session = null;
/** Set when the server hosts no meeting at all: nothing to watch. */
let noMeeting = false;
/** The view on the stage and what it was built for; rebuilt only when that changes, so bars animate in place. */
let view = null;
let viewKey = "";

/** The meeting to watch: `?meeting=ID`, else the first one the server hosts (null if none). */
async function meetingToWatch() {
  const fromUrl = new URLSearchParams(location.search).get("meeting");
  if (fromUrl) return fromUrl;
  for (let backoff = 500; ; backoff = Math.min(backoff * 2, 5000)) {
    try {
      const response = await fetch("/api/meetings");
      if (response.ok) return (await response.json())[0]?.id ?? null;
    } catch {
      // The server is not up yet: try again, as the session would.
    }
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

function renderStaticWords() {
  document.title = session?.meeting ? `${session.meeting.title} — ${t("page.title")}` : `Gavel — ${t("page.title")}`;
  for (const el of document.querySelectorAll("[data-word]")) setText(el, t(el.dataset.word));
  setText($("lang-toggle"), t("language"));
  $("lang-toggle").setAttribute("aria-label", t("language"));
}

function renderBand() {
  const meeting = session?.meeting;
  setText($("meeting-body"), meeting?.body ?? "Gavel");
  setText($("meeting-title"), meeting?.title ?? "");
  const present = session?.snapshot?.present;
  setText($("present-count"), present == null ? "–" : String(present));
  setText($("present-total"), meeting ? `/${meeting.total_seats}` : "");
}

function renderConn() {
  const status = session?.status ?? "connecting";
  const conn = $("conn");
  conn.dataset.state = status;
  conn.hidden = status === "online";
  const text = status === "refused" ? `${t("conn.refused")}: ${reasonText(t, session.refusal?.reason)}` : t(`conn.${status}`);
  setText(conn, status === "online" ? "" : text);
  document.body.classList.toggle("stale", status === "reconnecting");
}

/** Long titles get a smaller size so that they keep to about three lines. */
function titleSize(text) {
  if (text.length > 120) return "long";
  if (text.length > 70) return "medium";
  return "short";
}

function renderItem(scene) {
  const meeting = session?.meeting;
  const item = scene.item;
  const count = meeting?.agenda.length ?? 0;
  setText($("item-counter"), item ? t("item.counter", { n: item.index + 1, total: count }) : "");
  setText($("item-topic"), item?.topic ?? "");
  // "Nội dung khác" (other) says nothing the title does not.
  setText($("item-kind"), item && item.kind !== "other" ? t(`kind.${item.kind}`) : "");
  const secrecy = scene.settings ? `${currentLang()}|${scene.settings.secrecy}` : "";
  if ($("item-secrecy").dataset.shows !== secrecy) {
    $("item-secrecy").dataset.shows = secrecy;
    $("item-secrecy").replaceChildren(scene.settings ? secrecyTag(t, scene.settings.secrecy) : "");
  }
  const title = item?.title ?? (meeting ? t("item.none") : "");
  setText($("item-title"), title);
  $("item-title").dataset.size = titleSize(title);
  $("item").hidden = !meeting;
}

function messageView(text) {
  return { el: h("div", { class: "message" }, text) };
}

/** Builds the stage's view for a scene. */
function buildView(scene, ctx) {
  switch (scene.state) {
    case "open":
      return liveView(ctx, scene);
    case "closed":
      return resultView(ctx, scene);
    case "floor":
      return floorView(ctx, scene);
    case "none":
    case "voided":
      return idleView(ctx, scene);
    case "empty":
      return messageView(t("no_meeting"));
    case "refused":
      return messageView(`${t("conn.refused")}: ${reasonText(t, session.refusal?.reason)}`);
    default:
      return messageView(t("conn.connecting"));
  }
}

function keyOf(scene, lang) {
  const variant = scene.state === "open" ? liveVariant(scene) : "";
  // A turn's view is built for its turn: a new speaker, a new view.
  const turn = scene.state === "floor" ? JSON.stringify(scene.floor.turn) : "";
  return [lang, scene.state, scene.item?.index, scene.round?.id, variant, turn].join("|");
}

function renderStage(scene) {
  const lang = currentLang();
  const key = keyOf(scene, lang);
  if (key !== viewKey) {
    const ctx = { t, lang, session, meeting: session?.meeting };
    view = buildView(scene, ctx);
    viewKey = key;
    $("stage").replaceChildren(view.el);
    $("stage").dataset.state = scene.state;
    document.body.dataset.state = scene.state;
  }
  view.update?.(scene);
  view.tick?.(session.serverNow());
}

function render() {
  const scene = session ? sceneOf(session) : { state: noMeeting ? "empty" : "loading" };
  renderStaticWords();
  renderBand();
  renderConn();
  renderItem(scene);
  renderStage(scene);
}

/** Re-draws what moves by itself: the clock and the countdown. */
function tick() {
  const now = session ? session.serverNow() : Date.now();
  const lang = currentLang() === "en" ? "en-GB" : "vi-VN";
  const date = new Date(now);
  setText($("clock"), date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
  setText($("date"), date.toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "numeric", year: "numeric" }));
  view?.tick?.(now);
}

/** Switches language; setLang remembers it for this device. */
function toggleLang() {
  setLang(currentLang() === "en" ? "vi" : "en");
  render();
  tick();
}

async function main() {
  document.documentElement.lang = currentLang();
  $("lang-toggle").addEventListener("click", toggleLang);
  // The agenda keeps as many lines as fit, so it is laid out again when the
  // window or the font (loaded as glyphs are needed) changes its size.
  window.addEventListener("resize", render);
  document.fonts.addEventListener("loadingdone", render);
  render();
  tick();
  setInterval(tick, 250);
  const meeting = await meetingToWatch();
  if (!meeting) {
    noMeeting = true;
    render();
    return;
  }
  session = new Session({ meeting });
  session.addEventListener("change", render);
  render();
  session.start();
}

main();
