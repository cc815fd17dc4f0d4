// The hall screen's live part, for every page that shows it: the band (who
// meets, the session, how many are present, the clock), the current item
// and the stage (the open vote, a result, the floor, a presented page or
// the agenda). The hall screen is this and nothing else; the public page
// (/public/{meeting}) shows it above the agenda, the documents and the
// minutes. `mount` builds its elements; each page has its own corner
// buttons (`conn`, `lang-toggle`) and words marked `data-word`.

import { currentLang, reasonText } from "../common/i18n.js";
import { h, setText } from "../common/dom.js";
import { versionsText } from "../common/agenda.js";
import { bandPresence, sceneOf } from "./model.js";
import { liveVariant, liveView, secrecyTag } from "./live.js";
import { provisionalView, resultView } from "./result.js";
import { idleView } from "./agenda.js";
import { floorView } from "./floor.js";
import { presentedView } from "./present.js";

const $ = (id) => document.getElementById(id);

/** Long titles get a smaller size so that they keep to about three lines. */
function titleSize(text) {
  if (text.length > 120) return "long";
  if (text.length > 70) return "medium";
  return "short";
}

function messageView(text) {
  return { el: h("div", { class: "message" }, text) };
}

function keyOf(scene, lang) {
  const variant = scene.state === "open" ? liveVariant(scene) : "";
  // A turn's view is built for its turn: a new speaker, a new view.
  const turn = scene.state === "floor" ? JSON.stringify(scene.floor.turn) : "";
  // A presented document's view turns its own pages; another document is another view.
  const document = scene.state === "document" ? scene.document.sha256 : "";
  // Each confirmation of the counting board moves its progress on.
  const board = scene.state === "provisional" ? (scene.board?.confirmed.length ?? "") : "";
  return [lang, scene.state, scene.item?.index, scene.round?.id, variant, turn, document, board].join("|");
}

/** The band and the screen (the current item, the stage), found afterwards by id. */
function hallElements() {
  const band = h(
    "header",
    { class: "band" },
    h(
      "div",
      { class: "band-titles" },
      h("div", { class: "band-body", id: "meeting-body" }),
      h("div", { class: "band-session", "data-testid": "meeting-title", id: "meeting-title" }),
    ),
    h(
      "div",
      { class: "band-present" },
      h("span", { class: "band-label", "data-word": "present", id: "present-label" }),
      h(
        "span",
        { class: "band-value" },
        h("span", { "data-testid": "present-count", id: "present-count" }, "–"),
        h("span", { class: "band-of", id: "present-total" }),
      ),
    ),
    h("div", { class: "band-clock" }, h("span", { class: "clock-time", id: "clock" }), h("span", { class: "clock-date", id: "date" })),
  );
  const screen = h(
    "main",
    { class: "screen" },
    h(
      "section",
      { class: "item", id: "item" },
      h(
        "div",
        { class: "item-kicker" },
        h("span", { class: "item-counter", id: "item-counter" }),
        h("span", { class: "item-topic", id: "item-topic" }),
        h("span", { class: "item-kind", id: "item-kind" }),
        h("span", { id: "item-secrecy" }),
      ),
      h("h1", { class: "item-title", "data-testid": "screen-item-title", id: "item-title" }),
      h("p", { class: "item-versions", "data-testid": "screen-round-versions", id: "item-versions" }),
    ),
    h("section", { class: "stage", "data-testid": "screen-round-state", "data-state": "none", id: "stage" }),
  );
  return [band, screen];
}

export class Hall {
  /** `t` translates the hall screen's words (and any the page adds). */
  constructor(t) {
    this.t = t;
    /** The watching session, once the meeting is known. */
    this.session = null;
    /** Set when the server hosts no meeting at all: nothing to watch. */
    this.noMeeting = false;
    /** The view on the stage and what it was built for; rebuilt only when that changes, so bars animate in place. */
    this.view = null;
    this.viewKey = "";
  }

  /** Puts the band and the screen at the start of `container`. */
  mount(container) {
    container.prepend(...hallElements());
  }

  /** The page's title, its words marked `data-word`, and the language button. */
  renderWords() {
    const { t } = this;
    const meeting = this.session?.meeting;
    document.title = meeting ? `${meeting.title} — ${t("page.title")}` : `Gavel — ${t("page.title")}`;
    for (const el of document.querySelectorAll("[data-word]")) setText(el, t(el.dataset.word));
    setText($("lang-toggle"), t("language"));
    $("lang-toggle").setAttribute("aria-label", t("language"));
  }

  renderBand(scene) {
    const meeting = this.session?.meeting;
    setText($("meeting-body"), meeting?.body ?? "Gavel");
    setText($("meeting-title"), meeting?.title ?? "");
    const present = bandPresence(this.session, scene);
    const label = $("present-label");
    label.dataset.word = present.byHand ? "present.by_hand" : "present";
    setText(label, this.t(label.dataset.word));
    $("present-count").dataset.source = present.byHand ? "by_hand" : "devices";
    setText($("present-count"), present.count == null ? "–" : String(present.count));
    setText($("present-total"), meeting ? `/${meeting.total_seats}` : "");
  }

  renderConn() {
    const { t, session } = this;
    const status = session?.status ?? "connecting";
    const conn = $("conn");
    conn.dataset.state = status;
    conn.hidden = status === "online";
    const text = status === "refused" ? `${t("conn.refused")}: ${reasonText(t, session.refusal?.reason)}` : t(`conn.${status}`);
    setText(conn, status === "online" ? "" : text);
    document.body.classList.toggle("stale", status === "reconnecting");
  }

  renderItem(scene) {
    const { t } = this;
    const meeting = this.session?.meeting;
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
    // While a vote is open, the versions of the documents it is about, as the ballots sign them.
    setText($("item-versions"), scene.state === "open" ? versionsText(t, scene.round.versions, item) : "");
    // Once the session is closed nothing is current: the stage says so.
    $("item").hidden = !meeting || scene.state === "session_closed";
  }

  /** Builds the stage's view for a scene. */
  buildView(scene, ctx) {
    const { t } = this;
    switch (scene.state) {
      case "open":
        return liveView(ctx, scene);
      case "closed":
        return resultView(ctx, scene);
      case "provisional":
        return provisionalView(ctx, scene);
      case "floor":
        return floorView(ctx, scene);
      case "document":
        return presentedView(ctx, scene);
      case "none":
      case "voided":
      case "session_closed":
        return idleView(ctx, scene);
      case "empty":
        return messageView(t("no_meeting"));
      case "refused":
        return messageView(`${t("conn.refused")}: ${reasonText(t, this.session.refusal?.reason)}`);
      default:
        return messageView(t("conn.connecting"));
    }
  }

  renderStage(scene) {
    const lang = currentLang();
    const key = keyOf(scene, lang);
    if (key !== this.viewKey) {
      const ctx = { t: this.t, lang, session: this.session, meeting: this.session?.meeting };
      this.view?.close?.();
      this.view = this.buildView(scene, ctx);
      this.viewKey = key;
      $("stage").replaceChildren(this.view.el);
      $("stage").dataset.state = scene.state;
      document.body.dataset.state = scene.state;
    }
    this.view.update?.(scene);
    this.view.tick?.(this.session.serverNow());
  }

  /** Draws the page's words, the band, the current item and the stage from the session's state. */
  render() {
    const { session } = this;
    const scene = session ? sceneOf(session) : { state: this.noMeeting ? "empty" : "loading" };
    this.renderWords();
    this.renderBand(scene);
    this.renderConn();
    this.renderItem(scene);
    this.renderStage(scene);
  }

  /** Re-draws what moves by itself: the clock and the countdown. */
  tick() {
    const now = this.session ? this.session.serverNow() : Date.now();
    const lang = currentLang() === "en" ? "en-GB" : "vi-VN";
    const date = new Date(now);
    setText($("clock"), date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
    setText($("date"), date.toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "numeric", year: "numeric" }));
    this.view?.tick?.(now);
  }
}
