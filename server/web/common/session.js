// A live connection to the Gavel hub, shared by the tablet, the chair's
// console and the hall screen. It logs in (or watches), keeps the meeting's
// state from snapshots and versioned tally updates, answers requests with
// promises, and reconnects by itself with jittered backoff, resyncing from
// the fresh snapshot it gets on every login. Nothing polls: the page
// re-renders on the "change" event.

import { authBytes, ballotBytes, countConfirmationBytes, documentsDigest, enrollBytes, paperBytes, paperReceiptBytes, receiptBytes, sha256Hex, tracker } from "./protocol.js";
import { newKeyPair, saveIdentity, sign, verify } from "./keys.js";

const PROTOCOL_VERSION = 4;

/**
 * Login refusals that another attempt cannot cure: the device must enroll
 * again (or the page is wrong). Any other refusal at login (the server
 * shutting down, rate limiting) is retried with backoff like a lost connection.
 */
const FINAL_LOGIN_REFUSALS = new Set(["unknown_key", "key_revoked", "unknown_meeting", "bad_signature", "unsupported_version"]);

function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** Opens a socket and waits for the server's challenge. */
function connect() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl());
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "challenge") resolve({ socket, challenge: msg });
      else {
        socket.close();
        reject(new Error(`expected a challenge, got ${msg.type}`));
      }
    };
    socket.onerror = () => reject(new Error("cannot reach the server"));
    socket.onclose = () => reject(new Error("cannot reach the server"));
  });
}

/** Reads the next frame from a socket that is not yet in a session. */
function nextFrame(socket) {
  return new Promise((resolve, reject) => {
    // A socket that closed while we were signing fires no close event again.
    if (socket.readyState >= WebSocket.CLOSING) {
      reject(new Error("the server closed the connection"));
      return;
    }
    socket.onmessage = (event) => resolve(JSON.parse(event.data));
    socket.onclose = () => reject(new Error("the server closed the connection"));
  });
}

/**
 * Fetches the meeting view (roster, agenda, labels) that a `welcome` names
 * by `hash`, and checks that these are the bytes it names: by their SHA-256
 * where the page may compute one, else by the ETag the server sent them with.
 */
async function fetchView(meeting, hash) {
  const response = await fetch(`/api/meetings/${encodeURIComponent(meeting)}/view`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`the meeting view: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const found = (await sha256Hex(bytes)) ?? response.headers.get("ETag")?.replaceAll('"', "");
  if (found !== hash) throw new Error(`the meeting view has hash ${found}, not ${hash}`);
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** A refusal from the server, as an Error that keeps its reason. */
export class Refused extends Error {
  constructor(reason, message) {
    super(message || reason);
    this.reason = reason;
  }
}

/**
 * The documents digest a ballot of `round` signs: the one the round
 * recorded, once checked against its list of versions where the page may
 * hash, so that the delegate's signature never vouches for a list it was not
 * shown.
 */
async function roundDigest(round) {
  const versions = round.versions;
  if (!versions) throw new Refused("documents_changed", "the round records no documents to vote on");
  const computed = await documentsDigest(versions.sha256);
  if (computed !== null && computed !== versions.digest) {
    throw new Refused("documents_changed", "the round's documents digest does not match its list of versions");
  }
  return versions.digest;
}

/**
 * Enrolls a new device key with a one-time code and, if `accepts` approves
 * the principal the code was issued for, saves the identity under `slot` and
 * returns it. The key is made here and never leaves the browser.
 */
export async function enroll(code, slot, accepts = () => true) {
  const pair = await newKeyPair();
  const { socket, challenge } = await connect();
  try {
    const signature = await sign(pair.privateKey, enrollBytes(code, pair.publicKeyHex));
    socket.send(JSON.stringify({ type: "enroll", v: PROTOCOL_VERSION, code, public_key: pair.publicKeyHex, signature }));
    const answer = await nextFrame(socket);
    if (answer.type !== "enrolled") throw new Refused(answer.reason, answer.message);
    // A code for the wrong role (a seat's code typed into the chair's
    // console) must not replace the identity this device already has.
    if (!accepts(answer.principal)) {
      const wrong = new Refused("wrong_principal", "the code was issued for another role");
      wrong.principal = answer.principal;
      throw wrong;
    }
    const identity = {
      privateKey: pair.privateKey,
      publicKeyHex: pair.publicKeyHex,
      meeting: answer.meeting,
      principal: answer.principal,
      serverKey: challenge.server_key,
    };
    await saveIdentity(slot, identity);
    return identity;
  } finally {
    socket.close();
  }
}

export class Session extends EventTarget {
  /**
   * `identity` (from `enroll` or `loadIdentity`) logs in as a seat or the
   * chair; without it, `meeting` is watched read-only.
   */
  constructor({ identity = null, meeting = null }) {
    super();
    this.identity = identity;
    this.meetingId = identity ? identity.meeting : meeting;
    this.status = "connecting"; // connecting | online | reconnecting | refused
    this.refusal = null;
    this.meeting = null; // MeetingView, fetched as `welcome` names it
    this.viewHash = null;
    this.principal = null;
    this.snapshot = null;
    this.version = 0;
    this.checkedIn = false;
    this.myBallot = null;
    this.toConfirm = null; // a counting board member's: {round, count} the server asks it to confirm
    this.documentAccess = null; // the session's token for delegates-only documents
    this.floor = null; // the floor on the item under discussion (a `floor` frame)
    this.serverOffset = 0;
    this.socket = null;
    this.pending = new Map();
    this.nextId = 1;
    this.lastSeq = 0;
    this.stopped = false;
  }

  /** Connects and keeps reconnecting until `stop()` or a final refusal. */
  async start() {
    let backoff = 500;
    while (!this.stopped) {
      try {
        await this.#session();
        backoff = 500;
      } catch (error) {
        if (error instanceof Refused && FINAL_LOGIN_REFUSALS.has(error.reason)) {
          this.status = "refused";
          this.refusal = error;
          this.#changed();
          return;
        }
      }
      if (this.stopped) return;
      this.status = "reconnecting";
      this.#changed();
      await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  stop() {
    this.stopped = true;
    this.socket?.close();
  }

  /** The server's clock now, in Unix milliseconds: countdowns follow it, not the device's. */
  serverNow() {
    return Date.now() + this.serverOffset;
  }

  /** The round as the server last described it (open, or the last one). */
  get round() {
    return this.snapshot?.round ?? null;
  }

  get openRound() {
    return this.round?.status === "open" ? this.round : null;
  }

  /** One connection: logs in, applies what the server sends until the socket closes. */
  async #session() {
    const { socket, challenge } = await connect();
    if (this.stopped) {
      socket.close();
      return;
    }
    this.socket = socket;
    try {
      const early = await this.#login(socket, challenge);
      await new Promise((resolve) => {
        const take = (msg) => {
          this.#apply(msg);
          if (this.snapshot && this.status !== "online") {
            this.status = "online";
            this.#changed();
          }
        };
        socket.onmessage = (event) => take(JSON.parse(event.data));
        socket.onclose = resolve;
        for (const msg of early) take(msg);
        // Closed while the view was fetched: its close event has been and gone.
        if (socket.readyState === WebSocket.CLOSED) resolve();
      });
    } finally {
      this.socket = null;
      socket.close();
      for (const { reject } of this.pending.values()) reject(new Refused("connection_lost", "the connection was lost"));
      this.pending.clear();
    }
  }

  /**
   * Answers the challenge with `auth` (or `watch`), takes the `welcome` and
   * the meeting view it names (fetched unless this session already holds
   * it), and returns the frames that arrived meanwhile, to be applied next.
   */
  async #login(socket, challenge) {
    this.serverOffset = challenge.server_time - Date.now();
    let hello;
    if (this.identity) {
      const { privateKey, publicKeyHex, meeting } = this.identity;
      const signature = await sign(privateKey, authBytes(meeting, challenge.nonce, publicKeyHex));
      hello = { type: "auth", v: PROTOCOL_VERSION, meeting, public_key: publicKeyHex, signature };
    } else {
      hello = { type: "watch", v: PROTOCOL_VERSION, meeting: this.meetingId };
    }
    socket.send(JSON.stringify(hello));
    const welcome = await nextFrame(socket);
    if (welcome.type !== "welcome") throw new Refused(welcome.reason, welcome.message);
    const early = [];
    socket.onmessage = (event) => early.push(JSON.parse(event.data));
    if (this.viewHash !== welcome.view_hash) {
      this.meeting = await fetchView(welcome.meeting, welcome.view_hash);
      this.viewHash = welcome.view_hash;
    }
    this.principal = welcome.principal;
    // A new connection starts from its own snapshot, whatever its version.
    this.version = 0;
    this.floor = null;
    return early;
  }

  #apply(msg) {
    switch (msg.type) {
      case "snapshot":
        if (msg.version < this.version) return;
        this.version = msg.version;
        this.serverOffset = msg.server_time - Date.now();
        if (this.myBallot && msg.round && this.myBallot.round !== msg.round.id) this.myBallot = null;
        this.snapshot = msg;
        break;
      case "tally":
        if (msg.version <= this.version || this.round?.id !== msg.round) return;
        this.version = msg.version;
        this.snapshot.round.live = msg.live;
        break;
      case "you":
        this.checkedIn = msg.checked_in;
        this.myBallot = this.#trackerKept(msg.ballot);
        this.toConfirm = msg.to_confirm ?? null;
        // After a reload, a new ballot must still outrank the recorded one.
        if (msg.ballot) this.lastSeq = Math.max(this.lastSeq, msg.ballot.seq);
        break;
      case "floor":
        if (this.floor && msg.version < this.floor.version) return;
        this.floor = msg;
        break;
      case "document_access":
        this.documentAccess = msg.token;
        break;
      case "ack":
      case "paper_ack":
        // `cast` and `castPaper` keep the receipt as myBallot once they have checked it.
        this.#settle(msg.id, "resolve", msg);
        break;
      case "done":
      case "export_ready":
        this.#settle(msg.id, "resolve", msg);
        break;
      case "refused":
        this.#settle(msg.id, "reject", new Refused(msg.reason, msg.message));
        break;
      default:
        return;
    }
    this.#changed();
  }

  #settle(id, how, value) {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    waiter[how](value);
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }

  /** Sends a request; resolves with its `ack` or `done`, rejects with `Refused`. */
  request(build) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Refused("connection_lost", "not connected"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify(build(id)));
    });
  }

  checkIn() {
    return this.request((id) => ({ type: "check_in", id }));
  }

  /** Asks for the floor on `item` (the one under discussion). */
  requestFloor(item, kind, respondent = null, topic = null) {
    return this.request((id) => ({ type: "floor_request", id, item, kind, respondent, topic }));
  }

  withdrawFloor(item) {
    return this.request((id) => ({ type: "floor_withdraw", id, item }));
  }

  chair(command) {
    return this.request((id) => ({ type: "chair", id, command }));
  }

  /** Asks for the meeting's record; resolves with `export_ready` (a one-time link). */
  exportRecord() {
    return this.request((id) => ({ type: "export", id }));
  }

  /** Asks for a fresh snapshot and this device's own state (`you`). */
  sync() {
    return this.request((id) => ({ type: "sync", id }));
  }

  /**
   * As a counting board member, signs and sends the confirmation of the
   * count the server gave in `you.to_confirm`, exactly as given: the
   * server refuses it if it is not the close's.
   */
  async confirmCount() {
    const asked = this.toConfirm;
    if (!asked) throw new Refused("not_provisional", "no count to confirm");
    const bytes = countConfirmationBytes({ meeting: this.meetingId, round: asked.round, seat: this.principal?.seat, count: asked.count });
    const signature = await sign(this.identity.privateKey, bytes);
    return this.request((id) => ({ type: "confirm_count", id, round: asked.round, count: asked.count, signature }));
  }

  /** A sequence number above any this device used: the clock, bumped if needed. */
  nextSeq() {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now());
    return this.lastSeq;
  }

  /**
   * Signs and casts `choice` in the open round; resolves with the receipt
   * after checking that the server signed it and that it records this very
   * ballot. Only then does it become `myBallot`. Casting again with the same
   * `seq` (after a lost answer) sends the same ballot and gets the same receipt.
   */
  async cast(choice, seq = this.nextSeq()) {
    const round = this.openRound;
    if (!round) throw new Refused("no_open_round", "no vote is open");
    const documents = await roundDigest(round);
    const seat = this.principal?.seat;
    const ballot = { meeting: this.meetingId, round: round.id, documents, seat, choice, seq };
    const signature = await sign(this.identity.privateKey, ballotBytes(ballot));
    const { receipt } = await this.request((id) => ({ type: "cast", id, round: round.id, documents, choice, seq, signature }));
    const same = ["meeting", "round", "documents", "seat", "choice", "seq"].every((field) => receipt[field] === ballot[field]);
    if (!same || !(await verify(this.identity.serverKey, receiptBytes(receipt), receipt.server_signature))) {
      throw new Refused("bad_receipt", "the server's receipt does not match this ballot");
    }
    this.#keepReceipt(await withTracker(receipt, round, signature));
    return receipt;
  }

  /**
   * Signs and casts a whole paper on the open round's list: `marks` are
   * [entry, mark] pairs, sent in ascending order of entry (the canonical
   * order the server requires). Resolves with the one receipt for the whole
   * paper, checked as `cast` checks a ballot's, every mark included.
   */
  async castPaper(kind, marks, seq = this.nextSeq()) {
    const round = this.openRound;
    if (!round) throw new Refused("no_open_round", "no vote is open");
    const documents = await roundDigest(round);
    const sorted = [...marks].sort((a, b) => a[0] - b[0]);
    const paper = { meeting: this.meetingId, round: round.id, documents, seat: this.principal?.seat, seq, kind, marks: sorted };
    const signature = await sign(this.identity.privateKey, paperBytes(paper));
    const { paper_receipt: receipt } = await this.request((id) => ({ type: "cast_paper", id, round: round.id, documents, kind, marks: sorted, seq, signature }));
    const same =
      ["meeting", "round", "documents", "seat", "kind", "seq"].every((field) => receipt[field] === paper[field]) &&
      JSON.stringify(receipt.marks) === JSON.stringify(sorted);
    if (!same || !(await verify(this.identity.serverKey, paperReceiptBytes(receipt), receipt.server_signature))) {
      throw new Refused("bad_receipt", "the server's receipt does not match this paper");
    }
    this.#keepReceipt(await withTracker(receipt, round, signature));
    return receipt;
  }

  /**
   * The server's `you.ballot` carries no tracker (it is drawn from this
   * device's signature, which the server does not send back): the one this
   * session computed stays with the same ballot.
   */
  #trackerKept(ballot) {
    const kept = this.myBallot;
    const same = ballot && kept?.tracker && kept.round === ballot.round && kept.seq === ballot.seq;
    return same ? { ...ballot, tracker: kept.tracker } : ballot;
  }

  /** A checked receipt becomes `myBallot` unless a later one of the same round is already kept. */
  #keepReceipt(receipt) {
    const newer = this.myBallot?.round !== receipt.round || receipt.seq >= this.myBallot.seq;
    if (newer) {
      this.myBallot = receipt;
      this.#changed();
    }
  }
}

/**
 * A secret round's receipt with its ballot's tracker (PROTOCOL.md §7.2), so
 * that the delegate can find the ballot in the round's published list; a
 * named round's as it is (its ballots are published by seat).
 */
async function withTracker(receipt, round, signature) {
  if (round.settings.secrecy !== "secret") return receipt;
  return { ...receipt, tracker: await tracker(signature) };
}
