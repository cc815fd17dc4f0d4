// The landing page: a card per meeting this hub runs, with links to its hall
// screen, its public page, the delegates' tablet and the chair's console. A
// file of its own, not an inline script, because the server's
// Content-Security-Policy allows scripts and styles from its own files only.

import { $, h } from "../common/dom.js";

function meetingCard(meeting) {
  const id = encodeURIComponent(meeting.id);
  return h(
    "section",
    { class: "meeting", "data-testid": `meeting-${meeting.id}` },
    h("h2", {}, meeting.title),
    h("p", {}, meeting.body),
    h(
      "div",
      { class: "apps" },
      h("a", { href: `/screen/?meeting=${id}` }, "Màn hình hội trường · Hall screen"),
      h("a", { href: `/public/${id}` }, "Trang công khai · Public page"),
      h("a", { href: "/tablet/" }, "Máy tính bảng đại biểu · Tablet"),
      h("a", { href: "/chair/" }, "Chủ tọa · Chair"),
    ),
  );
}

async function main() {
  const list = $("meetings");
  const meetings = await (await fetch("/api/meetings")).json();
  list.replaceChildren(
    ...(meetings.length ? meetings.map(meetingCard) : [h("p", { class: "empty" }, "Chưa có kỳ họp nào · No meeting yet")]),
  );
  list.dataset.loaded = "true";
}

main();
