// Following the presenter, end to end: the chair puts a page of the first
// item's public submission before the hall from the console and turns it;
// the hall screen shows each page large; a delegate's tablet that follows
// turns its reader to it, and stays where it is once the delegate stops
// following. A delegates-only document is shown on the tablets but never
// on the hall screen, which could not fetch it. Screenshots of the console,
// the hall screen and the following tablet in Vietnamese and English go to
// docs/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GavelServer, launchBrowser, meetingWithDocuments, openApp, screenshot, waitFor } from "./harness.mjs";

const SUBMISSION = {
  item: 0,
  title: "Tờ trình về chương trình giám sát năm 2027",
  kind: "submission",
  file: "tai-lieu/to-trinh-giam-sat.pdf",
  public: true,
  sections: [
    ["I. Sự cần thiết", "Hoạt động giám sát của Hội đồng nhân dân cần tập trung vào những vấn đề cử tri quan tâm."],
    ["II. Nội dung giám sát", "Giám sát việc thực hiện dự toán ngân sách và các công trình đầu tư công trên địa bàn."],
    ["III. Thời gian thực hiện", "Các đoàn giám sát hoạt động từ tháng Ba đến tháng Mười năm 2027."],
    ["IV. Đề nghị", "Kính trình Hội đồng nhân dân xem xét, quyết định."],
  ],
};
const DRAFT = {
  item: 0,
  title: "Dự thảo Nghị quyết về chương trình giám sát",
  kind: "draft_resolution",
  file: "tai-lieu/du-thao-giam-sat.pdf",
  public: false,
  sections: [
    ["Điều 1", "Thông qua chương trình giám sát năm 2027 của Hội đồng nhân dân."],
    ["Điều 2", "Thường trực Hội đồng nhân dân tổ chức thực hiện Nghị quyết này."],
  ],
};

let server;
let browser;
let codes;
let chair;
let tablet;
let screen;

before(async () => {
  browser = await launchBrowser();
  server = new GavelServer(await mkdtemp(path.join(tmpdir(), "gavel-presenting-")));
  await server.cli("meeting", "import", await meetingWithDocuments(browser, server.dataDir, [SUBMISSION, DRAFT]));
  codes = await server.codes("1");
  await server.start();
});

after(async () => {
  for (const page of [chair, tablet, screen]) assert.deepEqual(page?.errors ?? [], []);
  await browser?.close();
  await server?.dispose();
});

/** The chair presses a button of the presenting panel: a row's (by document) or a page turn. */
async function press(testId, row = null) {
  const scope = row === null ? chair : chair.getByTestId("chair-present-row").filter({ hasText: row.title });
  await scope.getByTestId(testId).click();
}

test("the chair presents a page, the hall screen shows it and a following tablet turns to it", { timeout: 180_000 }, async () => {
  chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await chair.getByTestId("agenda-item-0").click();
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });

  screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await screen.addInitScript(() => {
    window.policyViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.policyViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await screen.goto(`${server.url}/screen/`);
  await waitFor(screen, "screen-item-title", { contains: "" });

  tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(1).code}`);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "prefetch", { attr: "data-state", value: "done" });
  // Nothing is presented yet: the tablet offers nothing to follow.
  assert.equal(await tablet.getByTestId("presenting").isVisible(), false);

  // The first page of the public submission, on every screen.
  await press("chair-present", SUBMISSION);
  await waitFor(chair, "chair-present-page", { text: "Trang 1/4" });
  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "document" });
  await waitFor(screen, "screen-presented-sheet", { attr: "data-page", value: "1" });
  await waitFor(screen, "screen-presented-page", { text: "Trang 1/4" });
  await waitFor(tablet, "presenting-text", { text: `Chủ tọa đang trình chiếu: ${SUBMISSION.title} (Trang 1/4)` });
  await tablet.getByTestId("presenting").scrollIntoViewIfNeeded();
  await screenshot(tablet, "tablet-presenting-vi");
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "presenting-text", { text: `The chair is presenting: ${SUBMISSION.title} (Page 1 of 4)` });
  await screenshot(tablet, "tablet-presenting-en");
  await tablet.getByTestId("lang-toggle").click();

  // The delegate follows: the reader opens the presented document at its page, and turns with it.
  await tablet.getByTestId("follow-presenter").click();
  await waitFor(tablet, "reader-title", { text: SUBMISSION.title });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: "1" });
  await waitFor(tablet, "reader-follow", { attr: "aria-pressed", value: "true" });
  await press("chair-present-next");
  await waitFor(chair, "chair-present-page", { text: "Trang 2/4" });
  await press("chair-present-next");
  await waitFor(screen, "screen-presented-sheet", { attr: "data-page", value: "3" });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: "3" });
  // The hall sees the page drawn, not an empty frame: the canvas has the stage's height.
  const drawn = await screen.getByTestId("screen-presented-sheet").evaluate((sheet) => {
    const canvas = sheet.querySelector("canvas");
    return { canvas: canvas?.clientHeight ?? 0, sheet: sheet.clientHeight };
  });
  assert.ok(drawn.canvas > 0.9 * drawn.sheet, `the page is ${drawn.canvas} px high on a ${drawn.sheet} px stage`);

  await screenshot(chair, "chair-presenting-vi");
  await screenshot(screen, "screen-presenting-vi");
  await screenshot(tablet, "tablet-following-vi");
  for (const page of [chair, screen, tablet]) await page.getByTestId("lang-toggle").click();
  await waitFor(chair, "chair-present-page", { text: "Page 3 of 4" });
  await waitFor(screen, "screen-presented-page", { text: "Page 3 of 4" });
  await waitFor(tablet, "reader-follow", { text: "✓ Following the presenter" });
  await screenshot(chair, "chair-presenting-en");
  await screenshot(screen, "screen-presenting-en");
  await screenshot(tablet, "tablet-following-en");
  for (const page of [chair, screen, tablet]) await page.getByTestId("lang-toggle").click();

  // Once the delegate stops following, the chair's next page moves the hall, not the tablet.
  await tablet.getByTestId("reader-follow").click();
  await waitFor(tablet, "reader-follow", { attr: "aria-pressed", value: "false" });
  await press("chair-present-next");
  await waitFor(screen, "screen-presented-sheet", { attr: "data-page", value: "4" });
  await waitFor(chair, "chair-present-next", { attr: "disabled", value: "" });
  assert.equal(await tablet.getByTestId("reader-sheet").getAttribute("data-page"), "3");

  // A delegates-only document: on the tablets, never on the hall screen.
  await press("chair-present", DRAFT);
  await waitFor(chair, "chair-present-shown", { contains: "Chỉ trên máy tính bảng" });
  // The tablet's reader is open, over the line that names it.
  await waitFor(tablet, "presenting-text", { contains: DRAFT.title, visible: false });
  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "none" });
  assert.equal(await screen.getByTestId("screen-presented-sheet").count(), 0);

  // Taken down: nothing presented anywhere.
  await press("chair-present-stop");
  await waitFor(tablet, "presenting", { visible: false, attr: "hidden", value: "" });
  await chair.getByTestId("chair-present-shown").waitFor({ state: "detached" });
  assert.deepEqual(await screen.evaluate(() => window.policyViolations), []);
});
