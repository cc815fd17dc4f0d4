//! The results of a session as the secretary publishes them: a CSV table
//! ([`results_csv`]) and printable minutes ([`minutes_html`], biên bản kết
//! quả biểu quyết).
//!
//! Both are made from a [`Session`]: a plain description of what was voted
//! and what came out, and of who had the floor and for how long, built from
//! the protocol's own types (vote settings, counts, tally results, kinds of
//! turn) so that nothing is copied or recomputed
//! differently. A session holds counts only, never who chose what, so a
//! secret round cannot leak through the minutes. How a session is filled (from
//! the export bundle, from the store) is not this module's business; what it
//! prints is. [`Session::check`] refuses a session whose numbers contradict
//! the rules before anything is printed from it.
//!
//! Map of the module:
//! - this file: the [`Session`] model and its checks;
//! - `results_csv`: one CSV row per round, UTF-8 with a BOM for Excel;
//! - `html`: the minutes, one self-contained HTML file for A4 print;
//! - `chart`: the SVG bar chart of one round, legible in black and white;
//! - `lists`: the official table of a ballot on a list (an election, a
//!   confidence rating, a no-confidence vote);
//! - `words`: the minutes' own words in Vietnamese and English (the result
//!   sentence, rules and verdicts come from [`gavel_protocol::wording`]);
//! - `clock`: Unix times as the meeting's local dates and times;
//! - `escape`: text from the meeting file made safe for HTML and SVG;
//! - `font`: Be Vietnam Pro, embedded in the minutes.

mod chart;
mod clock;
mod escape;
mod font;
mod html;
mod lists;
mod results_csv;
mod words;

pub use gavel_protocol::wording::Lang;
pub use html::minutes_html;
pub use results_csv::results_csv;

use gavel_protocol::SeatNo;
use gavel_protocol::floor::FloorKind;
use gavel_protocol::messages::{ByHand, ItemKind, Labels, PaperList};
use gavel_protocol::results::PaperResult;
use gavel_protocol::rules::{TallyResult, VoteSettings};
use gavel_protocol::{MeetingId, RoundId};
use serde::{Deserialize, Serialize};

/// One session of a body and the outcome of every vote in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub meeting: MeetingId,
    /// The session's title, e.g. "Kỳ họp thứ mười hai, Hội đồng nhân dân …".
    pub title: String,
    /// The body that met, e.g. "Hội đồng nhân dân phường Phúc Lợi".
    pub body: String,
    /// Where the minutes are signed, printed before the date ("Phúc Lợi, ngày …").
    pub place: Option<String>,
    /// When the session was held, in Unix milliseconds: the minutes' date.
    pub held_at: u64,
    /// The meeting's offset from UTC in minutes: every time in the minutes is
    /// local time at this offset, and says so. Vietnam is +420 (UTC+07:00,
    /// no daylight saving), so a fixed offset is exact there; a hub's store
    /// keeps UTC only.
    pub utc_offset_minutes: i32,
    /// Every seat of the body, present or not: all percentages are of this.
    pub total_seats: u32,
    /// The meeting's words for the three choices.
    pub labels: Labels,
    /// Whether to print the national heading (Quốc hiệu, tiêu ngữ) that the
    /// documents of a Vietnamese state body carry; other assemblies leave it off.
    pub national_heading: bool,
    /// Who signs the minutes; a name left out gets a blank line to write it on.
    pub signatories: Signatories,
    /// The counting board's members (Ban kiểm phiếu), the head first, who
    /// sign its record of each secret ballot on a list; when none are named
    /// the record has blank lines.
    #[serde(default)]
    pub counting_board: Vec<String>,
    /// The agenda items, in agenda order. Items without rounds (reports, or
    /// items never put to the vote) may be listed; the minutes skip them.
    pub items: Vec<Item>,
    /// The electronic record the minutes were made from, when they were.
    #[serde(default)]
    pub record: Option<RecordSeal>,
    /// What changed in the meeting once the session had started, in the
    /// order of the audit chain: each change is in the chain, and the
    /// minutes list them so that the paper tells it too.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// When the chair closed the session (bế mạc), Unix milliseconds; `None`
    /// while it is still under way, and the minutes then say they are not
    /// final.
    #[serde(default)]
    pub closed_at: Option<u64>,
}

/// A change to the meeting after the session started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Unix milliseconds, when the store committed it.
    pub at: u64,
    pub what: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// The meeting's definition was replaced.
    DefinitionReplaced,
    /// The definition was amended by the secretariat (its device's key,
    /// hex) or by the chair (`None`); `items` are the agenda items whose
    /// content changed, from 0 (empty for the header or the roster alone).
    DefinitionAmended {
        secretariat: Option<String>,
        items: Vec<u32>,
    },
    /// A device was enrolled for a seat (its name) or the chair (`None`).
    DeviceEnrolled { seat: Option<SeatNo>, name: String },
    /// A device's key was revoked (a lost tablet).
    DeviceRevoked { seat: Option<SeatNo>, name: String },
    /// A new version of an item's document was stored.
    DocumentStored {
        item: u32,
        title: String,
        version: u32,
    },
    /// An item's result was recorded by hand.
    ResultByHand { item: u32, by: String },
}

/// What names the electronic record behind the minutes, printed under the
/// signatures: whoever holds the signed paper can check that the record
/// `gavel verify` accepts is this one (same chain length, same final hash,
/// same server key), and so that the paper and the record tell one story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSeal {
    /// The record's file name, e.g. `phuc-loi-2026-ky-12.record.json`.
    pub file: String,
    /// How many entries the audit chain holds.
    pub entries: u64,
    /// The chain's last hash, lower-case hex.
    pub head: String,
    /// The server's public key that signed the receipts and the head, hex.
    pub server_key: String,
}

/// The names printed under the signature lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatories {
    /// The chair of the session (chủ tọa).
    pub chair: Option<String>,
    /// The secretary of the session (thư ký).
    pub secretary: Option<String>,
}

/// An agenda item and the rounds voted on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// 0-based position in the agenda; printed 1-based, as the chair and
    /// the hall screen number items.
    pub index: u32,
    /// The topic the item is grouped under on the agenda.
    pub topic: String,
    pub kind: ItemKind,
    pub title: String,
    /// The rounds in the order they were opened: a voided round and its
    /// re-vote are two rounds; round numbers in the minutes are 1-based
    /// positions in this list.
    pub rounds: Vec<Round>,
    /// The turns at the floor on the item, in the order they were given.
    #[serde(default)]
    pub turns: Vec<Turn>,
}

/// One turn at the floor: who spoke, on what, when and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub kind: FloorKind,
    /// The speaker's name: a delegate's from the roster, a respondent's
    /// from the meeting's list, a guest's as the chair typed it.
    pub speaker: String,
    /// A delegate's seat.
    pub seat: Option<SeatNo>,
    /// A respondent's or a guest's post.
    pub post: Option<String>,
    /// Whom a question (its answer, its follow-up) was put to: name and post.
    pub put_to: Option<String>,
    /// As the delegate typed it: text, never markup.
    pub topic: Option<String>,
    /// Unix milliseconds.
    pub started_at: u64,
    /// When the chair ended it; `None` if it was still under way when the
    /// record was taken.
    pub ended_at: Option<u64>,
    /// How long the speaker had the floor, without the pauses.
    pub spoken_ms: u64,
}

/// One vote round on an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub id: RoundId,
    /// The settings the round ran with (rule, secrecy, …).
    pub settings: VoteSettings,
    /// Unix milliseconds.
    pub opened_at: u64,
    /// When the round was closed or voided, in Unix milliseconds.
    pub ended_at: u64,
    /// When the chair held the round, in order.
    #[serde(default)]
    pub pauses: Vec<Pause>,
    pub outcome: Outcome,
    /// A secret round's count as the counting board confirmed it, each
    /// member's device signing, in the order they did.
    #[serde(default)]
    pub confirmations: Vec<BoardConfirmation>,
    /// When the chair announced the result the board confirmed.
    #[serde(default)]
    pub announced_at: Option<u64>,
    /// Who recorded the result by hand, and when: the hall voted by a show
    /// of hands or on paper, and there are no ballots behind it.
    #[serde(default)]
    pub by_hand: Option<ByHand>,
}

/// A counting board member's confirmation of a round's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardConfirmation {
    pub seat: SeatNo,
    /// The member's name from the roster.
    pub name: String,
    /// Unix milliseconds, when the hub stored it.
    pub at: u64,
}

/// A span during which the chair held a round and no ballot was taken, in
/// Unix milliseconds. A round ended while held was held until it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: u64,
    pub to: u64,
}

/// How a round ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Closed and tallied: the committed result, as the hub decided it.
    Closed { result: TallyResult },
    /// A ballot on a list closed and counted: the committed result and the
    /// list it counted (the candidates or officials, in the papers' order).
    Counted {
        result: PaperResult,
        list: PaperList,
    },
    /// Voided by the chair: nothing was decided and no count is published.
    Voided,
}

impl Round {
    /// The committed result of a closed round; `None` for a voided one.
    pub fn result(&self) -> Option<&TallyResult> {
        match &self.outcome {
            Outcome::Closed { result } => Some(result),
            Outcome::Counted { .. } | Outcome::Voided => None,
        }
    }
}

/// Why a session cannot be printed: its numbers contradict each other or the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session has no seats")]
    NoSeats,
    #[error(
        "item {index} is listed after item {previous}: items must be in agenda order, once each"
    )]
    ItemOrder { index: u32, previous: u32 },
    #[error("item {item}, round {round}: the result counts {found} seats, the session {expected}")]
    SeatsDiffer {
        item: u32,
        round: usize,
        found: u32,
        expected: u32,
    },
    #[error(
        "item {item}, round {round}: {taking_part} took part, more than the {present} present or {total} seats"
    )]
    TooManyVotes {
        item: u32,
        round: usize,
        taking_part: u32,
        present: u32,
        total: u32,
    },
    #[error(
        "item {item}, round {round}: the result was decided under another rule than the round's settings"
    )]
    RuleDiffers { item: u32, round: usize },
    #[error(
        "item {item}, round {round}: the recorded decision differs from what the rule gives for these counts"
    )]
    DecisionDiffers { item: u32, round: usize },
    #[error(
        "item {item}, round {round}: the result on the list does not fit its list, its rule or the seats"
    )]
    ListDiffers { item: u32, round: usize },
    #[error("item {item}, round {round}: it ended before it opened")]
    EndedBeforeOpened { item: u32, round: usize },
    #[error("item {item}, round {round}: a pause lies outside the round or before an earlier one")]
    PauseOutsideRound { item: u32, round: usize },
}

impl Session {
    /// Checks that every number can be printed as it is: the counts fit the
    /// seats, and each recorded decision is the one the protocol's rules give
    /// (`TallyResult::decide`). Item and round numbers in errors are the
    /// printed ones (1-based).
    pub fn check(&self) -> Result<(), SessionError> {
        if self.total_seats == 0 {
            return Err(SessionError::NoSeats);
        }
        for pair in self.items.windows(2) {
            if pair[1].index <= pair[0].index {
                return Err(SessionError::ItemOrder {
                    index: pair[1].index + 1,
                    previous: pair[0].index + 1,
                });
            }
        }
        for item in &self.items {
            for (i, round) in item.rounds.iter().enumerate() {
                self.check_round(item.index + 1, i + 1, round)?;
            }
        }
        Ok(())
    }

    fn check_round(&self, item: u32, round: usize, r: &Round) -> Result<(), SessionError> {
        if r.ended_at < r.opened_at {
            return Err(SessionError::EndedBeforeOpened { item, round });
        }
        let mut since = r.opened_at;
        for pause in &r.pauses {
            if pause.from < since || pause.to < pause.from || pause.to > r.ended_at {
                return Err(SessionError::PauseOutsideRound { item, round });
            }
            since = pause.to;
        }
        if let Outcome::Counted { result, list } = &r.outcome {
            let t = result.turnout();
            let fits = t.total_seats == self.total_seats
                && t.papers <= t.total_seats
                && t.present <= t.total_seats
                && usize::from(result.sheet().entries) == list.entries.len()
                && result.sheet().kind == list.kind
                && result.rule().is_none_or(|rule| rule == r.settings.rule);
            if !fits {
                return Err(SessionError::ListDiffers { item, round });
            }
        }
        let Some(result) = r.result() else {
            return Ok(());
        };
        let c = &result.counts;
        if c.total_seats != self.total_seats {
            return Err(SessionError::SeatsDiffer {
                item,
                round,
                found: c.total_seats,
                expected: self.total_seats,
            });
        }
        if c.taking_part() > c.present || c.present > c.total_seats {
            return Err(SessionError::TooManyVotes {
                item,
                round,
                taking_part: c.taking_part(),
                present: c.present,
                total: c.total_seats,
            });
        }
        if result.rule != r.settings.rule {
            return Err(SessionError::RuleDiffers { item, round });
        }
        if *result != TallyResult::decide(result.rule, *c) {
            return Err(SessionError::DecisionDiffers { item, round });
        }
        Ok(())
    }

    /// The items on which someone had the floor, with their turns.
    pub fn debated_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.turns.is_empty())
    }

    /// The items that were put to the vote, with their rounds.
    pub fn voted_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.rounds.is_empty())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gavel_protocol::rules::{Base, Counts, Rule, Secrecy, Threshold};

    /// The example session: the Phúc Lợi ward council's twelfth session
    /// (`server/meetings/phuc-loi.toml`) with plausible results, from the
    /// fixture the example and the screenshots use.
    pub(crate) fn phuc_loi() -> Session {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/phuc-loi-results.json"
        );
        let text = std::fs::read_to_string(path).expect("the example session");
        serde_json::from_str(&text).expect("the example session parses")
    }

    pub(crate) fn counts(yes: u32, no: u32, abstain: u32, present: u32) -> Counts {
        Counts {
            total_seats: 40,
            present,
            yes,
            no,
            abstain,
        }
    }

    #[test]
    fn the_example_session_is_consistent() {
        let s = phuc_loi();
        assert_eq!(s.check(), Ok(()));
        assert_eq!(s.total_seats, 40);
        let voted: Vec<u32> = s.voted_items().map(|i| i.index).collect();
        assert_eq!(voted, [0, 2, 3, 4, 6, 7, 8, 9]);
    }

    #[test]
    fn a_decision_that_contradicts_the_rule_is_refused() {
        let mut s = phuc_loi();
        let round = &mut s.items[2].rounds[0];
        let Outcome::Closed { result } = &mut round.outcome else {
            panic!("item 3 closed");
        };
        result.passed = !result.passed;
        assert_eq!(
            s.check(),
            Err(SessionError::DecisionDiffers { item: 3, round: 1 })
        );
    }

    #[test]
    fn a_result_under_another_rule_is_refused() {
        let mut s = phuc_loi();
        let round = &mut s.items[2].rounds[0];
        round.settings.rule = Rule {
            base: Base::AllSeats,
            threshold: Threshold::AtLeastTwoThirds,
        };
        assert_eq!(
            s.check(),
            Err(SessionError::RuleDiffers { item: 3, round: 1 })
        );
    }

    #[test]
    fn counts_must_fit_the_seats_and_the_agenda_order_holds() {
        let mut s = phuc_loi();
        let rule = Rule::MAJORITY_OF_ALL_SEATS;
        s.items[2].rounds[0].outcome = Outcome::Closed {
            result: TallyResult::decide(rule, counts(30, 5, 5, 38)),
        };
        assert!(matches!(
            s.check(),
            Err(SessionError::TooManyVotes {
                taking_part: 40,
                present: 38,
                ..
            })
        ));
        let mut s = phuc_loi();
        s.items.swap(1, 2);
        assert!(matches!(s.check(), Err(SessionError::ItemOrder { .. })));
        let mut s = phuc_loi();
        s.items[2].rounds[0].settings.secrecy = Secrecy::Secret;
        assert_eq!(s.check(), Ok(()));
    }
}
