//! Results recorded by hand: when the devices fail, the hall votes by a
//! show of hands or on paper and the secretariat enters the counts for the
//! item. What may be recorded is decided here, as a pure function of the
//! meeting's definition and the counts; the actor adds what depends on the
//! moment (no round open, none awaiting its announcement) and stores it.
//!
//! Only a yes/no/abstain item that is not secret can be recorded by hand. A
//! show of hands is not secret, and a secret paper vote is counted by the
//! counting board, whose record of each ballot the devices' count alone
//! prints; recording either here would print a result that skipped it. A
//! ballot on a list (an election, a confidence vote) would need a count per
//! candidate or official and per level: refused for now, with that reason.

use crate::meeting::MeetingDefinition;
use gavel_protocol::PublicKey;
use gavel_protocol::rules::{Counts, Secrecy, TallyResult, VoteSettings};

/// The longest name of whoever records a result.
pub const MAX_NAME_CHARS: usize = 100;

/// The counts the secretariat entered for an item, and who entered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandCount {
    /// The agenda item's index, from 0.
    pub item: u32,
    /// Delegates present in the hall when it voted.
    pub present: u32,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Who recorded it, as they typed their name.
    pub by: String,
    /// The secretariat device that sent it.
    pub device: PublicKey,
}

/// Why a result cannot be recorded by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandRefusal {
    #[error("there is no agenda item with index {0} (indexes start at 0)")]
    UnknownItem(u32),
    #[error("agenda item {0} is not voted on")]
    NotVoted(u32),
    #[error(
        "agenda item {0} is voted on with a list (an election or a confidence vote); its papers are counted on the devices, and such a result cannot be recorded by hand yet"
    )]
    ListBallot(u32),
    #[error(
        "agenda item {0} is voted on in secret: a show of hands is not secret, and a secret paper vote is counted by the counting board; it cannot be recorded by hand"
    )]
    SecretItem(u32),
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
    /// Counts (or a name) that cannot be: `field` names the one to correct.
    #[error("{message}")]
    Counts {
        field: &'static str,
        message: String,
    },
    #[error("the chair has closed the session; nothing more is recorded in it")]
    SessionClosed,
    #[error("the store does not answer; try again")]
    StoreUnavailable,
}

impl HandRefusal {
    fn counts(field: &'static str, message: String) -> HandRefusal {
        HandRefusal::Counts { field, message }
    }
}

/// The item's settings and the result its rule gives for `hand`'s counts,
/// percentages of all seats as for any round; or why it cannot be recorded.
pub fn decide(
    definition: &MeetingDefinition,
    hand: &HandCount,
) -> Result<(VoteSettings, TallyResult), HandRefusal> {
    let index = hand.item;
    let item = definition
        .agenda
        .get(index as usize)
        .ok_or(HandRefusal::UnknownItem(index))?;
    let settings = item.vote.ok_or(HandRefusal::NotVoted(index))?;
    if item.paper.is_some() {
        return Err(HandRefusal::ListBallot(index));
    }
    if settings.secrecy == Secrecy::Secret {
        return Err(HandRefusal::SecretItem(index));
    }
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
    let total = definition.total_seats;
    if hand.present == 0 || hand.present > total {
        return Err(HandRefusal::counts(
            "present",
            format!(
                "{} present: between 1 and the {total} seats of the meeting",
                hand.present
            ),
        ));
    }
    let counts = Counts {
        total_seats: total,
        present: hand.present,
        yes: hand.yes,
        no: hand.no,
        abstain: hand.abstain,
    };
    let taking_part = u64::from(hand.yes) + u64::from(hand.no) + u64::from(hand.abstain);
    if taking_part > u64::from(hand.present) {
        return Err(HandRefusal::counts(
            "counts",
            format!(
                "{} + {} + {} = {taking_part} votes, more than the {} present",
                hand.yes, hand.no, hand.abstain, hand.present
            ),
        ));
    }
    Ok((settings, TallyResult::decide(settings.rule, counts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::EXAMPLE;

    fn example() -> MeetingDefinition {
        MeetingDefinition::parse(EXAMPLE).unwrap()
    }

    fn hand(item: u32, present: u32, yes: u32, no: u32, abstain: u32) -> HandCount {
        HandCount {
            item,
            present,
            yes,
            no,
            abstain,
            by: "Lê Thị Thu".to_owned(),
            device: PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[4; 32])),
        }
    }

    /// The first item of the example voted on with yes, no and abstain in the open.
    fn open_item(d: &MeetingDefinition) -> u32 {
        d.agenda
            .iter()
            .find(|i| i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Named))
            .expect("the example has an open yes/no item")
            .index
    }

    #[test]
    fn the_items_rule_decides_with_percentages_of_all_seats() {
        let d = example();
        let item = open_item(&d);
        let total = d.total_seats;
        let rule = d.agenda[item as usize].vote.unwrap().rule;
        let needed = u32::try_from(rule.yes_needed(u64::from(total))).unwrap();
        let (_, passed) = decide(&d, &hand(item, total, needed, 0, 0)).unwrap();
        assert!(passed.passed);
        assert_eq!(passed.counts.total_seats, total);
        let (_, failed) = decide(&d, &hand(item, total, needed - 1, 1, 0)).unwrap();
        assert!(!failed.passed);
    }

    #[test]
    fn impossible_counts_and_items_are_refused_with_their_field_or_reason() {
        let d = example();
        let item = open_item(&d);
        let total = d.total_seats;
        let field = |r: Result<_, HandRefusal>| match r {
            Err(HandRefusal::Counts { field, .. }) => field,
            other => panic!("not refused for its counts: {other:?}"),
        };
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
        if let Some(list) = d.agenda.iter().find(|i| i.paper.is_some()) {
            assert_eq!(
                decide(&d, &hand(list.index, 10, 1, 0, 0)),
                Err(HandRefusal::ListBallot(list.index))
            );
        }
        if let Some(secret) = d
            .agenda
            .iter()
            .find(|i| i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Secret))
        {
            assert_eq!(
                decide(&d, &hand(secret.index, 10, 1, 0, 0)),
                Err(HandRefusal::SecretItem(secret.index))
            );
        }
    }
}
