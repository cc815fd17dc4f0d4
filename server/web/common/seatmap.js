// What the seat maps show: one tile per seat of the body, in roster order,
// and each seat's state for the moment. The chair's console and the hall
// screen draw their maps from these; in a secret round the server sends no
// choices, and `seatStates` never reads any.

import { h } from "./dom.js";

/** The given name, which Vietnamese say last and address people by: "Lương Thị Thanh Huyền" is "Huyền". */
export function givenName(name) {
  return name.trim().split(/\s+/).at(-1);
}

/** What a tile can hold at this many seats: a name, only the number, or just its colour. */
export function seatTier(seats) {
  if (seats <= 60) return "named";
  return seats <= 200 ? "numbered" : "plain";
}

/**
 * The tile of one seat: a `button` on the chair's console, which points at
 * seats, a `div` on the hall screen. The map sets its state attributes.
 */
export function seatTile(seat, tier, tag) {
  return h(
    tag,
    { class: "seat", type: tag === "button" ? "button" : null, "data-testid": `seat-${seat.number}`, dataset: { seat: seat.number } },
    tier !== "plain" && h("span", { class: "seat-no" }, String(seat.number)),
    tier === "named" && h("span", { class: "seat-name" }, givenName(seat.name)),
  );
}

/**
 * The seats' states now: who is `present`, and for the open `round` (if
 * any) who has `voted` and, in a named round, each seat's choice.
 */
export function seatStates(presentSeats, round) {
  const live = round?.live;
  return {
    present: new Set(presentSeats ?? []),
    voting: Boolean(round),
    voted: new Set(live?.voted ?? []),
    choices: round?.settings.secrecy === "named" ? new Map((live?.choices ?? []).map((c) => [c.seat, c.choice])) : new Map(),
  };
}

/** A seat's state: voted (a choice may be known), present, or absent. */
export function seatState(states, number) {
  if (states.voted.has(number) || states.choices.has(number)) return "voted";
  return states.present.has(number) ? "present" : "absent";
}
