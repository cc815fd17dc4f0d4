//! A secret round's published list, as `GET
//! /api/meetings/{meeting}/rounds/{round}/trackers` serves it (PROTOCOL.md
//! §6.4): each ballot's tracker and what was counted under it, sorted by
//! tracker, with no seat. A delegate's device computes its ballot's
//! tracker ([`Tracker::of`] the signature it sent) and looks it up here,
//! so a delegate can check their secret ballot without the whole record.

use crate::paper::{Paper, Vote};
use crate::{Choice, RoundId, Tracker};
use serde::{Deserialize, Serialize};

/// The published list of one secret round after its result is out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedList {
    pub round: RoundId,
    /// The agenda item's index.
    pub item: u32,
    /// Ascending by tracker.
    pub ballots: Vec<PublishedBallot>,
}

/// One counted ballot: its tracker and its choice, or its paper on a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedBallot {
    pub tracker: Tracker,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<Paper>,
}

impl PublishedBallot {
    pub fn new(tracker: Tracker, vote: &Vote) -> PublishedBallot {
        PublishedBallot {
            tracker,
            choice: vote.choice(),
            paper: vote.paper().cloned(),
        }
    }

    /// What was counted; `None` if the entry holds neither a choice nor a
    /// paper, or both.
    pub fn vote(&self) -> Option<Vote> {
        Vote::from_parts(self.choice, self.paper.as_ref())
    }
}

impl PublishedList {
    /// The entry under `tracker`, if the list holds it.
    pub fn find(&self, tracker: &Tracker) -> Option<&PublishedBallot> {
        let at = self
            .ballots
            .binary_search_by(|b| b.tracker.cmp(tracker))
            .ok()?;
        self.ballots.get(at)
    }
}

/// Why the list of a round is not served: the `reason` of the JSON body of
/// a `404` or `409` (PROTOCOL.md §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ListRefusal {
    /// `404`: no such meeting, or the meeting has no such round.
    #[error("this meeting has no such round")]
    UnknownRound,
    /// `404`: a named round publishes its ballots by seat in the record.
    #[error("the round is not secret: its ballots are named in the record")]
    NotSecret,
    /// `409`: the round is still open.
    #[error("the round is still open")]
    NotClosed,
    /// `409`: the round was voided; nothing was counted.
    #[error("the round was voided; no ballot was counted")]
    Voided,
    /// `409`: the counting board has not yet had the result announced.
    #[error("the result awaits the counting board and the chair's announcement")]
    NotAnnounced,
}

/// The JSON body of a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRefused {
    pub reason: ListRefusal,
    /// English text for logs; branch on `reason`.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracker_is_found_by_binary_search_and_a_missing_one_is_not() {
        let list = PublishedList {
            round: RoundId([7; 16]),
            item: 2,
            ballots: [1u8, 5, 9]
                .iter()
                .map(|&b| PublishedBallot::new(Tracker([b; 16]), &Vote::Choice(Choice::Yes)))
                .collect(),
        };
        assert_eq!(
            list.find(&Tracker([5; 16])).and_then(PublishedBallot::vote),
            Some(Vote::Choice(Choice::Yes))
        );
        assert!(list.find(&Tracker([6; 16])).is_none());
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["ballots"][0]["choice"], "yes");
        assert!(json["ballots"][0].get("paper").is_none());
        assert!(json["ballots"][0].get("seat").is_none());
    }
}
