//! The minutes (biên bản kết quả biểu quyết) as one self-contained HTML file,
//! laid out for A4 paper: open it in any browser and print, or turn it into a
//! PDF with a headless browser.
//!
//! Self-contained means no network, no script and no file beside it: the
//! styles and the font are inline (see `font`), the charts are inline SVG. So
//! the file can be mailed, archived and printed years later as it is. Every
//! text that comes from the meeting (titles, the body, labels, names) is
//! escaped; the rest is this crate's own words.
//!
//! Layout, as a council's printed minute has it: the issuing body and (for a
//! state body) the national heading side by side, the place and date, the
//! title, a summary table, then each voted item under its topic with, per
//! round, the form of the vote, its times, the rule, the official sentence,
//! the chart and the verdict; a voided round is said to be voided and shows
//! no counts; a round on a list prints its official table. A secret round
//! prints the counting board's record (biên bản kiểm phiếu): around a
//! list's table, or after a yes/no round's verdict with the ballots marked
//! with each choice. Then, for each item where someone had the floor, its turns:
//! the speaker, the kind of turn, whom a question was put to, the topic as
//! typed, the start and the time spoken. Signature blocks for the secretary
//! and the chair close it. An item never breaks across pages unless it is
//! longer than a page.

use super::chart::round_chart;
use super::clock::{LocalTime, utc_offset};
use super::escape::escape;
use super::font::font_faces;
use super::lists::{ListTable, list_table};
use super::words::{
    Words, announced_line, ballots_marked, by_hand_line, change_line, changes_lead, changes_title,
    closing_line, confirmations_line, confirmed_by, date_line, device_owner, duration, item_number,
    needed, paused_span, roman, round_number, seal_line, time_span,
};
use super::{ChangeKind, Item, Lang, Outcome, Round, Session};
use gavel_protocol::messages::Ballots;
use gavel_protocol::results::Turnout;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::wording::{describe_rule, in_sentence, official_sentence, verdict};
use std::fmt::Write;

/// The minutes of `session` in `lang`, as a complete HTML document.
pub fn minutes_html(session: &Session, lang: Lang) -> String {
    let w = Words::of(lang);
    let mut out = String::with_capacity(200_000);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang_tag}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Gavel\">\n<title>{doc} — {title}</title>\n\
         <style>\n{fonts}{css}{page}</style>\n</head>\n<body>\n<main class=\"sheet\">\n",
        lang_tag = w.lang_tag,
        doc = escape(w.document),
        title = escape(&session.title),
        fonts = font_faces(),
        css = CSS,
        page = page_css(session, w),
    );
    letterhead(&mut out, session, lang);
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"meeting-title\">{}</p>\n",
        escape(w.document),
        title(&session.title)
    );
    let _ = write!(
        out,
        "<p class=\"facts\">{}: <b>{}</b> · {}: <b>{}</b> · {} {}. {}</p>\n<p>{}</p>\n",
        escape(w.meeting_id),
        escape(session.meeting.as_str()),
        escape(w.total_seats),
        session.total_seats,
        escape(w.times),
        utc_offset(session.utc_offset_minutes),
        escape(w.percentages),
        escape(w.intro),
    );
    let _ = writeln!(
        out,
        "<p class=\"closing\">{}</p>",
        escape(&closing_line(
            lang,
            session
                .closed_at
                .map(|ms| LocalTime::at(ms, session.utc_offset_minutes))
                .as_ref()
        ))
    );
    summary(&mut out, session, lang);
    items(&mut out, session, lang);
    floor(&mut out, session, lang);
    changes(&mut out, session, lang);
    signatures(&mut out, session, w);
    if let Some(seal) = &session.record {
        let _ = writeln!(out, "<p class=\"seal\">{}</p>", seal_line(lang, seal));
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// A title from the meeting, escaped, with each word that holds a hyphen, a
/// dash or a slash kept on one line: a document number ("12/TTr-TTHĐND") or a
/// term ("2026–2031") split across two lines reads wrong in a minute.
fn title(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.chars().count() > 1 && word.contains(['-', '–', '—', '/']) {
                format!("<span class=\"nw\">{}</span>", escape(word))
            } else {
                escape(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Page size, margins and the page numbers in the bottom margin. The meeting
/// id is a slug (a-z, 0-9, '-'), safe inside a CSS string.
fn page_css(session: &Session, w: &Words) -> String {
    format!(
        "@page {{ size: A4; margin: 20mm 15mm 18mm 30mm;\n  \
         @bottom-left {{ content: \"{id}\"; font-size: 8pt; color: #444; }}\n  \
         @bottom-right {{ content: \"{page} \" counter(page) \"{of}\" counter(pages); font-size: 9pt; }}\n}}\n",
        id = session.meeting.as_str(),
        page = w.page,
        of = w.page_of,
    )
}

fn letterhead(out: &mut String, session: &Session, lang: Lang) {
    let w = Words::of(lang);
    let date = date_line(
        lang,
        session.place.as_deref(),
        &LocalTime::at(session.held_at, session.utc_offset_minutes),
    );
    let issuer = format!(
        "<div class=\"issuer\"><div class=\"body\">{}</div><div class=\"rule-short\"></div></div>",
        escape(&session.body)
    );
    let dateline = format!("<p class=\"dateline\">{}</p>", escape(&date));
    if session.national_heading {
        let _ = writeln!(
            out,
            "<header class=\"letterhead\">{issuer}<div class=\"nation\">\
             <div class=\"nation-name\">{}</div><div class=\"motto\"><span>{}</span></div>{dateline}</div></header>",
            escape(w.nation),
            escape(w.motto),
        );
    } else {
        let _ = writeln!(
            out,
            "<header class=\"letterhead\">{issuer}<div class=\"nation\">{dateline}</div></header>\n"
        );
    }
}

/// One line per voted item: its last round decides what the summary says.
fn summary(out: &mut String, session: &Session, lang: Lang) {
    let w = Words::of(lang);
    let _ = write!(
        out,
        "<section class=\"summary\"><h2>{}</h2>\n<table>\n<thead><tr><th class=\"num\">{}</th><th>{}</th>\
         <th class=\"num\">{}</th><th>{}</th></tr></thead>\n<tbody>",
        escape(w.summary),
        escape(w.col_number),
        escape(w.col_item),
        escape(&session.labels.yes),
        escape(w.col_result),
    );
    for item in session.voted_items() {
        let last = item.rounds.last().expect("a voted item has a round");
        let (yes, result) = match &last.outcome {
            Outcome::Closed { result } => (
                format!(
                    "{} ({})",
                    result.counts.yes,
                    lang.percent(result.counts.yes, result.counts.total_seats)
                ),
                verdict(result.passed, lang),
            ),
            Outcome::Counted { .. } => (String::new(), w.closed),
            Outcome::Voided => (String::new(), w.voided_short),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}{}</td><td class=\"num\">{}</td><td class=\"verdict-cell\">{}</td></tr>",
            item.index + 1,
            title(&item.title),
            secret_mark(item, w),
            yes,
            escape(result),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// " (bỏ phiếu kín)" after an item voted by secret ballot.
fn secret_mark(item: &Item, w: &Words) -> String {
    if item
        .rounds
        .iter()
        .any(|r| r.settings.secrecy == Secrecy::Secret)
    {
        format!(" <span class=\"secret\">{}</span>", escape(w.secret_mark))
    } else {
        String::new()
    }
}

/// The voted items under their topics, numbered I, II… in agenda order.
fn items(out: &mut String, session: &Session, lang: Lang) {
    let w = Words::of(lang);
    let mut topics: Vec<&str> = Vec::new();
    let mut open_topic: Option<&str> = None;
    for item in &session.items {
        if !topics.contains(&item.topic.as_str()) {
            topics.push(&item.topic);
        }
        if item.rounds.is_empty() {
            continue;
        }
        if open_topic != Some(item.topic.as_str()) {
            if open_topic.is_some() {
                out.push_str("</section>\n");
            }
            let _ = writeln!(
                out,
                "<section class=\"topic\"><h2>{}. {}</h2>",
                roman(topics.len() as u32),
                escape(&item.topic)
            );
            open_topic = Some(&item.topic);
        }
        let _ = writeln!(
            out,
            "<article class=\"item\"><h3><span class=\"item-number\">{}.</span> {}{}</h3>",
            escape(&item_number(lang, item.index + 1)),
            title(&item.title),
            secret_mark(item, w),
        );
        for (i, round) in item.rounds.iter().enumerate() {
            let heading = (item.rounds.len() > 1).then(|| round_number(lang, i + 1));
            self::round(
                out,
                session,
                lang,
                &format!("i{}r{}", item.index, i),
                heading,
                round,
            );
        }
        out.push_str("</article>\n");
    }
    if open_topic.is_some() {
        out.push_str("</section>\n");
    }
}

fn round(
    out: &mut String,
    session: &Session,
    lang: Lang,
    id: &str,
    heading: Option<String>,
    round: &Round,
) {
    let w = Words::of(lang);
    let labels = &session.labels;
    out.push_str("<div class=\"round\">");
    if let Some(heading) = heading {
        let _ = write!(out, "<h4>{}</h4>", escape(&heading));
    }
    let at = |ms| LocalTime::at(ms, session.utc_offset_minutes).time_of_day();
    let form = match round.settings.secrecy {
        Secrecy::Named => w.named,
        Secrecy::Secret => w.secret,
    };
    let _ = write!(
        out,
        "<p class=\"meta\">{}: {}. {}.</p>",
        escape(w.form),
        escape(form),
        escape(&time_span(lang, &at(round.opened_at), &at(round.ended_at))),
    );
    if let Some(by_hand) = &round.by_hand {
        let _ = write!(
            out,
            "<p class=\"meta by-hand\"><strong>{}.</strong></p>",
            escape(&by_hand_line(
                lang,
                &by_hand.by,
                &at(by_hand.at),
                by_hand.ballots.is_some()
            )),
        );
    }
    for pause in &round.pauses {
        let _ = write!(
            out,
            "<p class=\"meta\">{}.</p>",
            escape(&paused_span(lang, &at(pause.from), &at(pause.to))),
        );
    }
    let rule = describe_rule(&round.settings.rule, labels, lang);
    let board = board_html(round, &at, lang);
    // Paper ballots the counting board counted by hand have its record too,
    // with its own figures, whether or not the item was secret.
    let ballots = round.by_hand.as_ref().and_then(|b| b.ballots);
    let with_record = round.settings.secrecy == Secrecy::Secret || ballots.is_some();
    match &round.outcome {
        Outcome::Closed { result } => {
            let _ = write!(
                out,
                "<p class=\"rule\">{}: {}. {}.</p>\n<p class=\"official\">{}</p>\n<figure>{}</figure>\n\
                 <p class=\"verdict\">{}: <strong class=\"{}\">{}</strong></p>",
                escape(w.rule),
                escape(&rule),
                escape(&needed(
                    lang,
                    result.yes_needed,
                    &in_sentence(&labels.yes),
                    result.counts.yes
                )),
                escape(&official_sentence(&result.counts, labels, lang)),
                round_chart(id, result, labels, lang),
                escape(w.result),
                if result.passed {
                    "passed"
                } else {
                    "not-passed"
                },
                escape(verdict(result.passed, lang)),
            );
            if with_record {
                let counts = &result.counts;
                let turnout = Turnout {
                    total_seats: counts.total_seats,
                    present: counts.present,
                    papers: counts.taking_part(),
                };
                let marked = [
                    (&labels.yes, counts.yes),
                    (&labels.no, counts.no),
                    (&labels.abstain, counts.abstain),
                ]
                .map(|(label, n)| (ballots_marked(lang, &in_sentence(label)), n));
                count_record(
                    out,
                    turnout,
                    ballots,
                    &marked,
                    "",
                    &session.counting_board,
                    &board,
                    lang,
                );
            } else {
                out.push_str(&board);
            }
        }
        Outcome::Counted { result, list } => {
            if result.rule().is_some() {
                let _ = write!(
                    out,
                    "<p class=\"rule\">{}: {}.</p>",
                    escape(w.rule),
                    escape(&rule)
                );
            }
            let table = list_table(result, list, session.total_seats, ballots.as_ref(), lang);
            if with_record {
                // The papers returned are in the record's facts; the
                // rest says what came out.
                let mut body = String::new();
                list_html(&mut body, &table, &table.sentences[1..]);
                count_record(
                    out,
                    result.turnout(),
                    ballots,
                    &[],
                    &body,
                    &session.counting_board,
                    &board,
                    lang,
                );
            } else {
                list_html(out, &table, &table.sentences);
            }
        }
        Outcome::Voided => {
            let _ = write!(
                out,
                "<p class=\"rule\">{}: {}.</p>\n<p class=\"voided\"><strong>{}.</strong> {}</p>",
                escape(w.rule),
                escape(&rule),
                escape(w.voided_title),
                escape(w.voided_note),
            );
        }
    }
    out.push_str("</div>\n");
}

/// The counting board's confirmations of `round` and the announcement, as
/// paragraphs; empty when the board confirmed nothing.
fn board_html(round: &Round, at: &dyn Fn(u64) -> String, lang: Lang) -> String {
    if round.confirmations.is_empty() {
        return String::new();
    }
    let list: Vec<String> = round
        .confirmations
        .iter()
        .map(|c| confirmed_by(lang, &c.name, c.seat, &at(c.at)))
        .collect();
    let mut html = format!(
        "<p class=\"meta confirmations\">{}.</p>",
        escape(&confirmations_line(lang, &list.join("; ")))
    );
    if let Some(t) = round.announced_at {
        let _ = write!(
            html,
            "<p class=\"meta\">{}.</p>",
            escape(&announced_line(lang, &at(t)))
        );
    }
    html
}

/// A secret ballot printed as the counting board's record (biên bản kiểm
/// phiếu) in its official form: all delegates, those present, the ballots
/// or papers issued (one to each delegate present), returned, valid and
/// invalid, then `marked` (a yes/no ballot's count of each choice), each
/// with its percentage of all delegates; then `body` (a list's table and
/// what came out), `confirmed` ([`board_html`] of its round), and lines for
/// the board to sign, with the names of `board` (the head first) when the
/// meeting names it. A ballot the rules refuse is refused at the tablet
/// with its reason and never enters the count, so every returned ballot is
/// valid and none invalid; paper ballots counted by hand have the board's
/// own figures, `ballots`.
#[expect(
    clippy::too_many_arguments,
    reason = "the record's parts, each its own"
)]
fn count_record(
    out: &mut String,
    turnout: Turnout,
    ballots: Option<Ballots>,
    marked: &[(String, u32)],
    body: &str,
    board: &[String],
    confirmed: &str,
    lang: Lang,
) {
    let w = Words::of(lang);
    let pct = |n: u32| lang.percent(n, turnout.total_seats);
    let ballots = ballots.unwrap_or(Ballots {
        issued: turnout.present,
        returned: turnout.papers,
        invalid: 0,
    });
    let facts = [
        (w.total_seats, turnout.total_seats),
        (w.count_present, turnout.present),
        (w.count_issued, ballots.issued),
        (w.papers_returned, ballots.returned),
        (w.count_valid, ballots.valid()),
        (w.count_invalid, ballots.invalid),
    ]
    .map(|(label, n)| (label.to_owned(), n));
    let _ = write!(
        out,
        "<section class=\"count-record\"><h5>{}</h5>\n<table class=\"count-facts\"><tbody>\n",
        escape(w.count_record)
    );
    for (label, n) in facts.iter().chain(marked) {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"num\">{n}</td><td class=\"num\">{}</td></tr>",
            escape(label),
            pct(*n)
        );
    }
    out.push_str("</tbody></table>\n");
    out.push_str(body);
    out.push_str(confirmed);
    let (head, members) = board
        .split_first()
        .map_or((None, &[][..]), |(h, m)| (Some(h), m));
    let signer = |role: &str, names: Vec<&String>| {
        let names: String = names
            .into_iter()
            .map(|n| format!("<div class=\"name\">{}</div>", escape(n)))
            .collect();
        format!(
            "<div><div class=\"role\">{}</div>{names}</div>",
            escape(role)
        )
    };
    let _ = write!(
        out,
        "<div class=\"board-signatures\">{}{}</div>\n</section>\n",
        signer(w.count_chief, head.into_iter().collect()),
        signer(w.count_members, members.iter().collect()),
    );
}

/// A ballot on a list: its official table, then `sentences`, what came out.
fn list_html(out: &mut String, table: &ListTable, sentences: &[String]) {
    out.push_str("<table class=\"list\">\n<thead><tr>");
    // The number, the counts and the percentages are numeric, as in the rows.
    let numeric = |i: usize| i == 0 || (i > 2 && i + 1 < table.header.len());
    for (i, h) in table.header.iter().enumerate() {
        let class = if numeric(i) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if numeric(i) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    for sentence in sentences {
        let _ = write!(out, "<p class=\"official\">{}</p>", escape(sentence));
    }
}

/// Every item's turns at the floor, in one table per item. A topic is the
/// delegate's own text: escaped, and isolated (`<bdi>`) so that
/// right-to-left text in it cannot reorder the rest of its line.
fn floor(out: &mut String, session: &Session, lang: Lang) {
    let w = Words::of(lang);
    let mut debated = session.debated_items().peekable();
    if debated.peek().is_none() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"floor\"><h2>{}</h2>",
        escape(w.floor_title)
    );
    let at = |ms: u64| LocalTime::at(ms, session.utc_offset_minutes).time_of_day();
    for item in debated {
        let _ = write!(
            out,
            "<article class=\"item\"><h3><span class=\"item-number\">{}.</span> {}</h3>\n<table>\n\
             <thead><tr><th class=\"num\">{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
             <th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>",
            escape(&item_number(lang, item.index + 1)),
            title(&item.title),
            escape(w.col_number),
            escape(w.col_speaker),
            escape(w.col_kind),
            escape(w.col_put_to),
            escape(w.col_topic),
            escape(w.col_started),
            escape(w.col_spoken),
        );
        for (n, turn) in (1..).zip(&item.turns) {
            let who = match (turn.seat, &turn.post) {
                (Some(seat), _) => format!("{} ({} {seat})", escape(&turn.speaker), w.seat),
                (None, Some(post)) => format!("{}, {}", escape(&turn.speaker), escape(post)),
                (None, None) => escape(&turn.speaker),
            };
            let spoken = match turn.ended_at {
                Some(_) => duration(turn.spoken_ms),
                None => format!("{} ({})", duration(turn.spoken_ms), w.still_speaking),
            };
            let _ = write!(
                out,
                "<tr><td class=\"num\">{n}</td><td>{who}</td><td>{}</td><td>{}</td>\
                 <td><bdi>{}</bdi></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(w.kind(turn.kind)),
                turn.put_to.as_deref().map(escape).unwrap_or_default(),
                turn.topic.as_deref().map(escape).unwrap_or_default(),
                at(turn.started_at),
                escape(&spoken),
            );
        }
        out.push_str("</tbody>\n</table>\n</article>\n");
    }
    out.push_str("</section>\n");
}

/// The changes made once the session had started, each with its time; no
/// section when there were none.
fn changes(out: &mut String, session: &Session, lang: Lang) {
    if session.changes.is_empty() {
        return;
    }
    let at = |ms: u64| LocalTime::at(ms, session.utc_offset_minutes).time_of_day();
    let _ = write!(
        out,
        "<section class=\"changes\"><h2>{}</h2>\n<p>{}</p>\n<ul>",
        escape(changes_title(lang)),
        escape(changes_lead(lang)),
    );
    for change in &session.changes {
        let who = match &change.what {
            ChangeKind::DeviceEnrolled { seat, name }
            | ChangeKind::DeviceRevoked { seat, name } => device_owner(lang, *seat, name),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<li><span class=\"num\">{}</span> {}.</li>",
            at(change.at),
            escape(&change_line(lang, &change.what, &who)),
        );
    }
    out.push_str("</ul>\n</section>\n");
}

fn signatures(out: &mut String, session: &Session, w: &Words) {
    let block = |role: &str, name: &Option<String>| {
        let name = match name {
            Some(name) => format!("<div class=\"name\">{}</div>", escape(name)),
            None => "<div class=\"name blank\"></div>".to_owned(),
        };
        format!(
            "<div class=\"signature\"><div class=\"role\">{}</div><div class=\"hint\">{}</div>{name}</div>",
            escape(role),
            escape(w.sign_here)
        )
    };
    let _ = writeln!(
        out,
        "<section class=\"signatures\">{}{}</section>",
        block(w.secretary, &session.signatories.secretary),
        block(w.chair, &session.signatories.chair),
    );
}

/// The minutes' styles: black on white, sized for A4, legible in print.
const CSS: &str = r#"
:root { color: #000; background: #fff; }
html { font-family: 'Be Vietnam Pro', 'Times New Roman', serif; font-size: 11pt; line-height: 1.45; }
body { margin: 0; }
@media screen {
  html { background: #d9d9d9; }
  .sheet { width: 210mm; box-sizing: border-box; margin: 8mm auto; padding: 20mm 15mm 18mm 30mm; background: #fff; box-shadow: 0 1px 6px rgba(0,0,0,.3); }
}
h1, h2, h3, h4, p { margin: 0; }
p { margin: 0 0 1.5mm; text-align: justify; }
b, strong, th, h1, h2, h3, h4 { font-weight: 600; }
.letterhead { display: grid; grid-template-columns: 40% 60%; align-items: start; text-align: center; margin-bottom: 6mm; }
.issuer .body { text-transform: uppercase; font-weight: 600; font-size: 10.5pt; line-height: 1.35; padding: 0 3mm; }
.rule-short, .motto span::after { display: block; width: 30mm; margin: 1mm auto 0; border-top: 0.6pt solid #000; content: ""; }
.nation-name { font-weight: 600; font-size: 10.5pt; white-space: nowrap; }
.motto { font-weight: 600; font-size: 11.5pt; }
.motto span { display: inline-block; }
.motto span::after { width: 100%; }
.dateline { font-style: italic; text-align: center; margin-top: 3mm; }
h1 { text-align: center; font-size: 14pt; letter-spacing: .02em; margin-top: 4mm; }
.meeting-title { text-align: center; font-weight: 600; font-size: 12pt; margin: 1mm 8mm 4mm; text-wrap-style: balance; }
.facts { font-size: 10pt; text-align: left; }
.closing { font-weight: 600; }
.nw { white-space: nowrap; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; break-after: avoid; }
.summary table, .floor table { width: 100%; border-collapse: collapse; font-size: 10pt; line-height: 1.3; }
.summary th, .summary td, .floor th, .floor td { border: 0.6pt solid #000; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
.summary tr, .floor tr { break-inside: avoid; }
.summary .num, .floor .num { text-align: right; white-space: nowrap; }
.summary th.num, .floor th.num { text-align: right; }
.floor table { font-size: 9pt; margin-bottom: 4mm; }
.changes ul { margin: 0; padding-left: 6mm; font-size: 10pt; line-height: 1.4; }
.changes li { break-inside: avoid; }
.changes .num { font-variant-numeric: tabular-nums; }
.verdict-cell { font-weight: 600; white-space: nowrap; }
.topic h2 { text-transform: none; }
.item { break-inside: avoid; border-top: 0.6pt solid #000; padding-top: 2.5mm; margin-top: 3mm; }
.topic h2 + .item { border-top: none; padding-top: 0; margin-top: 0; }
h3 { font-size: 11pt; line-height: 1.4; margin-bottom: 1.5mm; break-after: avoid; text-wrap-style: pretty; }
.summary td { text-wrap-style: pretty; }
.item-number { white-space: nowrap; }
.secret { font-weight: 400; font-style: italic; white-space: nowrap; }
h4 { font-size: 10.5pt; margin: 2.5mm 0 1mm; font-style: italic; }
.round { break-inside: avoid; }
.round + .round { margin-top: 3mm; }
.meta, .rule { font-size: 10pt; }
.official { font-weight: 600; }
figure { margin: 2mm 0 1mm; }
svg.chart { display: block; width: 100%; max-width: 155mm; height: auto; font-family: inherit; }
svg.chart text { font-size: 13px; fill: #000; }
svg.chart .count, svg.chart .mark { font-weight: 600; }
.verdict { font-size: 11pt; }
.verdict strong { display: inline-block; border: 1.2pt solid #000; padding: 0.3mm 2.5mm; letter-spacing: .03em; }
.verdict strong.not-passed { border-style: double; border-width: 3pt; }
.voided strong { letter-spacing: .01em; }
table.list, .count-facts { border-collapse: collapse; font-size: 9.5pt; line-height: 1.3; margin: 1mm 0 2mm; }
table.list { width: 100%; }
table.list th, table.list td, .count-facts th, .count-facts td { border: 0.6pt solid #000; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
table.list .num, .count-facts .num { text-align: right; white-space: nowrap; }
table.list tr, .count-facts tr { break-inside: avoid; }
.count-facts th { font-weight: 400; }
.count-record { break-inside: avoid; border: 0.6pt solid #000; padding: 2mm 3mm; margin-top: 2mm; }
h5 { font-size: 10.5pt; text-align: center; text-transform: uppercase; margin: 0 0 1.5mm; }
.board-signatures { display: grid; grid-template-columns: 1fr 1fr; text-align: center; font-size: 10pt; margin-top: 3mm; min-height: 18mm; }
.board-signatures .role { font-weight: 600; }
.board-signatures .name { margin-top: 12mm; }
.board-signatures .name + .name { margin-top: 10mm; }
.seal { margin-top: 8mm; font-size: 8.5pt; text-align: left; overflow-wrap: anywhere; }
.seal code { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt; }
.signatures { display: grid; grid-template-columns: 1fr 1fr; text-align: center; margin-top: 10mm; break-inside: avoid; }
.signature .role { font-weight: 600; }
.signature .hint { font-style: italic; font-size: 10pt; }
.signature .name { margin-top: 24mm; font-weight: 600; }
.signature .name.blank { border-bottom: 0.6pt dotted #000; width: 55mm; margin-left: auto; margin-right: auto; height: 5mm; }
"#;

#[cfg(test)]
mod tests {
    use super::super::tests::phuc_loi;
    use super::*;

    /// The text of an HTML fragment: tags dropped, the few entities decoded.
    fn text(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for ch in html.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => out.push(ch),
                _ => {}
            }
        }
        out.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// The part of the minutes about one agenda item (0-based).
    fn item_html(html: &str, index: u32, lang: Lang) -> String {
        let start = html
            .find(&format!("{}.</span>", item_number(lang, index + 1)))
            .expect("the item is in the minutes");
        let end = html[start..].find("</article>").unwrap() + start;
        html[start..end].to_owned()
    }

    #[test]
    fn the_closing_time_is_printed_or_the_minutes_say_they_are_not_final() {
        let mut session = phuc_loi();
        // 1797585300000 is 16:15:00 on 18 December 2026 at UTC+07:00, after the last vote.
        let vi = text(&minutes_html(&session, Lang::Vi));
        assert!(
            vi.contains("Kỳ họp bế mạc lúc 16:15:00 ngày 18/12/2026."),
            "{vi}"
        );
        let en = text(&minutes_html(&session, Lang::En));
        assert!(en.contains("The session closed at 2026-12-18 16:15:00."));
        session.closed_at = None;
        let vi = text(&minutes_html(&session, Lang::Vi));
        assert!(vi.contains("Kỳ họp chưa bế mạc: biên bản này chưa phải bản cuối cùng."));
        assert!(!vi.contains("Kỳ họp bế mạc lúc"));
        let en = text(&minutes_html(&session, Lang::En));
        assert!(en.contains("The session has not closed: these minutes are not final."));
    }

    #[test]
    fn the_official_sentence_rule_and_verdict_in_vietnamese() {
        let html = minutes_html(&phuc_loi(), Lang::Vi);
        let budget = text(&item_html(&html, 2, Lang::Vi));
        assert!(
            budget.contains(
                "38 đại biểu tham gia biểu quyết (95,00% tổng số đại biểu); \
                 35 tán thành (87,50%), 2 không tán thành (5,00%), 1 không biểu quyết (2,50%)."
            ),
            "{budget}"
        );
        assert!(
            budget
                .contains("Hình thức: Biểu quyết công khai. Thời gian: từ 09:40:10 đến 09:41:24.")
        );
        assert!(budget.contains(
            "Điều kiện thông qua: trên 1/2 tổng số đại biểu. Cần 21 phiếu tán thành, đạt 35."
        ));
        assert!(budget.contains("Kết quả: THÔNG QUA"));
        assert!(!budget.contains("bỏ phiếu kín"));
    }

    #[test]
    fn the_same_in_english() {
        let html = minutes_html(&phuc_loi(), Lang::En);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        let budget = text(&item_html(&html, 2, Lang::En));
        assert!(
            budget.contains(
                "38 delegates took part in the vote (95.00% of all seats); \
                 35 tán thành (87.50%), 2 không tán thành (5.00%), 1 không biểu quyết (2.50%)."
            ),
            "{budget}"
        );
        assert!(budget.contains(
            "To pass: more than 1/2 of all seats. 21 “tán thành” votes needed, 35 cast."
        ));
        assert!(budget.contains("Result: PASSED"));
        assert!(text(&html).contains("Phúc Lợi, 18 December 2026"));
    }

    #[test]
    fn a_voided_round_is_said_to_be_voided_and_shows_no_counts() {
        let html = minutes_html(&phuc_loi(), Lang::Vi);
        let plan = item_html(&html, 3, Lang::Vi);
        let first = &plan[..plan.find("Lần biểu quyết thứ 2").expect("two rounds")];
        let first_text = text(first);
        assert!(first_text.contains("Lần biểu quyết thứ 1"));
        assert!(
            first_text
                .contains("Đã hủy lượt biểu quyết. Kết quả lượt biểu quyết này không được tính.")
        );
        assert!(
            !first_text.contains("đại biểu tham gia biểu quyết ("),
            "{first_text}"
        );
        assert!(!first.contains("<svg"));
        assert!(text(&plan).contains("Kết quả: THÔNG QUA"));
    }

    #[test]
    fn secret_rounds_are_marked_and_a_failed_vote_says_so() {
        let html = minutes_html(&phuc_loi(), Lang::Vi);
        let removal = text(&item_html(&html, 8, Lang::Vi));
        assert!(removal.contains("(bỏ phiếu kín)"));
        assert!(removal.contains("Hình thức: Bỏ phiếu kín."));
        assert!(removal.contains(
            "Điều kiện thông qua: ít nhất 2/3 tổng số đại biểu. Cần 27 phiếu tán thành, đạt 26."
        ));
        assert!(removal.contains("Kết quả: KHÔNG THÔNG QUA"));
    }

    #[test]
    fn a_result_recorded_by_hand_says_so_with_who_and_when() {
        let mut s = phuc_loi();
        s.items[2].rounds[0].by_hand = Some(gavel_protocol::messages::ByHand {
            by: "Lê Thị <Thu>".to_owned(),
            device: gavel_protocol::PublicKey::from_hex(
                "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
            )
            .unwrap(),
            // 09:45:00 in Hanoi.
            at: 1_797_561_900_000,
            ballots: None,
        });
        let vi = text(&item_html(&minutes_html(&s, Lang::Vi), 2, Lang::Vi));
        assert!(
            vi.contains("Kiểm đếm thủ công: kết quả biểu quyết bằng giơ tay hoặc phiếu giấy, do Lê Thị <Thu> ghi nhận lúc 09:45:00; không có phiếu điện tử."),
            "{vi}"
        );
        assert!(vi.contains("Kết quả: THÔNG QUA"));
        let html = minutes_html(&s, Lang::En);
        assert!(html.contains("Lê Thị &lt;Thu&gt;"), "the name is escaped");
        let en = text(&item_html(&html, 2, Lang::En));
        assert!(en.contains("Recorded by hand: the result of a show of hands or a paper vote, entered by Lê Thị <Thu> at 09:45:00; there are no electronic ballots."), "{en}");
        let other = text(&item_html(&html, 3, Lang::En));
        assert!(!other.contains("Recorded by hand"));
    }

    #[test]
    fn changes_once_the_session_started_are_listed_with_their_times() {
        use super::super::{Change, ChangeKind};
        let mut s = phuc_loi();
        assert!(!minutes_html(&s, Lang::Vi).contains("Thay đổi trong kỳ họp"));
        // 09:45:00 and 09:50:00 in Hanoi.
        s.changes = vec![
            Change {
                at: 1_797_561_900_000,
                what: ChangeKind::DeviceRevoked {
                    seat: Some(5),
                    name: "Hoàng Văn Long".to_owned(),
                },
            },
            Change {
                at: 1_797_562_200_000,
                what: ChangeKind::ResultByHand {
                    item: 2,
                    by: "Lê Thị Thu".to_owned(),
                },
            },
        ];
        let vi = text(&minutes_html(&s, Lang::Vi));
        assert!(vi.contains("Thay đổi trong kỳ họp"), "{vi}");
        assert!(vi.contains("09:45:00 Thu hồi thiết bị của ghế 5, Hoàng Văn Long."));
        assert!(vi.contains("09:50:00 Kết quả nội dung 3 được Lê Thị Thu ghi nhận thủ công."));
        let en = text(&minutes_html(&s, Lang::En));
        assert!(en.contains("Changes during the session"));
        assert!(en.contains("09:45:00 The device of seat 5, Hoàng Văn Long was revoked."));
        assert!(en.contains("09:50:00 The result of item 3 was recorded by hand by Lê Thị Thu."));
    }

    #[test]
    fn a_secret_ballot_on_a_list_prints_the_counting_boards_record() {
        use gavel_protocol::Rule;
        use gavel_protocol::messages::{ListEntry, PaperList};
        use gavel_protocol::paper::{Mark, PaperKind};
        use gavel_protocol::results::PaperResult;
        let mut session = phuc_loi();
        let turnout = Turnout {
            total_seats: 40,
            present: 38,
            papers: 37,
        };
        let list = PaperList {
            kind: PaperKind::Election,
            posts: 1,
            entries: ["Lê Hoàng Cường", "Phạm Thu Dung"]
                .map(|name| ListEntry {
                    name: name.to_owned(),
                    post: String::new(),
                })
                .to_vec(),
        };
        let first: &[Mark] = &[Mark { entry: 0, mark: 1 }];
        let second: &[Mark] = &[Mark { entry: 1, mark: 1 }];
        let papers = std::iter::repeat_n(first, 25).chain(std::iter::repeat_n(second, 12));
        let rule = Rule::MAJORITY_OF_ALL_SEATS;
        let result = PaperResult::decide(PaperKind::Election, rule, 2, 1, turnout, papers);
        let round = &mut session.items[8].rounds[0];
        round.settings.rule = rule;
        round.outcome = Outcome::Counted { result, list };
        session.counting_board = ["Đỗ Văn Hải", "Ngô Thị Mai", "Bùi Quốc Toản"]
            .map(str::to_owned)
            .to_vec();
        let secret = text(&item_html(&minutes_html(&session, Lang::Vi), 8, Lang::Vi));
        for line in [
            "Biên bản kiểm phiếu",
            "Tổng số đại biểu40100,00%",
            "Số đại biểu có mặt3895,00%",
            "Số phiếu phát ra3895,00%",
            "Số phiếu thu vào3792,50%",
            "Số phiếu hợp lệ3792,50%",
            "Số phiếu không hợp lệ00,00%",
            "1Lê Hoàng Cường2562,50%Trúng cử",
            "2Phạm Thu Dung1230,00%Không trúng cử",
            "Trúng cử: Lê Hoàng Cường.",
            "Trưởng Ban kiểm phiếuĐỗ Văn HảiCác thành viên Ban kiểm phiếuNgô Thị MaiBùi Quốc Toản",
        ] {
            assert!(secret.contains(line), "{line:?} in {secret}");
        }
        assert_eq!(
            secret.matches("Số phiếu thu vào").count(),
            1,
            "the papers returned are said once"
        );
        let english = text(&item_html(&minutes_html(&session, Lang::En), 8, Lang::En));
        assert!(
            english.contains("Record of the count")
                && english.contains("Invalid ballot papers00.00%")
        );

        session.items[8].rounds[0].settings.secrecy = Secrecy::Named;
        let named = text(&item_html(&minutes_html(&session, Lang::Vi), 8, Lang::Vi));
        assert!(
            !named.contains("Biên bản kiểm phiếu")
                && named.contains("Số phiếu thu vào: 37 (92,50%).")
        );
    }

    #[test]
    fn a_secret_yes_no_round_prints_the_counting_boards_record() {
        use super::super::BoardConfirmation;
        let mut session = phuc_loi();
        session.counting_board = ["Đỗ Văn Hải", "Ngô Thị Mai", "Bùi Quốc Toản"]
            .map(str::to_owned)
            .to_vec();
        // 39 present, 26 yes, 10 no, 3 abstentions of 40 delegates.
        let round = &mut session.items[8].rounds[0];
        let ended = round.ended_at;
        let after = move |s: u64| ended + s * 1000;
        round.confirmations = [(7, "Đỗ Văn Hải", 30), (15, "Ngô Thị Mai", 45)]
            .map(|(seat, name, s)| BoardConfirmation {
                seat,
                name: name.to_owned(),
                at: after(s),
            })
            .to_vec();
        round.announced_at = Some(after(60));
        let vi = text(&item_html(&minutes_html(&session, Lang::Vi), 8, Lang::Vi));
        let record = &vi[vi.find("Biên bản kiểm phiếu").expect("the record")..];
        for line in [
            "Tổng số đại biểu40100,00%",
            "Số đại biểu có mặt3997,50%",
            "Số phiếu phát ra3997,50%",
            "Số phiếu thu vào3997,50%",
            "Số phiếu hợp lệ3997,50%",
            "Số phiếu không hợp lệ00,00%",
            "Số phiếu tán thành2665,00%",
            "Số phiếu không tán thành1025,00%",
            "Số phiếu không biểu quyết37,50%",
            "Thành viên Ban kiểm phiếu xác nhận kết quả bằng chữ ký trên thiết bị: \
             Đỗ Văn Hải (ghế 7) lúc",
            "; Ngô Thị Mai (ghế 15) lúc",
            "Chủ tọa công bố kết quả lúc",
            "Trưởng Ban kiểm phiếuĐỗ Văn HảiCác thành viên Ban kiểm phiếuNgô Thị MaiBùi Quốc Toản",
        ] {
            assert!(record.contains(line), "{line:?} in {record}");
        }
        // The verdict and the chart come first, the confirmations once.
        assert!(vi.find("Kết quả: KHÔNG THÔNG QUA") < vi.find("Biên bản kiểm phiếu"));
        assert_eq!(vi.matches("xác nhận kết quả").count(), 1, "{vi}");

        let en = text(&item_html(&minutes_html(&session, Lang::En), 8, Lang::En));
        for line in [
            "Record of the count",
            "Ballot papers issued3997.50%",
            "Invalid ballot papers00.00%",
            "Ballots marked “tán thành”2665.00%",
            "Ballots marked “không tán thành”1025.00%",
            "Ballots marked “không biểu quyết”37.50%",
            "Confirmed by the counting board, each member's device signing: \
             Đỗ Văn Hải (seat 7) at",
            "The chair announced the result at",
            "Head of the counting boardĐỗ Văn Hải",
        ] {
            assert!(en.contains(line), "{line:?} in {en}");
        }

        // A named yes/no round has no such record.
        let named = text(&item_html(&minutes_html(&session, Lang::Vi), 2, Lang::Vi));
        assert!(!named.contains("Biên bản kiểm phiếu") && !named.contains("Số phiếu phát ra"));
    }

    #[test]
    fn papers_counted_by_hand_print_the_boards_own_figures_marked_as_counted_on_paper() {
        let mut session = phuc_loi();
        session.counting_board = ["Đỗ Văn Hải", "Ngô Thị Mai"].map(str::to_owned).to_vec();
        // The secret round of item 9 (39 present, 26 + 10 + 3 votes), counted
        // on paper: 39 issued, 39 returned, none invalid.
        let round = &mut session.items[8].rounds[0];
        round.by_hand = Some(gavel_protocol::messages::ByHand {
            by: "Lê Thị Thu".to_owned(),
            device: gavel_protocol::PublicKey::from_hex(
                "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
            )
            .unwrap(),
            at: round.ended_at,
            ballots: Some(gavel_protocol::messages::Ballots {
                issued: 39,
                returned: 39,
                invalid: 0,
            }),
        });
        let vi = text(&item_html(&minutes_html(&session, Lang::Vi), 8, Lang::Vi));
        assert!(vi.contains(
            "Kiểm đếm thủ công: bỏ phiếu bằng phiếu giấy, Ban kiểm phiếu kiểm phiếu và lập biên bản; \
             số liệu của biên bản do Lê Thị Thu ghi nhận lúc"
        ));
        let record = &vi[vi.find("Biên bản kiểm phiếu").expect("the record")..];
        assert!(record.contains("Số phiếu phát ra3997,50%"), "{record}");
        // The same item in the open, counted on paper: the board's record too.
        session.items[8].rounds[0].settings.secrecy = Secrecy::Named;
        if let Some(b) = session.items[8].rounds[0].by_hand.as_mut() {
            b.ballots = Some(gavel_protocol::messages::Ballots {
                issued: 39,
                returned: 38,
                invalid: 1,
            });
        }
        let en = text(&item_html(&minutes_html(&session, Lang::En), 8, Lang::En));
        for line in [
            "Counted by hand: a vote on paper ballots, counted by the counting board",
            "Record of the count",
            "Ballot papers returned3895.00%",
            "Valid ballot papers3792.50%",
            "Invalid ballot papers12.50%",
            "Head of the counting boardĐỗ Văn Hải",
        ] {
            assert!(en.contains(line), "{line:?} in {en}");
        }
    }

    #[test]
    fn a_held_round_says_when_it_was_paused() {
        let mut session = phuc_loi();
        let round = &mut session.items[8].rounds[0];
        // 09:12:03 to 09:14:10 in Vietnam (UTC+7) on the round's day.
        let day = round.opened_at - round.opened_at % 86_400_000;
        let at = |h: u64, m: u64, s: u64| day + ((h - 7) * 3600 + m * 60 + s) * 1000;
        round.pauses = vec![super::super::Pause {
            from: at(9, 12, 3),
            to: at(9, 14, 10),
        }];
        let vi = text(&item_html(&minutes_html(&session, Lang::Vi), 8, Lang::Vi));
        assert!(vi.contains("Tạm dừng từ 09:12:03 đến 09:14:10."), "{vi}");
        let en = text(&item_html(&minutes_html(&session, Lang::En), 8, Lang::En));
        assert!(en.contains("Paused from 09:12:03 to 09:14:10."), "{en}");
        let untouched = text(&item_html(
            &minutes_html(&phuc_loi(), Lang::Vi),
            8,
            Lang::Vi,
        ));
        assert!(!untouched.contains("Tạm dừng"));
    }

    #[test]
    fn the_minutes_are_self_contained() {
        let html = minutes_html(&phuc_loi(), Lang::Vi);
        assert!(!html.contains("<script"));
        assert!(!html.contains("<link"));
        assert!(!html.contains("<img"));
        // Every url() is inline data or a pattern in the same SVG.
        for (at, _) in html.match_indices("url(") {
            let rest = &html[at + 4..];
            assert!(
                rest.starts_with("data:") || rest.starts_with('#'),
                "{}",
                &rest[..40]
            );
        }
        assert!(!html.contains("src=\""));
        assert!(!html.contains("href=\""));
    }

    #[test]
    fn every_voted_item_has_a_chart_and_signature_blocks_close_the_minutes() {
        let session = phuc_loi();
        let html = minutes_html(&session, Lang::Vi);
        let closed = session
            .items
            .iter()
            .flat_map(|i| &i.rounds)
            .filter(|r| r.result().is_some())
            .count();
        assert_eq!(html.matches("<svg").count(), closed);
        let tail = text(&html[html.find("class=\"signatures\"").unwrap()..]);
        assert!(tail.contains("THƯ KÝ KỲ HỌP(Ký, ghi rõ họ tên)Lê Thị Hương Giang"));
        assert!(tail.contains("CHỦ TỌA KỲ HỌP(Ký, ghi rõ họ tên)Nguyễn Đức Thắng"));
        // Topics keep their agenda numbers: the question session (III) has no vote.
        assert!(html.contains("<h2>II. Kinh tế – xã hội và ngân sách</h2>"));
        assert!(html.contains("<h2>IV. Công tác nhân sự và bế mạc kỳ họp</h2>"));
        assert!(!html.contains("Chất vấn và trả lời chất vấn"));
    }

    #[test]
    fn document_numbers_and_terms_stay_on_one_line() {
        assert_eq!(
            title("theo Tờ trình số 12/TTr-TTHĐND, nhiệm kỳ 2026–2031 – <b>"),
            "theo Tờ trình số <span class=\"nw\">12/TTr-TTHĐND,</span> nhiệm kỳ \
             <span class=\"nw\">2026–2031</span> – &lt;b&gt;"
        );
    }

    #[test]
    fn text_from_the_meeting_file_is_escaped() {
        let mut s = phuc_loi();
        let attack = "<script>alert('x')</script><img src=x onerror=alert(1)> & \"quoted\"";
        s.title = attack.into();
        s.body = attack.into();
        s.place = Some(attack.into());
        s.items[2].title = attack.into();
        s.items[2].topic = attack.into();
        s.labels.yes = attack.into();
        s.signatories.chair = Some(attack.into());
        let turn = &mut s.items[5].turns[0];
        turn.topic = Some(attack.into());
        turn.speaker = attack.into();
        turn.put_to = Some(attack.into());
        for lang in [Lang::Vi, Lang::En] {
            let html = minutes_html(&s, lang);
            assert!(!html.contains("<script"), "{lang:?}");
            assert!(!html.contains("<img"), "{lang:?}");
            assert!(!html.contains("alert('x')"), "{lang:?}");
            assert!(html.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;"
            ));
            // And the words still read as the meeting wrote them.
            assert!(text(&html).contains(attack));
        }
    }

    #[test]
    fn the_floor_lists_each_items_turns_with_whom_and_how_long() {
        let s = phuc_loi();
        let vi = text(&minutes_html(&s, Lang::Vi));
        let floor = &vi[vi
            .find("Phát biểu, chất vấn và trả lời chất vấn")
            .expect("the section")..];
        for expected in [
            "Lý Thị Mai (ghế 12)",
            "Chất vấn bổ sung",
            "Trả lời chất vấn",
            "Phạm Thị Lan, Trưởng phòng Kinh tế, Hạ tầng và Đô thị",
            "10:00:00",
            "2:52",
            "3:05",
        ] {
            assert!(
                floor.contains(expected),
                "{expected:?} missing from {floor}"
            );
        }
        let en = minutes_html(&s, Lang::En);
        assert!(en.contains("Speakers, questions and answers"));
        assert!(en.contains("<bdi>Chống úng ngập khu dân cư khi mưa lớn</bdi>"));
        // A session without turns prints no such section.
        let mut quiet = s.clone();
        for item in &mut quiet.items {
            item.turns.clear();
        }
        assert!(!minutes_html(&quiet, Lang::En).contains("Speakers, questions"));
    }
}
