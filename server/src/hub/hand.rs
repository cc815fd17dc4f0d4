//! Results recorded by hand: when the devices fail, the hall votes by a
//! show of hands or on paper and the secretariat enters the counts for the
//! item. What may be recorded is decided here, as a pure function of the
//! meeting's definition and the figures; the actor adds what depends on the
//! moment (no round open, none awaiting its announcement) and stores it.
//!
//! A yes/no/abstain item in the open may be counted by a show of hands. A
//! secret item, an election or a confidence vote is voted on paper ballots
//! in a box, which the counting board (Ban kiểm phiếu) counts and records
//! in its biên bản kiểm phiếu: the secretariat enters that record's figures,
//! the ballots issued, returned and invalid and, for a list, each entry's
//! count of each mark. There is no seat anywhere in them, so a secret item
//! counted by hand leaks nothing. The figures are checked and the result
//! decided by [`gavel_protocol::hand`], the same rules `gavel verify`
//! checks the record with.

use crate::meeting::MeetingDefinition;
use gavel_protocol::PublicKey;
use gavel_protocol::hand::{FigureError, paper_result, tally};
use gavel_protocol::messages::Ballots;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::{Counts, Secrecy, VoteSettings};
use serde::{Deserialize, Serialize};

/// The longest name of whoever records a result.
pub const MAX_NAME_CHARS: usize = 100;

/// The figures the secretariat entered for an item, and who entered them.
/// Serialized to be passed on to the meeting's node when the call reached
/// another (`crate::secretariat::owner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandCount {
    /// The agenda item's index, from 0.
    pub item: u32,
    /// Delegates present in the hall when it voted.
    pub present: u32,
    /// The ballot papers, from the counting board's record: required for a
    /// secret item and a list, absent for a show of hands.
    pub ballots: Option<Ballots>,
    pub votes: HandVotes,
    /// Who recorded it, as they typed their name.
    pub by: String,
    /// The secretariat device that sent it.
    pub device: PublicKey,
}

/// What the votes were, by the item's kind of ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandVotes {
    /// A yes/no/abstain item's counts.
    Choices { yes: u32, no: u32, abstain: u32 },
    /// A list's figures: per entry, the count of each of its kind's marks
    /// in mark order (an election's approvals; a rating's high, confidence
    /// and low; a no-confidence vote's confidence and no confidence).
    Marks(Vec<Vec<u32>>),
}

/// Why a result cannot be recorded by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandRefusal {
    #[error("there is no agenda item with index {0} (indexes start at 0)")]
    UnknownItem(u32),
    #[error("agenda item {0} is not voted on")]
    NotVoted(u32),
    #[error("a vote is open on the devices; the chair closes or voids it first")]
    RoundOpen,
    /// Once an item's last round has closed its result stands: the record
    /// keeps it, and nothing recorded by hand replaces it.
    #[error(
        "agenda item {0} already has its result; a closed round cannot be changed (a voided one can be voted again)"
    )]
    ItemDecided(u32),
    #[error(
        "the last secret round's result awaits the counting board and the chair's announcement"
    )]
    AwaitingAnnouncement,
    /// Figures (or a name) that cannot be: `field` names the one to correct.
    #[error("{message}")]
    Counts { field: String, message: String },
    #[error("the chair has closed the session; nothing more is recorded in it")]
    SessionClosed,
    #[error("the store does not answer; try again")]
    StoreUnavailable,
}

impl HandRefusal {
    fn counts(field: &str, message: String) -> HandRefusal {
        HandRefusal::Counts {
            field: field.to_owned(),
            message,
        }
    }
}

impl From<FigureError> for HandRefusal {
    fn from(e: FigureError) -> HandRefusal {
        HandRefusal::Counts {
            field: e.field,
            message: e.message,
        }
    }
}

/// The item's settings and the result its rule gives for `hand`'s figures,
/// percentages of all seats as for any round; or why it cannot be recorded.
pub fn decide(
    definition: &MeetingDefinition,
    hand: &HandCount,
) -> Result<(VoteSettings, RoundResult), HandRefusal> {
    let index = hand.item;
    let item = definition
        .agenda
        .get(index as usize)
        .ok_or(HandRefusal::UnknownItem(index))?;
    let settings = item.vote.ok_or(HandRefusal::NotVoted(index))?;
    let by = hand.by.trim();
    if by.is_empty() {
        return Err(HandRefusal::counts(
            "by",
            "say who records the result: a name".to_owned(),
        ));
    }
    if by.chars().count() > MAX_NAME_CHARS || by.chars().any(char::is_control) {
        return Err(HandRefusal::counts(
            "by",
            format!("a name of at most {MAX_NAME_CHARS} characters, on one line"),
        ));
    }
    let on_paper = item.paper.is_some() || settings.secrecy == Secrecy::Secret;
    let ballots = match (hand.ballots, on_paper) {
        (None, true) => {
            return Err(HandRefusal::counts(
                "ballots",
                "this item is voted on paper ballots: enter the counting board's figures, the ballots issued, returned and invalid".to_owned(),
            ));
        }
        (ballots, _) => ballots,
    };
    let total = definition.total_seats;
    let result = match (&item.paper, &hand.votes) {
        (None, HandVotes::Choices { yes, no, abstain }) => {
            let counts = Counts {
                total_seats: total,
                present: hand.present,
                yes: *yes,
                no: *no,
                abstain: *abstain,
            };
            RoundResult::Tally(tally(settings.rule, counts, ballots.as_ref())?)
        }
        (Some(list), HandVotes::Marks(marks)) => {
            let ballots = ballots.expect("a list is voted on paper");
            RoundResult::Paper(paper_result(
                list.sheet(),
                settings.rule,
                total,
                hand.present,
                &ballots,
                marks,
            )?)
        }
        (Some(_), HandVotes::Choices { .. }) => {
            return Err(HandRefusal::counts(
                "marks",
                "this item is voted on a list: enter each candidate's or official's figures, not yes, no and abstain".to_owned(),
            ));
        }
        (None, HandVotes::Marks(_)) => {
            return Err(HandRefusal::counts(
                "marks",
                "this item is voted yes, no or abstain: enter those counts, not a list's figures"
                    .to_owned(),
            ));
        }
    };
    Ok((settings, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::EXAMPLE;
    use gavel_protocol::messages::ListEntry;
    use gavel_protocol::paper::PaperKind;
    use gavel_protocol::results::PaperResult;
    use gavel_protocol::rules::TallyResult;

    fn example() -> MeetingDefinition {
        MeetingDefinition::parse(EXAMPLE).unwrap()
    }

    fn hand(item: u32, present: u32, yes: u32, no: u32, abstain: u32) -> HandCount {
        HandCount {
            item,
            present,
            ballots: None,
            votes: HandVotes::Choices { yes, no, abstain },
            by: "Lê Thị Thu".to_owned(),
            device: PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[4; 32])),
        }
    }

    fn on_paper(
        item: u32,
        present: u32,
        (issued, returned, invalid): (u32, u32, u32),
        marks: &[&[u32]],
    ) -> HandCount {
        HandCount {
            ballots: Some(Ballots {
                issued,
                returned,
                invalid,
            }),
            votes: HandVotes::Marks(marks.iter().map(|r| r.to_vec()).collect()),
            ..hand(item, present, 0, 0, 0)
        }
    }

    /// The first item of the example voted with yes, no and abstain in `secrecy`.
    fn yes_no_item(d: &MeetingDefinition, secrecy: Secrecy) -> u32 {
        d.agenda
            .iter()
            .find(|i| i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == secrecy))
            .expect("the example has such a yes/no item")
            .index
    }

    /// The example's item on a list of `kind`, and the list's length.
    fn list_item(d: &MeetingDefinition, kind: PaperKind) -> (u32, usize) {
        let item = d
            .agenda
            .iter()
            .find(|i| i.paper.as_ref().is_some_and(|p| p.kind == kind))
            .expect("the example has such a list");
        (item.index, item.paper.as_ref().unwrap().entries.len())
    }

    fn field<T: std::fmt::Debug>(r: Result<T, HandRefusal>) -> String {
        match r {
            Err(HandRefusal::Counts { field, .. }) => field,
            other => panic!("not refused for its figures: {other:?}"),
        }
    }

    fn tally_of(r: Result<(VoteSettings, RoundResult), HandRefusal>) -> TallyResult {
        match r.unwrap().1 {
            RoundResult::Tally(t) => t,
            other => panic!("not a tally: {other:?}"),
        }
    }

    fn paper_of(r: Result<(VoteSettings, RoundResult), HandRefusal>) -> PaperResult {
        match r.unwrap().1 {
            RoundResult::Paper(p) => p,
            other => panic!("not a list's result: {other:?}"),
        }
    }

    #[test]
    fn the_items_rule_decides_with_percentages_of_all_seats() {
        let d = example();
        let item = yes_no_item(&d, Secrecy::Named);
        let total = d.total_seats;
        let rule = d.agenda[item as usize].vote.unwrap().rule;
        let needed = u32::try_from(rule.yes_needed(u64::from(total))).unwrap();
        let passed = tally_of(decide(&d, &hand(item, total, needed, 0, 0)));
        assert!(passed.passed);
        assert_eq!(passed.counts.total_seats, total);
        let failed = tally_of(decide(&d, &hand(item, total, needed - 1, 1, 0)));
        assert!(!failed.passed);
    }

    #[test]
    fn a_secret_item_is_counted_from_the_boards_figures() {
        let d = example();
        let item = yes_no_item(&d, Secrecy::Secret);
        let bare = hand(item, 38, 30, 5, 1);
        assert_eq!(field(decide(&d, &bare)), "ballots");
        let counted = HandCount {
            ballots: Some(Ballots {
                issued: 38,
                returned: 37,
                invalid: 1,
            }),
            ..bare.clone()
        };
        let t = tally_of(decide(&d, &counted));
        assert_eq!((t.counts.yes, t.counts.present), (30, 38));
        // More choices than valid ballots (37 - 2 = 35 < 36).
        let over = HandCount {
            ballots: Some(Ballots {
                issued: 38,
                returned: 37,
                invalid: 2,
            }),
            ..bare
        };
        assert_eq!(field(decide(&d, &over)), "counts");
    }

    #[test]
    fn an_election_elects_the_highest_over_half_of_all_seats() {
        let d = example();
        let (item, entries) = list_item(&d, PaperKind::Election);
        let mut marks = vec![0; entries];
        marks[..2].copy_from_slice(&[24, 14]);
        let rows: Vec<&[u32]> = marks.chunks(1).collect();
        let PaperResult::Election(e) =
            paper_of(decide(&d, &on_paper(item, 40, (40, 39, 1), &rows)))
        else {
            panic!("not an election");
        };
        assert_eq!(e.elected, [0]);
        assert_eq!(e.turnout.papers, 38, "the valid ballots");
        assert_eq!(e.approvals_needed, 21, "more than half of 40 seats");
    }

    #[test]
    fn an_elections_tie_and_nobody_elected_are_results_too() {
        let mut d = example();
        let (item, entries) = list_item(&d, PaperKind::Election);
        // Two posts and a third candidate, so that two may tie for the second.
        let list = d.agenda[item as usize].paper.as_mut().unwrap();
        list.posts = 2;
        list.entries.push(ListEntry {
            name: "Phan Văn Khải".to_owned(),
            post: String::new(),
        });
        let mut marks = vec![0; entries + 1];
        marks[..3].copy_from_slice(&[30, 25, 25]);
        let rows: Vec<&[u32]> = marks.chunks(1).collect();
        let PaperResult::Election(tie) =
            paper_of(decide(&d, &on_paper(item, 40, (40, 40, 0), &rows)))
        else {
            panic!("not an election");
        };
        assert_eq!(tie.elected, [0]);
        let t = tie.tie.expect("two candidates tie for the second post");
        assert_eq!((t.candidates, t.posts), (vec![1, 2], 1));
        marks[..3].copy_from_slice(&[20, 18, 0]);
        let rows: Vec<&[u32]> = marks.chunks(1).collect();
        let PaperResult::Election(nobody) =
            paper_of(decide(&d, &on_paper(item, 40, (40, 40, 0), &rows)))
        else {
            panic!("not an election");
        };
        assert!(nobody.nobody_elected(), "20 of 40 is not more than half");
    }

    #[test]
    fn a_rating_and_a_no_confidence_vote_flag_by_their_rules() {
        let d = example();
        let (item, entries) = list_item(&d, PaperKind::Rating);
        let mut rows = vec![vec![30, 5, 2]; entries];
        rows[1] = vec![2, 10, 27];
        let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        let PaperResult::Rating(r) = paper_of(decide(&d, &on_paper(item, 40, (40, 40, 0), &refs)))
        else {
            panic!("not a rating");
        };
        assert!(!r.ratings[0].low_over_half);
        assert!(r.ratings[1].low_over_half && r.ratings[1].low_two_thirds);
        let (item, entries) = list_item(&d, PaperKind::NoConfidence);
        let mut rows = vec![vec![30, 3]; entries];
        rows[0] = vec![10, 25];
        let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        let PaperResult::NoConfidence(n) =
            paper_of(decide(&d, &on_paper(item, 40, (40, 38, 2), &refs)))
        else {
            panic!("not a no-confidence vote");
        };
        assert!(n.votes[0].flagged && !n.votes[1].flagged);
    }

    #[test]
    fn impossible_figures_are_refused_naming_their_field() {
        let d = example();
        let (election, candidates) = list_item(&d, PaperKind::Election);
        let (rating, officials) = list_item(&d, PaperKind::Rating);
        let zeros = vec![0u32; candidates];
        let blank: Vec<&[u32]> = zeros.chunks(1).collect();
        let cases: Vec<(HandCount, &str)> = vec![
            (on_paper(election, 41, (40, 40, 0), &blank), "present"),
            (
                on_paper(election, 30, (31, 30, 0), &blank),
                "ballots.issued",
            ),
            (
                on_paper(election, 40, (30, 31, 0), &blank),
                "ballots.returned",
            ),
            (
                on_paper(election, 40, (30, 30, 31), &blank),
                "ballots.invalid",
            ),
            (on_paper(election, 40, (40, 40, 0), &blank[1..]), "marks"),
            (
                HandCount {
                    ballots: None,
                    ..on_paper(election, 40, (40, 40, 0), &blank)
                },
                "ballots",
            ),
            (
                HandCount {
                    ballots: Some(Ballots {
                        issued: 40,
                        returned: 40,
                        invalid: 0,
                    }),
                    ..hand(election, 40, 20, 0, 0)
                },
                "marks",
            ),
            (
                HandCount {
                    ballots: None,
                    ..on_paper(yes_no_item(&d, Secrecy::Named), 40, (0, 0, 0), &blank)
                },
                "marks",
            ),
        ];
        for (count, expected) in cases {
            assert_eq!(field(decide(&d, &count)), expected, "{count:?}");
        }
        // A candidate approved on more ballots than are valid.
        let mut over = vec![0u32; candidates];
        over[1] = 39;
        let rows: Vec<&[u32]> = over.chunks(1).collect();
        assert_eq!(
            field(decide(&d, &on_paper(election, 40, (40, 39, 1), &rows))),
            "marks.1"
        );
        // One post: 38 valid ballots approve at most 38 candidates in all.
        let mut spread = vec![0u32; candidates];
        spread[..2].copy_from_slice(&[20, 19]);
        let rows: Vec<&[u32]> = spread.chunks(1).collect();
        assert_eq!(
            field(decide(&d, &on_paper(election, 40, (40, 39, 1), &rows))),
            "marks"
        );
        // An official's levels summing above the valid ballots, and a row
        // with a level too few.
        let mut levels = vec![vec![10u32, 10, 10]; officials];
        levels[2] = vec![20, 10, 10];
        let refs: Vec<&[u32]> = levels.iter().map(Vec::as_slice).collect();
        assert_eq!(
            field(decide(&d, &on_paper(rating, 40, (40, 39, 0), &refs))),
            "marks.2"
        );
        levels[2] = vec![20, 10];
        let refs: Vec<&[u32]> = levels.iter().map(Vec::as_slice).collect();
        assert_eq!(
            field(decide(&d, &on_paper(rating, 40, (40, 39, 0), &refs))),
            "marks.2"
        );
    }

    #[test]
    fn impossible_counts_and_items_are_refused_with_their_field_or_reason() {
        let d = example();
        let item = yes_no_item(&d, Secrecy::Named);
        let total = d.total_seats;
        assert_eq!(
            field(decide(&d, &hand(item, total + 1, 1, 0, 0))),
            "present"
        );
        assert_eq!(field(decide(&d, &hand(item, 0, 0, 0, 0))), "present");
        assert_eq!(field(decide(&d, &hand(item, 10, 6, 4, 1))), "counts");
        let mut nameless = hand(item, 10, 6, 4, 0);
        nameless.by = "  ".to_owned();
        assert_eq!(field(decide(&d, &nameless)), "by");
        let past = d.agenda.len() as u32;
        assert_eq!(
            decide(&d, &hand(past, 10, 1, 0, 0)),
            Err(HandRefusal::UnknownItem(past))
        );
        let report = d.agenda.iter().find(|i| i.vote.is_none()).unwrap().index;
        assert_eq!(
            decide(&d, &hand(report, 10, 1, 0, 0)),
            Err(HandRefusal::NotVoted(report))
        );
    }
}
