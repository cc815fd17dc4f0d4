// The meeting's documents as the tablet keeps and shows them: which files
// the meeting has, how the download at check-in reads, what a new version
// changed, and where a word is found. Pure functions (tested in
// library.test.mjs); reader.js keeps the bytes and viewer.js draws them.

const MB = 1024 * 1024;

/** A number as the council's language writes it, with at most one decimal. */
export function formatDecimal(n, lang) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(n);
}

/** A size in kB or MB. */
export function fileSize(bytes, t, lang) {
  if (bytes >= MB) return t("document.size_mb", { n: formatDecimal(bytes / MB, lang) });
  return t("document.size_kb", { n: String(Math.max(1, Math.round(bytes / 1024))) });
}

/**
 * Every document of the meeting, once per file: an item may name a file
 * another item also names, and the tablet fetches it once.
 */
export function meetingDocuments(meeting) {
  const seen = new Map();
  for (const item of meeting.agenda) {
    for (const doc of item.documents ?? []) if (!seen.has(doc.sha256)) seen.set(doc.sha256, doc);
  }
  return [...seen.values()];
}

/**
 * Where an item's `slot`-th document sits in the agenda: the same place
 * across its versions, so a new version can be told from the one before.
 */
export function documentPlace(item, slot) {
  return `${item.index}:${slot}`;
}

/**
 * "12 of 31 documents, 84 of 212 MB": the download at check-in, counted in
 * whole documents and in bytes (those already on the tablet included), the
 * bytes in MB once the whole set reaches one; once it is over, what the
 * tablet holds and how many failed.
 */
export function progressWords({ done, total, bytesDone, bytesTotal, failed }, t, lang) {
  if (done === total) return t("prefetch.done", { total, size: fileSize(bytesTotal, t, lang) });
  if (done + failed === total) return `${t("prefetch.partial", { done, total, size: fileSize(bytesDone, t, lang) })} ${t("prefetch.failed", { n: failed })}`;
  const mb = bytesTotal >= MB;
  const figure = (bytes) => (mb ? formatDecimal(Math.floor((10 * bytes) / MB) / 10, lang) : String(Math.round(bytes / 1024)));
  return t(mb ? "prefetch.progress_mb" : "prefetch.progress_kb", { done, total, bytes: figure(bytesDone), bytes_total: figure(bytesTotal) });
}

/** The share of the bytes downloaded, 0 to 1 (1 for an empty set). */
export function progressShare({ bytesDone, bytesTotal }) {
  return bytesTotal > 0 ? Math.min(1, bytesDone / bytesTotal) : 1;
}

/** "06/12/2026 10:42": a moment (Unix ms) in this device's local time. */
export function dayAndTime(ms, lang) {
  const style = { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB", style).format(new Date(ms));
}

/**
 * What a new version changed against the one this device held at the same
 * place before (`kept`: what reader.js records per place), or null when the
 * device held no other: "New version 2: 1.2 MB → 1.4 MB (+0.2 MB); stored
 * by the server 07/12/2026 10:40, the version before 06/12/2026 09:15;
 * received here 07/12/2026 10:42". The server's dates are the same on every
 * tablet; when this one received it may be much later.
 */
export function versionChange(kept, doc, t, lang) {
  if (!kept?.previous || kept.sha256 !== doc.sha256) return null;
  const before = kept.previous;
  const delta = doc.size - before.size;
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
  return t("document.new_version", {
    n: doc.version,
    before: fileSize(before.size, t, lang),
    after: fileSize(doc.size, t, lang),
    change: `${sign}${fileSize(Math.abs(delta), t, lang)}`,
    stored: dayAndTime(doc.stored_at, lang),
    stored_before: dayAndTime(before.stored_at, lang),
    received: dayAndTime(kept.received, lang),
  });
}

/**
 * Text as search compares it: composed (a PDF may hold "ệ" as e plus two
 * marks), lower-case, runs of spaces as one.
 */
export function searchKey(text) {
  return text.normalize("NFC").toLocaleLowerCase("vi").replace(/\s+/g, " ");
}

/** The pages (1-based) whose text holds `query`, each with how many times. */
export function searchPages(pageTexts, query) {
  const needle = searchKey(query).trim();
  if (!needle) return [];
  const found = [];
  for (const [i, text] of pageTexts.entries()) {
    const hay = searchKey(text);
    let count = 0;
    for (let at = hay.indexOf(needle); at !== -1; at = hay.indexOf(needle, at + needle.length)) count++;
    if (count) found.push({ page: i + 1, count });
  }
  return found;
}
