//! The audit chain: every change to a meeting, in the order the store
//! committed it, each entry holding the hash of the one before.
//!
//! The hub appends an [`Entry`] in the same transaction as the change it
//! records, so the chain and the tables cannot disagree about what was
//! committed. An entry's hash covers the meeting, the previous entry's hash,
//! its position, its time and its [`Event`]; changing, removing, inserting or
//! reordering an entry therefore breaks every link after it. A chain alone
//! does not prove that nobody rewrote it whole; the server's signature on its
//! head (the `audit-head` layout of `gavel_protocol::signing`) does, for
//! whoever trusts the server's key.
//!
//! In a secret round an accepted ballot is recorded as who took part (seat
//! and sequence number), never what was chosen; the round's choices appear
//! only in its closing entry, in the order the store keeps (unrelated to
//! the seats).

pub use gavel_protocol::Sha;
use gavel_protocol::board::Count;
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::floor::FloorChange;
use gavel_protocol::messages::{ByHand, DocumentKind};
use gavel_protocol::paper::{Paper, Vote};
use gavel_protocol::results::RoundResult;
use gavel_protocol::{
    Choice, MeetingId, Principal, PublicKey, RoundId, SeatNo, Signature, Tracker, VoteSettings,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The domain tag of an entry's hash, as the signed layouts have theirs.
pub const ENTRY_TAG: &[u8] = b"gavel/audit-entry/v1\0";

/// What changed in the meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The secretary's definition was stored (or replaced, before any round).
    MeetingDefined {
        definition_sha256: Sha,
    },
    /// The stored definition was amended: by the secretariat's app (its
    /// header, roster, agenda or lists) or by the chair (a paper's list,
    /// before its round opened). `items` are the agenda items whose
    /// content changed, were added or removed, by their index in the new
    /// definition (a removed one by its old index); a change of the header
    /// or the roster alone leaves it empty. Nothing recorded moves: an item
    /// with a round never changes, and every item the record points at
    /// keeps its place (the server's rules, `meeting::amend`).
    MeetingAmended {
        definition_sha256: Sha,
        by: Amender,
        items: Vec<u32>,
    },
    /// A device key was bound to a principal, by enrollment or the roster.
    KeyRegistered {
        principal: Principal,
        public_key: PublicKey,
    },
    /// A device key was revoked by the secretariat (a lost tablet): from
    /// here on nothing signed with it counts.
    KeyRevoked {
        principal: Principal,
        public_key: PublicKey,
    },
    /// A seat checked in for the first time.
    CheckedIn {
        seat: SeatNo,
    },
    /// The agenda item on the screens changed.
    ItemSet {
        item: Option<u32>,
    },
    RoundOpened {
        round: RoundId,
        item: u32,
        settings: VoteSettings,
        opened_at: u64,
        deadline: u64,
        /// The versions of the item's documents the round is about, and
        /// their digest, which its ballots sign. Absent from a round opened
        /// before rounds recorded them, whose entry is hashed without it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        documents: Option<RoundDocuments>,
    },
    RoundExtended {
        round: RoundId,
        deadline: u64,
    },
    /// The chair held the open round: no ballot is taken until it resumes.
    RoundPaused {
        round: RoundId,
        paused_at: u64,
    },
    /// The chair resumed a held round; its deadline moved by the length of
    /// the pause.
    RoundResumed {
        round: RoundId,
        resumed_at: u64,
        deadline: u64,
    },
    /// One committed batch of ballots of a round.
    BallotsAccepted {
        round: RoundId,
        ballots: Vec<Accepted>,
    },
    /// The round was closed and its tally committed. For a secret round,
    /// `secret_choices` are the choices in the stored order (unrelated to
    /// the seats), and
    /// for a secret round on a list `secret_papers` its papers (the choices
    /// then empty).
    RoundClosed {
        round: RoundId,
        closed_at: u64,
        result: RoundResult,
        secret_choices: Option<Vec<Choice>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_papers: Option<Vec<Paper>>,
        /// A secret round's trackers, one per choice (or paper), in the
        /// same order (ascending): what a delegate looks its ballot up by.
        /// Absent in rounds closed before trackers were published.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_trackers: Option<Vec<Tracker>>,
    },
    RoundVoided {
        round: RoundId,
        voided_at: u64,
    },
    /// The secretariat recorded an item's result by hand (a show of hands
    /// or a paper vote, when the devices failed): a round closed from the
    /// moment it was stored (`by_hand.at`), with no ballots, its result
    /// decided by `settings.rule` from the counts it was given.
    ResultRecordedByHand {
        round: RoundId,
        item: u32,
        settings: VoteSettings,
        /// The versions of the item's documents when it was recorded.
        documents: RoundDocuments,
        result: RoundResult,
        by_hand: ByHand,
    },
    /// A counting board member's device confirmed a provisional round's
    /// count: its signature over the `count_confirmation` layout.
    CountConfirmed {
        round: RoundId,
        seat: SeatNo,
        key: PublicKey,
        count: Count,
        signature: Signature,
        confirmed_at: u64,
    },
    /// The chair announced a provisional round's result once enough of the
    /// board had confirmed it.
    ResultAnnounced {
        round: RoundId,
        announced_at: u64,
    },
    /// A version of an item's document was stored: the first file, or one
    /// replacing it before the item was voted on. `slot` is the document's
    /// place among the item's documents, from 0.
    DocumentStored {
        item: u32,
        slot: u32,
        version: u32,
        title: String,
        /// Not `kind`, which names the event itself.
        document_kind: DocumentKind,
        public: bool,
        sha256: Sha,
        size: u64,
    },
    /// The floor changed: a request, a withdrawal, a reorder, a turn's
    /// start, pause, end or added time.
    Floor {
        change: FloorChange,
    },
    /// The chair closed the session (bế mạc): every round had ended and
    /// been announced, nobody had the floor. Final: nothing that decides,
    /// counts or changes the agenda is recorded after it (see
    /// [`Event::allowed_after_close`]).
    SessionClosed {
        closed_at: u64,
    },
}

impl Event {
    /// The entry's kind, as hashed and as stored in its own column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::MeetingDefined { .. } => "meeting_defined",
            Event::MeetingAmended { .. } => "meeting_amended",
            Event::KeyRegistered { .. } => "key_registered",
            Event::KeyRevoked { .. } => "key_revoked",
            Event::CheckedIn { .. } => "checked_in",
            Event::ItemSet { .. } => "item_set",
            Event::RoundOpened { .. } => "round_opened",
            Event::RoundExtended { .. } => "round_extended",
            Event::RoundPaused { .. } => "round_paused",
            Event::RoundResumed { .. } => "round_resumed",
            Event::BallotsAccepted { .. } => "ballots_accepted",
            Event::RoundClosed { .. } => "round_closed",
            Event::RoundVoided { .. } => "round_voided",
            Event::ResultRecordedByHand { .. } => "result_recorded_by_hand",
            Event::CountConfirmed { .. } => "count_confirmed",
            Event::ResultAnnounced { .. } => "result_announced",
            Event::DocumentStored { .. } => "document_stored",
            Event::Floor { .. } => "floor",
            Event::SessionClosed { .. } => "session_closed",
        }
    }

    /// Whether the event may follow the session's close: a device's key
    /// bound or revoked (a tablet lost on the way home is still revoked),
    /// which changes nothing the session decided. The store refuses every
    /// other write after the close, and `gavel verify` reports one.
    pub fn allowed_after_close(&self) -> bool {
        matches!(self, Event::KeyRegistered { .. } | Event::KeyRevoked { .. })
    }

    /// The event's canonical JSON: serde's output for the type, fields in
    /// declaration order, no spaces. Hashing the typed value rather than
    /// stored text means a verifier hashes exactly what it understood.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("events serialize")
    }
}

/// Who amended a stored definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum Amender {
    /// The secretariat's app, from this enrolled device.
    Secretariat { device: PublicKey },
    /// The chair's console: the meeting has one chair, whose key the chain
    /// binds with `key_registered`.
    Chair,
}

/// A ballot as the chain records it: `choice` (or, for a paper on a list,
/// `paper`) is `None` in a secret round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub seat: SeatNo,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<Paper>,
}

impl Accepted {
    /// The ballot as chained: a named round's vote, or `None` in a secret round.
    pub fn vote(&self) -> Option<Vote> {
        match (&self.choice, &self.paper) {
            (Some(c), _) => Some(Vote::Choice(*c)),
            (None, Some(p)) => Some(Vote::Paper(p.clone())),
            (None, None) => None,
        }
    }
}

/// A secret round's kept votes as the closing entry and the bundle write
/// them: the choices, and the papers of a round on a list.
pub fn split_votes(votes: &[Vote]) -> (Vec<Choice>, Vec<Paper>) {
    let choices = votes.iter().filter_map(Vote::choice).collect();
    let papers = votes.iter().filter_map(Vote::paper).cloned().collect();
    (choices, papers)
}

/// The votes back from [`split_votes`]'s two lists (a round has one kind).
pub fn join_votes(choices: &[Choice], papers: &[Paper]) -> Vec<Vote> {
    choices
        .iter()
        .map(|c| Vote::Choice(*c))
        .chain(papers.iter().cloned().map(Vote::Paper))
        .collect()
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the meeting's chain, from 0.
    pub seq: u64,
    /// When the store committed it, Unix milliseconds (the server's clock).
    pub at: u64,
    pub prev: Sha,
    pub hash: Sha,
    pub event: Event,
}

impl Entry {
    /// The entry that follows `prev` (the last entry, `None` for the first).
    pub fn next(meeting: &MeetingId, prev: Option<(u64, Sha)>, at: u64, event: Event) -> Entry {
        let (seq, prev) = match prev {
            Some((seq, hash)) => (seq + 1, hash),
            None => (0, Sha::ZERO),
        };
        Entry {
            seq,
            at,
            prev,
            hash: entry_hash(meeting, &prev, seq, at, &event),
            event,
        }
    }
}

/// SHA-256 of the tag, str(meeting), the previous hash, seq and at (u64
/// big-endian), str(kind) and the event's canonical JSON (u32 big-endian
/// length, then the bytes): the same framing as the signed layouts.
pub fn entry_hash(meeting: &MeetingId, prev: &Sha, seq: u64, at: u64, event: &Event) -> Sha {
    let body = event.canonical_json();
    let mut h = Sha256::new();
    h.update(ENTRY_TAG);
    put_str(&mut h, meeting.as_str());
    h.update(prev.0);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    put_str(&mut h, event.kind());
    let len = u32::try_from(body.len()).expect("an event is shorter than 4 GiB");
    h.update(len.to_be_bytes());
    h.update(body.as_bytes());
    Sha(h.finalize().into())
}

fn put_str(h: &mut Sha256, s: &str) {
    let len = u16::try_from(s.len()).expect("hashed strings are shorter than 64 KiB");
    h.update(len.to_be_bytes());
    h.update(s.as_bytes());
}

/// Why a chain's links do not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "audit entry at position {position} says it is entry {seq}: entries are missing, added or reordered"
    )]
    Position { position: u64, seq: u64 },
    #[error(
        "audit entry {seq} does not link to the entry before it (prev {prev}, expected {expected})"
    )]
    Link { seq: u64, prev: Sha, expected: Sha },
    #[error(
        "audit entry {seq} ({kind}) has been altered: its hash is {stated}, its content hashes to {computed}"
    )]
    Hash {
        seq: u64,
        kind: &'static str,
        stated: Sha,
        computed: Sha,
    },
}

/// Checks every position, link and hash; one error per broken entry.
pub fn check_links(meeting: &MeetingId, entries: &[Entry]) -> Vec<LinkError> {
    let mut errors = Vec::new();
    let mut expected_prev = Sha::ZERO;
    for (position, e) in (0u64..).zip(entries) {
        if e.seq != position {
            errors.push(LinkError::Position {
                position,
                seq: e.seq,
            });
        }
        if e.prev != expected_prev {
            errors.push(LinkError::Link {
                seq: e.seq,
                prev: e.prev,
                expected: expected_prev,
            });
        }
        let computed = entry_hash(meeting, &e.prev, e.seq, e.at, &e.event);
        if computed != e.hash {
            errors.push(LinkError::Hash {
                seq: e.seq,
                kind: e.event.kind(),
                stated: e.hash,
                computed,
            });
        }
        expected_prev = e.hash;
    }
    errors
}

/// The chain's head: its length and its last hash (zero when empty).
pub fn head(entries: &[Entry]) -> (u64, Sha) {
    (
        entries.len() as u64,
        entries.last().map_or(Sha::ZERO, |e| e.hash),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting() -> MeetingId {
        MeetingId::parse("m").unwrap()
    }

    fn chain() -> Vec<Entry> {
        let m = meeting();
        let a = Entry::next(&m, None, 1, Event::CheckedIn { seat: 1 });
        let b = Entry::next(&m, Some((a.seq, a.hash)), 2, Event::CheckedIn { seat: 2 });
        let c = Entry::next(
            &m,
            Some((b.seq, b.hash)),
            3,
            Event::ItemSet { item: Some(0) },
        );
        vec![a, b, c]
    }

    #[test]
    fn a_chain_built_with_next_checks() {
        assert_eq!(check_links(&meeting(), &chain()), vec![]);
    }

    #[test]
    fn changed_removed_and_reordered_entries_are_found() {
        let mut changed = chain();
        changed[1].event = Event::CheckedIn { seat: 3 };
        assert!(matches!(
            check_links(&meeting(), &changed)[..],
            [LinkError::Hash { seq: 1, .. }]
        ));

        let mut removed = chain();
        removed.remove(1);
        let errors = check_links(&meeting(), &removed);
        assert!(errors.contains(&LinkError::Position {
            position: 1,
            seq: 2
        }));
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, LinkError::Link { seq: 2, .. }))
        );

        let mut reordered = chain();
        reordered.swap(0, 1);
        assert!(!check_links(&meeting(), &reordered).is_empty());
    }

    #[test]
    fn the_hash_covers_the_meeting() {
        let other = MeetingId::parse("n").unwrap();
        assert!(!check_links(&other, &chain()).is_empty());
    }

    #[test]
    fn a_secret_ballot_entry_has_no_choice_field() {
        let e = Event::BallotsAccepted {
            round: RoundId([1; 16]),
            ballots: vec![Accepted {
                paper: None,
                seat: 4,
                seq: 0,
                choice: None,
            }],
        };
        let json = e.canonical_json();
        assert!(!json.contains("choice"), "{json}");
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }
}
