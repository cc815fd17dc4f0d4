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
    "minutes.open": "Open the minutes in a new page",
    "minutes.title": "Minutes of the session's voting results",
    "agenda.documents": "Agenda and public documents",
    "documents.none": "No public documents",
    "document.version": "version {version}",
  },
};
