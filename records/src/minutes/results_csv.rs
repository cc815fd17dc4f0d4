//! The results as a table: one CSV row per round, for spreadsheets and for
//! whoever republishes the results. A ballot on a list (an election, a
//! confidence vote) has its row there too, with the papers returned and who
//! was elected, and its official table after all the rounds, under a line
//! naming its item and round: a candidate or official per row, with each
//! count and its percentage.
//!
//! The file follows RFC 4180 (comma-separated, CRLF line ends, a field with
//! a comma, a quote or a line break in double quotes, a quote doubled) and
//! starts with a UTF-8 byte order mark: Excel opens a CSV without one in the
//! Windows code page (Windows-1258 on a Vietnamese system), which turns
//! "Tán thành" into "TÃ¡n thÃ nh"; with the mark it reads UTF-8, and other
//! readers skip it. The writer is the few lines below rather than a crate:
//! quoting is all it needs, and the tests read the file back with the `csv`
//! crate, an independent reader.
//!
//! Headers, words and percentages are in the chosen language, as in the
//! minutes ("87,50%" in Vietnamese, "87.50%" in English, which a spreadsheet
//! in that locale reads as a number). Times are the meeting's local time, the
//! offset named in the header. A text from the meeting file that a
//! spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`)
//! is prefixed with an apostrophe, so that opening the file never runs one.

use super::clock::{LocalTime, utc_offset};
use super::lists::list_table;
use super::words::{Words, by_hand_cell};
use super::{Lang, Outcome, Session};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::wording::{describe_rule, verdict};

/// The byte order mark that tells Excel the file is UTF-8.
const BOM: char = '\u{feff}';

/// The results table of `session`, one row per round, in `lang`.
pub fn results_csv(session: &Session, lang: Lang) -> String {
    let w = Words::of(lang);
    let labels = &session.labels;
    let zone = utc_offset(session.utc_offset_minutes);
    let pct_of = |name: &str| format!("{name} (%)");
    let header = vec![
        w.col_item.to_owned(),
        w.col_title.to_owned(),
        w.col_round.to_owned(),
        w.form.to_owned(),
        w.rule.to_owned(),
        w.col_needed.to_owned(),
        format!("{} ({zone})", w.col_opened),
        format!("{} ({zone})", w.col_closed),
        w.col_status.to_owned(),
        w.total_seats.to_owned(),
        w.taking_part.to_owned(),
        defused(&labels.yes),
        defused(&labels.no),
        defused(&labels.abstain),
        pct_of(w.taking_part),
        defused(&pct_of(&labels.yes)),
        defused(&pct_of(&labels.no)),
        defused(&pct_of(&labels.abstain)),
        w.col_result.to_owned(),
        format!("{} ({zone})", w.col_by_hand),
    ];
    let mut out = String::from(BOM);
    push_row(&mut out, &header);
    // Ballots on a list, each as its own table after the rounds.
    let mut lists = Vec::new();
    for item in &session.items {
        for (i, round) in item.rounds.iter().enumerate() {
            let time = |ms| LocalTime::at(ms, session.utc_offset_minutes).iso();
            let mut row = vec![
                (item.index + 1).to_string(),
                defused(&item.title),
                (i + 1).to_string(),
                match round.settings.secrecy {
                    Secrecy::Named => w.named,
                    Secrecy::Secret => w.secret,
                }
                .to_owned(),
                describe_rule(&round.settings.rule, labels, lang),
            ];
            match &round.outcome {
                Outcome::Closed { result } => {
                    let c = &result.counts;
                    let pct = |n| lang.percent(n, c.total_seats);
                    row.extend([
                        result.yes_needed.to_string(),
                        time(round.opened_at),
                        time(round.ended_at),
                        w.closed.to_owned(),
                        c.total_seats.to_string(),
                        c.taking_part().to_string(),
                        c.yes.to_string(),
                        c.no.to_string(),
                        c.abstain.to_string(),
                        pct(c.taking_part()),
                        pct(c.yes),
                        pct(c.no),
                        pct(c.abstain),
                        verdict(result.passed, lang).to_owned(),
                    ]);
                }
                Outcome::Counted { result, list } => {
                    let t = result.turnout();
                    let ballots = round.by_hand.as_ref().and_then(|b| b.ballots.as_ref());
                    let table = list_table(result, list, t.total_seats, ballots, lang);
                    row.extend([
                        String::new(),
                        time(round.opened_at),
                        time(round.ended_at),
                        w.closed.to_owned(),
                        t.total_seats.to_string(),
                        t.papers.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        lang.percent(t.papers, t.total_seats),
                        String::new(),
                        String::new(),
                        String::new(),
                        table.sentences[1..].join(" "),
                    ]);
                    lists.push((item.index, defused(&item.title), i + 1, table));
                }
                Outcome::Voided => {
                    row.extend([
                        String::new(),
                        time(round.opened_at),
                        time(round.ended_at),
                        w.voided_short.to_owned(),
                        session.total_seats.to_string(),
                    ]);
                    row.extend(std::iter::repeat_n(String::new(), 9));
                }
            }
            row.push(round.by_hand.as_ref().map_or_else(String::new, |b| {
                by_hand_cell(lang, &defused(&b.by), &time(b.at), b.ballots.as_ref())
            }));
            push_row(&mut out, &row);
        }
    }
    for (index, title, round, table) in lists {
        out.push_str("\r\n");
        push_row(
            &mut out,
            &[
                format!("{} {}", w.list_results, index + 1),
                title,
                format!("{} {round}", w.col_round),
            ],
        );
        let cells = |r: &[String]| r.iter().map(|c| defused(c)).collect::<Vec<_>>();
        push_row(&mut out, &cells(&table.header));
        for row in &table.rows {
            push_row(&mut out, &cells(row));
        }
        for sentence in &table.sentences {
            push_row(&mut out, std::slice::from_ref(sentence));
        }
    }
    out
}

/// Appends one record, quoting the fields that need it, and a CRLF.
fn push_row(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// A meeting's text that a spreadsheet would read as a formula gets a leading
/// apostrophe (the usual defence against CSV injection); other text is kept.
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::phuc_loi;
    use super::*;

    fn read(csv_text: &str) -> Vec<Vec<String>> {
        let body = csv_text.strip_prefix(BOM).expect("a byte order mark first");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes());
        reader
            .records()
            .map(|r| {
                r.expect("a valid record")
                    .iter()
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn one_row_per_round_read_back_by_an_independent_reader() {
        let s = phuc_loi();
        let text = results_csv(&s, Lang::Vi);
        assert!(text.starts_with('\u{feff}'));
        assert!(text.ends_with("\r\n"));
        assert_eq!(text.matches("\r\n").count(), text.lines().count());
        let rows = read(&text);
        let rounds: usize = s.items.iter().map(|i| i.rounds.len()).sum();
        assert_eq!(rows.len(), 1 + rounds);
        assert!(rows.iter().all(|r| r.len() == 20), "{rows:?}");
        assert_eq!(rows[0][19], "Kiểm đếm thủ công (UTC+07:00)");
        assert_eq!(rows[0][6], "Mở lúc (UTC+07:00)");
        assert_eq!(rows[0][11], "Tán thành");
        assert_eq!(rows[0][15], "Tán thành (%)");

        // Item 3 (the budget settlement): the official example's numbers.
        let budget = rows.iter().find(|r| r[0] == "3").unwrap();
        assert_eq!(budget[1], s.items[2].title);
        assert_eq!(
            &budget[2..],
            [
                "1",
                "Biểu quyết công khai",
                "trên 1/2 tổng số đại biểu",
                "21",
                "2026-12-18 09:40:10",
                "2026-12-18 09:41:24",
                "Đã kết thúc",
                "40",
                "38",
                "35",
                "2",
                "1",
                "95,00%",
                "87,50%",
                "5,00%",
                "2,50%",
                "THÔNG QUA",
                "",
            ]
        );
    }

    #[test]
    fn a_result_recorded_by_hand_says_by_whom_and_when() {
        let mut s = phuc_loi();
        let round = &mut s.items[2].rounds[0];
        round.by_hand = Some(gavel_protocol::messages::ByHand {
            by: "=Lê Thị Thu".to_owned(),
            device: gavel_protocol::PublicKey::from_hex(
                "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
            )
            .unwrap(),
            // 2026-12-18 09:45:00 in Hanoi.
            at: 1_797_561_900_000,
            ballots: None,
        });
        for (lang, header) in [
            (Lang::Vi, "Kiểm đếm thủ công (UTC+07:00)"),
            (Lang::En, "Recorded by hand (UTC+07:00)"),
        ] {
            let rows = read(&results_csv(&s, lang));
            assert_eq!(rows[0][19], header);
            let budget = rows.iter().find(|r| r[0] == "3").unwrap();
            // A name a spreadsheet would read as a formula is defused.
            assert_eq!(budget[19], "'=Lê Thị Thu, 2026-12-18 09:45:00");
            assert!(
                rows.iter()
                    .filter(|r| r[0] != "3" && r[0] != rows[0][0])
                    .all(|r| r[19].is_empty())
            );
        }
    }

    #[test]
    fn a_voided_round_publishes_no_counts_and_its_revote_follows() {
        let rows = read(&results_csv(&phuc_loi(), Lang::En));
        let item4: Vec<_> = rows.iter().filter(|r| r[0] == "4").collect();
        assert_eq!(item4.len(), 2);
        assert_eq!(item4[0][2], "1");
        assert_eq!(item4[0][8], "Voided");
        assert!(
            item4[0][10..].iter().all(String::is_empty),
            "{:?}",
            item4[0]
        );
        assert_eq!(item4[1][2], "2");
        assert_eq!(item4[1][8], "Closed");
        assert_eq!(item4[1][18], "PASSED");
    }

    #[test]
    fn secret_rounds_and_a_failed_two_thirds_vote() {
        let rows = read(&results_csv(&phuc_loi(), Lang::En));
        let removal = rows.iter().find(|r| r[0] == "9").unwrap();
        assert_eq!(removal[3], "Secret ballot");
        assert_eq!(removal[4], "at least 2/3 of all seats");
        assert_eq!(removal[5], "27");
        assert_eq!(
            (removal[11].as_str(), removal[15].as_str()),
            ("26", "65.00%")
        );
        assert_eq!(removal[18], "NOT PASSED");
    }

    #[test]
    fn quotes_commas_line_breaks_and_formulas_survive() {
        let mut s = phuc_loi();
        s.items[0].title = "=HYPERLINK(\"http://x\"),\r\nline \"two\"".into();
        s.items[2].title = "Tờ trình, \"số 12\"".into();
        s.labels.yes = "Đồng ý, \"có\"".into();
        let text = results_csv(&s, Lang::Vi);
        let rows = read(&text);
        assert_eq!(rows[0][11], "Đồng ý, \"có\"");
        assert_eq!(rows[1][1], "'=HYPERLINK(\"http://x\"),\r\nline \"two\"");
        let budget = rows.iter().find(|r| r[0] == "3").unwrap();
        assert_eq!(budget[1], "Tờ trình, \"số 12\"");
        assert!(text.contains("\"Tờ trình, \"\"số 12\"\"\""));
    }
}
