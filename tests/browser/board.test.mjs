// The counting board in the browser: a secret election closes in a meeting
// whose board is seats 1 and 2, both of whom must confirm. Until they have,
// the hall screen and a delegate off the board see the ballots returned
// only; the chair sees the provisional count and who confirmed, and an
// early announcement is refused with its reason. Each member's tablet shows
// the count and signs its confirmation; then the chair announces and every
// screen shows the result, and a delegate's tablet checks its ballot's
// tracker against the published list. Against a real gavel server, in Chromium.

import { after, before } from "node:test";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { GavelServer, launchBrowser, logTail, openApp, screenshot, setField, storySteps, waitFor } from "./harness.mjs";

const STEP_MS = 180_000;
const MEETING = "ban-kiem-phieu";
const ELECTION_ITEM = 0;

/** A five-seat council with a counting board of seats 1 (its head) and 2, and a secret election. */
function meetingFile() {
  const seats = [1, 2, 3, 4, 5].map((n) => `[[seats]]\nnumber = ${n}\nname = "Đại biểu số ${n}"\n`).join("\n");
  return `id = "${MEETING}"
title = "Kỳ họp thứ mười bốn"
body = "Hội đồng nhân dân phường Thử Nghiệm"
total_seats = 5

${seats}
[counting_board]
seats = [1, 2]
confirmations = 2

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
`;
}

let server;
let browser;
let codes;
const app = { chair: null, screen: null, head: null, member: null, delegate: null };
const step = storySteps(STEP_MS, (t) => logTail(t, server));

/** The tablets of seats 1 (the board's head), 2 (a member) and 3 (off the board). */
function tablets() {
  return [app.head, app.member, app.delegate];
}

/** Marks candidate `entry` on a page's election paper, reviews and casts it. */
async function approve(page, entry) {
  await page.locator("#paper-entries > li").nth(entry).locator('button[data-mark="1"]').click();
  await page.getByTestId("paper-next").click();
  await page.getByTestId("paper-next").click();
  await waitFor(page, "receipt", { attr: "data-kind", value: "election" });
}

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
  codes = await server.codes("1-3", MEETING);
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

step("1. the chair, three tablets and the hall screen join; three seats vote in a secret election", async () => {
  app.chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await app.chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await app.chair.getByTestId(`agenda-item-${ELECTION_ITEM}`).waitFor();
  app.head = await openApp(browser, "tablet-seat-1", { width: 1280, height: 800 });
  app.member = await openApp(browser, "tablet-seat-2", { width: 1280, height: 800 });
  app.delegate = await openApp(browser, "tablet-seat-3", { width: 1280, height: 800 });
  for (const [i, page] of tablets().entries()) {
    await page.goto(`${server.url}/tablet/?code=${codes.seats.get(i + 1).code}`);
    await page.getByTestId("check-in").click();
    await waitFor(page, "checked-in", {});
  }
  app.screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await app.screen.goto(`${server.url}/screen/?meeting=${MEETING}`);

  await app.chair.getByTestId(`agenda-item-${ELECTION_ITEM}`).click();
  await setField(app.chair, "window-seconds", 300);
  await app.chair.getByTestId("open-vote").click();
  for (const page of tablets()) await waitFor(page, "round-state", { attr: "data-state", value: "open" });
  // Candidate 2 gets three approvals of five seats: more than half of all seats.
  for (const page of tablets()) await approve(page, 1);
  await app.chair.getByTestId("close-vote").click();
});

step("2. until the board confirms, the hall and a delegate off the board see the turnout only", async () => {
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "provisional" });
  await waitFor(app.screen, "provisional-turnout", { contains: "Số phiếu thu vào: 3/5" });
  await waitFor(app.screen, "provisional-board", { contains: "0/2" });
  const shown = await app.screen.locator("#stage").innerText();
  if (shown.includes("Phạm Thu Dung") || shown.includes("trúng cử")) throw new Error(`the hall screen shows the count: ${shown}`);
  await screenshot(app.screen, "screen-board-provisional");

  const delegate = app.delegate;
  await waitFor(delegate, "round-state", { attr: "data-state", value: "provisional" });
  await waitFor(delegate, "provisional-turnout", { contains: "3 (60,00%" });
  if (await delegate.getByTestId("board-confirm").isVisible()) throw new Error("a delegate off the board is asked to confirm");

  // The chair sees the count and that nobody has confirmed; announcing now is refused.
  await waitFor(app.chair, "board-panel", {});
  await waitFor(app.chair, "board-result", { contains: "Phạm Thu Dung" });
  await waitFor(app.chair, "board-progress", { text: "0/2 thành viên đã xác nhận" });
  await app.chair.getByTestId("announce-result").click();
  await waitFor(app.chair, "chair-error", { attr: "data-reason", value: "too_few_confirmations" });
  await waitFor(app.chair, "chair-error", { contains: "Chưa đủ thành viên Ban kiểm phiếu xác nhận" });
});

step("3. each member's tablet shows the count and signs its confirmation", async () => {
  const head = app.head;
  await waitFor(head, "round-state", { attr: "data-state", value: "provisional" });
  await waitFor(head, "board-confirm", {});
  await waitFor(head, "board-count", { contains: "Phạm Thu Dung 3" });
  await showPanel(head);
  await screenshot(head, "tablet-board-confirm");
  await toggleLanguage(head);
  await waitFor(head, "board-confirm-button", { text: "Confirm the count" });
  await showPanel(head);
  await screenshot(head, "tablet-board-confirm-en");
  await toggleLanguage(head);
  await head.getByTestId("board-confirm-button").click();
  await waitFor(head, "board-confirmed", { contains: "Bạn đã xác nhận kết quả kiểm phiếu lúc" });
  await waitFor(app.chair, "board-progress", { text: "1/2 thành viên đã xác nhận" });
  await waitFor(app.screen, "provisional-board", { contains: "1/2" });

  await app.member.getByTestId("board-confirm-button").click();
  await waitFor(app.member, "board-confirmed", {});
  await waitFor(app.chair, "board-progress", { text: "2/2 thành viên đã xác nhận" });
  // The early announcement's refusal is dismissed before the picture.
  await app.chair.locator("#chair-error-dismiss").click();
  await screenshot(app.chair, "chair-board");
  await toggleLanguage(app.chair);
  await waitFor(app.chair, "board-progress", { text: "2 of 2 members have confirmed" });
  await screenshot(app.chair, "chair-board-en");
  await toggleLanguage(app.chair);
});

step("4. the chair announces and every screen shows the result", async () => {
  await app.chair.getByTestId("announce-result").click();
  await app.chair.getByTestId("board-panel").waitFor({ state: "hidden" });
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  const screenText = await app.screen.locator(".result-body").innerText();
  if (!screenText.includes("Phạm Thu Dung")) throw new Error(`the hall screen says: ${screenText}`);
  for (const page of tablets()) {
    await waitFor(page, "round-state", { attr: "data-state", value: "closed" });
    await waitFor(page, "paper-result", {});
  }
});

step("5. a delegate's tablet shows its ballot's tracker and finds it counted in the published list", async () => {
  const page = app.delegate;
  await waitFor(page, "tracker-code", {});
  const code = await page.getByTestId("tracker-code").innerText();
  if (!/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/.test(code)) throw new Error(`the tracker reads ${JSON.stringify(code)}`);
  const served = page.waitForResponse((response) => response.url().endsWith("/trackers"));
  await page.getByTestId("tracker-check").click();
  const list = await (await served).json();
  await waitFor(page, "tracker-result", { attr: "data-status", value: "counted" });
  await waitFor(page, "tracker-result", { contains: "Phiếu của bạn đã được tính: phiếu có 1 dấu chọn" });
  await showPanel(page);
  await screenshot(page, "tablet-ballot-checked");
  await toggleLanguage(page);
  await waitFor(page, "tracker-result", { contains: "Your ballot was counted: a paper, 1 marked" });
  await showPanel(page);
  await screenshot(page, "tablet-ballot-checked-en");
  // The device keeps its tracker: after a reload (the server no longer says what this seat chose) it is still there.
  await page.reload();
  await waitFor(page, "tracker-code", { text: code });
  // The list the tablet read: the three papers, sorted by tracker, with no seat.
  if (list.ballots.length !== 3 || list.ballots.some((b) => "seat" in b)) throw new Error(`the list: ${JSON.stringify(list)}`);
  const trackers = list.ballots.map((b) => b.tracker);
  if (trackers.join() !== [...trackers].sort().join() || !trackers.includes(code.replaceAll(" ", ""))) throw new Error(`the list: ${JSON.stringify(list)}`);
});
