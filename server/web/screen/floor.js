// The floor: who speaks (name, seat or post, kind, whom a question is put
// to, the topic as typed), a large clock counting down to the end of the
// turn that warns in its last 30 seconds and then counts the overrun, and
// the next speakers.

import { putTo, speakerOf } from "../common/floor.js";
import { turnPhase, turnSecondsLeft, turnText } from "../common/countdown.js";
import { h, setText } from "../common/dom.js";

function speakerCard(ctx, turn) {
  const { t, meeting } = ctx;
  const request = turn.request;
  const who = speakerOf(t, meeting, request);
  const clock = h("div", { class: "floor-clock", "data-testid": "screen-floor-clock" });
  const label = h("div", { class: "floor-clock-label" });
  const card = h(
    "div",
    { class: "floor-card", "data-testid": "screen-floor-speaker", dataset: { kind: request.kind } },
    h(
      "div",
      { class: "floor-who" },
      h("div", { class: "floor-kind" }, t(`floor.kind.${request.kind}`)),
      h("div", { class: "floor-name", "data-testid": "screen-floor-name" }, who.name),
      h("div", { class: "floor-detail" }, who.detail),
      h("div", { class: "floor-put-to", "data-testid": "screen-floor-put-to" }, putTo(t, meeting, request)),
      request.topic ? h("div", { class: "floor-topic", dir: "auto", "data-testid": "screen-floor-topic" }, request.topic) : null,
    ),
    h("div", { class: "floor-timer" }, label, clock),
  );
  return {
    el: card,
    tick(now) {
      const seconds = turnSecondsLeft(turn, now);
      const phase = turn.paused_at != null ? "paused" : turnPhase(seconds);
      setText(clock, turnText(seconds));
      clock.dataset.seconds = String(seconds);
      card.dataset.phase = phase;
      setText(label, phase === "paused" ? t("floor.paused") : phase === "over" ? t("floor.over") : t("countdown.label"));
    },
  };
}

function nextList(ctx) {
  const { t, meeting } = ctx;
  const list = h("ol", { class: "floor-next-list", "data-testid": "screen-floor-next" });
  const box = h("section", { class: "floor-next" }, h("h2", { class: "agenda-heading" }, t("floor.next")), list);
  return {
    el: box,
    update(floor) {
      const lines = floor.queue.map((request, i) => {
        const who = speakerOf(t, meeting, request);
        return h(
          "li",
          { class: "floor-next-item", dataset: { kind: request.kind } },
          h("span", { class: "agenda-number" }, i + 1),
          h("span", { class: "floor-next-name" }, who.name, h("span", { class: "floor-next-detail" }, who.detail)),
          h("span", { class: "floor-next-kind" }, t(`floor.kind.${request.kind}`)),
        );
      });
      list.replaceChildren(...lines);
      box.hidden = lines.length === 0;
      const more = floor.waiting - floor.queue.length;
      box.dataset.more = more > 0 ? t("floor.more", { n: more }) : "";
    },
  };
}

export function floorView(ctx, scene) {
  const speaker = scene.floor.turn ? speakerCard(ctx, scene.floor.turn) : null;
  const next = nextList(ctx);
  const waiting = speaker ? null : h("div", { class: "state-band" }, h("div", { class: "state-word" }, ctx.t("floor.waiting")));
  return {
    el: h("div", { class: "floor" }, speaker?.el ?? waiting, next.el),
    update(scene) {
      next.update(scene.floor);
    },
    tick(now) {
      speaker?.tick(now);
    },
  };
}
