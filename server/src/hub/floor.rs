//! The floor as a pure state machine: the queue of each item, the running
//! turn and its clock, and what follows a question in a question session.
//!
//! A request ([`Act`]) is first *decided* against the state: refused with a
//! typed reason, or turned into the [`FloorChange`]s it makes. The actor
//! writes those to the store (the `floor_events` table and the audit chain,
//! in one transaction) and only then *applies* them. Applying never fails
//! and depends on nothing but the changes, so a restarted hub rebuilds the
//! queue and a running turn, with its clock, by applying the stored changes
//! again ([`Floor::replay`]).
//!
//! The clock is wall-clock time: a turn ends when the chair ends it, and a
//! speaker who runs over is shown the overrun, so the hub sets no timer. A
//! restart does not stop the clock; the speaker went on speaking.
//!
//! In a question session a question's end starts the respondent's answer at
//! once; an answer's end puts the questioner's follow-up at the front of
//! the queue while the rules allow one (the questioner may withdraw it), and
//! the follow-up's end starts the answer to it.

use super::Refusal;
use crate::meeting::MeetingDefinition;
use gavel_protocol::floor::{
    FloorChange, FloorKind, FloorRequest, FloorSettings, FloorView, SeatPlace, Speaker, TopicError,
    TurnView, check_topic,
};
use gavel_protocol::messages::ItemKind;
use gavel_protocol::{RefusalReason, SeatNo};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The longest time limit, or time added, the chair may give a turn.
pub const MAX_TURN_SECONDS: u32 = 3600;
/// How many waiting requests a screen other than the chair's is sent.
pub const NEXT_SHOWN: usize = 5;
/// A tablet's requests and withdrawals: this many at once ...
const FLOOD_BURST: u32 = 6;
/// ... then one more per this many milliseconds.
const FLOOD_REFILL_MS: u64 = 5_000;

/// What someone asks of the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// A delegate asks for the floor.
    Request {
        seat: SeatNo,
        item: u32,
        kind: FloorKind,
        respondent: Option<u32>,
        topic: Option<String>,
    },
    /// A delegate withdraws its waiting request.
    Withdraw {
        seat: SeatNo,
        item: u32,
    },
    /// The chair adds a speaker to the current item's queue.
    Add {
        kind: FloorKind,
        speaker: Speaker,
        respondent: Option<u32>,
        topic: Option<String>,
    },
    Move {
        request: u64,
        place: u32,
    },
    Give {
        request: Option<u64>,
        limit_seconds: Option<u32>,
    },
    Pause,
    Resume,
    AddTime {
        seconds: u32,
    },
    End,
}

/// The turn under way.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Turn {
    request: FloorRequest,
    started_at: u64,
    limit_ms: u64,
    added_ms: u64,
    /// The pauses that have ended, in total.
    paused_ms: u64,
    paused_at: Option<u64>,
}

impl Turn {
    fn ends_at(&self) -> u64 {
        self.started_at + self.limit_ms + self.added_ms + self.paused_ms
    }
}

/// The question a question session is on: its answer and follow-ups come next.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exchange {
    questioner: Speaker,
    respondent: u32,
    item: u32,
    topic: Option<String>,
    follow_ups_left: u32,
}

/// The floor of one meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    settings: FloorSettings,
    respondents: u32,
    total_seats: u32,
    question_sessions: BTreeSet<u32>,
    /// Each item's waiting requests, next first.
    queues: BTreeMap<u32, Vec<FloorRequest>>,
    turn: Option<Turn>,
    exchange: Option<Exchange>,
    next_id: u64,
}

impl Floor {
    /// The floor before anything happened: the questions registered in the
    /// meeting file wait on their items, numbered from 1 in the file's order.
    pub fn new(definition: &MeetingDefinition) -> Floor {
        let mut queues: BTreeMap<u32, Vec<FloorRequest>> = BTreeMap::new();
        let mut next_id = 1;
        for question in &definition.questions {
            queues.entry(question.item).or_default().push(FloorRequest {
                id: next_id,
                item: question.item,
                kind: FloorKind::Question,
                speaker: Speaker::Seat(question.seat),
                respondent: Some(question.respondent),
                topic: question.topic.clone(),
                requested_at: 0,
            });
            next_id += 1;
        }
        Floor {
            settings: definition.floor,
            respondents: u32::try_from(definition.respondents.len()).unwrap_or(u32::MAX),
            total_seats: definition.total_seats,
            question_sessions: definition
                .agenda
                .iter()
                .filter(|i| i.kind == ItemKind::QuestionSession)
                .map(|i| i.index)
                .collect(),
            queues,
            turn: None,
            exchange: None,
            next_id,
        }
    }

    /// The floor after `changes`, applied in order to [`Floor::new`].
    pub fn replay(definition: &MeetingDefinition, changes: &[FloorChange]) -> Floor {
        let mut floor = Floor::new(definition);
        for change in changes {
            floor.apply(change);
        }
        floor
    }

    /// The floor of `after`, an amendment of `before`: its settings,
    /// respondents and question sessions, with the queues and turn as
    /// they are. Questions registered anew make a new floor: they are
    /// numbered from the file, which the store allows only while nothing
    /// happened at the floor.
    pub fn redefine(&mut self, before: &MeetingDefinition, after: &MeetingDefinition) {
        if before.questions != after.questions {
            *self = Floor::new(after);
            return;
        }
        let fresh = Floor::new(after);
        self.settings = fresh.settings;
        self.respondents = fresh.respondents;
        self.total_seats = fresh.total_seats;
        self.question_sessions = fresh.question_sessions;
    }

    /// Whether a turn is under way.
    pub fn turn_running(&self) -> bool {
        self.turn.is_some()
    }

    /// The changes `act` makes on `current` (the item under discussion) at
    /// `now`, or why it is refused. Nothing changes until they are applied.
    pub fn decide(
        &self,
        act: Act,
        current: Option<u32>,
        now: u64,
    ) -> Result<Vec<FloorChange>, Refusal> {
        match act {
            Act::Request {
                seat,
                item,
                kind,
                respondent,
                topic,
            } => {
                under_discussion(item, current)?;
                match kind {
                    FloorKind::Speak | FloorKind::Reply => {}
                    FloorKind::Question if self.question_sessions.contains(&item) => {}
                    FloorKind::Question => {
                        return Err(Refusal::new(
                            RefusalReason::WrongFloorKind,
                            "questions are put in a question session",
                        ));
                    }
                    FloorKind::Answer | FloorKind::FollowUp => {
                        return Err(Refusal::new(
                            RefusalReason::WrongFloorKind,
                            "answers and follow-ups follow a question; ask to speak, reply or question",
                        ));
                    }
                }
                if self.waiting(seat).is_some() {
                    return Err(RefusalReason::AlreadyRequested.into());
                }
                let speaker = Speaker::Seat(seat);
                Ok(vec![
                    self.request(item, kind, speaker, respondent, topic, now)?,
                ])
            }
            Act::Withdraw { seat, item } => {
                under_discussion(item, current)?;
                let request = self
                    .queue(item)
                    .iter()
                    .find(|r| r.speaker == Speaker::Seat(seat))
                    .ok_or_else(|| {
                        Refusal::new(
                            RefusalReason::NoSuchRequest,
                            "this seat has no request waiting on this item",
                        )
                    })?;
                Ok(vec![FloorChange::Withdrawn {
                    request: request.id,
                }])
            }
            Act::Add {
                kind,
                speaker,
                respondent,
                topic,
            } => {
                let item = current.ok_or_else(|| {
                    Refusal::new(
                        RefusalReason::NotUnderDiscussion,
                        "choose an agenda item first",
                    )
                })?;
                match &speaker {
                    Speaker::Seat(seat) if !(1..=self.total_seats).contains(seat) => {
                        return Err(Refusal::new(
                            RefusalReason::InvalidCommand,
                            format!("there is no seat {seat}"),
                        ));
                    }
                    Speaker::Respondent(respondent) if *respondent >= self.respondents => {
                        return Err(RefusalReason::UnknownRespondent.into());
                    }
                    Speaker::Guest(guest) if guest.name.trim().is_empty() => {
                        return Err(Refusal::new(
                            RefusalReason::InvalidCommand,
                            "a guest needs a name",
                        ));
                    }
                    Speaker::Guest(guest) => {
                        for text in [&guest.name, &guest.post] {
                            topic_refusal(check_topic(text))?;
                        }
                    }
                    _ => {}
                }
                Ok(vec![
                    self.request(item, kind, speaker, respondent, topic, now)?,
                ])
            }
            Act::Move { request, place } => {
                let item = current.ok_or(RefusalReason::NoSuchRequest)?;
                let queue = self.queue(item);
                if !queue.iter().any(|r| r.id == request) {
                    return Err(RefusalReason::NoSuchRequest.into());
                }
                let last = u32::try_from(queue.len() - 1).unwrap_or(u32::MAX);
                Ok(vec![FloorChange::Moved {
                    request,
                    place: place.min(last),
                }])
            }
            Act::Give {
                request,
                limit_seconds,
            } => {
                if self.turn.is_some() {
                    return Err(Refusal::new(
                        RefusalReason::InvalidCommand,
                        "end the running turn first",
                    ));
                }
                let item = current.ok_or(RefusalReason::NoSuchRequest)?;
                let queue = self.queue(item);
                let chosen = match request {
                    Some(id) => queue.iter().find(|r| r.id == id),
                    None => queue.first(),
                }
                .ok_or_else(|| Refusal::new(RefusalReason::NoSuchRequest, "nobody is waiting"))?;
                let limit_ms = match limit_seconds {
                    None => self.settings.limit_ms(chosen.kind),
                    Some(seconds) => u64::from(turn_seconds(seconds)?) * 1000,
                };
                Ok(vec![FloorChange::TurnStarted {
                    request: chosen.clone(),
                    started_at: now,
                    limit_ms,
                }])
            }
            Act::Pause => match &self.turn {
                Some(turn) if turn.paused_at.is_none() => {
                    Ok(vec![FloorChange::TurnPaused { at: now }])
                }
                Some(_) => Err(Refusal::new(
                    RefusalReason::InvalidCommand,
                    "the clock is already held",
                )),
                None => Err(no_turn()),
            },
            Act::Resume => match &self.turn {
                Some(turn) if turn.paused_at.is_some() => {
                    Ok(vec![FloorChange::TurnResumed { at: now }])
                }
                Some(_) => Err(Refusal::new(
                    RefusalReason::InvalidCommand,
                    "the clock is not held",
                )),
                None => Err(no_turn()),
            },
            Act::AddTime { seconds } => {
                if self.turn.is_none() {
                    return Err(no_turn());
                }
                let ms = u64::from(turn_seconds(seconds)?) * 1000;
                Ok(vec![FloorChange::TimeAdded { ms }])
            }
            Act::End => {
                let turn = self.turn.as_ref().ok_or_else(no_turn)?;
                let mut changes = vec![FloorChange::TurnEnded { at: now }];
                changes.extend(self.after(&turn.request, now));
                Ok(changes)
            }
        }
    }

    /// What follows the end of `ended` in a question's exchange.
    fn after(&self, ended: &FloorRequest, now: u64) -> Option<FloorChange> {
        let exchange = self.exchange.as_ref()?;
        let follow_on = |kind, speaker| FloorRequest {
            id: self.next_id,
            item: exchange.item,
            kind,
            speaker,
            respondent: Some(exchange.respondent),
            topic: exchange.topic.clone(),
            requested_at: now,
        };
        match ended.kind {
            FloorKind::Question | FloorKind::FollowUp => {
                let answer = follow_on(FloorKind::Answer, Speaker::Respondent(exchange.respondent));
                Some(FloorChange::TurnStarted {
                    limit_ms: self.settings.limit_ms(FloorKind::Answer),
                    request: answer,
                    started_at: now,
                })
            }
            FloorKind::Answer if exchange.follow_ups_left > 0 => Some(FloorChange::Requested {
                request: follow_on(FloorKind::FollowUp, exchange.questioner.clone()),
                place: 0,
            }),
            _ => None,
        }
    }

    /// A new request on `item`, checked, at the place its kind gets.
    fn request(
        &self,
        item: u32,
        kind: FloorKind,
        speaker: Speaker,
        respondent: Option<u32>,
        topic: Option<String>,
        now: u64,
    ) -> Result<FloorChange, Refusal> {
        match (kind, respondent) {
            (FloorKind::Question | FloorKind::Answer | FloorKind::FollowUp, None) => {
                return Err(Refusal::new(
                    RefusalReason::UnknownRespondent,
                    "name whom the question is put to",
                ));
            }
            (_, Some(r)) if r >= self.respondents => {
                return Err(RefusalReason::UnknownRespondent.into());
            }
            _ => {}
        }
        if let Some(topic) = &topic {
            topic_refusal(check_topic(topic))?;
        }
        let queue = self.queue(item);
        let place = match kind {
            FloorKind::Reply if self.settings.replies_first => queue
                .iter()
                .position(|r| r.kind != FloorKind::Reply)
                .unwrap_or(queue.len()),
            _ => queue.len(),
        };
        Ok(FloorChange::Requested {
            request: FloorRequest {
                id: self.next_id,
                item,
                kind,
                speaker,
                respondent,
                topic,
                requested_at: now,
            },
            place: u32::try_from(place).unwrap_or(u32::MAX),
        })
    }

    /// Applies a decided (or stored) change.
    pub fn apply(&mut self, change: &FloorChange) {
        match change {
            FloorChange::Requested { request, place } => {
                self.next_id = self.next_id.max(request.id + 1);
                let queue = self.queues.entry(request.item).or_default();
                let place = (*place as usize).min(queue.len());
                queue.insert(place, request.clone());
            }
            FloorChange::Withdrawn { request } => {
                self.take(*request);
            }
            FloorChange::Moved { request, place } => {
                if let Some(taken) = self.take(*request) {
                    let queue = self.queues.entry(taken.item).or_default();
                    let place = (*place as usize).min(queue.len());
                    queue.insert(place, taken);
                }
            }
            FloorChange::TurnStarted {
                request,
                started_at,
                limit_ms,
            } => {
                self.next_id = self.next_id.max(request.id + 1);
                self.take(request.id);
                match request.kind {
                    FloorKind::Question => {
                        self.exchange = request.respondent.map(|respondent| Exchange {
                            questioner: request.speaker.clone(),
                            respondent,
                            item: request.item,
                            topic: request.topic.clone(),
                            follow_ups_left: self.settings.follow_ups,
                        });
                    }
                    FloorKind::FollowUp => {
                        if let Some(exchange) = self.exchange.as_mut() {
                            exchange.follow_ups_left = exchange.follow_ups_left.saturating_sub(1);
                        }
                    }
                    FloorKind::Answer => {}
                    FloorKind::Speak | FloorKind::Reply => self.exchange = None,
                }
                self.turn = Some(Turn {
                    request: request.clone(),
                    started_at: *started_at,
                    limit_ms: *limit_ms,
                    added_ms: 0,
                    paused_ms: 0,
                    paused_at: None,
                });
            }
            FloorChange::TurnPaused { at } => {
                if let Some(turn) = self.turn.as_mut() {
                    turn.paused_at = Some(*at);
                }
            }
            FloorChange::TurnResumed { at } => {
                if let Some(turn) = self.turn.as_mut()
                    && let Some(from) = turn.paused_at.take()
                {
                    turn.paused_ms += at.saturating_sub(from);
                }
            }
            FloorChange::TimeAdded { ms } => {
                if let Some(turn) = self.turn.as_mut() {
                    turn.added_ms += ms;
                }
            }
            FloorChange::TurnEnded { .. } => self.turn = None,
        }
    }

    /// The floor on `item` as an audience sees it: the chair (`whole`) every
    /// waiting request, everyone else the next [`NEXT_SHOWN`].
    pub fn view(&self, item: Option<u32>, whole: bool, version: u64, now: u64) -> FloorView {
        let queue = item.map_or(&[][..], |item| self.queue(item));
        let shown = if whole { queue.len() } else { NEXT_SHOWN };
        FloorView {
            version,
            server_time: now,
            item,
            turn: self.turn.as_ref().map(|t| TurnView {
                request: t.request.clone(),
                started_at: t.started_at,
                ends_at: t.ends_at(),
                paused_at: t.paused_at,
            }),
            queue: queue.iter().take(shown).cloned().collect(),
            waiting: u32::try_from(queue.len()).unwrap_or(u32::MAX),
            places: (1u32..)
                .zip(queue)
                .filter_map(|(place, r)| match r.speaker {
                    Speaker::Seat(seat) => Some(SeatPlace { seat, place }),
                    _ => None,
                })
                .collect(),
        }
    }

    fn queue(&self, item: u32) -> &[FloorRequest] {
        self.queues.get(&item).map_or(&[], Vec::as_slice)
    }

    /// The request `seat` has waiting, on any item.
    fn waiting(&self, seat: SeatNo) -> Option<&FloorRequest> {
        self.queues
            .values()
            .flatten()
            .find(|r| r.speaker == Speaker::Seat(seat))
    }

    fn take(&mut self, request: u64) -> Option<FloorRequest> {
        self.queues.values_mut().find_map(|queue| {
            let at = queue.iter().position(|r| r.id == request)?;
            Some(queue.remove(at))
        })
    }
}

/// How many requests and withdrawals each tablet has left: a tablet that
/// floods the hub is refused (`rate_limited`) before its request costs a
/// write, so that it slows nobody else.
#[derive(Debug, Default)]
pub struct Flood {
    /// Each seat's allowance, and when it was last topped up.
    seats: HashMap<SeatNo, (u32, u64)>,
}

impl Flood {
    /// Whether `seat` may make one more request or withdrawal at `now`.
    pub fn allow(&mut self, seat: SeatNo, now: u64) -> bool {
        let (left, since) = self.seats.entry(seat).or_insert((FLOOD_BURST, now));
        let earned = now.saturating_sub(*since) / FLOOD_REFILL_MS;
        if earned > 0 {
            *left = (*left + u32::try_from(earned).unwrap_or(u32::MAX)).min(FLOOD_BURST);
            *since += earned * FLOOD_REFILL_MS;
        }
        if *left == 0 {
            return false;
        }
        *left -= 1;
        true
    }
}

fn under_discussion(item: u32, current: Option<u32>) -> Result<(), Refusal> {
    if current == Some(item) {
        Ok(())
    } else {
        Err(RefusalReason::NotUnderDiscussion.into())
    }
}

fn no_turn() -> Refusal {
    Refusal::new(RefusalReason::InvalidCommand, "nobody has the floor")
}

fn turn_seconds(seconds: u32) -> Result<u32, Refusal> {
    if (1..=MAX_TURN_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(Refusal::new(
            RefusalReason::InvalidCommand,
            format!("give 1 to {MAX_TURN_SECONDS} seconds"),
        ))
    }
}

fn topic_refusal(checked: Result<(), TopicError>) -> Result<(), Refusal> {
    checked.map_err(|e| match e {
        TopicError::TooLong => Refusal::new(RefusalReason::TopicTooLong, e.to_string()),
        TopicError::NotText => Refusal::new(RefusalReason::TopicNotText, e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example meeting's question session and a draft resolution.
    const QUESTIONS: u32 = 5;
    const DEBATE: u32 = 2;

    fn definition() -> MeetingDefinition {
        let mut definition = MeetingDefinition::parse(crate::meeting::EXAMPLE).unwrap();
        assert_eq!(
            definition.agenda[QUESTIONS as usize].kind,
            ItemKind::QuestionSession
        );
        assert_eq!(definition.respondents.len(), 2);
        assert_eq!(definition.floor, FloorSettings::default());
        definition.questions.clear();
        definition
    }

    /// Decides and applies, as the actor does; returns the changes.
    fn act(
        floor: &mut Floor,
        act: Act,
        current: u32,
        now: u64,
    ) -> Result<Vec<FloorChange>, Refusal> {
        let changes = floor.decide(act, Some(current), now)?;
        for change in &changes {
            floor.apply(change);
        }
        Ok(changes)
    }

    fn ask(seat: SeatNo, item: u32, kind: FloorKind, respondent: Option<u32>) -> Act {
        Act::Request {
            seat,
            item,
            kind,
            respondent,
            topic: None,
        }
    }

    fn order(floor: &Floor, item: u32) -> Vec<(SeatNo, FloorKind)> {
        floor
            .queue(item)
            .iter()
            .map(|r| match r.speaker {
                Speaker::Seat(seat) => (seat, r.kind),
                _ => (0, r.kind),
            })
            .collect()
    }

    #[test]
    fn replies_go_ahead_of_plain_requests_in_the_order_they_came() {
        let mut floor = Floor::new(&definition());
        for (seat, kind) in [
            (1, FloorKind::Speak),
            (2, FloorKind::Reply),
            (3, FloorKind::Speak),
            (4, FloorKind::Reply),
        ] {
            act(&mut floor, ask(seat, DEBATE, kind, None), DEBATE, 10).unwrap();
        }
        assert_eq!(
            order(&floor, DEBATE),
            vec![
                (2, FloorKind::Reply),
                (4, FloorKind::Reply),
                (1, FloorKind::Speak),
                (3, FloorKind::Speak)
            ]
        );
    }

    #[test]
    fn refusals_change_nothing() {
        let mut floor = Floor::new(&definition());
        act(
            &mut floor,
            ask(1, DEBATE, FloorKind::Speak, None),
            DEBATE,
            10,
        )
        .unwrap();
        let before = floor.clone();
        let refused = |floor: &Floor, a: Act| floor.decide(a, Some(DEBATE), 11).unwrap_err().reason;
        assert_eq!(
            refused(&floor, ask(1, DEBATE, FloorKind::Reply, None)),
            RefusalReason::AlreadyRequested
        );
        assert_eq!(
            refused(&floor, ask(2, QUESTIONS, FloorKind::Speak, None)),
            RefusalReason::NotUnderDiscussion
        );
        assert_eq!(
            refused(&floor, ask(2, DEBATE, FloorKind::Question, Some(0))),
            RefusalReason::WrongFloorKind
        );
        assert_eq!(
            refused(
                &floor,
                Act::Withdraw {
                    seat: 2,
                    item: DEBATE
                }
            ),
            RefusalReason::NoSuchRequest
        );
        let topic = |t: &str| Act::Request {
            seat: 2,
            item: DEBATE,
            kind: FloorKind::Speak,
            respondent: None,
            topic: Some(t.into()),
        };
        assert_eq!(
            refused(&floor, topic(&"x".repeat(201))),
            RefusalReason::TopicTooLong
        );
        assert_eq!(
            refused(&floor, topic("a\u{1b}[2J")),
            RefusalReason::TopicNotText
        );
        let question = floor.decide(
            ask(2, QUESTIONS, FloorKind::Question, Some(2)),
            Some(QUESTIONS),
            11,
        );
        assert_eq!(
            question.unwrap_err().reason,
            RefusalReason::UnknownRespondent
        );
        assert_eq!(floor, before);
    }

    #[test]
    fn a_question_is_answered_then_followed_up_and_answered_again() {
        let mut floor = Floor::new(&definition());
        act(
            &mut floor,
            ask(7, QUESTIONS, FloorKind::Question, Some(1)),
            QUESTIONS,
            10,
        )
        .unwrap();
        let give = Act::Give {
            request: None,
            limit_seconds: None,
        };
        act(&mut floor, give.clone(), QUESTIONS, 20).unwrap();
        let turn = floor.view(Some(QUESTIONS), true, 1, 20).turn.unwrap();
        assert_eq!(turn.ends_at, 20 + 180_000);
        act(&mut floor, Act::End, QUESTIONS, 100).unwrap();
        let answer = floor.view(Some(QUESTIONS), true, 2, 100).turn.unwrap();
        assert_eq!(answer.request.kind, FloorKind::Answer);
        assert_eq!(answer.request.speaker, Speaker::Respondent(1));
        act(&mut floor, Act::End, QUESTIONS, 200).unwrap();
        assert!(!floor.turn_running());
        assert_eq!(order(&floor, QUESTIONS), vec![(7, FloorKind::FollowUp)]);
        act(&mut floor, give.clone(), QUESTIONS, 210).unwrap();
        act(&mut floor, Act::End, QUESTIONS, 220).unwrap();
        let again = floor.view(Some(QUESTIONS), true, 3, 220).turn.unwrap();
        assert_eq!(again.request.kind, FloorKind::Answer);
        // One follow-up by default: the second answer ends the exchange.
        act(&mut floor, Act::End, QUESTIONS, 300).unwrap();
        assert!(order(&floor, QUESTIONS).is_empty());
        assert!(!floor.turn_running());
    }

    #[test]
    fn the_clock_stands_still_while_held_and_grows_with_added_time() {
        let mut floor = Floor::new(&definition());
        act(
            &mut floor,
            ask(3, DEBATE, FloorKind::Speak, None),
            DEBATE,
            0,
        )
        .unwrap();
        let give = Act::Give {
            request: None,
            limit_seconds: Some(60),
        };
        act(&mut floor, give, DEBATE, 1_000).unwrap();
        act(&mut floor, Act::Pause, DEBATE, 11_000).unwrap();
        let held = floor.view(Some(DEBATE), false, 1, 20_000).turn.unwrap();
        assert_eq!((held.ends_at, held.paused_at), (61_000, Some(11_000)));
        act(&mut floor, Act::Resume, DEBATE, 41_000).unwrap();
        act(&mut floor, Act::AddTime { seconds: 30 }, DEBATE, 42_000).unwrap();
        let turn = floor.view(Some(DEBATE), false, 2, 42_000).turn.unwrap();
        assert_eq!(
            (turn.ends_at, turn.paused_at),
            (61_000 + 30_000 + 30_000, None)
        );
    }

    #[test]
    fn replaying_the_changes_rebuilds_the_queue_and_the_running_clock() {
        let definition = definition();
        let mut floor = Floor::new(&definition);
        let mut changes = Vec::new();
        for seat in [5, 6, 7] {
            changes.extend(
                act(
                    &mut floor,
                    ask(seat, DEBATE, FloorKind::Speak, None),
                    DEBATE,
                    1,
                )
                .unwrap(),
            );
        }
        changes.extend(
            act(
                &mut floor,
                Act::Move {
                    request: 3,
                    place: 0,
                },
                DEBATE,
                2,
            )
            .unwrap(),
        );
        let give = Act::Give {
            request: None,
            limit_seconds: None,
        };
        changes.extend(act(&mut floor, give, DEBATE, 3).unwrap());
        changes.extend(act(&mut floor, Act::Pause, DEBATE, 4).unwrap());
        assert_eq!(Floor::replay(&definition, &changes), floor);
        assert_eq!(
            order(&floor, DEBATE),
            vec![(5, FloorKind::Speak), (6, FloorKind::Speak)]
        );
        let view = floor.view(Some(DEBATE), false, 1, 5);
        let speaker = view.turn.unwrap().request.speaker;
        assert_eq!(speaker, Speaker::Seat(7));
        assert_eq!(
            view.places,
            vec![
                SeatPlace { seat: 5, place: 1 },
                SeatPlace { seat: 6, place: 2 }
            ]
        );
    }

    #[test]
    fn registered_questions_wait_on_their_item_before_anything_happens() {
        let mut definition = definition();
        definition.questions = vec![crate::meeting::RegisteredQuestion {
            item: QUESTIONS,
            seat: 9,
            respondent: 0,
            topic: Some("Giải phóng mặt bằng".into()),
        }];
        let mut floor = Floor::new(&definition);
        assert_eq!(order(&floor, QUESTIONS), vec![(9, FloorKind::Question)]);
        let changes = act(
            &mut floor,
            ask(8, QUESTIONS, FloorKind::Question, Some(1)),
            QUESTIONS,
            5,
        )
        .unwrap();
        let FloorChange::Requested { request, .. } = &changes[0] else {
            panic!("{changes:?}");
        };
        assert_eq!(request.id, 2);
    }

    #[test]
    fn an_amended_definition_keeps_the_queue_and_new_questions_make_a_new_floor() {
        let before = definition();
        let mut floor = Floor::new(&before);
        act(
            &mut floor,
            ask(4, DEBATE, FloorKind::Speak, None),
            DEBATE,
            5,
        )
        .unwrap();
        // A respondent added and longer turns: the queue stays, the new
        // respondent can be asked.
        let mut after = before.clone();
        after.respondents.push(after.respondents[0].clone());
        after.floor.speak_seconds += 60;
        floor.redefine(&before, &after);
        assert_eq!(order(&floor, DEBATE), vec![(4, FloorKind::Speak)]);
        assert_eq!(floor.respondents, 3);
        assert_eq!(floor.settings, after.floor);
        // Questions registered anew: the floor nothing happened at yet.
        let mut questioned = after.clone();
        questioned.questions = vec![crate::meeting::RegisteredQuestion {
            item: QUESTIONS,
            seat: 9,
            respondent: 2,
            topic: None,
        }];
        floor.redefine(&after, &questioned);
        assert_eq!(order(&floor, QUESTIONS), vec![(9, FloorKind::Question)]);
        assert!(order(&floor, DEBATE).is_empty());
    }

    #[test]
    fn a_flooding_tablet_is_held_back_and_its_neighbour_is_not() {
        let mut flood = Flood::default();
        let allowed = (0..100).filter(|_| flood.allow(1, 1_000)).count();
        assert_eq!(allowed, FLOOD_BURST as usize);
        assert!(flood.allow(2, 1_000));
        assert!(!flood.allow(1, 1_000 + FLOOD_REFILL_MS - 1));
        assert!(flood.allow(1, 1_000 + FLOOD_REFILL_MS));
    }
}
