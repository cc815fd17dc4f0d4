//! `gavel verify`: checks a bundle with nothing but the bundle.
//!
//! [`verify`] re-checks every delegate's signature and every receipt with the
//! protocol's signed layouts, recomputes every tally with the protocol's
//! rules, checks the audit chain's links and hashes and the server's
//! signature on its head, and checks that the chain tells the same story as
//! the rounds, ballots and keys beside it. It does not stop at the first
//! problem: it returns every [`Mismatch`], each naming the round, seat or
//! entry concerned, so that whoever checks a record learns all that is wrong
//! with it at once.
//!
//! Each round's documents digest is recomputed from its list of versions,
//! every version it lists must be one of the bundle's documents of its item,
//! and every named ballot's signature is checked over that digest: a ballot
//! signed on another text does not verify. [`verify_documents`] checks the
//! copies of the documents beside the bundle against their hashes.
//!
//! What a clean result proves: the ballots were signed by the keys the chain
//! registered for their seats, on the texts their rounds name, the server
//! acknowledged them, the tallies
//! follow from the ballots by the rules each round was opened with, every
//! secret result announced was first confirmed by as many members of the
//! counting board (as the definition names it) as it requires, and the
//! record is the one the server vouched for. What it cannot prove: that the
//! server's key is the hall's (compare it with the one the tablets pinned),
//! or that the server did not refuse ballots it should have accepted.

use crate::bundle::{BLOCK_BYTES, Bundle, DocumentVersion, NamedBallot, Round, document_file_name};
use crate::chain::{self, Accepted, Entry, Event, LinkError, Sha};
use gavel_protocol::board::{Confirmation, Count};
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{ByHand, DocumentKind, RoundStatus};
use gavel_protocol::paper::{Paper, Vote};
use gavel_protocol::results::{PaperResult, RoundResult};
use gavel_protocol::rules::{Secrecy, TallyResult};
use gavel_protocol::signing::{BallotContent, audit_head_bytes};
use gavel_protocol::{Counts, Principal, PublicKey, RoundId, SeatNo, Tracker, VoteSettings};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One thing in a bundle that is not as it must be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Mismatch {
    #[error("{0}")]
    Chain(#[from] LinkError),
    #[error(
        "the server's signature on the audit head does not verify with the bundle's server key"
    )]
    HeadSignature,
    #[error(
        "the signed audit head says {signed_entries} entries ending in {signed_hash}, but the chain has {entries} ending in {hash}"
    )]
    HeadDiffers {
        signed_entries: u64,
        signed_hash: Sha,
        entries: u64,
        hash: Sha,
    },
    #[error(
        "the meeting definition's SHA-256 is {found}, but the chain's last definition is {chained}"
    )]
    Definition { found: Sha, chained: Sha },
    #[error("{principal}'s key {} is not the key the chain last registered for it ({chained})", key.to_hex())]
    KeyNotChained {
        principal: Principal,
        key: PublicKey,
        chained: String,
    },
    #[error("the chain registered key {} for {principal}, but the bundle's keys do not list it", key.to_hex())]
    KeyMissing {
        principal: Principal,
        key: PublicKey,
    },
    #[error("round {round} is in the bundle but the chain never opened it")]
    RoundNotChained { round: RoundId },
    #[error("round {round} was opened in the chain but is missing from the bundle")]
    RoundMissing { round: RoundId },
    #[error("round {round}: its {field} differs from the chain's record of its opening")]
    RoundOpening { round: RoundId, field: &'static str },
    #[error("round {round}: the bundle says it is {status:?} but the chain says {chained}")]
    RoundEnd {
        round: RoundId,
        status: RoundStatus,
        chained: &'static str,
    },
    #[error("round {round}: the deadline {deadline} is not the last one the chain set ({chained})")]
    Deadline {
        round: RoundId,
        deadline: u64,
        chained: u64,
    },
    #[error(
        "round {round}: the bundle says it is paused since {paused_at:?} but the chain says {chained:?}"
    )]
    Paused {
        round: RoundId,
        paused_at: Option<u64>,
        chained: Option<u64>,
    },
    #[error("round {round}, seat {seat}: no key was registered for this seat before its ballot")]
    SeatKeyUnknown { round: RoundId, seat: SeatNo },
    #[error(
        "round {round}, seat {seat}: the ballot's signature ({vote}, seq {seq}) does not verify with the seat's key over {documents}"
    )]
    BallotSignature {
        round: RoundId,
        seat: SeatNo,
        vote: String,
        seq: u64,
        /// Which documents digest the signature was checked over.
        documents: String,
    },
    #[error(
        "round {round}: its documents digest is {stated}, but the digest of its list of versions is {computed}"
    )]
    RoundDocumentsDigest {
        round: RoundId,
        stated: Sha,
        computed: Sha,
    },
    #[error(
        "round {round}: it lists the versions [{listed}], but when it opened item {item}'s latest versions in the chain were [{latest}]"
    )]
    RoundDocumentsNotLatest {
        round: RoundId,
        item: u32,
        listed: String,
        latest: String,
    },
    #[error(
        "round {round}: it was about document version {sha256}, which the bundle does not list among item {item}'s documents"
    )]
    RoundDocumentUnlisted {
        round: RoundId,
        item: u32,
        sha256: Sha,
    },
    #[error(
        "document version {version} of item {item} (slot {slot}, {sha256}) is not what the chain recorded as stored"
    )]
    DocumentNotChained {
        item: u32,
        slot: u32,
        version: u32,
        sha256: Sha,
    },
    #[error(
        "the chain stored version {version} of item {item}'s document (slot {slot}), which the bundle does not list"
    )]
    DocumentMissing { item: u32, slot: u32, version: u32 },
    #[error("document file {}: {problem}", file.display())]
    DocumentFile { file: PathBuf, problem: String },
    #[error("round {round}, seat {seat}: the ballot holds neither a choice nor a paper, or both")]
    BallotUnreadable { round: RoundId, seat: SeatNo },
    #[error("round {round}, seat {seat}: the receipt does not verify with the server's key")]
    ReceiptSignature { round: RoundId, seat: SeatNo },
    #[error(
        "round {round}, seat {seat}: the ballot ({vote}, seq {seq}) is not the seat's last ballot in the chain ({chained})"
    )]
    BallotNotChained {
        round: RoundId,
        seat: SeatNo,
        vote: String,
        seq: u64,
        chained: String,
    },
    #[error(
        "round {round}, seat {seat}: the chain accepted a ballot that the bundle does not hold"
    )]
    BallotMissing { round: RoundId, seat: SeatNo },
    #[error("round {round}, seat {seat}: more than one ballot for the seat")]
    BallotTwice { round: RoundId, seat: SeatNo },
    #[error(
        "round {round} is secret but the bundle holds named ballots for it, linking seats to choices"
    )]
    SecretBallotsExposed { round: RoundId },
    #[error("round {round} is secret and has ended, but the bundle has no record of who took part")]
    SecretRecordMissing { round: RoundId },
    #[error("round {round} is named but the bundle gives it a secret record")]
    SecretRecordOnNamedRound { round: RoundId },
    #[error(
        "round {round}: the secret round's participants {found:?} are not those the chain accepted ballots from {chained:?}"
    )]
    SecretParticipants {
        round: RoundId,
        found: Vec<SeatNo>,
        chained: Vec<SeatNo>,
    },
    #[error("round {round}: the secret round's choices are not those of the chain's closing entry")]
    SecretChoices { round: RoundId },
    #[error(
        "round {round}: the published trackers are not one per choice in ascending order, or not those of the chain's closing entry"
    )]
    SecretTrackers { round: RoundId },
    #[error("round {round}: {count} choices for {participants} participants")]
    SecretCount {
        round: RoundId,
        count: usize,
        participants: usize,
    },
    #[error("round {round} is closed but has no tally")]
    TallyMissing { round: RoundId },
    #[error("round {round} has a tally but is not closed")]
    TallyOnUnclosed { round: RoundId },
    #[error("round {round}: the tally says yes/no/abstain {stated}, the ballots count {counted}")]
    TallyCounts {
        round: RoundId,
        stated: String,
        counted: String,
    },
    #[error(
        "round {round}: the tally's present count is {stated}, but {checked_in} seats had checked in before it closed"
    )]
    TallyPresent {
        round: RoundId,
        stated: u32,
        checked_in: u32,
    },
    #[error(
        "round {round}: the tally's rule or decision is not what the round's rule gives for its counts (stated {stated}, recomputed {recomputed})"
    )]
    TallyDecision {
        round: RoundId,
        stated: String,
        recomputed: String,
    },
    #[error("round {round}: the tally differs from the one committed in the chain")]
    TallyNotChained { round: RoundId },
    #[error("round {round}: a paper does not fit the list the result counts: {problem}")]
    PaperInvalid { round: RoundId, problem: String },
    #[error("round {round}: the result states {stated} papers, the record holds {counted}")]
    PaperCount {
        round: RoundId,
        stated: u32,
        counted: usize,
    },
    #[error(
        "round {round}: the result on the list is not what its papers give under the round's rule"
    )]
    PaperResult { round: RoundId },
    #[error(
        "round {round}: seat {seat}'s confirmation of the count is not signed by a key the chain registered for the seat"
    )]
    ConfirmationSignature { round: RoundId, seat: SeatNo },
    #[error(
        "round {round}: seat {seat} confirmed a count that is not the result the round closed with"
    )]
    ConfirmationCount { round: RoundId, seat: SeatNo },
    #[error("round {round}: a confirmation or announcement for a round that was not closed first")]
    ConfirmationOrder { round: RoundId },
    #[error(
        "the meeting definition's [counting_board] cannot be read, so the board's confirmations cannot be checked: {problem}"
    )]
    BoardUnreadable { problem: String },
    #[error(
        "round {round}: seat {seat} confirmed the count but is not on the meeting's counting board"
    )]
    ConfirmationOffBoard { round: RoundId, seat: SeatNo },
    #[error(
        "round {round}: seat {seat} confirmed the count more than once; a member's confirmation counts once"
    )]
    ConfirmationTwice { round: RoundId, seat: SeatNo },
    #[error("round {round}: seat {seat} confirmed the count after the result was announced")]
    ConfirmationAfterAnnouncement { round: RoundId, seat: SeatNo },
    #[error(
        "round {round}: a named round's count was confirmed or announced; the counting board confirms secret rounds only"
    )]
    BoardOnNamedRound { round: RoundId },
    #[error(
        "round {round}: its result was announced, but the meeting has no counting board to confirm it"
    )]
    AnnouncedWithoutBoard { round: RoundId },
    #[error(
        "round {round}: the result was announced after {confirmed} valid confirmations of the counting board; the meeting requires {required}"
    )]
    AnnouncedEarly {
        round: RoundId,
        confirmed: u32,
        required: u32,
    },
    #[error("round {round}: the result was announced more than once")]
    AnnouncedTwice { round: RoundId },
    #[error(
        "round {round}: the bundle says it was recorded by hand {stated}, but the chain says {chained}"
    )]
    ByHandNotChained {
        round: RoundId,
        stated: String,
        chained: String,
    },
    #[error("round {round} was recorded by hand, yet the bundle holds ballots for it")]
    BallotsOnHandCount { round: RoundId },
    #[error("round {round}: the counts recorded by hand are impossible: {problem}")]
    HandCountImpossible { round: RoundId, problem: String },
    #[error("entry {seq}: the session was closed while round {round} was still open")]
    ClosedDuringRound { seq: u64, round: RoundId },
    #[error(
        "entry {seq}: the session was closed before the result of secret round {round} was announced"
    )]
    ClosedBeforeAnnouncement { seq: u64, round: RoundId },
    #[error("entry {seq}: the session was closed a second time")]
    ClosedTwice { seq: u64 },
    #[error(
        "entry {seq} ({kind}) was recorded after the session closed; only device keys may change then"
    )]
    AfterClose { seq: u64, kind: &'static str },
}

/// A vote in a few words, for a mismatch's message or a tracker found.
pub fn describe(vote: &Vote) -> String {
    match vote {
        Vote::Choice(c) => c.to_string(),
        Vote::Paper(p) => format!("{} paper of {} marks", p.kind.as_str(), p.marks.len()),
    }
}

/// Everything wrong with `bundle`; empty when it verifies.
pub fn verify(bundle: &Bundle) -> Vec<Mismatch> {
    let mut out: Vec<Mismatch> = chain::check_links(&bundle.meeting, &bundle.chain)
        .into_iter()
        .map(Mismatch::from)
        .collect();
    check_head(bundle, &mut out);
    let story = Story::read(&bundle.chain);
    check_definition(bundle, &story, &mut out);
    check_keys(bundle, &story, &mut out);
    check_document_list(bundle, &story, &mut out);
    for round in &bundle.rounds {
        check_round(bundle, round, &story, &mut out);
    }
    check_confirmations(bundle, &story, &mut out);
    check_session_close(bundle, &story, &mut out);
    let in_bundle: BTreeSet<RoundId> = bundle.rounds.iter().map(|r| r.id).collect();
    for id in story.rounds.keys() {
        if !in_bundle.contains(id) {
            out.push(Mismatch::RoundMissing { round: *id });
        }
    }
    out
}

/// The bundle's list of document versions is the chain's: every version
/// the chain stored, each as stored.
fn check_document_list(bundle: &Bundle, story: &Story, out: &mut Vec<Mismatch>) {
    for d in &bundle.documents {
        if !story.documents.contains(&StoredVersion::of(d)) {
            out.push(Mismatch::DocumentNotChained {
                item: d.item,
                slot: d.slot,
                version: d.version,
                sha256: d.sha256,
            });
        }
    }
    for stored in &story.documents {
        if !bundle
            .documents
            .iter()
            .any(|l| (l.item, l.slot, l.version) == (stored.item, stored.slot, stored.version))
        {
            out.push(Mismatch::DocumentMissing {
                item: stored.item,
                slot: stored.slot,
                version: stored.version,
            });
        }
    }
}

/// A round's documents: the same as the chain's record of its opening, a
/// digest that is the digest of its list, and each listed version one of
/// the bundle's documents of the round's item.
fn check_round_documents(
    bundle: &Bundle,
    round: &Round,
    chained: &ChainedRound,
    out: &mut Vec<Mismatch>,
) {
    let id = round.id;
    if round.documents != chained.documents {
        out.push(Mismatch::RoundOpening {
            round: id,
            field: "documents",
        });
    }
    let Some(documents) = &round.documents else {
        return;
    };
    if documents.sha256 != chained.latest_documents {
        let hex = |list: &[Sha]| list.iter().map(Sha::to_hex).collect::<Vec<_>>().join(", ");
        out.push(Mismatch::RoundDocumentsNotLatest {
            round: id,
            item: round.item,
            listed: hex(&documents.sha256),
            latest: hex(&chained.latest_documents),
        });
    }
    if !documents.is_consistent() {
        out.push(Mismatch::RoundDocumentsDigest {
            round: id,
            stated: documents.digest,
            computed: RoundDocuments::of(documents.sha256.clone()).digest,
        });
    }
    for sha256 in &documents.sha256 {
        let listed = bundle
            .documents
            .iter()
            .any(|d| d.item == round.item && d.sha256 == *sha256);
        if !listed {
            out.push(Mismatch::RoundDocumentUnlisted {
                round: id,
                item: round.item,
                sha256: *sha256,
            });
        }
    }
}

/// Checks the copies of the bundle's documents in `folder` (the
/// `documents/` folder beside the bundle): each file named by a listed
/// version's hash must have that hash. A changed file is named with its
/// hash and the record's, and, by the record's block hashes, the first
/// [`BLOCK_BYTES`] block that differs. Versions without a copy are not
/// checked; returns how many copies were, and every mismatch.
pub fn verify_documents(bundle: &Bundle, folder: &Path) -> (usize, Vec<Mismatch>) {
    let mut checked = 0;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for d in &bundle.documents {
        if !seen.insert(d.sha256) {
            continue;
        }
        let file = folder.join(document_file_name(&d.sha256));
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                out.push(Mismatch::DocumentFile {
                    file,
                    problem: format!("cannot be read: {e}"),
                });
                continue;
            }
        };
        checked += 1;
        let found = Sha::of(&bytes);
        if found != d.sha256 {
            out.push(Mismatch::DocumentFile {
                problem: changed_file(d, &bytes, found),
                file,
            });
        }
    }
    (checked, out)
}

/// What differs in a copy whose hash is `found`, in words.
fn changed_file(d: &DocumentVersion, bytes: &[u8], found: Sha) -> String {
    let mut problem = format!(
        "its SHA-256 is {found}, the record says {} (item {}, version {} of \"{}\")",
        d.sha256, d.item, d.version, d.title
    );
    let size = bytes.len() as u64;
    if size != d.size {
        problem.push_str(&format!("; it has {size} bytes, the record {}", d.size));
    }
    let blocks = DocumentVersion::blocks_of(bytes);
    let first = (0..blocks.len().max(d.blocks.len())).find(|i| blocks.get(*i) != d.blocks.get(*i));
    if let Some(i) = first {
        let start = i * BLOCK_BYTES;
        let end = (start + BLOCK_BYTES).min(bytes.len().max(d.size as usize)) - 1;
        problem.push_str(&format!(
            "; the first changed byte is in bytes {start}–{end} (block {i} of {})",
            d.blocks.len()
        ));
    }
    problem
}

/// The meeting's counting board, as its definition names it.
struct Board {
    seats: Vec<SeatNo>,
    /// How many members must confirm before the chair may announce.
    required: u32,
}

impl Board {
    /// The `[counting_board]` of the definition `toml`, `None` when it
    /// names none; the rest of the definition is not read here.
    fn of(toml: &str) -> Result<Option<Board>, String> {
        #[derive(serde::Deserialize)]
        struct Definition {
            counting_board: Option<RawBoard>,
        }
        #[derive(serde::Deserialize)]
        struct RawBoard {
            seats: Vec<SeatNo>,
            confirmations: Option<u32>,
        }
        let definition: Definition = toml::from_str(toml).map_err(|e| e.message().to_owned())?;
        Ok(definition.counting_board.map(|raw| Board {
            required: raw.confirmations.unwrap_or(raw.seats.len() as u32),
            seats: raw.seats,
        }))
    }
}

/// What the board did about one round so far, in chain order.
#[derive(Default)]
struct BoardRecord {
    /// The members whose confirmation counts: on the board, of the closed
    /// count, signed by the seat's key, before the announcement, once.
    confirmed: BTreeSet<SeatNo>,
    /// Every seat that confirmed, valid or not: a second confirmation of a
    /// seat is caught even when the first was not valid.
    seen: BTreeSet<SeatNo>,
    announced: bool,
}

/// Each counting board confirmation in the chain: after its round's close,
/// of a secret round, from a seat on the meeting's board, once per seat, of
/// the count the close computed, signed by a key the chain registered for
/// the member's seat, before the result was announced; and each
/// announcement: once, of a secret round of a meeting with a board, after
/// its close and after as many valid confirmations as the board requires.
///
/// A seat's second confirmation is a mismatch rather than ignored: the hub
/// refuses it (`already_confirmed`), so a chain that holds one was not
/// written by a hub that kept the rules, and one member's device must never
/// stand for two. It is not counted towards the announcement either.
fn check_confirmations(bundle: &Bundle, story: &Story, out: &mut Vec<Mismatch>) {
    let acts = bundle.chain.iter().any(|e| {
        matches!(
            e.event,
            Event::CountConfirmed { .. } | Event::ResultAnnounced { .. }
        )
    });
    if !acts {
        return;
    }
    let board = match Board::of(&bundle.definition) {
        Ok(board) => board,
        Err(problem) => {
            out.push(Mismatch::BoardUnreadable { problem });
            return;
        }
    };
    let members: &[SeatNo] = board.as_ref().map_or(&[], |b| &b.seats);
    let secret = |round: &RoundId| {
        story
            .rounds
            .get(round)
            .is_some_and(|r| r.settings.secrecy == Secrecy::Secret)
    };
    let mut closed: BTreeMap<RoundId, &RoundResult> = BTreeMap::new();
    let mut records: BTreeMap<RoundId, BoardRecord> = BTreeMap::new();
    for entry in &bundle.chain {
        match &entry.event {
            Event::RoundClosed { round, result, .. } => {
                closed.insert(*round, result);
            }
            Event::CountConfirmed {
                round,
                seat,
                key,
                count,
                signature,
                ..
            } => {
                let Some(result) = closed.get(round) else {
                    out.push(Mismatch::ConfirmationOrder { round: *round });
                    continue;
                };
                let (round, seat) = (*round, *seat);
                let before = out.len();
                if !secret(&round) {
                    out.push(Mismatch::BoardOnNamedRound { round });
                }
                if !members.contains(&seat) {
                    out.push(Mismatch::ConfirmationOffBoard { round, seat });
                }
                let record = records.entry(round).or_default();
                if !record.seen.insert(seat) {
                    out.push(Mismatch::ConfirmationTwice { round, seat });
                }
                if record.announced {
                    out.push(Mismatch::ConfirmationAfterAnnouncement { round, seat });
                }
                if *count != Count::of(result) {
                    out.push(Mismatch::ConfirmationCount { round, seat });
                }
                let signed = Confirmation {
                    meeting: &bundle.meeting,
                    round,
                    seat,
                    count,
                }
                .signed_bytes();
                let seat_key = story
                    .seat_keys
                    .get(&seat)
                    .is_some_and(|keys| keys.contains(key));
                if !seat_key || key.verify(&signed, signature).is_err() {
                    out.push(Mismatch::ConfirmationSignature { round, seat });
                }
                if out.len() == before {
                    record.confirmed.insert(seat);
                }
            }
            Event::ResultAnnounced { round, .. } => {
                let round = *round;
                if !closed.contains_key(&round) {
                    out.push(Mismatch::ConfirmationOrder { round });
                    continue;
                }
                if !secret(&round) {
                    out.push(Mismatch::BoardOnNamedRound { round });
                }
                let record = records.entry(round).or_default();
                if std::mem::replace(&mut record.announced, true) {
                    out.push(Mismatch::AnnouncedTwice { round });
                }
                match &board {
                    None => out.push(Mismatch::AnnouncedWithoutBoard { round }),
                    Some(board) => {
                        let confirmed = record.confirmed.len() as u32;
                        if confirmed < board.required {
                            out.push(Mismatch::AnnouncedEarly {
                                round,
                                confirmed,
                                required: board.required,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// The session's close, if the chain has one: once, when no round was
/// open and every secret round the counting board confirms had been
/// announced, and followed by nothing but what
/// [`Event::allowed_after_close`] allows. The hub refuses the rest, so a
/// chain that holds it was not written by a hub that kept the rules.
fn check_session_close(bundle: &Bundle, story: &Story, out: &mut Vec<Mismatch>) {
    // An unreadable board is reported by `check_confirmations` when it matters.
    let board = Board::of(&bundle.definition).ok().flatten();
    let mut open: BTreeSet<RoundId> = BTreeSet::new();
    let mut unannounced: BTreeSet<RoundId> = BTreeSet::new();
    let mut closed = false;
    for entry in &bundle.chain {
        match &entry.event {
            _ if closed && !entry.event.allowed_after_close() => {
                let (seq, kind) = (entry.seq, entry.event.kind());
                out.push(if kind == "session_closed" {
                    Mismatch::ClosedTwice { seq }
                } else {
                    Mismatch::AfterClose { seq, kind }
                });
            }
            Event::RoundOpened { round, .. } => {
                open.insert(*round);
            }
            Event::RoundVoided { round, .. } => {
                open.remove(round);
            }
            Event::RoundClosed { round, .. } => {
                open.remove(round);
                let secret = story
                    .rounds
                    .get(round)
                    .is_some_and(|r| r.settings.secrecy == Secrecy::Secret);
                if secret && board.is_some() {
                    unannounced.insert(*round);
                }
            }
            Event::ResultAnnounced { round, .. } => {
                unannounced.remove(round);
            }
            Event::SessionClosed { .. } => {
                closed = true;
                let seq = entry.seq;
                out.extend(
                    open.iter()
                        .map(|&round| Mismatch::ClosedDuringRound { seq, round }),
                );
                out.extend(
                    unannounced
                        .iter()
                        .map(|&round| Mismatch::ClosedBeforeAnnouncement { seq, round }),
                );
            }
            _ => {}
        }
    }
}

fn check_head(bundle: &Bundle, out: &mut Vec<Mismatch>) {
    let head = &bundle.head;
    let signed = audit_head_bytes(&bundle.meeting, head.entries, &head.hash.0);
    if bundle.server_key.verify(&signed, &head.signature).is_err() {
        out.push(Mismatch::HeadSignature);
    }
    let (entries, hash) = chain::head(&bundle.chain);
    if (entries, hash) != (head.entries, head.hash) {
        out.push(Mismatch::HeadDiffers {
            signed_entries: head.entries,
            signed_hash: head.hash,
            entries,
            hash,
        });
    }
}

fn check_definition(bundle: &Bundle, story: &Story, out: &mut Vec<Mismatch>) {
    let found = Sha::of(bundle.definition.as_bytes());
    if let Some(chained) = story.definition
        && chained != found
    {
        out.push(Mismatch::Definition { found, chained });
    }
}

fn check_keys(bundle: &Bundle, story: &Story, out: &mut Vec<Mismatch>) {
    let listed: BTreeMap<Principal, PublicKey> = bundle
        .keys
        .iter()
        .map(|k| (k.principal, k.public_key))
        .collect();
    for (principal, key) in &listed {
        let chained = story.current_keys.get(principal);
        if chained != Some(key) {
            out.push(Mismatch::KeyNotChained {
                principal: *principal,
                key: *key,
                chained: chained.map_or_else(|| "none".to_owned(), PublicKey::to_hex),
            });
        }
    }
    for (principal, key) in &story.current_keys {
        if !listed.contains_key(principal) {
            out.push(Mismatch::KeyMissing {
                principal: *principal,
                key: *key,
            });
        }
    }
}

fn check_round(bundle: &Bundle, round: &Round, story: &Story, out: &mut Vec<Mismatch>) {
    let id = round.id;
    let Some(chained) = story.rounds.get(&id) else {
        out.push(Mismatch::RoundNotChained { round: id });
        return;
    };
    let opening = [
        ("item", round.item == chained.item),
        ("settings", round.settings == chained.settings),
        ("opening time", round.opened_at == chained.opened_at),
    ];
    for (field, same) in opening {
        if !same {
            out.push(Mismatch::RoundOpening { round: id, field });
        }
    }
    if round.deadline != chained.deadline {
        out.push(Mismatch::Deadline {
            round: id,
            deadline: round.deadline,
            chained: chained.deadline,
        });
    }
    check_round_documents(bundle, round, chained, out);
    if round.paused_at != chained.paused_at {
        out.push(Mismatch::Paused {
            round: id,
            paused_at: round.paused_at,
            chained: chained.paused_at,
        });
    }
    let chained_end = match &chained.end {
        None => "open",
        Some(End::Closed { .. }) => "closed",
        Some(End::Voided { .. }) => "voided",
    };
    let same_end = match (&round.status, &chained.end) {
        (RoundStatus::Open, None) => round.closed_at.is_none(),
        (RoundStatus::Closed, Some(End::Closed { at, .. }))
        | (RoundStatus::Voided, Some(End::Voided { at })) => round.closed_at == Some(*at),
        _ => false,
    };
    if !same_end {
        out.push(Mismatch::RoundEnd {
            round: id,
            status: round.status,
            chained: chained_end,
        });
    }
    if round.by_hand != chained.by_hand {
        out.push(Mismatch::ByHandNotChained {
            round: id,
            stated: by_hand_text(round.by_hand.as_ref()),
            chained: by_hand_text(chained.by_hand.as_ref()),
        });
    }
    if round.by_hand.is_some() || chained.by_hand.is_some() {
        return check_by_hand(round, chained, out);
    }
    let secret = round.settings.secrecy == Secrecy::Secret;
    let votes = if secret {
        check_secret(round, chained, out)
    } else {
        check_named(bundle, round, chained, story, out)
    };
    let Some(result) = &round.result else {
        if round.status == RoundStatus::Closed {
            out.push(Mismatch::TallyMissing { round: id });
        }
        return;
    };
    check_result_chained(round, chained, result, out);
    match result {
        RoundResult::Tally(tally) => check_tally(round, chained, tally, &votes, out),
        RoundResult::Paper(paper) => check_paper_result(round, chained, paper, &votes, out),
    }
}

/// A round that holds a result: closed, with the result its chain entry
/// closed it with.
fn check_result_chained(
    round: &Round,
    chained: &ChainedRound,
    result: &RoundResult,
    out: &mut Vec<Mismatch>,
) {
    let id = round.id;
    if round.status != RoundStatus::Closed {
        out.push(Mismatch::TallyOnUnclosed { round: id });
    }
    if let Some(End::Closed {
        result: chained_result,
        ..
    }) = &chained.end
        && chained_result != result
    {
        out.push(Mismatch::TallyNotChained { round: id });
    }
}

/// How a round's recording by hand reads in a mismatch: who, on which
/// device, when; or "no".
fn by_hand_text(by_hand: Option<&ByHand>) -> String {
    by_hand.map_or_else(
        || "no".to_owned(),
        |b| {
            format!(
                "by {:?} from device {} at {}",
                b.by,
                b.device.to_hex(),
                b.at
            )
        },
    )
}

/// A result recorded by hand: no ballots behind it (neither named ones nor
/// a secret record, nor any the chain accepted), figures that can be (those
/// taking part among those present, those present among all seats, and for
/// papers counted by the counting board its ballots and each entry's marks
/// as [`gavel_protocol::hand`] checks them when they are entered), the
/// result those rules decide from them, and the same result as the chain's
/// entry that recorded it. A secret item or a list is counted on paper, so
/// its record must hold the board's figures. Its present count is what the
/// secretariat counted in the hall, not the check-ins of the devices.
fn check_by_hand(round: &Round, chained: &ChainedRound, out: &mut Vec<Mismatch>) {
    let id = round.id;
    if !round.ballots.is_empty() || round.secret.is_some() || !chained.last.is_empty() {
        out.push(Mismatch::BallotsOnHandCount { round: id });
    }
    let Some(result) = &round.result else {
        out.push(Mismatch::TallyMissing { round: id });
        return;
    };
    check_result_chained(round, chained, result, out);
    let ballots = round.by_hand.as_ref().and_then(|b| b.ballots);
    let on_paper = result.paper().is_some() || round.settings.secrecy == Secrecy::Secret;
    if on_paper && ballots.is_none() {
        out.push(Mismatch::HandCountImpossible {
            round: id,
            problem: "a vote on paper ballots recorded without the counting board's figures"
                .to_owned(),
        });
        return;
    }
    let impossible = |e: gavel_protocol::hand::FigureError| Mismatch::HandCountImpossible {
        round: id,
        problem: format!("{}: {}", e.field, e.message),
    };
    match result {
        RoundResult::Tally(tally) => {
            match gavel_protocol::hand::tally(round.settings.rule, tally.counts, ballots.as_ref()) {
                Ok(recomputed) if &recomputed != tally => out.push(Mismatch::TallyDecision {
                    round: id,
                    stated: decision(tally),
                    recomputed: decision(&recomputed),
                }),
                Ok(_) => {}
                Err(e) => out.push(impossible(e)),
            }
        }
        RoundResult::Paper(paper) => {
            let Some(ballots) = ballots else { return };
            let turnout = paper.turnout();
            let decided = gavel_protocol::hand::paper_result(
                paper.sheet(),
                round.settings.rule,
                turnout.total_seats,
                turnout.present,
                &ballots,
                &paper.counts(),
            );
            match decided {
                Ok(recomputed) if &recomputed != paper => {
                    out.push(Mismatch::PaperResult { round: id });
                }
                Ok(_) => {}
                Err(e) => out.push(impossible(e)),
            }
        }
    }
}

/// Signatures, receipts and agreement with the chain; the votes to count.
fn check_named(
    bundle: &Bundle,
    round: &Round,
    chained: &ChainedRound,
    story: &Story,
    out: &mut Vec<Mismatch>,
) -> Vec<Vote> {
    let id = round.id;
    if round.secret.is_some() {
        out.push(Mismatch::SecretRecordOnNamedRound { round: id });
    }
    let mut seen = BTreeSet::new();
    for b in &round.ballots {
        if !seen.insert(b.seat) {
            out.push(Mismatch::BallotTwice {
                round: id,
                seat: b.seat,
            });
        }
        let Some(vote) = b.vote() else {
            out.push(Mismatch::BallotUnreadable {
                round: id,
                seat: b.seat,
            });
            continue;
        };
        check_signatures(bundle, round, b, &vote, story, out);
        match chained.last.get(&b.seat) {
            Some(last) if last.seq == b.seq && last.vote().as_ref() == Some(&vote) => {}
            other => out.push(Mismatch::BallotNotChained {
                round: id,
                seat: b.seat,
                vote: describe(&vote),
                seq: b.seq,
                chained: other.map_or_else(
                    || "none".to_owned(),
                    |a| match a.vote() {
                        Some(v) => format!("{}, seq {}", describe(&v), a.seq),
                        None => format!("no choice, seq {}", a.seq),
                    },
                ),
            }),
        }
    }
    for seat in chained.last.keys() {
        if !seen.contains(seat) {
            out.push(Mismatch::BallotMissing {
                round: id,
                seat: *seat,
            });
        }
    }
    round.ballots.iter().filter_map(NamedBallot::vote).collect()
}

/// The ballot's signature over its round's documents digest (the `v1`
/// layout for a round that recorded none), and its receipt.
fn check_signatures(
    bundle: &Bundle,
    round: &Round,
    b: &NamedBallot,
    vote: &Vote,
    story: &Story,
    out: &mut Vec<Mismatch>,
) {
    let documents = round.documents.as_ref().map(|d| d.digest);
    let round = round.id;
    let (signed, receipt) = match vote {
        Vote::Choice(choice) => {
            let content = BallotContent {
                meeting: &bundle.meeting,
                round,
                documents,
                seat: b.seat,
                choice: *choice,
                seq: b.seq,
            };
            (content.signed_bytes(), content.receipt_bytes(b.recorded_at))
        }
        Vote::Paper(paper) => {
            let content = paper.content(&bundle.meeting, round, documents, b.seat, b.seq);
            (content.signed_bytes(), content.receipt_bytes(b.recorded_at))
        }
    };
    let keys = story.seat_keys.get(&b.seat).map_or(&[][..], Vec::as_slice);
    if keys.is_empty() {
        out.push(Mismatch::SeatKeyUnknown {
            round,
            seat: b.seat,
        });
    } else if !keys.iter().any(|k| k.verify(&signed, &b.signature).is_ok()) {
        out.push(Mismatch::BallotSignature {
            round,
            seat: b.seat,
            vote: describe(vote),
            seq: b.seq,
            documents: documents.map_or_else(
                || "no documents digest (a round recorded before ballots signed one)".to_owned(),
                |d| format!("the round's documents digest {d}"),
            ),
        });
    }
    if bundle.server_key.verify(&receipt, &b.receipt).is_err() {
        out.push(Mismatch::ReceiptSignature {
            round,
            seat: b.seat,
        });
    }
}

/// Participation and shuffled choices against the chain; the votes to count.
fn check_secret(round: &Round, chained: &ChainedRound, out: &mut Vec<Mismatch>) -> Vec<Vote> {
    let id = round.id;
    if !round.ballots.is_empty() {
        out.push(Mismatch::SecretBallotsExposed { round: id });
    }
    let Some(record) = &round.secret else {
        if round.status != RoundStatus::Open {
            out.push(Mismatch::SecretRecordMissing { round: id });
        }
        return Vec::new();
    };
    let chained_seats: Vec<SeatNo> = chained.last.keys().copied().collect();
    let mut found = record.participants.clone();
    found.sort_unstable();
    if found != chained_seats {
        out.push(Mismatch::SecretParticipants {
            round: id,
            found,
            chained: chained_seats,
        });
    }
    let votes = record.votes();
    if votes.len() != record.participants.len() {
        out.push(Mismatch::SecretCount {
            round: id,
            count: votes.len(),
            participants: record.participants.len(),
        });
    }
    let trackers = &record.trackers;
    let ascending = trackers.windows(2).all(|w| w[0] < w[1]);
    if !trackers.is_empty() && (trackers.len() != votes.len() || !ascending) {
        out.push(Mismatch::SecretTrackers { round: id });
    }
    if let Some(End::Closed {
        secret_choices,
        secret_papers,
        secret_trackers,
        ..
    }) = &chained.end
    {
        let papers = secret_papers.as_deref().unwrap_or_default();
        if secret_choices.as_ref() != Some(&record.choices) || papers != record.papers {
            out.push(Mismatch::SecretChoices { round: id });
        }
        if secret_trackers.as_deref().unwrap_or_default() != trackers.as_slice() {
            out.push(Mismatch::SecretTrackers { round: id });
        }
    }
    votes
}

fn check_tally(
    round: &Round,
    chained: &ChainedRound,
    result: &TallyResult,
    votes: &[Vote],
    out: &mut Vec<Mismatch>,
) {
    let id = round.id;
    let stated = result.counts;
    let choices = votes.iter().filter_map(Vote::choice);
    let counted = Counts::tally(stated.total_seats, stated.present, choices);
    if (counted.yes, counted.no, counted.abstain) != (stated.yes, stated.no, stated.abstain) {
        out.push(Mismatch::TallyCounts {
            round: id,
            stated: three(&stated),
            counted: three(&counted),
        });
    }
    check_present(round, chained, stated.present, out);
    let recomputed = TallyResult::decide(round.settings.rule, stated);
    if &recomputed != result {
        out.push(Mismatch::TallyDecision {
            round: id,
            stated: decision(result),
            recomputed: decision(&recomputed),
        });
    }
}

fn check_present(round: &Round, chained: &ChainedRound, stated: u32, out: &mut Vec<Mismatch>) {
    if let Some(End::Closed { checked_in, .. }) = &chained.end
        && stated != *checked_in
    {
        out.push(Mismatch::TallyPresent {
            round: round.id,
            stated,
            checked_in: *checked_in,
        });
    }
}

/// A result on a list recomputed from the round's papers: each paper must
/// fit the list the result counts (as long as the result's rows, with the
/// election's posts), their number must be the turnout's, and counting them
/// under the round's rule must give the stated result exactly.
fn check_paper_result(
    round: &Round,
    chained: &ChainedRound,
    stated: &PaperResult,
    votes: &[Vote],
    out: &mut Vec<Mismatch>,
) {
    let id = round.id;
    let sheet = stated.sheet();
    let turnout = stated.turnout();
    let mut papers: Vec<&Paper> = Vec::with_capacity(votes.len());
    for vote in votes {
        let checked = match vote {
            Vote::Paper(p) => sheet.check(p.kind, &p.marks).map(|()| p),
            Vote::Choice(c) => {
                out.push(Mismatch::PaperInvalid {
                    round: id,
                    problem: format!("a {c} ballot in a round on a list"),
                });
                continue;
            }
        };
        match checked {
            Ok(p) => papers.push(p),
            Err(e) => out.push(Mismatch::PaperInvalid {
                round: id,
                problem: e.to_string(),
            }),
        }
    }
    if usize::try_from(turnout.papers).ok() != Some(votes.len()) {
        out.push(Mismatch::PaperCount {
            round: id,
            stated: turnout.papers,
            counted: votes.len(),
        });
    }
    check_present(round, chained, turnout.present, out);
    let recomputed = stated.recount(papers.iter().map(|p| p.marks.as_slice()));
    let rule_differs = stated.rule().is_some_and(|r| r != round.settings.rule);
    if rule_differs || &recomputed != stated {
        out.push(Mismatch::PaperResult { round: id });
    }
}

fn three(c: &Counts) -> String {
    format!("{}/{}/{}", c.yes, c.no, c.abstain)
}

fn decision(r: &TallyResult) -> String {
    format!(
        "{}, {} yes needed of {}, {}",
        r.rule.describe(),
        r.yes_needed,
        r.base_value,
        if r.passed { "passed" } else { "not passed" }
    )
}

/// What the chain says happened, read once.
#[derive(Default)]
struct Story {
    definition: Option<Sha>,
    /// Every key ever registered for a seat: a ballot signed before the seat
    /// re-enrolled a new device is still that seat's ballot.
    seat_keys: BTreeMap<SeatNo, Vec<PublicKey>>,
    /// The keys bound at the chain's end, as the store binds them: one key
    /// per principal and one principal per key.
    current_keys: BTreeMap<Principal, PublicKey>,
    rounds: BTreeMap<RoundId, ChainedRound>,
    /// Every document version the chain stored.
    documents: Vec<StoredVersion>,
    /// Each document's latest version so far, by item and slot.
    latest: BTreeMap<(u32, u32), (u32, Sha)>,
}

/// A document version as the chain's `document_stored` entry records it.
#[derive(PartialEq)]
struct StoredVersion {
    item: u32,
    slot: u32,
    version: u32,
    title: String,
    kind: DocumentKind,
    public: bool,
    sha256: Sha,
    size: u64,
}

impl StoredVersion {
    fn of(d: &DocumentVersion) -> StoredVersion {
        StoredVersion {
            item: d.item,
            slot: d.slot,
            version: d.version,
            title: d.title.clone(),
            kind: d.kind,
            public: d.public,
            sha256: d.sha256,
            size: d.size,
        }
    }
}

struct ChainedRound {
    item: u32,
    settings: VoteSettings,
    opened_at: u64,
    deadline: u64,
    documents: Option<RoundDocuments>,
    /// The item's documents at their latest versions when the round opened,
    /// in slot order: what its record of documents must list.
    latest_documents: Vec<Sha>,
    /// Since when the chair holds the round, if it does at the chain's end.
    paused_at: Option<u64>,
    /// Each seat's ballot with the highest seq.
    last: BTreeMap<SeatNo, Accepted>,
    end: Option<End>,
    /// Who recorded the result, for a round recorded by hand.
    by_hand: Option<ByHand>,
}

enum End {
    Closed {
        at: u64,
        result: RoundResult,
        secret_choices: Option<Vec<gavel_protocol::Choice>>,
        secret_papers: Option<Vec<Paper>>,
        secret_trackers: Option<Vec<Tracker>>,
        /// Seats checked in before the close.
        checked_in: u32,
    },
    Voided {
        at: u64,
    },
}

impl Story {
    /// The item's documents at their latest versions so far, in slot order.
    fn latest_documents(&self, item: u32) -> Vec<Sha> {
        self.latest
            .range((item, 0)..=(item, u32::MAX))
            .map(|(_, (_, sha))| *sha)
            .collect()
    }

    fn read(chain: &[Entry]) -> Story {
        let mut story = Story::default();
        let mut checked_in = BTreeSet::new();
        for entry in chain {
            match &entry.event {
                Event::MeetingDefined { definition_sha256 }
                | Event::MeetingAmended {
                    definition_sha256, ..
                } => {
                    story.definition = Some(*definition_sha256);
                }
                Event::KeyRegistered {
                    principal,
                    public_key,
                } => {
                    story.current_keys.retain(|_, k| k != public_key);
                    story.current_keys.insert(*principal, *public_key);
                    if let Principal::Seat(seat) = principal {
                        story.seat_keys.entry(*seat).or_default().push(*public_key);
                    }
                }
                Event::KeyRevoked {
                    principal,
                    public_key,
                } => {
                    if story.current_keys.get(principal) == Some(public_key) {
                        story.current_keys.remove(principal);
                    }
                }
                Event::CheckedIn { seat } => {
                    checked_in.insert(*seat);
                }
                // The floor decides nothing that a bundle's tables hold:
                // its entries are checked by their links alone.
                // The board's confirmations are checked in order by
                // `check_confirmations`.
                Event::DocumentStored {
                    item,
                    slot,
                    version,
                    title,
                    document_kind,
                    public,
                    sha256,
                    size,
                } => {
                    let newest = story.latest.entry((*item, *slot)).or_insert((0, *sha256));
                    if *version >= newest.0 {
                        *newest = (*version, *sha256);
                    }
                    story.documents.push(StoredVersion {
                        item: *item,
                        slot: *slot,
                        version: *version,
                        title: title.clone(),
                        kind: *document_kind,
                        public: *public,
                        sha256: *sha256,
                        size: *size,
                    });
                }
                Event::ItemSet { .. }
                | Event::Floor { .. }
                | Event::SessionClosed { .. }
                | Event::CountConfirmed { .. }
                | Event::ResultAnnounced { .. } => {}
                Event::RoundOpened {
                    round,
                    item,
                    settings,
                    opened_at,
                    deadline,
                    documents,
                } => {
                    let latest_documents = story.latest_documents(*item);
                    story.rounds.insert(
                        *round,
                        ChainedRound {
                            item: *item,
                            settings: *settings,
                            opened_at: *opened_at,
                            deadline: *deadline,
                            documents: documents.clone(),
                            latest_documents,
                            paused_at: None,
                            last: BTreeMap::new(),
                            end: None,
                            by_hand: None,
                        },
                    );
                }
                Event::ResultRecordedByHand {
                    round,
                    item,
                    settings,
                    documents,
                    result,
                    by_hand,
                } => {
                    let latest_documents = story.latest_documents(*item);
                    story.rounds.insert(
                        *round,
                        ChainedRound {
                            item: *item,
                            settings: *settings,
                            opened_at: by_hand.at,
                            deadline: by_hand.at,
                            documents: Some(documents.clone()),
                            latest_documents,
                            paused_at: None,
                            last: BTreeMap::new(),
                            end: Some(End::Closed {
                                at: by_hand.at,
                                result: result.clone(),
                                secret_choices: None,
                                secret_papers: None,
                                secret_trackers: None,
                                checked_in: checked_in.len() as u32,
                            }),
                            by_hand: Some(by_hand.clone()),
                        },
                    );
                }
                Event::RoundExtended { round, deadline } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        r.deadline = *deadline;
                    }
                }
                Event::RoundPaused { round, paused_at } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        r.paused_at = Some(*paused_at);
                    }
                }
                Event::RoundResumed {
                    round, deadline, ..
                } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        r.paused_at = None;
                        r.deadline = *deadline;
                    }
                }
                Event::BallotsAccepted { round, ballots } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        for b in ballots {
                            let newer = r.last.get(&b.seat).is_none_or(|kept| b.seq > kept.seq);
                            if newer {
                                r.last.insert(b.seat, b.clone());
                            }
                        }
                    }
                }
                Event::RoundClosed {
                    round,
                    closed_at,
                    result,
                    secret_choices,
                    secret_papers,
                    secret_trackers,
                } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        r.end = Some(End::Closed {
                            at: *closed_at,
                            result: result.clone(),
                            secret_choices: secret_choices.clone(),
                            secret_papers: secret_papers.clone(),
                            secret_trackers: secret_trackers.clone(),
                            checked_in: checked_in.len() as u32,
                        });
                    }
                }
                Event::RoundVoided { round, voided_at } => {
                    if let Some(r) = story.rounds.get_mut(round) {
                        r.end = Some(End::Voided { at: *voided_at });
                    }
                }
            }
        }
        story
    }
}

#[cfg(test)]
mod tests {
    use super::Board;

    #[test]
    fn the_board_is_read_from_the_definition_all_members_by_default() {
        let toml =
            "id = \"x\"\n[counting_board]\nseats = [7, 15, 23]\n\n[[topics]]\ntitle = \"T\"\n";
        let board = Board::of(toml).unwrap().expect("a board");
        assert_eq!((board.seats, board.required), (vec![7, 15, 23], 3));
        let two = toml.replace("23]\n", "23]\nconfirmations = 2\n");
        assert_eq!(Board::of(&two).unwrap().expect("a board").required, 2);
        assert!(Board::of("id = \"x\"\n").unwrap().is_none());
        let problem = Board::of("[counting_board]\nseats = \"7\"\n").err();
        assert!(problem.is_some_and(|p| !p.is_empty()));
    }
}
