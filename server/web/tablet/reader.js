// The meeting's documents kept on this device, and the delegate's private
// notes on their pages, in IndexedDB: a service worker is registered only
// from a page whose certificate the browser trusts (a hall's self-signed
// one often is not), while IndexedDB works on any page
// (docs/architecture.md). Files are kept by hash, checked against it as
// they arrive, so a kept file is the very text the meeting holds; which
// version of each document this device had is kept by place, so a new one
// shows as such. Notes are read and written here only: nothing in this
// file or any other sends them anywhere.

import { documentUrl, sha256Hex } from "../common/protocol.js";
import { database, deleteDatabase } from "../common/idb.js";
import { documentPlace, meetingDocuments } from "./library.js";

const DB = "gavel-documents";
const FILES = "files"; // sha256 -> {sha256, blob, size, received}
const PLACES = "places"; // "meeting/item:slot" -> {sha256, size, received, stored_at, previous}: the versions this device kept there
const NOTES = "notes"; // "sha256/page" -> {text, saved}

/** The header a session's `document_access` token travels in (PROTOCOL.md §6.3). */
const ACCESS_HEADER = "X-Gavel-Document-Access";

const run = database(DB, [FILES, PLACES, NOTES]);

/**
 * Removes every kept document and note from the device: when it is given
 * up (forgotten, to be enrolled again), the next delegate must not find the
 * last one's notes, nor the meeting's delegates-only papers.
 */
export function forgetDocuments() {
  return deleteDatabase(DB);
}

/** The file kept under `sha256`, or undefined. */
export function keptFile(sha256) {
  return run(FILES, "readonly", (s) => s.get(sha256));
}

/** Which of `hashes` this device holds. */
async function keptHashes(hashes) {
  const keys = await run(FILES, "readonly", (s) => s.getAllKeys());
  const held = new Set(keys);
  return new Set(hashes.filter((h) => held.has(h)));
}

function placeKey(meeting, place) {
  return `${meeting}/${place}`;
}

/** The delegate's note on `page` of the document `sha256` ("" if none). */
export async function noteOn(sha256, page) {
  return (await run(NOTES, "readonly", (s) => s.get(`${sha256}/${page}`)))?.text ?? "";
}

/** Keeps (or, when empty, removes) the delegate's note on a page. */
export function saveNote(sha256, page, text) {
  const key = `${sha256}/${page}`;
  return run(NOTES, "readwrite", (s) => (text.trim() ? s.put({ text, saved: Date.now() }, key) : s.delete(key)));
}

/** Why a download did not give the document. */
export class DocumentUnavailable extends Error {
  constructor(sha256, reason) {
    super(`document ${sha256}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * Downloads a document, reporting each chunk's size to `onBytes`, checks
 * the bytes against its hash and keeps them. A file whose bytes are not
 * the ones named is never kept.
 */
async function download(meetingId, doc, token, onBytes) {
  const headers = doc.public || !token ? {} : { [ACCESS_HEADER]: token };
  let response;
  try {
    response = await fetch(documentUrl(meetingId, { ...doc, public: true }), { headers });
  } catch {
    throw new DocumentUnavailable(doc.sha256, "offline");
  }
  if (!response.ok) throw new DocumentUnavailable(doc.sha256, `http_${response.status}`);
  const chunks = [];
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onBytes(value.byteLength);
  }
  const blob = new Blob(chunks, { type: "application/pdf" });
  // Without WebCrypto (not a secure context) the device cannot check; it could not sign a ballot either.
  const digest = await sha256Hex(await blob.arrayBuffer());
  if (digest !== null && digest !== doc.sha256) throw new DocumentUnavailable(doc.sha256, "wrong_bytes");
  const file = { sha256: doc.sha256, blob, size: blob.size, received: Date.now() };
  await run(FILES, "readwrite", (s) => s.put(file, doc.sha256));
  return file;
}

/** The document's bytes: kept ones, else downloaded (and kept). */
export async function documentBytes(meetingId, doc, token) {
  const file = (await keptFile(doc.sha256)) ?? (await download(meetingId, doc, token, () => {}));
  return new Uint8Array(await file.blob.arrayBuffer());
}

/**
 * Records, at each place of the agenda that names a document, the version
 * this device now holds, with the one it held there before when that was
 * another ({sha256, size, received, stored_at, previous}), so the list can say what a
 * new version changed, after a reload too. Returns place -> record.
 */
async function notePlaces(meeting) {
  const places = new Map();
  for (const item of meeting.agenda) {
    for (const [slot, doc] of (item.documents ?? []).entries()) {
      const place = documentPlace(item, slot);
      const key = placeKey(meeting.id, place);
      let record = await run(PLACES, "readonly", (s) => s.get(key));
      const file = await keptFile(doc.sha256);
      if (file && record?.sha256 !== doc.sha256) {
        const previous = record ? { sha256: record.sha256, size: record.size, received: record.received, stored_at: record.stored_at } : null;
        record = { sha256: doc.sha256, size: doc.size, received: file.received, stored_at: doc.stored_at, previous };
        await run(PLACES, "readwrite", (s) => s.put(record, key));
      }
      if (record?.sha256 === doc.sha256) places.set(place, record);
    }
  }
  return places;
}

/**
 * Fetches every document of `meeting` this device does not hold yet, one
 * after the other, calling `onProgress({done, total, bytesDone,
 * bytesTotal, failed})` as bytes arrive (counting the files already held
 * as done). Resolves with what this device holds at each place of the
 * agenda (see `notePlaces`). A file that fails is counted in `failed`
 * and the others go on.
 */
export async function prefetch(meeting, token, onProgress) {
  const documents = meetingDocuments(meeting);
  const held = await keptHashes(documents.map((d) => d.sha256));
  const progress = { done: 0, total: documents.length, bytesDone: 0, bytesTotal: 0, failed: 0 };
  for (const doc of documents) {
    progress.bytesTotal += doc.size;
    if (held.has(doc.sha256)) {
      progress.done++;
      progress.bytesDone += doc.size;
    }
  }
  onProgress({ ...progress });
  for (const doc of documents.filter((d) => !held.has(d.sha256))) {
    const before = progress.bytesDone;
    let kept = true;
    try {
      await download(meeting.id, doc, token, (n) => {
        progress.bytesDone += n;
        onProgress({ ...progress });
      });
      progress.done++;
    } catch {
      progress.failed++;
      kept = false;
    }
    // A failed file's bytes are not counted as done; a finished one counts as its size.
    progress.bytesDone = before + (kept ? doc.size : 0);
    onProgress({ ...progress });
  }
  return notePlaces(meeting);
}
