// Ballots on a list in the browser: a confidence rating of 30 officials and
// an election of two candidates for one post, both secret, against a real
// gavel server. A tablet (10-inch) and a phone mark the whole paper, review
// it and cast it as one signed paper with one receipt; an election's cap
// holds on the tablet; the chair closes and the hall screen and the tablets
// show what the papers came to.

import { after, before } from "node:test";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { GavelServer, launchBrowser, logTail, openApp, screenshot, setField, storySteps, waitFor } from "./harness.mjs";

const STEP_MS = 180_000;
const MEETING = "phieu-trinh-duyet";
const OFFICIALS = 30;
const ELECTION_ITEM = 0;
const RATING_ITEM = 1;

/** A five-seat council: an election of two candidates for one post, and a rating of 30 officials. */
function meetingFile() {
  const seats = [1, 2, 3, 4, 5].map((n) => `[[seats]]\nnumber = ${n}\nname = "Đại biểu số ${n}"\n`).join("\n");
  const officials = Array.from({ length: OFFICIALS }, (_, i) => `  { name = "Nguyễn Văn Cán Bộ ${i + 1}", post = "Trưởng phòng số ${i + 1}" },`).join("\n");
  return `id = "${MEETING}"
title = "Kỳ họp thứ mười ba"
body = "Hội đồng nhân dân phường Thử Nghiệm"
total_seats = 5

${seats}
[[topics]]
title = "Công tác nhân sự"

[[topics.items]]
kind = "election"
title = "Bầu Phó Chủ tịch Hội đồng nhân dân phường"
vote = { secrecy = "secret", interim = "none" }
ballot = "election"
posts = 1
candidates = [
  { name = "Lê Hoàng Cường", post = "Ủy viên Thường trực" },
  { name = "Phạm Thu Dung", post = "Trưởng Ban Pháp chế" },
]

[[topics.items]]
kind = "other"
title = "Lấy phiếu tín nhiệm đối với người giữ chức vụ do Hội đồng nhân dân bầu"
vote = { secrecy = "secret", interim = "none" }
ballot = "rating"
officials = [
${officials}
]
`;
}

let server;
let browser;
let codes;
const app = { chair: null, screen: null, tablet: null, phone: null };
const step = storySteps(STEP_MS, (t) => logTail(t, server));

/** The mark button of `entry` (0-based) and `mark` on a page's paper. */
function markButton(page, entry, mark) {
  return page.locator("#paper-entries > li").nth(entry).locator(`button[data-mark="${mark}"]`);
}

async function openVote(item) {
  await app.chair.getByTestId(`agenda-item-${item}`).click();
  await waitFor(app.chair, `agenda-item-${item}`, { attr: "aria-current", value: "step" });
  await setField(app.chair, "window-seconds", 300);
  await app.chair.getByTestId("open-vote").click();
  for (const page of [app.tablet, app.phone]) await waitFor(page, "round-state", { attr: "data-state", value: "open" });
}

async function closeVote() {
  await app.chair.getByTestId("close-vote").click();
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  for (const page of [app.tablet, app.phone]) await waitFor(page, "round-state", { attr: "data-state", value: "closed" });
}

/** Scrolls the page to the top of the vote panel, for a screenshot. */
async function showPanel(page) {
  await page.evaluate(() => document.getElementById("vote-panel").scrollIntoView({ block: "start" }));
}

async function toggleLanguage(page) {
  await page.getByTestId("lang-toggle").click();
}

before(async () => {
  const dir = await import("node:os").then((os) => os.tmpdir());
  const file = path.join(dir, `${MEETING}-${process.pid}.toml`);
  await writeFile(file, meetingFile());
  server = await GavelServer.withMeeting(file);
  codes = await server.codes("1-2", MEETING);
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

step("1. the chair, a tablet, a phone and the hall screen join", async () => {
  app.chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await app.chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await app.chair.getByTestId(`agenda-item-${ELECTION_ITEM}`).waitFor();
  app.tablet = await openApp(browser, "tablet-seat-1", { width: 1280, height: 800 });
  app.phone = await openApp(browser, "phone-seat-2", { width: 390, height: 844, phone: true });
  for (const [i, page] of [app.tablet, app.phone].entries()) {
    await page.goto(`${server.url}/tablet/?code=${codes.seats.get(i + 1).code}`);
    await page.getByTestId("check-in").click();
    await waitFor(page, "checked-in", {});
  }
  app.screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await app.screen.goto(`${server.url}/screen/?meeting=${MEETING}`);
});

step("2. a 30-official rating is marked, reviewed and cast as one paper", async () => {
  await openVote(RATING_ITEM);
  const tablet = app.tablet;
  await waitFor(tablet, "paper", { attr: "data-kind", value: "rating" });
  // Official n gets level (n mod 3) + 1; official 30 stays blank.
  for (let entry = 0; entry < OFFICIALS - 1; entry++) await markButton(tablet, entry, (entry % 3) + 1).click();
  // Pressing a chosen level again clears it; pressing another replaces it.
  await markButton(tablet, 0, 1).click();
  await markButton(tablet, 0, 3).click();
  await waitFor(tablet, "paper-count", { text: `Đã đánh dấu ${OFFICIALS - 1}/${OFFICIALS}` });
  await showPanel(tablet);
  await screenshot(tablet, "tablet-paper");
  await toggleLanguage(tablet);
  await waitFor(tablet, "paper-count", { text: `Marked ${OFFICIALS - 1} of ${OFFICIALS}` });
  await screenshot(tablet, "tablet-paper-en");
  await toggleLanguage(tablet);

  await tablet.getByTestId("paper-next").click();
  await waitFor(tablet, "paper-review", {});
  await waitFor(tablet, "paper-blank", { text: "Để trống: 1 người" });
  await screenshot(tablet, "tablet-paper-review");
  // Back to change one mark, then review and cast.
  await tablet.getByTestId("paper-edit").click();
  await markButton(tablet, 1, 1).click();
  await tablet.getByTestId("paper-next").click();
  await tablet.getByTestId("paper-next").click();
  await waitFor(tablet, "receipt", { attr: "data-kind", value: "rating" });
  await waitFor(tablet, "receipt", { contains: `${OFFICIALS - 1} dấu chọn` });

  // The phone rates three officials and casts.
  const phone = app.phone;
  for (const [entry, mark] of [[0, 3], [1, 2], [2, 1]]) await markButton(phone, entry, mark).click();
  await screenshot(phone, "tablet-phone-paper");
  await phone.getByTestId("paper-next").click();
  await waitFor(phone, "paper-review", {});
  await phone.getByTestId("paper-next").click();
  await waitFor(phone, "receipt", { contains: "3 dấu chọn" });

  await closeVote();
  await waitFor(tablet, "paper-result", {});
  // Official 1: low from both seats; official 2: high from the tablet, confidence from the phone.
  const first = await tablet.getByTestId("paper-table").locator("tbody tr").nth(0).innerText();
  if (!first.replace(/\s+/g, " ").includes("2 (40,00%)")) throw new Error(`official 1's row: ${first}`);
  await showPanel(tablet);
  await screenshot(tablet, "tablet-paper-result");
  await waitFor(app.screen, "result-banner", { contains: "Đã kiểm phiếu" });
});

step("3. an election holds its cap and elects the candidate with a majority of all seats", async () => {
  await openVote(ELECTION_ITEM);
  const tablet = app.tablet;
  await markButton(tablet, 0, 1).click();
  const second = markButton(tablet, 1, 1);
  if (!(await second.isDisabled())) throw new Error("a second approval over the cap of one post is offered");
  await tablet.getByTestId("paper-next").click();
  await tablet.getByTestId("paper-next").click();
  await waitFor(tablet, "receipt", { attr: "data-kind", value: "election" });
  const phone = app.phone;
  await markButton(phone, 0, 1).click();
  await phone.getByTestId("paper-next").click();
  await phone.getByTestId("paper-next").click();
  await waitFor(phone, "receipt", { attr: "data-kind", value: "election" });
  await closeVote();
  // Two of five seats is not more than half of all seats: nobody is elected.
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  await waitFor(app.screen, "screen-paper-summary", { contains: "Không có người trúng cử" });
  const first = await app.screen.getByTestId("screen-paper-table").locator("tbody tr").nth(0).innerText();
  if (!first.replace(/\s+/g, " ").includes("Lê Hoàng Cường Ủy viên Thường trực 2 (40,00%)")) throw new Error(`the hall's first row: ${first}`);
  await screenshot(app.screen, "screen-election-result");
});
