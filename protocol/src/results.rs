//! The results of ballots on a list ([`crate::paper`]) as pure functions, so
//! that the hub, the minutes and `gavel verify` reach the same result from
//! the same papers.
//!
//! - An **election** elects a candidate whose approvals reach the item's
//!   rule (by default more than half of all seats) and who is among the
//!   highest, up to the number of posts. When candidates with equal
//!   approvals compete for the last posts, none of them is elected: the
//!   result names them and the posts left, to be voted on again. Nobody
//!   elected is a result too.
//! - A **confidence rating** gives, per official, the count of each level;
//!   the law (Resolution 96/2023/QH15) attaches consequences to more than
//!   half of all delegates rating "tín nhiệm thấp" and to two thirds or
//!   more, so both are flagged.
//! - A **no-confidence vote** flags an official whose no-confidence votes
//!   reach the item's rule (by default more than half of all seats).
//!
//! Percentages are of all seats, as everywhere ([`crate::rules`]).

use crate::paper::{LOW_CONFIDENCE, Mark, NO_CONFIDENCE, PaperKind, Sheet};
use crate::rules::{Base, Rule, TallyResult, Threshold};
use serde::{Deserialize, Serialize};

/// Who took part in a round on a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Turnout {
    pub total_seats: u32,
    /// Checked in when the round closed.
    pub present: u32,
    /// Papers recorded (a blank paper counts: its delegate took part).
    pub papers: u32,
}

impl Turnout {
    /// The value of a rule's base for a paper: the votes cast are the
    /// papers, since every paper is one delegate's whole ballot.
    pub fn base_value(&self, base: Base) -> u64 {
        u64::from(match base {
            Base::AllSeats => self.total_seats,
            Base::Present => self.present,
            Base::Cast | Base::YesNo => self.papers,
        })
    }
}

/// Counts each entry's marks: `counts[entry][i]` is how many papers gave
/// the entry the kind's `i`-th mark ([`PaperKind::marks`]). The papers must
/// have passed [`crate::paper::Sheet::check`].
pub fn count_marks<'a>(
    kind: PaperKind,
    entries: u16,
    papers: impl IntoIterator<Item = &'a [Mark]>,
) -> Vec<Vec<u32>> {
    let codes = kind.marks();
    let mut counts = vec![vec![0u32; codes.len()]; usize::from(entries)];
    for paper in papers {
        for m in paper {
            let slot = codes
                .iter()
                .position(|&c| c == m.mark)
                .expect("a checked paper's marks are the kind's");
            counts[usize::from(m.entry)][slot] += 1;
        }
    }
    counts
}

/// Candidates with equal approvals who compete for the last posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tie {
    /// Their indices in the candidate list, ascending.
    pub candidates: Vec<u16>,
    /// How many posts are left for them.
    pub posts: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionResult {
    pub turnout: Turnout,
    pub rule: Rule,
    pub posts: u16,
    /// Approvals per candidate, in list order.
    pub approvals: Vec<u32>,
    /// The smallest number of approvals that elects.
    pub approvals_needed: u64,
    /// The elected candidates' indices, most approvals first.
    pub elected: Vec<u16>,
    pub tie: Option<Tie>,
}

impl ElectionResult {
    pub fn decide(rule: Rule, posts: u16, turnout: Turnout, approvals: Vec<u32>) -> ElectionResult {
        let base = turnout.base_value(rule.base);
        let approvals_needed = rule.yes_needed(base);
        let mut qualified: Vec<u16> = (0..approvals.len())
            .filter(|&i| base > 0 && u64::from(approvals[i]) >= approvals_needed)
            .map(|i| u16::try_from(i).expect("a list has fewer than 65536 entries"))
            .collect();
        qualified.sort_by_key(|&i| (std::cmp::Reverse(approvals[usize::from(i)]), i));
        let mut elected = Vec::new();
        let mut tie = None;
        for group in
            qualified.chunk_by(|&a, &b| approvals[usize::from(a)] == approvals[usize::from(b)])
        {
            let left = usize::from(posts) - elected.len();
            if left == 0 {
                break;
            }
            if group.len() <= left {
                elected.extend_from_slice(group);
            } else {
                let mut candidates = group.to_vec();
                candidates.sort_unstable();
                tie = Some(Tie {
                    candidates,
                    posts: u16::try_from(left).expect("fewer posts left than posts"),
                });
                break;
            }
        }
        ElectionResult {
            turnout,
            rule,
            posts,
            approvals,
            approvals_needed,
            elected,
            tie,
        }
    }

    /// Nobody was elected and no tie is left to resolve.
    pub fn nobody_elected(&self) -> bool {
        self.elected.is_empty() && self.tie.is_none()
    }
}

/// One official's row of a confidence rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRow {
    pub high: u32,
    pub confidence: u32,
    pub low: u32,
    /// More than half of all seats rated "tín nhiệm thấp".
    pub low_over_half: bool,
    /// Two thirds or more of all seats rated "tín nhiệm thấp".
    pub low_two_thirds: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingResult {
    pub turnout: Turnout,
    /// One row per official, in list order.
    pub ratings: Vec<RatingRow>,
}

impl RatingResult {
    /// The law's two thresholds, both of all seats.
    const OVER_HALF: Rule = Rule::MAJORITY_OF_ALL_SEATS;
    const TWO_THIRDS: Rule = Rule {
        base: Base::AllSeats,
        threshold: Threshold::AtLeastTwoThirds,
    };

    /// `counts` as [`count_marks`] gives them for a rating.
    pub fn decide(turnout: Turnout, counts: &[Vec<u32>]) -> RatingResult {
        let reaches = |rule: Rule, low: u32| {
            let base = turnout.base_value(rule.base);
            base > 0 && u64::from(low) >= rule.yes_needed(base)
        };
        let officials = counts
            .iter()
            .map(|c| {
                let low = c[usize::from(LOW_CONFIDENCE - 1)];
                RatingRow {
                    high: c[0],
                    confidence: c[1],
                    low,
                    low_over_half: reaches(Self::OVER_HALF, low),
                    low_two_thirds: reaches(Self::TWO_THIRDS, low),
                }
            })
            .collect();
        RatingResult {
            turnout,
            ratings: officials,
        }
    }
}

/// One official's row of a no-confidence vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoConfidenceRow {
    pub confidence: u32,
    pub no_confidence: u32,
    /// The no-confidence votes reach the item's rule.
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoConfidenceResult {
    pub turnout: Turnout,
    pub rule: Rule,
    /// The smallest number of no-confidence votes that flags an official.
    pub needed: u64,
    /// One row per official, in list order.
    pub votes: Vec<NoConfidenceRow>,
}

impl NoConfidenceResult {
    /// `counts` as [`count_marks`] gives them for a no-confidence vote.
    pub fn decide(rule: Rule, turnout: Turnout, counts: &[Vec<u32>]) -> NoConfidenceResult {
        let base = turnout.base_value(rule.base);
        let needed = rule.yes_needed(base);
        let officials = counts
            .iter()
            .map(|c| {
                let no_confidence = c[usize::from(NO_CONFIDENCE - 1)];
                NoConfidenceRow {
                    confidence: c[0],
                    no_confidence,
                    flagged: base > 0 && u64::from(no_confidence) >= needed,
                }
            })
            .collect();
        NoConfidenceResult {
            turnout,
            rule,
            needed,
            votes: officials,
        }
    }
}

/// A closed round's result on a list, whatever its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaperResult {
    Election(ElectionResult),
    Rating(RatingResult),
    NoConfidence(NoConfidenceResult),
}

impl PaperResult {
    /// Counts the papers and decides: the one way from recorded papers to a
    /// result, for the hub and for `gavel verify`.
    pub fn decide<'a>(
        kind: PaperKind,
        rule: Rule,
        entries: u16,
        posts: u16,
        turnout: Turnout,
        papers: impl IntoIterator<Item = &'a [Mark]>,
    ) -> PaperResult {
        let counts = count_marks(kind, entries, papers);
        PaperResult::from_counts(kind, rule, posts, turnout, &counts)
    }

    /// Decides from `counts` as [`count_marks`] gives them (one row per
    /// entry, one count per mark of the kind): the devices' papers once
    /// counted, or the counting board's figures of a count by hand.
    pub fn from_counts(
        kind: PaperKind,
        rule: Rule,
        posts: u16,
        turnout: Turnout,
        counts: &[Vec<u32>],
    ) -> PaperResult {
        match kind {
            PaperKind::Election => PaperResult::Election(ElectionResult::decide(
                rule,
                posts,
                turnout,
                counts.iter().map(|c| c[0]).collect(),
            )),
            PaperKind::Rating => PaperResult::Rating(RatingResult::decide(turnout, counts)),
            PaperKind::NoConfidence => {
                PaperResult::NoConfidence(NoConfidenceResult::decide(rule, turnout, counts))
            }
        }
    }

    /// The list this result counts: its kind, as many entries as it has
    /// rows, and an election's posts.
    pub fn sheet(&self) -> Sheet {
        let (kind, rows, posts) = match self {
            PaperResult::Election(r) => (PaperKind::Election, r.approvals.len(), r.posts),
            PaperResult::Rating(r) => (PaperKind::Rating, r.ratings.len(), 0),
            PaperResult::NoConfidence(r) => (PaperKind::NoConfidence, r.votes.len(), 0),
        };
        Sheet {
            kind,
            entries: u16::try_from(rows).unwrap_or(u16::MAX),
            posts,
        }
    }

    /// Each entry's count of each mark, in mark order: what
    /// [`PaperResult::from_counts`] decides from.
    pub fn counts(&self) -> Vec<Vec<u32>> {
        match self {
            PaperResult::Election(r) => r.approvals.iter().map(|&a| vec![a]).collect(),
            PaperResult::Rating(r) => r
                .ratings
                .iter()
                .map(|row| vec![row.high, row.confidence, row.low])
                .collect(),
            PaperResult::NoConfidence(r) => r
                .votes
                .iter()
                .map(|row| vec![row.confidence, row.no_confidence])
                .collect(),
        }
    }

    pub fn turnout(&self) -> Turnout {
        match self {
            PaperResult::Election(r) => r.turnout,
            PaperResult::Rating(r) => r.turnout,
            PaperResult::NoConfidence(r) => r.turnout,
        }
    }

    /// The rule an election or a no-confidence vote was decided by; a
    /// rating's flags are the law's, not the item's.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            PaperResult::Election(r) => Some(r.rule),
            PaperResult::Rating(_) => None,
            PaperResult::NoConfidence(r) => Some(r.rule),
        }
    }

    /// This result decided again from `papers`, with its own list, rule and
    /// turnout: a stored or exported result is right when its recount
    /// equals it. The papers must fit [`PaperResult::sheet`].
    pub fn recount<'a>(&self, papers: impl IntoIterator<Item = &'a [Mark]>) -> PaperResult {
        let sheet = self.sheet();
        let counts = count_marks(sheet.kind, sheet.entries, papers);
        self.redecide(&counts)
    }

    /// This result decided again from `counts`, with its own kind, rule,
    /// posts and turnout.
    pub fn redecide(&self, counts: &[Vec<u32>]) -> PaperResult {
        // A rating's rule is the law's; any rule stands in for it.
        let rule = self.rule().unwrap_or(Rule::MAJORITY_OF_ALL_SEATS);
        let sheet = self.sheet();
        PaperResult::from_counts(sheet.kind, rule, sheet.posts, self.turnout(), counts)
    }
}

/// A closed round's result, of either kind of ballot. On the wire it is
/// the result itself: a tally has `counts`, a paper's result its `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoundResult {
    Tally(TallyResult),
    Paper(PaperResult),
}

impl RoundResult {
    pub fn tally(&self) -> Option<&TallyResult> {
        match self {
            RoundResult::Tally(t) => Some(t),
            RoundResult::Paper(_) => None,
        }
    }

    pub fn paper(&self) -> Option<&PaperResult> {
        match self {
            RoundResult::Tally(_) => None,
            RoundResult::Paper(p) => Some(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::{APPROVE, CONFIDENCE, HIGH_CONFIDENCE, KEEP_CONFIDENCE};

    fn turnout(total_seats: u32, papers: u32) -> Turnout {
        Turnout {
            total_seats,
            present: papers,
            papers,
        }
    }

    fn election(posts: u16, total: u32, approvals: &[u32]) -> ElectionResult {
        let papers = total;
        ElectionResult::decide(
            Rule::MAJORITY_OF_ALL_SEATS,
            posts,
            turnout(total, papers),
            approvals.to_vec(),
        )
    }

    #[test]
    fn two_candidates_for_one_post_elect_the_one_with_a_majority_of_all_seats() {
        let r = election(1, 40, &[23, 15]);
        assert_eq!(r.approvals_needed, 21);
        assert_eq!(r.elected, vec![0]);
        assert_eq!(r.tie, None);
    }

    #[test]
    fn a_majority_of_those_voting_is_not_enough_when_the_base_is_all_seats() {
        // 30 of 40 came; 20 approvals is two thirds of them but not more than half of 40.
        let r = ElectionResult::decide(
            Rule::MAJORITY_OF_ALL_SEATS,
            1,
            turnout(40, 30),
            vec![20, 10],
        );
        assert!(r.nobody_elected());
        // With a base of the papers cast, the same approvals elect.
        let cast = Rule {
            base: Base::Cast,
            threshold: Threshold::MoreThanHalf,
        };
        let r = ElectionResult::decide(cast, 1, turnout(40, 30), vec![20, 10]);
        assert_eq!(r.elected, vec![0]);
    }

    #[test]
    fn qualified_candidates_beyond_the_posts_are_not_elected() {
        // Three posts, four candidates over the threshold: the three highest.
        let r = election(3, 40, &[25, 30, 22, 35, 5]);
        assert_eq!(r.elected, vec![3, 1, 0]);
        assert_eq!(r.tie, None);
    }

    #[test]
    fn a_tie_for_the_last_post_is_reported_with_the_tied_candidates() {
        let r = election(2, 40, &[30, 25, 25, 10]);
        assert_eq!(r.elected, vec![0]);
        assert_eq!(
            r.tie,
            Some(Tie {
                candidates: vec![1, 2],
                posts: 1
            })
        );
        assert!(!r.nobody_elected());
        // A tie below the threshold decides nothing: nobody is elected.
        let r = election(1, 40, &[20, 20]);
        assert!(r.nobody_elected());
        // A tie that does not decide a post is no tie: both are elected.
        let r = election(3, 40, &[25, 25, 30]);
        assert_eq!(r.elected, vec![2, 0, 1]);
        assert_eq!(r.tie, None);
    }

    #[test]
    fn nobody_elected_is_a_result() {
        assert!(election(1, 40, &[0, 0]).nobody_elected());
        assert!(election(1, 40, &[]).nobody_elected());
        assert!(election(1, 0, &[0]).nobody_elected());
    }

    #[test]
    fn a_rating_flags_more_than_half_and_two_thirds_of_all_seats_low() {
        let m = |entry, mark| Mark { entry, mark };
        // 30 seats: 16 low is more than half; 20 low is two thirds.
        let mut papers: Vec<Vec<Mark>> = Vec::new();
        for i in 0..30u32 {
            papers.push(vec![
                m(0, if i < 16 { LOW_CONFIDENCE } else { CONFIDENCE }),
                m(
                    1,
                    if i < 20 {
                        LOW_CONFIDENCE
                    } else {
                        HIGH_CONFIDENCE
                    },
                ),
                m(
                    2,
                    if i < 15 {
                        LOW_CONFIDENCE
                    } else {
                        HIGH_CONFIDENCE
                    },
                ),
            ]);
        }
        let result = PaperResult::decide(
            PaperKind::Rating,
            Rule::MAJORITY_OF_ALL_SEATS,
            4,
            0,
            turnout(30, 30),
            papers.iter().map(Vec::as_slice),
        );
        let PaperResult::Rating(r) = result else {
            panic!("a rating")
        };
        let flags: Vec<(u32, bool, bool)> = r
            .ratings
            .iter()
            .map(|o| (o.low, o.low_over_half, o.low_two_thirds))
            .collect();
        assert_eq!(
            flags,
            vec![
                (16, true, false),
                (20, true, true),
                (15, false, false),
                (0, false, false)
            ]
        );
        assert_eq!((r.ratings[0].confidence, r.ratings[1].high), (14, 10));
    }

    #[test]
    fn a_no_confidence_vote_flags_more_than_half_of_all_seats() {
        let m = |entry, mark| Mark { entry, mark };
        let papers: Vec<Vec<Mark>> = (0..40u32)
            .map(|i| {
                vec![
                    m(
                        0,
                        if i < 21 {
                            NO_CONFIDENCE
                        } else {
                            KEEP_CONFIDENCE
                        },
                    ),
                    m(
                        1,
                        if i < 20 {
                            NO_CONFIDENCE
                        } else {
                            KEEP_CONFIDENCE
                        },
                    ),
                ]
            })
            .collect();
        let PaperResult::NoConfidence(r) = PaperResult::decide(
            PaperKind::NoConfidence,
            Rule::MAJORITY_OF_ALL_SEATS,
            2,
            0,
            turnout(40, 40),
            papers.iter().map(Vec::as_slice),
        ) else {
            panic!("a no-confidence vote")
        };
        assert_eq!(r.needed, 21);
        assert!(r.votes[0].flagged);
        assert!(!r.votes[1].flagged);
        assert_eq!(r.votes[1].confidence, 20);
    }

    #[test]
    fn marks_are_counted_per_entry_and_level() {
        let papers = [
            vec![Mark {
                entry: 1,
                mark: APPROVE,
            }],
            vec![],
            vec![Mark {
                entry: 1,
                mark: APPROVE,
            }],
        ];
        let counts = count_marks(PaperKind::Election, 2, papers.iter().map(Vec::as_slice));
        assert_eq!(counts, vec![vec![0], vec![2]]);
    }
}
