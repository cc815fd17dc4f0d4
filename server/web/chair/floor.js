// The chair's floor panel: the turn under way with its clock and the
// buttons that run it (hold, resume, more time, end), the waiting requests
// by kind with the buttons that reorder them and give the floor, and a form
// to add a speaker who has no tablet. Built in code, names and topics as text.

import { putTo, speakerOf } from "../common/floor.js";
import { turnPhase, turnSecondsLeft, turnText } from "../common/countdown.js";
import { h, setText } from "../common/dom.js";

const KINDS = ["reply", "speak", "question", "follow_up", "answer"];

/** "Chất vấn: 2 · Phát biểu: 1": how many wait, by kind. */
function byKind(t, queue) {
  return KINDS.map((kind) => [kind, queue.filter((r) => r.kind === kind).length])
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${t(`floor.kind.${kind}`)}: ${n}`)
    .join(" · ");
}

function turnBlock(v, turn) {
  const { t, meeting } = v;
  const who = speakerOf(t, meeting, turn.request);
  const held = turn.paused_at != null;
  const button = (action, word, testid, hidden = false) =>
    h("button", { type: "button", class: "btn btn-hold", "data-floor": action, "data-testid": testid, hidden }, t(word));
  return h(
    "div",
    { class: "floor-turn", "data-testid": "chair-floor-turn", dataset: { kind: turn.request.kind } },
    h(
      "div",
      { class: "floor-turn-who" },
      h("span", { class: "floor-tag" }, t(`floor.kind.${turn.request.kind}`)),
      h("b", { class: "floor-turn-name" }, who.name),
      h("span", { class: "floor-turn-detail" }, who.detail),
      h("span", { class: "floor-turn-put-to" }, putTo(t, meeting, turn.request)),
      turn.request.topic ? h("span", { class: "floor-turn-topic", dir: "auto" }, turn.request.topic) : null,
    ),
    h("span", { class: "floor-turn-clock", id: "floor-clock", "data-testid": "chair-floor-clock" }),
    h(
      "div",
      { class: "floor-turn-buttons" },
      button("floor_pause", "floor.pause", "chair-floor-pause", held),
      button("floor_resume", "floor.resume", "chair-floor-resume", !held),
      button("floor_add_time", "floor.addMinute", "chair-floor-add-time"),
      h("button", { type: "button", class: "btn btn-primary", "data-floor": "floor_end", "data-testid": "chair-floor-end" }, t("floor.end")),
    ),
  );
}

function queueRow(v, request, place, running) {
  const { t, meeting } = v;
  const who = speakerOf(t, meeting, request);
  return h(
    "li",
    { class: "floor-row", "data-testid": "chair-floor-request", dataset: { request: request.id, kind: request.kind } },
    h("span", { class: "floor-place" }, place + 1),
    h("span", { class: "floor-tag" }, t(`floor.kind.${request.kind}`)),
    h(
      "span",
      { class: "floor-row-who" },
      h("b", {}, who.name),
      h("span", { class: "floor-row-detail" }, [who.detail, putTo(t, meeting, request)].filter(Boolean).join(" · ")),
      request.topic ? h("span", { class: "floor-row-topic", dir: "auto" }, request.topic) : null,
    ),
    h(
      "span",
      { class: "floor-row-buttons" },
      h("button", { type: "button", class: "btn btn-small", "data-floor": "floor_move", "data-place": Math.max(0, place - 1), "data-request": request.id, disabled: place === 0, "aria-label": t("floor.up") }, "↑"),
      h("button", { type: "button", class: "btn btn-small btn-primary", "data-floor": "floor_give", "data-request": request.id, disabled: running, "data-testid": "chair-floor-give" }, t("floor.give")),
    ),
  );
}

/** Draws the panel from `v.session.floor` (rebuilt on each change; the clock ticks apart). */
export function renderFloor(v) {
  const { t } = v;
  const floor = v.session.floor;
  const panel = document.getElementById("floor-panel");
  const onItem = floor && floor.item === v.index && v.index !== null;
  const quiet = onItem && !floor.turn && floor.waiting === 0;
  // While nobody speaks or waits the panel gives way to a vote and to a
  // decided item's result, and keeps below the rest otherwise.
  const decided = !["pending", "voided"].includes(v.state?.status ?? "pending");
  panel.hidden = !onItem || (quiet && (Boolean(v.open) || decided)) || (Boolean(v.open) && !floor.turn);
  if (!onItem) return;
  panel.dataset.quiet = String(quiet);
  setText(document.getElementById("floor-counts"), floor.waiting ? byKind(t, floor.queue) : t("floor.nobody"));
  const key = JSON.stringify([v.lang, floor.turn, floor.queue]);
  if (panel.dataset.drawn === key) return;
  panel.dataset.drawn = key;
  document.getElementById("floor-turn").replaceChildren(floor.turn ? turnBlock(v, floor.turn) : "");
  document
    .getElementById("floor-queue")
    .replaceChildren(...floor.queue.map((request, place) => queueRow(v, request, place, floor.turn != null)));
  renderFloorClock(v);
}

/** The speaker's clock: counts down, warns in the last 30 s, then shows the overrun. */
export function renderFloorClock(v) {
  const turn = v?.session.floor?.turn;
  const clock = document.getElementById("floor-clock");
  if (!turn || !clock) return;
  const seconds = turnSecondsLeft(turn, v.session.serverNow());
  setText(clock, turnText(seconds));
  clock.dataset.phase = turn.paused_at != null ? "paused" : turnPhase(seconds);
}

/**
 * The command a click in the panel asks for, or null; the floor is given
 * for `limit` seconds, or the kind's limit when it is null.
 */
export function floorCommand(target, limit) {
  const button = target.closest("[data-floor]");
  if (!button || button.disabled) return null;
  const action = button.dataset.floor;
  const request = button.dataset.request ? Number(button.dataset.request) : null;
  switch (action) {
    case "floor_move":
      return { action, request, place: Number(button.dataset.place) };
    case "floor_give":
      return { action, request, limit_seconds: limit };
    case "floor_add_time":
      return { action, seconds: 60 };
    default:
      return { action };
  }
}
