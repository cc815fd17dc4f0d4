// Vietnamese and English for all three apps. Each app passes its own words
// to `makeTranslator`; the words every app needs (item kinds, statuses, rule
// descriptions, refusal reasons) are here. The language is switchable and
// remembered per device; Vietnamese is the default.

export const COMMON = {
  vi: {
    "kind.report": "Báo cáo",
    "kind.proposal": "Tờ trình",
    "kind.draft_resolution": "Dự thảo nghị quyết",
    "kind.question_session": "Chất vấn",
    "kind.election": "Bầu cử",
    "kind.other": "Nội dung khác",
    "document.kind.submission": "Tờ trình",
    "document.kind.report": "Báo cáo",
    "document.kind.draft_resolution": "Dự thảo nghị quyết",
    "document.kind.other": "Tài liệu khác",
    "document.size_kb": "{n} KB",
    "document.size_mb": "{n} MB",
    "present.page": "Trang {page}/{pages}",
    "round.versions": "Biểu quyết về: {list}",
    "round.version": "{title} (bản {n})",
    "status.pending": "Chưa biểu quyết",
    "status.voting": "Đang biểu quyết",
    "status.passed": "Thông qua",
    "status.not_passed": "Không thông qua",
    "status.counted": "Đã kiểm phiếu",
    "paper.mark.election.1": "Đồng ý",
    "paper.mark.rating.1": "Tín nhiệm cao",
    "paper.mark.rating.2": "Tín nhiệm",
    "paper.mark.rating.3": "Tín nhiệm thấp",
    "paper.mark.no_confidence.1": "Tín nhiệm",
    "paper.mark.no_confidence.2": "Không tín nhiệm",
    "paper.returned": "Số phiếu thu vào: {n} ({pct} tổng số đại biểu)",
    "paper.elected": "Trúng cử: {names}",
    "paper.nobody": "Không có người trúng cử",
    "paper.tie": "Bằng phiếu, bầu lại giữa: {names}",
    "paper.low_over_half": "Quá nửa tổng số đại biểu tín nhiệm thấp: {n} người",
    "paper.flagged": "Số phiếu không tín nhiệm đạt tỷ lệ: {n} người",
    "paper.col.number": "STT",
    "paper.col.name": "Họ và tên",
    "paper.col.outcome": "Kết quả",
    "paper.outcome.elected": "Trúng cử",
    "paper.outcome.tie": "Bằng phiếu",
    "paper.outcome.low_over_half": "Quá nửa tín nhiệm thấp",
    "paper.outcome.low_two_thirds": "Từ 2/3 tín nhiệm thấp",
    "paper.outcome.flagged": "Không tín nhiệm đạt tỷ lệ",
    "paper.of_all": "Tỷ lệ phần trăm tính trên tổng số {total} đại biểu.",
    "status.voided": "Đã hủy",
    "result.by_hand": "Kiểm đếm thủ công — {by} ghi nhận lúc {time}",
    "result.by_hand_paper": "Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm; {by} ghi nhận lúc {time}",
    "paper.valid": "Phiếu hợp lệ: {valid}; không hợp lệ: {invalid}",
    "result.official":
      "{taking} đại biểu tham gia biểu quyết ({taking_pct} tổng số đại biểu); {yes} {yes_label} ({yes_pct}), {no} {no_label} ({no_pct}), {abstain} {abstain_label} ({abstain_pct}).",
    "rule.more_than": "trên {fraction} {base}",
    "rule.at_least": "ít nhất {fraction} {base}",
    "rule.base.all_seats": "tổng số đại biểu",
    "rule.base.present": "số đại biểu có mặt",
    "rule.base.cast": "số đại biểu tham gia biểu quyết",
    "rule.base.yes_no": "số phiếu tán thành và không tán thành",
    "secrecy.named": "Biểu quyết công khai",
    "secrecy.secret": "Bỏ phiếu kín",
    "conn.connecting": "Đang kết nối…",
    "conn.reconnecting": "Mất kết nối — đang kết nối lại…",
    "conn.refused": "Máy chủ từ chối",
    "seconds": "giây",
    "language": "English",
    "reason.late": "Đã hết thời gian biểu quyết",
    "reason.no_open_round": "Hiện không có biểu quyết",
    "reason.wrong_round": "Lượt biểu quyết này đã kết thúc",
    "reason.documents_changed": "Phiếu được ký trên phiên bản tài liệu khác với tài liệu của lượt biểu quyết; hãy tải lại tài liệu và biểu quyết lại",
    "reason.round_paused": "Chủ tọa đã tạm dừng biểu quyết; vui lòng chờ",
    "reason.wrong_ballot_kind": "Phiếu không đúng loại của nội dung này",
    "reason.not_checked_in": "Đại biểu cần điểm danh trước khi biểu quyết",
    "reason.change_not_allowed": "Nội dung này không cho phép thay đổi lựa chọn",
    "reason.change_lost_in_restart": "Phiếu kín của bạn đã được ghi nhận trước khi máy chủ khởi động lại và vẫn được tính, nhưng không thể thay đổi nữa",
    "reason.stale_sequence": "Đã ghi nhận một lựa chọn mới hơn",
    "reason.bad_signature": "Chữ ký không hợp lệ",
    "reason.unknown_code": "Mã đăng ký không đúng",
    "reason.code_used": "Mã đăng ký đã được sử dụng",
    "reason.code_expired": "Mã đăng ký đã hết hạn",
    "reason.unknown_key": "Thiết bị chưa được đăng ký cho kỳ họp này",
    "reason.key_revoked": "Khóa của thiết bị này đã bị thư ký kỳ họp thu hồi; hãy đăng ký lại bằng mã mới",
    "reason.unknown_meeting": "Không có kỳ họp này",
    "reason.not_chair": "Chỉ chủ tọa mới làm được việc này",
    "reason.invalid_command": "Thao tác không phù hợp với trạng thái kỳ họp",
    "reason.store_unavailable": "Máy chủ tạm thời không lưu được; hãy thử lại",
    "reason.rate_limited": "Quá nhiều yêu cầu; hãy chờ giây lát",
    "reason.connection_lost": "Mất kết nối; hãy thử lại",
    "reason.not_under_discussion": "Nội dung này không đang được thảo luận",
    "reason.already_requested": "Bạn đã đăng ký và đang chờ lượt",
    "reason.no_such_request": "Không có đăng ký nào đang chờ",
    "reason.unknown_respondent": "Hãy chọn người trả lời chất vấn trong danh sách",
    "reason.wrong_floor_kind": "Không đăng ký được hình thức này ở nội dung này",
    "reason.topic_too_long": "Nội dung tóm tắt quá dài",
    "reason.topic_not_text": "Nội dung tóm tắt chỉ là một dòng chữ",
    "reason.unknown_document": "Kỳ họp không có tài liệu này",
    "reason.no_such_page": "Tài liệu không có trang này",
    "reason.not_on_board": "Chỉ thành viên Ban kiểm phiếu mới xác nhận được kết quả",
    "reason.not_provisional": "Không có kết quả kiểm phiếu nào đang chờ xác nhận",
    "reason.count_mismatch": "Số liệu khác với kết quả kiểm phiếu; hãy tải lại và đối chiếu",
    "reason.already_confirmed": "Thành viên này đã xác nhận kết quả",
    "reason.too_few_confirmations": "Chưa đủ thành viên Ban kiểm phiếu xác nhận kết quả",
    "reason.no_list": "Nội dung này không biểu quyết theo danh sách",
    "reason.item_voted": "Nội dung này đã được biểu quyết; danh sách không sửa được nữa",
    "reason.list_length": "Danh sách có từ 1 đến 200 người",
    "reason.name_missing": "Mỗi người trong danh sách cần có họ tên",
    "reason.name_twice": "Một họ tên có hai lần trong danh sách",
    "reason.posts_out_of_range": "Số người được bầu từ 1 đến số ứng cử viên",
    "reason.session_closed": "Kỳ họp đã bế mạc",
    "reason.session_busy": "Chưa bế mạc được khi còn biểu quyết, kết quả chờ công bố hoặc người đang phát biểu",
    "session.closed": "Kỳ họp đã bế mạc",
    "session.closed_at": "Kỳ họp đã bế mạc lúc {time} ngày {date}",
    "session.closed_time": "Lúc {time} ngày {date}",
    "status.provisional": "Chờ Ban kiểm phiếu xác nhận",
    "floor.kind.speak": "Phát biểu",
    "floor.kind.reply": "Tranh luận",
    "floor.kind.question": "Chất vấn",
    "floor.kind.answer": "Trả lời chất vấn",
    "floor.kind.follow_up": "Chất vấn bổ sung",
    "floor.seat": "Ghế {seat}",
    "floor.put_to": "Chất vấn: {name}, {post}",
    "floor.paused": "Tạm dừng",
    "floor.over": "Quá giờ",
    "reason.other": "Bị từ chối",
  },
  en: {
    "kind.report": "Report",
    "kind.proposal": "Proposal",
    "kind.draft_resolution": "Draft resolution",
    "kind.question_session": "Question session",
    "kind.election": "Election",
    "kind.other": "Other",
    "document.kind.submission": "Submission",
    "document.kind.report": "Report",
    "document.kind.draft_resolution": "Draft resolution",
    "document.kind.other": "Other document",
    "document.size_kb": "{n} KB",
    "document.size_mb": "{n} MB",
    "present.page": "Page {page} of {pages}",
    "round.versions": "Voting on: {list}",
    "round.version": "{title} (version {n})",
    "status.pending": "Not yet voted",
    "status.voting": "Voting",
    "status.passed": "Passed",
    "status.not_passed": "Not passed",
    "status.counted": "Counted",
    "paper.mark.election.1": "Approve",
    "paper.mark.rating.1": "High confidence",
    "paper.mark.rating.2": "Confidence",
    "paper.mark.rating.3": "Low confidence",
    "paper.mark.no_confidence.1": "Confidence",
    "paper.mark.no_confidence.2": "No confidence",
    "paper.returned": "Ballot papers returned: {n} ({pct} of all seats)",
    "paper.elected": "Elected: {names}",
    "paper.nobody": "Nobody elected",
    "paper.tie": "Tied, to vote again between: {names}",
    "paper.low_over_half": "Low confidence from more than half of all delegates: {n}",
    "paper.flagged": "No-confidence votes reaching the rule: {n}",
    "paper.col.number": "No.",
    "paper.col.name": "Name",
    "paper.col.outcome": "Outcome",
    "paper.outcome.elected": "Elected",
    "paper.outcome.tie": "Tied",
    "paper.outcome.low_over_half": "Low from over half",
    "paper.outcome.low_two_thirds": "Low from two thirds",
    "paper.outcome.flagged": "No confidence reached",
    "paper.of_all": "Percentages are of all {total} seats.",
    "status.voided": "Voided",
    "result.by_hand": "Recorded by hand — entered by {by} at {time}",
    "result.by_hand_paper": "Counted by hand — paper ballots counted by the counting board; entered by {by} at {time}",
    "paper.valid": "Valid ballot papers: {valid}; invalid: {invalid}",
    "result.official": {
      count: "taking",
      one: "{taking} delegate took part in the vote ({taking_pct} of all seats); {yes} {yes_label} ({yes_pct}), {no} {no_label} ({no_pct}), {abstain} {abstain_label} ({abstain_pct}).",
      other:
        "{taking} delegates took part in the vote ({taking_pct} of all seats); {yes} {yes_label} ({yes_pct}), {no} {no_label} ({no_pct}), {abstain} {abstain_label} ({abstain_pct}).",
    },
    "rule.more_than": "more than {fraction} of {base}",
    "rule.at_least": "at least {fraction} of {base}",
    "rule.base.all_seats": "all seats",
    "rule.base.present": "delegates present",
    "rule.base.cast": "delegates voting",
    "rule.base.yes_no": "yes and no votes",
    "secrecy.named": "Open vote",
    "secrecy.secret": "Secret ballot",
    "conn.connecting": "Connecting…",
    "conn.reconnecting": "Connection lost — reconnecting…",
    "conn.refused": "Refused by the server",
    "seconds": "seconds",
    "language": "Tiếng Việt",
    "reason.late": "The voting time is over",
    "reason.no_open_round": "No vote is open",
    "reason.wrong_round": "This vote has ended",
    "reason.documents_changed": "The ballot was signed on other versions of the documents than this vote's; fetch the documents again and vote again",
    "reason.round_paused": "The chair has paused the vote; please wait",
    "reason.wrong_ballot_kind": "This ballot is not of the kind the item holds",
    "reason.not_checked_in": "Check in before voting",
    "reason.change_not_allowed": "This vote does not allow changing your choice",
    "reason.change_lost_in_restart": "Your secret ballot was recorded before the server restarted and still counts, but it can no longer be changed",
    "reason.stale_sequence": "A newer choice is already recorded",
    "reason.bad_signature": "Invalid signature",
    "reason.unknown_code": "Wrong enrollment code",
    "reason.code_used": "This enrollment code was already used",
    "reason.code_expired": "This enrollment code has expired",
    "reason.unknown_key": "This device is not enrolled for the meeting",
    "reason.key_revoked": "The secretariat revoked this device's key; enroll it again with a new code",
    "reason.unknown_meeting": "No such meeting",
    "reason.not_chair": "Only the chair can do this",
    "reason.invalid_command": "This does not fit the meeting's state",
    "reason.store_unavailable": "The server could not store it; try again",
    "reason.rate_limited": "Too many requests; wait a moment",
    "reason.connection_lost": "Connection lost; try again",
    "reason.not_under_discussion": "This item is not under discussion",
    "reason.already_requested": "You already have a request waiting",
    "reason.no_such_request": "No request is waiting",
    "reason.unknown_respondent": "Choose whom to question from the list",
    "reason.wrong_floor_kind": "This kind of turn is not asked for on this item",
    "reason.topic_too_long": "The topic is too long",
    "reason.topic_not_text": "A topic is one line of text",
    "reason.unknown_document": "The meeting has no such document",
    "reason.no_such_page": "The document has no such page",
    "reason.not_on_board": "Only a member of the counting board can confirm the count",
    "reason.not_provisional": "No count is awaiting confirmation",
    "reason.count_mismatch": "The count differs from the one counted; reload and compare",
    "reason.already_confirmed": "This member has already confirmed the count",
    "reason.too_few_confirmations": "Too few members of the counting board have confirmed the count",
    "reason.no_list": "This item is not voted on with a list",
    "reason.item_voted": "This item has been voted on; its list can no longer change",
    "reason.list_length": "A list has between 1 and 200 names",
    "reason.name_missing": "Every candidate or official on the list needs a name",
    "reason.name_twice": "A name is on the list twice",
    "reason.posts_out_of_range": "An election fills between 1 post and as many as it has candidates",
    "reason.session_closed": "The session is closed",
    "reason.session_busy": "The session cannot close while a vote, an announcement or a speaker's turn is pending",
    "session.closed": "The session is closed",
    "session.closed_at": "The session closed at {time} on {date}",
    "session.closed_time": "At {time} on {date}",
    "status.provisional": "Awaiting the counting board",
    "floor.kind.speak": "Speech",
    "floor.kind.reply": "Reply",
    "floor.kind.question": "Question",
    "floor.kind.answer": "Answer",
    "floor.kind.follow_up": "Follow-up question",
    "floor.seat": "Seat {seat}",
    "floor.put_to": "To: {name}, {post}",
    "floor.paused": "Paused",
    "floor.over": "Over time",
    "reason.other": "Refused",
  },
};

export function currentLang() {
  const saved = localStorage.getItem("gavel.lang");
  const fromUrl = new URLSearchParams(location.search).get("lang");
  return fromUrl === "en" || fromUrl === "vi" ? fromUrl : saved === "en" ? "en" : "vi";
}

/** Switches the language and remembers it; a `?lang=` in the address would override it, so it goes. */
export function setLang(lang) {
  localStorage.setItem("gavel.lang", lang);
  document.documentElement.lang = lang;
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.delete("lang");
    history.replaceState(null, "", url);
  }
}

/**
 * A translator for the current language: `t("key", {var: value})`. Unknown
 * keys show themselves, so a missing word is visible rather than blank.
 */
export function makeTranslator(appWords) {
  return (key, vars = {}) => {
    const lang = currentLang();
    return fill(appWords[lang]?.[key] ?? COMMON[lang][key] ?? key, lang, vars);
  };
}

/**
 * One entry's text with its {placeholders} filled. An entry whose words
 * follow a number is an object of plural forms, named as `Intl.PluralRules`
 * names them (`one`, `other`), with `count` naming the variable that
 * chooses: English says "1 delegate took part" and "2 delegates took part",
 * Vietnamese has one form. A count that is not a number takes `other`.
 */
export function fill(entry, lang, vars) {
  const text =
    typeof entry === "string"
      ? entry
      : (entry[new Intl.PluralRules(lang).select(Number(vars[entry.count]))] ?? entry.other);
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The words for a refusal reason. */
export function reasonText(t, reason) {
  const key = `reason.${reason}`;
  const text = t(key);
  return text === key ? t("reason.other") : text;
}
