//! Simulated delegates: real clients with real keys that check in and vote
//! a few seconds after a vote opens, like people reading the screen and
//! pressing a button; the counting board's members also confirm each secret
//! count. `gavel demo` runs one per seat so that whoever follows the meeting
//! sees a live session.

use crate::client::{Client, ClientError};
use crate::reconnect::Backoff;
use crate::state::MeetingState;
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::PaperList;
use gavel_protocol::messages::RoundStatus;
use gavel_protocol::paper::{
    APPROVE, CONFIDENCE, HIGH_CONFIDENCE, KEEP_CONFIDENCE, LOW_CONFIDENCE, Mark, NO_CONFIDENCE,
    PaperKind,
};
use gavel_protocol::{Choice, MeetingId, Principal, RoundId, SeatNo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// One simulated delegate.
pub struct SimulatedDelegate {
    pub url: String,
    pub meeting: MeetingId,
    pub key: SigningKey,
    /// Seeds the delegate's habits (how fast, how it leans), so runs repeat.
    pub seed: u64,
}

impl SimulatedDelegate {
    /// Attends the meeting until `shutdown`, reconnecting with jittered backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut rng = StdRng::seed_from_u64(self.seed);
        // Most delegates support most proposals; a few are more critical.
        let yes_share: f64 = rng.gen_range(0.6..0.95);
        let mut backoff = Backoff::default();
        loop {
            let attended = tokio::select! {
                () = shutdown.cancelled() => return,
                r = self.attend(&mut rng, yes_share) => r,
            };
            if let Err(e) = attended {
                tracing::debug!(error = %e, "simulated delegate reconnecting");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = sleep(backoff.next_delay()) => {}
            }
        }
    }

    async fn attend(&self, rng: &mut StdRng, yes_share: f64) -> Result<(), ClientError> {
        let mut session = Client::connect(&self.url)
            .await?
            .login(&self.meeting, &self.key)
            .await?;
        pause(&mut session, rng.gen_range(200..3000)).await?;
        if !session.state.checked_in {
            session.check_in().await?;
        }
        let seat = match session.principal {
            Some(Principal::Seat(seat)) => seat,
            _ => return Err(ClientError::NotADelegate),
        };
        let mut passed_over: Option<RoundId> = None;
        let mut confirmed: Option<RoundId> = None;
        loop {
            session
                .wait_until(|s| {
                    board_task(s, seat).is_some_and(|r| confirmed != Some(r))
                        || s.open_round().is_some_and(|r| {
                            s.my_ballot.as_ref().map(|b| b.round) != Some(r.id)
                                && s.my_paper.as_ref().map(|p| p.round) != Some(r.id)
                                && passed_over != Some(r.id)
                        })
                })
                .await?;
            // A member of the counting board asks for the count (the server
            // gives it to the board alone), reads it, then confirms it, so
            // that the chair can announce the result.
            if let Some(round) = board_task(&session.state, seat).filter(|&r| confirmed != Some(r))
            {
                confirmed = Some(round);
                if session.state.to_confirm.as_ref().map(|c| c.round) != Some(round) {
                    session.sync().await?;
                }
                pause(&mut session, rng.gen_range(1500..5000)).await?;
                let Some(task) = session
                    .state
                    .to_confirm
                    .clone()
                    .filter(|c| c.round == round)
                else {
                    continue;
                };
                match session.confirm_count(task.round, task.count).await {
                    Ok(()) | Err(ClientError::Refused { .. }) => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            let round = session.state.open_round().map(|r| r.id);
            let list = session.state.open_round().and_then(|r| {
                let item = session.meeting.agenda.get(r.item as usize)?;
                item.paper.clone()
            });
            pause(&mut session, rng.gen_range(1500..8000)).await?;
            if session.state.open_round().map(|r| r.id) != round {
                continue;
            }
            // Now and then a delegate does not press anything.
            if rng.gen_bool(0.04) {
                passed_over = round;
                continue;
            }
            if let Some(list) = list {
                let marks = marks(&list, rng, yes_share);
                match session.cast_paper(list.kind, marks).await {
                    Ok(_) => {}
                    Err(ClientError::Refused { .. } | ClientError::NoOpenRound) => {
                        passed_over = round;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            let roll: f64 = rng.r#gen();
            let choice = if roll < yes_share {
                Choice::Yes
            } else if roll < yes_share + (1.0 - yes_share) / 2.0 {
                Choice::No
            } else {
                Choice::Abstain
            };
            match session.cast(choice).await {
                Ok(_) => {}
                Err(ClientError::Refused { .. } | ClientError::NoOpenRound) => passed_over = round,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The closed round `seat` must confirm as a member of the counting board:
/// its result awaits the board and the seat has not confirmed it yet.
fn board_task(state: &MeetingState, seat: SeatNo) -> Option<RoundId> {
    let round = state.round().filter(|r| r.status == RoundStatus::Closed)?;
    let board = round.board.as_ref().filter(|b| b.announced_at.is_none())?;
    let waiting = board.members.contains(&seat) && board.confirmed.iter().all(|c| c.seat != seat);
    waiting.then_some(round.id)
}

/// A delegate's paper on `list`, leaning as the delegate leans: an election
/// approves up to as many candidates as there are posts, favouring the first
/// on the list; a rating gives most officials confidence or high confidence
/// and leaves a few unrated; a no-confidence vote mostly keeps confidence.
fn marks(list: &PaperList, rng: &mut StdRng, yes_share: f64) -> Vec<Mark> {
    let entries = u16::try_from(list.entries.len()).unwrap_or(u16::MAX);
    let mark = |entry, mark| Mark { entry, mark };
    match list.kind {
        PaperKind::Election => {
            let mut order: Vec<u16> = (0..entries).collect();
            // Each delegate's preference: the list's order, a few swaps away.
            for i in 1..order.len() {
                if rng.gen_bool(1.0 - yes_share) {
                    order.swap(i - 1, i);
                }
            }
            order
                .into_iter()
                .take(usize::from(list.posts))
                .filter(|_| rng.gen_bool(yes_share))
                .map(|e| mark(e, APPROVE))
                .collect()
        }
        PaperKind::Rating => {
            let mut marks = Vec::with_capacity(usize::from(entries));
            for e in 0..entries {
                if rng.gen_bool(0.03) {
                    continue;
                }
                let roll: f64 = rng.r#gen();
                let level = if roll < yes_share * 0.5 {
                    HIGH_CONFIDENCE
                } else if roll < yes_share {
                    CONFIDENCE
                } else {
                    LOW_CONFIDENCE
                };
                marks.push(mark(e, level));
            }
            marks
        }
        PaperKind::NoConfidence => (0..entries)
            .map(|e| {
                let keep = rng.gen_bool(yes_share);
                mark(e, if keep { KEEP_CONFIDENCE } else { NO_CONFIDENCE })
            })
            .collect(),
    }
}

/// A simulated chair that walks through the agenda: it moves to each item,
/// opens a vote where the item has one, closes it once every delegate present
/// has voted (or lets the window run out), announces a secret result once
/// the counting board has confirmed it, shows the result for a while and
/// moves on, starting over at the end.
pub struct SimulatedChair {
    pub url: String,
    pub meeting: MeetingId,
    pub key: SigningKey,
    /// The voting window the chair opens with.
    pub window_seconds: u32,
    /// How long each item and each result stays on the screens.
    pub pause: Duration,
}

impl SimulatedChair {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let chaired = tokio::select! {
                () = shutdown.cancelled() => return,
                r = self.chair() => r,
            };
            if let Err(e) = chaired {
                tracing::warn!(error = %e, "simulated chair reconnecting");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn chair(&self) -> Result<(), ClientError> {
        use gavel_protocol::messages::ChairCommand;
        let mut session = Client::connect(&self.url)
            .await?
            .login(&self.meeting, &self.key)
            .await?;
        let pause_ms = self.pause.as_millis() as u64;
        loop {
            for item in session.meeting.agenda.clone() {
                // An open round left from before (a restart) is closed first.
                if session.state.open_round().is_some() {
                    session.chair(ChairCommand::Close).await?;
                }
                announce_when_confirmed(&mut session).await?;
                session
                    .chair(ChairCommand::SetItem { item: item.index })
                    .await?;
                pause(&mut session, pause_ms).await?;
                if item.vote.is_none() {
                    continue;
                }
                session
                    .chair(ChairCommand::Open {
                        window_seconds: Some(self.window_seconds),
                    })
                    .await?;
                let round = session.state.open_round().map(|r| r.id);
                session
                    .wait_until(|s| match s.open_round() {
                        None => true,
                        Some(r) => {
                            let present = s.snapshot.as_ref().map_or(0, |s| s.present);
                            Some(r.id) != round
                                || r.live
                                    .as_ref()
                                    .is_some_and(|l| present > 0 && l.taking_part >= present)
                        }
                    })
                    .await?;
                if session.state.open_round().map(|r| r.id) == round {
                    match session.chair(ChairCommand::Close).await {
                        Ok(()) | Err(ClientError::Refused { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                announce_when_confirmed(&mut session).await?;
                pause(&mut session, pause_ms).await?;
            }
        }
    }
}

/// A secret result the counting board must confirm (the last round, closed
/// and not yet announced) is announced once enough members have confirmed
/// it on their tablets; until then no other vote may open. Without such a
/// result this returns at once.
async fn announce_when_confirmed(session: &mut crate::Session) -> Result<(), ClientError> {
    use gavel_protocol::messages::ChairCommand;
    let awaiting = |s: &MeetingState| {
        s.round()
            .filter(|r| r.status == RoundStatus::Closed)
            .and_then(|r| r.board.as_ref())
            .filter(|b| b.announced_at.is_none())
            .map(|b| b.confirmed.len() >= b.required as usize)
    };
    if awaiting(&session.state).is_none() {
        return Ok(());
    }
    session.wait_until(|s| awaiting(s) != Some(false)).await?;
    if awaiting(&session.state) == Some(true) {
        match session.chair(ChairCommand::Announce).await {
            Ok(()) | Err(ClientError::Refused { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Waits `millis` while still reading what the server sends.
async fn pause(session: &mut crate::Session, millis: u64) -> Result<(), ClientError> {
    let until = Instant::now() + Duration::from_millis(millis);
    loop {
        tokio::select! {
            () = sleep_until(until) => return Ok(()),
            r = session.next() => { r?; }
        }
    }
}
