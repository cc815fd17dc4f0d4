// Gavel's signed byte layouts and result wording, in JavaScript.
// The same layouts as protocol/src/signing.rs, checked against
// protocol/vectors/signing.json by protocol.test.mjs. See protocol/PROTOCOL.md.

import { formatPercent, takingPart } from "./rules.js";

const encoder = new TextEncoder();

export const TAGS = {
  auth: "gavel/auth/v1\0",
  enroll: "gavel/enroll/v1\0",
  adminAuth: "gavel/admin-auth/v1\0",
  ballot: "gavel/ballot/v2\0",
  receipt: "gavel/receipt/v2\0",
  auditHead: "gavel/audit-head/v1\0",
  paper: "gavel/paper/v2\0",
  paperReceipt: "gavel/paper-receipt/v2\0",
  countConfirmation: "gavel/count-confirmation/v1\0",
  documents: "gavel/documents/v1\0",
};

export const CHOICES = ["yes", "no", "abstain"];
const CHOICE_CODES = { yes: 1, no: 2, abstain: 3 };

/**
 * The kinds of ballot paper on a list, with their code in the paper layout
 * and the marks each knows (PROTOCOL.md §7.5): an election approves (1); a
 * rating has high confidence (1), confidence (2) and low confidence (3); a
 * no-confidence vote has confidence (1) and no confidence (2).
 */
export const PAPER_KINDS = {
  election: { code: 1, marks: [1] },
  rating: { code: 2, marks: [1, 2, 3] },
  no_confidence: { code: 3, marks: [1, 2] },
};

export function hexToBytes(hex) {
  if (hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) throw new Error(`not hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Builds a byte string from parts: strings are UTF-8 with a u16 length; numbers have an explicit width. */
class Layout {
  constructor(tag) {
    this.parts = [encoder.encode(tag)];
  }
  str(s) {
    const bytes = encoder.encode(s);
    if (bytes.length > 0xffff) throw new Error("string too long to sign");
    this.u16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  raw(bytes, length) {
    if (bytes.length !== length) throw new Error(`expected ${length} bytes, got ${bytes.length}`);
    this.parts.push(bytes);
    return this;
  }
  u8(n) {
    this.parts.push(Uint8Array.of(n));
    return this;
  }
  u16(n) {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, n);
    this.parts.push(b);
    return this;
  }
  u32(n) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    this.parts.push(b);
    return this;
  }
  u64(n) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    this.parts.push(b);
    return this;
  }
  bytes() {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/**
 * SHA-256 of `bytes` in lower-case hex: the hash that names a served
 * meeting view (`welcome`'s `view_hash`) and a document. Null where
 * WebCrypto's digest is not available (a page served over plain http from
 * another machine is not a secure context).
 */
export async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/**
 * A secret ballot's tracker (PROTOCOL.md §7.2): the first 16 bytes of
 * SHA-256 over "gavel secret choice row" and the ballot's 64-byte
 * signature, in lower-case hex. The record publishes each secret round's
 * trackers with their choices and no seat; the device that signed the
 * ballot finds it there by this. Null without WebCrypto's digest.
 */
export async function tracker(signatureHex) {
  const label = new TextEncoder().encode("gavel secret choice row");
  const signature = hexToBytes(signatureHex);
  const bytes = new Uint8Array(label.length + signature.length);
  bytes.set(label);
  bytes.set(signature, label.length);
  const hash = await sha256Hex(bytes);
  return hash && hash.slice(0, 32);
}

/** A tracker as a delegate reads it aloud: groups of four hex digits ("0b5c 7e21 …"). */
export function trackerGroups(trackerHex) {
  return trackerHex.match(/.{1,4}/g).join(" ");
}

/** Where a secret round's published list is served (PROTOCOL.md §6.4), beside the app at `base`. */
export function publishedListUrl(meeting, round, base = "..") {
  return `${base}/api/meetings/${encodeURIComponent(meeting)}/rounds/${encodeURIComponent(round)}/trackers`;
}

/**
 * Looks the device's ballot up in a published list (PROTOCOL.md §6.4):
 * `cast` is what it sent, `{choice}` or a paper's `{kind, marks}` (marks as
 * [entry, mark] pairs, as on the wire). "counted" when the list holds the
 * tracker with that very vote, "otherwise" with another (`counted` says
 * which), "missing" when the list does not hold it. The list is sorted by
 * tracker, but a few hundred entries need no binary search.
 */
export function checkBallot(list, trackerHex, cast) {
  const entry = list.ballots.find((b) => b.tracker === trackerHex);
  if (!entry) return { status: "missing", counted: null };
  const counted = entry.paper ?? { choice: entry.choice };
  return { status: sameVote(counted, cast) ? "counted" : "otherwise", counted };
}

function sameVote(counted, cast) {
  if (cast.choice !== undefined) return counted.choice === cast.choice;
  return counted.kind === cast.kind && JSON.stringify(counted.marks) === JSON.stringify(cast.marks);
}

/**
 * The link that downloads an agenda item's document (a DocumentView of the
 * meeting view): by meeting and hash, with the session's `document_access`
 * token for a delegates-only one. The token lasts as long as the session, so
 * the link is made again on each render rather than kept.
 */
export function documentUrl(meeting, document, token) {
  const path = `/api/meetings/${encodeURIComponent(meeting)}/documents/${encodeURIComponent(document.sha256)}`;
  if (document.public || !token) return path;
  return `${path}?access=${encodeURIComponent(token)}`;
}

/**
 * The document of the meeting view (a DocumentView) that a snapshot's
 * `presentation` names, or null when nothing is presented or the view
 * lists no such document (a view fetched before a new version arrived).
 */
export function presentedDocument(view, presentation) {
  if (!presentation) return null;
  const item = view.agenda.find((i) => i.index === presentation.item);
  return item?.documents.find((d) => d.sha256 === presentation.document) ?? null;
}

/** What a device signs to answer the login challenge. */
export function authBytes(meeting, nonceHex, publicKeyHex) {
  return new Layout(TAGS.auth).str(meeting).raw(hexToBytes(nonceHex), 32).raw(hexToBytes(publicKeyHex), 32).bytes();
}

/** What the secretariat's device signs to answer the admin API's login challenge. */
export function adminAuthBytes(nonceHex, publicKeyHex) {
  return new Layout(TAGS.adminAuth).raw(hexToBytes(nonceHex), 32).raw(hexToBytes(publicKeyHex), 32).bytes();
}

/** What a device signs to prove it holds the key it enrolls with. */
export function enrollBytes(code, publicKeyHex) {
  return new Layout(TAGS.enroll).str(code).raw(hexToBytes(publicKeyHex), 32).bytes();
}

/**
 * A ballot's fields: `documents` is the round's documents digest
 * (`round.versions.digest`), which the ballot and its receipt both carry.
 */
function ballotLayout(tag, { meeting, round, documents, seat, choice, seq }) {
  const code = CHOICE_CODES[choice];
  if (!code) throw new Error(`unknown choice ${choice}`);
  return new Layout(tag).str(meeting).raw(hexToBytes(round), 16).raw(hexToBytes(documents), 32).u32(seat).u8(code).u64(seq);
}

/** What a delegate signs to cast a ballot. */
export function ballotBytes(ballot) {
  return ballotLayout(TAGS.ballot, ballot).bytes();
}

/** What the server signs to give a receipt for a ballot. */
export function receiptBytes(receipt) {
  return ballotLayout(TAGS.receipt, receipt).u64(receipt.recorded_at).bytes();
}

function paperLayout(tag, { meeting, round, documents, seat, seq, kind, marks }) {
  const known = PAPER_KINDS[kind];
  if (!known) throw new Error(`unknown paper kind ${kind}`);
  const layout = new Layout(tag).str(meeting).raw(hexToBytes(round), 16).raw(hexToBytes(documents), 32).u32(seat).u64(seq).u8(known.code).u16(marks.length);
  for (const [entry, mark] of marks) layout.u16(entry).u8(mark);
  return layout;
}

/** What a delegate signs to cast a ballot paper on a list: the whole paper, once, with the round's documents digest. */
export function paperBytes(paper) {
  return paperLayout(TAGS.paper, paper).bytes();
}

/** What the server signs to give one receipt for a whole paper. */
export function paperReceiptBytes(receipt) {
  return paperLayout(TAGS.paperReceipt, receipt).u64(receipt.recorded_at).bytes();
}

/**
 * The digest of a round's documents (PROTOCOL.md §7.2): SHA-256 over the
 * tag, the count and each document's SHA-256 in the item's order, in hex.
 * Null where WebCrypto's digest is unavailable, as for `sha256Hex`.
 */
export async function documentsDigest(sha256List) {
  const layout = new Layout(TAGS.documents).u16(sha256List.length);
  for (const sha of sha256List) layout.raw(hexToBytes(sha), 32);
  return sha256Hex(layout.bytes());
}

/**
 * Which of the versions a round is about (`round.versions.sha256`) a device
 * does not hold, given the hashes it holds: empty when it can show the
 * delegate every text the vote is about.
 */
export function missingVersions(versions, held) {
  const have = new Set(held);
  return (versions?.sha256 ?? []).filter((sha) => !have.has(sha));
}

/**
 * What a counting board member's device signs to confirm a closed secret
 * round's count (PROTOCOL.md §7.6): the seat, the turnout and every row of
 * counts, each row with its length.
 */
export function countConfirmationBytes({ meeting, round, seat, count }) {
  const out = new Layout(TAGS.countConfirmation).str(meeting).raw(hexToBytes(round), 16).u32(seat);
  out.u32(count.total_seats).u32(count.present).u32(count.ballots).u16(count.rows.length);
  for (const row of count.rows) {
    out.u8(row.length);
    for (const n of row) out.u32(n);
  }
  return out.bytes();
}

/**
 * Why the server would refuse a paper of `kind` with these `[entry, mark]`
 * marks on an item whose list is `sheet` ({kind, entries, posts}): the
 * refusal reason, or null if it is accepted. The same checks in the same
 * order as the server's (protocol/src/paper.rs), so a tablet never sends a
 * paper it can tell will be refused.
 */
export function paperRefusal(sheet, kind, marks) {
  if (kind !== sheet.kind) return "wrong_ballot_kind";
  let previous = null;
  for (const [entry, mark] of marks) {
    if (entry >= sheet.entries) return kind === "election" ? "unknown_candidate" : "unknown_official";
    if (!PAPER_KINDS[kind].marks.includes(mark)) return "unknown_level";
    if (previous === entry) return "duplicate_entry";
    if (previous !== null && previous > entry) return "marks_out_of_order";
    previous = entry;
  }
  if (kind === "election" && marks.length > sheet.posts) return "over_cap";
  return null;
}

/** Whether a round's result is a paper's (an election, a rating, a no-confidence vote) rather than a tally. */
export function isPaperResult(result) {
  return Boolean(result?.kind);
}

/**
 * What a result on a list came to, as sentences in the app's language: the
 * papers returned, then who was elected (or the tie, or nobody), or how
 * many officials a confidence vote flags. `list` is the item's `paper`.
 * `byHand` is the round's `by_hand` when it was counted by hand: the papers
 * returned are then the counting board's, and the valid and invalid follow
 * (the result counts the valid ones, PROTOCOL.md §9.8).
 */
export function paperSentences(t, result, list, lang, byHand = null) {
  const { turnout } = result;
  const names = (entries) => entries.map((e) => list?.entries[e]?.name ?? `#${e + 1}`).join(", ");
  const ballots = byHand?.ballots;
  const returned = ballots ? ballots.returned : turnout.papers;
  const out = [t("paper.returned", { n: returned, pct: formatPercent(returned, turnout.total_seats, lang) })];
  if (ballots) out.push(t("paper.valid", { valid: ballots.returned - ballots.invalid, invalid: ballots.invalid }));
  if (result.kind === "election") {
    if (result.elected.length) out.push(t("paper.elected", { names: names(result.elected) }));
    if (result.tie) out.push(t("paper.tie", { names: names(result.tie.candidates) }));
    if (!result.elected.length && !result.tie) out.push(t("paper.nobody"));
  } else if (result.kind === "rating") {
    out.push(t("paper.low_over_half", { n: result.ratings.filter((r) => r.low_over_half).length }));
  } else {
    out.push(t("paper.flagged", { n: result.votes.filter((v) => v.flagged).length }));
  }
  return out;
}

/**
 * A result on a list as the official table reads it: the kind's marks (the
 * columns) and, per candidate or official in list order, its name and
 * post, each mark's count with its share of all seats, and what the row
 * came to: "elected" or "tie" in an election; in a rating "low_two_thirds"
 * (two thirds or more of all seats rated it low, which is also more than
 * half) or else "low_over_half"; "flagged" in a no-confidence vote; null
 * otherwise. `list` is the item's `paper`.
 */
export function paperRows(result, list, lang) {
  const total = result.turnout.total_seats;
  const cells = (counts) => counts.map((n) => ({ n, pct: formatPercent(n, total, lang) }));
  const row = (i, counts, outcome) => ({
    name: list?.entries[i]?.name ?? `#${i + 1}`,
    post: list?.entries[i]?.post ?? "",
    cells: cells(counts),
    outcome,
  });
  let rows;
  if (result.kind === "election") {
    const tied = new Set(result.tie?.candidates ?? []);
    rows = result.approvals.map((n, i) => row(i, [n], result.elected.includes(i) ? "elected" : tied.has(i) ? "tie" : null));
  } else if (result.kind === "rating") {
    rows = result.ratings.map((r, i) =>
      row(i, [r.high, r.confidence, r.low], r.low_two_thirds ? "low_two_thirds" : r.low_over_half ? "low_over_half" : null),
    );
  } else {
    rows = result.votes.map((v, i) => row(i, [v.confidence, v.no_confidence], v.flagged ? "flagged" : null));
  }
  return { marks: PAPER_KINDS[result.kind].marks, rows };
}

/**
 * Who recorded a result by hand, and when, if it was (PROTOCOL.md §9.8):
 * `by_hand` of the snapshot's round when it is the item's, otherwise of the
 * item's stored state; null for a result voted on the devices.
 */
export function byHandOf(snapshot, index) {
  if (!snapshot || index == null) return null;
  if (snapshot.round?.item === index) return snapshot.round.by_hand ?? null;
  return snapshot.items?.[index]?.by_hand ?? null;
}

/**
 * "Kiểm đếm thủ công — Lê Thị Thu ghi nhận lúc 10:15": the mark a screen puts
 * on a result recorded by hand, saying the counting board counted the papers
 * when it did (`ballots`).
 */
export function byHandLine(t, byHand, lang) {
  const time = new Date(byHand.at).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return t(byHand.ballots ? "result.by_hand_paper" : "result.by_hand", { by: byHand.by, time });
}

/**
 * "Kỳ họp đã bế mạc lúc 11:35 ngày 18/12/2026" from a snapshot's
 * `closed_at` (PROTOCOL.md §9.9), in the device's time zone; null while the
 * session is under way. Under a heading that already says the session is
 * closed, `key` "session.closed_time" gives the time alone ("Lúc 11:35 ngày …").
 */
export function closedLine(t, closedAt, lang, key = "session.closed_at") {
  if (closedAt == null) return null;
  const at = new Date(closedAt);
  const time = at.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const date = at.toLocaleDateString(lang === "vi" ? "vi-VN" : "en-GB", { day: "2-digit", month: "2-digit", year: "numeric" });
  return t(key, { time, date });
}

/** What the server signs to vouch for an exported audit chain (its length and last hash). */
export function auditHeadBytes({ meeting, entries, head }) {
  return new Layout(TAGS.auditHead).str(meeting).u64(entries).raw(hexToBytes(head), 32).bytes();
}

/**
 * A choice label inside a sentence, as the minutes write it: only the first
 * letter is lowered ("Tán thành" reads "tán thành"), so that an
 * abbreviation in a council's label ("Đồng ý với Tờ trình của UBND") keeps
 * its capitals.
 */
export function labelInSentence(label, lang) {
  return label.charAt(0).toLocaleLowerCase(lang) + label.slice(1);
}

/**
 * The result sentence, word for word as the minutes print it
 * (`protocol/src/wording.rs`), every percentage of the total seats: "38 đại
 * biểu tham gia biểu quyết (95,00% tổng số đại biểu); 35 tán thành
 * (87,50%), …". The hall screen and the chair's console both show it.
 */
export function officialSentence(t, counts, labels, lang) {
  const total = counts.total_seats;
  const taking = takingPart(counts);
  const vars = { taking, taking_pct: formatPercent(taking, total, lang) };
  for (const choice of CHOICES) {
    vars[choice] = counts[choice];
    vars[`${choice}_label`] = labelInSentence(labels[choice], lang);
    vars[`${choice}_pct`] = formatPercent(counts[choice], total, lang);
  }
  return t("result.official", vars);
}
