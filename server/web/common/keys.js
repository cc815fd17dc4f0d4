// A device's identity in the browser: an Ed25519 key made with WebCrypto,
// not extractable, kept in IndexedDB with what it was enrolled as. The
// private key never leaves the device; only its public half is sent.

import { bytesToHex, hexToBytes } from "./protocol.js";

const DB = "gavel";
const STORE = "identity";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Runs one request in its own transaction; settles when the transaction ends, however it ends. */
async function run(mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    // A transaction can abort without an error event (quota, a closing database).
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("the identity store is unavailable"));
  }).finally(() => db.close());
}

/** A fresh key pair whose private half cannot be exported, even by this page. */
export async function newKeyPair() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicKeyHex: bytesToHex(raw) };
}

export async function sign(privateKey, bytes) {
  return bytesToHex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, bytes)));
}

export async function verify(publicKeyHex, bytes, signatureHex) {
  const key = await crypto.subtle.importKey("raw", hexToBytes(publicKeyHex), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, hexToBytes(signatureHex), bytes);
}

/**
 * The identity saved under `slot` ("tablet" or "chair"):
 * { privateKey, publicKeyHex, meeting, principal, serverKey } or undefined.
 */
export function loadIdentity(slot) {
  return run("readonly", (s) => s.get(slot));
}

export function saveIdentity(slot, identity) {
  return run("readwrite", (s) => s.put(identity, slot));
}

export function forgetIdentity(slot) {
  return run("readwrite", (s) => s.delete(slot));
}
