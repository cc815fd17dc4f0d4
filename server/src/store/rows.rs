//! How the store's records meet SQL: values on their way in, encoded as
//! both backends bind them, and rows on their way out, decoded and checked
//! (an integer that does not fit, a principal or choice that does not parse,
//! a hash of the wrong length are [`StoreError::Corrupt`], never a guess).

use super::{
    BallotRecord, RoundRecord, SecretBallots, StoreError, StoredDocument, StoredMeeting, Tracker,
};
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{DocumentKind, DocumentView, RoundStatus};
use gavel_protocol::paper::{Paper, PaperKind, Vote};
use gavel_protocol::results::RoundResult;
use gavel_protocol::{Choice, Counts, MeetingId, Principal, PublicKey, RoundId, SeatNo, Signature};
use gavel_records::chain::{Accepted, Entry, Event, Sha};
use std::collections::{BTreeMap, BTreeSet};

// Values on their way in, already encoded for SQL: both backends bind the same fields.

/// A document version's row.
pub(super) struct DocumentInsert<'a> {
    pub(super) item: i64,
    pub(super) slot: i64,
    pub(super) version: i64,
    pub(super) title: &'a str,
    pub(super) kind: String,
    pub(super) public: bool,
    pub(super) sha256: &'a str,
    pub(super) size: i64,
    pub(super) stored_at: i64,
}

/// An enrollment code's row.
pub(super) struct CodeInsert<'a> {
    pub(super) code_hash: &'a str,
    pub(super) meeting: &'a MeetingId,
    pub(super) principal: String,
    pub(super) expires_at: i64,
}

/// A new round's row.
pub(super) struct RoundInsert<'a> {
    pub(super) id: String,
    pub(super) meeting: &'a MeetingId,
    pub(super) item: i64,
    pub(super) settings: String,
    pub(super) secret: bool,
    pub(super) opened_at: i64,
    pub(super) deadline: i64,
    /// The round's documents' SHA-256, a JSON array of hex strings.
    pub(super) documents: String,
    /// `open`, or `closed` for a result recorded by hand.
    pub(super) status: &'static str,
    /// Set, with `by_hand`, for a result recorded by hand.
    pub(super) closed_at: Option<i64>,
    /// JSON of who recorded the result by hand.
    pub(super) by_hand: Option<String>,
}

/// An open round that a batch of ballots names, with the last entry of its
/// meeting's audit chain (none if the chain is empty).
#[derive(sqlx::FromRow)]
pub(super) struct OpenRoundRow {
    pub(super) id: String,
    pub(super) meeting_id: String,
    pub(super) secret: bool,
    pub(super) head_seq: Option<i64>,
    pub(super) head_hash: Option<Vec<u8>>,
}

/// A batch of ballots as parallel columns: PostgreSQL binds them as arrays
/// for `UNNEST`, SQLite reads them row by row. Named rounds' ballots are
/// `ballots` rows; secret rounds' are in `secret`.
pub(super) struct BallotColumns {
    pub(super) round_ids: Vec<String>,
    pub(super) seats: Vec<i64>,
    pub(super) choices: Vec<&'static str>,
    /// A paper's marks ([`Paper::marks_bytes`]); `None` for a choice.
    pub(super) marks: Vec<Option<Vec<u8>>>,
    pub(super) seqs: Vec<i64>,
    pub(super) signatures: Vec<Vec<u8>>,
    pub(super) recorded_at: Vec<i64>,
    /// The same ballots as the audit chain records them, by round: its keys
    /// are the batch's distinct rounds, which must all be open.
    pub(super) accepted: BTreeMap<String, Vec<Accepted>>,
    /// The rounds whose ballots came as secret.
    pub(super) secret_rounds: BTreeSet<String>,
    pub(super) secret: SecretBatch,
}

/// A batch's secret ballots: participation rows in (round, seat) order,
/// the choice rows they replace, and their own choice rows sorted by
/// (round, tracker), so that no column lines a choice up with its seat.
#[derive(Default)]
pub(super) struct SecretBatch {
    pub(super) round_ids: Vec<String>,
    pub(super) seats: Vec<i64>,
    pub(super) seqs: Vec<i64>,
    pub(super) recorded_at: Vec<i64>,
    pub(super) replaced_round_ids: Vec<String>,
    pub(super) replaced: Vec<Vec<u8>>,
    pub(super) choices: SecretChoices,
}

/// Choice rows as parallel columns.
#[derive(Default)]
pub(super) struct SecretChoices {
    pub(super) round_ids: Vec<String>,
    pub(super) trackers: Vec<Vec<u8>>,
    pub(super) choices: Vec<&'static str>,
    pub(super) marks: Vec<Option<Vec<u8>>>,
}

impl SecretChoices {
    fn of<'a>(rows: impl Iterator<Item = (String, Tracker, &'a Vote)>) -> SecretChoices {
        let mut rows: Vec<_> = rows.collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut columns = SecretChoices::default();
        for (round, tracker, vote) in rows {
            columns.round_ids.push(round);
            columns.trackers.push(tracker.0.to_vec());
            columns.choices.push(vote.as_str());
            columns.marks.push(vote.paper().map(Paper::marks_bytes));
        }
        columns
    }
}

impl BallotColumns {
    /// The audit entry of `round`'s ballots in this batch; a secret round's
    /// carry who took part and not what they chose.
    pub(super) fn event(&self, round: &str, secret: bool) -> Result<Event, StoreError> {
        if secret != self.secret_rounds.contains(round) {
            return Err(StoreError::Corrupt(format!(
                "a ballot of round {round} does not have the round's secrecy"
            )));
        }
        let ballots = self.accepted.get(round).cloned().unwrap_or_default();
        Ok(Event::BallotsAccepted {
            round: parse_round(round)?,
            ballots: ballots
                .into_iter()
                .map(|a| {
                    if secret {
                        Accepted {
                            choice: None,
                            paper: None,
                            ..a
                        }
                    } else {
                        a
                    }
                })
                .collect(),
        })
    }

    /// The batch's audit entries, one per round, each chained after the
    /// last entry of its meeting's chain (or after the entry before it in
    /// this batch). `open` holds the batch's rounds that are open, as read in
    /// the batch's transaction; the batch is refused if one is missing.
    pub(super) fn audit_entries(
        &self,
        open: Vec<OpenRoundRow>,
    ) -> Result<Vec<(MeetingId, AuditInsert)>, StoreError> {
        let mut heads: BTreeMap<String, Option<(i64, Vec<u8>)>> = BTreeMap::new();
        let mut rounds = BTreeMap::new();
        for row in open {
            heads.insert(row.meeting_id.clone(), row.head_seq.zip(row.head_hash));
            rounds.insert(row.id, (row.meeting_id, row.secret));
        }
        let mut entries = Vec::with_capacity(self.accepted.len());
        for id in self.accepted.keys() {
            let Some((meeting, secret)) = rounds.get(id) else {
                return Err(StoreError::Corrupt(format!("a ballot's {}", not_open(id))));
            };
            let head = heads.entry(meeting.clone()).or_default();
            let meeting = parse_meeting(meeting)?;
            let entry = AuditInsert::after(&meeting, head.take(), self.event(id, *secret)?)?;
            *head = Some((entry.seq, entry.hash.clone()));
            entries.push((meeting, entry));
        }
        Ok(entries)
    }

    pub(super) fn of_latest(batch: &[BallotRecord]) -> Result<BallotColumns, StoreError> {
        let latest = latest_per_seat(batch);
        let mut columns = BallotColumns {
            round_ids: Vec::with_capacity(latest.len()),
            seats: Vec::with_capacity(latest.len()),
            choices: Vec::with_capacity(latest.len()),
            marks: Vec::with_capacity(latest.len()),
            seqs: Vec::with_capacity(latest.len()),
            signatures: Vec::with_capacity(latest.len()),
            recorded_at: Vec::with_capacity(latest.len()),
            accepted: BTreeMap::new(),
            secret_rounds: BTreeSet::new(),
            secret: SecretBatch::default(),
        };
        let mut secret_choices = Vec::new();
        for b in latest {
            columns
                .accepted
                .entry(b.round.to_hex())
                .or_default()
                .push(Accepted {
                    seat: b.seat,
                    seq: b.seq,
                    choice: b.vote.choice(),
                    paper: b.vote.paper().cloned(),
                });
            if let Some(secret) = &b.secret {
                let round = b.round.to_hex();
                columns.secret_rounds.insert(round.clone());
                let rows = &mut columns.secret;
                rows.round_ids.push(round.clone());
                rows.seats.push(i64::from(b.seat));
                rows.seqs.push(to_sql(b.seq, "ballot sequence number")?);
                rows.recorded_at
                    .push(to_sql(b.recorded_at, "recording time")?);
                for gone in &secret.replaces {
                    rows.replaced_round_ids.push(round.clone());
                    rows.replaced.push(gone.0.to_vec());
                }
                secret_choices.push((round, b.tracker(), &b.vote));
                continue;
            }
            columns.round_ids.push(b.round.to_hex());
            columns.seats.push(i64::from(b.seat));
            columns.choices.push(b.vote.as_str());
            columns.marks.push(b.vote.paper().map(Paper::marks_bytes));
            columns.seqs.push(to_sql(b.seq, "ballot sequence number")?);
            columns.signatures.push(b.signature.to_bytes().to_vec());
            columns
                .recorded_at
                .push(to_sql(b.recorded_at, "recording time")?);
        }
        columns.secret.choices = SecretChoices::of(secret_choices.into_iter());
        if columns
            .secret_rounds
            .iter()
            .any(|r| columns.round_ids.contains(r))
        {
            return Err(StoreError::Corrupt(
                "a batch holds secret and named ballots for the same round".into(),
            ));
        }
        Ok(columns)
    }
}

/// The last ballot of each (round, seat) in a batch, in (round, seat) order.
/// A delegate who changes a vote twice within one batch window sends two
/// ballots for the same key, and PostgreSQL refuses an upsert that touches a
/// row twice; the fixed order also makes concurrent batches lock rows in the
/// same order.
pub(super) fn latest_per_seat(batch: &[BallotRecord]) -> Vec<&BallotRecord> {
    let mut latest: BTreeMap<(RoundId, SeatNo), &BallotRecord> = BTreeMap::new();
    for ballot in batch {
        latest
            .entry((ballot.round, ballot.seat))
            .and_modify(|kept| {
                if ballot.seq > kept.seq {
                    *kept = ballot;
                }
            })
            .or_insert(ballot);
    }
    latest.into_values().collect()
}

/// A tally's row: the JSON the hub announced and its numbers for SQL readers.
/// A result on a list keeps its numbers in the JSON; its row has the seats
/// and those present, no yes/no/abstain and `passed` false.
pub(super) struct TallyInsert {
    pub(super) total_seats: i64,
    pub(super) present: i64,
    pub(super) yes: i64,
    pub(super) no: i64,
    pub(super) abstain: i64,
    pub(super) passed: bool,
    pub(super) result: String,
}

impl TallyInsert {
    pub(super) fn of(result: &RoundResult) -> Result<TallyInsert, StoreError> {
        let (c, passed) = match result {
            RoundResult::Tally(t) => (t.counts, t.passed),
            RoundResult::Paper(p) => {
                let turnout = p.turnout();
                let counts = Counts {
                    total_seats: turnout.total_seats,
                    present: turnout.present,
                    ..Counts::default()
                };
                (counts, false)
            }
        };
        Ok(TallyInsert {
            total_seats: i64::from(c.total_seats),
            present: i64::from(c.present),
            yes: i64::from(c.yes),
            no: i64::from(c.no),
            abstain: i64::from(c.abstain),
            passed,
            result: serde_json::to_string(result)
                .map_err(|e| StoreError::Corrupt(format!("tally result: {e}")))?,
        })
    }
}

/// A secret round's rows as parallel columns, to write them again sorted:
/// participants by seat, choices by tracker.
pub(super) struct SecretColumns {
    pub(super) seats: Vec<i64>,
    pub(super) seqs: Vec<i64>,
    pub(super) recorded_at: Vec<i64>,
    pub(super) choices: SecretChoices,
}

impl SecretColumns {
    pub(super) fn of(kept: &SecretBallots) -> Result<SecretColumns, StoreError> {
        let mut participants = kept.participants.clone();
        participants.sort_by_key(|p| p.seat);
        Ok(SecretColumns {
            seats: participants.iter().map(|p| i64::from(p.seat)).collect(),
            seqs: participants
                .iter()
                .map(|p| to_sql(p.seq, "ballot sequence number"))
                .collect::<Result<_, _>>()?,
            recorded_at: participants
                .iter()
                .map(|p| to_sql(p.recorded_at, "recording time"))
                .collect::<Result<_, _>>()?,
            choices: SecretChoices::of(
                kept.choices
                    .iter()
                    .map(|(tracker, vote)| (String::new(), *tracker, vote)),
            ),
        })
    }
}

/// What a close announces, checked against the stored round and ballots.
pub(super) struct Close<'a> {
    pub(super) round: RoundId,
    pub(super) result: &'a RoundResult,
}

impl Close<'_> {
    /// Checks, inside the closing transaction, the round's secrecy against
    /// the call's.
    pub(super) fn check_secrecy(&self, secret_round: bool, secret: bool) -> Result<(), StoreError> {
        let round = self.round;
        match (secret_round, secret) {
            (true, false) => Err(StoreError::Corrupt(format!(
                "round {round} is secret but was closed as a named one"
            ))),
            (false, true) => Err(StoreError::Corrupt(format!(
                "round {round} is named but was closed as a secret one"
            ))),
            _ => Ok(()),
        }
    }

    /// Checks the announced counts against the stored ballots, counted by
    /// the database (`(choice, ballots)` rows): one short answer instead of
    /// every row, which at 10,000 ballots was nearly all of a close's time.
    pub(super) fn check_counts(&self, counted: &[(String, i64)]) -> Result<(), StoreError> {
        let mut stored = Counts::tally(0, 0, std::iter::empty());
        for (choice, n) in counted {
            let n: u32 = from_sql(*n, "ballot count")?;
            match parse_choice(choice)? {
                Choice::Yes => stored.yes += n,
                Choice::No => stored.no += n,
                Choice::Abstain => stored.abstain += n,
            }
        }
        let Some(tally) = self.result.tally() else {
            return Err(StoreError::Corrupt(format!(
                "round {}: a result on a list counted as a tally",
                self.round
            )));
        };
        let announced = &tally.counts;
        if (stored.yes, stored.no, stored.abstain)
            != (announced.yes, announced.no, announced.abstain)
        {
            return Err(StoreError::Corrupt(format!(
                "round {}: the result counts {}/{}/{} but the stored ballots are {}/{}/{}",
                self.round,
                announced.yes,
                announced.no,
                announced.abstain,
                stored.yes,
                stored.no,
                stored.abstain
            )));
        }
        Ok(())
    }

    /// Checks an announced result on a list against the stored papers: the
    /// same result must come of recounting them, and as many as it says.
    pub(super) fn check_papers(&self, stored: &[Vote]) -> Result<(), StoreError> {
        let Some(announced) = self.result.paper() else {
            return Err(StoreError::Corrupt(format!(
                "round {}: a tally counted as a result on a list",
                self.round
            )));
        };
        let mut papers = Vec::with_capacity(stored.len());
        for vote in stored {
            match vote {
                Vote::Paper(p) if announced.sheet().check(p.kind, &p.marks).is_ok() => {
                    papers.push(p)
                }
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "round {}: a stored ballot ({}) does not fit the result's list",
                        self.round,
                        other.as_str()
                    )));
                }
            }
        }
        let recounted = announced.recount(papers.iter().map(|p| p.marks.as_slice()));
        if usize::try_from(announced.turnout().papers).ok() != Some(papers.len())
            || &recounted != announced
        {
            return Err(StoreError::Corrupt(format!(
                "round {}: the result on the list is not that of the {} stored papers",
                self.round,
                papers.len()
            )));
        }
        Ok(())
    }

    /// Checks that a secret round has as many choice rows as participants:
    /// one choice per seat that took part, none lost and none doubled.
    pub(super) fn check_secret(&self, kept: &SecretBallots) -> Result<(), StoreError> {
        if kept.participants.len() != kept.choices.len() {
            return Err(StoreError::Corrupt(format!(
                "round {}: {} choices stored for {} participants",
                self.round,
                kept.choices.len(),
                kept.participants.len()
            )));
        }
        Ok(())
    }
}

/// The next entry of a meeting's chain, encoded for SQL. `last` is the
/// chain's last row as read under the append lock (its seq and hash).
pub(super) struct AuditInsert {
    pub(super) seq: i64,
    pub(super) at: i64,
    pub(super) kind: &'static str,
    pub(super) body: String,
    pub(super) prev_hash: Vec<u8>,
    pub(super) hash: Vec<u8>,
}

impl AuditInsert {
    pub(super) fn after(
        meeting: &MeetingId,
        last: Option<(i64, Vec<u8>)>,
        event: Event,
    ) -> Result<AuditInsert, StoreError> {
        let last = last
            .map(|(seq, hash)| {
                Ok::<_, StoreError>((from_sql(seq, "audit seq")?, parse_sha(&hash)?))
            })
            .transpose()?;
        let entry = Entry::next(meeting, last, crate::clock::now_ms(), event);
        Ok(AuditInsert {
            seq: to_sql(entry.seq, "audit seq")?,
            at: to_sql(entry.at, "audit time")?,
            kind: entry.event.kind(),
            body: entry.event.canonical_json(),
            prev_hash: entry.prev.0.to_vec(),
            hash: entry.hash.0.to_vec(),
        })
    }
}

// Rows on their way out: both backends decode into these, and they are
// turned into the protocol's types here, once.

#[derive(sqlx::FromRow)]
pub(super) struct MeetingRow {
    pub(super) id: String,
    pub(super) definition: String,
    pub(super) current_item: Option<i64>,
    pub(super) closed_at: Option<i64>,
}

impl MeetingRow {
    pub(super) fn decode(self) -> Result<StoredMeeting, StoreError> {
        Ok(StoredMeeting {
            id: parse_meeting(&self.id)?,
            definition: self.definition,
            current_item: self
                .current_item
                .map(|i| from_sql(i, "current item"))
                .transpose()?,
            closed_at: self
                .closed_at
                .map(|at| from_sql(at, "closing time"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    pub(super) meeting_id: String,
    pub(super) principal: String,
    pub(super) expires_at: i64,
    pub(super) used_at: Option<i64>,
}

impl CodeRow {
    /// The code's (meeting, principal) if it may be redeemed at `now`.
    pub(super) fn redeemable(&self, now: i64) -> Result<(MeetingId, Principal), StoreError> {
        unspent(self.expires_at, self.used_at, now)?;
        Ok((
            parse_meeting(&self.meeting_id)?,
            parse_principal(&self.principal)?,
        ))
    }
}

/// Whether a one-time code may still be redeemed at `now`: used is told
/// before expired, as a second attempt with a burnt code is the likelier
/// mistake.
fn unspent(expires_at: i64, used_at: Option<i64>, now: i64) -> Result<(), StoreError> {
    if used_at.is_some() {
        return Err(StoreError::CodeUsed);
    }
    if now >= expires_at {
        return Err(StoreError::CodeExpired);
    }
    Ok(())
}

/// A secretariat code: it belongs to no meeting.
#[derive(sqlx::FromRow)]
pub(super) struct SecretariatCodeRow {
    pub(super) expires_at: i64,
    pub(super) used_at: Option<i64>,
}

impl SecretariatCodeRow {
    pub(super) fn redeemable(&self, now: i64) -> Result<(), StoreError> {
        unspent(self.expires_at, self.used_at, now)
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    pub(super) principal: String,
    pub(super) public_key: Vec<u8>,
}

impl KeyRow {
    pub(super) fn decode(self) -> Result<(Principal, PublicKey), StoreError> {
        let bytes: [u8; 32] = self
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("a public key is not 32 bytes".into()))?;
        let key = PublicKey::from_bytes(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("public key {}: {e}", hex::encode(bytes))))?;
        Ok((parse_principal(&self.principal)?, key))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RoundRow {
    pub(super) id: String,
    pub(super) meeting_id: String,
    pub(super) item: i64,
    pub(super) settings: String,
    pub(super) opened_at: i64,
    pub(super) deadline: i64,
    pub(super) paused_at: Option<i64>,
    pub(super) status: String,
    pub(super) closed_at: Option<i64>,
    pub(super) announced_at: Option<i64>,
    pub(super) result: Option<String>,
    /// None for a round opened before rounds recorded their documents.
    pub(super) documents: Option<String>,
    /// JSON of who recorded the result by hand, for such a round.
    pub(super) by_hand: Option<String>,
}

impl RoundRow {
    pub(super) fn decode(self) -> Result<RoundRecord, StoreError> {
        let status = match self.status.as_str() {
            "open" => RoundStatus::Open,
            "closed" => RoundStatus::Closed,
            "voided" => RoundStatus::Voided,
            other => return Err(StoreError::Corrupt(format!("round status {other:?}"))),
        };
        Ok(RoundRecord {
            id: parse_round(&self.id)?,
            meeting: parse_meeting(&self.meeting_id)?,
            item: from_sql(self.item, "agenda item")?,
            settings: parse_json(&self.settings, "round settings")?,
            opened_at: from_sql(self.opened_at, "opening time")?,
            deadline: from_sql(self.deadline, "deadline")?,
            paused_at: self
                .paused_at
                .map(|t| from_sql(t, "pause time"))
                .transpose()?,
            status,
            announced_at: self
                .announced_at
                .map(|t| from_sql(t, "announcement time"))
                .transpose()?,
            closed_at: self
                .closed_at
                .map(|t| from_sql(t, "closing time"))
                .transpose()?,
            result: self
                .result
                .map(|r| parse_json(&r, "tally result"))
                .transpose()?,
            documents: self
                .documents
                .map(|d| parse_json(&d, "round documents").map(RoundDocuments::of))
                .transpose()?,
            by_hand: self
                .by_hand
                .map(|b| parse_json(&b, "recorded by hand"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BallotRow {
    pub(super) round_id: String,
    pub(super) seat: i64,
    pub(super) choice: String,
    pub(super) seq: i64,
    pub(super) signature: Vec<u8>,
    pub(super) recorded_at: i64,
    pub(super) marks: Option<Vec<u8>>,
    /// The round's documents (a JSON array of hex strings), whose digest
    /// the ballot signed.
    pub(super) documents: Option<String>,
}

impl BallotRow {
    pub(super) fn decode(self) -> Result<BallotRecord, StoreError> {
        let signature: [u8; 64] = self
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("a ballot signature is not 64 bytes".into()))?;
        Ok(BallotRecord {
            round: parse_round(&self.round_id)?,
            documents: self
                .documents
                .map(|d| {
                    parse_json(&d, "round documents").map(|list| RoundDocuments::of(list).digest)
                })
                .transpose()?,
            seat: from_sql(self.seat, "seat")?,
            vote: parse_vote(&self.choice, self.marks.as_deref())?,
            seq: from_sql(self.seq, "ballot sequence number")?,
            signature: Signature::from_bytes(&signature),
            recorded_at: from_sql(self.recorded_at, "recording time")?,
            secret: None,
        })
    }
}

/// A version of a document, as `documents` holds it.
#[derive(sqlx::FromRow)]
pub(super) struct DocumentRow {
    pub(super) item: i64,
    pub(super) slot: i64,
    pub(super) version: i64,
    pub(super) title: String,
    pub(super) kind: String,
    pub(super) public: bool,
    pub(super) sha256: String,
    pub(super) size: i64,
    pub(super) stored_at: i64,
}

impl DocumentRow {
    pub(super) fn decode(self) -> Result<StoredDocument, StoreError> {
        Ok(StoredDocument {
            item: from_sql(self.item, "document item")?,
            slot: from_sql(self.slot, "document slot")?,
            view: DocumentView {
                title: self.title,
                kind: parse_kind(&self.kind)?,
                sha256: self.sha256,
                size: from_sql(self.size, "document size")?,
                public: self.public,
                version: from_sql(self.version, "document version")?,
                stored_at: from_sql(self.stored_at, "document storing time")?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    pub(super) seq: i64,
    pub(super) at: i64,
    pub(super) kind: String,
    pub(super) body: String,
    pub(super) prev_hash: Vec<u8>,
    pub(super) hash: Vec<u8>,
}

impl AuditRow {
    pub(super) fn decode(self) -> Result<Entry, StoreError> {
        let event: Event = parse_json(&self.body, "audit entry")?;
        if event.kind() != self.kind {
            return Err(StoreError::Corrupt(format!(
                "audit entry {} is stored as {:?} but holds {:?}",
                self.seq,
                self.kind,
                event.kind()
            )));
        }
        Ok(Entry {
            seq: from_sql(self.seq, "audit seq")?,
            at: from_sql(self.at, "audit time")?,
            prev: parse_sha(&self.prev_hash)?,
            hash: parse_sha(&self.hash)?,
            event,
        })
    }
}

// Encodings shared by both backends.

pub(super) fn parse_sha(bytes: &[u8]) -> Result<Sha, StoreError> {
    bytes
        .try_into()
        .map(Sha)
        .map_err(|_| StoreError::Corrupt("an audit hash is not 32 bytes".into()))
}

/// `u64` into a signed 64-bit column, refusing values that would wrap.
pub(super) fn to_sql(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("{what} {value} is too large to store")))
}

/// A signed 64-bit column into the unsigned type it was stored from.
pub(super) fn from_sql<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

pub(super) fn principal_text(principal: Principal) -> String {
    match principal {
        Principal::Seat(n) => format!("seat:{n}"),
        Principal::Chair => "chair".to_owned(),
    }
}

pub(super) fn parse_principal(text: &str) -> Result<Principal, StoreError> {
    if text == "chair" {
        return Ok(Principal::Chair);
    }
    text.strip_prefix("seat:")
        .and_then(|n| n.parse().ok())
        .map(Principal::Seat)
        .ok_or_else(|| StoreError::Corrupt(format!("principal {text:?}")))
}

pub(super) fn parse_choice(text: &str) -> Result<Choice, StoreError> {
    Choice::ALL
        .into_iter()
        .find(|c| c.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("choice {text:?}")))
}

/// A stored ballot's `choice` and `marks`: a choice without marks, or a
/// paper's kind with its marks.
pub(super) fn parse_vote(text: &str, marks: Option<&[u8]>) -> Result<Vote, StoreError> {
    match marks {
        None => parse_choice(text).map(Vote::Choice),
        Some(bytes) => PaperKind::parse(text)
            .and_then(|kind| Paper::from_marks_bytes(kind, bytes))
            .map(Vote::Paper)
            .ok_or_else(|| StoreError::Corrupt(format!("a {text:?} paper's marks"))),
    }
}

pub(super) fn parse_tracker(bytes: &[u8]) -> Result<Tracker, StoreError> {
    bytes
        .try_into()
        .map(Tracker)
        .map_err(|_| StoreError::Corrupt("a secret choice's tracker is not 16 bytes".into()))
}

/// A document's kind as stored: its protocol spelling, e.g. `draft_resolution`.
pub(super) fn kind_text(kind: DocumentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("a document kind serializes as a string")
}

fn parse_kind(text: &str) -> Result<DocumentKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("document kind {text:?}")))
}

pub(super) fn parse_meeting(text: &str) -> Result<MeetingId, StoreError> {
    MeetingId::parse(text).map_err(StoreError::Corrupt)
}

pub(super) fn parse_round(text: &str) -> Result<RoundId, StoreError> {
    RoundId::from_hex(text).map_err(StoreError::Corrupt)
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Turns "no row was updated" into an error that says why.
pub(super) fn found(updated: bool, why: impl FnOnce() -> String) -> Result<(), StoreError> {
    if updated {
        Ok(())
    } else {
        Err(StoreError::Corrupt(why()))
    }
}

pub(super) fn not_open(round: impl std::fmt::Display) -> String {
    format!("round {round} is not stored or not open")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_round_trip_through_text() {
        for p in [
            Principal::Chair,
            Principal::Seat(0),
            Principal::Seat(u32::MAX),
        ] {
            assert_eq!(parse_principal(&principal_text(p)).unwrap(), p);
        }
        assert!(parse_principal("seat:").is_err());
        assert!(parse_principal("seat:-1").is_err());
    }

    #[test]
    fn integers_that_do_not_fit_are_refused_not_wrapped() {
        assert!(to_sql(u64::MAX, "t").is_err());
        assert!(from_sql::<u64>(-1, "t").is_err());
        assert!(from_sql::<u32>(i64::from(u32::MAX) + 1, "t").is_err());
        assert_eq!(from_sql::<u32>(7, "t").unwrap(), 7);
    }
}
