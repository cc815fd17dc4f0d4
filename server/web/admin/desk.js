// The secretariat's side of its HTTP API (server/src/secretariat.rs): enroll
// this browser's key with a one-time code, log in by signing the server's
// challenge, and call the API with the session's token. The private key is
// made here with WebCrypto, cannot be exported, and never leaves the browser.

import { Refused } from "../common/session.js";
import { newKeyPair, saveIdentity, sign } from "../common/keys.js";
import { adminAuthBytes, enrollBytes } from "../common/protocol.js";

export const SLOT = "admin";

/**
 * A call to the API: a JSON body (or `text`, a string or a file, with its
 * `type`) in, JSON out (or text, with `asText`). A refusal becomes a
 * `Refused` with its reason, and for a definition that does not pass, the
 * `field` to blame; for a spreadsheet, its `problems` by row and column.
 */
export async function call(method, path, { body, text, type, token, asText = false, asBlob = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (text !== undefined) headers["Content-Type"] = type;
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/secretariat/${path}`, {
    method,
    headers,
    body: body === undefined ? text : JSON.stringify(body),
  });
  if (response.ok) return asBlob ? response.blob() : asText ? response.text() : response.json();
  const answer = await response.json().catch(() => ({}));
  const refused = new Refused(answer.reason ?? "other", answer.message);
  refused.field = answer.field;
  refused.problems = answer.problems;
  throw refused;
}

/** Enrolls a fresh key with `code` and saves it as this browser's secretariat identity. */
export async function enroll(code) {
  const pair = await newKeyPair();
  const signature = await sign(pair.privateKey, enrollBytes(code, pair.publicKeyHex));
  await call("POST", "enroll", { body: { code, public_key: pair.publicKeyHex, signature } });
  const identity = { privateKey: pair.privateKey, publicKeyHex: pair.publicKeyHex, principal: "secretariat" };
  await saveIdentity(SLOT, identity);
  return identity;
}

/** Answers a fresh challenge with `identity`'s key; resolves to the session's token. */
export async function logIn(identity) {
  const { nonce } = await call("POST", "challenge");
  const signature = await sign(identity.privateKey, adminAuthBytes(nonce, identity.publicKeyHex));
  const { token } = await call("POST", "login", { body: { nonce, public_key: identity.publicKeyHex, signature } });
  return token;
}

/** The meetings with their state (upcoming, in_session, finished). */
export function meetings(token) {
  return call("GET", "meetings", { token });
}

const meetingPath = (id) => `meetings/${encodeURIComponent(id)}`;

/**
 * The meeting's file fields for the editor, with what an edit must know:
 * `{ form, previous, started, locked }`, the SHA-256 of the stored text
 * (sent back with an edit, so that a save over someone else's is refused),
 * whether a round exists, and the items that had one (`[{ item, reason,
 * message }]`, `item` its index in the agenda).
 */
export function meetingForm(token, id) {
  return call("GET", `${meetingPath(id)}/form`, { token });
}

/**
 * Saves an edit of stored meeting `id` made from the version whose text's
 * SHA-256 is `previous`; resolves to the stored result as `meetingForm`
 * gives it. Refused with the `field` to correct, or with why it cannot
 * change (`item_voted`, `item_recorded`, `meeting_started`), or
 * `meeting_changed` when someone else saved first.
 */
export function amendMeeting(token, id, previous, form) {
  return call("PUT", `${meetingPath(id)}/form`, { token, body: { previous, form } });
}

/** The meeting file exactly as stored. */
export function meetingFile(token, id) {
  return call("GET", `${meetingPath(id)}/file`, { token, asText: true });
}

/** Adds a new meeting from the editor's form; resolves to its id. */
export function createMeeting(token, form) {
  return call("POST", "meetings", { token, body: form });
}

/** Adds a new meeting from a meeting file's text. */
export function importMeeting(token, text) {
  return call("POST", "meetings/import", { token, text, type: "application/toml" });
}

/**
 * Reads a spreadsheet (a CSV or XLSX `file`) into a roster of `seats` seats;
 * the server keeps nothing. Resolves to `{ seats }`; a sheet with problems
 * is refused with every one of them.
 */
export function readRoster(token, file, seats, encoding = "auto") {
  const format = /\.xlsx$/i.test(file.name) ? "xlsx" : "csv";
  const query = new URLSearchParams({ format, encoding, seats: String(seats) });
  return call("POST", `roster?${query}`, { token, text: file, type: "application/octet-stream" });
}

/**
 * Issues a fresh one-time code for every seat of meeting `id` and resolves
 * to the cards to print (`{ title, body, cards: [{ seat, name, group, title,
 * code, link, qr_svg }] }`); each QR code opens this server's tablet app
 * with its seat's code.
 */
export function enrollmentCards(token, id) {
  return call("POST", `${meetingPath(id)}/cards`, { token, body: { tablet_url: tabletUrl() } });
}

/** The tablet app's address on this server, for the cards' QR codes. */
const tabletUrl = () => new URL("/tablet/", location.origin).href;

/**
 * Revokes the key of `seat`'s device (lost or broken) and issues the seat a
 * new code; resolves to its card, as `enrollmentCards` gives them.
 */
export function revokeDevice(token, id, seat) {
  return call("POST", `${meetingPath(id)}/devices/${seat}/revoke`, { token, body: { tablet_url: tabletUrl() } });
}

/**
 * The chair's console and every seat with its device: `{ devices: [{ seat,
 * name, group, enrolled, online, last_seen }] }` (no `seat` for the chair).
 */
export function meetingDevices(token, id) {
  return call("GET", `${meetingPath(id)}/devices`, { token });
}

/**
 * The meeting's items with their rounds and results (`{ id, title, body,
 * state, total_seats, labels, open_item, items: [{ index, topic, title,
 * ballot, secret, rounds: [{ status, opened_at, closed_at, result, by_hand }]
 * }] }`), for the view of a session under way or finished.
 */
export function meetingResults(token, id) {
  return call("GET", `${meetingPath(id)}/results`, { token });
}

/**
 * Records the counts of a show of hands or a paper vote for agenda item
 * `item` (`{ present, yes, no, abstain, by }`), when the devices failed;
 * resolves to the round it was stored as. Counts that cannot be are refused
 * with the `field` to correct.
 */
export function recordByHand(token, id, item, counts) {
  return call("POST", `${meetingPath(id)}/items/${item}/by-hand`, { token, body: counts });
}

/** What a meeting under way or finished offers for download: the API's path and the file's name. */
export const DOWNLOADS = [
  { key: "record", path: "record", file: (id) => `${id}.record.json` },
  { key: "minutes_vi", path: "minutes?lang=vi", file: (id) => `${id}.minutes.vi.html` },
  { key: "minutes_en", path: "minutes?lang=en", file: (id) => `${id}.minutes.en.html` },
  { key: "csv_vi", path: "results.csv?lang=vi", file: (id) => `${id}.results.vi.csv` },
  { key: "csv_en", path: "results.csv?lang=en", file: (id) => `${id}.results.en.csv` },
];

/** One of the meeting's `DOWNLOADS`, as a Blob: printed from its record as `gavel export` prints it. */
export function meetingDownload(token, id, download) {
  return call("GET", `${meetingPath(id)}/${download.path}`, { token, asBlob: true });
}
