// Gavel's signed byte layouts and result wording, in JavaScript.
// The same layouts as protocol/src/signing.rs, checked against
// protocol/vectors/signing.json by protocol.test.mjs. See protocol/PROTOCOL.md.

import { formatPercent, takingPart } from "./rules.js";

const encoder = new TextEncoder();

export const TAGS = {
  auth: "gavel/auth/v1\0",
  enroll: "gavel/enroll/v1\0",
  adminAuth: "gavel/admin-auth/v1\0",
  ballot: "gavel/ballot/v1\0",
  receipt: "gavel/receipt/v1\0",
  auditHead: "gavel/audit-head/v1\0",
};

export const CHOICES = ["yes", "no", "abstain"];
const CHOICE_CODES = { yes: 1, no: 2, abstain: 3 };

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

function ballotLayout(tag, { meeting, round, seat, choice, seq }) {
  const code = CHOICE_CODES[choice];
  if (!code) throw new Error(`unknown choice ${choice}`);
  return new Layout(tag).str(meeting).raw(hexToBytes(round), 16).u32(seat).u8(code).u64(seq);
}

/** What a delegate signs to cast a ballot. */
export function ballotBytes(ballot) {
  return ballotLayout(TAGS.ballot, ballot).bytes();
}

/** What the server signs to give a receipt for a ballot. */
export function receiptBytes(receipt) {
  return ballotLayout(TAGS.receipt, receipt).u64(receipt.recorded_at).bytes();
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
