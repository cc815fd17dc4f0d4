//! The meeting actor: the one task that owns a meeting's live state.
//!
//! Every change (check-in, ballot, chair command, deadline) arrives here as a
//! [`Command`] or a timer and is applied in order, so there are no locks
//! around meeting state. Ballots go to the [`writer`](super::writer) and only
//! count once they come back committed. What clients see leaves as shared
//! frames on three broadcast channels, one per [`Audience`]; tally changes are
//! coalesced into one frame per [`TICK`], or per [`BUSY_TICK`] while ballots
//! pour in, no more often than a channel's listeners can take
//! ([`TALLY_FRAMES_PER_SECOND`]), and the next tally waits until the last one
//! has reached every listener ([`Delivery`]). Delegates' tablets get no
//! running tally while ballots pour in: their acknowledgements come first.

use super::writer::{self, Written};
use super::{Broadcast, Delivery, Frame, Refusal, frame};
use crate::clock::{instant_of, now_ms, now_us};
use crate::meeting::MeetingDefinition;
use crate::metrics;
use crate::signatures::Signatures;
use crate::store::{BallotRecord, RoundRecord, SecretClose, Store, StoreError};
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::{
    ChairCommand, ItemState, ItemStatus, LiveTally, Receipt, RoundStatus, RoundView, SeatChoice,
    Snapshot, StoreHealth,
};
use gavel_protocol::rules::{Interim, Secrecy};
use gavel_protocol::{
    Choice, Counts, MeetingId, Principal, RefusalReason, RoundId, SeatNo, ServerMsg, Signature,
    TallyResult,
};
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Commands waiting for the actor; senders wait when it is full.
pub const INBOX: usize = 4096;
/// Frames a listener may fall behind before it is sent a fresh snapshot instead.
const BROADCAST_BACKLOG: usize = 256;
/// Ballots waiting for the writer.
const WRITER_QUEUE: usize = 8192;
/// How long tally changes are gathered into one frame.
pub const TICK: Duration = Duration::from_millis(25);
/// How long they are gathered while ballots are committed at [`BUSY_RATE`]
/// or more. A tally frame goes to every listener: at 2,000 tablets a 25 ms
/// tick is 80,000 frames a second, several times the ballots being
/// acknowledged, and that is CPU taken from checking and committing them.
/// At such a rate the count moves by dozens between two 25 ms frames, faster
/// than anyone reads it; four updates a second still move the hall screen
/// with the vote.
pub const BUSY_TICK: Duration = Duration::from_millis(250);
/// The tally frames a second one channel is sent at most: a channel's
/// tallies are at least `listeners / TALLY_FRAMES_PER_SECOND` apart. Two
/// cores write about 100,000 frames a second (one tally to 10,000 tablets
/// takes ~100 ms); sent back to back, tallies to a large hall took all of
/// that, and one update reached the last of 10,000 tablets after 160 ms at
/// p99 where, at this budget, it takes 95 ms (docs/bench/findings.md). Up to
/// 1,000 listeners this is [`TICK`]; at 10,000, four tallies a second.
pub const TALLY_FRAMES_PER_SECOND: u32 = 40_000;
/// The longest a tally waits for the last one to reach every listener
/// ([`Delivery`]): a tablet that vanished mid-way holds the others back no longer.
const DELIVERY_WAIT: Duration = BUSY_TICK;
/// How often a waiting tally looks again whether the last one got through.
const DELIVERY_POLL: Duration = Duration::from_millis(2);
/// Ballots committed per second from which [`BUSY_TICK`] applies.
pub const BUSY_RATE: f64 = 1000.0;
/// How long to wait before trying again to end a round the store refused to end.
const END_RETRY: Duration = Duration::from_secs(1);
/// How often a store that failed is read again to find out whether it is back.
const REREAD_EVERY: Duration = Duration::from_secs(1);
/// The longest a chair may extend a round by in one step.
const MAX_EXTENSION_SECONDS: u32 = 3600;

/// Who a frame is cut for. Delegates, the hall screen and the public see what
/// the round's interim setting allows; the chair also sees who has voted.
/// Delegates' tablets have a channel of their own because they are the
/// many: while ballots pour in they get no running tally, so that every
/// tablet's acknowledgement goes out at once instead of behind a frame to
/// every other tablet. The hall screen shows the count meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The hall screen, public viewers: connections without a login.
    Public = 0,
    /// Delegates' tablets: the public's view, with their own pace.
    Delegates = 1,
    Chair = 2,
}

impl Audience {
    const ALL: [Audience; 3] = [Audience::Public, Audience::Delegates, Audience::Chair];
    /// The hall screen and the chair's console, which get each tally together.
    const HALL: [Audience; 2] = [Audience::Public, Audience::Chair];
}

/// A ballot whose signature the connection has already checked.
#[derive(Debug)]
pub struct VerifiedBallot {
    pub seat: SeatNo,
    pub round: RoundId,
    pub choice: Choice,
    pub seq: u64,
    pub signature: Signature,
}

type Reply<T> = oneshot::Sender<T>;

pub enum Command {
    /// A connection logs in: it gets the current snapshot and its updates, with no gap between.
    Join {
        audience: Audience,
        principal: Option<Principal>,
        reply: Reply<Joined>,
    },
    /// A fresh snapshot, for a listener that fell behind or asked to sync.
    Snapshot {
        audience: Audience,
        reply: Reply<Frame>,
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
        reply: Reply<Result<Receipt, Refusal>>,
    },
    Chair {
        command: ChairCommand,
        reply: Reply<Result<(), Refusal>>,
    },
}

/// What a joining connection receives.
pub struct Joined {
    pub snapshot: Frame,
    pub you: Option<ServerMsg>,
    pub updates: broadcast::Receiver<Broadcast>,
    /// Where the connection reports each tally it has written or skipped.
    pub delivery: Arc<Delivery>,
}

/// One audience's broadcast channel, and how far its latest tally has got.
struct Channel {
    sender: broadcast::Sender<Broadcast>,
    delivery: Arc<Delivery>,
    /// The running tally changed since this channel's last tally or snapshot.
    owed: bool,
    /// When this channel's last tally went out.
    sent_at: Instant,
}

impl Channel {
    fn new() -> Channel {
        Channel {
            sender: broadcast::channel(BROADCAST_BACKLOG).0,
            delivery: Arc::default(),
            owed: false,
            sent_at: Instant::now(),
        }
    }

    /// When this channel may be sent the next tally: [`spacing`] after its
    /// last one, and once every listener has handled that one, or
    /// [`DELIVERY_WAIT`] after it. While listeners are still writing it,
    /// the answer is a moment from `now`, to look again.
    fn tally_due(&self, now: Instant, tick: Duration) -> Instant {
        let spaced = self.sent_at + spacing(tick, self.sender.receiver_count());
        if self.delivery.complete() {
            spaced
        } else {
            spaced.max((now + DELIVERY_POLL).min(self.sent_at + DELIVERY_WAIT))
        }
    }
}

/// A ballot handed to the writer and not yet committed, and, if the seat sent
/// another one meanwhile, that later ballot (sent once this one commits).
struct InFlight {
    ballot: BallotRecord,
    waiters: Vec<Reply<Result<Receipt, Refusal>>>,
    next: Option<(BallotRecord, Reply<Result<Receipt, Refusal>>)>,
}

/// Why an open round is ending; it ends once its last ballots have committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Close,
    Void,
}

/// The latest round of the meeting and its ballots.
struct RoundState {
    record: RoundRecord,
    /// Committed ballots, with their receipts.
    recorded: BTreeMap<SeatNo, Receipt>,
    in_flight: HashMap<SeatNo, InFlight>,
    ending: Option<Ending>,
    /// Chair commands waiting for the round to end.
    ending_waiters: Vec<Reply<Result<(), Refusal>>>,
}

impl RoundState {
    fn is_open(&self) -> bool {
        self.record.status == RoundStatus::Open
    }

    fn accepting(&self) -> bool {
        self.is_open() && self.ending.is_none()
    }

    fn counts(&self, total_seats: u32, present: u32) -> Counts {
        Counts::tally(
            total_seats,
            present,
            self.recorded.values().map(|r| r.choice),
        )
    }

    /// The highest sequence number this seat has recorded or in flight.
    fn last_seq(&self, seat: SeatNo) -> Option<u64> {
        let in_flight = self
            .in_flight
            .get(&seat)
            .map(|f| f.next.as_ref().map_or(f.ballot.seq, |(b, _)| b.seq));
        let recorded = self.recorded.get(&seat).map(|r| r.seq);
        in_flight.max(recorded)
    }
}

/// What the store holds of the meeting's live state, read back after it
/// failed: a write that failed on a lost connection may still have committed.
struct Reread {
    present: Vec<SeatNo>,
    /// The open round's stored ballots.
    ballots: Option<(RoundId, Vec<BallotRecord>)>,
}

pub struct MeetingActor {
    definition: Arc<MeetingDefinition>,
    store: Store,
    server_key: Arc<SigningKey>,
    /// Shown to the chair; `Unavailable` from a failed write until one succeeds.
    store_health: StoreHealth,
    /// The store read back once it answers again, while one is pending.
    reread: Option<oneshot::Receiver<Reread>>,
    version: u64,
    current_item: Option<u32>,
    present: BTreeSet<SeatNo>,
    /// Every round of the meeting, oldest first; the last one is `round`'s record.
    history: Vec<RoundRecord>,
    round: Option<RoundState>,
    /// One per [`Audience`], in the order of [`Audience::ALL`].
    channels: [Channel; 3],
    writer: mpsc::Sender<BallotRecord>,
    written: mpsc::UnboundedReceiver<Written>,
    /// When gathered changes are next broadcast, if any are waiting.
    flush_at: Option<Instant>,
    /// Whether ballots pour in (at [`BUSY_RATE`] or more), as last measured.
    busy: bool,
    /// Ballots committed since `rate_since`: the rate that sets `busy`.
    committed_since: usize,
    rate_since: Instant,
    /// When to try again to end a round whose ending the store refused.
    retry_end_at: Option<Instant>,
    snapshot_dirty: bool,
    /// Counts the open round in the metrics while there is one.
    open_metric: Option<metrics::OpenRound>,
}

impl MeetingActor {
    /// Rebuilds a meeting's state from the store, including an open round and
    /// its acknowledged ballots, and starts its writer on `tasks`.
    pub async fn restore(
        definition: Arc<MeetingDefinition>,
        current_item: Option<u32>,
        store: Store,
        server_key: Arc<SigningKey>,
        signatures: Arc<Signatures>,
        tasks: &TaskTracker,
    ) -> anyhow::Result<MeetingActor> {
        let id = definition.id.clone();
        let present = store.present(&id).await?.into_iter().collect();
        let mut history = store.rounds(&id).await?;
        let round = match history.last() {
            Some(last) => {
                let recorded = store
                    .ballots(last.id)
                    .await?
                    .iter()
                    .map(|b| (b.seat, writer::receipt(&server_key, &id, b)))
                    .collect::<BTreeMap<_, _>>();
                if last.status == RoundStatus::Open {
                    tracing::info!(meeting = %id, round = %last.id, ballots = recorded.len(), "open round restored");
                }
                Some(RoundState {
                    record: last.clone(),
                    recorded,
                    in_flight: HashMap::new(),
                    ending: None,
                    ending_waiters: Vec::new(),
                })
            }
            None => None,
        };
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
            store,
            server_key,
            store_health: StoreHealth::Ok,
            reread: None,
            // Seeded from the clock so that versions keep growing across restarts.
            version: now_ms() * 1000,
            current_item,
            present,
            history,
            round,
            channels: Audience::ALL.map(|_| Channel::new()),
            writer: writer_tx,
            written: written_rx,
            flush_at: None,
            busy: false,
            committed_since: 0,
            rate_since: Instant::now(),
            retry_end_at: None,
            snapshot_dirty: false,
            open_metric,
        })
    }

    /// Serves commands until `shutdown`, then lets in-flight ballots commit and stops.
    pub async fn run(mut self, mut inbox: mpsc::Receiver<Command>, shutdown: CancellationToken) {
        let meeting = self.definition.id.clone();
        loop {
            let deadline = self
                .round
                .as_ref()
                .filter(|r| r.accepting())
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
                () = sleep_until_some(self.flush_at) => self.flush(),
                Some(command) = inbox.recv() => self.on_command(command).await,
                () = sleep_until_some(self.retry_end_at) => {
                    self.retry_end_at = None;
                    self.finish_ending_if_drained().await;
                }
                reread = recv_some(&mut self.reread) => {
                    self.reread = None;
                    if let Some(reread) = reread {
                        self.merge_reread(reread);
                    }
                }
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
                let channel = self.channel(audience);
                let updates = channel.sender.subscribe();
                let delivery = channel.delivery.clone();
                let you = match principal {
                    Some(Principal::Seat(seat)) => Some(self.you(seat)),
                    _ => None,
                };
                let snapshot = frame(&ServerMsg::Snapshot(self.snapshot(audience)));
                let _ = reply.send(Joined {
                    snapshot,
                    you,
                    updates,
                    delivery,
                });
            }
            Command::Snapshot { audience, reply } => {
                let _ = reply.send(frame(&ServerMsg::Snapshot(self.snapshot(audience))));
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
        }
    }

    fn channel(&self, audience: Audience) -> &Channel {
        &self.channels[audience as usize]
    }

    fn channel_mut(&mut self, audience: Audience) -> &mut Channel {
        &mut self.channels[audience as usize]
    }

    fn you(&self, seat: SeatNo) -> ServerMsg {
        let ballot = self
            .round
            .as_ref()
            .filter(|r| Some(r.record.item) == self.current_item)
            .and_then(|r| r.recorded.get(&seat).cloned());
        ServerMsg::You {
            principal: Principal::Seat(seat),
            checked_in: self.present.contains(&seat),
            ballot,
        }
    }

    async fn check_in(&mut self, seat: SeatNo) -> Result<ServerMsg, Refusal> {
        if !self.present.contains(&seat) {
            self.store
                .check_in(&self.definition.id, seat, now_ms())
                .await
                .map_err(|e| {
                    tracing::error!(meeting = %self.definition.id, error = %e, seat, "check-in not stored");
                    Refusal::from(RefusalReason::StoreUnavailable)
                })?;
            self.present.insert(seat);
            tracing::info!(meeting = %self.definition.id, seat, present = self.present.len(), "delegate checked in");
            self.mark_snapshot_dirty();
        }
        Ok(self.you(seat))
    }

    async fn cast(&mut self, ballot: VerifiedBallot, reply: Reply<Result<Receipt, Refusal>>) {
        let meeting = &self.definition.id;
        let seat = ballot.seat;
        let checked_in = self.present.contains(&seat);
        let result = match self.round.as_mut() {
            None => Err(Refusal::from(RefusalReason::NoOpenRound)),
            Some(round) => admit(round, &ballot, checked_in, now_ms()),
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
            Ok(Admitted::JoinInFlight) => {
                let round = self.round.as_mut().expect("admitted into a round");
                round
                    .in_flight
                    .get_mut(&seat)
                    .expect("in flight")
                    .waiters
                    .push(reply);
            }
            Ok(Admitted::New) => {
                let record = BallotRecord {
                    round: ballot.round,
                    seat,
                    choice: ballot.choice,
                    seq: ballot.seq,
                    signature: ballot.signature,
                    recorded_at: now_ms(),
                };
                let round = self.round.as_mut().expect("admitted into a round");
                match round.in_flight.get_mut(&seat) {
                    Some(flight) => {
                        // One ballot per seat in flight; a newer one waits for it.
                        if let Some((_, superseded)) = flight.next.replace((record, reply)) {
                            let _ = superseded.send(Err(Refusal::new(
                                RefusalReason::StaleSequence,
                                "a later ballot from this seat replaced this one before it was recorded",
                            )));
                        }
                    }
                    None => {
                        round.in_flight.insert(
                            seat,
                            InFlight {
                                ballot: record.clone(),
                                waiters: vec![reply],
                                next: None,
                            },
                        );
                        self.send_to_writer(record).await;
                    }
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
                self.committed_since += batch.len();
                for (ballot, receipt) in batch {
                    let Some(flight) = round.in_flight.remove(&ballot.seat) else {
                        continue;
                    };
                    tracing::info!(meeting = %self.definition.id, round = %ballot.round, seat = ballot.seat, seq = ballot.seq, "ballot accepted");
                    round.recorded.insert(ballot.seat, receipt.clone());
                    for waiter in flight.waiters {
                        let _ = waiter.send(Ok(receipt.clone()));
                    }
                    if let Some((next, waiter)) = flight.next {
                        round.in_flight.insert(
                            next.seat,
                            InFlight {
                                ballot: next.clone(),
                                waiters: vec![waiter],
                                next: None,
                            },
                        );
                        resend.push(next);
                    }
                }
                self.mark_tally_dirty();
                self.store_answered();
            }
            Written::Failed(batch) => {
                self.store_failed();
                let Some(round) = self.round.as_mut() else {
                    return;
                };
                for ballot in batch {
                    let Some(flight) = round.in_flight.remove(&ballot.seat) else {
                        continue;
                    };
                    let refusal = Refusal::from(RefusalReason::StoreUnavailable);
                    for waiter in flight.waiters {
                        let _ = waiter.send(Err(refusal.clone()));
                    }
                    if let Some((_, waiter)) = flight.next {
                        let _ = waiter.send(Err(refusal.clone()));
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
            ChairCommand::SetItem { item } => self.set_item(item).await,
            ChairCommand::Open { window_seconds } => self.open(window_seconds).await,
            ChairCommand::Extend { seconds } => self.extend(seconds).await,
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
                        round.ending_waiters.push(reply);
                        self.end_round(ending).await;
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
        self.store
            .set_current_item(&self.definition.id, Some(item))
            .await
            .map_err(store_refusal(&self.definition.id))?;
        self.current_item = Some(item);
        self.broadcast_snapshot();
        Ok(())
    }

    async fn open(&mut self, window_seconds: Option<u32>) -> Result<(), Refusal> {
        if self.open_round().is_some() {
            return Err(Refusal::new(
                RefusalReason::InvalidCommand,
                "a vote is already open",
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
            status: RoundStatus::Open,
            closed_at: None,
            result: None,
        };
        self.store
            .open_round(&record)
            .await
            .map_err(store_refusal(&self.definition.id))?;
        tracing::info!(meeting = %self.definition.id, round = %record.id, item = index, window_seconds = settings.window_seconds, secrecy = ?settings.secrecy, "round opened");
        if let Some(previous) = self.round.take() {
            self.history.push(previous.record);
        }
        self.round = Some(RoundState {
            record,
            recorded: BTreeMap::new(),
            in_flight: HashMap::new(),
            ending: None,
            ending_waiters: Vec::new(),
        });
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

    /// Stops intake; the round ends once its in-flight ballots have
    /// committed. A round already ending keeps the ending it was given first.
    async fn end_round(&mut self, ending: Ending) {
        let Some(round) = self.round.as_mut().filter(|r| r.is_open()) else {
            return;
        };
        round.ending.get_or_insert(ending);
        self.finish_ending_if_drained().await;
    }

    async fn finish_ending_if_drained(&mut self) {
        let Some(round) = self.round.as_mut() else {
            return;
        };
        let Some(ending) = round.ending else { return };
        if !round.in_flight.is_empty() {
            return;
        }
        let id = round.record.id;
        let closed_at = now_ms();
        let outcome = match ending {
            Ending::Void => self.store.void_round(id, closed_at).await.map(|()| None),
            Ending::Close => {
                let counts = round.counts(self.definition.total_seats, self.present.len() as u32);
                let result = TallyResult::decide(round.record.settings.rule, counts);
                let secret = (round.record.settings.secrecy == Secrecy::Secret).then(|| {
                    let mut choices: Vec<Choice> =
                        round.recorded.values().map(|r| r.choice).collect();
                    choices.shuffle(&mut rand::thread_rng());
                    SecretClose {
                        participants: round.recorded.keys().copied().collect(),
                        choices,
                    }
                });
                self.store
                    .close_round(id, closed_at, &result, secret.as_ref())
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
                for waiter in round.ending_waiters.drain(..) {
                    let _ = waiter.send(Err(RefusalReason::StoreUnavailable.into()));
                }
                self.retry_end_at = Some(Instant::now() + END_RETRY);
                if matches!(e, StoreError::Database(_)) {
                    self.store_failed();
                }
            }
            Ok(result) => {
                round.record.closed_at = Some(closed_at);
                round.record.result = result;
                round.record.status = match ending {
                    Ending::Close => RoundStatus::Closed,
                    Ending::Void => RoundStatus::Voided,
                };
                if round.record.settings.secrecy == Secrecy::Secret {
                    // The store no longer links seats to choices; neither does memory.
                    round.recorded.clear();
                }
                let waiters = std::mem::take(&mut round.ending_waiters);
                self.store_health = StoreHealth::Ok;
                self.open_metric = None;
                match result {
                    Some(r) => tracing::info!(
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
            })
            .collect();
        let latest = self.round.as_ref().map(|r| &r.record);
        for record in self.history.iter().chain(latest) {
            let Some(state) = items.get_mut(record.item as usize) else {
                continue;
            };
            (state.status, state.result) = match (record.status, record.result) {
                (RoundStatus::Open, _) => (ItemStatus::Voting, None),
                (RoundStatus::Voided, _) => (ItemStatus::Voided, None),
                (RoundStatus::Closed, Some(r)) if r.passed => (ItemStatus::Passed, Some(r)),
                (RoundStatus::Closed, r) => (ItemStatus::NotPassed, r),
            };
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
                live: r.is_open().then(|| self.live(r, audience)),
                result: r.record.result,
            }),
            store: self.store_health,
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

    /// A write failed: the chair is told, and the store is read back (in the
    /// background, so that the meeting keeps answering) until it answers.
    fn store_failed(&mut self) {
        if self.reread.is_none() {
            let (done, reread) = oneshot::channel();
            let round = self.open_round().map(|r| r.record.id);
            tokio::spawn(reread_until_answered(
                self.store.clone(),
                self.definition.id.clone(),
                round,
                done,
            ));
            self.reread = Some(reread);
        }
        if self.store_health == StoreHealth::Ok {
            tracing::error!(meeting = %self.definition.id, "store unavailable; nothing new is recorded until it answers");
            self.store_health = StoreHealth::Unavailable;
            self.broadcast_snapshot();
        }
    }

    /// A write succeeded: the store is back.
    fn store_answered(&mut self) {
        if self.store_health == StoreHealth::Unavailable {
            tracing::info!(meeting = %self.definition.id, "store available again");
            self.store_health = StoreHealth::Ok;
            self.broadcast_snapshot();
        }
    }

    /// Takes in what the store holds that memory lacks: check-ins and
    /// ballots whose write failed on a lost connection after committing.
    /// Without this the tally would miss them and the store would refuse the
    /// close (its counts would disagree with the stored ballots).
    fn merge_reread(&mut self, reread: Reread) {
        let mut changed = false;
        for seat in reread.present {
            changed |= self.present.insert(seat);
        }
        if let Some((id, ballots)) = reread.ballots
            && let Some(round) = self
                .round
                .as_mut()
                .filter(|r| r.record.id == id && r.is_open())
        {
            for ballot in ballots {
                let stale = round.in_flight.contains_key(&ballot.seat)
                    || round
                        .recorded
                        .get(&ballot.seat)
                        .is_some_and(|r| r.seq > ballot.seq);
                if stale {
                    continue;
                }
                let receipt = writer::receipt(&self.server_key, &self.definition.id, &ballot);
                if round.recorded.get(&ballot.seat) != Some(&receipt) {
                    tracing::info!(meeting = %self.definition.id, round = %id, seat = ballot.seat, seq = ballot.seq, "stored ballot taken in after a store outage");
                    round.recorded.insert(ballot.seat, receipt);
                    changed = true;
                }
            }
        }
        if changed {
            self.mark_snapshot_dirty();
        }
        self.store_answered();
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

    /// The running tally as `audience` may see it.
    fn live(&self, round: &RoundState, audience: Audience) -> LiveTally {
        let settings = &round.record.settings;
        let counts = round.counts(self.definition.total_seats, self.present.len() as u32);
        let named = settings.secrecy == Secrecy::Named;
        let voted = || Some(round.recorded.keys().copied().collect());
        let choices = || {
            Some(
                round
                    .recorded
                    .iter()
                    .map(|(&seat, r)| SeatChoice {
                        seat,
                        choice: r.choice,
                    })
                    .collect(),
            )
        };
        let show_individual = named && settings.interim == Interim::Individual;
        // In a secret round nobody sees running totals, the chair included:
        // whoever watches the totals move as seats vote (the chair sees who
        // voted; the hall sees who pressed) would learn each seat's choice.
        let show_counts = named && settings.interim != Interim::None;
        match audience {
            Audience::Chair => LiveTally {
                taking_part: counts.taking_part(),
                counts: named.then_some(counts),
                voted: voted(),
                choices: if named { choices() } else { None },
            },
            Audience::Public | Audience::Delegates => LiveTally {
                taking_part: counts.taking_part(),
                counts: show_counts.then_some(counts),
                voted: if show_individual { voted() } else { None },
                choices: if show_individual { choices() } else { None },
            },
        }
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    fn mark_snapshot_dirty(&mut self) {
        self.snapshot_dirty = true;
        self.flush_by(Instant::now() + TICK);
    }

    fn mark_tally_dirty(&mut self) {
        for channel in &mut self.channels {
            channel.owed = true;
        }
        self.flush_by(Instant::now() + tick(self.busy));
    }

    /// Makes sure gathered changes go out by `at`.
    fn flush_by(&mut self, at: Instant) {
        self.flush_at = Some(self.flush_at.map_or(at, |pending| pending.min(at)));
    }

    /// Sends a snapshot to every audience now (the structure of the meeting changed).
    fn broadcast_snapshot(&mut self) {
        let version = self.next_version();
        for audience in Audience::ALL {
            let frame = frame(&ServerMsg::Snapshot(self.snapshot(audience)));
            let channel = self.channel_mut(audience);
            // Before it is sent: a listener that then finds a tally ahead of
            // it in its queue skips the stale tally.
            channel.delivery.replaced(version);
            channel.owed = false;
            let _ = channel.sender.send(Broadcast::snapshot(frame));
        }
        self.snapshot_dirty = false;
        self.flush_at = None;
    }

    /// Sends what gathered since the last tick: a snapshot if attendance
    /// changed, otherwise the tally to each audience whose turn it is. The
    /// hall screen and the chair's console go together; delegates' tablets
    /// at their own pace, and not at all while ballots pour in.
    fn flush(&mut self) {
        if self.snapshot_dirty {
            self.broadcast_snapshot();
            return;
        }
        self.flush_at = None;
        // A round that ends broadcasts its snapshot, which settles what
        // was owed.
        if self.open_round().is_none() {
            return;
        }
        let now = Instant::now();
        self.measure_rate(now);
        let (audiences, later) = tally_turns(&self.channels, self.busy, now);
        if !audiences.is_empty() {
            self.send_tally(&audiences, now);
        }
        if let Some(later) = later {
            self.flush_by(later);
        }
    }

    /// Measures how fast ballots are committed, over spans of at least a
    /// tick: while busy, a quarter second with fewer than [`BUSY_RATE`]
    /// ends it.
    fn measure_rate(&mut self, now: Instant) {
        let span = now - self.rate_since;
        if span >= tick(self.busy) {
            self.busy = pouring_in(self.committed_since, span);
            self.committed_since = 0;
            self.rate_since = now;
        }
    }

    /// Sends the open round's running tally to `audiences`, as one version.
    fn send_tally(&mut self, audiences: &[Audience], now: Instant) {
        let version = self.next_version();
        let server_time_us = now_us();
        for &audience in audiences {
            let round = self
                .open_round()
                .expect("only an open round has a running tally");
            let frame = frame(&ServerMsg::Tally {
                version,
                round: round.record.id,
                live: self.live(round, audience),
                server_time_us,
            });
            let channel = self.channel_mut(audience);
            // Counted before it is sent: a listener may handle it at once.
            channel
                .delivery
                .sending(version, channel.sender.receiver_count());
            let _ = channel.sender.send(Broadcast::tally(frame, version));
            channel.owed = false;
            channel.sent_at = now;
        }
    }
}

/// The audiences (of `channels`, one per [`Audience`]) whose turn it is for
/// the running tally at `now`, and when to look again for those still owed
/// one. The hall screen and the chair's console go together; delegates'
/// tablets at their own pace, and not at all while ballots pour in (`busy`).
fn tally_turns(
    channels: &[Channel; 3],
    busy: bool,
    now: Instant,
) -> (Vec<Audience>, Option<Instant>) {
    let tick = tick(busy);
    let channel = |audience: Audience| &channels[audience as usize];
    let hall_due = Audience::HALL.iter().any(|&a| channel(a).owed).then(|| {
        Audience::HALL
            .iter()
            .map(|&a| channel(a).tally_due(now, tick))
            .max()
            .expect("two audiences")
    });
    let delegates = channel(Audience::Delegates);
    let delegates_due = delegates.owed.then(|| {
        if busy {
            now + tick
        } else {
            delegates.tally_due(now, tick)
        }
    });
    let mut audiences = Vec::with_capacity(Audience::ALL.len());
    if hall_due.is_some_and(|due| due <= now) {
        audiences.extend(Audience::HALL);
    }
    if delegates_due.is_some_and(|due| due <= now) {
        audiences.push(Audience::Delegates);
    }
    let later = [hall_due, delegates_due]
        .into_iter()
        .flatten()
        .filter(|&due| due > now)
        .min();
    (audiences, later)
}

/// The shortest time between two tallies to a channel with `listeners`
/// listeners: the tick, or longer for a hall so large that tallies at the
/// tick would exceed [`TALLY_FRAMES_PER_SECOND`].
fn spacing(tick: Duration, listeners: usize) -> Duration {
    tick.max(Duration::from_secs_f64(
        listeners as f64 / f64::from(TALLY_FRAMES_PER_SECOND),
    ))
}

/// How long tally changes are gathered, given whether ballots pour in.
fn tick(busy: bool) -> Duration {
    if busy { BUSY_TICK } else { TICK }
}

/// Whether `committed` ballots over `span` are ballots pouring in.
fn pouring_in(committed: usize, span: Duration) -> bool {
    committed as f64 / span.as_secs_f64().max(f64::EPSILON) >= BUSY_RATE
}

enum Admitted {
    New,
    /// The identical ballot is already recorded: the same receipt answers it.
    Duplicate(Receipt),
    /// The identical ballot is on its way to the store: wait with it.
    JoinInFlight,
}

/// Decides whether a verified ballot may enter the round at server time
/// `now`. Pure, so that every rule of intake reads in one place.
fn admit(
    round: &RoundState,
    ballot: &VerifiedBallot,
    checked_in: bool,
    now: u64,
) -> Result<Admitted, Refusal> {
    let record = &round.record;
    if ballot.round != record.id {
        return Err(if round.is_open() {
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
        RoundStatus::Open if round.ending.is_some() || now >= record.deadline => {
            return Err(Refusal::new(
                RefusalReason::Late,
                "the voting window has closed",
            ));
        }
        RoundStatus::Open => {}
    }
    if record.settings.require_check_in && !checked_in {
        return Err(Refusal::new(
            RefusalReason::NotCheckedIn,
            "check in before voting",
        ));
    }
    let seat = ballot.seat;
    if let Some(recorded) = round.recorded.get(&seat)
        && recorded.seq == ballot.seq
        && recorded.choice == ballot.choice
        && !round.in_flight.contains_key(&seat)
    {
        return Ok(Admitted::Duplicate(recorded.clone()));
    }
    if let Some(flight) = round.in_flight.get(&seat)
        && flight.next.is_none()
        && flight.ballot.seq == ballot.seq
        && flight.ballot.choice == ballot.choice
    {
        return Ok(Admitted::JoinInFlight);
    }
    if let Some(last) = round.last_seq(seat) {
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

/// A store error turned into the refusal the client sees; the error itself is logged.
fn store_refusal(meeting: &MeetingId) -> impl Fn(StoreError) -> Refusal + '_ {
    move |e| {
        tracing::error!(%meeting, error = %e, "store error");
        Refusal::from(RefusalReason::StoreUnavailable)
    }
}

/// Reads the meeting's live state back from the store every [`REREAD_EVERY`]
/// until it answers, or until the actor no longer waits for it.
async fn reread_until_answered(
    store: Store,
    meeting: MeetingId,
    round: Option<RoundId>,
    mut done: oneshot::Sender<Reread>,
) {
    let read = async || -> Result<Reread, StoreError> {
        let present = store.present(&meeting).await?;
        let ballots = match round {
            Some(id) => Some((id, store.ballots(id).await?)),
            None => None,
        };
        Ok(Reread { present, ballots })
    };
    loop {
        let reread = tokio::select! {
            () = done.closed() => return,
            reread = read() => reread,
        };
        match reread {
            Ok(reread) => {
                let _ = done.send(reread);
                return;
            }
            Err(e) => tracing::warn!(meeting = %meeting, error = %e, "store still unavailable"),
        }
        tokio::time::sleep(REREAD_EVERY).await;
    }
}

async fn recv_some<T>(receiver: &mut Option<oneshot::Receiver<T>>) -> Option<T> {
    match receiver {
        Some(receiver) => receiver.await.ok(),
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_pour_in_from_a_thousand_a_second() {
        // A hall trickling in (the fan-out benchmark's 200/s, a quiet vote).
        assert!(!pouring_in(5, TICK));
        assert!(!pouring_in(1, Duration::from_secs(30)));
        assert!(!pouring_in(0, Duration::ZERO));
        // 250 ballots in 25 ms: 10,000 a second.
        assert!(pouring_in(250, TICK));
        // Still busy over the longer tick, and quiet again once it slows.
        assert!(pouring_in(300, BUSY_TICK));
        assert!(!pouring_in(200, BUSY_TICK));
    }

    /// The three channels, `delegates` tablets listening to theirs and one
    /// hall screen and one chair's console to theirs, each owed a tally
    /// and last sent one `ago`.
    fn halls(delegates: usize, now: Instant, ago: Duration) -> ([Channel; 3], Vec<Receiver>) {
        let mut channels = Audience::ALL.map(|_| Channel::new());
        let mut listeners = Vec::new();
        for audience in Audience::ALL {
            let channel = &mut channels[audience as usize];
            let count = if audience == Audience::Delegates {
                delegates
            } else {
                1
            };
            listeners.extend((0..count).map(|_| channel.sender.subscribe()));
            channel.owed = true;
            channel.sent_at = now - ago;
        }
        (channels, listeners)
    }

    type Receiver = broadcast::Receiver<Broadcast>;

    /// A tally for everyone: the hall's two audiences, then the tablets.
    const EVERYONE: [Audience; 3] = [Audience::Public, Audience::Chair, Audience::Delegates];

    #[test]
    fn while_ballots_pour_in_the_tablets_wait_and_the_hall_screen_moves() {
        let now = Instant::now();
        let (channels, _listeners) = halls(2_000, now, Duration::from_secs(1));
        let (audiences, later) = tally_turns(&channels, true, now);
        assert_eq!(audiences, Audience::HALL);
        // Looked at again a tick later, to see whether the rush is over.
        assert_eq!(later, Some(now + BUSY_TICK));
        // Over: everyone gets it, and there is nothing to look at again.
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, EVERYONE);
        assert_eq!(later, None);
    }

    #[test]
    fn tablets_wait_for_their_spacing() {
        let now = Instant::now();
        let (channels, _listeners) = halls(10_000, now, Duration::from_millis(100));
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, Audience::HALL);
        // 250 ms after the last tally to 10,000 tablets.
        assert_eq!(later, Some(now + Duration::from_millis(150)));
        let (audiences, _) = tally_turns(&channels, false, now + Duration::from_millis(150));
        assert_eq!(audiences, EVERYONE);
    }

    #[test]
    fn tablets_wait_for_the_last_tally_to_reach_them_all_for_a_while() {
        let now = Instant::now();
        let (mut channels, _listeners) = halls(2_000, now, Duration::from_millis(100));
        // Spaced enough (50 ms at 2,000), but 3 tablets are still writing
        // the last tally: looked at again shortly.
        let delegates = &mut channels[Audience::Delegates as usize];
        delegates.delivery.sending(7, 3);
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, Audience::HALL);
        assert_eq!(later, Some(now + DELIVERY_POLL));
        // Once they have, or once the last tally is DELIVERY_WAIT old.
        let (audiences, _) = tally_turns(&channels, false, now + Duration::from_millis(150));
        assert_eq!(audiences, EVERYONE);
        for _ in 0..3 {
            channels[Audience::Delegates as usize].delivery.handled(7);
        }
        let (audiences, _) = tally_turns(&channels, false, now);
        assert_eq!(audiences, EVERYONE);
    }

    #[test]
    fn a_large_hall_gets_tallies_no_faster_than_it_can_take_them() {
        assert_eq!(spacing(TICK, 0), TICK);
        assert_eq!(spacing(TICK, 1_000), TICK);
        assert_eq!(spacing(TICK, 2_000), Duration::from_millis(50));
        assert_eq!(spacing(TICK, 10_000), Duration::from_millis(250));
        assert_eq!(spacing(BUSY_TICK, 2_000), BUSY_TICK);
    }
}
