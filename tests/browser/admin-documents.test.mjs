// The agenda items' documents in the secretariat's app at /admin/: a meeting
// built in the app gets a PDF made in the test attached to its item, after
// a file without a title and a file that is not a PDF are refused with the
// field marked, in both languages. The delegate's tablet, logged in with the
// item on the floor, lists the document; the secretariat replaces it with a
// new version, and the same tablet, still open, lists version 2. Once the
// chair opens the vote on the item, the view offers no change to its documents.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { GavelServer, launchBrowser, makePdf, openApp, screenshot, waitFor } from "./harness.mjs";

const MEETING = "phuong-tai-lieu-2027-ky-1";
const TITLE = "Dự thảo Nghị quyết về kế hoạch đầu tư công năm 2027";

let server;
let browser;

before(async () => {
  server = await GavelServer.withExampleMeeting();
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function switchTo(page, lang) {
  if ((await page.evaluate(() => document.documentElement.lang)) !== lang) await page.getByTestId("lang-toggle").click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/** A fresh browser context with a secretariat key enrolled by `gavel codes --admin`, on the list of meetings. */
async function enrolledPage(name) {
  const stdout = await server.cli("codes", "--admin", "--count", "1");
  const [, code] = stdout.match(/^(\S+)\s+secretariat\b/m);
  const page = await openApp(browser, name, { width: 1280, height: 900 });
  await page.goto(`${server.url}/admin/?lang=en`);
  await page.waitForSelector("#enroll-view:not([hidden])");
  await page.getByTestId("enroll-code").fill(code);
  await page.getByTestId("enroll-button").click();
  await page.waitForSelector("#meetings-view:not([hidden])");
  return page;
}

/** Writes `bytes` into the server's data directory as `name`, for a file input. */
async function fileNamed(name, bytes) {
  const file = path.join(server.dataDir, name);
  await writeFile(file, bytes);
  return file;
}

test("a PDF is attached to an item of a meeting built in the app, replaced, and the tablet lists the new version", { timeout: 180_000 }, async () => {
  const page = await enrolledPage("admin-documents");

  // A meeting from nothing: three seats, one topic with its one voted item.
  await page.getByTestId("new-meeting").click();
  await page.waitForSelector("#editor-view:not([hidden])");
  await page.getByTestId("id").fill(MEETING);
  await page.getByTestId("title").fill("Kỳ họp thứ nhất, Hội đồng nhân dân phường Tài Lộc");
  await page.getByTestId("body").fill("Hội đồng nhân dân phường Tài Lộc");
  await page.getByTestId("roster").fill(["Nguyễn Văn An\tTổ 1", "Trần Thị Bình\tTổ 1", "Lê Văn Cường\tTổ 2"].join("\n"));
  await page.getByTestId("topics[0].title").fill("Kinh tế - xã hội");
  await page.getByTestId("topics[0].items[0].title").fill("Nghị quyết về kế hoạch đầu tư công năm 2027");
  await page.getByTestId("editor-save").click();
  await waitFor(page, `meeting-${MEETING}`, { attr: "data-state", value: "upcoming" });

  await page.getByTestId(`documents-${MEETING}`).click();
  await page.waitForSelector("#documents-view:not([hidden])");
  await waitFor(page, "item-documents-0", { contains: "This item has no documents yet." });

  const first = await makePdf(browser, [["Dự thảo Nghị quyết", "Bản dự thảo thứ nhất, trình kỳ họp."]]);
  const second = await makePdf(browser, [["Dự thảo Nghị quyết", "Bản dự thảo thứ hai, đã tiếp thu ý kiến các tổ đại biểu."]]);

  // Without a title: refused, the title marked.
  await page.getByTestId("attach-file-0").setInputFiles(await fileNamed("du-thao.pdf", first));
  await waitFor(page, "upload-error-0", { text: "Could not store du-thao.pdf: Enter the document's title." });
  assert.match(await page.getByTestId("attach-title-0").getAttribute("class"), /invalid/);

  // A file that is not a PDF: refused, worded in the app's language.
  await page.getByTestId("attach-title-0").fill(TITLE);
  await page.getByTestId("attach-kind-0").selectOption("draft_resolution");
  await page.getByTestId("attach-file-0").setInputFiles(await fileNamed("ghi-chu.pdf", "Ghi chú, không phải PDF"));
  await waitFor(page, "upload-error-0", { contains: "is not a PDF that opens" });
  await screenshot(page, "admin-documents-refused-en");
  await switchTo(page, "vi");
  await waitFor(page, "upload-error-0", { contains: "không phải là tệp PDF mở được" });
  await screenshot(page, "admin-documents-refused-vi");
  await switchTo(page, "en");

  // Attached: version 1, for delegates only; the fields typed stayed through the refusal.
  assert.equal(await page.getByTestId("attach-title-0").inputValue(), TITLE);
  await page.getByTestId("attach-file-0").setInputFiles(await fileNamed("du-thao.pdf", first));
  await waitFor(page, "version-0-0", { text: "1" });
  await waitFor(page, "document-0-0", { contains: "Delegates only" });
  assert.equal(await page.getByTestId("attach-title-0").inputValue(), "", "a stored document's fields are not offered again");
  assert.equal(await page.getByTestId("upload-error-0").count(), 0, "the refusal is gone");

  // The item on the floor: the delegate's tablet lists the document.
  const codes = await server.codes("1", MEETING);
  const chair = await openApp(browser, "documents-chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await chair.getByTestId("agenda-item-0").click();
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });
  const tablet = await openApp(browser, "documents-tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(1).code}`);
  await waitFor(tablet, "item-documents", {});
  assert.equal(await tablet.getByTestId("document-open").textContent(), TITLE);
  assert.doesNotMatch(await tablet.getByTestId("item-documents").innerText(), /bản 2/);

  // Replaced: version 2 here, and on the tablet that stayed open.
  await page.getByTestId("replace-0-0").setInputFiles(await fileNamed("du-thao-ban-2.pdf", second));
  await waitFor(page, "version-0-0", { text: "2" });
  await screenshot(page, "admin-documents-en");
  await switchTo(page, "vi");
  await waitFor(page, "document-0-0", { contains: "Chỉ đại biểu" });
  await screenshot(page, "admin-documents-vi");
  await waitFor(tablet, "item-documents", { contains: "bản 2" });
  assert.equal(await tablet.getByTestId("document-open").textContent(), TITLE);

  assert.equal(await page.locator("[data-testid^=document-0-]").count(), 1, "one document, at its latest version");

  // A vote opened on the item: its documents are what is voted on, and the view offers no change.
  await chair.getByTestId("open-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  await page.getByTestId("documents-back").click();
  await page.getByTestId(`documents-${MEETING}`).click();
  await waitFor(page, "voted-0", { contains: "đã được biểu quyết" });
  assert.equal(await page.getByTestId("replace-0-0").count(), 0);
  assert.equal(await page.getByTestId("attach-file-0").count(), 0);
  await screenshot(page, "admin-documents-voted-vi");
  assert.deepEqual([...page.errors, ...tablet.errors, ...chair.errors], []);
});
