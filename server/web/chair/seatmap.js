// The seat map: every seat of the body, grouped as the roster groups them,
// showing who is absent, present, and — while a vote is open — who has
// voted. In a named round the chair also sees each seat's choice; in a
// secret round the server never sends choices, and this map never asks.

import { CHOICES } from "../common/protocol.js";
import { h, setAttr, setText } from "../common/dom.js";
import { seatState, seatTier, seatTile } from "../common/seatmap.js";

/** Seats in roster order, grouped by their `group` (seats without one form an unnamed group). */
function byGroup(seats) {
  const groups = new Map();
  for (const seat of seats) {
    const name = seat.group ?? "";
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(seat);
  }
  return [...groups.entries()];
}

/** Draws the tiles once per meeting; `updateSeatMap` changes only their states. */
export function buildSeatMap(container, meeting) {
  // A large body's tiles show only numbers (the names are in each tile's
  // title), so it still fits; the chair points at seats by their numbers.
  const tier = seatTier(meeting.seats.length) === "named" ? "named" : "numbered";
  container.classList.toggle("dense", tier !== "named");
  container.replaceChildren(
    ...byGroup(meeting.seats).map(([group, seats]) =>
      h(
        "section",
        { class: "seat-group" },
        group ? h("h3", { class: "group-title" }, h("span", {}, group), h("span", { class: "group-count" })) : null,
        h(
          "div",
          { class: "seat-grid" },
          seats.map((seat) => seatTile(seat, tier, "button")),
        ),
      ),
    ),
  );
}

/** In words, for the tooltip and the detail line: "Có mặt, chưa biểu quyết", "Đã biểu quyết: Tán thành". */
function describeSeat(t, labels, states, number) {
  const state = seatState(states, number);
  if (state === "voted") {
    const choice = states.choices.get(number);
    return choice ? `${t("seat.voted")}: ${labels[choice]}` : t("seat.voted");
  }
  if (state === "present") return t(states.voting ? "seat.waiting" : "seat.present");
  return t("seat.absent");
}

export function updateSeatMap(container, { t, meeting }, states) {
  const seats = new Map(meeting.seats.map((s) => [s.number, s]));
  for (const tile of container.querySelectorAll(".seat")) {
    const number = Number(tile.dataset.seat);
    const seat = seats.get(number);
    setAttr(tile, "data-state", seatState(states, number));
    setAttr(tile, "data-choice", states.choices.get(number) ?? null);
    setAttr(tile, "title", `${t("seat.detail", { number, name: seat.name })}\n${describeSeat(t, meeting.labels, states, number)}`);
  }
  for (const section of container.querySelectorAll(".seat-group")) {
    const count = section.querySelector(".group-count");
    if (!count) continue;
    const numbers = [...section.querySelectorAll(".seat")].map((tile) => Number(tile.dataset.seat));
    const present = numbers.filter((n) => states.present.has(n)).length;
    setText(count, t("seats.groupCount", { present, count: numbers.length }));
  }
}

/** The legend's entries for the moment: choices appear only in an open named round. */
function legendEntries({ t, meeting, open }) {
  const entries = [["absent", t("seat.absent")], ["present", t(open ? "seat.waiting" : "seat.present")]];
  if (open?.settings.secrecy === "named") {
    for (const choice of CHOICES) entries.push([`voted choice-${choice}`, meeting.labels[choice]]);
  } else if (open) {
    entries.push(["voted", t("seat.voted")]);
  }
  return entries;
}

let drawnLegend = "";

export function renderLegend(list, view) {
  const entries = legendEntries(view);
  const key = JSON.stringify(entries);
  if (key === drawnLegend) return;
  drawnLegend = key;
  list.replaceChildren(
    ...entries.map(([state, words]) => h("li", {}, h("i", { class: `legend-swatch ${state}`, "aria-hidden": "true" }), words)),
  );
}

/** The pointed seat in words; with none, how to use the map (and, in a secret round, what it hides). */
export function renderSeatDetail(line, { t, meeting, open }, states, number) {
  const seat = meeting.seats.find((s) => s.number === number);
  const secret = open?.settings.secrecy === "secret";
  line.classList.toggle("hint", !seat && !secret);
  line.classList.toggle("secret", !seat && secret);
  if (!seat) return setText(line, t(secret ? "seat.secretNote" : "seat.hint"));
  const where = [t("seat.detail", { number: seat.number, name: seat.name }), seat.group].filter(Boolean).join(" · ");
  setText(line, `${where} — ${describeSeat(t, meeting.labels, states, seat.number)}`);
}
