// How the tablet words the download of a meeting's documents, a size and a
// new version, and where a Vietnamese word is found, in both languages.
// Run: node --test server/web/tablet/
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMON, fill } from "../common/i18n.js";
import { WORDS } from "./words.js";
import { documentPlace, fileSize, meetingDocuments, progressShare, progressWords, searchPages, versionChange } from "./library.js";

const translator = (lang) => (key, vars) => fill(WORDS[lang][key] ?? COMMON[lang][key], lang, vars);
const vi = translator("vi");
const en = translator("en");
const MB = 1024 * 1024;

test("sizes in KB under a megabyte, in MB with one decimal above, as each language writes decimals", () => {
  assert.equal(fileSize(300, en, "en"), "1 KB");
  assert.equal(fileSize(150 * 1024, en, "en"), "150 KB");
  assert.equal(fileSize(1.25 * MB, en, "en"), "1.3 MB");
  assert.equal(fileSize(1.25 * MB, vi, "vi"), "1,3 MB");
  assert.equal(fileSize(64 * MB, vi, "vi"), "64 MB");
});

test("the download reads in documents and in MB, never past what has arrived", () => {
  const progress = { done: 12, total: 31, bytesDone: 84.99 * MB, bytesTotal: 212 * MB, failed: 0 };
  assert.equal(progressWords(progress, en, "en"), "Downloading to this tablet: 12 of 31 documents, 84.9 of 212 MB");
  assert.equal(progressWords(progress, vi, "vi"), "Đang tải tài liệu về máy: 12/31 tài liệu, 84,9/212 MB");
  assert.equal(progressShare(progress), 84.99 / 212);
});

test("a set under a megabyte counts in KB; one document is one document", () => {
  const progress = { done: 0, total: 1, bytesDone: 2048, bytesTotal: 10 * 1024, failed: 0 };
  assert.equal(progressWords(progress, en, "en"), "Downloading to this tablet: 0 of 1 document, 2 of 10 KB");
});

test("a finished download says the documents can be read without the network", () => {
  const progress = { done: 31, total: 31, bytesDone: 212 * MB, bytesTotal: 212 * MB, failed: 0 };
  assert.equal(progressWords(progress, en, "en"), "All 31 documents are on this tablet (212 MB): they can be read without the network.");
  assert.equal(progressWords(progress, vi, "vi"), "Đã lưu đủ 31 tài liệu trên máy (212 MB): đọc được cả khi mất mạng.");
  assert.equal(progressShare({ bytesDone: 0, bytesTotal: 0 }), 1);
});

test("a download that is over with failures says what the tablet holds and what it lacks", () => {
  const progress = { done: 3, total: 4, bytesDone: 600 * 1024, bytesTotal: 700 * 1024, failed: 1 };
  assert.equal(progressWords(progress, vi, "vi"), "Đã lưu 3/4 tài liệu trên máy (600 KB). 1 tài liệu chưa tải được; máy sẽ tự tải lại, hoặc tải khi mở.");
  assert.equal(
    progressWords(progress, en, "en"),
    "3 of 4 documents are on this tablet (600 KB). 1 document could not be downloaded; the tablet tries again by itself, or fetches it when opened.",
  );
});

test("a new version says what changed in size, when the server stored each, and when it was received", () => {
  const stored = Date.UTC(2026, 11, 7, 3, 0);
  const doc = { sha256: "b".repeat(64), size: 1.5 * MB, version: 2, stored_at: stored };
  const previous = { sha256: "a".repeat(64), size: 1.2 * MB, received: stored - 80_000_000, stored_at: Date.UTC(2025, 10, 5, 3, 0) };
  const kept = { sha256: doc.sha256, size: doc.size, received: Date.UTC(2027, 0, 9, 3, 0), stored_at: stored, previous };
  const text = versionChange(kept, doc, en, "en");
  assert.match(text, /^New version \(2\): 1\.2 MB → 1\.5 MB \(\+307 KB\); stored by the server 07\/12\/2026.*, the version before 05\/11\/2025.*; received here 09\/01\/2027/);
  assert.match(versionChange(kept, doc, vi, "vi"), /^Bản mới \(bản 2\): 1,2 MB → 1,5 MB \(\+307 KB\)/);
  const smaller = { ...kept, previous: { ...kept.previous, size: 2 * MB } };
  assert.match(versionChange(smaller, doc, en, "en"), /\(−512 KB\)/);
  // The first version this device holds, or a record of another version, is no change.
  assert.equal(versionChange({ ...kept, previous: null }, doc, en, "en"), null);
  assert.equal(versionChange({ ...kept, sha256: "c".repeat(64) }, doc, en, "en"), null);
  assert.equal(versionChange(undefined, doc, en, "en"), null);
});

test("a meeting's documents are fetched once per file, and a place is the item and the slot", () => {
  const a = { sha256: "a".repeat(64), size: 1 };
  const b = { sha256: "b".repeat(64), size: 2 };
  const meeting = { agenda: [{ index: 0, documents: [a, b] }, { index: 1, documents: [b] }, { index: 2 }] };
  assert.deepEqual(meetingDocuments(meeting), [a, b]);
  assert.equal(documentPlace(meeting.agenda[1], 0), "1:0");
});

test("search finds a Vietnamese word whatever its case or Unicode form, page by page", () => {
  const pages = ["Tờ trình về NGÂN SÁCH", "không có", "ngân sách năm 2027; Ngân sách địa phương"];
  assert.deepEqual(searchPages(pages, "ngân sách"), [
    { page: 1, count: 1 },
    { page: 3, count: 2 },
  ]);
  // "ngân" typed with combining marks, as some keyboards and PDFs write it.
  assert.deepEqual(searchPages(pages, "nga\u0302n  sa\u0301ch"), [
    { page: 1, count: 1 },
    { page: 3, count: 2 },
  ]);
  assert.deepEqual(searchPages(pages, "   "), []);
  assert.deepEqual(searchPages(pages, "quyết toán"), []);
});
