// The public page of a meeting, /public/{meeting}, as a citizen or the
// council's website sees it. The chair (gavel-tablet, a real client
// process) gives the floor to a guest and then runs a vote that three
// delegates' gavel-tablet processes take part in: the page shows the speaker
// and the clock, then the result, the resolution adopted with its public
// text, and the minutes, in Vietnamese and English. A delegates-only
// document of the same item never appears. A page of an allowed site frames
// it; a page of another site is refused by the browser. Screenshots of the
// whole page in both languages go to docs/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GavelServer, MEETING_ID, launchBrowser, meetingWithDocuments, openApp, screenshot, waitFor } from "./harness.mjs";

const ITEM = 2;
const ITEM_TITLE = "Dự thảo Nghị quyết phê chuẩn quyết toán thu ngân sách nhà nước trên địa bàn, thu, chi ngân sách phường năm 2025";
const RESOLUTION = {
  item: ITEM,
  title: "Dự thảo Nghị quyết phê chuẩn quyết toán ngân sách phường năm 2025",
  kind: "draft_resolution",
  file: "tai-lieu/du-thao-quyet-toan.pdf",
  public: true,
  sections: [
    ["Điều 1", "Phê chuẩn quyết toán thu ngân sách nhà nước trên địa bàn phường năm 2025."],
    ["Điều 2", "Ủy ban nhân dân phường tổ chức thực hiện Nghị quyết này."],
  ],
};
const AUDIT = {
  item: ITEM,
  title: "Báo cáo thẩm tra của Ban Kinh tế – Ngân sách (lưu hành nội bộ)",
  kind: "report",
  file: "tai-lieu/bao-cao-tham-tra.pdf",
  public: false,
  sections: [["Báo cáo thẩm tra", "Ban Kinh tế – Ngân sách thống nhất với dự thảo."]],
};

let server;
let browser;
let dir;
let allowed;
let refused;
const pages = [];

/** A site of its own (another origin) whose page frames the meeting's public page. */
async function framingSite() {
  const site = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(
      `<!doctype html><meta charset="utf-8"><title>HĐND phường</title><h1>Hội đồng nhân dân phường Phúc Lợi</h1>` +
        `<iframe id="gavel" src="${server.url}/public/${MEETING_ID}" width="1200" height="700"></iframe>`,
    );
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  site.origin = `http://127.0.0.1:${site.address().port}`;
  return site;
}

/** A page that records uncaught errors (openApp) and CSP violations. */
async function watched(name, size) {
  const page = await openApp(browser, name, size);
  page.violations = [];
  await page.exposeFunction("reportViolation", (text) => page.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  pages.push(page);
  return page;
}

before(async () => {
  browser = await launchBrowser();
  dir = await mkdtemp(path.join(tmpdir(), "gavel-public-"));
  allowed = await framingSite();
  refused = await framingSite();
  server = new GavelServer(dir, ["--public-frame-ancestor", allowed.origin]);
  const file = await meetingWithDocuments(browser, dir, [RESOLUTION, AUDIT]);
  // Three delegates decide the item: it passes with more than half of the votes cast.
  const meeting = await readFile(file, "utf8");
  const rule = '\nvote = { window_seconds = 90, rule = { base = "cast", threshold = "more_than_half" } }\n';
  await writeFile(file, meeting.replace("\nvote = { window_seconds = 90 }\n", rule));
  await server.cli("meeting", "import", file);
  const codes = await server.codes("1-3");
  await server.start();
  await server.tablet(path.join(dir, "chair.json"), "enroll", "--code", codes.chair);
  for (const seat of [1, 2, 3]) {
    await server.tablet(path.join(dir, `seat-${seat}.json`), "enroll", "--code", codes.seats.get(seat).code);
  }
});

after(async () => {
  for (const page of pages) assert.deepEqual([...page.errors, ...page.violations], [], `${page.appName}: no error, no CSP violation`);
  await browser?.close();
  await server?.dispose();
  allowed?.close();
  refused?.close();
});

const chair = (...args) => server.tablet(path.join(dir, "chair.json"), "chair", ...args);
const seat = (n, ...args) => server.tablet(path.join(dir, `seat-${n}.json`), ...args);

/** The page's whole text, the minutes frame's included. */
async function allText(page) {
  const texts = await Promise.all(page.frames().map((frame) => frame.locator("body").innerText().catch(() => "")));
  return texts.join("\n");
}

test("the public page: the floor, a result, the resolution and the minutes, never a delegates-only document", { timeout: 180_000 }, async () => {
  const page = await watched("public", { width: 1280, height: 800 });
  await page.goto(`${server.url}/public/${MEETING_ID}`);
  await waitFor(page, "meeting-title", { contains: "Kỳ họp thứ mười hai" });
  // The agenda lists the item's public text, whose link serves the PDF to anyone.
  await waitFor(page, "public-document", { text: RESOLUTION.title });
  const href = await page.getByTestId("public-document").getAttribute("href");
  const pdf = await fetch(new URL(href, server.url));
  assert.equal(pdf.status, 200);
  assert.equal((await pdf.text()).slice(0, 5), "%PDF-");

  // The floor, as the hall screen shows it: the speaker and the clock.
  await chair("item", String(ITEM + 1));
  await chair("floor-guest", "Nguyễn Quang Minh", "Chủ tịch Ủy ban nhân dân phường");
  await chair("floor-give");
  await waitFor(page, "screen-round-state", { attr: "data-state", value: "floor" });
  await waitFor(page, "screen-floor-name", { text: "Nguyễn Quang Minh" });
  const clock = await page.getByTestId("screen-floor-clock").getAttribute("data-seconds");
  assert.ok(Number(clock) > 0 && Number(clock) <= 300, `the clock counts down the turn: ${clock} s`);
  await chair("floor-end");
  await waitFor(page, "screen-round-state", { attr: "data-state", value: "none" });

  // The vote, live and then decided: 2 yes, 1 no of 3 cast.
  for (const n of [1, 2, 3]) await seat(n, "check-in");
  await chair("open");
  await waitFor(page, "screen-round-state", { attr: "data-state", value: "open" });
  await seat(1, "vote", "yes");
  await seat(2, "vote", "yes");
  await seat(3, "vote", "no");
  await chair("close");
  await waitFor(page, "result-banner", { attr: "data-passed", value: "true" });
  await waitFor(page, "public-result", { contains: "3 đại biểu tham gia biểu quyết (7,50% tổng số đại biểu); 2 tán thành (5,00%)" });
  await waitFor(page, "public-resolution", { text: ITEM_TITLE });
  // The resolution adopted shows the text voted on.
  const adopted = page.getByTestId("public-resolutions").getByTestId("public-document");
  assert.deepEqual(await adopted.allInnerTexts(), [RESOLUTION.title]);

  // The minutes, as the export prints them.
  const minutes = page.frameLocator("#minutes-frame");
  await minutes.getByText("BIÊN BẢN KẾT QUẢ BIỂU QUYẾT").waitFor();
  await minutes.getByText("phê chuẩn quyết toán", { exact: false }).first().waitFor();
  assert.ok(!(await allText(page)).includes(AUDIT.title), "the delegates-only document is not named anywhere");
  assert.ok(!(await allText(page)).includes(AUDIT.file));
  await screenshot(page, "public-vi", { fullPage: true });

  await page.getByTestId("lang-toggle").click();
  await waitFor(page, "public-result", { contains: "3 delegates took part" });
  await minutes.getByText("MINUTES OF THE VOTING RESULTS").waitFor();
  assert.ok(!(await allText(page)).includes(AUDIT.title));
  await screenshot(page, "public-en", { fullPage: true });
});

test("the council's site may frame the public page; another site may not", { timeout: 120_000 }, async () => {
  const framed = await watched("framed", { width: 1280, height: 800 });
  await framed.goto(allowed.origin);
  const inside = framed.frameLocator("#gavel");
  await inside.getByTestId("meeting-title").filter({ hasText: "Kỳ họp thứ mười hai" }).waitFor();
  await inside.getByTestId("public-resolution").filter({ hasText: ITEM_TITLE }).waitFor();

  const other = await openApp(browser, "refused", { width: 1280, height: 800 });
  const blocked = other.waitForEvent("console", { predicate: (m) => m.text().includes("frame-ancestors") });
  await other.goto(refused.origin);
  assert.ok((await blocked).text().includes(`violates the following Content Security Policy directive: "frame-ancestors ${allowed.origin}"`));
  for (const frame of other.frames().filter((f) => f !== other.mainFrame())) {
    assert.equal(await frame.locator("[data-testid=public-page]").count(), 0, "nothing of the page is shown");
  }
  await other.context().close();
});

test("only the public page may be framed, and the server refuses what it does not serve", async () => {
  const page = await fetch(`${server.url}/public/${MEETING_ID}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy"), new RegExp(`frame-ancestors ${allowed.origin};`));
  assert.equal(page.headers.get("x-frame-options"), null);
  const screen = await fetch(`${server.url}/screen/`);
  assert.match(screen.headers.get("content-security-policy"), /frame-ancestors 'none'/);
  assert.equal(screen.headers.get("x-frame-options"), "DENY");
  const minutes = await fetch(`${server.url}/api/meetings/${MEETING_ID}/minutes?lang=en`);
  assert.equal(minutes.status, 200);
  assert.match(minutes.headers.get("content-security-policy"), new RegExp(`frame-ancestors 'self' ${allowed.origin}`));
  assert.equal((await fetch(`${server.url}/public/no-such-meeting`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/meetings/no-such-meeting/minutes`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/meetings/${MEETING_ID}/minutes?lang=fr`)).status, 400);
});
