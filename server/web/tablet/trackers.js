// The trackers of this device's secret ballots, one per round, kept on the
// device (IndexedDB) with what was cast: the server never sends a tracker
// back (it is drawn from the ballot's signature, which only this device and
// the hub hold), and after a secret round closes it no longer says what the
// seat chose, so a reload would otherwise leave nothing to check the
// round's published list with (PROTOCOL.md §6.4).

import { database, deleteDatabase } from "../common/idb.js";

const DB = "gavel-trackers";
const STORE = "ballots";
const run = database(DB, [STORE]);

/** Every kept tracker, by round: {round, seq, tracker, cast}. */
export async function loadTrackers() {
  const all = await run(STORE, "readonly", (store) => store.getAll());
  return new Map(all.map((entry) => [entry.round, entry]));
}

/** Keeps `entry` as its round's tracker, replacing an earlier ballot's. */
export function keepTracker(entry) {
  return run(STORE, "readwrite", (store) => store.put(entry, entry.round));
}

/** Forgets them all, with the device's key. */
export function forgetTrackers() {
  return deleteDatabase(DB);
}
