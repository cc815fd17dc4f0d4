// The seat map of a named vote whose interim setting shows individual
// choices: one tile per seat, coloured by the seat's current choice. It is
// never built for a secret vote (see `seatChoices` in model.js).

import { h } from "../common/dom.js";
import { seatTier, seatTile } from "../common/seatmap.js";

/** Columns for `n` tiles in a wide area: about twice as many columns as rows. */
function columnsFor(n) {
  return Math.max(1, Math.min(n, Math.ceil(Math.sqrt(n * 2.2))));
}

export function seatMap(meeting, t) {
  const seats = meeting.seats;
  const tier = seatTier(seats.length);
  const tiles = new Map(
    seats.map((seat) => {
      const tile = seatTile(seat, tier, "div");
      tile.dataset.choice = "none";
      tile.title = seat.name;
      return [seat.number, tile];
    }),
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
    /** Colours each tile from the seats' states (`seatStates`): its choice, else not voted yet, else absent. */
    update(states) {
      for (const [number, tile] of tiles) {
        const choice = states.choices.get(number) ?? "none";
        if (tile.dataset.choice !== choice) tile.dataset.choice = choice;
        tile.classList.toggle("absent", choice === "none" && !states.present.has(number));
      }
    },
  };
}
