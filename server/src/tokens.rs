//! Tokens that every node of a deployment honours, whichever node issued
//! them (see docs/architecture.md, "Tokens every node honours").
//!
//! - A session's `document_access` token opens its meeting's delegates-only
//!   documents. It is signed with the server's key, which every node holds,
//!   and carries its meeting and its expiry, so any node checks it without
//!   asking another or the store: documents are fetched often, by every
//!   tablet, and a login must not cost a write. It lasts the session's
//!   grace and two ping intervals; the session sends a new one at each
//!   ping ([`DocumentAccess`]), so it keeps working while the session lasts
//!   and stops at most that long after it ends.
//! - The chair's record download is one-time, which a signature cannot
//!   say: its token is a row of the store (`Store::issue_download`), used
//!   up by the node that serves it, whichever that is.
//! - The secretariat's login challenge and session (`crate::secretariat`):
//!   behind the proxy the challenge, the login and every later call may
//!   each reach another node. The session token is signed like the
//!   document token, with the device and the expiry. The challenge must be
//!   the 32 bytes the admin-auth layout signs, too short for a signature:
//!   its expiry and a random part, and a SHA-256 of them keyed with the
//!   server's key, which every node can recompute.

use crate::clock::now_ms;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use gavel_protocol::{MeetingId, PublicKey};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Whatever else the server's key signs, a token's bytes begin apart.
const DOCUMENT_ACCESS: &[u8] = b"gavel/document-access/v1\0";
const SECRETARIAT_SESSION: &[u8] = b"gavel/secretariat-session/v1\0";
const SECRETARIAT_CHALLENGE: &[u8] = b"gavel/secretariat-challenge/v1\0";

/// What a `document_access` token's signature covers.
fn document_access_bytes(meeting: &MeetingId, expires_at: u64) -> Vec<u8> {
    let mut bytes = DOCUMENT_ACCESS.to_vec();
    bytes.extend_from_slice(meeting.as_str().as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&expires_at.to_be_bytes());
    bytes
}

/// A `document_access` token for `meeting`, valid until `expires_at`
/// (Unix ms): the expiry in decimal, a dot, and the signature in hex.
pub fn document_access(key: &SigningKey, meeting: &MeetingId, expires_at: u64) -> String {
    let signature = key.sign(&document_access_bytes(meeting, expires_at));
    format!("{expires_at}.{}", hex::encode(signature.to_bytes()))
}

/// Whether `token` opens `meeting`'s delegates-only documents at `now` (Unix ms).
pub fn document_access_valid(
    key: &VerifyingKey,
    meeting: &MeetingId,
    token: &str,
    now: u64,
) -> bool {
    let Some((expires_at, signature)) = token.split_once('.') else {
        return false;
    };
    let Ok(expires_at) = expires_at.parse::<u64>() else {
        return false;
    };
    let Some(signature) = hex::decode(signature)
        .ok()
        .and_then(|s| <[u8; 64]>::try_from(s).ok())
    else {
        return false;
    };
    expires_at > now
        && key
            .verify_strict(
                &document_access_bytes(meeting, expires_at),
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .is_ok()
}

/// A secretariat session's token for `device`, valid until `expires_at`
/// (Unix ms): the expiry in decimal, the device's key and the signature in
/// hex, separated by dots.
pub fn secretariat_session(key: &SigningKey, device: &PublicKey, expires_at: u64) -> String {
    let signature = key.sign(&session_bytes(device, expires_at));
    format!(
        "{expires_at}.{}.{}",
        device.to_hex(),
        hex::encode(signature.to_bytes())
    )
}

fn session_bytes(device: &PublicKey, expires_at: u64) -> Vec<u8> {
    let mut bytes = SECRETARIAT_SESSION.to_vec();
    bytes.extend_from_slice(device.as_bytes());
    bytes.extend_from_slice(&expires_at.to_be_bytes());
    bytes
}

/// The device whose secretariat session `token` is, if it is valid at
/// `now` (Unix ms), whichever node issued it.
pub fn secretariat_session_valid(key: &VerifyingKey, token: &str, now: u64) -> Option<PublicKey> {
    let mut parts = token.split('.');
    let (Some(expires_at), Some(device), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let expires_at = expires_at.parse::<u64>().ok()?;
    let device = PublicKey::from_hex(device).ok()?;
    let signature = <[u8; 64]>::try_from(hex::decode(signature).ok()?).ok()?;
    (expires_at > now
        && key
            .verify_strict(
                &session_bytes(&device, expires_at),
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .is_ok())
    .then_some(device)
}

/// A login challenge for the secretariat, to be answered before
/// `expires_at` (Unix ms): the expiry (8 bytes), 8 random bytes, and the
/// first 16 bytes of a SHA-256 of both keyed with the server's key.
pub fn secretariat_challenge(key: &SigningKey, expires_at: u64) -> [u8; 32] {
    let mut nonce = [0u8; 32];
    nonce[..8].copy_from_slice(&expires_at.to_be_bytes());
    nonce[8..16].copy_from_slice(&rand::random::<[u8; 8]>());
    let tag = challenge_tag(key, &nonce[..16]);
    nonce[16..].copy_from_slice(&tag[..16]);
    nonce
}

/// The expiry of a challenge that some node of this deployment issued;
/// `None` for any other 32 bytes.
pub fn secretariat_challenge_expiry(key: &SigningKey, nonce: &[u8; 32]) -> Option<u64> {
    let tag = challenge_tag(key, &nonce[..16]);
    (tag[..16] == nonce[16..])
        .then(|| u64::from_be_bytes(nonce[..8].try_into().expect("eight bytes of expiry")))
}

/// SHA-256 over the label, the server's secret key and `issued`, whose
/// length is fixed (so that nothing can be appended to it).
fn challenge_tag(key: &SigningKey, issued: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(SECRETARIAT_CHALLENGE);
    hash.update(key.to_bytes());
    hash.update(issued);
    hash.finalize().into()
}

/// A session's `document_access` tokens: the one it was last sent, and
/// when to send the next.
pub struct DocumentAccess {
    key: std::sync::Arc<SigningKey>,
    meeting: MeetingId,
    /// How long a token lasts: the grace after the session, and two pings.
    lifetime: Duration,
}

impl DocumentAccess {
    /// Tokens for a session of `meeting` that is pinged every `ping` and
    /// whose token is to last `grace` after it ends.
    pub fn new(
        key: std::sync::Arc<SigningKey>,
        meeting: MeetingId,
        grace: Duration,
        ping: Duration,
    ) -> DocumentAccess {
        DocumentAccess {
            key,
            meeting,
            lifetime: grace + 2 * ping,
        }
    }

    /// A token that lasts from now: sent at login and at each ping.
    pub fn token(&self) -> String {
        let expires_at = now_ms() + self.lifetime.as_millis() as u64;
        document_access(&self.key, &self.meeting, expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secretariat_session_and_challenge_hold_on_every_node_of_one_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let stranger = SigningKey::from_bytes(&[8; 32]);
        let device = PublicKey::of(&SigningKey::from_bytes(&[9; 32]));
        let token = secretariat_session(&key, &device, 1_000);
        let public = key.verifying_key();
        assert_eq!(
            secretariat_session_valid(&public, &token, 999),
            Some(device)
        );
        assert_eq!(
            secretariat_session_valid(&public, &token, 1_000),
            None,
            "expired"
        );
        let other = PublicKey::of(&stranger);
        let swapped = token.replacen(&device.to_hex(), &other.to_hex(), 1);
        assert_eq!(
            secretariat_session_valid(&public, &swapped, 0),
            None,
            "another device"
        );
        let forged = secretariat_session(&stranger, &device, 1_000);
        assert_eq!(
            secretariat_session_valid(&public, &forged, 0),
            None,
            "another key's"
        );
        for garbage in ["", "..", "1000.aa.bb", &format!("{token}.x")] {
            assert_eq!(
                secretariat_session_valid(&public, garbage, 0),
                None,
                "{garbage}"
            );
        }

        let nonce = secretariat_challenge(&key, 5_000);
        assert_eq!(secretariat_challenge_expiry(&key, &nonce), Some(5_000));
        assert_ne!(nonce, secretariat_challenge(&key, 5_000), "each one new");
        assert_eq!(secretariat_challenge_expiry(&stranger, &nonce), None);
        let mut later = nonce;
        later[7] ^= 1;
        assert_eq!(
            secretariat_challenge_expiry(&key, &later),
            None,
            "its expiry moved"
        );
    }

    #[test]
    fn a_document_access_token_opens_its_meeting_until_it_expires() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key();
        let meeting = MeetingId::parse("hdnd-2026").unwrap();
        let other = MeetingId::parse("hdnd-2027").unwrap();
        let token = document_access(&key, &meeting, 1_000);
        assert!(document_access_valid(&public, &meeting, &token, 999));
        assert!(
            !document_access_valid(&public, &meeting, &token, 1_000),
            "expired"
        );
        assert!(
            !document_access_valid(&public, &other, &token, 0),
            "another meeting's"
        );
        let later = token.replacen("1000.", "2000.", 1);
        assert!(
            !document_access_valid(&public, &meeting, &later, 0),
            "its expiry moved"
        );
        let stranger = SigningKey::from_bytes(&[8; 32]);
        let forged = document_access(&stranger, &meeting, 1_000);
        assert!(
            !document_access_valid(&public, &meeting, &forged, 0),
            "another key's"
        );
        for garbage in ["", ".", "1000", "1000.zz", &"0".repeat(64)] {
            assert!(
                !document_access_valid(&public, &meeting, garbage, 0),
                "{garbage}"
            );
        }
    }
}
