//! Following a meeting: what changed since the last look, as lines to print.
//!
//! A follower compares states rather than reacting to frames, so one piece of
//! code serves a tally tick, the snapshot after a chair's command and the
//! fresh snapshot after a reconnection, which may hide several changes at
//! once: each shows up as a difference from what was last printed.

use super::text::{Lang, Text};
use gavel_client::client::Session;
use gavel_protocol::messages::{RoundStatus, RoundView, Snapshot};

/// A change between two states of a meeting that a follower prints as one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    /// Another item is on the floor.
    Item(&'a Snapshot),
    /// The number of delegates present changed.
    Attendance(&'a Snapshot),
    Opened(&'a RoundView),
    Extended(&'a RoundView),
    Tally(&'a RoundView),
    Closed(&'a RoundView),
    Voided(&'a RoundView),
    /// The chair closed the session, at this time (Unix milliseconds).
    SessionClosed(u64),
}

/// The changes from `before` to `after`, in the order they are told: the
/// floor, the room, the vote, then the session's close, which comes last.
pub fn changes<'a>(before: &Snapshot, after: &'a Snapshot) -> Vec<Change<'a>> {
    let mut out = vote_changes(before, after);
    if let (None, Some(at)) = (before.closed_at, after.closed_at) {
        out.push(Change::SessionClosed(at));
    }
    out
}

fn vote_changes<'a>(before: &Snapshot, after: &'a Snapshot) -> Vec<Change<'a>> {
    let mut out = Vec::new();
    if before.current_item != after.current_item {
        out.push(Change::Item(after));
    }
    if before.present != after.present {
        out.push(Change::Attendance(after));
    }
    let Some(new) = &after.round else { return out };
    let same_round = before.round.as_ref().filter(|old| old.id == new.id);
    match (new.status, same_round) {
        (RoundStatus::Open, None) => {
            out.push(Change::Opened(new));
            // Joining (or rejoining) a vote already under way.
            if new.live.as_ref().is_some_and(|l| l.taking_part > 0) {
                out.push(Change::Tally(new));
            }
        }
        (RoundStatus::Open, Some(old)) => {
            if old.deadline != new.deadline {
                out.push(Change::Extended(new));
            }
            if old.live != new.live {
                out.push(Change::Tally(new));
            }
        }
        (_, Some(old)) if old.status == new.status => {}
        (RoundStatus::Closed, _) => out.push(Change::Closed(new)),
        (RoundStatus::Voided, _) => out.push(Change::Voided(new)),
    }
    out
}

/// What a follower has printed so far, and the server's clock as last seen.
#[derive(Debug, Default)]
pub struct Feed {
    shown: Option<Snapshot>,
    /// Server time minus local time at the last snapshot: countdowns follow
    /// the server's clock, because the server decides when a vote closes.
    clock_skew_ms: i64,
}

impl Feed {
    /// Lines telling what changed since the last call; the first call
    /// describes the whole meeting.
    pub fn update(&mut self, session: &Session, lang: Lang) -> Vec<String> {
        let Some(now) = &session.state.snapshot else {
            return Vec::new();
        };
        if self
            .shown
            .as_ref()
            .is_none_or(|s| s.server_time != now.server_time)
        {
            self.clock_skew_ms = now.server_time as i64 - local_ms() as i64;
        }
        let text = Text::new(&session.meeting, lang);
        let server_now = self.server_now();
        let lines = match &self.shown {
            None => vec![text.status(&session.state, session.principal, server_now)],
            Some(before) => changes(before, now)
                .iter()
                .map(|c| text.change(c, server_now))
                .collect(),
        };
        self.shown = Some(now.clone());
        lines
    }

    /// The server's time now, as far as this client can tell, in Unix milliseconds.
    pub fn server_now(&self) -> u64 {
        local_ms().saturating_add_signed(self.clock_skew_ms)
    }
}

fn local_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gavel_protocol::messages::LiveTally;
    use gavel_protocol::rules::VoteSettings;
    use gavel_protocol::{MeetingId, RoundId};

    fn snapshot(current_item: Option<u32>, present: u32, round: Option<RoundView>) -> Snapshot {
        Snapshot {
            version: 1,
            server_time: 0,
            meeting: MeetingId::parse("m").unwrap(),
            current_item,
            present,
            present_seats: None,
            items: Vec::new(),
            round,
            store: gavel_protocol::messages::StoreHealth::Ok,
            presentation: None,
            closed_at: None,
        }
    }

    fn round(id: u8, status: RoundStatus, taking_part: u32) -> RoundView {
        RoundView {
            id: RoundId([id; 16]),
            item: 0,
            status,
            settings: VoteSettings::default(),
            opened_at: 0,
            deadline: 60_000,
            paused_at: None,
            versions: None,
            live: (status == RoundStatus::Open).then_some(LiveTally {
                taking_part,
                counts: None,
                marks: None,
                voted: None,
                choices: None,
            }),
            result: None,
            board: None,
            by_hand: None,
        }
    }

    #[test]
    fn nothing_changed_means_no_lines() {
        let s = snapshot(Some(0), 30, Some(round(1, RoundStatus::Open, 5)));
        assert_eq!(changes(&s, &s.clone()), vec![]);
    }

    #[test]
    fn the_floor_and_the_room_come_before_the_vote() {
        let before = snapshot(None, 30, None);
        let after = snapshot(Some(0), 31, Some(round(1, RoundStatus::Open, 0)));
        let r = after.round.as_ref().unwrap();
        assert_eq!(
            changes(&before, &after),
            vec![
                Change::Item(&after),
                Change::Attendance(&after),
                Change::Opened(r)
            ]
        );
    }

    #[test]
    fn tally_ticks_and_extensions_of_the_same_round() {
        let before = snapshot(Some(0), 30, Some(round(1, RoundStatus::Open, 5)));
        let mut r = round(1, RoundStatus::Open, 6);
        r.deadline += 30_000;
        let after = snapshot(Some(0), 30, Some(r));
        let r = after.round.as_ref().unwrap();
        assert_eq!(
            changes(&before, &after),
            vec![Change::Extended(r), Change::Tally(r)]
        );
    }

    #[test]
    fn closing_and_voiding_are_told_once() {
        let open = snapshot(Some(0), 30, Some(round(1, RoundStatus::Open, 5)));
        let closed = snapshot(Some(0), 30, Some(round(1, RoundStatus::Closed, 0)));
        assert_eq!(
            changes(&open, &closed),
            vec![Change::Closed(closed.round.as_ref().unwrap())]
        );
        assert_eq!(changes(&closed, &closed.clone()), vec![]);
        let voided = snapshot(Some(0), 30, Some(round(1, RoundStatus::Voided, 0)));
        assert_eq!(
            changes(&open, &voided),
            vec![Change::Voided(voided.round.as_ref().unwrap())]
        );
    }

    #[test]
    fn the_sessions_close_is_told_once_after_the_last_result() {
        let open = snapshot(Some(0), 30, Some(round(1, RoundStatus::Open, 5)));
        let mut closed = snapshot(Some(0), 30, Some(round(1, RoundStatus::Closed, 0)));
        closed.closed_at = Some(42_000);
        assert_eq!(
            changes(&open, &closed),
            vec![
                Change::Closed(closed.round.as_ref().unwrap()),
                Change::SessionClosed(42_000)
            ]
        );
        assert_eq!(changes(&closed, &closed.clone()), vec![]);
    }

    #[test]
    fn a_resync_after_a_lost_connection_tells_what_was_missed() {
        // A whole round opened and closed while the follower was away.
        let before = snapshot(Some(0), 30, Some(round(1, RoundStatus::Closed, 0)));
        let after = snapshot(Some(0), 30, Some(round(2, RoundStatus::Closed, 0)));
        assert_eq!(
            changes(&before, &after),
            vec![Change::Closed(after.round.as_ref().unwrap())]
        );
        // A vote under way when the follower came back.
        let after = snapshot(Some(0), 30, Some(round(3, RoundStatus::Open, 12)));
        let r = after.round.as_ref().unwrap();
        assert_eq!(
            changes(&before, &after),
            vec![Change::Opened(r), Change::Tally(r)]
        );
    }
}
