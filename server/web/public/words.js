// The public page's own words, in Vietnamese and English; the hall screen's
// (../screen/words.js) and every app's (/common/i18n.js) come with them.

export const WORDS = {
  vi: {
    "page.title": "Trang thông tin kỳ họp",
    "results": "Kết quả biểu quyết",
    "resolutions": "Nghị quyết đã được thông qua",
    "resolutions.note": "Văn bản dưới mỗi nghị quyết là văn bản Hội đồng nhân dân đã biểu quyết thông qua.",
    "minutes": "Biên bản kết quả biểu quyết",
    "minutes.note": "Lập từ hồ sơ điện tử của kỳ họp, như bản xuất; đầy đủ khi kỳ họp bế mạc.",
    "minutes.note_final": "Bản cuối cùng, lập từ hồ sơ điện tử của kỳ họp sau khi bế mạc, như bản xuất.",
    "closed.note": "Dưới đây là kết quả biểu quyết, các nghị quyết đã được thông qua và biên bản của kỳ họp.",
    "minutes.open": "Mở biên bản trong trang mới",
    "minutes.title": "Biên bản kết quả biểu quyết của kỳ họp",
    "agenda.documents": "Chương trình kỳ họp và tài liệu công khai",
    "documents.none": "Không có tài liệu công khai",
    "document.version": "bản {version}",
  },
  en: {
    "page.title": "Session information",
    "results": "Voting results",
    "resolutions": "Resolutions adopted",
    "resolutions.note": "The text under each resolution is the text the council voted to adopt.",
    "minutes": "Minutes of the voting results",
    "minutes.note": "Printed from the session's electronic record, as the export prints them; complete once the session has closed.",
    "minutes.note_final": "Final: printed from the session's electronic record after its close, as the export prints them.",
    "closed.note": "Below are the session's voting results, the resolutions it adopted and its minutes.",
    "minutes.open": "Open the minutes in a new page",
    "minutes.title": "Minutes of the session's voting results",
    "agenda.documents": "Agenda and public documents",
    "documents.none": "No public documents",
    "document.version": "version {version}",
  },
};
