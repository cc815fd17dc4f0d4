// What lets the tablet reload with the network down: the service worker
// (./sw.js) keeps the app's files, and this keeps the last meeting state the
// session had, so that a reload without a server shows the meeting and its
// documents (marked as reconnecting) instead of "connecting…". The state is
// replaced by the server's own as soon as the session logs in again.

import { sha256Hex } from "../common/protocol.js";
import { PDF_WORKER } from "../common/pdf.js";

const LAST = "gavel.tablet.last";
/** The snapshot last remembered: a tally changes it in place and needs no new write. */
let remembered = null;

/**
 * Registers the service worker, then keeps the files this page has already
 * loaded (it fetched them before the worker was there to see them).
 * Resolves true once they are kept; false where there is no service worker:
 * a plain-http page, or a certificate the browser does not trust.
 */
export async function keepAppFiles() {
  if (!navigator.serviceWorker || !globalThis.caches) return false;
  try {
    await navigator.serviceWorker.register("/tablet/sw.js", { scope: "/tablet/" });
    await navigator.serviceWorker.ready;
  } catch {
    return false;
  }
  // A worker's script is not among the page's resources: it is named.
  const loaded = [...performance.getEntriesByType("resource").map((entry) => entry.name), PDF_WORKER]
    .map((name) => new URL(name))
    .filter((url) => url.origin === location.origin && /^\/(tablet|common)\//.test(url.pathname))
    .map((url) => url.pathname);
  try {
    const cache = await caches.open("gavel-tablet");
    await cache.addAll([...new Set([location.pathname, ...loaded])]);
    return true;
  } catch {
    // The network dropped meanwhile: the worker keeps each file as the page next fetches it.
    return false;
  }
}

/** Remembers the session's latest snapshot (a delegate's is small), with the view it belongs to. */
export function rememberState(session) {
  if (!session.snapshot || !session.viewHash || session.snapshot === remembered) return;
  remembered = session.snapshot;
  localStorage.setItem(LAST, JSON.stringify({ meeting: session.meetingId, view: session.viewHash, snapshot: session.snapshot }));
}

/**
 * Gives a session that has not logged in yet the meeting state remembered
 * last, when the meeting view it belongs to can still be had (from the
 * server, or offline from the service worker) and has that hash.
 */
export async function restoreState(session) {
  const last = JSON.parse(localStorage.getItem(LAST) ?? "null");
  if (last?.meeting !== session.meetingId) return;
  try {
    const response = await fetch(`/api/meetings/${encodeURIComponent(last.meeting)}/view`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (!response.ok || (await sha256Hex(bytes)) !== last.view || session.snapshot) return;
    session.meeting = JSON.parse(new TextDecoder().decode(bytes));
    session.viewHash = last.view;
    session.snapshot = last.snapshot;
  } catch {
    // Neither the server nor the worker has the view: the page waits for the server.
  }
}

/** Forgets the remembered state, with the device's identity. */
export function forgetState() {
  localStorage.removeItem(LAST);
}
