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
//! Only one ballot per seat is in flight at a time; a change that arrives
//! while the previous ballot is committing waits for it (and a third
//! replaces the second, which is answered `stale_sequence`). This keeps each
//! batch free of two rows for one seat and makes "the last ballot counts"
//! hold in the order the delegate pressed.

use super::Refusal;
use super::pacing::Audience;
use crate::store::{BallotRecord, RoundRecord, SecretClose};
use gavel_protocol::messages::{AnyReceipt, LiveTally, RoundStatus, SeatChoice};
use gavel_protocol::paper::{Sheet, Vote};
use gavel_protocol::results::{PaperResult, RoundResult, Turnout, count_marks};
use gavel_protocol::rules::{Interim, Secrecy};
use gavel_protocol::{Counts, RefusalReason, RoundId, SeatNo, Sha, Signature, TallyResult};
use rand::seq::SliceRandom;
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

/// The latest round of the meeting and its ballots.
pub(super) struct RoundState {
    pub(super) record: RoundRecord,
    /// Committed ballots, with their receipts.
    pub(super) recorded: BTreeMap<SeatNo, AnyReceipt>,
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

    /// The choices counted; a round on a list counts no choices (its
    /// papers are counted by [`RoundState::result`]).
    pub(super) fn counts(&self, total_seats: u32, present: u32) -> Counts {
        Counts::tally(
            total_seats,
            present,
            self.recorded.values().filter_map(|r| r.vote().choice()),
        )
    }

    /// The highest sequence number this seat has recorded or in flight.
    fn last_seq(&self, seat: SeatNo) -> Option<u64> {
        let in_flight = self
            .in_flight
            .get(&seat)
            .map(|f| f.next.as_ref().map_or(f.ballot.seq, |(b, _)| b.seq));
        let recorded = self.recorded.get(&seat).map(AnyReceipt::seq);
        in_flight.max(recorded)
    }

    /// A round as the store holds it, with the receipts of its committed ballots.
    pub(super) fn new(record: RoundRecord, recorded: BTreeMap<SeatNo, AnyReceipt>) -> RoundState {
        RoundState {
            record,
            recorded,
            in_flight: HashMap::new(),
            ending: None,
            ending_waiters: Vec::new(),
        }
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
        record: BallotRecord,
        reply: Reply<Result<AnyReceipt, Refusal>>,
    ) -> Option<BallotRecord> {
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
        for waiter in flight.waiters {
            let _ = waiter.send(Ok(receipt.clone()));
        }
        let (next, waiter) = flight.next?;
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
        let votes: Vec<Vote> = self.recorded.values().map(AnyReceipt::vote).collect();
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

    /// For a secret round: who took part and the choices (or papers),
    /// shuffled, so that what the store keeps links no seat to a choice.
    pub(super) fn secret_close(&self) -> Option<SecretClose> {
        (self.record.settings.secrecy == Secrecy::Secret).then(|| {
            let mut choices: Vec<Vote> = self.recorded.values().map(AnyReceipt::vote).collect();
            choices.shuffle(&mut rand::thread_rng());
            SecretClose {
                participants: self.recorded.keys().copied().collect(),
                choices,
            }
        })
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
        if self.record.settings.secrecy == Secrecy::Secret {
            // The store no longer links seats to choices; neither does memory.
            self.recorded.clear();
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
        receipt: impl Fn(&BallotRecord) -> AnyReceipt,
    ) -> bool {
        if !self.is_open() {
            return false;
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
            let votes: Vec<Vote> = self.recorded.values().map(AnyReceipt::vote).collect();
            let papers = votes.iter().filter_map(Vote::paper);
            Some(count_marks(
                sheet.kind,
                sheet.entries,
                papers.map(|p| p.marks.as_slice()),
            ))
        };
        // A round on a list has no choices to count: its counts are the marks'.
        let choice_counts = sheet.is_none().then_some(counts);
        let voted = || Some(self.recorded.keys().copied().collect());
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
        let taking_part = u32::try_from(self.recorded.len()).expect("fewer ballots than seats");
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
}

pub(super) enum Admitted {
    New,
    /// The identical ballot is already recorded: the same receipt answers it.
    Duplicate(AnyReceipt),
    /// The identical ballot is on its way to the store: wait with it.
    JoinInFlight,
}
