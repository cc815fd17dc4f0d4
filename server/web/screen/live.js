// The open vote: a large countdown to the server's deadline, and what the
// round's interim setting lets the hall see: totals with bars, or only how
// many delegates have voted, and for a named vote with individual interim
// results, the seat map.

import { describeRule } from "/common/protocol.js";
import { h, sentence, setText } from "./dom.js";
import { choiceRows } from "./bars.js";
import { seatMap } from "./seatmap.js";
import { seatChoices, yesNeeded } from "./model.js";

/** "1:05", "0:09": minutes and seconds, rounded up so 0:00 means the time is over. */
export function formatCountdown(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** The vote type as the hall calls it: open vote or secret ballot. */
export function secrecyTag(t, secrecy) {
  return h("span", { class: `secrecy secrecy-${secrecy}` }, t(`secrecy.${secrecy}`));
}

function countdownCard(t, settings) {
  const clock = h("div", { class: "countdown", testid: "countdown" });
  const label = h("div", { class: "countdown-label" });
  const left = h("div", { class: "countdown-left" });
  const card = h(
    "div",
    { class: "countdown-card" },
    secrecyTag(t, settings.secrecy),
    label,
    clock,
    h("div", { class: "countdown-track" }, left),
  );
  return {
    el: card,
    tick(round, now) {
      const remaining = round.deadline - now;
      const window = Math.max(1, round.deadline - round.opened_at);
      setText(clock, formatCountdown(remaining));
      clock.dataset.seconds = String(Math.max(0, Math.ceil(remaining / 1000)));
      setText(label, remaining > 0 ? t("countdown.label") : t("countdown.over"));
      card.classList.toggle("ending", remaining > 0 && remaining <= 10_000);
      card.classList.toggle("over", remaining <= 0);
      left.style.width = `${Math.max(0, Math.min(100, (100 * remaining) / window))}%`;
    },
  };
}

/** "N/40 đại biểu đã biểu quyết", with the two numbers addressable. */
function takingPartLine(t) {
  const count = h("span", { class: "num", testid: "taking-part" });
  const total = h("span", { class: "num", testid: "total-seats" });
  return {
    el: h("p", { class: "taking-part" }, sentence(t, "live.taking_part", { n: count, total })),
    set(n, seats) {
      setText(count, String(n));
      setText(total, String(seats));
    },
  };
}

/** Totals: a bar per choice, a pass mark on the yes bar, and the rule. */
function totalsPanel(ctx) {
  const { t, meeting, settings } = ctx;
  const rows = choiceRows(meeting.labels);
  const taking = takingPartLine(t);
  const needed = h("span", { class: "num" });
  const el = h(
    "div",
    { class: "live-totals" },
    h("div", { class: "bars stacked" }, rows.map((r) => r.el)),
    taking.el,
    h(
      "p",
      { class: "live-rule" },
      sentence(t, "live.needed", { needed, yes: meeting.labels.yes.toLocaleLowerCase(ctx.lang) }),
      ` (${describeRule(settings.rule, t)})`,
    ),
  );
  return {
    el,
    update(live) {
      const counts = live.counts;
      const mark = yesNeeded(settings.rule, counts);
      rows.forEach((row, i) => {
        const choice = ["yes", "no", "abstain"][i];
        row.set(counts[choice], counts.total_seats, ctx.lang, choice === "yes" ? mark : null);
      });
      taking.set(live.taking_part, counts.total_seats);
      setText(needed, String(mark));
    },
  };
}

/** No totals allowed: only that voting is under way, and how many have voted if known. */
function quietPanel(ctx) {
  const { t, meeting } = ctx;
  const taking = takingPartLine(t);
  const progress = h("div", { class: "bar-fill" });
  const el = h(
    "div",
    { class: "live-quiet" },
    h("p", { class: "live-voting" }, t("live.voting")),
    taking.el,
    h("div", { class: "bar-track tone-neutral quiet-track" }, progress),
    h("p", { class: "live-rule" }, `${t("state.rule")} ${describeRule(ctx.settings.rule, t)}`),
  );
  return {
    el,
    update(live) {
      const known = live?.taking_part != null;
      taking.el.hidden = !known;
      progress.parentElement.hidden = !known;
      if (!known) return;
      taking.set(live.taking_part, meeting.total_seats);
      requestAnimationFrame(() => {
        progress.style.width = `${(100 * live.taking_part) / Math.max(1, meeting.total_seats)}%`;
      });
    },
  };
}

/** Which panels this round shows; the view is rebuilt when this changes. */
export function liveVariant(scene) {
  const counts = scene.round.live?.counts ? "totals" : "quiet";
  return seatChoices(scene) ? `${counts}+seats` : counts;
}

export function liveView(ctx, scene) {
  const { t, meeting } = ctx;
  const countdown = countdownCard(t, scene.settings);
  const panelCtx = { ...ctx, settings: scene.settings };
  const panel = scene.round.live?.counts ? totalsPanel(panelCtx) : quietPanel(panelCtx);
  const map = seatChoices(scene) ? seatMap(meeting, t) : null;
  const el = h(
    "div",
    { class: `live${map ? " with-seats" : ""}` },
    countdown.el,
    h("div", { class: "live-main" }, panel.el, map?.el),
  );
  let round = scene.round;
  return {
    el,
    update(next) {
      round = next.round;
      panel.update(round.live);
      map?.update(seatChoices(next) ?? [], ctx.session.snapshot.present_seats ?? []);
    },
    tick(now) {
      countdown.tick(round, now);
    },
  };
}
