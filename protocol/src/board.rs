//! The counting board (Ban kiểm phiếu) and its confirmation of a secret
//! round's count.
//!
//! When a secret round closes in a meeting that has a board, its result is
//! provisional: the hall and the delegates see the turnout only, and each
//! board member's device signs the count as the close computed it
//! ([`Count`], the layout `count_confirmation` in PROTOCOL.md §7.6). Once the
//! meeting's required number of members have signed, the chair announces it.
//! The count is the result's numbers alone (no rule, no verdict): what the
//! board attests is what it counted, and the verdict follows from the rule.

use crate::results::RoundResult;
use crate::{MeetingId, RoundId, SeatNo};
use serde::{Deserialize, Serialize};

/// The numbers of a closed round's result that a board member signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    /// All the council's seats.
    pub total_seats: u32,
    /// Checked in when the round closed.
    pub present: u32,
    /// Ballots or papers returned.
    pub ballots: u32,
    /// One row per entry: `[yes, no, abstain]` for a yes/no round; per
    /// candidate `[approvals]`; per official `[high, confidence, low]` or
    /// `[confidence, no_confidence]`.
    pub rows: Vec<Vec<u32>>,
}

impl Count {
    /// The count `result` holds.
    pub fn of(result: &RoundResult) -> Count {
        match result {
            RoundResult::Tally(t) => Count {
                total_seats: t.counts.total_seats,
                present: t.counts.present,
                ballots: t.counts.yes + t.counts.no + t.counts.abstain,
                rows: vec![vec![t.counts.yes, t.counts.no, t.counts.abstain]],
            },
            RoundResult::Paper(p) => {
                let turnout = p.turnout();
                let rows = p.counts();
                Count {
                    total_seats: turnout.total_seats,
                    present: turnout.present,
                    ballots: turnout.papers,
                    rows,
                }
            }
        }
    }
}

/// What a board member's device signs: the count of one round, for its seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation<'a> {
    pub meeting: &'a MeetingId,
    pub round: RoundId,
    pub seat: SeatNo,
    pub count: &'a Count,
}

/// The count a board member's tablet is asked to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToConfirm {
    pub round: RoundId,
    pub count: Count,
}

/// The board's state of a closed secret round, as every screen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    /// The board's seats, the head first.
    pub members: Vec<SeatNo>,
    /// How many members must confirm before the chair may announce.
    pub required: u32,
    /// The members who confirmed, in the order they did.
    pub confirmed: Vec<Confirmed>,
    /// When the chair announced the result (Unix milliseconds); until then
    /// the result is provisional and only the chair and the board see it.
    pub announced_at: Option<u64>,
    /// Ballots or papers returned: the turnout everyone sees meanwhile.
    pub ballots: u32,
}

impl BoardView {
    /// Whether enough members have confirmed for the chair to announce.
    pub fn enough(&self) -> bool {
        self.confirmed.len() as u64 >= u64::from(self.required)
    }
}

/// One member's confirmation as the screens show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    pub seat: SeatNo,
    /// When the hub stored it (Unix milliseconds).
    pub at: u64,
}
