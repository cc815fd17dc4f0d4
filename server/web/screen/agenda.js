// Between votes: the current item's state (not yet voted, not voted on, or
// its round voided) and where the session stands in its agenda; once the
// chair has closed the session, that it is closed, above the agenda's
// outcomes.

import { describeRule } from "../common/rules.js";
import { closedLine } from "../common/protocol.js";
import { h } from "../common/dom.js";

/** The band above the agenda: the session closed, a voided round, a vote still to come, or an item without a vote. */
function stateBand(ctx, scene) {
  const { t, lang } = ctx;
  if (scene.state === "session_closed") {
    return h(
      "div",
      { class: "state-band session-closed", "data-testid": "screen-session-closed" },
      h("div", { class: "state-word" }, t("session.closed")),
      h("div", { class: "state-detail" }, closedLine(t, scene.closedAt, lang, "session.closed_time")),
    );
  }
  if (scene.state === "voided") {
    return h(
      "div",
      { class: "result-banner banner-voided" },
      h("div", { class: "banner-word" }, t("voided.title")),
      h("div", { class: "banner-rule" }, t("voided.note")),
    );
  }
  if (!scene.item) return null;
  if (!scene.settings) return h("div", { class: "state-band" }, h("div", { class: "state-word quiet" }, t("state.no_vote")));
  return h(
    "div",
    { class: "state-band" },
    h("div", { class: "state-word" }, t("state.pending")),
    h("div", { class: "state-detail" }, `${t("state.rule")} ${describeRule(scene.settings.rule, t)}`),
  );
}

/**
 * Drops the lines farthest from the current item (earlier ones first on a
 * tie) until the list fits its box, so a long agenda or a long title never
 * pushes lines off the screen. Where the box grows with its content (the
 * narrow, scrolling layout) everything stays.
 */
function fit(box, lines, current) {
  const at = current ?? 0;
  const farthestFirst = lines
    .map((el, i) => ({ el, away: Math.abs(i - at) + (i < at ? 0.5 : 0) }))
    .sort((x, y) => y.away - x.away);
  for (const { el } of farthestFirst.slice(0, -1)) {
    if (box.scrollHeight <= box.clientHeight) return;
    el.remove();
  }
}

function agendaList(ctx) {
  const { t, meeting } = ctx;
  const list = h("ol", { class: "agenda-list" });
  const box = h("section", { class: "agenda" }, h("h2", { class: "agenda-heading" }, t("agenda")), list);
  return {
    el: box,
    update(snapshot) {
      const lines = meeting.agenda.map((item) => {
        const status = snapshot.items[item.index]?.status ?? "pending";
        // Items still to come say nothing: the band above tells the current item's state.
        const shown = status === "pending" ? "" : t(`status.${status}`);
        return h(
          "li",
          { class: `agenda-item${item.index === snapshot.current_item ? " current" : ""}` },
          h("span", { class: "agenda-number" }, item.index + 1),
          h("span", { class: "agenda-title" }, item.title),
          h("span", { class: `agenda-status status-${status}` }, shown),
        );
      });
      list.replaceChildren(...lines);
      fit(box, lines, snapshot.current_item);
    },
  };
}

export function idleView(ctx, scene) {
  const agenda = agendaList(ctx);
  return {
    el: h("div", { class: "idle" }, stateBand(ctx, scene), agenda.el),
    update() {
      agenda.update(ctx.session.snapshot);
    },
  };
}
