//! Which text a vote is about.
//!
//! When a round opens, the hub records the SHA-256 of each of its item's
//! documents at its latest version, in the item's order (the meeting file's),
//! and their digest. Every ballot and paper of the round signs the digest, so
//! a delegate's signature proves which versions of the text it was cast on,
//! and a ballot cast on other versions cannot pass for one of this round.
//!
//! The digest is the SHA-256 of `"gavel/documents/v1\0"`, the number of
//! documents (u16, big-endian) and each document's SHA-256 (32 bytes), in
//! order. An item without documents has a digest too: of the tag and a zero
//! count.

use crate::Sha;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const DOCUMENTS_TAG: &[u8] = b"gavel/documents/v1\0";

/// The versions of its item's documents a round records when it opens.
/// Sent to clients in `RoundView`, so unknown fields are ignored: server
/// frames may grow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundDocuments {
    /// Each document's SHA-256, in the item's order.
    pub sha256: Vec<Sha>,
    /// [`digest`] of `sha256`: what every ballot of the round signs.
    pub digest: Sha,
}

impl RoundDocuments {
    /// The record of `sha256`, with its digest.
    pub fn of(sha256: Vec<Sha>) -> RoundDocuments {
        let digest = digest(&sha256);
        RoundDocuments { sha256, digest }
    }

    /// Whether `digest` is the digest of the listed hashes: a record whose
    /// list and digest disagree was changed after the round opened.
    pub fn is_consistent(&self) -> bool {
        digest(&self.sha256) == self.digest
    }
}

/// The digest of a round's documents (see the module's notes).
pub fn digest(sha256: &[Sha]) -> Sha {
    let count = u16::try_from(sha256.len()).expect("an item has fewer than 65536 documents");
    let mut hash = Sha256::new();
    hash.update(DOCUMENTS_TAG);
    hash.update(count.to_be_bytes());
    for sha in sha256 {
        hash.update(sha.0);
    }
    Sha(hash.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_the_count_every_hash_and_their_order() {
        let (a, b) = (Sha::of(b"a"), Sha::of(b"b"));
        let none = digest(&[]);
        assert_eq!(none, Sha::of(b"gavel/documents/v1\0\0\0"));
        let two = digest(&[a, b]);
        assert_ne!(two, digest(&[b, a]));
        assert_ne!(two, digest(&[a]));
        assert_ne!(two, none);
        let record = RoundDocuments::of(vec![a, b]);
        assert!(record.is_consistent());
        let changed = RoundDocuments {
            sha256: vec![a, Sha::of(b"c")],
            ..record
        };
        assert!(!changed.is_consistent());
    }
}
