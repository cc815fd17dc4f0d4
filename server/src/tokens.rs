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

use crate::clock::now_ms;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use gavel_protocol::MeetingId;
use std::time::Duration;

/// Whatever else the server's key signs, a token's bytes begin apart.
const DOCUMENT_ACCESS: &[u8] = b"gavel/document-access/v1\0";

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
