// A device's identity in the browser: an Ed25519 key made with WebCrypto,
// not extractable, kept in IndexedDB with what it was enrolled as. The
// private key never leaves the device; only its public half is sent.

import { bytesToHex, hexToBytes } from "./protocol.js";
import { database } from "./idb.js";

const STORE = "identity";
const identities = database("gavel", [STORE]);
const run = (mode, action) => identities(STORE, mode, action);

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
