// The open vote: a large countdown to the server's deadline (in its place,
// while the chair holds the vote, a large "voting paused"), and what the
// round's interim setting lets the hall see: totals with bars, or only how
// many delegates have voted, and for a named vote with individual interim
// results, the seat map.

import { labelInSentence } from "../common/protocol.js";
import { countdownText, isPaused, secondsLeft, shareLeft, URGENT_SECONDS } from "../common/countdown.js";
import { describeRule, yesNeeded } from "../common/rules.js";
import { h, sentence, setText } from "../common/dom.js";
import { choiceRows } from "./bars.js";
import { seatStates } from "../common/seatmap.js";
import { seatMap } from "./seatmap.js";
import { seatChoices } from "./model.js";

/** The vote type as the hall calls it: open vote or secret ballot. */
export function secrecyTag(t, secrecy) {
  return h("span", { class: `secrecy secrecy-${secrecy}` }, t(`secrecy.${secrecy}`));
}

/**
 * The countdown, or while the chair holds the vote a large "voting paused"
 * in its place, with the time kept for the resume told in the label.
 */
function countdownCard(t, settings) {
  const clock = h("div", { class: "countdown", "data-testid": "countdown" });
  const held = h("div", { class: "countdown-paused", "data-testid": "screen-paused", "aria-live": "polite" }, t("countdown.paused"));
  const label = h("div", { class: "countdown-label" });
  const left = h("div", { class: "countdown-left" });
  const card = h(
    "div",
    { class: "countdown-card", "data-testid": "countdown-card" },
    secrecyTag(t, settings.secrecy),
    label,
    clock,
    held,
    h("div", { class: "countdown-track" }, left),
  );
  return {
    el: card,
    tick(round, now) {
      const seconds = secondsLeft(round, now);
      const paused = isPaused(round);
      setText(clock, countdownText(seconds));
      clock.dataset.seconds = String(seconds);
      clock.hidden = paused;
      held.hidden = !paused;
      card.dataset.paused = String(paused);
      const words = paused ? t("countdown.paused_left", { time: countdownText(seconds) }) : t(seconds > 0 ? "countdown.label" : "countdown.over");
      setText(label, words);
      card.classList.toggle("ending", !paused && seconds > 0 && seconds <= URGENT_SECONDS);
      card.classList.toggle("over", !paused && seconds <= 0);
      left.style.width = `${shareLeft(round, now) * 100}%`;
    },
  };
}

/** "N/40 đại biểu đã biểu quyết", with the two numbers addressable. */
function takingPartLine(t) {
  const count = h("span", { class: "num", "data-testid": "taking-part" });
  const total = h("span", { class: "num", "data-testid": "total-seats" });
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
      sentence(t, "live.needed", { needed, yes: labelInSentence(meeting.labels.yes, ctx.lang) }),
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
      map?.update(seatStates(ctx.session.snapshot.present_seats, round));
    },
    tick(now) {
      countdown.tick(round, now);
    },
  };
}
