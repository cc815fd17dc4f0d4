//! The official table of a ballot on a list, as the minutes print it and
//! the results table repeats it: per candidate or official, each count and
//! its percentage of all delegates (tổng số đại biểu), and what the result
//! says of them: elected, tied, or the flags a confidence vote attaches.

use super::Lang;
use super::words::Words;
use gavel_protocol::messages::{Ballots, PaperList};
use gavel_protocol::results::PaperResult;

/// A result's table in one language: its header, one row per entry, and
/// the sentences that say what came out.
pub(super) struct ListTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The papers returned, then who was elected (or that nobody was, or
    /// the tie), or nothing more for a confidence vote.
    pub sentences: Vec<String>,
}

/// The table of `result` on `list`, percentages of `total_seats`. The
/// papers returned are the result's papers, or the counting board's figure
/// when `ballots` were counted by hand (the result counts the valid ones).
pub(super) fn list_table(
    result: &PaperResult,
    list: &PaperList,
    total_seats: u32,
    ballots: Option<&Ballots>,
    lang: Lang,
) -> ListTable {
    let w = Words::of(lang);
    let pct = |n: u32| lang.percent(n, total_seats);
    let name = |i: usize| {
        list.entries
            .get(i)
            .map_or(String::new(), |e| e.name.clone())
    };
    let post = |i: usize| {
        list.entries
            .get(i)
            .map_or(String::new(), |e| e.post.clone())
    };
    let returned = ballots.map_or(result.turnout().papers, |b| b.returned);
    let mut sentences = vec![format!(
        "{}: {} ({}).",
        w.papers_returned,
        returned,
        pct(returned)
    )];
    let first = |extra: &[&str]| {
        let mut h = vec![
            w.col_number.to_owned(),
            w.col_name.to_owned(),
            w.col_post.to_owned(),
        ];
        h.extend(extra.iter().map(|s| (*s).to_owned()));
        h
    };
    let (header, rows) = match result {
        PaperResult::Election(r) => {
            let tied = r
                .tie
                .as_ref()
                .map(|t| t.candidates.as_slice())
                .unwrap_or_default();
            let rows = r
                .approvals
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let entry = u16::try_from(i).unwrap_or(u16::MAX);
                    let verdict = if r.elected.contains(&entry) {
                        w.elected
                    } else if tied.contains(&entry) {
                        w.tied
                    } else {
                        w.not_elected
                    };
                    vec![
                        (i + 1).to_string(),
                        name(i),
                        post(i),
                        n.to_string(),
                        pct(n),
                        verdict.to_owned(),
                    ]
                })
                .collect();
            let names = |entries: &[u16]| {
                entries
                    .iter()
                    .map(|&e| name(usize::from(e)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !r.elected.is_empty() {
                sentences.push(format!("{}: {}.", w.elected, names(&r.elected)));
            }
            if let Some(tie) = &r.tie {
                sentences.push(format!("{}: {}.", w.tie_note, names(&tie.candidates)));
            }
            if r.nobody_elected() {
                sentences.push(format!("{}.", w.nobody_elected));
            }
            let header = first(&[w.col_votes, "%", w.col_result]);
            (header, rows)
        }
        PaperResult::Rating(r) => {
            let rows = r
                .ratings
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let note = if o.low_two_thirds {
                        w.low_two_thirds
                    } else if o.low_over_half {
                        w.low_over_half
                    } else {
                        ""
                    };
                    vec![
                        (i + 1).to_string(),
                        name(i),
                        post(i),
                        o.high.to_string(),
                        pct(o.high),
                        o.confidence.to_string(),
                        pct(o.confidence),
                        o.low.to_string(),
                        pct(o.low),
                        note.to_owned(),
                    ]
                })
                .collect();
            let header = first(&[
                w.high_confidence,
                "%",
                w.confidence,
                "%",
                w.low_confidence,
                "%",
                w.col_note,
            ]);
            (header, rows)
        }
        PaperResult::NoConfidence(r) => {
            let rows = r
                .votes
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    vec![
                        (i + 1).to_string(),
                        name(i),
                        post(i),
                        o.confidence.to_string(),
                        pct(o.confidence),
                        o.no_confidence.to_string(),
                        pct(o.no_confidence),
                        if o.flagged {
                            w.no_confidence_reached
                        } else {
                            ""
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            let header = first(&[w.confidence, "%", w.no_confidence, "%", w.col_note]);
            (header, rows)
        }
    };
    ListTable {
        header,
        rows,
        sentences,
    }
}
