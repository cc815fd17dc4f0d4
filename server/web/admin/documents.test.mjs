// The documents view's calls and how it words a refused upload. Run: node --test server/web/
import { test } from "node:test";
import assert from "node:assert/strict";
import { Refused } from "../common/session.js";
import { uploadDocument, uploadFailure } from "./documents.js";

const WORDS = {
  "documents.invalid.title": "Enter the title",
  "reason.not_a_pdf": "Not a PDF",
  "reason.other": "Something else",
  "enroll.unreachable": "Unreachable",
};
const t = (key) => WORDS[key] ?? key;

function refused(reason, field, message = "as the server says") {
  const error = new Refused(reason, message);
  error.field = field;
  return error;
}

test("a refused upload is worded in the app's language and names the field to mark", () => {
  assert.deepEqual(uploadFailure(refused("not_a_pdf", "file"), t), { text: "Not a PDF", field: "file" });
  assert.deepEqual(uploadFailure(refused("invalid_definition", "title"), t), { text: "Enter the title", field: "title" });
  assert.deepEqual(
    uploadFailure(refused("invalid_definition", "something_new", "the server's words"), t),
    { text: "the server's words", field: "something_new" },
    "a field the app has no words for keeps the server's message",
  );
  assert.deepEqual(uploadFailure(refused("teapot"), t), { text: "Something else", field: null });
  assert.deepEqual(uploadFailure(new TypeError("fetch failed"), t), { text: "Unreachable", field: null });
});

test("an upload sends the PDF as the body and its fields in the query; a new version names its slot", async () => {
  const sent = [];
  globalThis.fetch = async (url, init) => {
    sent.push({ url, init });
    return { ok: true, json: async () => ({}) };
  };
  const file = new Blob(["%PDF-"], { type: "application/pdf" });
  await uploadDocument("tok", "hdnd-2026", 3, file, { title: "Dự thảo", kind: "report", public: false });
  await uploadDocument("tok", "hdnd-2026", 3, file, {}, 0);
  assert.equal(sent[0].url, "/api/secretariat/meetings/hdnd-2026/items/3/documents?title=D%E1%BB%B1+th%E1%BA%A3o&kind=report&public=false");
  assert.equal(sent[0].init.method, "POST");
  assert.equal(sent[0].init.body, file);
  assert.equal(sent[0].init.headers["Content-Type"], "application/pdf");
  assert.equal(sent[0].init.headers.Authorization, "Bearer tok");
  assert.equal(sent[1].url, "/api/secretariat/meetings/hdnd-2026/items/3/documents/0");
});
