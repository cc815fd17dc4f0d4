//! `gavel export`: a meeting's record as the store holds it, written as the
//! self-contained bundle that `gavel verify` checks, with the results table
//! and the printable minutes beside it.
//!
//! The bundle is read from the store in several queries while the hub may
//! still be writing. Every change to a meeting appends to its audit chain in
//! the same transaction, so a record is consistent exactly when the chain did
//! not grow while it was read: [`bundle`] reads the chain, then the rest, then
//! the chain's length again, and starts over if it moved.
//!
//! A secret round's ballots are never read: an open secret round is exported
//! without them, an ended one with its two unlinked lists.
//!
//! The bundle lists every version of the agenda items' documents with its
//! hashes; `gavel export --documents` also copies the files beside it
//! (`documents/<sha256>.pdf`), which `gavel verify` then checks.

use crate::meeting::{DefinitionError, MeetingDefinition};
use crate::store::{Store, StoreError};
use ed25519_dalek::SigningKey;
use gavel_protocol::floor::{FloorChange, FloorRequest, Speaker};
use gavel_protocol::messages::RoundStatus;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::audit_head_bytes;
use gavel_protocol::{MeetingId, Principal, PublicKey, RoundId, Signature};
use gavel_records::bundle::{
    self, Bundle, DocumentVersion, Head, KeyBinding, NamedBallot, Round, SecretRecord,
    document_file_name,
};
use gavel_records::chain::{self, Amender, Entry, Event, Sha, split_votes};
use gavel_records::minutes::{
    self, BoardConfirmation, Change, ChangeKind, Lang, Outcome, Pause, RecordSeal, Session,
    Signatories, Turn,
};
use std::path::{Path, PathBuf};

/// How many times [`bundle`] reads again when the meeting changed meanwhile.
const READ_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no meeting {0} in the store")]
    UnknownMeeting(MeetingId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored definition of {meeting} does not parse: {error}")]
    Definition {
        meeting: MeetingId,
        error: DefinitionError,
    },
    #[error("meeting {0} kept changing while it was read; export it again once no round is open")]
    Busy(MeetingId),
    #[error("the minutes cannot be made from the record: {0}")]
    Minutes(#[from] minutes::SessionError),
    #[error("writing {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// What the minutes need that the record does not hold.
#[derive(Debug, Clone)]
pub struct MinutesOptions {
    /// Every time in the minutes is local time at this offset (Vietnam: +420).
    pub utc_offset_minutes: i32,
    pub place: Option<String>,
    pub national_heading: bool,
    pub signatories: Signatories,
}

impl Default for MinutesOptions {
    fn default() -> MinutesOptions {
        MinutesOptions {
            utc_offset_minutes: 420,
            place: None,
            national_heading: true,
            signatories: Signatories::default(),
        }
    }
}

/// Reads the meeting's record and signs its chain's head with `server_key`.
pub async fn bundle(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
) -> Result<Bundle, ExportError> {
    for _ in 0..READ_ATTEMPTS {
        let chain = store.audit_log(meeting).await?;
        let bundle = read(store, server_key, meeting, chain).await?;
        if store.audit_log(meeting).await?.len() == bundle.chain.len() {
            return Ok(bundle);
        }
    }
    Err(ExportError::Busy(meeting.clone()))
}

async fn read(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
    chain: Vec<chain::Entry>,
) -> Result<Bundle, ExportError> {
    let stored = store
        .meetings()
        .await?
        .into_iter()
        .find(|m| &m.id == meeting)
        .ok_or_else(|| ExportError::UnknownMeeting(meeting.clone()))?;
    let keys = store
        .keys(meeting)
        .await?
        .into_iter()
        .map(|(principal, public_key)| KeyBinding {
            principal,
            public_key,
        })
        .collect();
    let mut rounds = Vec::new();
    for r in store.rounds(meeting).await? {
        let secret = r.settings.secrecy == Secrecy::Secret;
        let ballots = if secret {
            Vec::new()
        } else {
            store
                .ballots(r.id)
                .await?
                .into_iter()
                .map(|b| NamedBallot {
                    // Ed25519 is deterministic: the receipt the delegate was given.
                    receipt: b.receipt(server_key, meeting).server_signature().clone(),
                    seat: b.seat,
                    choice: b.vote.choice(),
                    paper: b.vote.paper().cloned(),
                    seq: b.seq,
                    recorded_at: b.recorded_at,
                    signature: b.signature,
                })
                .collect()
        };
        // A secret item counted by hand has no ballots: only the counting
        // board's figures, which its `by_hand` and result hold.
        let secret_record = if secret && r.status != RoundStatus::Open && r.by_hand.is_none() {
            let s = store.secret_ballots(r.id).await?;
            let (choices, papers) = split_votes(&s.votes());
            Some(SecretRecord {
                trackers: s.choices.iter().map(|(tracker, _)| *tracker).collect(),
                participants: s.seats(),
                choices,
                papers,
            })
        } else {
            None
        };
        rounds.push(Round {
            id: r.id,
            item: r.item,
            settings: r.settings,
            opened_at: r.opened_at,
            deadline: r.deadline,
            documents: r.documents,
            paused_at: r.paused_at,
            status: r.status,
            closed_at: r.closed_at,
            result: r.result,
            ballots,
            secret: secret_record,
            by_hand: r.by_hand,
        });
    }
    let (entries, hash) = chain::head(&chain);
    Ok(Bundle {
        format: bundle::FORMAT.to_owned(),
        meeting: meeting.clone(),
        definition: stored.definition,
        server_key: PublicKey::of(server_key),
        keys,
        rounds,
        documents: document_versions(store, meeting).await?,
        chain,
        head: Head {
            entries,
            hash,
            signature: Signature::sign(server_key, &audit_head_bytes(meeting, entries, &hash.0)),
        },
    })
}

/// Every stored version of the meeting's documents, with the hashes of its
/// blocks from the stored bytes, checked against the version's hash first.
async fn document_versions(
    store: &Store,
    meeting: &MeetingId,
) -> Result<Vec<DocumentVersion>, ExportError> {
    let mut versions = Vec::new();
    for d in store.documents(meeting).await? {
        let sha256 = Sha::from_hex(&d.view.sha256).map_err(StoreError::Corrupt)?;
        let content = stored_document(store, sha256).await?;
        versions.push(DocumentVersion {
            item: d.item,
            slot: d.slot,
            version: d.view.version,
            title: d.view.title,
            kind: d.view.kind,
            public: d.view.public,
            sha256,
            size: d.view.size,
            stored_at: d.view.stored_at,
            blocks: DocumentVersion::blocks_of(&content),
        });
    }
    Ok(versions)
}

/// The bytes stored under `sha256`, which must have that hash.
async fn stored_document(store: &Store, sha256: Sha) -> Result<Vec<u8>, ExportError> {
    let content = store.document_content(&sha256.to_hex()).await?;
    match content {
        Some(content) if Sha::of(&content) == sha256 => Ok(content),
        _ => Err(StoreError::Corrupt(format!(
            "the stored bytes of document {sha256} are missing or do not have that hash"
        ))
        .into()),
    }
}

/// The session the minutes and the results table are printed from: the
/// definition's titles and labels, each ended round of the bundle and each
/// turn at the floor.
pub fn session(
    bundle: &Bundle,
    definition: &MeetingDefinition,
    options: &MinutesOptions,
) -> Session {
    let turns = turns(&bundle.chain, definition);
    let items = definition
        .agenda
        .iter()
        .map(|item| minutes::Item {
            turns: turns
                .iter()
                .filter(|(i, _)| *i == item.index)
                .map(|(_, turn)| turn.clone())
                .collect(),
            index: item.index,
            topic: item.topic.clone(),
            kind: item.kind,
            title: item.title.clone(),
            rounds: bundle
                .rounds
                .iter()
                .filter(|r| r.item == item.index)
                .filter_map(|r| {
                    let outcome = match (r.status, &r.result, &item.paper) {
                        (RoundStatus::Closed, Some(RoundResult::Tally(result)), _) => {
                            Outcome::Closed { result: *result }
                        }
                        (RoundStatus::Closed, Some(RoundResult::Paper(result)), Some(list)) => {
                            Outcome::Counted {
                                result: result.clone(),
                                list: list.clone(),
                            }
                        }
                        (RoundStatus::Voided, _, _) => Outcome::Voided,
                        _ => return None,
                    };
                    Some(minutes::Round {
                        id: r.id,
                        settings: r.settings,
                        opened_at: r.opened_at,
                        ended_at: r.closed_at.unwrap_or(r.opened_at),
                        pauses: pauses(&bundle.chain, r.id, r.closed_at.unwrap_or(r.opened_at)),
                        outcome,
                        confirmations: confirmations(&bundle.chain, r.id, definition),
                        announced_at: bundle.chain.iter().find_map(|e| match e.event {
                            Event::ResultAnnounced {
                                round,
                                announced_at,
                            } if round == r.id => Some(announced_at),
                            _ => None,
                        }),
                        by_hand: r.by_hand.clone(),
                    })
                })
                .collect(),
        })
        .collect();
    let held_at = bundle
        .rounds
        .first()
        .map(|r| r.opened_at)
        .or_else(|| bundle.chain.first().map(|e| e.at))
        .unwrap_or(0);
    Session {
        meeting: bundle.meeting.clone(),
        title: definition.title.clone(),
        body: definition.body.clone(),
        place: options.place.clone(),
        held_at,
        utc_offset_minutes: options.utc_offset_minutes,
        total_seats: definition.total_seats,
        labels: definition.labels.clone(),
        national_heading: options.national_heading,
        signatories: options.signatories.clone(),
        counting_board: definition
            .counting_board
            .iter()
            .filter_map(|&seat| definition.seat(seat))
            .map(|seat| seat.name.clone())
            .collect(),
        items,
        changes: changes(&bundle.chain, definition),
        closed_at: bundle.chain.iter().find_map(|e| match e.event {
            Event::SessionClosed { closed_at } => Some(closed_at),
            _ => None,
        }),
        record: Some(RecordSeal {
            file: format!("{}.record.json", bundle.meeting),
            entries: bundle.head.entries,
            head: bundle.head.hash.to_hex(),
            server_key: bundle.server_key.to_hex(),
        }),
    }
}

/// Every turn at the floor, with its item, from the chain: who had the
/// floor from when to when, and for how long without the pauses. A turn
/// still under way is counted up to the chain's last entry.
fn turns(chain: &[Entry], definition: &MeetingDefinition) -> Vec<(u32, Turn)> {
    struct Running<'a> {
        request: &'a FloorRequest,
        started_at: u64,
        paused_at: Option<u64>,
        paused_ms: u64,
    }
    let turn = |r: &Running, ended_at: Option<u64>, until: u64| {
        let until = r.paused_at.unwrap_or(until);
        let respondent = |i: u32| definition.respondents.get(i as usize);
        let (speaker, seat, post) = match &r.request.speaker {
            Speaker::Seat(seat) => {
                let name = definition.seat(*seat).map(|s| s.name.clone());
                (name.unwrap_or_default(), Some(*seat), None)
            }
            Speaker::Respondent(i) => match respondent(*i) {
                Some(p) => (p.name.clone(), None, Some(p.post.clone())),
                None => (String::new(), None, None),
            },
            Speaker::Guest(guest) => (guest.name.clone(), None, Some(guest.post.clone())),
        };
        let put_to = match r.request.speaker {
            Speaker::Respondent(_) => None,
            _ => r
                .request
                .respondent
                .and_then(respondent)
                .map(|p| format!("{}, {}", p.name, p.post)),
        };
        Turn {
            kind: r.request.kind,
            speaker,
            seat,
            post,
            put_to,
            topic: r.request.topic.clone(),
            started_at: r.started_at,
            ended_at,
            spoken_ms: until
                .saturating_sub(r.started_at)
                .saturating_sub(r.paused_ms),
        }
    };
    let mut turns = Vec::new();
    let mut running: Option<Running> = None;
    for entry in chain {
        let Event::Floor { change } = &entry.event else {
            continue;
        };
        match change {
            FloorChange::TurnStarted {
                request,
                started_at,
                ..
            } => {
                running = Some(Running {
                    request,
                    started_at: *started_at,
                    paused_at: None,
                    paused_ms: 0,
                });
            }
            FloorChange::TurnPaused { at } => {
                if let Some(r) = running.as_mut() {
                    r.paused_at = Some(*at);
                }
            }
            FloorChange::TurnResumed { at } => {
                if let Some(r) = running.as_mut()
                    && let Some(from) = r.paused_at.take()
                {
                    r.paused_ms += at.saturating_sub(from);
                }
            }
            FloorChange::TurnEnded { at } => {
                if let Some(r) = running.take() {
                    turns.push((r.request.item, turn(&r, Some(*at), *at)));
                }
            }
            FloorChange::Requested { .. }
            | FloorChange::Withdrawn { .. }
            | FloorChange::Moved { .. }
            | FloorChange::TimeAdded { .. } => {}
        }
    }
    if let Some(r) = running {
        let last = chain.last().map_or(r.started_at, |e| e.at);
        turns.push((r.request.item, turn(&r, None, last)));
    }
    turns
}

/// What changed in the meeting once its session had started (the chair put
/// an item on the screens, or a result was recorded), from the chain: a
/// definition replaced or amended (by whom, which items), a device enrolled or revoked, a document stored, a
/// result recorded by hand. Each is in the chain already; the minutes list
/// them so that the paper says so too.
fn changes(chain: &[Entry], definition: &MeetingDefinition) -> Vec<Change> {
    let started = chain.iter().position(|e| {
        matches!(
            e.event,
            Event::ItemSet { item: Some(_) }
                | Event::RoundOpened { .. }
                | Event::ResultRecordedByHand { .. }
        )
    });
    let Some(started) = started else {
        return Vec::new();
    };
    let owner = |principal: &Principal| match principal {
        Principal::Seat(seat) => (
            Some(*seat),
            definition
                .seat(*seat)
                .map_or_else(String::new, |s| s.name.clone()),
        ),
        Principal::Chair => (None, String::new()),
    };
    chain[started..]
        .iter()
        .filter_map(|entry| {
            let what = match &entry.event {
                Event::MeetingDefined { .. } => ChangeKind::DefinitionReplaced,
                Event::MeetingAmended { by, items, .. } => ChangeKind::DefinitionAmended {
                    secretariat: match by {
                        Amender::Secretariat { device } => Some(device.to_hex()),
                        Amender::Chair => None,
                    },
                    items: items.clone(),
                },
                Event::KeyRegistered { principal, .. } => {
                    let (seat, name) = owner(principal);
                    ChangeKind::DeviceEnrolled { seat, name }
                }
                Event::KeyRevoked { principal, .. } => {
                    let (seat, name) = owner(principal);
                    ChangeKind::DeviceRevoked { seat, name }
                }
                Event::DocumentStored {
                    item,
                    title,
                    version,
                    ..
                } => ChangeKind::DocumentStored {
                    item: *item,
                    title: title.clone(),
                    version: *version,
                },
                Event::ResultRecordedByHand { item, by_hand, .. } => ChangeKind::ResultByHand {
                    item: *item,
                    by: by_hand.by.clone(),
                },
                _ => return None,
            };
            Some(Change { at: entry.at, what })
        })
        .collect()
}

/// The counting board's confirmations of `round`'s count, from the chain,
/// with the members' names from the roster.
fn confirmations(
    chain: &[Entry],
    round: RoundId,
    definition: &MeetingDefinition,
) -> Vec<BoardConfirmation> {
    chain
        .iter()
        .filter_map(|entry| match &entry.event {
            Event::CountConfirmed {
                round: r,
                seat,
                confirmed_at,
                ..
            } if *r == round => Some(BoardConfirmation {
                seat: *seat,
                name: definition
                    .seat(*seat)
                    .map_or_else(String::new, |s| s.name.clone()),
                at: *confirmed_at,
            }),
            _ => None,
        })
        .collect()
}

/// When the chair held `round`, from the chain; a round that ended while
/// held was held until `ended_at`.
fn pauses(chain: &[Entry], round: RoundId, ended_at: u64) -> Vec<Pause> {
    let mut pauses = Vec::new();
    let mut held = None;
    for entry in chain {
        match entry.event {
            Event::RoundPaused {
                round: r,
                paused_at,
            } if r == round => held = Some(paused_at),
            Event::RoundResumed {
                round: r,
                resumed_at,
                ..
            } if r == round => {
                if let Some(from) = held.take() {
                    pauses.push(Pause {
                        from,
                        to: resumed_at,
                    });
                }
            }
            _ => {}
        }
    }
    pauses.extend(held.map(|from| Pause { from, to: ended_at }));
    pauses
}

/// The meeting's record and the session its minutes print, checked.
async fn read_session(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
    options: &MinutesOptions,
) -> Result<(Bundle, Session), ExportError> {
    let bundle = bundle(store, server_key, meeting).await?;
    let definition =
        MeetingDefinition::parse(&bundle.definition).map_err(|error| ExportError::Definition {
            meeting: meeting.clone(),
            error,
        })?;
    let session = session(&bundle, &definition, options);
    session.check()?;
    Ok((bundle, session))
}

/// The minutes of `meeting` in `lang`, printed from its record as [`write`]
/// prints them: what the public page shows is what the export files say.
pub async fn minutes_html(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
    lang: Lang,
    options: &MinutesOptions,
) -> Result<String, ExportError> {
    let (_, session) = read_session(store, server_key, meeting, options).await?;
    Ok(minutes::minutes_html(&session, lang))
}

/// The results table of `meeting` in `lang`, printed from its record as
/// [`write`] prints it.
pub async fn results_csv(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
    lang: Lang,
    options: &MinutesOptions,
) -> Result<String, ExportError> {
    let (_, session) = read_session(store, server_key, meeting, options).await?;
    Ok(minutes::results_csv(&session, lang))
}

/// The files one export writes.
#[derive(Debug)]
pub struct Written {
    pub bundle: PathBuf,
    pub results: PathBuf,
    pub minutes_vi: PathBuf,
    pub minutes_en: PathBuf,
    /// The copies of the documents, when asked for.
    pub documents: Vec<PathBuf>,
}

/// Writes `<meeting>.record.json`, `<meeting>.results.csv` (Vietnamese, the
/// published language) and `<meeting>.minutes.vi.html` / `.en.html` into
/// `dir`, and with `copy_documents` each document version the bundle lists
/// into `dir/documents/`, named by its hash.
pub async fn write(
    store: &Store,
    server_key: &SigningKey,
    meeting: &MeetingId,
    dir: &Path,
    options: &MinutesOptions,
    copy_documents: bool,
) -> Result<Written, ExportError> {
    let (bundle, session) = read_session(store, server_key, meeting, options).await?;
    let path = |suffix: &str| dir.join(format!("{meeting}.{suffix}"));
    let mut written = Written {
        bundle: path("record.json"),
        results: path("results.csv"),
        minutes_vi: path("minutes.vi.html"),
        minutes_en: path("minutes.en.html"),
        documents: Vec::new(),
    };
    let files = [
        (&written.bundle, bundle.to_json()),
        (&written.results, minutes::results_csv(&session, Lang::Vi)),
        (
            &written.minutes_vi,
            minutes::minutes_html(&session, Lang::Vi),
        ),
        (
            &written.minutes_en,
            minutes::minutes_html(&session, Lang::En),
        ),
    ];
    std::fs::create_dir_all(dir).map_err(|error| ExportError::Write {
        path: dir.to_owned(),
        error,
    })?;
    for (path, contents) in files {
        std::fs::write(path, contents).map_err(|error| ExportError::Write {
            path: path.clone(),
            error,
        })?;
    }
    if copy_documents {
        let folder = dir.join("documents");
        std::fs::create_dir_all(&folder).map_err(|error| ExportError::Write {
            path: folder.clone(),
            error,
        })?;
        let hashes: std::collections::BTreeSet<Sha> =
            bundle.documents.iter().map(|d| d.sha256).collect();
        for sha256 in hashes {
            let content = stored_document(store, sha256).await?;
            let path = folder.join(document_file_name(&sha256));
            std::fs::write(&path, content).map_err(|error| ExportError::Write {
                path: path.clone(),
                error,
            })?;
            written.documents.push(path);
        }
    }
    Ok(written)
}
