// The seat map of a named vote whose interim setting shows individual
// choices: one tile per seat, coloured by the seat's current choice. It is
// never built for a secret vote (see `seatChoices` in model.js).

import { h } from "./dom.js";

/** Columns for `n` tiles in a wide area: about twice as many columns as rows. */
function columnsFor(n) {
  return Math.max(1, Math.min(n, Math.ceil(Math.sqrt(n * 2.2))));
}

/** The given name, which Vietnamese say last and address people by. */
function givenName(name) {
  return name.trim().split(/\s+/).pop() ?? "";
}

/** What a tile can hold at this many seats: a name, only the number, or just its colour. */
function tierFor(n) {
  if (n <= 60) return "named";
  return n <= 200 ? "numbered" : "plain";
}

export function seatMap(meeting, t) {
  const seats = meeting.seats;
  const tier = tierFor(seats.length);
  const tiles = new Map(
    seats.map((seat) => [
      seat.number,
      h(
        "div",
        { class: "seat", testid: `seat-${seat.number}`, data: { choice: "none" }, title: seat.name },
        tier !== "plain" && h("span", { class: "seat-number" }, seat.number),
        tier === "named" && h("span", { class: "seat-name" }, givenName(seat.name)),
      ),
    ]),
  );
  const grid = h("div", { class: `seat-grid seats-${tier}` }, [...tiles.values()]);
  grid.style.setProperty("--cols", columnsFor(seats.length));
  const key = (cls, text) => h("span", { class: `legend-item ${cls}` }, h("i"), text);
  const legend = h(
    "div",
    { class: "seat-legend" },
    key("choice-yes", meeting.labels.yes),
    key("choice-no", meeting.labels.no),
    key("choice-abstain", meeting.labels.abstain),
    key("choice-none", t("seat.none")),
    key("choice-absent", t("seat.absent")),
  );
  return {
    el: h("div", { class: "seat-map" }, grid, legend),
    /** Colours each tile: its choice, else not voted yet, else absent. */
    update(choices, present) {
      const chosen = new Map(choices.map((c) => [c.seat, c.choice]));
      const here = new Set(present);
      for (const [number, tile] of tiles) {
        const choice = chosen.get(number) ?? "none";
        if (tile.dataset.choice !== choice) tile.dataset.choice = choice;
        tile.classList.toggle("absent", choice === "none" && !here.has(number));
      }
    },
  };
}
