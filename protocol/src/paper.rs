//! A ballot paper on a list: an election's candidates, a confidence rating's
//! or a no-confidence vote's officials. The delegate marks entries of the
//! item's list and signs the whole paper once (the `paper` layout in
//! [`crate::signing`]), so that 30 officials rated on one tablet make one
//! signature and one receipt, not 30.
//!
//! A paper's marks are `(entry, mark)` pairs: the entry's 0-based index in
//! the item's list and a one-byte code whose meaning depends on the kind
//! ([`PaperKind::marks`]). The marks are in **canonical order**, strictly
//! ascending by entry, so that one paper has exactly one byte layout and a
//! duplicated entry cannot hide behind a different order. Entries left
//! unmarked are blank: a rating may leave an official unrated, an election
//! may approve nobody.
//!
//! [`Sheet::check`] is the one check of a paper against its item, shared by
//! the hub (a refusal with its reason), the audit tool and the tests.

use crate::signing::PaperContent;
use crate::{Choice, MeetingId, RoundId, SeatNo, Sha};
use serde::{Deserialize, Serialize};

/// The kinds of paper a list item can put to the vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperKind {
    /// Candidates for a number of posts; a mark approves a candidate (bầu cử).
    Election,
    /// Officials each rated on three levels (lấy phiếu tín nhiệm).
    Rating,
    /// Officials each given confidence or no confidence (bỏ phiếu tín nhiệm).
    NoConfidence,
}

/// An election's only mark: the candidate is approved.
pub const APPROVE: u8 = 1;

/// A confidence rating's levels, by code.
pub const HIGH_CONFIDENCE: u8 = 1;
pub const CONFIDENCE: u8 = 2;
pub const LOW_CONFIDENCE: u8 = 3;

/// A no-confidence vote's marks, by code.
pub const KEEP_CONFIDENCE: u8 = 1;
pub const NO_CONFIDENCE: u8 = 2;

impl PaperKind {
    pub const ALL: [PaperKind; 3] = [
        PaperKind::Election,
        PaperKind::Rating,
        PaperKind::NoConfidence,
    ];

    /// The byte that stands for this kind in signed layouts.
    pub fn code(self) -> u8 {
        match self {
            PaperKind::Election => 1,
            PaperKind::Rating => 2,
            PaperKind::NoConfidence => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<PaperKind> {
        PaperKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The mark codes this kind knows, in code order; a tally keeps one
    /// count per code.
    pub fn marks(self) -> &'static [u8] {
        match self {
            PaperKind::Election => &[APPROVE],
            PaperKind::Rating => &[HIGH_CONFIDENCE, CONFIDENCE, LOW_CONFIDENCE],
            PaperKind::NoConfidence => &[KEEP_CONFIDENCE, NO_CONFIDENCE],
        }
    }

    /// The kind named by its wire name.
    pub fn parse(name: &str) -> Option<PaperKind> {
        PaperKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The wire name (`election`, `rating`, `no_confidence`).
    pub fn as_str(self) -> &'static str {
        match self {
            PaperKind::Election => "election",
            PaperKind::Rating => "rating",
            PaperKind::NoConfidence => "no_confidence",
        }
    }
}

/// One mark: an entry of the item's list and the mark's code. On the wire,
/// the pair `[entry, mark]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(u16, u8)", into = "(u16, u8)")]
pub struct Mark {
    pub entry: u16,
    pub mark: u8,
}

impl From<(u16, u8)> for Mark {
    fn from((entry, mark): (u16, u8)) -> Mark {
        Mark { entry, mark }
    }
}

impl From<Mark> for (u16, u8) {
    fn from(m: Mark) -> (u16, u8) {
        (m.entry, m.mark)
    }
}

/// A delegate's whole paper: its kind and its marks, in canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Paper {
    pub kind: PaperKind,
    pub marks: Vec<Mark>,
}

impl Paper {
    /// What seat `seat` signs to cast this paper in `round` of `meeting`.
    pub fn content<'a>(
        &'a self,
        meeting: &'a MeetingId,
        round: RoundId,
        documents: Option<Sha>,
        seat: SeatNo,
        seq: u64,
    ) -> PaperContent<'a> {
        PaperContent {
            meeting,
            round,
            documents,
            seat,
            seq,
            kind: self.kind,
            marks: &self.marks,
        }
    }

    /// The marks as the paper layout signs them, 3 bytes each (entry u16
    /// big-endian, mark u8): the form a store keeps them in.
    pub fn marks_bytes(&self) -> Vec<u8> {
        self.marks
            .iter()
            .flat_map(|m| {
                let [hi, lo] = m.entry.to_be_bytes();
                [hi, lo, m.mark]
            })
            .collect()
    }

    /// The marks back from [`Paper::marks_bytes`]; `None` if the length is
    /// not a multiple of 3.
    pub fn from_marks_bytes(kind: PaperKind, bytes: &[u8]) -> Option<Paper> {
        if bytes.len() % 3 != 0 {
            return None;
        }
        let marks = bytes
            .chunks_exact(3)
            .map(|c| Mark {
                entry: u16::from_be_bytes([c[0], c[1]]),
                mark: c[2],
            })
            .collect();
        Some(Paper { kind, marks })
    }
}

/// What a ballot says: one of the three choices, or a whole paper.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Choice(Choice),
    Paper(Paper),
}

impl Vote {
    /// The choice's wire name, or the paper's kind: what a store's `choice`
    /// column holds, beside the paper's marks.
    pub fn as_str(&self) -> &'static str {
        match self {
            Vote::Choice(c) => c.as_str(),
            Vote::Paper(p) => p.kind.as_str(),
        }
    }

    /// A vote written as two optional fields, as a record's or a published
    /// list's entries are: a choice or a paper; `None` if neither, or both.
    pub fn from_parts(choice: Option<Choice>, paper: Option<&Paper>) -> Option<Vote> {
        match (choice, paper) {
            (Some(c), None) => Some(Vote::Choice(c)),
            (None, Some(p)) => Some(Vote::Paper(p.clone())),
            _ => None,
        }
    }

    pub fn choice(&self) -> Option<Choice> {
        match self {
            Vote::Choice(c) => Some(*c),
            Vote::Paper(_) => None,
        }
    }

    pub fn paper(&self) -> Option<&Paper> {
        match self {
            Vote::Choice(_) => None,
            Vote::Paper(p) => Some(p),
        }
    }
}

/// What an item offers to be marked: the kind, how long its list is, and
/// for an election how many posts (the most candidates one paper approves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub kind: PaperKind,
    pub entries: u16,
    /// The posts to fill; 0 for the kinds on officials.
    pub posts: u16,
}

/// Why a paper does not fit its item. Each is a refusal reason of its own
/// on the wire (see [`crate::RefusalReason`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaperError {
    #[error("the paper is a {paper} ballot but the item holds {item}")]
    WrongKind { paper: String, item: String },
    #[error("{marked} candidates approved for {posts} posts")]
    OverCap { marked: usize, posts: u16 },
    #[error("there is no candidate {entry}; the list has {entries}")]
    UnknownCandidate { entry: u16, entries: u16 },
    #[error("there is no official {entry}; the list has {entries}")]
    UnknownOfficial { entry: u16, entries: u16 },
    #[error("mark {mark} on entry {entry} does not exist on a {kind} ballot")]
    UnknownLevel {
        entry: u16,
        mark: u8,
        kind: &'static str,
    },
    #[error("entry {entry} is marked twice")]
    DuplicateEntry { entry: u16 },
    #[error("entry {entry} comes after a higher entry; marks go in ascending order")]
    NotCanonical { entry: u16 },
}

impl Sheet {
    /// Checks a paper of `kind` with these marks against this item: every
    /// entry on the list, every mark one the kind knows, each entry at most
    /// once and in ascending order, and no more approvals than posts.
    pub fn check(&self, kind: PaperKind, marks: &[Mark]) -> Result<(), PaperError> {
        if kind != self.kind {
            return Err(PaperError::WrongKind {
                paper: kind.as_str().into(),
                item: self.kind.as_str().into(),
            });
        }
        let mut previous: Option<u16> = None;
        for m in marks {
            if m.entry >= self.entries {
                return Err(match kind {
                    PaperKind::Election => PaperError::UnknownCandidate {
                        entry: m.entry,
                        entries: self.entries,
                    },
                    PaperKind::Rating | PaperKind::NoConfidence => PaperError::UnknownOfficial {
                        entry: m.entry,
                        entries: self.entries,
                    },
                });
            }
            if !kind.marks().contains(&m.mark) {
                return Err(PaperError::UnknownLevel {
                    entry: m.entry,
                    mark: m.mark,
                    kind: kind.as_str(),
                });
            }
            match previous {
                Some(p) if p == m.entry => {
                    return Err(PaperError::DuplicateEntry { entry: m.entry });
                }
                Some(p) if p > m.entry => return Err(PaperError::NotCanonical { entry: m.entry }),
                _ => previous = Some(m.entry),
            }
        }
        if kind == PaperKind::Election && marks.len() > usize::from(self.posts) {
            return Err(PaperError::OverCap {
                marked: marks.len(),
                posts: self.posts,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(pairs: &[(u16, u8)]) -> Vec<Mark> {
        pairs.iter().copied().map(Mark::from).collect()
    }

    const ELECTION: Sheet = Sheet {
        kind: PaperKind::Election,
        entries: 3,
        posts: 1,
    };
    const RATING: Sheet = Sheet {
        kind: PaperKind::Rating,
        entries: 30,
        posts: 0,
    };

    #[test]
    fn kind_codes_round_trip_and_unknown_codes_are_rejected() {
        for k in PaperKind::ALL {
            assert_eq!(PaperKind::from_code(k.code()), Some(k));
        }
        assert_eq!(PaperKind::from_code(0), None);
        assert_eq!(PaperKind::from_code(4), None);
    }

    #[test]
    fn a_paper_within_the_rules_passes() {
        assert_eq!(
            ELECTION.check(PaperKind::Election, &marks(&[(2, 1)])),
            Ok(())
        );
        assert_eq!(ELECTION.check(PaperKind::Election, &[]), Ok(()));
        let all: Vec<Mark> = (0..30).map(|e| Mark { entry: e, mark: 3 }).collect();
        assert_eq!(RATING.check(PaperKind::Rating, &all), Ok(()));
    }

    #[test]
    fn each_flaw_is_named() {
        assert_eq!(
            ELECTION.check(PaperKind::Election, &marks(&[(0, 1), (1, 1)])),
            Err(PaperError::OverCap {
                marked: 2,
                posts: 1
            })
        );
        assert_eq!(
            ELECTION.check(PaperKind::Election, &marks(&[(3, 1)])),
            Err(PaperError::UnknownCandidate {
                entry: 3,
                entries: 3
            })
        );
        assert_eq!(
            RATING.check(PaperKind::Rating, &marks(&[(30, 1)])),
            Err(PaperError::UnknownOfficial {
                entry: 30,
                entries: 30
            })
        );
        assert_eq!(
            RATING.check(PaperKind::Rating, &marks(&[(4, 4)])),
            Err(PaperError::UnknownLevel {
                entry: 4,
                mark: 4,
                kind: "rating"
            })
        );
        assert_eq!(
            RATING.check(PaperKind::Rating, &marks(&[(4, 1), (4, 3)])),
            Err(PaperError::DuplicateEntry { entry: 4 })
        );
        assert_eq!(
            RATING.check(PaperKind::Rating, &marks(&[(5, 1), (4, 3)])),
            Err(PaperError::NotCanonical { entry: 4 })
        );
        assert!(matches!(
            RATING.check(PaperKind::NoConfidence, &[]),
            Err(PaperError::WrongKind { .. })
        ));
        // An election knows one mark only: approving.
        assert!(matches!(
            ELECTION.check(PaperKind::Election, &marks(&[(0, 2)])),
            Err(PaperError::UnknownLevel { .. })
        ));
    }

    #[test]
    fn marks_round_trip_through_their_stored_bytes() {
        let paper = Paper {
            kind: PaperKind::Rating,
            marks: marks(&[(0, 1), (300, 3)]),
        };
        assert_eq!(paper.marks_bytes(), vec![0, 0, 1, 1, 44, 3]);
        assert_eq!(
            Paper::from_marks_bytes(PaperKind::Rating, &paper.marks_bytes()),
            Some(paper)
        );
        assert_eq!(Paper::from_marks_bytes(PaperKind::Rating, &[0, 1]), None);
    }

    #[test]
    fn marks_are_pairs_on_the_wire() {
        let m = marks(&[(0, 1), (7, 3)]);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "[[0,1],[7,3]]");
        assert_eq!(serde_json::from_str::<Vec<Mark>>(&json).unwrap(), m);
    }
}
