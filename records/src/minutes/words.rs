//! The minutes' and the results table's own words, in Vietnamese and
//! English, side by side so that neither falls behind. The words shared with
//! the hall screen and the chair's console (the result sentence, rules,
//! verdicts) are not here but in [`gavel_protocol::wording`]; where the
//! screen has a word for something ("Tham gia biểu quyết", "Đã hủy lượt
//! biểu quyết"), it is used here as the screen writes it.

use super::Lang;
use super::clock::LocalTime;
use gavel_protocol::floor::FloorKind;
use gavel_protocol::messages::Ballots;

/// Fixed words in one language.
pub struct Words {
    pub lang_tag: &'static str,
    pub document: &'static str,
    pub nation: &'static str,
    pub motto: &'static str,
    pub meeting_id: &'static str,
    pub total_seats: &'static str,
    pub times: &'static str,
    pub percentages: &'static str,
    pub intro: &'static str,
    pub summary: &'static str,
    pub col_number: &'static str,
    pub col_item: &'static str,
    pub col_result: &'static str,
    /// The results table's column of who recorded a result by hand, and when.
    pub col_by_hand: &'static str,
    pub named: &'static str,
    pub secret: &'static str,
    pub secret_mark: &'static str,
    pub form: &'static str,
    pub rule: &'static str,
    pub result: &'static str,
    pub taking_part: &'static str,
    pub not_taking_part: &'static str,
    pub voided_title: &'static str,
    pub voided_note: &'static str,
    pub voided_short: &'static str,
    pub closed: &'static str,
    pub secretary: &'static str,
    pub chair: &'static str,
    pub sign_here: &'static str,
    pub page: &'static str,
    pub page_of: &'static str,
    pub chart_title: &'static str,
    pub col_round: &'static str,
    pub col_title: &'static str,
    pub col_opened: &'static str,
    pub col_closed: &'static str,
    pub col_status: &'static str,
    pub col_needed: &'static str,
    pub list_results: &'static str,
    pub papers_returned: &'static str,
    /// The counting board's record of a secret ballot, and its lines.
    pub count_record: &'static str,
    pub count_present: &'static str,
    pub count_issued: &'static str,
    pub count_valid: &'static str,
    pub count_invalid: &'static str,
    pub count_chief: &'static str,
    pub count_members: &'static str,
    pub col_name: &'static str,
    pub col_post: &'static str,
    pub col_votes: &'static str,
    pub col_note: &'static str,
    pub elected: &'static str,
    pub not_elected: &'static str,
    pub tied: &'static str,
    pub nobody_elected: &'static str,
    pub tie_note: &'static str,
    pub high_confidence: &'static str,
    pub confidence: &'static str,
    pub low_confidence: &'static str,
    pub no_confidence: &'static str,
    pub low_over_half: &'static str,
    pub low_two_thirds: &'static str,
    pub no_confidence_reached: &'static str,
    pub floor_title: &'static str,
    pub col_speaker: &'static str,
    pub col_kind: &'static str,
    pub col_put_to: &'static str,
    pub col_topic: &'static str,
    pub col_started: &'static str,
    pub col_spoken: &'static str,
    pub still_speaking: &'static str,
    pub seat: &'static str,
    /// Speak, reply, question, answer, follow-up.
    pub kinds: [&'static str; 5],
}

const VI: Words = Words {
    lang_tag: "vi",
    document: "BIÊN BẢN KẾT QUẢ BIỂU QUYẾT",
    nation: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    motto: "Độc lập - Tự do - Hạnh phúc",
    meeting_id: "Mã kỳ họp",
    total_seats: "Tổng số đại biểu",
    times: "Giờ ghi theo",
    percentages: "Tỷ lệ phần trăm tính trên tổng số đại biểu.",
    intro: "Kỳ họp đã biểu quyết các nội dung dưới đây bằng hệ thống biểu quyết điện tử; kết quả như sau:",
    summary: "Tổng hợp kết quả",
    col_number: "TT",
    col_item: "Nội dung",
    col_result: "Kết quả",
    col_by_hand: "Kiểm đếm thủ công",
    named: "Biểu quyết công khai",
    secret: "Bỏ phiếu kín",
    secret_mark: "(bỏ phiếu kín)",
    form: "Hình thức",
    rule: "Điều kiện thông qua",
    result: "Kết quả",
    taking_part: "Tham gia biểu quyết",
    not_taking_part: "Không tham gia biểu quyết",
    voided_title: "Đã hủy lượt biểu quyết",
    voided_note: "Kết quả lượt biểu quyết này không được tính.",
    voided_short: "Đã hủy",
    closed: "Đã kết thúc",
    secretary: "THƯ KÝ KỲ HỌP",
    chair: "CHỦ TỌA KỲ HỌP",
    sign_here: "(Ký, ghi rõ họ tên)",
    page: "Trang",
    page_of: "/",
    chart_title: "Kết quả biểu quyết so với tổng số đại biểu",
    col_round: "Lần biểu quyết",
    col_title: "Tên nội dung",
    col_opened: "Mở lúc",
    col_closed: "Kết thúc lúc",
    col_status: "Trạng thái",
    col_needed: "Số phiếu cần để thông qua",
    list_results: "Kết quả bỏ phiếu theo danh sách",
    papers_returned: "Số phiếu thu vào",
    count_record: "Biên bản kiểm phiếu",
    count_present: "Số đại biểu có mặt",
    count_issued: "Số phiếu phát ra",
    count_valid: "Số phiếu hợp lệ",
    count_invalid: "Số phiếu không hợp lệ",
    count_chief: "Trưởng Ban kiểm phiếu",
    count_members: "Các thành viên Ban kiểm phiếu",
    col_name: "Họ và tên",
    col_post: "Chức vụ",
    col_votes: "Số phiếu bầu",
    col_note: "Ghi chú",
    elected: "Trúng cử",
    not_elected: "Không trúng cử",
    tied: "Bằng phiếu, bầu lại",
    nobody_elected: "Không có người trúng cử",
    tie_note: "Số phiếu bằng nhau, bầu lại giữa",
    high_confidence: "Tín nhiệm cao",
    confidence: "Tín nhiệm",
    low_confidence: "Tín nhiệm thấp",
    no_confidence: "Không tín nhiệm",
    low_over_half: "Quá nửa tổng số đại biểu tín nhiệm thấp",
    low_two_thirds: "Từ hai phần ba tổng số đại biểu trở lên tín nhiệm thấp",
    no_confidence_reached: "Số phiếu không tín nhiệm đạt tỷ lệ theo quy định",
    floor_title: "Phát biểu, chất vấn và trả lời chất vấn",
    col_speaker: "Người phát biểu",
    col_kind: "Hình thức",
    col_put_to: "Người trả lời",
    col_topic: "Nội dung",
    col_started: "Bắt đầu",
    col_spoken: "Thời lượng",
    still_speaking: "chưa kết thúc",
    seat: "ghế",
    kinds: [
        "Phát biểu",
        "Tranh luận",
        "Chất vấn",
        "Trả lời chất vấn",
        "Chất vấn bổ sung",
    ],
};

const EN: Words = Words {
    lang_tag: "en",
    document: "MINUTES OF THE VOTING RESULTS",
    nation: "SOCIALIST REPUBLIC OF VIET NAM",
    motto: "Independence - Freedom - Happiness",
    meeting_id: "Meeting id",
    total_seats: "All seats",
    times: "Times are",
    percentages: "Percentages are of all seats.",
    intro: "The session voted on the items below with the electronic voting system; the results were:",
    summary: "Summary of results",
    col_number: "No.",
    col_item: "Item",
    col_result: "Result",
    col_by_hand: "Recorded by hand",
    named: "Open vote",
    secret: "Secret ballot",
    secret_mark: "(secret ballot)",
    form: "Type of vote",
    rule: "To pass",
    result: "Result",
    taking_part: "Took part",
    not_taking_part: "Did not take part",
    voided_title: "Vote voided",
    voided_note: "This vote does not count; nothing was decided.",
    voided_short: "Voided",
    closed: "Closed",
    secretary: "SECRETARY",
    chair: "CHAIR",
    sign_here: "(signature and full name)",
    page: "Page",
    page_of: " of ",
    chart_title: "Result against all seats",
    col_round: "Round",
    col_title: "Title",
    col_opened: "Opened",
    col_closed: "Ended",
    col_status: "Status",
    col_needed: "Yes votes needed",
    list_results: "Results of ballots on a list",
    papers_returned: "Ballot papers returned",
    count_record: "Record of the count",
    count_present: "Delegates present",
    count_issued: "Ballot papers issued",
    count_valid: "Valid ballot papers",
    count_invalid: "Invalid ballot papers",
    count_chief: "Head of the counting board",
    count_members: "Members of the counting board",
    col_name: "Name",
    col_post: "Post",
    col_votes: "Votes",
    col_note: "Note",
    elected: "Elected",
    not_elected: "Not elected",
    tied: "Tied, to vote again",
    nobody_elected: "Nobody elected",
    tie_note: "Equal votes; to vote again between",
    high_confidence: "High confidence",
    confidence: "Confidence",
    low_confidence: "Low confidence",
    no_confidence: "No confidence",
    low_over_half: "More than half of all delegates: low confidence",
    low_two_thirds: "Two thirds or more of all delegates: low confidence",
    no_confidence_reached: "No-confidence votes reach the rule",
    floor_title: "Speakers, questions and answers",
    col_speaker: "Speaker",
    col_kind: "Turn",
    col_put_to: "Put to",
    col_topic: "Topic",
    col_started: "Started",
    col_spoken: "Duration",
    still_speaking: "not ended",
    seat: "seat",
    kinds: [
        "Speech",
        "Reply",
        "Question",
        "Answer",
        "Follow-up question",
    ],
};

impl Words {
    pub fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// The name of a kind of turn.
    pub fn kind(&self, kind: FloorKind) -> &'static str {
        self.kinds[match kind {
            FloorKind::Speak => 0,
            FloorKind::Reply => 1,
            FloorKind::Question => 2,
            FloorKind::Answer => 3,
            FloorKind::FollowUp => 4,
        }]
    }
}

/// A length of time as minutes and seconds, "4:05"; whole seconds, rounded down.
pub fn duration(ms: u64) -> String {
    let seconds = ms / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// "Nội dung 3", "Item 3".
pub fn item_number(lang: Lang, n: u32) -> String {
    match lang {
        Lang::Vi => format!("Nội dung {n}"),
        Lang::En => format!("Item {n}"),
    }
}

/// When the chair closed the session, or that it has not closed: minutes
/// printed during the session are not its final record.
pub fn closing_line(lang: Lang, closed: Option<&LocalTime>) -> String {
    match (lang, closed) {
        (Lang::Vi, Some(t)) => format!(
            "Kỳ họp bế mạc lúc {} ngày {:02}/{:02}/{:04}.",
            t.time_of_day(),
            t.day,
            t.month,
            t.year
        ),
        (Lang::En, Some(t)) => format!("The session closed at {}.", t.iso()),
        (Lang::Vi, None) => "Kỳ họp chưa bế mạc: biên bản này chưa phải bản cuối cùng.".to_owned(),
        (Lang::En, None) => "The session has not closed: these minutes are not final.".to_owned(),
    }
}

/// "Lần biểu quyết thứ 2", "Round 2".
pub fn round_number(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Vi => format!("Lần biểu quyết thứ {n}"),
        Lang::En => format!("Round {n}"),
    }
}

/// "từ 09:40:10 đến 09:41:24", "from 09:40:10 to 09:41:24".
pub fn time_span(lang: Lang, from: &str, to: &str) -> String {
    match lang {
        Lang::Vi => format!("Thời gian: từ {from} đến {to}"),
        Lang::En => format!("Time: from {from} to {to}"),
    }
}

/// When the chair held a round: "Tạm dừng từ 09:12:03 đến 09:14:10".
/// Who of the counting board confirmed the count on their device, and when:
/// "Đỗ Văn Hải (ghế 7) lúc 10:32:05".
pub fn confirmed_by(lang: Lang, name: &str, seat: u32, at: &str) -> String {
    match lang {
        Lang::Vi => format!("{name} (ghế {seat}) lúc {at}"),
        Lang::En => format!("{name} (seat {seat}) at {at}"),
    }
}

/// The line that lists the board's confirmations.
pub fn confirmations_line(lang: Lang, list: &str) -> String {
    match lang {
        Lang::Vi => {
            format!("Thành viên Ban kiểm phiếu xác nhận kết quả bằng chữ ký trên thiết bị: {list}")
        }
        Lang::En => {
            format!("Confirmed by the counting board, each member's device signing: {list}")
        }
    }
}

/// A line of the counting board's record of a secret yes/no ballot: the
/// ballots marked with one choice, `label` as it reads in a sentence.
pub fn ballots_marked(lang: Lang, label: &str) -> String {
    match lang {
        Lang::Vi => format!("Số phiếu {label}"),
        Lang::En => format!("Ballots marked “{label}”"),
    }
}

/// When the chair announced the confirmed result.
pub fn announced_line(lang: Lang, at: &str) -> String {
    match lang {
        Lang::Vi => format!("Chủ tọa công bố kết quả lúc {at}"),
        Lang::En => format!("The chair announced the result at {at}"),
    }
}

/// The heading of the changes made once the session had started.
pub fn changes_title(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Thay đổi trong kỳ họp",
        Lang::En => "Changes during the session",
    }
}

/// What the list of changes says before its lines.
pub fn changes_lead(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => {
            "Các thay đổi sau khi kỳ họp bắt đầu, theo thứ tự trong nhật ký kiểm toán của hồ sơ điện tử."
        }
        Lang::En => {
            "The changes made after the session started, in the order of the electronic record's audit chain."
        }
    }
}

/// One change, as the minutes list it: `who` is a seat's "ghế 5, Hoàng Văn
/// Long" (or the chair's console), already worded.
pub fn change_line(lang: Lang, what: &super::ChangeKind, who: &str) -> String {
    use super::ChangeKind as K;
    match (lang, what) {
        (Lang::Vi, K::DefinitionReplaced) => "Thay thế tệp định nghĩa kỳ họp".to_owned(),
        (Lang::En, K::DefinitionReplaced) => "The meeting's definition was replaced".to_owned(),
        (Lang::Vi, K::DefinitionAmended { secretariat, items }) => {
            let who = match secretariat {
                Some(device) => format!("Văn phòng (thiết bị {})", short_key(device)),
                None => "Chủ tọa".to_owned(),
            };
            format!("{who} sửa đổi định nghĩa kỳ họp{}", item_list(lang, items))
        }
        (Lang::En, K::DefinitionAmended { secretariat, items }) => {
            let who = match secretariat {
                Some(device) => format!("The secretariat (device {})", short_key(device)),
                None => "The chair".to_owned(),
            };
            format!(
                "{who} amended the meeting's definition{}",
                item_list(lang, items)
            )
        }
        (Lang::Vi, K::DeviceEnrolled { .. }) => format!("Đăng ký thiết bị cho {who}"),
        (Lang::En, K::DeviceEnrolled { .. }) => format!("A device was enrolled for {who}"),
        (Lang::Vi, K::DeviceRevoked { .. }) => format!("Thu hồi thiết bị của {who}"),
        (Lang::En, K::DeviceRevoked { .. }) => format!("The device of {who} was revoked"),
        (
            Lang::Vi,
            K::DocumentStored {
                item,
                title,
                version,
            },
        ) => format!(
            "Lưu phiên bản {version} của tài liệu “{title}”, nội dung {}",
            item + 1
        ),
        (
            Lang::En,
            K::DocumentStored {
                item,
                title,
                version,
            },
        ) => format!(
            "Version {version} of the document “{title}” of item {} was stored",
            item + 1
        ),
        (Lang::Vi, K::ResultByHand { item, by }) => {
            format!("Kết quả nội dung {} được {by} ghi nhận thủ công", item + 1)
        }
        (Lang::En, K::ResultByHand { item, by }) => {
            format!(
                "The result of item {} was recorded by hand by {by}",
                item + 1
            )
        }
    }
}

/// A device's key as a change's line names it: its first 8 hex digits,
/// as the secretariat's list of devices shows them.
fn short_key(hex: &str) -> &str {
    hex.get(..8).unwrap_or(hex)
}

/// The items an amendment changed, numbered from 1 as the minutes number
/// them, after a colon; nothing when it changed none.
fn item_list(lang: Lang, items: &[u32]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let numbers: Vec<String> = items.iter().map(|i| (i + 1).to_string()).collect();
    match lang {
        Lang::Vi => format!(", nội dung {}", numbers.join(", ")),
        Lang::En => {
            let noun = if items.len() == 1 { "item" } else { "items" };
            format!(": {noun} {}", numbers.join(", "))
        }
    }
}

/// Who a device belongs to, inside a change's line.
pub fn device_owner(lang: Lang, seat: Option<u32>, name: &str) -> String {
    match (lang, seat) {
        (Lang::Vi, Some(seat)) => format!("ghế {seat}, {name}"),
        (Lang::En, Some(seat)) => format!("seat {seat}, {name}"),
        (Lang::Vi, None) => "bàn chủ tọa".to_owned(),
        (Lang::En, None) => "the chair's console".to_owned(),
    }
}

/// A result recorded by hand, in the minutes: the hall voted by a show of
/// hands, or on paper ballots that the counting board counted (`on_paper`),
/// and the secretariat entered the counts.
pub fn by_hand_line(lang: Lang, by: &str, at: &str, on_paper: bool) -> String {
    match (lang, on_paper) {
        (Lang::Vi, false) => format!(
            "Kiểm đếm thủ công: kết quả biểu quyết bằng giơ tay hoặc phiếu giấy, do {by} ghi nhận lúc {at}; không có phiếu điện tử"
        ),
        (Lang::En, false) => format!(
            "Recorded by hand: the result of a show of hands or a paper vote, entered by {by} at {at}; there are no electronic ballots"
        ),
        (Lang::Vi, true) => format!(
            "Kiểm đếm thủ công: bỏ phiếu bằng phiếu giấy, Ban kiểm phiếu kiểm phiếu và lập biên bản; số liệu của biên bản do {by} ghi nhận lúc {at}; không có phiếu điện tử"
        ),
        (Lang::En, true) => format!(
            "Counted by hand: a vote on paper ballots, counted by the counting board, whose record's figures {by} entered at {at}; there are no electronic ballots"
        ),
    }
}

/// The results table's cell of a result recorded by hand: "Lê Thị Thu,
/// 2026-12-18 10:15:00", then the counting board's figures when it counted
/// paper ballots.
pub fn by_hand_cell(lang: Lang, by: &str, at: &str, ballots: Option<&Ballots>) -> String {
    let Some(b) = ballots else {
        return format!("{by}, {at}");
    };
    let w = Words::of(lang);
    format!(
        "{by}, {at}; {}: {}, {}: {}, {}: {}, {}: {}",
        w.count_issued,
        b.issued,
        w.papers_returned,
        b.returned,
        w.count_valid,
        b.valid(),
        w.count_invalid,
        b.invalid
    )
}

pub fn paused_span(lang: Lang, from: &str, to: &str) -> String {
    match lang {
        Lang::Vi => format!("Tạm dừng từ {from} đến {to}"),
        Lang::En => format!("Paused from {from} to {to}"),
    }
}

/// What the yes votes needed and got, as the hall screen says it:
/// "Cần 21 phiếu tán thành, đạt 35", "21 “tán thành” votes needed, 35 cast".
pub fn needed(lang: Lang, needed: u64, yes_label: &str, yes: u32) -> String {
    match lang {
        Lang::Vi => format!("Cần {needed} phiếu {yes_label}, đạt {yes}"),
        Lang::En => format!("{needed} “{yes_label}” votes needed, {yes} cast"),
    }
}

/// The chart's mark at the yes votes needed: "Cần 21", "21 needed" (the
/// chair's console's words).
pub fn needed_mark(lang: Lang, needed: u64) -> String {
    match lang {
        Lang::Vi => format!("Cần {needed}"),
        Lang::En => format!("{needed} needed"),
    }
}

/// The date line of the minutes: "Phúc Lợi, ngày 18 tháng 12 năm 2026",
/// "Phúc Lợi, 18 December 2026".
pub fn date_line(lang: Lang, place: Option<&str>, t: &LocalTime) -> String {
    let date = match lang {
        // Days below 10 and months below 3 take a leading zero (Nghị định
        // 30/2020/NĐ-CP on administrative documents): "ngày 05 tháng 01",
        // "ngày 18 tháng 3".
        Lang::Vi if t.month < 3 => format!("ngày {:02} tháng {:02} năm {}", t.day, t.month, t.year),
        Lang::Vi => format!("ngày {:02} tháng {} năm {}", t.day, t.month, t.year),
        Lang::En => {
            const MONTHS: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            format!("{} {} {}", t.day, MONTHS[t.month as usize - 1], t.year)
        }
    };
    match place {
        Some(place) => format!("{place}, {date}"),
        None if lang == Lang::Vi => format!("Ngày {}", &date["ngày ".len()..]),
        None => date,
    }
}

/// Topic numbers as the council's papers write them: I, II, III…
pub fn roman(mut n: u32) -> String {
    const PARTS: [(u32, &str); 9] = [
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, letters) in PARTS {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// The line under the signatures that names the electronic record (see
/// [`RecordSeal`](super::RecordSeal)); HTML, with every value escaped.
pub fn seal_line(lang: Lang, seal: &super::RecordSeal) -> String {
    use super::escape::escape;
    let (file, head, key) = (
        escape(&seal.file),
        escape(&seal.head),
        escape(&seal.server_key),
    );
    let entries = seal.entries;
    match lang {
        Lang::Vi => format!(
            "Biên bản được lập từ hồ sơ điện tử của kỳ họp <code>{file}</code>: nhật ký gồm \
             {entries} mục, mã băm cuối <code>{head}</code>, khóa của máy chủ \
             <code>{key}</code>. Ai có hồ sơ đều kiểm tra được bằng lệnh \
             <code>gavel verify {file}</code>."
        ),
        Lang::En => format!(
            "These minutes were made from the meeting's electronic record <code>{file}</code>: \
             an audit chain of {entries} entries, final hash <code>{head}</code>, server key \
             <code>{key}</code>. Anyone holding the record can check it with \
             <code>gavel verify {file}</code>."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_each_language_writes_them() {
        let t = LocalTime::at(1_797_555_600_000, 420);
        assert_eq!(
            date_line(Lang::Vi, Some("Phúc Lợi"), &t),
            "Phúc Lợi, ngày 18 tháng 12 năm 2026"
        );
        assert_eq!(date_line(Lang::Vi, None, &t), "Ngày 18 tháng 12 năm 2026");
        assert_eq!(date_line(Lang::En, None, &t), "18 December 2026");
        let march = LocalTime::at(1_772_323_200_000, 420);
        assert_eq!(
            date_line(Lang::Vi, None, &march),
            "Ngày 01 tháng 3 năm 2026"
        );
        let january = LocalTime::at(1_799_107_200_000, 420);
        assert_eq!(
            date_line(Lang::Vi, None, &january),
            "Ngày 05 tháng 01 năm 2027"
        );
    }

    #[test]
    fn roman_topic_numbers() {
        assert_eq!(roman(1), "I");
        assert_eq!(roman(4), "IV");
        assert_eq!(roman(9), "IX");
        assert_eq!(roman(14), "XIV");
    }
}
