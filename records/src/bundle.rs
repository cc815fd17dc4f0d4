//! The export bundle: one meeting's whole record in one JSON document,
//! everything `gavel verify` needs and nothing it must fetch.
//!
//! A bundle holds the meeting's definition (the secretary's TOML, verbatim),
//! the public keys bound to its seats and chair, the server's public key,
//! every round with its settings and end, the named rounds' ballots with the
//! delegates' signatures and the server's receipts, the secret rounds' lists
//! of who took part and their choices in shuffled order, the tallies, the
//! audit chain, and the server's signature on the chain's head.
//!
//! A secret round's record never holds a ballot: its `ballots` are empty and
//! its `secret` record has two lists that share no order. A result recorded
//! by hand has no ballots either: its `by_hand` says who recorded it.
//!
//! The bundle lists every version of every document of the agenda items
//! ([`DocumentVersion`]), with its SHA-256 and the SHA-256 of each
//! [`BLOCK_BYTES`] block of it, and each round the versions it was about. The
//! files themselves are not in the bundle; `gavel export --documents` copies
//! them beside it, into `documents/`, each named `<sha256>.pdf`
//! ([`document_file_name`]). The block hashes let `gavel verify` name the
//! block of a copied file that changed without the original at hand.

use crate::chain::{Entry, Sha};
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{ByHand, DocumentKind, RoundStatus};
use gavel_protocol::paper::{Paper, Vote};
use gavel_protocol::results::RoundResult;
use gavel_protocol::{
    Choice, MeetingId, Principal, PublicKey, RoundId, SeatNo, Signature, Tracker, VoteSettings,
};
use serde::{Deserialize, Serialize};

/// The `format` of the bundles this crate writes. `/2` since protocol 4
/// added the documents, the secret rounds' trackers, the counting board's
/// entries and results recorded by hand, none of which a reader of `/1`
/// knows (docs/records.md, "Formats").
pub const FORMAT: &str = "gavel-record/2";

/// Every `format` this crate reads: a `/1` bundle, written before protocol
/// 4, has none of `/2`'s additions and reads and verifies as it always did.
pub const READS: [&str; 2] = ["gavel-record/1", FORMAT];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`FORMAT`] when written; a reader refuses any but [`READS`].
    pub format: String,
    pub meeting: MeetingId,
    /// The meeting definition as the secretary wrote it (TOML).
    pub definition: String,
    /// The key that signed the receipts and the head.
    pub server_key: PublicKey,
    /// The keys bound when the bundle was made, by principal.
    pub keys: Vec<KeyBinding>,
    /// In the order the rounds were opened.
    pub rounds: Vec<Round>,
    /// Every stored version of the agenda items' documents, by item, slot
    /// and version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentVersion>,
    pub chain: Vec<Entry>,
    pub head: Head,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBinding {
    pub principal: Principal,
    pub public_key: PublicKey,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    pub id: RoundId,
    /// 0-based agenda position.
    pub item: u32,
    pub settings: VoteSettings,
    pub opened_at: u64,
    pub deadline: u64,
    /// The versions of the item's documents the round was about, and their
    /// digest, which its ballots sign; absent for a round opened before
    /// rounds recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<RoundDocuments>,
    /// While the chair holds the round (an export taken during a pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<u64>,
    pub status: RoundStatus,
    /// When the round was closed or voided.
    pub closed_at: Option<u64>,
    /// The committed tally (or result on a list) of a closed round.
    pub result: Option<RoundResult>,
    /// A named round's ballots, by seat; always empty for a secret round.
    pub ballots: Vec<NamedBallot>,
    /// What an ended secret round keeps.
    pub secret: Option<SecretRecord>,
    /// A result the secretariat recorded by hand: who, from which device,
    /// when. Such a round has no ballots and no secret record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<ByHand>,
}

/// The size of the blocks a document's [`DocumentVersion::blocks`] hash.
pub const BLOCK_BYTES: usize = 64 * 1024;

/// One stored version of an agenda item's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentVersion {
    /// 0-based agenda position.
    pub item: u32,
    /// The document's place among the item's documents, from 0.
    pub slot: u32,
    pub version: u32,
    pub title: String,
    pub kind: DocumentKind,
    pub public: bool,
    pub sha256: Sha,
    /// Bytes.
    pub size: u64,
    /// When the server stored this version (Unix milliseconds).
    pub stored_at: u64,
    /// The SHA-256 of each [`BLOCK_BYTES`] block of the file, in order (the
    /// last one shorter): what names the changed block of a copy.
    pub blocks: Vec<Sha>,
}

impl DocumentVersion {
    /// The hash of each [`BLOCK_BYTES`] block of `content`.
    pub fn blocks_of(content: &[u8]) -> Vec<Sha> {
        content.chunks(BLOCK_BYTES).map(Sha::of).collect()
    }
}

/// The name of a document's copy in the bundle's `documents/` folder.
pub fn document_file_name(sha256: &Sha) -> String {
    format!("{sha256}.pdf")
}

/// A seat's last ballot in a named round, as signed and as acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedBallot {
    pub seat: SeatNo,
    /// A yes/no/abstain ballot's choice; absent for a paper on a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    /// A paper's kind and marks; absent for a yes/no/abstain ballot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<Paper>,
    pub seq: u64,
    /// Unix milliseconds, as on the receipt.
    pub recorded_at: u64,
    /// The delegate's signature over the ballot (or paper) layout.
    pub signature: Signature,
    /// The server's signature over the receipt (or paper-receipt) layout.
    pub receipt: Signature,
}

impl NamedBallot {
    /// What the ballot says; `None` if it holds neither a choice nor a paper, or both.
    pub fn vote(&self) -> Option<Vote> {
        Vote::from_parts(self.choice, self.paper.as_ref())
    }
}

/// A secret round after its end: who took part, and the choices in an order
/// unrelated to the seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRecord {
    /// Sorted.
    pub participants: Vec<SeatNo>,
    pub choices: Vec<Choice>,
    /// A secret round on a list: its papers, in the choices' order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub papers: Vec<Paper>,
    /// Each choice's (or paper's) tracker, in the same order, ascending:
    /// a delegate finds their ballot by the tracker their device computes
    /// ([`gavel_protocol::Tracker::of`] its ballot's signature).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trackers: Vec<Tracker>,
}

impl SecretRecord {
    /// The vote published under `tracker`, if the list holds it.
    pub fn find(&self, tracker: &Tracker) -> Option<Vote> {
        let at = self.trackers.binary_search(tracker).ok()?;
        self.votes().into_iter().nth(at)
    }

    pub fn votes(&self) -> Vec<Vote> {
        crate::chain::join_votes(&self.choices, &self.papers)
    }
}

/// The server's word for the chain as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub entries: u64,
    pub hash: Sha,
    /// Over the `audit-head` layout, with the server's key.
    pub signature: Signature,
}

/// Why a file is not a bundle at all (as opposed to a bundle that does not verify).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a Gavel record bundle: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the record's format is {found:?}, which this gavel does not know (it reads {}): \
         verify it with the gavel that wrote it, or a newer one",
        READS.join(" and ")
    )]
    Format { found: String },
}

/// A bundle's `format` alone, read before the rest: a newer format's
/// fields are then refused as that format, not as fields this gavel does
/// not know.
#[derive(Deserialize)]
struct Format {
    format: String,
}

impl Bundle {
    /// Parses a bundle of a format in [`READS`], refusing unknown fields.
    pub fn from_json(text: &str) -> Result<Bundle, ReadError> {
        let Format { format } = serde_json::from_str(text)?;
        if !READS.contains(&format.as_str()) {
            return Err(ReadError::Format { found: format });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON: a bundle is read by people too.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("bundles serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle of `format` for a meeting with nothing in it yet, plus `extra`
    /// top-level fields (an RFC 8032 key and signature: read, not verified).
    fn bundle_json(format: &str, extra: &str) -> String {
        format!(
            r#"{{"format": "{format}", "meeting": "m", "definition": "id = \"m\"\n",
              "server_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
              "keys": [], "rounds": [], "chain": [],{extra}
              "head": {{"entries": 0, "hash": "{zero}", "signature": "{signature}"}}}}"#,
            zero = "0".repeat(64),
            signature = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
    }

    #[test]
    fn a_first_format_bundle_reads_as_before_and_a_bundle_is_written_as_the_second() {
        let first = Bundle::from_json(&bundle_json("gavel-record/1", "")).unwrap();
        assert_eq!(first.format, "gavel-record/1");
        let second = Bundle::from_json(&bundle_json(FORMAT, "")).unwrap();
        assert_eq!(
            Bundle {
                format: FORMAT.to_owned(),
                ..first
            },
            second
        );
        assert_eq!(FORMAT, "gavel-record/2");
        assert!(second.to_json().contains(r#""format": "gavel-record/2""#));
    }

    #[test]
    fn an_unknown_format_is_refused_by_its_name_before_its_unknown_fields() {
        let newer = bundle_json("gavel-record/3", r#" "ballot_boxes": [],"#);
        let refused = Bundle::from_json(&newer).unwrap_err();
        assert!(
            matches!(&refused, ReadError::Format { found } if found == "gavel-record/3"),
            "{refused:?}"
        );
        assert_eq!(
            refused.to_string(),
            "the record's format is \"gavel-record/3\", which this gavel does not know (it reads \
             gavel-record/1 and gavel-record/2): verify it with the gavel that wrote it, or a newer one"
        );
        // A known format's unknown field is still refused, as not a record.
        let stray = bundle_json(FORMAT, r#" "ballot_boxes": [],"#);
        assert!(matches!(Bundle::from_json(&stray), Err(ReadError::Json(_))));
        assert!(matches!(Bundle::from_json("{}"), Err(ReadError::Json(_))));
    }
}
