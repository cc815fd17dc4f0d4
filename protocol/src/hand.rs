//! A result counted by hand, when the hall's devices failed: the figures a
//! show of hands or the counting board's record (biên bản kiểm phiếu) gives,
//! checked against the meeting, and the result decided from them by the
//! same rules the devices' ballots are decided by ([`TallyResult::decide`],
//! [`PaperResult::from_counts`]). The hub decides with these before it
//! records a count by hand, and `gavel verify` decides again with them from
//! the record, so a figure that cannot be is refused in one place and
//! caught in the other by the same words.

use crate::messages::Ballots;
use crate::paper::Sheet;
use crate::results::{PaperResult, Turnout};
use crate::rules::{Counts, Rule, TallyResult};

/// A figure that cannot be, and the field it is in (`present`, `counts`,
/// `ballots.issued`, `ballots.returned`, `ballots.invalid`, `marks`,
/// `marks.3` for the fourth entry), so a form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FigureError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: String) -> FigureError {
    FigureError {
        field: field.into(),
        message,
    }
}

/// Those present: at least one, at most every seat.
pub fn check_present(total_seats: u32, present: u32) -> Result<(), FigureError> {
    if present == 0 || present > total_seats {
        return Err(refuse(
            "present",
            format!("{present} present: between 1 and the {total_seats} seats of the meeting"),
        ));
    }
    Ok(())
}

/// The papers of a count by hand: none issued beyond those present (one
/// each), none returned beyond those issued, none invalid beyond those
/// returned. `present` must have passed [`check_present`].
pub fn check_ballots(present: u32, ballots: &Ballots) -> Result<(), FigureError> {
    let Ballots {
        issued,
        returned,
        invalid,
    } = *ballots;
    if issued > present {
        return Err(refuse(
            "ballots.issued",
            format!("{issued} ballots issued to {present} delegates present: one each at most"),
        ));
    }
    if returned > issued {
        return Err(refuse(
            "ballots.returned",
            format!("{returned} ballots returned, more than the {issued} issued"),
        ));
    }
    if invalid > returned {
        return Err(refuse(
            "ballots.invalid",
            format!("{invalid} invalid ballots, more than the {returned} returned"),
        ));
    }
    Ok(())
}

/// A yes/no/abstain item's result from the counts given: those taking part
/// are among those present and, when papers were counted, among the valid
/// ballots.
pub fn tally(
    rule: Rule,
    counts: Counts,
    ballots: Option<&Ballots>,
) -> Result<TallyResult, FigureError> {
    check_present(counts.total_seats, counts.present)?;
    let taking_part = u64::from(counts.yes) + u64::from(counts.no) + u64::from(counts.abstain);
    if taking_part > u64::from(counts.present) {
        return Err(refuse(
            "counts",
            format!(
                "{} + {} + {} = {taking_part} votes, more than the {} present",
                counts.yes, counts.no, counts.abstain, counts.present
            ),
        ));
    }
    if let Some(ballots) = ballots {
        check_ballots(counts.present, ballots)?;
        if taking_part > u64::from(ballots.valid()) {
            return Err(refuse(
                "counts",
                format!(
                    "{} + {} + {} = {taking_part} votes, more than the {} valid ballots",
                    counts.yes,
                    counts.no,
                    counts.abstain,
                    ballots.valid()
                ),
            ));
        }
    }
    Ok(TallyResult::decide(rule, counts))
}

/// A list's result from the counting board's figures: `marks` holds one
/// row per entry of `sheet`, each the count of each of the kind's marks in
/// mark order ([`crate::paper::PaperKind::marks`]). An entry has no more
/// marks than valid ballots (a paper marks an entry once), and an election
/// no more approvals in all than valid ballots times posts. The turnout's
/// papers are the valid ballots.
pub fn paper_result(
    sheet: Sheet,
    rule: Rule,
    total_seats: u32,
    present: u32,
    ballots: &Ballots,
    marks: &[Vec<u32>],
) -> Result<PaperResult, FigureError> {
    check_present(total_seats, present)?;
    check_ballots(present, ballots)?;
    let valid = ballots.valid();
    let entries = usize::from(sheet.entries);
    if marks.len() != entries {
        return Err(refuse(
            "marks",
            format!(
                "{} rows of figures for a list of {entries}: one row per entry",
                marks.len()
            ),
        ));
    }
    let columns = sheet.kind.marks().len();
    for (i, row) in marks.iter().enumerate() {
        let field = format!("marks.{i}");
        if row.len() != columns {
            return Err(refuse(
                field,
                format!(
                    "entry {} has {} figures; a {} ballot has {columns} per entry",
                    i + 1,
                    row.len(),
                    sheet.kind.as_str()
                ),
            ));
        }
        let marked: u64 = row.iter().copied().map(u64::from).sum();
        if marked > u64::from(valid) {
            return Err(refuse(
                field,
                format!(
                    "entry {} is marked on {marked} ballots, more than the {valid} valid",
                    i + 1
                ),
            ));
        }
    }
    if sheet.kind == crate::paper::PaperKind::Election {
        let approvals: u64 = marks.iter().flatten().copied().map(u64::from).sum();
        let most = u64::from(valid) * u64::from(sheet.posts);
        if approvals > most {
            return Err(refuse(
                "marks",
                format!(
                    "{approvals} approvals in all, more than {valid} valid ballots × {} posts = {most}",
                    sheet.posts
                ),
            ));
        }
    }
    let turnout = Turnout {
        total_seats,
        present,
        papers: valid,
    };
    Ok(PaperResult::from_counts(
        sheet.kind,
        rule,
        sheet.posts,
        turnout,
        marks,
    ))
}
