//! A vote round's state and the rules of ballot intake.
//!
//! [`RoundState`] is the latest round of a meeting with its committed
//! ballots (each with its receipt) and the ballots on their way to the
//! store. [`RoundState::admit`] decides, in one pure function, whether a
//! verified ballot may enter; the other methods move a ballot from in flight
//! to recorded (or refused) as the writer reports, and end the round. What
//! each audience may see of a round's running tally ([`RoundState::live`])
//! is here too, because it is a rule of secrecy, not of pacing.
//!
//! **Secret rounds.** Memory links a seat to its choice (its receipt) and
//! to the tracker of its choice row, so that a changed vote replaces that
//! row; the store never does (see `store`'s notes on secret ballots). The
//! ballots a hub reads back from the store after a restart, or after a
//! store outage it could not follow, are [`Unlinked`]: it counts their
//! choices and knows who took part, but not who chose what. Such a seat's
//! ballot sent again (the same sequence number and signature, hence the
//! same tracker) is answered with its receipt again; a new ballot from it
//! is refused (`change_lost_in_restart`), because the hub can no longer
//! find the choice row it would replace.
//!
//! Only one ballot per seat is in flight at a time; a change that arrives
//! while the previous ballot is committing waits for it (and a third
//! replaces the second, which is answered `stale_sequence`). This keeps each
//! batch free of two rows for one seat and makes "the last ballot counts"
//! hold in the order the delegate pressed.

use super::Refusal;
use super::pacing::Audience;
use crate::store::{BallotRecord, RoundRecord, SecretBallot, SecretBallots};
use gavel_protocol::messages::{AnyReceipt, LiveTally, RoundStatus, SeatChoice};
use gavel_protocol::paper::{Sheet, Vote};
use gavel_protocol::results::{PaperResult, RoundResult, Turnout, count_marks};
use gavel_protocol::rules::{Interim, Secrecy};
use gavel_protocol::{
    Counts, RefusalReason, RoundId, SeatNo, Sha, Signature, TallyResult, Tracker,
};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::oneshot;

/// Where the answer to a command goes.
pub type Reply<T> = oneshot::Sender<T>;

/// A ballot whose signature the connection has already checked.
#[derive(Debug)]
pub struct VerifiedBallot {
    pub seat: SeatNo,
    pub round: RoundId,
    /// The documents digest the signature covers.
    pub documents: Sha,
    /// A choice, or a whole paper on a list.
    pub vote: Vote,
    pub seq: u64,
    pub signature: Signature,
}

impl VerifiedBallot {
    /// The ballot as the store records it, at `recorded_at`; the round adds
    /// what a secret ballot replaces ([`RoundState::enqueue`]).
    pub(super) fn record(self, recorded_at: u64) -> BallotRecord {
        BallotRecord {
            round: self.round,
            documents: Some(self.documents),
            seat: self.seat,
            vote: self.vote,
            seq: self.seq,
            signature: self.signature,
            recorded_at,
            secret: None,
        }
    }
}

/// A ballot handed to the writer and not yet committed, and, if the seat sent
/// another one meanwhile, that later ballot (sent once this one commits).
pub(super) struct InFlight {
    ballot: BallotRecord,
    waiters: Vec<Reply<Result<AnyReceipt, Refusal>>>,
    next: Option<(BallotRecord, Reply<Result<AnyReceipt, Refusal>>)>,
}

/// Why an open round is ending; it ends once its last ballots have committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    Close,
    Void,
}

/// A secret round's ballots read back from the store: who took part and
/// what was chosen, not linked to each other.
#[derive(Default)]
pub(super) struct Unlinked {
    /// Each seat's last ballot: its sequence number and time.
    seats: BTreeMap<SeatNo, (u64, u64)>,
    votes: BTreeMap<Tracker, Vote>,
}

/// The latest round of the meeting and its ballots.
pub(super) struct RoundState {
    pub(super) record: RoundRecord,
    /// Committed ballots, with their receipts; in a secret round, those
    /// this hub linked to their seats itself.
    pub(super) recorded: BTreeMap<SeatNo, AnyReceipt>,
    /// In a secret round, the trackers of the choice rows that may be each
    /// linked seat's: its recorded ballot's, and those of ballots whose
    /// commit failed (they may have committed anyway).
    trackers: HashMap<SeatNo, Vec<Tracker>>,
    /// In a secret round, the ballots read back from the store.
    unlinked: Unlinked,
    in_flight: HashMap<SeatNo, InFlight>,
    pub(super) ending: Option<Ending>,
    /// Chair commands waiting for the round to end.
    ending_waiters: Vec<Reply<Result<(), Refusal>>>,
}

impl RoundState {
    pub(super) fn is_open(&self) -> bool {
        self.record.status == RoundStatus::Open
    }

    pub(super) fn accepting(&self) -> bool {
        self.is_open() && self.ending.is_none()
    }

    /// Open, not ending and not held by the chair: its clock runs.
    pub(super) fn running(&self) -> bool {
        self.accepting() && self.record.paused_at.is_none()
    }

    fn is_secret(&self) -> bool {
        self.record.settings.secrecy == Secrecy::Secret
    }

    /// Every recorded vote, linked or not.
    fn votes(&self) -> Vec<Vote> {
        let linked = self.recorded.values().map(AnyReceipt::vote);
        linked
            .chain(self.unlinked.votes.values().cloned())
            .collect()
    }

    /// The seats that have a recorded ballot, in order.
    fn voters(&self) -> Vec<SeatNo> {
        let mut seats: Vec<SeatNo> = self.recorded.keys().copied().collect();
        seats.extend(self.unlinked.seats.keys());
        seats.sort_unstable();
        seats
    }

    /// The choices counted; a round on a list counts no choices (its
    /// papers are counted by [`RoundState::result`]).
    pub(super) fn counts(&self, total_seats: u32, present: u32) -> Counts {
        let votes = self.votes();
        Counts::tally(total_seats, present, votes.iter().filter_map(Vote::choice))
    }

    /// The highest sequence number this seat has recorded or in flight.
    fn last_seq(&self, seat: SeatNo) -> Option<u64> {
        let in_flight = self
            .in_flight
            .get(&seat)
            .map(|f| f.next.as_ref().map_or(f.ballot.seq, |(b, _)| b.seq));
        let recorded = self.recorded.get(&seat).map(AnyReceipt::seq);
        let unlinked = self.unlinked.seats.get(&seat).map(|&(seq, _)| seq);
        in_flight.max(recorded).max(unlinked)
    }

    /// A round as the store holds it, with the receipts of a named round's
    /// committed ballots and a secret round's ballots, which it keeps
    /// unlinked.
    pub(super) fn new(
        record: RoundRecord,
        recorded: BTreeMap<SeatNo, AnyReceipt>,
        secret: SecretBallots,
    ) -> RoundState {
        let mut round = RoundState {
            record,
            recorded,
            trackers: HashMap::new(),
            unlinked: Unlinked::default(),
            in_flight: HashMap::new(),
            ending: None,
            ending_waiters: Vec::new(),
        };
        if round.is_secret() {
            round.take_in_secret(secret);
        }
        round
    }

    /// What a secret ballot from `seat` replaces: every choice row that
    /// may be the seat's.
    fn secret_part(&self, seat: SeatNo) -> Option<SecretBallot> {
        self.is_secret().then(|| SecretBallot {
            replaces: self.trackers.get(&seat).cloned().unwrap_or_default(),
        })
    }

    /// `reply` waits for the identical ballot already on its way to the store.
    pub(super) fn join_in_flight(
        &mut self,
        seat: SeatNo,
        reply: Reply<Result<AnyReceipt, Refusal>>,
    ) {
        self.in_flight
            .get_mut(&seat)
            .expect("admitted as in flight")
            .waiters
            .push(reply);
    }

    /// Takes in an admitted new ballot. Returns it if it is to go to the
    /// writer now; a ballot from a seat that has one in flight waits for
    /// that one (replacing, and refusing, any that was already waiting).
    pub(super) fn enqueue(
        &mut self,
        mut record: BallotRecord,
        reply: Reply<Result<AnyReceipt, Refusal>>,
    ) -> Option<BallotRecord> {
        record.secret = self.secret_part(record.seat);
        match self.in_flight.get_mut(&record.seat) {
            Some(flight) => {
                if let Some((_, superseded)) = flight.next.replace((record, reply)) {
                    let _ = superseded.send(Err(Refusal::new(
                        RefusalReason::StaleSequence,
                        "a later ballot from this seat replaced this one before it was recorded",
                    )));
                }
                None
            }
            None => {
                self.in_flight.insert(
                    record.seat,
                    InFlight {
                        ballot: record.clone(),
                        waiters: vec![reply],
                        next: None,
                    },
                );
                Some(record)
            }
        }
    }

    /// The writer committed `ballot`: it counts, and whoever waits for it is
    /// given its receipt. Returns the seat's next ballot, which now goes to
    /// the writer, if one was waiting.
    pub(super) fn committed(
        &mut self,
        ballot: &BallotRecord,
        receipt: AnyReceipt,
    ) -> Option<BallotRecord> {
        let flight = self.in_flight.remove(&ballot.seat)?;
        tracing::info!(meeting = %self.record.meeting, round = %ballot.round, seat = ballot.seat, seq = ballot.seq, "ballot accepted");
        self.recorded.insert(ballot.seat, receipt.clone());
        if self.is_secret() {
            self.trackers.insert(ballot.seat, vec![ballot.tracker()]);
        }
        for waiter in flight.waiters {
            let _ = waiter.send(Ok(receipt.clone()));
        }
        let (mut next, waiter) = flight.next?;
        next.secret = self.secret_part(next.seat);
        self.in_flight.insert(
            next.seat,
            InFlight {
                ballot: next.clone(),
                waiters: vec![waiter],
                next: None,
            },
        );
        Some(next)
    }

    /// The writer could not commit `ballot`: whoever waits for it, or for the
    /// seat's next ballot, is told the store is unavailable.
    pub(super) fn not_committed(&mut self, ballot: &BallotRecord) {
        let Some(flight) = self.in_flight.remove(&ballot.seat) else {
            return;
        };
        if self.is_secret() {
            // It may have committed all the same: the seat's next ballot
            // replaces its choice row too.
            let trackers = self.trackers.entry(ballot.seat).or_default();
            if !trackers.contains(&ballot.tracker()) {
                trackers.push(ballot.tracker());
            }
        }
        let refusal = Refusal::from(RefusalReason::StoreUnavailable);
        for waiter in flight.waiters {
            let _ = waiter.send(Err(refusal.clone()));
        }
        if let Some((_, waiter)) = flight.next {
            let _ = waiter.send(Err(refusal.clone()));
        }
    }

    /// Stops intake; the round ends once its in-flight ballots have
    /// committed. A round already ending keeps the ending it was given
    /// first. `waiter`, if any, is answered once the round has ended.
    pub(super) fn stop(&mut self, ending: Ending, waiter: Option<Reply<Result<(), Refusal>>>) {
        self.ending.get_or_insert(ending);
        self.ending_waiters.extend(waiter);
    }

    /// The ending to carry out now: the round is ending, not yet ended, and
    /// nothing of it is in flight any more.
    pub(super) fn drained(&self) -> Option<Ending> {
        self.ending
            .filter(|_| self.is_open() && self.in_flight.is_empty())
    }

    /// The result of a round that closes with `present` seats present: its
    /// tally, or for a round on a list (`sheet`, the item's) its papers
    /// counted per candidate or official.
    pub(super) fn result(
        &self,
        sheet: Option<Sheet>,
        total_seats: u32,
        present: u32,
    ) -> RoundResult {
        let rule = self.record.settings.rule;
        let Some(sheet) = sheet else {
            return RoundResult::Tally(TallyResult::decide(
                rule,
                self.counts(total_seats, present),
            ));
        };
        let votes = self.votes();
        let turnout = Turnout {
            total_seats,
            present,
            papers: u32::try_from(votes.len()).expect("fewer papers than seats"),
        };
        RoundResult::Paper(PaperResult::decide(
            sheet.kind,
            rule,
            sheet.entries,
            sheet.posts,
            turnout,
            votes
                .iter()
                .filter_map(Vote::paper)
                .map(|p| p.marks.as_slice()),
        ))
    }

    /// The store could not end the round: whoever asked is told so now; the
    /// ending is tried again.
    pub(super) fn ending_failed(&mut self) {
        for waiter in self.ending_waiters.drain(..) {
            let _ = waiter.send(Err(RefusalReason::StoreUnavailable.into()));
        }
    }

    /// The store has ended the round at `closed_at` with `result` (none if
    /// voided). Returns the chair commands to answer once the result is out.
    pub(super) fn ended(
        &mut self,
        ending: Ending,
        closed_at: u64,
        result: Option<RoundResult>,
    ) -> Vec<Reply<Result<(), Refusal>>> {
        self.record.closed_at = Some(closed_at);
        self.record.result = result;
        self.record.status = match ending {
            Ending::Close => RoundStatus::Closed,
            Ending::Void => RoundStatus::Voided,
        };
        if self.is_secret() {
            // The round's choices are counted; memory forgets whose they were.
            self.recorded.clear();
            self.trackers.clear();
            self.unlinked = Unlinked::default();
        }
        std::mem::take(&mut self.ending_waiters)
    }

    /// Takes in the ballots the store held when it answered again after an
    /// outage (`receipt` signs each), unless memory knows better: a ballot
    /// of this seat in flight or a later one recorded. True if any changed
    /// what counts.
    pub(super) fn take_in(
        &mut self,
        ballots: Vec<BallotRecord>,
        secret: SecretBallots,
        receipt: impl Fn(&BallotRecord) -> AnyReceipt,
    ) -> bool {
        if !self.is_open() {
            return false;
        }
        if self.is_secret() {
            let before = (self.voters(), self.votes());
            self.take_in_secret(secret);
            return (self.voters(), self.votes()) != before;
        }
        let mut changed = false;
        for ballot in ballots {
            let stale = self.in_flight.contains_key(&ballot.seat)
                || self
                    .recorded
                    .get(&ballot.seat)
                    .is_some_and(|r| r.seq() > ballot.seq);
            if stale {
                continue;
            }
            let receipt = receipt(&ballot);
            if self.recorded.get(&ballot.seat) != Some(&receipt) {
                tracing::info!(meeting = %self.record.meeting, round = %self.record.id, seat = ballot.seat, seq = ballot.seq, "stored ballot taken in after a store outage");
                self.recorded.insert(ballot.seat, receipt);
                changed = true;
            }
        }
        changed
    }

    /// Takes in a secret round's ballots as the store holds them. A seat
    /// stays linked if the store holds its recorded ballot (the same
    /// sequence number, one of its trackers), and a seat with a ballot in
    /// flight is left to that ballot; every other stored ballot is
    /// unlinked. The store is right about what counts.
    fn take_in_secret(&mut self, stored: SecretBallots) {
        let choices: BTreeMap<Tracker, Vote> = stored.choices.into_iter().collect();
        let mut linked = BTreeMap::new();
        let mut trackers = HashMap::new();
        for seat in self.in_flight.keys() {
            linked.extend(self.recorded.remove_entry(seat));
            trackers.extend(self.trackers.remove_entry(seat));
        }
        let mut unlinked = Unlinked::default();
        for p in stored.participants {
            if self.in_flight.contains_key(&p.seat) {
                continue;
            }
            let own = self
                .trackers
                .get(&p.seat)
                .and_then(|known| known.iter().find(|t| choices.contains_key(t)));
            match (self.recorded.get(&p.seat), own) {
                (Some(receipt), Some(&tracker)) if receipt.seq() == p.seq => {
                    linked.insert(p.seat, receipt.clone());
                    trackers.insert(p.seat, vec![tracker]);
                }
                _ => {
                    unlinked.seats.insert(p.seat, (p.seq, p.recorded_at));
                }
            }
        }
        let mine: Vec<Tracker> = trackers.values().flatten().copied().collect();
        unlinked.votes = choices
            .into_iter()
            .filter(|(t, _)| !mine.contains(t))
            .collect();
        if !unlinked.seats.is_empty() {
            tracing::info!(meeting = %self.record.meeting, round = %self.record.id, ballots = unlinked.seats.len(), "secret ballots read back from the store, not linked to their seats");
        }
        self.recorded = linked;
        self.trackers = trackers;
        self.unlinked = unlinked;
    }

    /// The running tally as `audience` may see it; `sheet` is the item's
    /// list in a round on a list, whose counts are per entry and mark.
    pub(super) fn live(
        &self,
        audience: Audience,
        sheet: Option<Sheet>,
        total_seats: u32,
        present: u32,
    ) -> LiveTally {
        let settings = &self.record.settings;
        let counts = self.counts(total_seats, present);
        let named = settings.secrecy == Secrecy::Named;
        let marks = || {
            let sheet = sheet?;
            let votes = self.votes();
            let papers = votes.iter().filter_map(Vote::paper);
            Some(count_marks(
                sheet.kind,
                sheet.entries,
                papers.map(|p| p.marks.as_slice()),
            ))
        };
        // A round on a list has no choices to count: its counts are the marks'.
        let choice_counts = sheet.is_none().then_some(counts);
        let voted = || Some(self.voters());
        let choices = || {
            Some(
                self.recorded
                    .iter()
                    .filter_map(|(&seat, r)| {
                        let choice = r.vote().choice()?;
                        Some(SeatChoice { seat, choice })
                    })
                    .collect(),
            )
        };
        let show_individual = named && settings.interim == Interim::Individual;
        // In a secret round nobody sees running totals, the chair included:
        // whoever watches the totals move as seats vote (the chair sees who
        // voted; the hall sees who pressed) would learn each seat's choice.
        let show_counts = named && settings.interim != Interim::None;
        // Every recorded ballot takes part, a paper (even blank) included.
        let taking_part = u32::try_from(self.voters().len()).expect("fewer ballots than seats");
        match audience {
            Audience::Chair => LiveTally {
                taking_part,
                counts: choice_counts.filter(|_| named),
                marks: if named { marks() } else { None },
                voted: voted(),
                choices: if named { choices() } else { None },
            },
            Audience::Public | Audience::Delegates => LiveTally {
                taking_part,
                counts: choice_counts.filter(|_| show_counts),
                marks: if show_counts { marks() } else { None },
                voted: if show_individual { voted() } else { None },
                choices: if show_individual { choices() } else { None },
            },
        }
    }

    /// Decides whether a verified ballot may enter the round at server time
    /// `now`; `sheet` is the round's item's list, if it is voted on with a
    /// paper. Pure, so that every rule of intake reads in one place.
    pub(super) fn admit(
        &self,
        ballot: &VerifiedBallot,
        sheet: Option<Sheet>,
        checked_in: bool,
        now: u64,
    ) -> Result<Admitted, Refusal> {
        let record = &self.record;
        if ballot.round != record.id {
            return Err(if self.is_open() {
                Refusal::new(
                    RefusalReason::WrongRound,
                    "this ballot is for another vote round",
                )
            } else {
                Refusal::from(RefusalReason::NoOpenRound)
            });
        }
        match record.status {
            RoundStatus::Voided => {
                return Err(Refusal::new(
                    RefusalReason::WrongRound,
                    "this vote round was voided",
                ));
            }
            RoundStatus::Closed => {
                return Err(Refusal::new(
                    RefusalReason::Late,
                    "the voting window has closed",
                ));
            }
            // Held: the clock stands still, so the deadline says nothing
            // until the round resumes.
            RoundStatus::Open if self.ending.is_none() && record.paused_at.is_some() => {
                return Err(Refusal::new(
                    RefusalReason::RoundPaused,
                    "the chair has paused this vote; wait for it to resume",
                ));
            }
            RoundStatus::Open if self.ending.is_some() || now >= record.deadline => {
                return Err(Refusal::new(
                    RefusalReason::Late,
                    "the voting window has closed",
                ));
            }
            RoundStatus::Open => {}
        }
        // A round recorded before rounds recorded documents takes no
        // ballot: every ballot now signs a digest it could not match.
        if record.documents.as_ref().map(|d| d.digest) != Some(ballot.documents) {
            return Err(Refusal::new(
                RefusalReason::DocumentsChanged,
                "this ballot was signed on other versions of the item's documents than the round's: fetch them again",
            ));
        }
        match (&ballot.vote, sheet) {
            (Vote::Choice(_), None) => {}
            (Vote::Choice(_), Some(sheet)) => {
                return Err(Refusal::new(
                    RefusalReason::WrongBallotKind,
                    format!(
                        "this item is voted on with a {} paper, not a choice",
                        sheet.kind.as_str()
                    ),
                ));
            }
            (Vote::Paper(_), None) => {
                return Err(Refusal::new(
                    RefusalReason::WrongBallotKind,
                    "this item is voted on with yes, no or abstain, not a paper",
                ));
            }
            (Vote::Paper(paper), Some(sheet)) => {
                if let Err(e) = sheet.check(paper.kind, &paper.marks) {
                    return Err(Refusal::new(RefusalReason::from(&e), e.to_string()));
                }
            }
        }
        if record.settings.require_check_in && !checked_in {
            return Err(Refusal::new(
                RefusalReason::NotCheckedIn,
                "check in before voting",
            ));
        }
        let seat = ballot.seat;
        if let Some(&(seq, recorded_at)) = self.unlinked.seats.get(&seat) {
            return self.admit_unlinked(ballot, seq, recorded_at);
        }
        if let Some(recorded) = self.recorded.get(&seat)
            && recorded.seq() == ballot.seq
            && recorded.vote() == ballot.vote
            && !self.in_flight.contains_key(&seat)
        {
            return Ok(Admitted::Duplicate(recorded.clone()));
        }
        if let Some(flight) = self.in_flight.get(&seat)
            && flight.next.is_none()
            && flight.ballot.seq == ballot.seq
            && flight.ballot.vote == ballot.vote
        {
            return Ok(Admitted::JoinInFlight);
        }
        if let Some(last) = self.last_seq(seat) {
            if ballot.seq <= last {
                return Err(Refusal::new(
                    RefusalReason::StaleSequence,
                    format!("a ballot with sequence {last} is already recorded for this seat"),
                ));
            }
            if !record.settings.allow_change {
                return Err(Refusal::new(
                    RefusalReason::ChangeNotAllowed,
                    "this vote does not allow changing a ballot",
                ));
            }
        }
        Ok(Admitted::New)
    }

    /// A ballot from a seat whose secret ballot (`seq`, recorded at
    /// `recorded_at`) was read back from the store unlinked.
    fn admit_unlinked(
        &self,
        ballot: &VerifiedBallot,
        seq: u64,
        recorded_at: u64,
    ) -> Result<Admitted, Refusal> {
        let tracker = Tracker::of(&ballot.signature);
        if ballot.seq == seq && self.unlinked.votes.get(&tracker) == Some(&ballot.vote) {
            return Ok(Admitted::Unlinked { recorded_at });
        }
        if ballot.seq <= seq {
            return Err(Refusal::new(
                RefusalReason::StaleSequence,
                format!("a ballot with sequence {seq} is already recorded for this seat"),
            ));
        }
        if !self.record.settings.allow_change {
            return Err(Refusal::new(
                RefusalReason::ChangeNotAllowed,
                "this vote does not allow changing a ballot",
            ));
        }
        Err(Refusal::new(
            RefusalReason::ChangeLostInRestart,
            "your secret ballot was recorded before the server restarted; it still counts, \
             but the server no longer knows which choice was yours, so it cannot be changed",
        ))
    }
}

pub(super) enum Admitted {
    New,
    /// The identical ballot is already recorded: the same receipt answers it.
    Duplicate(AnyReceipt),
    /// The identical ballot is among a secret round's unlinked ones, recorded
    /// at this time: a receipt issued again answers it.
    Unlinked {
        recorded_at: u64,
    },
    /// The identical ballot is on its way to the store: wait with it.
    JoinInFlight,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Participation;
    use ed25519_dalek::SigningKey;
    use gavel_protocol::documents::RoundDocuments;
    use gavel_protocol::{Choice, MeetingId, VoteSettings};

    const NOW: u64 = 10_000;

    fn secret_round() -> RoundRecord {
        RoundRecord {
            id: RoundId([3; 16]),
            meeting: MeetingId::parse("m").unwrap(),
            item: 0,
            settings: VoteSettings {
                secrecy: Secrecy::Secret,
                interim: Interim::None,
                ..VoteSettings::default()
            },
            opened_at: 1_000,
            deadline: 100_000,
            paused_at: None,
            status: RoundStatus::Open,
            closed_at: None,
            announced_at: None,
            result: None,
            documents: Some(RoundDocuments::of(Vec::new())),
            by_hand: None,
        }
    }

    /// Seat `seat`'s ballot, its signature standing for the device's.
    fn ballot(seat: SeatNo, choice: Choice, seq: u64) -> VerifiedBallot {
        let mut bytes = [0u8; 64];
        bytes[..4].copy_from_slice(&seat.to_be_bytes());
        bytes[4..12].copy_from_slice(&seq.to_be_bytes());
        bytes[12] = choice as u8;
        VerifiedBallot {
            seat,
            round: RoundId([3; 16]),
            documents: gavel_protocol::documents::digest(&[]),
            vote: Vote::Choice(choice),
            seq,
            signature: Signature::from_bytes(&bytes),
        }
    }

    fn stored(ballots: &[(&VerifiedBallot, u64)]) -> SecretBallots {
        let mut choices: Vec<(Tracker, Vote)> = ballots
            .iter()
            .map(|(b, _)| (Tracker::of(&b.signature), b.vote.clone()))
            .collect();
        choices.sort_by_key(|(t, _)| *t);
        SecretBallots {
            participants: ballots
                .iter()
                .map(|(b, at)| Participation {
                    seat: b.seat,
                    seq: b.seq,
                    recorded_at: *at,
                })
                .collect(),
            choices,
        }
    }

    fn reason(admitted: Result<Admitted, Refusal>) -> Option<RefusalReason> {
        admitted.err().map(|r| r.reason)
    }

    #[test]
    fn ballots_read_back_count_once_and_only_a_resend_is_answered() {
        let (one, two) = (ballot(1, Choice::Yes, 5), ballot(2, Choice::No, 3));
        let round = RoundState::new(
            secret_round(),
            BTreeMap::new(),
            stored(&[(&one, 2_000), (&two, 2_500)]),
        );
        assert_eq!(round.voters(), vec![1, 2]);
        let counts = round.counts(10, 10);
        assert_eq!((counts.yes, counts.no, counts.abstain), (1, 1, 0));

        let resent = round.admit(&one, None, true, NOW);
        assert!(matches!(
            resent,
            Ok(Admitted::Unlinked { recorded_at: 2_000 })
        ));
        let other = ballot(1, Choice::No, 5);
        assert_eq!(
            reason(round.admit(&other, None, true, NOW)),
            Some(RefusalReason::StaleSequence)
        );
        let change = ballot(1, Choice::No, 6);
        assert_eq!(
            reason(round.admit(&change, None, true, NOW)),
            Some(RefusalReason::ChangeLostInRestart)
        );
        assert!(matches!(
            round.admit(&ballot(3, Choice::Abstain, 1), None, true, NOW),
            Ok(Admitted::New)
        ));
    }

    #[test]
    fn after_an_outage_a_linked_seat_stays_linked_and_a_lost_answer_is_read_back() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let meeting = MeetingId::parse("m").unwrap();
        let mut round = RoundState::new(secret_round(), BTreeMap::new(), SecretBallots::default());
        let (first, lost) = (ballot(1, Choice::Yes, 1), ballot(2, Choice::No, 1));

        let (reply, _answer) = oneshot::channel();
        let record = round
            .enqueue(ballot(1, Choice::Yes, 1).record(1_500), reply)
            .unwrap();
        assert_eq!(record.secret, Some(SecretBallot::default()));
        round.committed(&record, record.receipt(&key, &meeting));
        // Seat 2's commit went through; its answer was lost.
        let (reply, _answer) = oneshot::channel();
        let record = round
            .enqueue(ballot(2, Choice::No, 1).record(1_600), reply)
            .unwrap();
        round.not_committed(&record);

        let changed = round.take_in(
            Vec::new(),
            stored(&[(&first, 1_500), (&lost, 1_600)]),
            |b| b.receipt(&key, &meeting),
        );
        assert!(changed, "seat 2's ballot now counts");
        let counts = round.counts(10, 10);
        assert_eq!((counts.yes, counts.no), (1, 1));
        // Seat 1 is still linked: it may change its vote, which replaces its row.
        let change = ballot(1, Choice::No, 2);
        assert!(matches!(
            round.admit(&change, None, true, NOW),
            Ok(Admitted::New)
        ));
        let (reply, _answer) = oneshot::channel();
        let record = round.enqueue(change.record(1_700), reply).unwrap();
        assert_eq!(
            record.secret.map(|s| s.replaces),
            Some(vec![Tracker::of(&first.signature)])
        );
        // Seat 2's ballot, sent again, is answered; a change is not.
        assert!(matches!(
            round.admit(&lost, None, true, NOW),
            Ok(Admitted::Unlinked { recorded_at: 1_600 })
        ));
        assert_eq!(
            reason(round.admit(&ballot(2, Choice::Yes, 2), None, true, NOW)),
            Some(RefusalReason::ChangeLostInRestart)
        );
    }
}
