//! Everything the command line prints, in Vietnamese or English.
//!
//! The words for the three choices come from the meeting
//! ([`MeetingView::labels`]), never from here, because councils word them
//! differently; this module holds only the command line's own words, once per
//! language, side by side so that neither falls behind. Percentages are of the
//! total seats, as councils report them. Times of day are printed in UTC
//! (marked as such): the standard library has no time zones, and a time that
//! says which zone it is in beats a guessed local one.

use super::feed::Change;
use gavel_client::client::ClientError;
use gavel_client::published::Check;
use gavel_client::state::MeetingState;
use gavel_protocol::board::{BoardView, Count};
use gavel_protocol::messages::{
    ByHand, ItemStatus, LiveTally, MeetingView, PaperReceipt, Receipt, RoundView, Snapshot,
};
use gavel_protocol::paper::{PaperKind, Vote};
use gavel_protocol::published::ListRefusal;
use gavel_protocol::results::{PaperResult, RoundResult};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::wording;
use gavel_protocol::{
    Choice, Counts, Principal, RefusalReason, RoundId, Rule, SeatNo, TallyResult, Tracker,
};
use std::path::Path;
use std::time::Duration;

/// The language of the command line's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Tiếng Việt.
    Vi,
    /// English.
    En,
}

impl Lang {
    fn decimal_separator(self) -> char {
        wording::Lang::from(self).decimal_separator()
    }

    fn percent(self, part: u32, total: u32) -> String {
        wording::Lang::from(self).percent(part, total)
    }
}

impl From<Lang> for wording::Lang {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Vi => wording::Lang::Vi,
            Lang::En => wording::Lang::En,
        }
    }
}

/// The words about one meeting: its labels and agenda, in one language.
pub struct Text<'a> {
    meeting: &'a MeetingView,
    lang: Lang,
}

impl<'a> Text<'a> {
    pub fn new(meeting: &'a MeetingView, lang: Lang) -> Self {
        Text { meeting, lang }
    }

    /// Several lines: the meeting, whether its session is closed,
    /// attendance, the item on the floor, its vote, and for a delegate
    /// their own check-in and ballot.
    pub fn status(&self, state: &MeetingState, principal: Option<Principal>, now: u64) -> String {
        let mut lines = vec![format!("{} ({})", self.meeting.title, self.meeting.id)];
        if let Some(snapshot) = &state.snapshot {
            lines.extend(snapshot.closed_at.map(|at| self.session_closed(at)));
            lines.push(self.attendance(snapshot));
            lines.push(self.item(snapshot));
            lines.extend(self.round(snapshot, now));
        }
        if let Some(Principal::Seat(seat)) = principal {
            lines.push(self.you(seat, state));
        }
        lines.join("\n")
    }

    /// The agenda grouped by topic, the current item marked, with each
    /// item's status and deciding result.
    pub fn agenda(&self, snapshot: &Snapshot) -> String {
        let mut lines = vec![match self.lang {
            Lang::Vi => format!("Chương trình: {}", self.meeting.title),
            Lang::En => format!("Agenda: {}", self.meeting.title),
        }];
        let mut topic = None;
        for item in &self.meeting.agenda {
            if topic != Some(&item.topic) {
                lines.push(item.topic.clone());
                topic = Some(&item.topic);
            }
            let marker = if snapshot.current_item == Some(item.index) {
                "▶"
            } else {
                " "
            };
            let state = snapshot.items.iter().find(|s| s.index == item.index);
            let status = state.map_or(ItemStatus::Pending, |s| s.status);
            lines.push(format!(
                "{marker} {:>2}. {} — {}",
                item.index + 1,
                item.title,
                self.item_status(item.index, status)
            ));
            if let Some(result) = state.and_then(|s| s.result.as_ref()) {
                lines.push(format!("      {}", self.result(item.index, result)));
            }
            if let Some(by_hand) = state.and_then(|s| s.by_hand.as_ref()) {
                lines.push(format!("      {}", self.by_hand(by_hand)));
            }
        }
        lines.join("\n")
    }

    /// One line for one change a follower sees.
    pub fn change(&self, change: &Change, now: u64) -> String {
        match change {
            Change::Item(snapshot) => self.item(snapshot),
            Change::Attendance(snapshot) => self.attendance(snapshot),
            Change::Opened(round) => self.opened(round, now),
            Change::Extended(round) => match self.lang {
                Lang::Vi => format!(
                    "Gia hạn biểu quyết: hạn chót mới {} ({})",
                    clock(round.deadline),
                    self.time_left(round, now)
                ),
                Lang::En => format!(
                    "Vote extended: now closes at {} ({})",
                    clock(round.deadline),
                    self.time_left(round, now)
                ),
            },
            Change::Tally(round) => self.live(round, now),
            Change::Closed(round) => self.closed(round),
            Change::Voided(round) => self.voided(round),
            Change::SessionClosed(at) => self.session_closed(*at),
        }
    }

    /// The official-style result line: who took part and each choice, as
    /// percentages of all seats, then the verdict and the rule behind it.
    /// A closed round's result on item `item`: its tally, or what its
    /// papers on the item's list came to.
    fn result(&self, item: u32, result: &RoundResult) -> String {
        let paper = match result {
            RoundResult::Tally(tally) => return self.tally(tally),
            RoundResult::Paper(paper) => paper,
        };
        let names = |entries: &[u16]| {
            let list = self
                .meeting
                .agenda
                .get(item as usize)
                .and_then(|i| i.paper.as_ref());
            entries
                .iter()
                .map(|&e| {
                    list.and_then(|l| l.entries.get(usize::from(e)))
                        .map_or_else(|| format!("#{}", e + 1), |x| x.name.clone())
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let t = paper.turnout();
        let share = self.lang.percent(t.papers, t.total_seats);
        let vi = self.lang == Lang::Vi;
        let outcome = match paper {
            PaperResult::Election(r) => match (&r.tie, r.elected.is_empty()) {
                (Some(tie), _) if vi => format!("bằng phiếu, bầu lại: {}", names(&tie.candidates)),
                (Some(tie), _) => format!("tied, to vote again: {}", names(&tie.candidates)),
                (None, true) if vi => "không có người trúng cử".to_owned(),
                (None, true) => "nobody elected".to_owned(),
                (None, false) if vi => format!("trúng cử: {}", names(&r.elected)),
                (None, false) => format!("elected: {}", names(&r.elected)),
            },
            PaperResult::Rating(r) => {
                let low = r.ratings.iter().filter(|o| o.low_over_half).count();
                if vi {
                    format!("{low} người có quá nửa tổng số đại biểu tín nhiệm thấp")
                } else {
                    format!("{low} with low confidence from more than half of all delegates")
                }
            }
            PaperResult::NoConfidence(r) => {
                let flagged = r.votes.iter().filter(|o| o.flagged).count();
                if vi {
                    format!("{flagged} người có số phiếu không tín nhiệm đạt tỷ lệ")
                } else {
                    format!("{flagged} whose no-confidence votes reach the rule")
                }
            }
        };
        let total = t.total_seats;
        let papers = t.papers;
        if vi {
            format!("Kết quả: {papers}/{total} phiếu thu vào ({share} tổng số đại biểu); {outcome}")
        } else {
            format!(
                "Result: {papers} of {total} ballot papers returned ({share} of all seats); {outcome}"
            )
        }
    }

    fn tally(&self, result: &TallyResult) -> String {
        let c = &result.counts;
        let (taking_part, total) = (c.taking_part(), c.total_seats);
        let share = self.lang.percent(taking_part, total);
        let choices = self.choices(c);
        let rule = self.rule(&result.rule);
        let needed = result.yes_needed;
        let verdict = wording::verdict(result.passed, self.lang.into());
        match self.lang {
            Lang::Vi => {
                format!(
                    "Kết quả: {taking_part}/{total} đại biểu tham gia biểu quyết ({share} tổng số đại biểu); \
                     {choices} — {verdict} ({rule}: cần {needed})"
                )
            }
            Lang::En => {
                format!(
                    "Result: {taking_part} of {total} delegates took part ({share} of all seats); \
                     {choices} — {verdict} ({rule}: {needed} needed)"
                )
            }
        }
    }

    /// What a delegate sees after voting: the choice in the meeting's words
    /// and when the server recorded it.
    pub fn receipt(&self, receipt: &Receipt) -> String {
        let choice = self.meeting.labels.of(receipt.choice);
        let at = clock(receipt.recorded_at);
        match self.lang {
            Lang::Vi => format!("Đã ghi nhận: {choice}, {at}"),
            Lang::En => format!("Recorded: {choice}, {at}"),
        }
    }

    /// The receipt for a whole paper: how many marks it recorded, and when.
    pub fn paper_receipt(&self, receipt: &PaperReceipt) -> String {
        let at = clock(receipt.recorded_at);
        let n = receipt.marks.len();
        match self.lang {
            Lang::Vi => format!("Đã ghi nhận phiếu: {n} dấu chọn, {at}"),
            Lang::En => format!("Recorded the paper: {n} marks, {at}"),
        }
    }

    /// What the published list says of this device's ballot: counted as
    /// cast (or, without `cast`, what was counted), counted otherwise, or
    /// missing; the last two for the delegate to show the counting board.
    pub fn ballot_check(&self, check: &Check, cast: Option<&Vote>) -> String {
        let vote = |v: &Vote| match v {
            Vote::Choice(c) => self.meeting.labels.of(*c).to_owned(),
            Vote::Paper(p) => match self.lang {
                Lang::Vi => format!("phiếu có {} dấu chọn", p.marks.len()),
                Lang::En => format!("a paper, {} marked", p.marks.len()),
            },
        };
        match (check, cast, self.lang) {
            (Check::Counted, Some(v), Lang::Vi) => format!("Phiếu của bạn đã được tính: {}", vote(v)),
            (Check::Counted, Some(v), Lang::En) => format!("Your ballot was counted: {}", vote(v)),
            (Check::CountedOtherwise(v), None, Lang::Vi) => {
                format!("Phiếu của bạn đã được tính: {}", vote(v))
            }
            (Check::CountedOtherwise(v), None, Lang::En) => {
                format!("Your ballot was counted: {}", vote(v))
            }
            (Check::CountedOtherwise(counted), Some(cast), Lang::Vi) => format!(
                "Cảnh báo: phiếu của bạn được tính là «{}», không phải «{}» như bạn đã chọn. Xin trình cho Ban kiểm phiếu.",
                vote(counted),
                vote(cast)
            ),
            (Check::CountedOtherwise(counted), Some(cast), Lang::En) => format!(
                "Warning: your ballot was counted as \"{}\", not \"{}\" as you chose. Please show this to the counting board.",
                vote(counted),
                vote(cast)
            ),
            (Check::Missing | Check::Counted, _, Lang::Vi) => "Cảnh báo: danh sách phiếu đã công bố không có mã kiểm tra của bạn. Xin trình cho Ban kiểm phiếu.".to_owned(),
            (Check::Missing | Check::Counted, _, Lang::En) => "Warning: your ballot tracker is not in the published list. Please show this to the counting board.".to_owned(),
        }
    }

    /// The provisional count a board member is asked to confirm, in the
    /// numbers the device signs: all delegates, those present, the ballots
    /// returned, then each row, a choice in the meeting's words or a
    /// candidate or official of the item's list (`item`, when known) with
    /// its marks; every percentage of all delegates.
    pub fn count(&self, item: Option<u32>, count: &Count) -> String {
        let vi = self.lang == Lang::Vi;
        let total = count.total_seats;
        let pct = |n: u32| self.lang.percent(n, total);
        let n = |value: u32| format!("{value} ({})", pct(value));
        let view = item.and_then(|i| self.meeting.agenda.get(i as usize));
        let mut lines = vec![match (view, vi) {
            (Some(v), true) => format!(
                "Kết quả kiểm phiếu chờ Ban kiểm phiếu xác nhận — nội dung {}: {}",
                v.index + 1,
                v.title
            ),
            (Some(v), false) => format!(
                "The count awaiting the counting board — item {}: {}",
                v.index + 1,
                v.title
            ),
            (None, true) => "Kết quả kiểm phiếu chờ Ban kiểm phiếu xác nhận".to_owned(),
            (None, false) => "The count awaiting the counting board".to_owned(),
        }];
        lines.push(if vi {
            format!(
                "Tổng số đại biểu: {total}; có mặt: {}; số phiếu thu vào: {}",
                n(count.present),
                n(count.ballots)
            )
        } else {
            format!(
                "All delegates: {total}; present: {}; ballots returned: {}",
                n(count.present),
                n(count.ballots)
            )
        });
        let list = view.and_then(|v| v.paper.as_ref());
        let Some(list) = list else {
            let labels = &self.meeting.labels;
            let row = count.rows.first().map(Vec::as_slice).unwrap_or_default();
            for (label, value) in [&labels.yes, &labels.no, &labels.abstain]
                .into_iter()
                .zip(row)
            {
                lines.push(format!("  {label}: {}", n(*value)));
            }
            return lines.join("\n");
        };
        let levels: &[&str] = match (list.kind, vi) {
            (PaperKind::Election, true) => &["phiếu bầu"],
            (PaperKind::Election, false) => &["votes"],
            (PaperKind::Rating, true) => &["tín nhiệm cao", "tín nhiệm", "tín nhiệm thấp"],
            (PaperKind::Rating, false) => &["high confidence", "confidence", "low confidence"],
            (PaperKind::NoConfidence, true) => &["tín nhiệm", "không tín nhiệm"],
            (PaperKind::NoConfidence, false) => &["confidence", "no confidence"],
        };
        for (i, row) in count.rows.iter().enumerate() {
            let who = list.entries.get(i).map_or_else(
                || format!("#{}", i + 1),
                |e| match e.post.as_str() {
                    "" => e.name.clone(),
                    post => format!("{} ({post})", e.name),
                },
            );
            let marks: Vec<String> = levels
                .iter()
                .zip(row)
                .map(|(level, value)| format!("{level} {}", n(*value)))
                .collect();
            lines.push(format!("  {}. {who}: {}", i + 1, marks.join(", ")));
        }
        lines.join("\n")
    }

    pub fn enrolled(&self, principal: Principal) -> String {
        let who = self.principal(principal);
        let (id, title) = (&self.meeting.id, &self.meeting.title);
        match self.lang {
            Lang::Vi => format!("Đã đăng ký thiết bị: {who}, kỳ họp {id} ({title})"),
            Lang::En => format!("Enrolled as {who} in {id} ({title})"),
        }
    }

    pub fn checked_in(&self, principal: Option<Principal>) -> String {
        let who = principal.map(|p| self.principal(p)).unwrap_or_default();
        match self.lang {
            Lang::Vi => format!("Đã điểm danh: {who}"),
            Lang::En => format!("Checked in: {who}"),
        }
    }

    /// The keys of the interactive tablet, with the meeting's words for the choices.
    pub fn keys(&self) -> String {
        let l = &self.meeting.labels;
        match self.lang {
            Lang::Vi => format!(
                "Phím: y = {}, n = {}, a = {}, c = điểm danh, s = trạng thái, q = thoát, ? = trợ giúp",
                l.yes, l.no, l.abstain
            ),
            Lang::En => format!(
                "Keys: y = {}, n = {}, a = {}, c = check in, s = status, q = quit, ? = help",
                l.yes, l.no, l.abstain
            ),
        }
    }

    /// "seat 12 (Nguyễn Văn An)" or "the chair".
    fn principal(&self, principal: Principal) -> String {
        match principal {
            Principal::Seat(seat) => self.seat(seat),
            Principal::Chair => match self.lang {
                Lang::Vi => "chủ tọa".into(),
                Lang::En => "the chair".into(),
            },
        }
    }

    fn seat(&self, seat: SeatNo) -> String {
        let word = match self.lang {
            Lang::Vi => "ghế",
            Lang::En => "seat",
        };
        match self.meeting.seats.iter().find(|s| s.number == seat) {
            Some(s) => format!("{word} {seat} ({})", s.name),
            None => format!("{word} {seat}"),
        }
    }

    fn attendance(&self, snapshot: &Snapshot) -> String {
        let (present, total) = (snapshot.present, self.meeting.total_seats);
        match self.lang {
            Lang::Vi => format!("Có mặt: {present}/{total} đại biểu"),
            Lang::En => format!("Present: {present} of {total} delegates"),
        }
    }

    /// The item on the floor, with its topic and status.
    fn item(&self, snapshot: &Snapshot) -> String {
        let Some(view) = snapshot
            .current_item
            .and_then(|i| self.meeting.agenda.get(i as usize))
        else {
            return match self.lang {
                Lang::Vi => "Chưa chọn nội dung nào".into(),
                Lang::En => "No item on the floor yet".into(),
            };
        };
        let status = snapshot
            .items
            .iter()
            .find(|s| s.index == view.index)
            .map_or(ItemStatus::Pending, |s| s.status);
        let (n, of) = (view.index + 1, self.meeting.agenda.len());
        let (topic, title, status) = (
            &view.topic,
            &view.title,
            self.item_status(view.index, status),
        );
        match self.lang {
            Lang::Vi => format!("Nội dung {n}/{of} ({topic}): {title} — {status}"),
            Lang::En => format!("Item {n} of {of} ({topic}): {title} — {status}"),
        }
    }

    fn item_status(&self, index: u32, status: ItemStatus) -> &'static str {
        let voted_on = self
            .meeting
            .agenda
            .get(index as usize)
            .is_some_and(|i| i.vote.is_some());
        match (self.lang, status) {
            (Lang::Vi, ItemStatus::Pending) if !voted_on => "không cần biểu quyết",
            (Lang::Vi, ItemStatus::Pending) => "chưa biểu quyết",
            (Lang::Vi, ItemStatus::Voting) => "đang biểu quyết",
            (Lang::Vi, ItemStatus::Passed) => "đã thông qua",
            (Lang::Vi, ItemStatus::NotPassed) => "không thông qua",
            (Lang::Vi, ItemStatus::Counted) => "đã kiểm phiếu",
            (Lang::Vi, ItemStatus::Voided) => "đã hủy biểu quyết",
            (Lang::Vi, ItemStatus::Provisional) => "ban kiểm phiếu đang xác nhận",
            (Lang::En, ItemStatus::Pending) if !voted_on => "no vote",
            (Lang::En, ItemStatus::Pending) => "not voted yet",
            (Lang::En, ItemStatus::Voting) => "voting",
            (Lang::En, ItemStatus::Passed) => "passed",
            (Lang::En, ItemStatus::NotPassed) => "not passed",
            (Lang::En, ItemStatus::Counted) => "counted",
            (Lang::En, ItemStatus::Voided) => "vote voided",
            (Lang::En, ItemStatus::Provisional) => "awaiting the counting board",
        }
    }

    /// The status block's vote line: the open round, or the last round's
    /// outcome while its item is still on the floor.
    fn round(&self, snapshot: &Snapshot, now: u64) -> Option<String> {
        use gavel_protocol::messages::RoundStatus;
        let round = snapshot.round.as_ref()?;
        match round.status {
            RoundStatus::Open => Some(self.live(round, now)),
            _ if snapshot.current_item != Some(round.item) => None,
            RoundStatus::Closed => Some(self.closed(round)),
            RoundStatus::Voided => Some(self.voided(round)),
        }
    }

    fn item_title(&self, index: u32) -> &str {
        self.meeting
            .agenda
            .get(index as usize)
            .map_or("", |i| i.title.as_str())
    }

    fn opened(&self, round: &RoundView, now: u64) -> String {
        let (n, title) = (round.item + 1, self.item_title(round.item));
        let rule = self.rule(&round.settings.rule);
        let (deadline, left) = (clock(round.deadline), self.time_left(round, now));
        match self.lang {
            Lang::Vi => {
                let kind = match round.settings.secrecy {
                    Secrecy::Named => "biểu quyết công khai",
                    Secrecy::Secret => "bỏ phiếu kín",
                };
                format!(
                    "Bắt đầu biểu quyết nội dung {n}: {title} — {kind}, thông qua khi {rule}; \
                     hạn chót {deadline} ({left})"
                )
            }
            Lang::En => {
                let kind = match round.settings.secrecy {
                    Secrecy::Named => "named vote",
                    Secrecy::Secret => "secret ballot",
                };
                format!(
                    "Vote opened on item {n}: {title} — {kind}, passes with {rule}; \
                     closes at {deadline} ({left})"
                )
            }
        }
    }

    /// The running tally, as much of it as this audience may see.
    fn live(&self, round: &RoundView, now: u64) -> String {
        let left = self.time_left(round, now);
        let total = self.meeting.total_seats;
        let Some(LiveTally {
            taking_part,
            counts,
            ..
        }) = &round.live
        else {
            return match self.lang {
                Lang::Vi => format!("Đang biểu quyết — {left}"),
                Lang::En => format!("Voting — {left}"),
            };
        };
        let share = self.lang.percent(*taking_part, total);
        let choices = counts
            .map(|c| format!("; {}", self.choices(&c)))
            .unwrap_or_default();
        match self.lang {
            Lang::Vi => format!(
                "Đang biểu quyết: {taking_part}/{total} đại biểu đã biểu quyết ({share} tổng số đại biểu){choices} — {left}"
            ),
            Lang::En => format!(
                "Voting: {taking_part} of {total} delegates have voted ({share} of all seats){choices} — {left}"
            ),
        }
    }

    /// Who recorded a result by hand, and when, and whether the counting
    /// board counted paper ballots for it (PROTOCOL.md §9.8), as the web
    /// apps say it.
    /// The session's close (PROTOCOL.md §9.9): nothing more is decided.
    fn session_closed(&self, at: u64) -> String {
        match self.lang {
            Lang::Vi => format!("Kỳ họp đã bế mạc lúc {}", clock(at)),
            Lang::En => format!("The session closed at {}", clock(at)),
        }
    }

    fn by_hand(&self, by_hand: &ByHand) -> String {
        let (by, at) = (&by_hand.by, clock(by_hand.at));
        match (self.lang, by_hand.ballots.is_some()) {
            (Lang::Vi, false) => format!("Kiểm đếm thủ công — {by} ghi nhận lúc {at}"),
            (Lang::En, false) => format!("Recorded by hand — entered by {by} at {at}"),
            (Lang::Vi, true) => format!(
                "Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm; {by} ghi nhận lúc {at}"
            ),
            (Lang::En, true) => format!(
                "Counted by hand — paper ballots counted by the counting board; entered by {by} at {at}"
            ),
        }
    }

    fn closed(&self, round: &RoundView) -> String {
        match (&round.result, self.lang) {
            (Some(result), _) => match &round.by_hand {
                Some(by_hand) => format!(
                    "{} — {}",
                    self.result(round.item, result),
                    self.by_hand(by_hand)
                ),
                None => self.result(round.item, result),
            },
            (None, Lang::Vi) => format!("Kết thúc biểu quyết nội dung {}", round.item + 1),
            (None, Lang::En) => format!("The vote on item {} closed", round.item + 1),
        }
    }

    fn voided(&self, round: &RoundView) -> String {
        let n = round.item + 1;
        match self.lang {
            Lang::Vi => {
                format!("Đã hủy lần biểu quyết nội dung {n}; nội dung có thể được biểu quyết lại")
            }
            Lang::En => format!("The vote on item {n} was voided; it may be held again"),
        }
    }

    /// "Tán thành 35 (87,50%), Không tán thành 2 (5,00%), ..." in the meeting's words.
    fn choices(&self, counts: &Counts) -> String {
        Choice::ALL
            .iter()
            .map(|&choice| {
                let n = counts.of(choice);
                let share = self.lang.percent(n, counts.total_seats);
                format!("{} {n} ({share})", self.meeting.labels.of(choice))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The pass rule in words: "trên 1/2 tổng số đại biểu", "more than 1/2 of all seats".
    fn rule(&self, rule: &Rule) -> String {
        wording::describe_rule(rule, &self.meeting.labels, self.lang.into())
    }

    /// The time left, frozen while the chair holds the round.
    fn time_left(&self, round: &RoundView, now: u64) -> String {
        if let Some(paused_at) = round.paused_at {
            let left = countdown(round.deadline.saturating_sub(paused_at));
            return match self.lang {
                Lang::Vi => format!("tạm dừng, còn {left}"),
                Lang::En => format!("paused, {left} left"),
            };
        }
        match (
            round.deadline.checked_sub(now).filter(|&ms| ms > 0),
            self.lang,
        ) {
            (Some(ms), Lang::Vi) => format!("còn {}", countdown(ms)),
            (Some(ms), Lang::En) => format!("{} left", countdown(ms)),
            (None, Lang::Vi) => "hết giờ".into(),
            (None, Lang::En) => "time is up".into(),
        }
    }

    fn you(&self, seat: SeatNo, state: &MeetingState) -> String {
        let who = self.seat(seat);
        let open = state.open_round().is_some();
        let ballot = state
            .my_ballot
            .as_ref()
            .map(|r| (self.meeting.labels.of(r.choice), clock(r.recorded_at)));
        match self.lang {
            Lang::Vi => {
                let present = if state.checked_in {
                    "đã điểm danh"
                } else {
                    "chưa điểm danh"
                };
                let vote = match ballot {
                    Some((choice, at)) => format!("; đã biểu quyết: {choice} ({at})"),
                    None if open => "; chưa biểu quyết".into(),
                    None => String::new(),
                };
                format!("Bạn: {who} — {present}{vote}")
            }
            Lang::En => {
                let present = if state.checked_in {
                    "checked in"
                } else {
                    "not checked in"
                };
                let vote = match ballot {
                    Some((choice, at)) => format!("; your ballot: {choice} ({at})"),
                    None if open => "; not voted yet".into(),
                    None => String::new(),
                };
                format!("You: {who} — {present}{vote}")
            }
        }
    }
}

/// A client error in the user's language. Refusals are translated from their
/// reason; the server's own message follows when it adds something.
pub fn client_error(error: &ClientError, lang: Lang) -> String {
    match (error, lang) {
        (ClientError::Refused { reason, message }, _) => refusal(*reason, message, lang),
        (ClientError::NoOpenRound, _) => refusal(RefusalReason::NoOpenRound, "", lang),
        (ClientError::NotADelegate, _) => refusal(RefusalReason::NotADelegate, "", lang),
        (ClientError::Connection(e), Lang::Vi) => format!("lỗi kết nối: {e}"),
        (ClientError::Closed, Lang::Vi) => "máy chủ đã đóng kết nối".into(),
        (ClientError::Tls(e), Lang::Vi) => format!("lỗi thiết lập TLS: {e}"),
        (ClientError::View(e), Lang::Vi) => format!("không tải được thông tin kỳ họp: {e}"),
        (ClientError::Protocol(frame), Lang::Vi) => {
            format!("máy chủ gửi khung tin không hiểu được: {frame}")
        }
        (ClientError::BadReceipt, Lang::Vi) => {
            "biên nhận của máy chủ không khớp với khóa của máy chủ".into()
        }
        (other, Lang::En) => other.to_string(),
    }
}

fn refusal(reason: RefusalReason, message: &str, lang: Lang) -> String {
    let (prefix, words) = match lang {
        Lang::Vi => ("Bị từ chối", refusal_vi(reason).to_owned()),
        Lang::En => ("Refused", reason.to_string()),
    };
    if message.is_empty() || message == reason.to_string() {
        format!("{prefix}: {words}")
    } else {
        format!("{prefix}: {words} ({message})")
    }
}

fn refusal_vi(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::MalformedFrame => "khung tin không hợp lệ",
        RefusalReason::UnsupportedVersion => "máy chủ không hỗ trợ phiên bản giao thức này",
        RefusalReason::NotAuthenticated => "cần đăng nhập trước",
        RefusalReason::AlreadyAuthenticated => "kết nối này đã đăng nhập",
        RefusalReason::UnknownMeeting => "không có kỳ họp này",
        RefusalReason::UnknownKey => "khóa của thiết bị chưa được đăng ký trong kỳ họp",
        RefusalReason::KeyRevoked => {
            "khóa của thiết bị đã bị thu hồi; hãy đăng ký lại thiết bị bằng mã mới"
        }
        RefusalReason::BadSignature => "chữ ký không hợp lệ",
        RefusalReason::UnknownCode => "mã đăng ký không tồn tại",
        RefusalReason::CodeExpired => "mã đăng ký đã hết hạn",
        RefusalReason::CodeUsed => "mã đăng ký đã được sử dụng",
        RefusalReason::RateLimited => "thử quá nhiều lần; hãy chờ rồi thử lại",
        RefusalReason::NotADelegate => "chỉ thiết bị của đại biểu mới làm được việc này",
        RefusalReason::NotChair => "chỉ thiết bị của chủ tọa mới làm được việc này",
        RefusalReason::NotCheckedIn => "cần điểm danh trước khi biểu quyết",
        RefusalReason::NoOpenRound => "không có biểu quyết nào đang mở",
        RefusalReason::WrongRound => "phiếu thuộc lần biểu quyết không còn mở",
        RefusalReason::DocumentsChanged => {
            "phiếu được ký trên phiên bản tài liệu khác với tài liệu của lượt biểu quyết"
        }
        RefusalReason::Late => "đã hết thời gian biểu quyết",
        RefusalReason::RoundPaused => "chủ tọa đã tạm dừng biểu quyết; hãy chờ",
        RefusalReason::WrongBallotKind => "phiếu không đúng loại của nội dung này",
        RefusalReason::OverCap => "số người được chọn nhiều hơn số chức danh cần bầu",
        RefusalReason::UnknownCandidate => "không có người này trong danh sách ứng cử",
        RefusalReason::UnknownOfficial => "không có người này trong danh sách lấy phiếu",
        RefusalReason::UnknownLevel => "mức đánh giá không tồn tại",
        RefusalReason::DuplicateEntry => "một người được đánh dấu hai lần",
        RefusalReason::MarksOutOfOrder => "các dấu chọn không theo thứ tự danh sách",
        RefusalReason::ChangeNotAllowed => "biểu quyết này không cho phép thay đổi phiếu",
        RefusalReason::ChangeLostInRestart => {
            "phiếu kín đã ghi nhận trước khi máy chủ khởi động lại; vẫn được tính nhưng không thể thay đổi"
        }
        RefusalReason::StaleSequence => "đã có phiếu mới hơn của ghế này",
        RefusalReason::InvalidCommand => "lệnh không phù hợp với trạng thái kỳ họp",
        RefusalReason::StoreUnavailable => "không lưu được phiếu; phiếu chưa được ghi nhận",
        RefusalReason::ShuttingDown => "máy chủ đang tắt",
        RefusalReason::NotUnderDiscussion => "nội dung này không đang được thảo luận",
        RefusalReason::AlreadyRequested => "ghế này đã đăng ký phát biểu và đang chờ",
        RefusalReason::NoSuchRequest => "không có đăng ký phát biểu nào đang chờ",
        RefusalReason::UnknownRespondent => "người này không có trong danh sách trả lời chất vấn",
        RefusalReason::WrongFloorKind => "không đăng ký được hình thức này ở nội dung này",
        RefusalReason::TopicTooLong => "nội dung tóm tắt quá dài",
        RefusalReason::TopicNotText => {
            "nội dung tóm tắt chỉ là một dòng chữ, không có ký tự điều khiển"
        }
        RefusalReason::UnknownDocument => "kỳ họp không có tài liệu này",
        RefusalReason::NoSuchPage => "tài liệu không có trang này",
        RefusalReason::NotOnBoard => "chỉ thành viên Ban kiểm phiếu mới xác nhận được kết quả",
        RefusalReason::NotProvisional => "không có kết quả kiểm phiếu nào đang chờ xác nhận",
        RefusalReason::CountMismatch => "số liệu khác với kết quả kiểm phiếu khi kết thúc",
        RefusalReason::AlreadyConfirmed => "thành viên này đã xác nhận kết quả",
        RefusalReason::TooFewConfirmations => "chưa đủ thành viên Ban kiểm phiếu xác nhận",
        RefusalReason::NoList => "nội dung này không biểu quyết theo danh sách",
        RefusalReason::ItemVoted => "nội dung này đã được biểu quyết, không sửa được nữa",
        RefusalReason::ListLength => "danh sách có từ 1 đến 200 người",
        RefusalReason::NameMissing => "mỗi người trong danh sách cần có họ tên",
        RefusalReason::NameTwice => "một họ tên có hai lần trong danh sách",
        RefusalReason::PostsOutOfRange => {
            "số người được bầu từ 1 đến số ứng cử viên; danh sách khác không có số người được bầu"
        }
        RefusalReason::SessionClosed => "kỳ họp đã bế mạc",
        RefusalReason::SessionBusy => {
            "chưa bế mạc được khi còn biểu quyết, kết quả chờ công bố hoặc người đang phát biểu"
        }
    }
}

/// A secret ballot's tracker, in groups of four, and how to check it once
/// the result is out.
pub fn tracker(tracker: &Tracker, round: RoundId, lang: Lang) -> String {
    let hex = tracker.to_hex();
    let groups: Vec<&str> = (0..hex.len()).step_by(4).map(|i| &hex[i..i + 4]).collect();
    let groups = groups.join(" ");
    match lang {
        Lang::Vi => format!(
            "Mã kiểm tra phiếu: {groups}\nSau khi công bố kết quả, kiểm tra: gavel-tablet check-ballot --round {round} --tracker {hex}"
        ),
        Lang::En => format!(
            "Ballot tracker: {groups}\nOnce the result is out, check it: gavel-tablet check-ballot --round {round} --tracker {hex}"
        ),
    }
}

/// Why the server does not serve the round's published list.
pub fn list_refused(reason: ListRefusal, lang: Lang) -> &'static str {
    match (reason, lang) {
        (ListRefusal::UnknownRound, Lang::Vi) => "kỳ họp không có lượt biểu quyết này",
        (ListRefusal::UnknownRound, Lang::En) => "the meeting has no such round",
        (ListRefusal::NotSecret, Lang::Vi) => "lượt biểu quyết này không bỏ phiếu kín",
        (ListRefusal::NotSecret, Lang::En) => "this round is not secret",
        (ListRefusal::NotClosed, Lang::Vi) => "lượt biểu quyết chưa kết thúc",
        (ListRefusal::NotClosed, Lang::En) => "the round is still open",
        (ListRefusal::Voided, Lang::Vi) => "lượt biểu quyết đã bị hủy, không phiếu nào được tính",
        (ListRefusal::Voided, Lang::En) => "the round was voided; no ballot was counted",
        (ListRefusal::NotAnnounced, Lang::Vi) => {
            "kết quả đang chờ Ban kiểm phiếu xác nhận và chủ tọa công bố"
        }
        (ListRefusal::NotAnnounced, Lang::En) => {
            "the result awaits the counting board and the chair's announcement"
        }
    }
}

/// Why a seat has no count to confirm: it is not on the board of the last
/// secret round (`members`, when the round has a board), or no count
/// awaits the board.
pub fn nothing_to_confirm(seat: SeatNo, members: Option<&[SeatNo]>, lang: Lang) -> String {
    let list = |m: &[SeatNo]| {
        m.iter()
            .map(SeatNo::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (members, lang) {
        (Some(m), Lang::Vi) if !m.contains(&seat) => format!(
            "ghế {seat} không thuộc Ban kiểm phiếu (các ghế {}); chỉ thành viên Ban kiểm phiếu mới xác nhận được kết quả",
            list(m)
        ),
        (Some(m), Lang::En) if !m.contains(&seat) => format!(
            "seat {seat} is not on the counting board (seats {}); only its members confirm a count",
            list(m)
        ),
        (_, Lang::Vi) => "không có kết quả kiểm phiếu nào đang chờ xác nhận".to_owned(),
        (_, Lang::En) => "no count awaits the counting board's confirmation".to_owned(),
    }
}

/// Asked before a board member's device signs the count it printed.
pub fn confirm_prompt(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Số liệu trên có đúng với kết quả kiểm phiếu của Ban không? Xác nhận [c/K]:",
        Lang::En => "Does this match the board's own count? Confirm [y/N]:",
    }
}

pub fn not_confirmed(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "chưa xác nhận: thiết bị không ký số liệu này",
        Lang::En => "not confirmed: the device signed nothing",
    }
}

/// Said once the server stored this seat's confirmation: how many of the
/// board have confirmed, and how many must before the chair announces.
pub fn count_confirmed(seat: SeatNo, board: &BoardView, lang: Lang) -> String {
    let (have, need) = (board.confirmed.len(), board.required);
    match lang {
        Lang::Vi => format!(
            "Đã xác nhận kết quả kiểm phiếu (ghế {seat}, thiết bị đã ký). \
             {have}/{need} thành viên cần thiết đã xác nhận."
        ),
        Lang::En => format!(
            "Count confirmed (seat {seat}, signed by this device). \
             {have} of the {need} confirmations required are in."
        ),
    }
}

pub fn nothing_under_discussion(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "chưa có nội dung nào đang được thảo luận",
        Lang::En => "no item is under discussion",
    }
}

pub fn withdrawn(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Đã rút đăng ký phát biểu",
        Lang::En => "Request withdrawn",
    }
}

/// A delegate's place in the queue, of `waiting` requests.
pub fn floor_place(place: u32, waiting: u32, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("Đã đăng ký phát biểu: thứ tự {place} trong {waiting} người chờ"),
        Lang::En => format!("Request registered: place {place} of {waiting} waiting"),
    }
}

pub fn no_list(lang: Lang) -> String {
    match lang {
        Lang::Vi => "không có phiếu theo danh sách nào đang mở".to_owned(),
        Lang::En => "no vote on a list is open".to_owned(),
    }
}

pub fn bad_mark(mark: &str, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("dấu chọn không hợp lệ: {mark:?} (dạng SỐ=MỨC, ví dụ 3=thap)"),
        Lang::En => format!("not a mark: {mark:?} (write ENTRY=MARK, e.g. 3=low)"),
    }
}

pub fn cannot_connect(url: &str, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("không kết nối được tới {url}"),
        Lang::En => format!("cannot connect to {url}"),
    }
}

/// Said when a connection drops; `attempt` counts the tries to reconnect so far.
pub fn connection_lost(reason: &str, attempt: u32, retry_in: Duration, lang: Lang) -> String {
    let secs = format!("{:.1}", retry_in.as_secs_f64())
        .replace('.', &lang.decimal_separator().to_string());
    match (lang, attempt) {
        (Lang::Vi, 0) => format!("Mất kết nối ({reason}); thử lại sau {secs} giây"),
        (Lang::Vi, _) => format!("Chưa kết nối lại được ({reason}); thử lại sau {secs} giây"),
        (Lang::En, 0) => format!("Connection lost ({reason}); retrying in {secs} s"),
        (Lang::En, _) => format!("Still not connected ({reason}); retrying in {secs} s"),
    }
}

pub fn reconnected(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Đã kết nối lại",
        Lang::En => "Reconnected",
    }
}

pub fn server_key_changed(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => {
            "khóa của máy chủ khác với khóa lúc đăng ký; đây có thể không phải máy chủ của kỳ họp"
        }
        Lang::En => {
            "the server's key differs from the one seen at enrollment; this may not be the meeting's server"
        }
    }
}

pub fn would_overwrite(path: &Path, lang: Lang) -> String {
    let path = path.display();
    match lang {
        Lang::Vi => format!("{path} đã chứa thông tin đăng ký; dùng --force để thay thế"),
        Lang::En => format!("{path} already holds credentials; pass --force to replace them"),
    }
}

pub fn saved(path: &Path, lang: Lang) -> String {
    let path = path.display();
    match lang {
        Lang::Vi => format!("Đã lưu khóa và thông tin đăng ký vào {path}"),
        Lang::En => format!("Key and enrollment saved to {path}"),
    }
}

pub fn chair_cannot_vote(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "thông tin đăng ký này là của chủ tọa; chỉ đại biểu mới biểu quyết",
        Lang::En => "these credentials are the chair's; only a delegate votes",
    }
}

pub fn no_such_item(number: u32, items: usize, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("không có nội dung {number}: chương trình có {items} nội dung"),
        Lang::En => format!("there is no item {number}: the agenda has {items} items"),
    }
}

pub fn unknown_key(line: &str, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("Không hiểu lệnh {line:?}; gõ ? để xem trợ giúp"),
        Lang::En => format!("Unknown command {line:?}; type ? for help"),
    }
}

/// A Unix time in milliseconds as a UTC time of day, "03:42:13 UTC".
fn clock(unix_ms: u64) -> String {
    let secs = unix_ms / 1000 % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Time left, rounded up to the second so that "0:00" never shows while
/// ballots are still accepted: "1:05", or "1:02:03" past an hour.
fn countdown(ms: u64) -> String {
    let secs = ms.div_ceil(1000);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gavel_protocol::Base;
    use gavel_protocol::messages::{ItemKind, ItemState, ItemView, Labels, RoundStatus, SeatView};
    use gavel_protocol::rules::{Threshold, VoteSettings};
    use gavel_protocol::{MeetingId, RoundId, Signature};

    const NOW: u64 = 1_767_000_000_000; // 2025-12-29 09:20:00 UTC

    fn meeting() -> MeetingView {
        let item = |index, kind, title: &str, vote| ItemView {
            paper: None,
            index,
            topic: "Kinh tế - ngân sách".into(),
            kind,
            title: title.into(),
            vote,
            documents: Vec::new(),
        };
        MeetingView {
            id: MeetingId::parse("phuc-loi-2026-ky-12").unwrap(),
            title: "Kỳ họp thứ mười hai".into(),
            body: "HĐND phường Phúc Lợi".into(),
            total_seats: 40,
            quorum: Threshold::AtLeastTwoThirds,
            labels: Labels::default(),
            seats: vec![SeatView {
                number: 12,
                name: "Nguyễn Văn An".into(),
                group: "Tổ 1".into(),
            }],
            agenda: vec![
                item(0, ItemKind::Report, "Báo cáo kinh tế - xã hội", None),
                item(
                    1,
                    ItemKind::DraftResolution,
                    "Nghị quyết dự toán ngân sách",
                    Some(VoteSettings::default()),
                ),
            ],
            respondents: Vec::new(),
            floor: Default::default(),
        }
    }

    fn english(mut meeting: MeetingView) -> MeetingView {
        meeting.labels = Labels {
            yes: "Yes".into(),
            no: "No".into(),
            abstain: "Abstain".into(),
        };
        meeting
    }

    fn counts(yes: u32, no: u32, abstain: u32) -> Counts {
        Counts {
            total_seats: 40,
            present: 38,
            yes,
            no,
            abstain,
        }
    }

    fn round(
        status: RoundStatus,
        live: Option<LiveTally>,
        result: Option<TallyResult>,
    ) -> RoundView {
        RoundView {
            id: RoundId([7; 16]),
            item: 1,
            status,
            settings: VoteSettings::default(),
            opened_at: NOW - 18_000,
            deadline: NOW + 42_000,
            paused_at: None,
            versions: None,
            live,
            result: result.map(RoundResult::Tally),
            board: None,
            by_hand: None,
        }
    }

    fn snapshot(round: Option<RoundView>) -> Snapshot {
        Snapshot {
            version: 9,
            server_time: NOW,
            meeting: meeting().id,
            current_item: Some(1),
            present: 38,
            present_seats: None,
            items: vec![
                ItemState {
                    index: 0,
                    status: ItemStatus::Pending,
                    result: None,
                    by_hand: None,
                },
                ItemState {
                    index: 1,
                    status: ItemStatus::Voting,
                    result: None,
                    by_hand: None,
                },
            ],
            round,
            store: gavel_protocol::messages::StoreHealth::Ok,
            presentation: None,
            closed_at: None,
        }
    }

    fn passed() -> TallyResult {
        TallyResult::decide(Rule::MAJORITY_OF_ALL_SEATS, counts(35, 2, 1))
    }

    #[test]
    fn result_line_matches_the_official_form_in_both_languages() {
        let m = meeting();
        assert_eq!(
            Text::new(&m, Lang::Vi).tally(&passed()),
            "Kết quả: 38/40 đại biểu tham gia biểu quyết (95,00% tổng số đại biểu); \
             Tán thành 35 (87,50%), Không tán thành 2 (5,00%), Không biểu quyết 1 (2,50%) \
             — THÔNG QUA (trên 1/2 tổng số đại biểu: cần 21)"
        );
        let m = english(m);
        assert_eq!(
            Text::new(&m, Lang::En).tally(&passed()),
            "Result: 38 of 40 delegates took part (95.00% of all seats); \
             Yes 35 (87.50%), No 2 (5.00%), Abstain 1 (2.50%) \
             — PASSED (more than 1/2 of all seats: 21 needed)"
        );
    }

    #[test]
    fn a_failed_vote_says_so_and_names_its_rule() {
        let m = meeting();
        let rule = Rule {
            base: Base::AllSeats,
            threshold: Threshold::AtLeastTwoThirds,
        };
        let line = Text::new(&m, Lang::Vi).tally(&TallyResult::decide(rule, counts(26, 10, 2)));
        assert!(
            line.ends_with("— KHÔNG THÔNG QUA (ít nhất 2/3 tổng số đại biểu: cần 27)"),
            "{line}"
        );
    }

    #[test]
    fn labels_come_from_the_meeting() {
        let mut m = meeting();
        m.labels = Labels {
            yes: "Đồng ý".into(),
            no: "Không đồng ý".into(),
            abstain: "Phiếu trắng".into(),
        };
        let text = Text::new(&m, Lang::Vi);
        let line = text.tally(&passed());
        assert!(
            line.contains("Đồng ý 35 (87,50%), Không đồng ý 2 (5,00%), Phiếu trắng 1 (2,50%)"),
            "{line}"
        );
        let yes_no = Rule {
            base: Base::YesNo,
            threshold: Threshold::MoreThanHalf,
        };
        assert_eq!(
            text.rule(&yes_no),
            "trên 1/2 tổng số phiếu đồng ý và không đồng ý"
        );
    }

    #[test]
    fn live_tally_shows_what_the_audience_may_see_and_the_time_left() {
        let m = meeting();
        let text = Text::new(&m, Lang::Vi);
        let with_counts = LiveTally {
            taking_part: 30,
            counts: Some(counts(28, 1, 1)),
            marks: None,
            voted: None,
            choices: None,
        };
        assert_eq!(
            text.live(&round(RoundStatus::Open, Some(with_counts), None), NOW),
            "Đang biểu quyết: 30/40 đại biểu đã biểu quyết (75,00% tổng số đại biểu); \
             Tán thành 28 (70,00%), Không tán thành 1 (2,50%), Không biểu quyết 1 (2,50%) — còn 0:42"
        );
        let hidden = LiveTally {
            taking_part: 30,
            counts: None,
            marks: None,
            voted: None,
            choices: None,
        };
        let m = english(m);
        assert_eq!(
            Text::new(&m, Lang::En)
                .live(&round(RoundStatus::Open, Some(hidden), None), NOW + 50_000),
            "Voting: 30 of 40 delegates have voted (75.00% of all seats) — time is up"
        );
    }

    #[test]
    fn status_block_describes_the_floor_and_the_delegate() {
        let m = meeting();
        let state = MeetingState {
            snapshot: Some(snapshot(Some(round(RoundStatus::Open, None, None)))),
            version: 9,
            checked_in: true,
            my_ballot: None,
            my_paper: None,
            document_access: None,
            floor: None,
            to_confirm: None,
        };
        assert_eq!(
            Text::new(&m, Lang::Vi).status(&state, Some(Principal::Seat(12)), NOW),
            "Kỳ họp thứ mười hai (phuc-loi-2026-ky-12)\n\
             Có mặt: 38/40 đại biểu\n\
             Nội dung 2/2 (Kinh tế - ngân sách): Nghị quyết dự toán ngân sách — đang biểu quyết\n\
             Đang biểu quyết — còn 0:42\n\
             Bạn: ghế 12 (Nguyễn Văn An) — đã điểm danh; chưa biểu quyết"
        );
    }

    #[test]
    fn status_block_says_the_session_is_closed() {
        let m = meeting();
        let mut snapshot = snapshot(None);
        snapshot.closed_at = Some(3_600_000 * 11 + 35 * 60_000);
        let state = MeetingState {
            snapshot: Some(snapshot),
            version: 9,
            checked_in: true,
            my_ballot: None,
            my_paper: None,
            document_access: None,
            floor: None,
            to_confirm: None,
        };
        for (lang, line) in [
            (Lang::Vi, "Kỳ họp đã bế mạc lúc 11:35:00 UTC"),
            (Lang::En, "The session closed at 11:35:00 UTC"),
        ] {
            let status = Text::new(&m, lang).status(&state, None, NOW);
            assert_eq!(status.lines().nth(1), Some(line), "{status}");
        }
    }

    #[test]
    fn a_closed_round_shows_only_while_its_item_is_on_the_floor() {
        let m = meeting();
        let text = Text::new(&m, Lang::En);
        let mut s = snapshot(Some(round(RoundStatus::Closed, None, Some(passed()))));
        assert!(text.round(&s, NOW).unwrap().starts_with("Result: "));
        s.current_item = Some(0);
        assert_eq!(text.round(&s, NOW), None);
    }

    #[test]
    fn agenda_groups_by_topic_and_marks_the_current_item() {
        let m = english(meeting());
        let mut s = snapshot(None);
        s.items[1] = ItemState {
            index: 1,
            status: ItemStatus::Passed,
            result: Some(RoundResult::Tally(passed())),
            by_hand: None,
        };
        let agenda = Text::new(&m, Lang::En).agenda(&s);
        s.items[1].by_hand = Some(ByHand {
            by: "Lê Thị Thu".to_owned(),
            device: gavel_protocol::PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[4; 32])),
            at: 3_600_000 * 10 + 15 * 60_000,
            ballots: None,
        });
        let by_hand = Text::new(&m, Lang::En).agenda(&s);
        assert_eq!(
            by_hand.lines().nth(5),
            Some("      Recorded by hand — entered by Lê Thị Thu at 10:15:00 UTC")
        );
        assert!(
            Text::new(&m, Lang::Vi)
                .agenda(&s)
                .ends_with("Kiểm đếm thủ công — Lê Thị Thu ghi nhận lúc 10:15:00 UTC")
        );
        // Paper ballots the counting board counted say so.
        if let Some(by_hand) = &mut s.items[1].by_hand {
            by_hand.ballots = Some(gavel_protocol::messages::Ballots {
                issued: 40,
                returned: 39,
                invalid: 1,
            });
        }
        assert!(Text::new(&m, Lang::En).agenda(&s).ends_with(
            "Counted by hand — paper ballots counted by the counting board; entered by Lê Thị Thu at 10:15:00 UTC"
        ));
        let lines: Vec<&str> = agenda.lines().collect();
        assert_eq!(lines[0], "Agenda: Kỳ họp thứ mười hai");
        assert_eq!(lines[1], "Kinh tế - ngân sách");
        assert_eq!(lines[2], "   1. Báo cáo kinh tế - xã hội — no vote");
        assert_eq!(lines[3], "▶  2. Nghị quyết dự toán ngân sách — passed");
        assert!(
            lines[4].starts_with("      Result: 38 of 40"),
            "{}",
            lines[4]
        );
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn opening_a_vote_names_the_item_the_rule_and_the_deadline() {
        let m = meeting();
        let line = Text::new(&m, Lang::Vi)
            .change(&Change::Opened(&round(RoundStatus::Open, None, None)), NOW);
        assert_eq!(
            line,
            "Bắt đầu biểu quyết nội dung 2: Nghị quyết dự toán ngân sách — biểu quyết công khai, \
             thông qua khi trên 1/2 tổng số đại biểu; hạn chót 09:20:42 UTC (còn 0:42)"
        );
    }

    #[test]
    fn receipts_name_the_choice_in_the_meetings_words() {
        let m = meeting();
        let receipt = Receipt {
            meeting: m.id.clone(),
            round: RoundId([7; 16]),
            documents: None,
            seat: 12,
            choice: Choice::Yes,
            seq: 1,
            recorded_at: NOW + 13_000 + 999,
            server_signature: Signature::from_bytes(&[0; 64]),
        };
        assert_eq!(
            Text::new(&m, Lang::Vi).receipt(&receipt),
            "Đã ghi nhận: Tán thành, 09:20:13 UTC"
        );
    }

    #[test]
    fn a_tracker_reads_in_groups_and_a_check_says_counted_or_warns() {
        let round = RoundId([7; 16]);
        let line = tracker(&Tracker([0xab; 16]), round, Lang::Vi);
        assert!(
            line.starts_with("Mã kiểm tra phiếu: abab abab abab abab abab abab abab abab\n"),
            "{line}"
        );
        assert!(line.ends_with(&format!("--round {round} --tracker {}", "ab".repeat(16))));
        let m = meeting();
        let (vi, yes, no) = (
            Text::new(&m, Lang::Vi),
            Vote::Choice(Choice::Yes),
            Vote::Choice(Choice::No),
        );
        assert_eq!(
            vi.ballot_check(&Check::Counted, Some(&yes)),
            "Phiếu của bạn đã được tính: Tán thành"
        );
        assert!(
            vi.ballot_check(&Check::CountedOtherwise(no), Some(&yes))
                .starts_with(
                    "Cảnh báo: phiếu của bạn được tính là «Không tán thành», không phải «Tán thành»"
                )
        );
        assert!(
            vi.ballot_check(&Check::Missing, Some(&yes))
                .contains("không có mã kiểm tra của bạn")
        );
    }

    #[test]
    fn refusals_are_translated_and_keep_the_servers_detail() {
        let late = ClientError::Refused {
            reason: RefusalReason::Late,
            message: "the voting window has closed".into(),
        };
        assert_eq!(
            client_error(&late, Lang::Vi),
            "Bị từ chối: đã hết thời gian biểu quyết"
        );
        assert_eq!(
            client_error(&late, Lang::En),
            "Refused: the voting window has closed"
        );
        let detailed = ClientError::Refused {
            reason: RefusalReason::InvalidCommand,
            message: "a vote is already open".into(),
        };
        assert_eq!(
            client_error(&detailed, Lang::Vi),
            "Bị từ chối: lệnh không phù hợp với trạng thái kỳ họp (a vote is already open)"
        );
    }

    #[test]
    fn a_count_to_confirm_reads_as_the_board_counted_it() {
        use gavel_protocol::messages::{ListEntry, PaperList};
        let mut meeting = meeting();
        let count = Count {
            total_seats: 40,
            present: 38,
            ballots: 37,
            rows: vec![vec![30, 5, 2]],
        };
        let text = Text::new(&meeting, Lang::Vi).count(Some(1), &count);
        assert_eq!(
            text,
            "Kết quả kiểm phiếu chờ Ban kiểm phiếu xác nhận — nội dung 2: Nghị quyết dự toán ngân sách\n\
             Tổng số đại biểu: 40; có mặt: 38 (95,00%); số phiếu thu vào: 37 (92,50%)\n\
             \u{20} Tán thành: 30 (75,00%)\n\
             \u{20} Không tán thành: 5 (12,50%)\n\
             \u{20} Không biểu quyết: 2 (5,00%)"
        );
        // A rating: each official's marks at each level, the post beside the name.
        meeting.agenda[1].paper = Some(PaperList {
            kind: PaperKind::Rating,
            posts: 0,
            entries: vec![
                ListEntry {
                    name: "Trần Văn Bình".into(),
                    post: "Chủ tịch".into(),
                },
                ListEntry {
                    name: "Lê Thị Cúc".into(),
                    post: String::new(),
                },
            ],
        });
        let rating = Count {
            rows: vec![vec![20, 15, 2], vec![10, 20, 7]],
            ..count
        };
        let en = Text::new(&meeting, Lang::En).count(Some(1), &rating);
        assert!(
            en.ends_with(
                "  1. Trần Văn Bình (Chủ tịch): high confidence 20 (50.00%), confidence 15 (37.50%), \
                 low confidence 2 (5.00%)\n  \
                 2. Lê Thị Cúc: high confidence 10 (25.00%), confidence 20 (50.00%), low confidence 7 (17.50%)"
            ),
            "{en}"
        );
        assert!(en.starts_with("The count awaiting the counting board — item 2"));
        assert_eq!(
            nothing_to_confirm(4, Some(&[7, 15]), Lang::En),
            "seat 4 is not on the counting board (seats 7, 15); only its members confirm a count"
        );
        assert_eq!(
            nothing_to_confirm(7, None, Lang::Vi),
            "không có kết quả kiểm phiếu nào đang chờ xác nhận"
        );
    }

    #[test]
    fn times_and_countdowns() {
        assert_eq!(clock(NOW), "09:20:00 UTC");
        assert_eq!(countdown(42_000), "0:42");
        assert_eq!(countdown(41_001), "0:42");
        assert_eq!(countdown(3_723_000), "1:02:03");
        assert_eq!(
            connection_lost("x", 0, Duration::from_millis(1250), Lang::Vi),
            "Mất kết nối (x); thử lại sau 1,2 giây"
        );
        assert_eq!(
            connection_lost("x", 2, Duration::from_millis(4000), Lang::En),
            "Still not connected (x); retrying in 4.0 s"
        );
    }
}
