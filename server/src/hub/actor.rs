//! The meeting actor: the one task that owns a meeting's live state.
//!
//! Every change (check-in, ballot, chair command, deadline) arrives here as a
//! [`Command`] or a timer and is applied in order, so there are no locks
//! around meeting state. The actor is the conductor; the rules it applies
//! live beside it:
//! - [`round`](super::round): a round's state and ballot intake (`admit`);
//! - [`floor`](super::floor): the queue of speakers and the speaker's clock;
//! - [`pacing`](super::pacing): when each audience is sent what;
//! - [`outage`](super::outage): what happens while the store does not answer;
//! - [`writer`](super::writer): ballots made durable before they count.
//!
//! Ballots go to the writer and only count once they come back committed.
//!
//! Longer than the other hub modules because it is the one place where a
//! meeting's state changes: each command's handler reads as one story
//! (check, write to the store, change memory, broadcast, answer), and
//! splitting those stories would spread one change over several files.

use super::floor::{Act, Flood, Floor};
use super::hand::{self, HandCount, HandRefusal};
use super::outage::{Outage, Reread, store_refusal};
use super::pacing::{Audience, Broadcast, Due, Pacing};
use super::round::{Admitted, Ending, Reply, RoundState, VerifiedBallot};
use super::writer::{self, Written};
use super::{Delivery, Frame, Presented, Refusal, frame};
use crate::clock::{instant_of, now_ms, now_us};
use crate::meeting::amend::AmendRefusal;
use crate::meeting::{ListFault, MeetingDefinition, MeetingForm, check_list};
use crate::metrics;
use crate::signatures::Signatures;
use crate::store::{
    Amended, Amendment, BallotRecord, CountConfirmation, RoundRecord, SecretBallots, Store,
    StoreError,
};
use ed25519_dalek::SigningKey;
use gavel_protocol::board::{BoardView, Confirmation, Confirmed, Count, ToConfirm};
use gavel_protocol::floor::FloorChange;
use gavel_protocol::messages::{
    AnyReceipt, ByHand, ChairCommand, ItemState, ItemStatus, ListEntry, PaperList, RoundStatus,
    RoundView, Snapshot,
};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::paper::Sheet;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::{Interim, Secrecy};
use gavel_protocol::{
    MeetingId, Principal, PublicKey, RefusalReason, RoundId, SeatNo, ServerMsg, Signature,
};
use gavel_records::chain::{Amender, Sha};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Commands waiting for the actor; senders wait when it is full.
pub const INBOX: usize = 4096;
/// Ballots waiting for the writer.
const WRITER_QUEUE: usize = 8192;
/// How long to wait before trying again to end a round the store refused to end.
const END_RETRY: Duration = Duration::from_secs(1);
/// The longest a chair may extend a round by in one step.
const MAX_EXTENSION_SECONDS: u32 = 3600;
/// How long changes of the queue alone are gathered before the hall screen,
/// the public and the tablets are sent them. The chair's console gets each
/// at once, and so does everyone a change of the turn; a burst of requests
/// as an item opens costs the hall one frame per tick, not one per request.
const FLOOR_TICK: Duration = Duration::from_millis(250);

/// What a connection asks of the meeting.
pub enum Command {
    /// A connection logs in: it gets the current snapshot and its updates, with no gap between.
    Join {
        audience: Audience,
        principal: Option<Principal>,
        reply: Reply<Joined>,
    },
    /// A fresh snapshot and floor, for a listener that fell behind or
    /// asked to sync.
    Snapshot {
        audience: Audience,
        reply: Reply<[Frame; 2]>,
    },
    /// A delegate's own state.
    You {
        seat: SeatNo,
        reply: Reply<ServerMsg>,
    },
    CheckIn {
        seat: SeatNo,
        reply: Reply<Result<ServerMsg, Refusal>>,
    },
    Cast {
        ballot: VerifiedBallot,
        reply: Reply<Result<AnyReceipt, Refusal>>,
    },
    Chair {
        command: ChairCommand,
        reply: Reply<Result<(), Refusal>>,
    },
    /// The chair's `present` (checked by the connection against the view
    /// and the document's pages) or, with `None`, `stop_presenting`.
    Present {
        presented: Option<Presented>,
        reply: Reply<Result<(), Refusal>>,
    },
    /// A counting board member's device confirms the last round's count
    /// (its signature not yet checked).
    ConfirmCount {
        seat: SeatNo,
        key: PublicKey,
        round: RoundId,
        count: Count,
        signature: Signature,
        reply: Reply<Result<(), Refusal>>,
    },
    /// The secretariat records an item's result by hand (the devices
    /// failed): answered with the round it was stored as.
    RecordByHand {
        hand: HandCount,
        reply: Reply<Result<RoundRecord, HandRefusal>>,
    },
    /// A change of the meeting's stored definition (the secretariat's
    /// form or upload): written under the store's rules while no round can
    /// open, then taken up. Answered with what was stored, once the
    /// actor runs on it.
    Amend {
        amendment: Amendment,
        reply: Reply<Result<Amended, StoreError>>,
    },
    /// The stored definition changed beyond this actor (`gavel meeting
    /// import` into the same store, before any round): the actor takes it up.
    Adopt {
        definition: Arc<MeetingDefinition>,
        sha: Sha,
    },
    /// A delegate asks for the floor or withdraws its request
    /// ([`Act::Request`] or [`Act::Withdraw`], with the connection's seat).
    Floor {
        seat: SeatNo,
        act: Act,
        reply: Reply<Result<(), Refusal>>,
    },
}

/// What a joining connection receives.
pub struct Joined {
    pub snapshot: Frame,
    /// The floor as the audience sees it.
    pub floor: Frame,
    /// The version of both.
    pub version: u64,
    /// A running tally newer than the snapshot: only from a relay, whose
    /// snapshot is the one last published (the actor's carries the tally).
    pub tally: Option<Frame>,
    pub you: Option<ServerMsg>,
    pub updates: broadcast::Receiver<Broadcast>,
    /// Where the connection reports each tally it has written or skipped.
    pub delivery: Arc<Delivery>,
}

pub struct MeetingActor {
    definition: Arc<MeetingDefinition>,
    /// Where the hub is told of an amendment the actor made (the chair's),
    /// to give the meeting its new view.
    amended: mpsc::UnboundedSender<MeetingId>,
    /// SHA-256 of the stored text `definition` was read from: what the
    /// chair's amendments are made to.
    definition_sha: Sha,
    store: Store,
    server_key: Arc<SigningKey>,
    outage: Outage,
    version: u64,
    current_item: Option<u32>,
    present: BTreeSet<SeatNo>,
    /// Every round of the meeting, oldest first; the last one is `round`'s record.
    history: Vec<RoundRecord>,
    round: Option<RoundState>,
    pacing: Pacing,
    writer: mpsc::Sender<BallotRecord>,
    written: mpsc::UnboundedReceiver<Written>,
    /// When to try again to end a round whose ending the store refused.
    retry_end_at: Option<Instant>,
    /// Counts the open round in the metrics while there is one.
    open_metric: Option<metrics::OpenRound>,
    floor: Floor,
    flood: Flood,
    /// When the queue's changes are due to the hall and the tablets.
    floor_due: Option<Instant>,
    /// The page the chair puts before the hall. Live state only: it decides
    /// nothing, so it is neither stored nor chained, and a restart takes it down.
    presented: Option<Presented>,
    /// The counting board's confirmations of the last round's count, in
    /// the order they came.
    confirmed: Vec<Confirmed>,
    /// When the chair closed the session: from then on nothing is decided
    /// ([`MeetingActor::close_session`]).
    closed_at: Option<u64>,
}

impl MeetingActor {
    /// Rebuilds a meeting's state from the store, including an open round and
    /// its acknowledged ballots, and starts its writer on `tasks`. The
    /// definition comes with the SHA-256 of the stored text it was read
    /// from; `amended` is where the hub learns of the chair's amendments.
    pub async fn restore(
        (definition, definition_sha): (Arc<MeetingDefinition>, Sha),
        amended: mpsc::UnboundedSender<MeetingId>,
        current_item: Option<u32>,
        store: Store,
        server_key: Arc<SigningKey>,
        signatures: Arc<Signatures>,
        tasks: &TaskTracker,
    ) -> anyhow::Result<MeetingActor> {
        let id = definition.id.clone();
        let present = store.present(&id).await?.into_iter().collect();
        let closed_at = store.session_closed_at(&id).await?;
        // Above what a previous host published, too: a relay's viewers stay
        // connected across a takeover, and drop frames older than their last.
        let published = store.audience_version(&id).await?;
        let floor = Floor::replay(&definition, &store.floor_changes(&id).await?);
        let mut history = store.rounds(&id).await?;
        let round = match history.last() {
            Some(last) => {
                let recorded = store
                    .ballots(last.id)
                    .await?
                    .iter()
                    .map(|b| (b.seat, b.receipt(&server_key, &id)))
                    .collect::<BTreeMap<_, _>>();
                let secret = if last.status == RoundStatus::Open {
                    store.secret_ballots(last.id).await?
                } else {
                    SecretBallots::default()
                };
                if last.status == RoundStatus::Open {
                    let ballots = recorded.len() + secret.participants.len();
                    tracing::info!(meeting = %id, round = %last.id, ballots, "open round restored");
                }
                Some(RoundState::new(last.clone(), recorded, secret))
            }
            None => None,
        };
        let latest = round.as_ref().map(|r| r.record.id);
        let confirmed = store
            .confirmations(&id)
            .await?
            .into_iter()
            .filter(|(r, _)| Some(*r) == latest)
            .map(|(_, c)| c)
            .collect();
        // The history keeps only finished rounds; the latest lives in `round`.
        if round.as_ref().is_some_and(|r| r.is_open()) {
            history.pop();
        }
        let open_metric = round
            .as_ref()
            .filter(|r| r.is_open())
            .map(|_| metrics::OpenRound::begin());
        let (writer_tx, writer_rx) = mpsc::channel(WRITER_QUEUE);
        let (written_tx, written_rx) = mpsc::unbounded_channel();
        tasks.spawn(writer::run(
            id,
            store.clone(),
            server_key.clone(),
            signatures,
            writer_rx,
            written_tx,
        ));
        Ok(MeetingActor {
            definition,
            amended,
            definition_sha,
            store,
            server_key,
            outage: Outage::new(),
            // Seeded from the clock so that versions keep growing across restarts.
            version: (now_ms() * 1000).max(published.map_or(0, |v| v + 1)),
            current_item,
            present,
            history,
            round,
            pacing: Pacing::new(),
            writer: writer_tx,
            written: written_rx,
            retry_end_at: None,
            open_metric,
            floor,
            flood: Flood::default(),
            floor_due: None,
            presented: None,
            confirmed,
            closed_at,
        })
    }

    /// Serves commands until `shutdown`, then lets in-flight ballots commit and stops.
    pub async fn run(mut self, mut inbox: mpsc::Receiver<Command>, shutdown: CancellationToken) {
        let meeting = self.definition.id.clone();
        loop {
            let deadline = self
                .round
                .as_ref()
                .filter(|r| r.running())
                .map(|r| instant_of(r.record.deadline));
            tokio::select! {
                biased;
                Some(written) = self.written.recv() => self.on_written(written).await,
                () = shutdown.cancelled() => break,
                // Timers come before the inbox: a hall voting at full speed
                // keeps the inbox full, and must not hold back the deadline
                // or the tally updates.
                () = sleep_until_some(deadline) => {
                    tracing::info!(meeting = %meeting, "voting window ended");
                    self.end_round(Ending::Close).await;
                }
                () = sleep_until_some(self.pacing.flush_at()) => self.flush(),
                () = sleep_until_some(self.floor_due) => {
                    self.floor_due = None;
                    self.send_floor(&[Audience::Public, Audience::Delegates]);
                }
                Some(command) = inbox.recv() => self.on_command(command).await,
                () = sleep_until_some(self.retry_end_at) => {
                    self.retry_end_at = None;
                    self.finish_ending_if_drained().await;
                }
                Some(reread) = self.outage.reread() => self.merge_reread(reread),
            }
        }
        // Shutting down: stop intake, let what the writer holds commit so that
        // no acknowledged ballot is lost; the open round stays open in the store.
        inbox.close();
        drop(self.writer);
        while let Some(written) = self.written.recv().await {
            if let Written::Committed(batch) = written {
                tracing::info!(meeting = %meeting, size = batch.len(), "last ballots committed at shutdown");
            }
        }
        tracing::info!(meeting = %meeting, "meeting actor stopped");
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Join {
                audience,
                principal,
                reply,
            } => {
                let (updates, delivery) = self.pacing.subscribe(audience);
                let you = match principal {
                    Some(Principal::Seat(seat)) => Some(self.you(seat)),
                    _ => None,
                };
                let snapshot = frame(&ServerMsg::Snapshot(Box::new(self.snapshot(audience))));
                let _ = reply.send(Joined {
                    snapshot,
                    floor: self.floor_frame(audience, self.version),
                    version: self.version,
                    tally: None,
                    you,
                    updates,
                    delivery,
                });
            }
            Command::Snapshot { audience, reply } => {
                let _ = reply.send([
                    frame(&ServerMsg::Snapshot(Box::new(self.snapshot(audience)))),
                    self.floor_frame(audience, self.version),
                ]);
            }
            Command::You { seat, reply } => {
                let _ = reply.send(self.you(seat));
            }
            Command::CheckIn { seat, reply } => {
                let result = self.check_in(seat).await;
                self.note_store(result.as_ref().err());
                let _ = reply.send(result);
            }
            Command::Cast { ballot, reply } => self.cast(ballot, reply).await,
            Command::Chair { command, reply } => self.chair(command, reply).await,
            Command::Present { presented, reply } => {
                if self.closed_at.is_some() {
                    let _ = reply.send(Err(session_closed("present a document")));
                    return;
                }
                match &presented {
                    Some(p) => {
                        let p = &p.presentation;
                        tracing::info!(meeting = %self.definition.id, document = %p.document, page = p.page, "page presented");
                    }
                    None => {
                        tracing::info!(meeting = %self.definition.id, "presentation taken down")
                    }
                }
                if self.presented != presented {
                    self.presented = presented;
                    self.broadcast_snapshot();
                }
                let _ = reply.send(Ok(()));
            }
            Command::ConfirmCount {
                seat,
                key,
                round,
                count,
                signature,
                reply,
            } => {
                let result = self.confirm(seat, key, round, count, signature).await;
                if let Err(refusal) = &result {
                    tracing::info!(meeting = %self.definition.id, seat, reason = ?refusal.reason, "confirmation refused: {}", refusal.message);
                }
                self.note_store(result.as_ref().err());
                let _ = reply.send(result);
            }
            Command::RecordByHand { hand, reply } => {
                let result = self.record_by_hand(hand).await;
                if let Err(refusal) = &result {
                    tracing::info!(meeting = %self.definition.id, "result by hand refused: {refusal}");
                }
                let _ = reply.send(result);
            }
            Command::Amend { amendment, reply } => {
                let result = self.amend(&amendment).await;
                match &result {
                    Ok(amended) => {
                        tracing::info!(meeting = %self.definition.id, by = ?amendment.by, items = ?amended.items, "definition amended")
                    }
                    Err(e) => {
                        tracing::info!(meeting = %self.definition.id, "amendment refused: {e}")
                    }
                }
                let _ = reply.send(result);
            }
            Command::Adopt { definition, sha } => {
                if sha != self.definition_sha {
                    tracing::info!(meeting = %self.definition.id, "the stored definition changed; taken up");
                    self.adopt(definition, sha);
                }
            }
            Command::Floor { seat, act, reply } => {
                let result = self.delegate_floor(seat, act).await;
                if let Err(refusal) = &result {
                    tracing::info!(meeting = %self.definition.id, seat, reason = ?refusal.reason, "floor request refused: {}", refusal.message);
                }
                self.note_store(result.as_ref().err());
                let _ = reply.send(result);
            }
        }
    }

    /// A delegate's request or withdrawal: from a checked-in seat, within
    /// its allowance ([`Flood`]), then as any change of the floor.
    async fn delegate_floor(&mut self, seat: SeatNo, act: Act) -> Result<(), Refusal> {
        if self.closed_at.is_some() {
            return Err(session_closed("ask for the floor"));
        }
        if !self.present.contains(&seat) {
            return Err(Refusal::new(
                RefusalReason::NotCheckedIn,
                "check in before asking for the floor",
            ));
        }
        if !self.flood.allow(seat, now_ms()) {
            return Err(Refusal::new(
                RefusalReason::RateLimited,
                "too many requests for the floor from this tablet; wait a few seconds",
            ));
        }
        self.floor_act(act).await
    }

    /// Decides `act`, records its changes (the floor's table and the audit
    /// chain, one transaction), applies them and tells every audience.
    async fn floor_act(&mut self, act: Act) -> Result<(), Refusal> {
        let now = now_ms();
        let changes = self.floor.decide(act, self.current_item, now)?;
        self.store
            .record_floor(&self.definition.id, &changes)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        for change in &changes {
            self.floor.apply(change);
        }
        let queue_only = changes.iter().all(|c| {
            matches!(
                c,
                FloorChange::Requested { .. }
                    | FloorChange::Withdrawn { .. }
                    | FloorChange::Moved { .. }
            )
        });
        tracing::info!(meeting = %self.definition.id, ?changes, "floor changed");
        if queue_only {
            self.send_floor(&[Audience::Chair]);
            let due = Instant::now() + FLOOR_TICK;
            self.floor_due = Some(self.floor_due.map_or(due, |at| at.min(due)));
        } else {
            self.floor_due = None;
            self.send_floor(&Audience::ALL);
        }
        Ok(())
    }

    /// The floor as `audience` sees it, as a frame of `version`.
    fn floor_frame(&self, audience: Audience, version: u64) -> Frame {
        let view = self.floor.view(
            self.current_item,
            audience == Audience::Chair,
            version,
            now_ms(),
        );
        frame(&ServerMsg::Floor(view))
    }

    /// Sends the floor to `audiences` now, as one version.
    fn send_floor(&mut self, audiences: &[Audience]) {
        let version = self.next_version();
        for &audience in audiences {
            let frame = self.floor_frame(audience, version);
            self.pacing.send_floor(audience, version, frame);
        }
    }

    /// The list of agenda item `item`, if it is voted on with a paper.
    fn sheet_of(&self, item: u32) -> Option<Sheet> {
        self.definition
            .agenda
            .get(item as usize)?
            .paper
            .as_ref()
            .map(PaperList::sheet)
    }

    fn you(&self, seat: SeatNo) -> ServerMsg {
        let ballot = self
            .round
            .as_ref()
            .filter(|r| Some(r.record.item) == self.current_item)
            .and_then(|r| r.recorded.get(&seat).cloned());
        let to_confirm = self
            .provisional()
            .filter(|_| self.definition.counting_board.contains(&seat))
            .and_then(|r| {
                Some(ToConfirm {
                    round: r.id,
                    count: Count::of(r.result.as_ref()?),
                })
            });
        ServerMsg::You {
            principal: Principal::Seat(seat),
            checked_in: self.present.contains(&seat),
            ballot,
            to_confirm,
        }
    }

    /// The last round while its result awaits the counting board and the
    /// chair's announcement: a closed secret round of a meeting with a
    /// board, not yet announced. A secret item counted by hand is not: the
    /// board counted its papers and signed its record before it was entered.
    fn provisional(&self) -> Option<&RoundRecord> {
        let record = &self.round.as_ref()?.record;
        let awaiting = record.status == RoundStatus::Closed
            && record.settings.secrecy == Secrecy::Secret
            && record.by_hand.is_none()
            && !self.definition.counting_board.is_empty()
            && record.announced_at.is_none();
        awaiting.then_some(record)
    }

    /// The board's state of the last round, if it is one the board confirms
    /// on its devices (not a count by hand, which it signed on paper).
    fn board_view(&self) -> Option<BoardView> {
        let record = &self.round.as_ref()?.record;
        let confirms = record.status == RoundStatus::Closed
            && record.settings.secrecy == Secrecy::Secret
            && record.by_hand.is_none()
            && !self.definition.counting_board.is_empty();
        confirms.then(|| BoardView {
            members: self.definition.counting_board.clone(),
            required: self.definition.confirmations_required,
            confirmed: self.confirmed.clone(),
            announced_at: record.announced_at,
            ballots: record.result.as_ref().map_or(0, |r| Count::of(r).ballots),
        })
    }

    /// A board member's confirmation of the last round's count: from a
    /// member, of the provisional round, once, of the count the close
    /// computed, signed by the member's device.
    async fn confirm(
        &mut self,
        seat: SeatNo,
        key: PublicKey,
        round: RoundId,
        count: Count,
        signature: Signature,
    ) -> Result<(), Refusal> {
        if !self.definition.counting_board.contains(&seat) {
            return Err(Refusal::new(
                RefusalReason::NotOnBoard,
                format!("seat {seat} is not on the counting board"),
            ));
        }
        let Some(record) = self.provisional().filter(|r| r.id == round) else {
            return Err(Refusal::new(
                RefusalReason::NotProvisional,
                format!(
                    "round {round} is not the last round, closed, secret and awaiting the board"
                ),
            ));
        };
        if self.confirmed.iter().any(|c| c.seat == seat) {
            return Err(Refusal::new(
                RefusalReason::AlreadyConfirmed,
                format!("seat {seat} has already confirmed this count"),
            ));
        }
        let counted = record.result.as_ref().map(Count::of);
        if counted.as_ref() != Some(&count) {
            return Err(Refusal::new(
                RefusalReason::CountMismatch,
                "the count differs from the one the close computed; sync and compare again",
            ));
        }
        let signed = Confirmation {
            meeting: &self.definition.id,
            round,
            seat,
            count: &count,
        }
        .signed_bytes();
        key.verify(&signed, &signature).map_err(|e| {
            Refusal::new(
                RefusalReason::BadSignature,
                format!("the confirmation: {e}"),
            )
        })?;
        let confirmed_at = now_ms();
        let confirmation = CountConfirmation {
            round,
            seat,
            key,
            count,
            signature,
            confirmed_at,
        };
        self.store
            .confirm_count(&self.definition.id, &confirmation)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.confirmed.push(Confirmed {
            seat,
            at: confirmed_at,
        });
        tracing::info!(meeting = %self.definition.id, round = %round, seat, confirmed = self.confirmed.len(), "count confirmed by the board");
        self.broadcast_snapshot();
        Ok(())
    }

    /// The chair announces the last round's result once enough of the
    /// board have confirmed it: everyone sees it from then on.
    async fn announce(&mut self) -> Result<(), Refusal> {
        let Some(record) = self.provisional() else {
            return Err(Refusal::new(
                RefusalReason::NotProvisional,
                "the last round is not a closed secret round awaiting its announcement",
            ));
        };
        let (have, need) = (self.confirmed.len(), self.definition.confirmations_required);
        if (have as u64) < u64::from(need) {
            return Err(Refusal::new(
                RefusalReason::TooFewConfirmations,
                format!("{have} of the counting board have confirmed the count; {need} must"),
            ));
        }
        let (id, at) = (record.id, now_ms());
        self.store
            .announce_round(id, at)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.round
            .as_mut()
            .expect("provisional")
            .record
            .announced_at = Some(at);
        tracing::info!(meeting = %self.definition.id, round = %id, confirmed = have, "result announced");
        self.broadcast_snapshot();
        Ok(())
    }

    /// Stores the counts the secretariat entered as a round closed at once,
    /// with no ballots, and shows it to every audience: only between
    /// rounds, and for an item [`hand::decide`] allows.
    async fn record_by_hand(&mut self, hand: HandCount) -> Result<RoundRecord, HandRefusal> {
        let (settings, result) = hand::decide(&self.definition, &hand)?;
        if self.closed_at.is_some() {
            return Err(HandRefusal::SessionClosed);
        }
        if self.open_round().is_some() {
            return Err(HandRefusal::RoundOpen);
        }
        if self.provisional().is_some() {
            return Err(HandRefusal::AwaitingAnnouncement);
        }
        let latest = self.round.as_ref().map(|r| &r.record);
        let last_on_item = self
            .history
            .iter()
            .chain(latest)
            .rfind(|r| r.item == hand.item);
        if last_on_item.is_some_and(|r| r.status == RoundStatus::Closed) {
            return Err(HandRefusal::ItemDecided(hand.item));
        }
        let at = now_ms();
        let record = RoundRecord {
            id: RoundId(rand::random()),
            meeting: self.definition.id.clone(),
            item: hand.item,
            settings,
            opened_at: at,
            deadline: at,
            paused_at: None,
            status: RoundStatus::Closed,
            closed_at: Some(at),
            announced_at: None,
            result: Some(result),
            documents: None,
            by_hand: Some(ByHand {
                by: hand.by.trim().to_owned(),
                device: hand.device,
                at,
                ballots: hand.ballots,
            }),
        };
        let documents = match self.store.record_by_hand(&record).await {
            Ok(documents) => documents,
            Err(e) => {
                tracing::error!(meeting = %self.definition.id, error = %e, "result by hand not stored");
                if matches!(e, StoreError::Database(_)) {
                    self.store_failed();
                }
                return Err(HandRefusal::StoreUnavailable);
            }
        };
        self.store_answered();
        let record = RoundRecord {
            documents: Some(documents),
            ..record
        };
        tracing::info!(
            meeting = %self.definition.id, round = %record.id, item = hand.item,
            present = hand.present, on_paper = hand.ballots.is_some(),
            "result recorded by hand"
        );
        if let Some(previous) = self.round.take() {
            self.history.push(previous.record);
        }
        self.round = Some(RoundState::new(
            record.clone(),
            BTreeMap::new(),
            SecretBallots::default(),
        ));
        self.confirmed.clear();
        self.broadcast_snapshot();
        Ok(record)
    }

    /// The chair's new list for item `item`'s paper, before any round on
    /// it: checked as the meeting file checks a list, then stored as an
    /// amendment by the chair, under the store's rules; the hub then gives
    /// the meeting its new view (`amended`).
    async fn set_list(
        &mut self,
        item: u32,
        posts: Option<u16>,
        entries: Vec<ListEntry>,
    ) -> Result<(), Refusal> {
        let Some(view) = self.definition.item(item) else {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                format!("there is no agenda item with index {item} (indexes start at 0)"),
            ));
        };
        let Some(paper) = &view.paper else {
            return Err(Refusal::new(
                RefusalReason::NoList,
                format!("agenda item {} is not voted on with a list", item + 1),
            ));
        };
        let kind = paper.kind;
        let latest = self.round.as_ref().map(|r| &r.record);
        if self.history.iter().chain(latest).any(|r| r.item == item) {
            let message = if self.open_round().is_some_and(|r| r.record.item == item) {
                "a vote is open on this item: its list is what is being voted on"
            } else {
                "this item has had a round: its list is what was voted on"
            };
            return Err(Refusal::new(RefusalReason::ItemVoted, message));
        }
        let posts = match (posts, kind) {
            (None, PaperKind::Election) => Some(paper.posts),
            (posts, _) => posts,
        };
        let posts = check_list(kind, posts, &entries).map_err(|fault| {
            let reason = match fault {
                ListFault::Length => RefusalReason::ListLength,
                ListFault::NameMissing { .. } => RefusalReason::NameMissing,
                ListFault::NameTwice { .. } => RefusalReason::NameTwice,
                ListFault::PostsOutOfRange { .. } | ListFault::PostsNotElection => {
                    RefusalReason::PostsOutOfRange
                }
            };
            Refusal::new(reason, format!("the list {fault}"))
        })?;
        let mut form = MeetingForm::of(&self.definition);
        let (t, i) = form.place(item).expect("the form has every item");
        let written = &mut form.topics[t].items[i];
        if kind == PaperKind::Election {
            written.posts = Some(posts);
            written.candidates = entries;
        } else {
            written.officials = entries;
        }
        let (text, _) = form.check().map_err(|e| {
            Refusal::new(RefusalReason::InvalidCommand, format!("the new list: {e}"))
        })?;
        let amendment = Amendment {
            previous: self.definition_sha,
            text,
            by: Amender::Chair,
            document: None,
        };
        let meeting = self.definition.id.clone();
        self.amend(&amendment).await.map_err(|e| match e {
            StoreError::Amend(AmendRefusal::ItemVoted { .. }) => Refusal::new(
                RefusalReason::ItemVoted,
                "this item has had a round: its list is what was voted on",
            ),
            StoreError::DefinitionChanged(_) | StoreError::Amend(_) => Refusal::new(
                RefusalReason::InvalidCommand,
                format!("the meeting's definition changed meanwhile: {e}"),
            ),
            other => store_refusal(&meeting)(other),
        })?;
        tracing::info!(meeting = %meeting, item, "the chair set an item's list");
        let _ = self.amended.send(meeting);
        Ok(())
    }

    /// Stores `amendment` ([`Store::amend_meeting`], whose rules decide
    /// what may change) and runs on the new definition. Between commands,
    /// so no round opens on an item while it changes.
    async fn amend(&mut self, amendment: &Amendment) -> Result<Amended, StoreError> {
        let amended = self
            .store
            .amend_meeting(&self.definition.id, amendment)
            .await?;
        self.adopt(Arc::new(amended.definition.clone()), amended.sha);
        Ok(amended)
    }

    /// Runs on `definition` from now on: the floor takes its settings and
    /// respondents (its questions, if they changed, are a floor nothing
    /// happened at yet: the store's rules refuse that otherwise), and
    /// every audience is sent the new state.
    fn adopt(&mut self, definition: Arc<MeetingDefinition>, sha: Sha) {
        self.floor.redefine(&self.definition, &definition);
        self.definition = definition;
        self.definition_sha = sha;
        self.broadcast_snapshot();
        self.floor_due = None;
        self.send_floor(&Audience::ALL);
    }

    async fn check_in(&mut self, seat: SeatNo) -> Result<ServerMsg, Refusal> {
        if !self.present.contains(&seat) {
            if self.closed_at.is_some() {
                return Err(session_closed("check in"));
            }
            self.store
                .check_in(&self.definition.id, seat, now_ms())
                .await
                .map_err(|e| {
                    tracing::error!(meeting = %self.definition.id, error = %e, seat, "check-in not stored");
                    Refusal::from(RefusalReason::StoreUnavailable)
                })?;
            self.present.insert(seat);
            tracing::info!(meeting = %self.definition.id, seat, present = self.present.len(), "delegate checked in");
            self.pacing.owe_snapshot();
        }
        Ok(self.you(seat))
    }

    async fn cast(&mut self, ballot: VerifiedBallot, reply: Reply<Result<AnyReceipt, Refusal>>) {
        let meeting = &self.definition.id;
        let seat = ballot.seat;
        let checked_in = self.present.contains(&seat);
        let result = match self.round.as_ref() {
            None => Err(Refusal::from(RefusalReason::NoOpenRound)),
            Some(round) => {
                let sheet = self.sheet_of(round.record.item);
                round.admit(&ballot, sheet, checked_in, now_ms())
            }
        };
        match result {
            Err(refusal) => {
                tracing::info!(meeting = %meeting, round = %ballot.round, seat, seq = ballot.seq, reason = ?refusal.reason, "ballot refused: {}", refusal.message);
                let _ = reply.send(Err(refusal));
            }
            Ok(Admitted::Duplicate(receipt)) => {
                tracing::info!(meeting = %meeting, round = %ballot.round, seat, seq = ballot.seq, "ballot resent; same receipt");
                let _ = reply.send(Ok(receipt));
            }
            Ok(Admitted::Unlinked { recorded_at }) => {
                tracing::info!(meeting = %meeting, round = %ballot.round, seat, seq = ballot.seq, "secret ballot resent after a restart; receipt issued again");
                let receipt = ballot
                    .record(recorded_at)
                    .receipt(&self.server_key, meeting);
                let _ = reply.send(Ok(receipt));
            }
            Ok(Admitted::JoinInFlight) => {
                let round = self.round.as_mut().expect("admitted into a round");
                round.join_in_flight(seat, reply);
            }
            Ok(Admitted::New) => {
                let record = ballot.record(now_ms());
                let round = self.round.as_mut().expect("admitted into a round");
                if let Some(record) = round.enqueue(record, reply) {
                    self.send_to_writer(record).await;
                }
            }
        }
    }

    async fn send_to_writer(&self, record: BallotRecord) {
        if self.writer.send(record).await.is_err() {
            tracing::error!(meeting = %self.definition.id, "ballot writer stopped");
        }
    }

    async fn on_written(&mut self, written: Written) {
        let Some(round) = self.round.as_mut() else {
            return;
        };
        let mut resend = Vec::new();
        match written {
            Written::Committed(batch) => {
                self.pacing.committed(batch.len());
                for (ballot, receipt) in batch {
                    resend.extend(round.committed(&ballot, receipt));
                }
                self.pacing.owe_tally();
                self.store_answered();
            }
            Written::Failed(batch) => {
                // The chair's console learns of the outage before the tablets
                // are refused, as it would from a refused command.
                self.store_failed();
                if let Some(round) = self.round.as_mut() {
                    for ballot in &batch {
                        round.not_committed(ballot);
                    }
                }
            }
        }
        for record in resend {
            self.send_to_writer(record).await;
        }
        self.finish_ending_if_drained().await;
    }

    async fn chair(&mut self, command: ChairCommand, reply: Reply<Result<(), Refusal>>) {
        let meeting = self.definition.id.clone();
        tracing::info!(meeting = %meeting, ?command, "chair command");
        let result = match command {
            // Nothing is decided after the close: one refusal for every command.
            _ if self.closed_at.is_some() => Err(session_closed("do anything more")),
            ChairCommand::CloseSession => self.close_session().await,
            ChairCommand::SetItem { item } => self.set_item(item).await,
            ChairCommand::Open { window_seconds } => self.open(window_seconds).await,
            ChairCommand::Extend { seconds } => self.extend(seconds).await,
            ChairCommand::Pause => self.pause().await,
            ChairCommand::Resume => self.resume().await,
            ChairCommand::Announce => self.announce().await,
            ChairCommand::SetList {
                item,
                posts,
                entries,
            } => self.set_list(item, posts, entries).await,
            ChairCommand::FloorAdd {
                kind,
                speaker,
                respondent,
                topic,
            } => {
                let act = Act::Add {
                    kind,
                    speaker,
                    respondent,
                    topic,
                };
                self.floor_act(act).await
            }
            ChairCommand::FloorMove { request, place } => {
                self.floor_act(Act::Move { request, place }).await
            }
            ChairCommand::FloorGive {
                request,
                limit_seconds,
            } => {
                let act = Act::Give {
                    request,
                    limit_seconds,
                };
                self.floor_act(act).await
            }
            ChairCommand::FloorPause => self.floor_act(Act::Pause).await,
            ChairCommand::FloorResume => self.floor_act(Act::Resume).await,
            ChairCommand::FloorAddTime { seconds } => {
                self.floor_act(Act::AddTime { seconds }).await
            }
            ChairCommand::FloorEnd => self.floor_act(Act::End).await,
            // The connection checks a page and sends it as `Command::Present`.
            ChairCommand::Present { .. } | ChairCommand::StopPresenting => Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "a presentation reaches the meeting checked, as Command::Present",
            )),
            ChairCommand::Close | ChairCommand::Void => {
                let ending = if command == ChairCommand::Close {
                    Ending::Close
                } else {
                    Ending::Void
                };
                match self.round.as_mut().filter(|r| r.is_open()) {
                    None => Err(Refusal::from(RefusalReason::NoOpenRound)),
                    Some(round) => {
                        // Answered once the round has really ended and its result is committed.
                        round.stop(ending, Some(reply));
                        self.finish_ending_if_drained().await;
                        return;
                    }
                }
            }
        };
        if let Err(refusal) = &result {
            tracing::info!(meeting = %meeting, reason = ?refusal.reason, "chair command refused: {}", refusal.message);
        }
        self.note_store(result.as_ref().err());
        let _ = reply.send(result);
    }

    /// Closes the session once nothing is under way: no round open (or
    /// paused, or ending), no result awaiting its announcement, nobody
    /// speaking. A page presented is taken down with it.
    async fn close_session(&mut self) -> Result<(), Refusal> {
        let busy = if self.open_round().is_some() {
            Some("close or void the vote under way (a paused vote too) before closing the session")
        } else if self.provisional().is_some() {
            Some("announce the last secret round's result before closing the session")
        } else if self.floor.turn_running() {
            Some("end the speaker's turn before closing the session")
        } else {
            None
        };
        if let Some(message) = busy {
            return Err(Refusal::new(RefusalReason::SessionBusy, message));
        }
        let at = now_ms();
        self.store
            .close_session(&self.definition.id, at)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.closed_at = Some(at);
        self.presented = None;
        tracing::info!(meeting = %self.definition.id, closed_at = at, "session closed");
        self.broadcast_snapshot();
        Ok(())
    }

    fn open_round(&self) -> Option<&RoundState> {
        self.round.as_ref().filter(|r| r.is_open())
    }

    async fn set_item(&mut self, item: u32) -> Result<(), Refusal> {
        if self.definition.item(item).is_none() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                format!("there is no agenda item with index {item} (indexes start at 0)"),
            ));
        }
        if self.open_round().is_some() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "close or void the open vote before moving on",
            ));
        }
        if self.floor.turn_running() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "end the speaker's turn before moving on",
            ));
        }
        self.store
            .set_current_item(&self.definition.id, Some(item))
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.current_item = Some(item);
        self.broadcast_snapshot();
        // The floor is the new item's.
        self.floor_due = None;
        self.send_floor(&Audience::ALL);
        Ok(())
    }

    async fn open(&mut self, window_seconds: Option<u32>) -> Result<(), Refusal> {
        if self.open_round().is_some() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "a vote is already open",
            ));
        }
        if self.provisional().is_some() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "announce the last round's result, once the counting board has confirmed it, before opening another",
            ));
        }
        let Some(index) = self.current_item else {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "choose an agenda item first",
            ));
        };
        let item = self.definition.item(index).expect("current item exists");
        let Some(mut settings) = item.vote else {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                format!("the agenda item with index {index} is not voted on"),
            ));
        };
        if let Some(seconds) = window_seconds {
            settings.window_seconds = seconds;
            settings
                .validate()
                .map_err(|e| Refusal::new(RefusalReason::InvalidCommand, e))?;
        }
        let opened_at = now_ms();
        let record = RoundRecord {
            id: RoundId(rand::random()),
            meeting: self.definition.id.clone(),
            item: index,
            settings,
            opened_at,
            deadline: opened_at + u64::from(settings.window_seconds) * 1000,
            paused_at: None,
            status: RoundStatus::Open,
            closed_at: None,
            announced_at: None,
            result: None,
            documents: None,
            by_hand: None,
        };
        let documents = self
            .store
            .open_round(&record)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        let record = RoundRecord {
            documents: Some(documents),
            ..record
        };
        tracing::info!(meeting = %self.definition.id, round = %record.id, item = index, window_seconds = settings.window_seconds, secrecy = ?settings.secrecy, "round opened");
        if let Some(previous) = self.round.take() {
            self.history.push(previous.record);
        }
        self.round = Some(RoundState::new(
            record,
            BTreeMap::new(),
            SecretBallots::default(),
        ));
        self.confirmed.clear();
        self.open_metric = Some(metrics::OpenRound::begin());
        self.broadcast_snapshot();
        Ok(())
    }

    async fn extend(&mut self, seconds: u32) -> Result<(), Refusal> {
        if seconds == 0 || seconds > MAX_EXTENSION_SECONDS {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                format!("extend by 1 to {MAX_EXTENSION_SECONDS} seconds"),
            ));
        }
        let Some(round) = self.round.as_ref().filter(|r| r.accepting()) else {
            return Err(RefusalReason::NoOpenRound.into());
        };
        let (id, deadline) = (
            round.record.id,
            round.record.deadline + u64::from(seconds) * 1000,
        );
        self.store
            .set_deadline(id, deadline)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.round.as_mut().expect("checked above").record.deadline = deadline;
        tracing::info!(meeting = %self.definition.id, round = %id, seconds, deadline, "round extended");
        self.broadcast_snapshot();
        Ok(())
    }

    /// Holds the open round: its clock stops and ballots are refused until
    /// [`MeetingActor::resume`].
    async fn pause(&mut self) -> Result<(), Refusal> {
        let Some(round) = self.round.as_ref().filter(|r| r.accepting()) else {
            return Err(RefusalReason::NoOpenRound.into());
        };
        if round.record.paused_at.is_some() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "the vote is already paused",
            ));
        }
        let (id, at) = (round.record.id, now_ms());
        self.store
            .pause_round(id, at)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        let round = self.round.as_mut().expect("checked above");
        round.record.paused_at = Some(at);
        let left_ms = round.record.deadline.saturating_sub(at);
        tracing::info!(meeting = %self.definition.id, round = %id, left_ms, "round paused");
        self.broadcast_snapshot();
        Ok(())
    }

    /// Resumes a held round with the time it had left: the deadline moves
    /// by the length of the pause.
    async fn resume(&mut self) -> Result<(), Refusal> {
        let Some(round) = self.round.as_ref().filter(|r| r.accepting()) else {
            return Err(RefusalReason::NoOpenRound.into());
        };
        let Some(paused_at) = round.record.paused_at else {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "the vote is not paused",
            ));
        };
        let (id, at) = (round.record.id, now_ms());
        let deadline = round.record.deadline + at.saturating_sub(paused_at);
        self.store
            .resume_round(id, at, deadline)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        let round = self.round.as_mut().expect("checked above");
        round.record.paused_at = None;
        round.record.deadline = deadline;
        tracing::info!(meeting = %self.definition.id, round = %id, deadline, paused_ms = at.saturating_sub(paused_at), "round resumed");
        self.broadcast_snapshot();
        Ok(())
    }

    /// Stops intake; the round ends once its in-flight ballots have
    /// committed. A round already ending keeps the ending it was given first.
    async fn end_round(&mut self, ending: Ending) {
        let Some(round) = self.round.as_mut().filter(|r| r.is_open()) else {
            return;
        };
        round.stop(ending, None);
        self.finish_ending_if_drained().await;
    }

    async fn finish_ending_if_drained(&mut self) {
        let Some(round) = self.round.as_ref() else {
            return;
        };
        let Some(ending) = round.drained() else {
            return;
        };
        let id = round.record.id;
        let closed_at = now_ms();
        let outcome = match ending {
            Ending::Void => self.store.void_round(id, closed_at).await.map(|()| None),
            Ending::Close => {
                let sheet = self.sheet_of(round.record.item);
                let result = round.result(
                    sheet,
                    self.definition.total_seats,
                    self.present.len() as u32,
                );
                let secrecy = round.record.settings.secrecy;
                self.store
                    .close_round(id, closed_at, &result, secrecy)
                    .await
                    .map(|()| Some(result))
            }
        };
        let round = self.round.as_mut().expect("still there");
        match outcome {
            Err(e) => {
                // Intake stays stopped and the ending is tried again shortly;
                // whoever asked is told the store is unavailable now.
                tracing::error!(meeting = %self.definition.id, round = %id, error = %e, "round could not be ended in the store; retrying");
                round.ending_failed();
                self.retry_end_at = Some(Instant::now() + END_RETRY);
                if matches!(e, StoreError::Database(_)) {
                    self.store_failed();
                }
            }
            Ok(result) => {
                let waiters = round.ended(ending, closed_at, result.clone());
                // The round's ending was a write that succeeded; the snapshot
                // below shows the store healthy.
                self.outage.answered(&self.definition.id);
                self.open_metric = None;
                match result {
                    Some(RoundResult::Paper(r)) => tracing::info!(
                        meeting = %self.definition.id, round = %id, kind = r.sheet().kind.as_str(),
                        papers = r.turnout().papers, present = r.turnout().present,
                        "round closed; papers counted"
                    ),
                    Some(RoundResult::Tally(r)) => tracing::info!(
                        meeting = %self.definition.id, round = %id, yes = r.counts.yes, no = r.counts.no,
                        abstain = r.counts.abstain, present = r.counts.present, total = r.counts.total_seats,
                        passed = r.passed, rule = %r.rule.describe(), "round closed; tally committed"
                    ),
                    None => {
                        tracing::info!(meeting = %self.definition.id, round = %id, "round voided")
                    }
                }
                // The result goes out before the chair's command is answered,
                // so the console shows it when its `done` arrives.
                self.broadcast_snapshot();
                for waiter in waiters {
                    let _ = waiter.send(Ok(()));
                }
            }
        }
    }

    fn snapshot(&self, audience: Audience) -> Snapshot {
        let mut items: Vec<ItemState> = self
            .definition
            .agenda
            .iter()
            .map(|item| ItemState {
                index: item.index,
                status: ItemStatus::Pending,
                result: None,
                by_hand: None,
            })
            .collect();
        let latest = self.round.as_ref().map(|r| &r.record);
        let provisional = self.provisional().map(|r| r.id);
        for record in self.history.iter().chain(latest) {
            let Some(state) = items.get_mut(record.item as usize) else {
                continue;
            };
            (state.status, state.result) = match (record.status, &record.result) {
                _ if provisional == Some(record.id) => (ItemStatus::Provisional, None),
                (RoundStatus::Open, _) => (ItemStatus::Voting, None),
                (RoundStatus::Voided, _) => (ItemStatus::Voided, None),
                (RoundStatus::Closed, Some(r @ RoundResult::Paper(_))) => {
                    (ItemStatus::Counted, Some(r.clone()))
                }
                (RoundStatus::Closed, Some(RoundResult::Tally(t))) if t.passed => {
                    (ItemStatus::Passed, Some(RoundResult::Tally(*t)))
                }
                (RoundStatus::Closed, r) => (ItemStatus::NotPassed, r.clone()),
            };
            state.by_hand = record.by_hand.clone();
        }
        Snapshot {
            version: self.version,
            server_time: now_ms(),
            meeting: self.definition.id.clone(),
            current_item: self.current_item,
            present: self.present.len() as u32,
            present_seats: self.present_seats_for(audience),
            items,
            round: self.round.as_ref().map(|r| RoundView {
                id: r.record.id,
                item: r.record.item,
                status: r.record.status,
                settings: r.record.settings,
                opened_at: r.record.opened_at,
                deadline: r.record.deadline,
                paused_at: r.record.paused_at,
                versions: r.record.documents.clone(),
                live: r.is_open().then(|| {
                    r.live(
                        audience,
                        self.sheet_of(r.record.item),
                        self.definition.total_seats,
                        self.present.len() as u32,
                    )
                }),
                // A provisional result is the chair's alone; the board's
                // members get the count in their own `you`.
                result: r
                    .record
                    .result
                    .clone()
                    .filter(|_| audience == Audience::Chair || provisional.is_none()),
                board: self.board_view(),
                by_hand: r.record.by_hand.clone(),
            }),
            store: self.outage.health(),
            presentation: self
                .presented
                .as_ref()
                .filter(|p| p.public || audience != Audience::Public)
                .map(|p| p.presentation.clone()),
            closed_at: self.closed_at,
        }
    }

    /// Refusals of check-ins and chair commands tell whether the store answered.
    fn note_store(&mut self, refusal: Option<&Refusal>) {
        match refusal {
            Some(r) if r.reason == RefusalReason::StoreUnavailable => self.store_failed(),
            Some(_) => {}
            None => self.store_answered(),
        }
    }

    /// A write failed: the chair is told, and the store is read back until it answers.
    fn store_failed(&mut self) {
        if self.outage.failed(&self.store, &self.definition.id) {
            self.broadcast_snapshot();
        }
    }

    /// A write succeeded: the store is back.
    fn store_answered(&mut self) {
        if self.outage.answered(&self.definition.id) {
            self.broadcast_snapshot();
        }
    }

    /// Takes in what the store holds that memory lacks: check-ins, ballots,
    /// and a round opened, changed or ended, whose write failed on a lost
    /// connection after committing. Without this the tally would miss
    /// ballots and the store would refuse the close (its counts would
    /// disagree with the stored ballots), a round opened in the store would
    /// block the next one, and a round ended in the store would be ended
    /// again, in vain, for ever.
    fn merge_reread(&mut self, reread: Reread) {
        let mut changed = false;
        for seat in reread.present {
            changed |= self.present.insert(seat);
        }
        if let Some((stored, ballots, secret)) = reread.latest {
            if self.merge_round(stored, ballots, secret) {
                self.broadcast_snapshot();
            }
        }
        if changed {
            self.pacing.owe_snapshot();
        }
        self.store_answered();
    }

    /// Merges the meeting's latest round as the store holds it; true if what
    /// memory holds of the rounds changed. The store is right: memory changes
    /// only after a commit returns, so the store is never behind it.
    fn merge_round(
        &mut self,
        stored: RoundRecord,
        ballots: Vec<BallotRecord>,
        secret: SecretBallots,
    ) -> bool {
        let meeting = self.definition.id.clone();
        let (key, id) = (&self.server_key, stored.id);
        match self.round.as_mut() {
            Some(round) if round.record.id == id && round.is_open() => {
                if stored.status == RoundStatus::Open {
                    let moved = (round.record.deadline, round.record.paused_at)
                        != (stored.deadline, stored.paused_at);
                    round.record.deadline = stored.deadline;
                    round.record.paused_at = stored.paused_at;
                    return round.take_in(ballots, secret, |b| b.receipt(key, &meeting)) | moved;
                }
                let ending = match stored.status {
                    RoundStatus::Voided => Ending::Void,
                    _ => Ending::Close,
                };
                let closed_at = stored.closed_at.unwrap_or(stored.opened_at);
                tracing::info!(%meeting, round = %id, status = ?stored.status, "the round's ending had committed; taken in after a store outage");
                let waiters = round.ended(ending, closed_at, stored.result);
                for waiter in waiters {
                    let _ = waiter.send(Ok(()));
                }
                self.retry_end_at = None;
                self.open_metric = None;
                true
            }
            Some(round) if round.record.id == id => false,
            _ if stored.status == RoundStatus::Open => {
                tracing::info!(%meeting, round = %id, "the round's opening had committed; taken in after a store outage");
                let recorded = ballots
                    .iter()
                    .map(|b| (b.seat, b.receipt(key, &meeting)))
                    .collect();
                if let Some(previous) = self.round.take() {
                    self.history.push(previous.record);
                }
                self.round = Some(RoundState::new(stored, recorded, secret));
                self.open_metric = Some(metrics::OpenRound::begin());
                true
            }
            _ => false,
        }
    }

    /// Which seats are present, for the audiences that show them seat by
    /// seat: the chair's console always, the hall screen's seat map while an
    /// open named round shows individual choices. Everyone else gets the
    /// count alone, so that a delegate's snapshot stays small in a big hall.
    fn present_seats_for(&self, audience: Audience) -> Option<Vec<SeatNo>> {
        let seat_by_seat = match audience {
            Audience::Chair => true,
            Audience::Public | Audience::Delegates => self.open_round().is_some_and(|r| {
                let settings = &r.record.settings;
                settings.secrecy == Secrecy::Named && settings.interim == Interim::Individual
            }),
        };
        seat_by_seat.then(|| self.present.iter().copied().collect())
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Sends a snapshot to every audience now (the structure of the meeting changed).
    fn broadcast_snapshot(&mut self) {
        let version = self.next_version();
        for audience in Audience::ALL {
            let frame = frame(&ServerMsg::Snapshot(Box::new(self.snapshot(audience))));
            self.pacing.send_snapshot(audience, version, frame);
        }
        self.pacing.snapshot_sent();
    }

    /// Sends what gathered since the last tick, as the pace allows: a
    /// snapshot if attendance changed, otherwise the running tally to each
    /// audience whose turn it is.
    fn flush(&mut self) {
        match self.pacing.due(self.open_round().is_some()) {
            Due::Snapshot => self.broadcast_snapshot(),
            Due::Tally(audiences) if audiences.is_empty() => {}
            Due::Tally(audiences) => self.send_tally(&audiences),
        }
    }

    /// Sends the open round's running tally to `audiences`, as one version.
    fn send_tally(&mut self, audiences: &[Audience]) {
        let version = self.next_version();
        let server_time_us = now_us();
        let now = Instant::now();
        // The round's field alone is borrowed, so that pacing can send meanwhile.
        let round = self
            .round
            .as_ref()
            .filter(|r| r.is_open())
            .expect("only an open round has a running tally");
        let (total, present) = (self.definition.total_seats, self.present.len() as u32);
        let sheet = self.sheet_of(round.record.item);
        for &audience in audiences {
            let frame = frame(&ServerMsg::Tally {
                version,
                round: round.record.id,
                live: round.live(audience, sheet, total, present),
                server_time_us,
            });
            self.pacing.send_tally(audience, version, frame, now);
        }
    }
}

/// The refusal of what cannot be done once the session is closed.
fn session_closed(what: &str) -> Refusal {
    Refusal::new(
        RefusalReason::SessionClosed,
        format!("the chair has closed the session; you cannot {what} any more"),
    )
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
