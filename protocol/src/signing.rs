//! The signed byte layouts and Ed25519 keys.
//!
//! Every signed message starts with an ASCII domain-separation tag ending in
//! a NUL byte, so that a signature made for one purpose (say, answering a
//! login challenge) can never be passed off as another (a ballot). Strings are
//! a big-endian `u16` byte length followed by UTF-8; integers are big-endian.
//!
//! | layout  | bytes |
//! |---------|-------|
//! | auth    | `"gavel/auth/v1\0"`, str(meeting), nonce (32), public key (32) |
//! | enroll  | `"gavel/enroll/v1\0"`, str(code), public key (32) |
//! | admin-auth | `"gavel/admin-auth/v1\0"`, nonce (32), public key (32) |
//! | ballot  | `"gavel/ballot/v2\0"`, str(meeting), round id (16), documents digest (32), seat u32, choice u8, seq u64 |
//! | receipt | `"gavel/receipt/v2\0"`, str(meeting), round id (16), documents digest (32), seat u32, choice u8, seq u64, recorded_at_ms u64 |
//! | paper   | `"gavel/paper/v2\0"`, str(meeting), round id (16), documents digest (32), seat u32, seq u64, kind u8, marks u16, marks × (entry u16, mark u8) |
//! | paper-receipt | `"gavel/paper-receipt/v2\0"`, then the paper's fields after its tag, recorded_at_ms u64 |
//!
//! The documents digest is the round's ([`crate::documents`]). A round
//! recorded before version 4 has none: its ballots and papers were signed
//! with the `v1` layouts, the same without the digest, and so were their
//! receipts; `gavel verify` still checks them in such a round's record. The
//! server takes no ballot without a digest.
//! | audit-head | `"gavel/audit-head/v1\0"`, str(meeting), entries u64, head hash (32) |
//!
//! Signatures are checked as `verify_strict` checks them, refusing the
//! malleable and small-order edge cases that plain verification lets through.

use crate::board::Confirmation;
use crate::ids::{hex_bytes, parse_str, with_hex};
use crate::paper::{Mark, PaperKind};
use crate::{Choice, MeetingId, RoundId, SeatNo, Sha};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const AUTH_TAG: &[u8] = b"gavel/auth/v1\0";
pub const ENROLL_TAG: &[u8] = b"gavel/enroll/v1\0";
pub const ADMIN_AUTH_TAG: &[u8] = b"gavel/admin-auth/v1\0";
pub const BALLOT_TAG: &[u8] = b"gavel/ballot/v2\0";
/// The ballot layout before version 4, without the documents digest.
pub const BALLOT_V1_TAG: &[u8] = b"gavel/ballot/v1\0";
pub const RECEIPT_TAG: &[u8] = b"gavel/receipt/v2\0";
/// The receipt layout before version 4, without the documents digest.
pub const RECEIPT_V1_TAG: &[u8] = b"gavel/receipt/v1\0";
pub const AUDIT_HEAD_TAG: &[u8] = b"gavel/audit-head/v1\0";
pub const PAPER_TAG: &[u8] = b"gavel/paper/v2\0";
/// The paper layout before version 4, without the documents digest.
pub const PAPER_V1_TAG: &[u8] = b"gavel/paper/v1\0";
pub const PAPER_RECEIPT_TAG: &[u8] = b"gavel/paper-receipt/v2\0";
/// The paper-receipt layout before version 4, without the documents digest.
pub const PAPER_RECEIPT_V1_TAG: &[u8] = b"gavel/paper-receipt/v1\0";
pub const COUNT_CONFIRMATION_TAG: &[u8] = b"gavel/count-confirmation/v1\0";

/// Why a key or a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("public key must be 64 hex digits of a valid Ed25519 point")]
    BadKey,
    #[error("signature must be 128 hex digits")]
    BadEncoding,
    #[error("signature does not match the signed bytes and the public key")]
    Mismatch,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).expect("signed strings are shorter than 64 KiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The bytes a device signs to answer the server's login challenge.
pub fn auth_bytes(meeting: &MeetingId, nonce: &[u8; 32], key: &PublicKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(AUTH_TAG.len() + 2 + meeting.as_str().len() + 64);
    out.extend_from_slice(AUTH_TAG);
    put_str(&mut out, meeting.as_str());
    out.extend_from_slice(nonce);
    out.extend_from_slice(key.as_bytes());
    out
}

/// The bytes the secretariat's device signs to answer the admin API's login
/// challenge. The secretariat prepares every meeting, so no meeting id is
/// signed; its own tag keeps a delegate's answer to a meeting's challenge
/// from ever passing for the secretariat's, and the other way round.
pub fn admin_auth_bytes(nonce: &[u8; 32], key: &PublicKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(ADMIN_AUTH_TAG.len() + 64);
    out.extend_from_slice(ADMIN_AUTH_TAG);
    out.extend_from_slice(nonce);
    out.extend_from_slice(key.as_bytes());
    out
}

/// The bytes a device signs to prove it holds the key it enrolls with.
pub fn enroll_bytes(code: &str, key: &PublicKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENROLL_TAG.len() + 2 + code.len() + 32);
    out.extend_from_slice(ENROLL_TAG);
    put_str(&mut out, code);
    out.extend_from_slice(key.as_bytes());
    out
}

/// The bytes the server signs to vouch for a meeting's audit chain as
/// exported: how many entries it has and the hash of the last one (32 zero
/// bytes for an empty chain). Whoever holds the signed head can tell a
/// truncated or rewritten chain from the one the server wrote.
pub fn audit_head_bytes(meeting: &MeetingId, entries: u64, head: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(AUDIT_HEAD_TAG.len() + 2 + meeting.as_str().len() + 40);
    out.extend_from_slice(AUDIT_HEAD_TAG);
    put_str(&mut out, meeting.as_str());
    out.extend_from_slice(&entries.to_be_bytes());
    out.extend_from_slice(head);
    out
}

/// What a ballot says: everything the delegate signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotContent<'a> {
    pub meeting: &'a MeetingId,
    pub round: RoundId,
    /// The digest of the round's documents; `None` only in the record of a
    /// round opened before version 4 (the `v1` layout).
    pub documents: Option<Sha>,
    pub seat: SeatNo,
    pub choice: Choice,
    pub seq: u64,
}

impl BallotContent<'_> {
    pub fn signed_bytes(&self) -> Vec<u8> {
        self.fields(BALLOT_TAG, BALLOT_V1_TAG, 0)
    }

    /// The bytes the server signs to give the delegate a receipt for this
    /// ballot: the ballot's fields, then when it was recorded.
    pub fn receipt_bytes(&self, recorded_at_ms: u64) -> Vec<u8> {
        let mut out = self.fields(RECEIPT_TAG, RECEIPT_V1_TAG, 8);
        out.extend_from_slice(&recorded_at_ms.to_be_bytes());
        out
    }

    /// The tag (`tag` with a documents digest, `v1_tag` without), then
    /// everything the ballot says.
    fn fields(&self, tag: &[u8], v1_tag: &[u8], extra: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(tag.len() + 2 + self.meeting.as_str().len() + 61 + extra);
        out.extend_from_slice(match self.documents {
            Some(_) => tag,
            None => v1_tag,
        });
        put_str(&mut out, self.meeting.as_str());
        out.extend_from_slice(&self.round.0);
        if let Some(documents) = self.documents {
            out.extend_from_slice(&documents.0);
        }
        out.extend_from_slice(&self.seat.to_be_bytes());
        out.push(self.choice.code());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out
    }
}

/// What a ballot paper on a list says: everything the delegate signs, once
/// for the whole paper. The marks are signed in the order given; a paper
/// whose marks are not in canonical order ([`crate::paper`]) is refused
/// before its signature is checked, so one paper has one signed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperContent<'a> {
    pub meeting: &'a MeetingId,
    pub round: RoundId,
    /// As a ballot's: `None` only for a round recorded before version 4.
    pub documents: Option<Sha>,
    pub seat: SeatNo,
    pub seq: u64,
    pub kind: PaperKind,
    pub marks: &'a [Mark],
}

impl PaperContent<'_> {
    /// The tag (`tag` with a documents digest, `v1_tag` without), then
    /// everything after it, shared by the paper and its receipt.
    fn fields(&self, tag: &[u8], v1_tag: &[u8], extra: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            tag.len() + 2 + self.meeting.as_str().len() + 63 + 3 * self.marks.len() + extra,
        );
        out.extend_from_slice(match self.documents {
            Some(_) => tag,
            None => v1_tag,
        });
        put_str(&mut out, self.meeting.as_str());
        out.extend_from_slice(&self.round.0);
        if let Some(documents) = self.documents {
            out.extend_from_slice(&documents.0);
        }
        out.extend_from_slice(&self.seat.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.push(self.kind.code());
        let count = u16::try_from(self.marks.len()).expect("a frame holds fewer than 65536 marks");
        out.extend_from_slice(&count.to_be_bytes());
        for m in self.marks {
            out.extend_from_slice(&m.entry.to_be_bytes());
            out.push(m.mark);
        }
        out
    }

    pub fn signed_bytes(&self) -> Vec<u8> {
        self.fields(PAPER_TAG, PAPER_V1_TAG, 0)
    }

    /// The bytes the server signs to give the delegate one receipt for the
    /// whole paper: every mark is in it, so the receipt alone proves what
    /// was recorded.
    pub fn receipt_bytes(&self, recorded_at_ms: u64) -> Vec<u8> {
        let mut out = self.fields(PAPER_RECEIPT_TAG, PAPER_RECEIPT_V1_TAG, 8);
        out.extend_from_slice(&recorded_at_ms.to_be_bytes());
        out
    }
}

impl Confirmation<'_> {
    /// The bytes a board member's device signs to confirm a round's count:
    /// the seat, the turnout and every row of counts, each row prefixed
    /// with its length, so that no two counts share a signed form.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let count = self.count;
        let cells: usize = count.rows.iter().map(|r| 1 + 4 * r.len()).sum();
        let mut out = Vec::with_capacity(
            COUNT_CONFIRMATION_TAG.len() + 2 + self.meeting.as_str().len() + 36 + cells,
        );
        out.extend_from_slice(COUNT_CONFIRMATION_TAG);
        put_str(&mut out, self.meeting.as_str());
        out.extend_from_slice(&self.round.0);
        out.extend_from_slice(&self.seat.to_be_bytes());
        out.extend_from_slice(&count.total_seats.to_be_bytes());
        out.extend_from_slice(&count.present.to_be_bytes());
        out.extend_from_slice(&count.ballots.to_be_bytes());
        let rows = u16::try_from(count.rows.len()).expect("a list has fewer than 65536 entries");
        out.extend_from_slice(&rows.to_be_bytes());
        for row in &count.rows {
            out.push(u8::try_from(row.len()).expect("a row has at most three counts"));
            for n in row {
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        out
    }
}

/// The canonical encodings of the eight points of small order (the curve's
/// 8-torsion), which [`PublicKey::verify`] refuses as a signature's R.
const SMALL_ORDER: [[u8; 32]; 8] = [
    hex32("0100000000000000000000000000000000000000000000000000000000000000"), // the identity
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // order 2
    hex32("0000000000000000000000000000000000000000000000000000000000000000"), // order 4
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// 64 lower-case hex digits as 32 bytes, at compile time.
const fn hex32(digits: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }
    let digits = digits.as_bytes();
    assert!(digits.len() == 64, "64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(digits[2 * i]) << 4) | nibble(digits[2 * i + 1]);
        i += 1;
    }
    out
}

/// An Ed25519 public key, written as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, SignatureError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| SignatureError::BadKey)
    }

    pub fn from_hex(s: &str) -> Result<PublicKey, SignatureError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| SignatureError::BadKey)?;
        PublicKey::from_bytes(&bytes)
    }

    pub fn of(key: &SigningKey) -> PublicKey {
        PublicKey(key.verifying_key())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// Checks `signature` over `message` strictly (see the module's notes):
    /// accepts exactly what `verify_strict` accepts, for less work.
    /// `verify_strict` decompresses the signature's R to refuse a point of
    /// small order, a square root that costs a tenth of the check; but plain
    /// verification only passes if R's bytes equal the canonical encoding of
    /// the point it recomputes, so once it has passed, R is of small order
    /// exactly when its bytes are one of the eight in [`SMALL_ORDER`].
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        if self.0.is_weak() || SMALL_ORDER.contains(signature.0.r_bytes()) {
            return Err(SignatureError::Mismatch);
        }
        self.0
            .verify(message, &signature.0)
            .map_err(|_| SignatureError::Mismatch)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        with_hex(self.as_bytes(), |digits| s.serialize_str(digits))
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, PublicKey::from_hex)
    }
}

/// An Ed25519 signature, written as 128 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(ed25519_dalek::Signature);

impl Signature {
    pub fn from_hex(s: &str) -> Result<Signature, SignatureError> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| SignatureError::BadEncoding)?;
        Ok(Signature(ed25519_dalek::Signature::from_bytes(&bytes)))
    }

    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    pub fn from_bytes(bytes: &[u8; 64]) -> Signature {
        Signature(ed25519_dalek::Signature::from_bytes(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// Signs `message` with `key`.
    pub fn sign(key: &SigningKey, message: &[u8]) -> Signature {
        Signature(key.sign(message))
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        with_hex(&self.to_bytes(), |digits| s.serialize_str(digits))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, Signature::from_hex)
    }
}

hex_bytes! {
    /// A secret ballot's tracker: the first 16 bytes of SHA-256 over
    /// [`Tracker::LABEL`] and the ballot's Ed25519 signature. The server keys
    /// the ballot's choice row with it and the record publishes each secret
    /// round's trackers beside their choices, with no seat. Ed25519 is
    /// deterministic, so the delegate's device (the only other holder of the
    /// signature) computes it again from the ballot it signed, and finds its
    /// ballot in the published list; a resent ballot has the same tracker, a
    /// changed one another.
    Tracker, 16, "tracker"
}

impl Tracker {
    pub const LABEL: &'static [u8] = b"gavel secret choice row";

    pub fn of(signature: &Signature) -> Tracker {
        use sha2::{Digest, Sha256};
        let hash = Sha256::new()
            .chain_update(Self::LABEL)
            .chain_update(signature.to_bytes())
            .finalize();
        Tracker(hash[..16].try_into().expect("SHA-256 is 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_ballot_signature_does_not_verify_for_another_round_documents_seat_or_choice() {
        let meeting = MeetingId::parse("m").unwrap();
        let k = key(1);
        let ballot = BallotContent {
            meeting: &meeting,
            round: RoundId([1; 16]),
            documents: Some(Sha([7; 32])),
            seat: 3,
            choice: Choice::Yes,
            seq: 9,
        };
        let sig = Signature::sign(&k, &ballot.signed_bytes());
        let pk = PublicKey::of(&k);
        assert!(pk.verify(&ballot.signed_bytes(), &sig).is_ok());
        for changed in [
            BallotContent {
                round: RoundId([2; 16]),
                ..ballot.clone()
            },
            BallotContent {
                documents: Some(Sha([8; 32])),
                ..ballot.clone()
            },
            BallotContent {
                documents: None,
                ..ballot.clone()
            },
            BallotContent {
                seat: 4,
                ..ballot.clone()
            },
            BallotContent {
                choice: Choice::No,
                ..ballot.clone()
            },
            BallotContent {
                seq: 10,
                ..ballot.clone()
            },
        ] {
            assert_eq!(
                pk.verify(&changed.signed_bytes(), &sig),
                Err(SignatureError::Mismatch)
            );
        }
        assert!(
            PublicKey::of(&key(2))
                .verify(&ballot.signed_bytes(), &sig)
                .is_err()
        );
    }

    #[test]
    fn a_paper_signature_covers_every_mark_and_the_kind() {
        let meeting = MeetingId::parse("m").unwrap();
        let k = key(1);
        let marks = [Mark { entry: 0, mark: 1 }, Mark { entry: 29, mark: 3 }];
        let paper = PaperContent {
            meeting: &meeting,
            round: RoundId([1; 16]),
            documents: Some(Sha([7; 32])),
            seat: 3,
            seq: 9,
            kind: PaperKind::Rating,
            marks: &marks,
        };
        let sig = Signature::sign(&k, &paper.signed_bytes());
        let pk = PublicKey::of(&k);
        assert!(pk.verify(&paper.signed_bytes(), &sig).is_ok());
        let other_level = [Mark { entry: 0, mark: 1 }, Mark { entry: 29, mark: 2 }];
        let fewer = [Mark { entry: 0, mark: 1 }];
        for changed in [
            PaperContent {
                marks: &other_level,
                ..paper.clone()
            },
            PaperContent {
                marks: &fewer,
                ..paper.clone()
            },
            PaperContent {
                kind: PaperKind::NoConfidence,
                ..paper.clone()
            },
            PaperContent {
                seat: 4,
                ..paper.clone()
            },
            PaperContent {
                documents: Some(Sha([8; 32])),
                ..paper.clone()
            },
        ] {
            assert_eq!(
                pk.verify(&changed.signed_bytes(), &sig),
                Err(SignatureError::Mismatch)
            );
        }
        let receipt = paper.receipt_bytes(7);
        assert!(receipt.starts_with(PAPER_RECEIPT_TAG));
        assert_eq!(
            receipt[PAPER_RECEIPT_TAG.len()..receipt.len() - 8],
            paper.signed_bytes()[PAPER_TAG.len()..]
        );
    }

    #[test]
    fn layouts_are_domain_separated() {
        let meeting = MeetingId::parse("m").unwrap();
        let pk = PublicKey::of(&key(1));
        let auth = auth_bytes(&meeting, &[0; 32], &pk);
        let enroll = enroll_bytes("m", &pk);
        assert!(auth.starts_with(AUTH_TAG));
        assert!(enroll.starts_with(ENROLL_TAG));
        assert_ne!(auth[..AUTH_TAG.len()], enroll[..AUTH_TAG.len()]);
    }

    /// R = the identity and s = k·a pass plain verification, which
    /// `verify_strict` refuses: the forgery the small-order check is for.
    fn with_small_order_r(k: &SigningKey, message: &[u8], r: [u8; 32]) -> Signature {
        use sha2::{Digest, Sha512};
        let mut hash = Sha512::new();
        hash.update(r);
        hash.update(k.verifying_key().as_bytes());
        hash.update(message);
        let challenge = curve25519_dalek::Scalar::from_hash(hash);
        let s = challenge * k.to_scalar();
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&r);
        bytes[32..].copy_from_slice(s.as_bytes());
        Signature::from_bytes(&bytes)
    }

    #[test]
    fn the_small_order_table_is_the_whole_eight_torsion_canonically_encoded() {
        let mut seen = std::collections::HashSet::new();
        for bytes in SMALL_ORDER {
            let point = VerifyingKey::from_bytes(&bytes).expect("a point");
            assert!(point.is_weak(), "{bytes:02x?} is of small order");
            assert_eq!(point.to_edwards().compress().to_bytes(), bytes, "canonical");
            assert!(seen.insert(bytes));
        }
        // The curve has exactly eight points of small order.
        assert_eq!(seen.len(), 8);
    }

    #[test]
    fn verify_accepts_exactly_what_verify_strict_accepts() {
        let message = b"gavel/ballot/v1\0 a ballot";
        for seed in 1..=8u8 {
            let k = key(seed);
            let pk = PublicKey::of(&k);
            let good = Signature::sign(&k, message);
            let mut flipped = good.to_bytes();
            flipped[seed as usize] ^= 1;
            let mut high_s = good.to_bytes();
            high_s[63] |= 0xf0;
            let mut candidates = vec![
                good.clone(),
                Signature::from_bytes(&flipped),
                Signature::from_bytes(&high_s),
            ];
            candidates.extend(SMALL_ORDER.map(|r| with_small_order_r(&k, message, r)));
            for signature in candidates {
                let strict = k
                    .verifying_key()
                    .verify_strict(message, &signature.0)
                    .is_ok();
                assert_eq!(
                    pk.verify(message, &signature).is_ok(),
                    strict,
                    "{signature:?}"
                );
            }
            // The identity as R passes plain verification: the check is not vacuous.
            let forged = with_small_order_r(&k, message, SMALL_ORDER[0]);
            assert!(k.verifying_key().verify(message, &forged.0).is_ok());
            assert_eq!(pk.verify(message, &forged), Err(SignatureError::Mismatch));
        }
        // A key of small order is refused, as `verify_strict` refuses it.
        let weak = PublicKey::from_bytes(&SMALL_ORDER[0]).unwrap();
        let zero = Signature::from_bytes(&{
            let mut b = [0u8; 64];
            b[0] = 1;
            b
        });
        assert!(weak.0.verify(message, &zero.0).is_ok());
        assert_eq!(weak.verify(message, &zero), Err(SignatureError::Mismatch));
    }

    #[test]
    fn keys_and_signatures_round_trip_through_hex() {
        let k = key(5);
        let pk = PublicKey::of(&k);
        assert_eq!(PublicKey::from_hex(&pk.to_hex()), Ok(pk));
        let sig = Signature::sign(&k, b"x");
        assert_eq!(Signature::from_hex(&sig.to_hex()), Ok(sig));
        assert_eq!(PublicKey::from_hex("zz"), Err(SignatureError::BadKey));
        assert_eq!(Signature::from_hex("00"), Err(SignatureError::BadEncoding));
    }
}
