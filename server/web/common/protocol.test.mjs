// Checks the JavaScript signed layouts against protocol/vectors/signing.json,
// the same vectors the Rust implementation is tested with, and that WebCrypto
// verifies every valid signature. Run: node --test server/web/common/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  adminAuthBytes,
  auditHeadBytes,
  authBytes,
  ballotBytes,
  bytesToHex,
  checkBallot,
  countConfirmationBytes,
  documentsDigest,
  documentUrl,
  enrollBytes,
  hexToBytes,
  missingVersions,
  paperBytes,
  paperReceiptBytes,
  paperRefusal,
  paperRows,
  presentedDocument,
  publishedListUrl,
  receiptBytes,
  sha256Hex,
  tracker,
  trackerGroups,
} from "./protocol.js";

const vectors = JSON.parse(readFileSync(new URL("../../../protocol/vectors/signing.json", import.meta.url)));
const frames = JSON.parse(readFileSync(new URL("../../../protocol/vectors/frames.json", import.meta.url)));
const papers = JSON.parse(readFileSync(new URL("../../../protocol/vectors/papers.json", import.meta.url)));
const trackers = JSON.parse(readFileSync(new URL("../../../protocol/vectors/trackers.json", import.meta.url)));

function layoutBytes(v) {
  const i = v.inputs;
  switch (v.layout) {
    case "auth":
      return authBytes(i.meeting, i.nonce, i.public_key);
    case "enroll":
      return enrollBytes(i.code, i.public_key);
    case "admin_auth":
      return adminAuthBytes(i.nonce, i.public_key);
    case "ballot":
      return ballotBytes(i);
    case "receipt":
      return receiptBytes(i);
    case "audit_head":
      return auditHeadBytes(i);
    case "paper":
      return paperBytes(i);
    case "paper_receipt":
      return paperReceiptBytes(i);
    case "count_confirmation":
      return countConfirmationBytes(i);
    default:
      throw new Error(`unknown layout ${v.layout}`);
  }
}

async function verifies(publicKeyHex, bytes, signatureHex) {
  try {
    const key = await crypto.subtle.importKey("raw", hexToBytes(publicKeyHex), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, hexToBytes(signatureHex), bytes);
  } catch {
    return false;
  }
}

for (const v of vectors.vectors) {
  test(`${v.name}: the layout matches`, () => {
    assert.equal(bytesToHex(layoutBytes(v)), v.signed_bytes);
  });
  if (v.valid) {
    test(`${v.name}: the signature verifies in WebCrypto`, async () => {
      assert.equal(await verifies(v.public_key, hexToBytes(v.signed_bytes), v.signature), true);
    });
  }
}

for (const c of papers.cases) {
  test(`paper ${c.name}: the layout matches and the check gives ${c.refusal ?? "acceptance"}`, async () => {
    const bytes = paperBytes(c.paper);
    assert.equal(bytesToHex(bytes), c.signed_bytes);
    assert.equal(await verifies(c.public_key, bytes, c.signature), true);
    assert.equal(paperRefusal(c.sheet, c.paper.kind, c.paper.marks), c.refusal);
  });
}

test("the paper vectors hold an accepted paper and every refusal", () => {
  const reasons = new Set(papers.cases.map((c) => c.refusal));
  for (const r of [null, "wrong_ballot_kind", "over_cap", "unknown_candidate", "unknown_official", "unknown_level", "duplicate_entry", "marks_out_of_order"]) {
    assert.ok(reasons.has(r), `a case for ${r}`);
  }
});

for (const d of vectors.documents) {
  test(`${d.name}: the documents digest matches`, async () => {
    assert.equal(await documentsDigest(d.sha256), d.digest);
  });
}

test("a ballot signature does not verify for another documents digest", async () => {
  const valid = vectors.vectors.find((v) => v.valid && v.layout === "ballot");
  const none = vectors.documents.find((d) => d.sha256.length === 0);
  assert.notEqual(valid.inputs.documents, none.digest);
  const other = ballotBytes({ ...valid.inputs, documents: none.digest });
  assert.equal(await verifies(valid.public_key, other, valid.signature), false);
});

test("the cast frame signs the digest its open round recorded", async () => {
  const cast = frames.client.find((e) => e.frame.type === "cast").frame;
  const round = frames.server.map((e) => e.frame).find((f) => f.type === "snapshot" && f.round?.status === "open").round;
  assert.equal(cast.documents, round.versions.digest);
  assert.equal(await documentsDigest(round.versions.sha256), round.versions.digest);
  const delegate = vectors.keys.find((k) => k.name === "delegate_a");
  const bytes = ballotBytes({ meeting: "phuc-loi-2026-k12", round: cast.round, documents: cast.documents, seat: 1, choice: cast.choice, seq: cast.seq });
  assert.equal(await verifies(delegate.public_key, bytes, cast.signature), true);
});

test("missing versions are those of the round the device does not hold", () => {
  const versions = { sha256: ["aa", "bb", "cc"], digest: "00" };
  assert.deepEqual(missingVersions(versions, ["bb"]), ["aa", "cc"]);
  assert.deepEqual(missingVersions(versions, ["cc", "aa", "bb", "dd"]), []);
  assert.deepEqual(missingVersions({ sha256: [], digest: "00" }, []), []);
  assert.deepEqual(missingVersions(null, []), []);
});

test("a signature over one ballot does not verify for another seat", async () => {
  const valid = vectors.vectors.find((v) => v.valid && v.layout === "ballot");
  const other = ballotBytes({ ...valid.inputs, seat: valid.inputs.seat + 1 });
  assert.equal(await verifies(valid.public_key, other, valid.signature), false);
});

test("the confirm_count frame's signature is over its count for the member's seat", async () => {
  const frame = frames.client.find((e) => e.frame.type === "confirm_count").frame;
  const delegate = vectors.keys.find((k) => k.name === "delegate_a");
  const bytes = countConfirmationBytes({ meeting: "phuc-loi-2026-k12", round: frame.round, seat: 1, count: frame.count });
  assert.equal(await verifies(delegate.public_key, bytes, frame.signature), true);
  const changed = { ...frame.count, rows: [[2], [2]] };
  const other = countConfirmationBytes({ meeting: "phuc-loi-2026-k12", round: frame.round, seat: 1, count: changed });
  assert.equal(await verifies(delegate.public_key, other, frame.signature), false);
});

test("the served meeting view's hash is the one welcome names", async () => {
  const bytes = new TextEncoder().encode(frames.view.bytes);
  assert.equal(await sha256Hex(bytes), frames.view.view_hash);
  const welcome = frames.server.find((e) => e.frame.type === "welcome").frame;
  assert.equal(welcome.view_hash, frames.view.view_hash);
  assert.equal(JSON.parse(frames.view.bytes).id, welcome.meeting);
});

test("a document's link names it by meeting and hash, with the token only where it is needed", () => {
  const view = JSON.parse(frames.view.bytes);
  const [submission, draft] = view.agenda.flatMap((item) => item.documents);
  assert.equal(submission.public, true);
  assert.equal(draft.public, false);
  const token = frames.server.map((f) => f.frame).find((f) => f.type === "document_access").token;
  assert.equal(documentUrl(view.id, submission, token), `/api/meetings/${view.id}/documents/${submission.sha256}`);
  assert.equal(documentUrl(view.id, draft, token), `/api/meetings/${view.id}/documents/${draft.sha256}?access=${token}`);
  // Before the token has come, the link is the plain one: the server answers 401.
  assert.equal(documentUrl(view.id, draft, null), `/api/meetings/${view.id}/documents/${draft.sha256}`);
});

test("a snapshot's presented page names a document of the meeting view", () => {
  const view = JSON.parse(frames.view.bytes);
  const snapshots = frames.server.map((f) => f.frame).filter((f) => f.type === "snapshot");
  const presenting = snapshots.find((f) => f.presentation !== null);
  const document = presentedDocument(view, presenting.presentation);
  assert.equal(document.sha256, presenting.presentation.document);
  assert.ok(view.agenda[presenting.presentation.item].documents.includes(document));
  assert.equal(presentedDocument(view, snapshots.find((f) => f.presentation === null).presentation), null);
  assert.equal(presentedDocument(view, { ...presenting.presentation, document: "0".repeat(64) }), null);
});

test("a secret ballot's tracker is the one trackers.json gives for its signature", async () => {
  assert.ok(trackers.trackers.length >= 2);
  for (const c of trackers.trackers) {
    const signed = vectors.vectors.find((v) => v.name === c.vector);
    assert.equal(signed.signature, c.signature, c.vector);
    assert.equal(await tracker(c.signature), c.tracker, c.vector);
  }
  // Another signature, another tracker: a changed vote is not found under the old one.
  const [first, second] = trackers.trackers;
  assert.notEqual(await tracker(second.signature), first.tracker);
});

test("a device finds its ballot in a published list, counted as cast, otherwise, or not at all", async () => {
  const [yes, no] = trackers.trackers;
  const mine = await tracker(yes.signature);
  const list = {
    round: "ca34346eaeb5a4be81a9547b84112a27",
    item: 2,
    ballots: [
      { tracker: mine, choice: "yes" },
      { tracker: "f".repeat(32), paper: { kind: "election", marks: [[0, 1], [2, 1]] } },
    ],
  };
  assert.deepEqual(checkBallot(list, mine, { choice: "yes" }), { status: "counted", counted: { choice: "yes" } });
  assert.deepEqual(checkBallot(list, mine, { choice: "no" }), { status: "otherwise", counted: { choice: "yes" } });
  assert.deepEqual(checkBallot(list, await tracker(no.signature), { choice: "no" }), { status: "missing", counted: null });
  const paper = { kind: "election", marks: [[0, 1], [2, 1]] };
  assert.equal(checkBallot(list, "f".repeat(32), paper).status, "counted");
  assert.equal(checkBallot(list, "f".repeat(32), { kind: "election", marks: [[0, 1]] }).status, "otherwise");
  assert.equal(checkBallot(list, "f".repeat(32), { choice: "yes" }).status, "otherwise");
});

test("each ballot of trackers.json is found in its published list with the choice it was signed with", async () => {
  const signed = (name) => vectors.vectors.find((v) => v.name === name).inputs.choice;
  for (const c of trackers.trackers) {
    const mine = await tracker(c.signature);
    assert.equal(checkBallot(trackers.published, mine, { choice: signed(c.vector) }).status, "counted", c.vector);
    assert.equal(checkBallot(trackers.published, mine, { choice: "abstain" }).status, "otherwise", c.vector);
  }
});

test("a tracker reads in groups of four and its list is served beside the app", () => {
  assert.equal(trackerGroups("0123456789abcdef0123456789abcdef"), "0123 4567 89ab cdef 0123 4567 89ab cdef");
  assert.equal(publishedListUrl("phuc-loi", "ab12"), "../api/meetings/phuc-loi/rounds/ab12/trackers");
});

test("a result on a list reads as its official table: counts, shares of all seats, each row's outcome", () => {
  const turnout = { total_seats: 40, present: 38, papers: 38 };
  const list = { kind: "rating", entries: [{ name: "Nguyễn Đức Thắng", post: "Chủ tịch HĐND phường" }, { name: "Lê Minh Tuấn", post: "" }, { name: "Lý Thị Mai", post: "" }] };
  const rating = {
    kind: "rating",
    turnout,
    ratings: [
      { high: 30, confidence: 8, low: 0, low_over_half: false, low_two_thirds: false },
      { high: 5, confidence: 12, low: 21, low_over_half: true, low_two_thirds: false },
      { high: 1, confidence: 10, low: 27, low_over_half: true, low_two_thirds: true },
    ],
  };
  const table = paperRows(rating, list, "vi");
  assert.deepEqual(table.marks, [1, 2, 3]);
  assert.deepEqual(table.rows[0], {
    name: "Nguyễn Đức Thắng",
    post: "Chủ tịch HĐND phường",
    cells: [
      { n: 30, pct: "75,00%" },
      { n: 8, pct: "20,00%" },
      { n: 0, pct: "0,00%" },
    ],
    outcome: null,
  });
  assert.deepEqual(table.rows.map((r) => r.outcome), [null, "low_over_half", "low_two_thirds"]);
  assert.equal(paperRows(rating, list, "en").rows[1].cells[2].pct, "52.50%");

  const election = { kind: "election", turnout, posts: 2, approvals: [25, 22, 22], approvals_needed: 21, elected: [0], tie: { candidates: [1, 2], posts: 1 } };
  const elected = paperRows(election, { entries: [{ name: "A", post: "" }, { name: "B", post: "" }] }, "vi");
  assert.deepEqual(elected.marks, [1]);
  assert.deepEqual(elected.rows.map((r) => [r.name, r.cells[0].n, r.outcome]), [["A", 25, "elected"], ["B", 22, "tie"], ["#3", 22, "tie"]]);

  const votes = { kind: "no_confidence", turnout, needed: 21, votes: [{ confidence: 12, no_confidence: 26, flagged: true }, { confidence: 30, no_confidence: 8, flagged: false }] };
  const flagged = paperRows(votes, null, "vi");
  assert.deepEqual(flagged.marks, [1, 2]);
  assert.deepEqual(flagged.rows.map((r) => [r.cells.map((c) => c.pct), r.outcome]), [[["30,00%", "65,00%"], "flagged"], [["75,00%", "20,00%"], null]]);
});
