// The tablet's service worker: it keeps the app's own files (the page, its
// scripts and styles, the fonts, the PDF reader) and the meeting view, so
// that the tablet reloads with the network down and goes on showing the
// meeting and its documents (whose bytes reader.js keeps in IndexedDB).
// Network first: while the server answers, every file comes from it (and a
// new server's files are picked up at once, as without this worker); only a
// request that cannot reach the server is answered from what was kept. A
// browser registers no service worker from a page whose certificate it does
// not trust, so on a self-signed certificate the tablet works as before,
// without an offline reload (docs/architecture.md).

const CACHE = "gavel-tablet";
/** What is kept: the app's files and the meeting view. Documents, the record and the WebSocket are not. */
const KEPT = [/^\/tablet\//, /^\/common\//, /^\/api\/meetings\/[^/]+\/view$/];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEPT.some((path) => path.test(url.pathname))) return;
  event.respondWith(fromServerElseKept(event.request));
});

async function fromServerElseKept(request) {
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (unreachable) {
    // The page's address may carry a query (`?lang=`): the page is the same.
    const kept = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
    if (kept) return kept;
    throw unreachable;
  }
  if (response.status === 200) await cache.put(request, response.clone());
  return response;
}
