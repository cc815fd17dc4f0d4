// The secretariat's app at /admin/, as the council's office uses it: a code
// from `gavel codes --admin` enrolls the browser's own key, which then logs in
// again by itself after a reload, and the meetings are listed by where they
// stand. A seat's code and a used code are refused with their reasons. A
// meeting is built from nothing in the editor (header, roster, two topics
// with four items), refused first for the field it lacks; its file is
// downloaded, imported again under another id and downloaded unchanged; and
// the example is copied under a new id. A roster is read from spreadsheets
// made in the test: merged cells and a CSV with four problems are refused
// with each by row and column and nothing taken; an XLSX of 40 is previewed,
// used, and saved with its groups and titles. The enrollment cards are
// printed to PDF from Chromium, one A4 page a seat; the PDF is rendered
// with the app's own pdf.js, a QR code decoded from the page's pixels with
// jsQR, and a tablet enrolled with the link it holds votes in the round
// the chair opens; the devices list then shows it connected, and once it
// is revoked as lost it is refused at once and the seat's new code enrolls
// a replacement.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { GavelServer, MEETING_ID, launchBrowser, openApp, screenshot, waitFor } from "./harness.mjs";
import { xlsx } from "./spreadsheet.mjs";

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

/** The codes printed by `gavel codes --admin --count N`. */
async function adminCodes(count) {
  const stdout = await server.cli("codes", "--admin", "--count", String(count));
  const codes = [...stdout.matchAll(/^(\S+)\s+secretariat\b/gm)].map((m) => m[1]);
  assert.equal(codes.length, count, stdout);
  return codes;
}

async function switchTo(page, lang) {
  if ((await page.evaluate(() => document.documentElement.lang)) !== lang) await page.getByTestId("lang-toggle").click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

async function submitCode(page, code) {
  await page.getByTestId("enroll-code").fill(code);
  await page.getByTestId("enroll-button").click();
}

test("the secretariat enrolls with its code, lists the meetings, and logs in again after a reload", async () => {
  const [code] = await adminCodes(1);
  const seatCode = (await server.codes("1")).seats.get(1).code;
  const page = await openApp(browser, "admin", { width: 1280, height: 800 });
  await page.goto(`${server.url}/admin/`);
  await page.waitForSelector("#enroll-view:not([hidden])");
  await screenshot(page, "admin-enroll-vi");
  await switchTo(page, "en");
  await screenshot(page, "admin-enroll-en");

  // A seat's code is not the secretariat's.
  await submitCode(page, seatCode);
  await waitFor(page, "enroll-error", { contains: "wrong enrollment code" });

  await submitCode(page, code);
  const row = `meeting-${MEETING_ID}`;
  await waitFor(page, row, { attr: "data-state", value: "upcoming" });
  const [listed] = await (await fetch(`${server.url}/api/meetings`)).json();
  assert.equal(await page.getByTestId(row).locator(".meeting-title").innerText(), listed.title);
  await waitFor(page, `state-${MEETING_ID}`, { text: "Upcoming" });
  await waitFor(page, "meetings-upcoming", { contains: "40 seats · " });
  await switchTo(page, "vi");
  await waitFor(page, `state-${MEETING_ID}`, { text: "Sắp họp" });

  // The key stays in the browser: a reload logs in with it, no code asked.
  await page.reload();
  await waitFor(page, row, { attr: "data-state", value: "upcoming" });
  assert.equal(await page.locator("#enroll-view").isHidden(), true);

  // The same code in another browser is refused: it was used.
  const other = await openApp(browser, "admin-2", { width: 1280, height: 800 });
  await other.goto(`${server.url}/admin/?lang=en`);
  await other.waitForSelector("#enroll-view:not([hidden])");
  await submitCode(other, code);
  await waitFor(other, "enroll-error", { contains: "already used" });
  assert.deepEqual([...page.errors, ...other.errors], []);
});

/** A fresh browser context with an enrolled secretariat key, on the list of meetings. */
async function enrolledPage(name) {
  const [code] = await adminCodes(1);
  const page = await openApp(browser, name, { width: 1280, height: 900 });
  await page.goto(`${server.url}/admin/?lang=en`);
  await page.waitForSelector("#enroll-view:not([hidden])");
  await submitCode(page, code);
  await page.waitForSelector("#meetings-view:not([hidden])");
  return page;
}

const field = (page, path) => page.getByTestId(path);

/** Downloads meeting `id`'s file through the app; resolves to its text. */
async function downloadFile(page, id) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`download-${id}`).click()]);
  assert.equal(download.suggestedFilename(), `${id}.toml`);
  return readFile(await download.path(), "utf8");
}

test("a meeting is built from nothing, goes out as its file and comes back unchanged, and another is copied", async () => {
  const page = await enrolledPage("admin-editor");
  await page.getByTestId("new-meeting").click();
  await page.waitForSelector("#editor-view:not([hidden])");
  await field(page, "id").fill("phuong-an-2027-ky-1");
  await field(page, "title").fill("Kỳ họp thứ nhất, Hội đồng nhân dân phường An Bình");
  await field(page, "body").fill("Hội đồng nhân dân phường An Bình");
  const roster = ["Nguyễn Văn An\tTổ 1", "Trần Thị Bình\tTổ 1", "Lê Văn Cường\tTổ 2", "Phạm Thị Dung\tTổ 2", "Hoàng Văn Em"];
  await field(page, "roster").fill(roster.join("\n"));
  await waitFor(page, "seat-count", { text: "5 seats" });

  await field(page, "topics[0].title").fill("Kinh tế - xã hội");
  await field(page, "topics[0].items[0].title").fill("Nghị quyết về kế hoạch phát triển kinh tế - xã hội năm 2027");
  await page.getByTestId("topics[0].add-item").click();
  await field(page, "topics[0].items[1].kind").selectOption("report");
  await field(page, "topics[0].items[1].vote").uncheck();
  await field(page, "topics[0].items[1].title").fill("Báo cáo tình hình kinh tế - xã hội năm 2026");
  await page.getByTestId("add-topic").click();
  await field(page, "topics[1].title").fill("Công tác cán bộ");
  await field(page, "topics[1].items[0].kind").selectOption("election");
  await field(page, "topics[1].items[0].title").fill("Bầu Phó Chủ tịch Hội đồng nhân dân phường");
  await field(page, "topics[1].items[0].vote.secrecy").selectOption("secret");
  await field(page, "topics[1].items[0].vote.interim").selectOption("none");
  await field(page, "topics[1].items[0].vote.allow_change").uncheck();
  await page.getByTestId("topics[1].add-item").click();

  // The fourth item has no title yet: refused, with that field marked.
  await page.getByTestId("editor-save").click();
  await waitFor(page, "editor-error", { text: "Not saved: Topic 2 › Item 2 › Title: must not be empty" });
  const missing = field(page, "topics[1].items[1].title");
  assert.match(await missing.getAttribute("class"), /invalid/);
  await screenshot(page, "admin-editor-en");
  await switchTo(page, "vi");
  await waitFor(page, "editor-save", { text: "Lưu kỳ họp" });
  await screenshot(page, "admin-editor-vi");
  await switchTo(page, "en");

  await missing.fill("Miễn nhiệm Ủy viên Ủy ban nhân dân phường");
  await field(page, "topics[1].items[1].vote.rule").selectOption("all_seats|at_least_two_thirds");
  await page.getByTestId("editor-save").click();
  const made = "meeting-phuong-an-2027-ky-1";
  await waitFor(page, made, { attr: "data-state", value: "upcoming" });
  await waitFor(page, made, { contains: "5 seats · 4 items" });

  // What was built is the file: the fields as entered, the rules as chosen.
  const file = await downloadFile(page, "phuong-an-2027-ky-1");
  assert.match(file, /name = "Phạm Thị Dung"\ngroup = "Tổ 2"/);
  assert.match(file, /secrecy = "secret"/);
  assert.match(file, /threshold = "at_least_two_thirds"/);
  assert.equal((file.match(/\[\[topics\.items\]\]/g) ?? []).length, 4);

  // Imported again under another id, it comes back byte for byte.
  const again = file.replace('id = "phuong-an-2027-ky-1"', 'id = "phuong-an-2027-ky-2"');
  const upload = path.join(server.dataDir, "phuong-an-2027-ky-2.toml");
  await writeFile(upload, again);
  await page.getByTestId("import-file").setInputFiles(upload);
  await waitFor(page, "meeting-phuong-an-2027-ky-2", { attr: "data-state", value: "upcoming" });
  assert.equal(await downloadFile(page, "phuong-an-2027-ky-2"), again);

  // The same file again is refused: that id exists.
  await page.getByTestId("import-file").setInputFiles(upload);
  await waitFor(page, "meetings-error", { contains: "choose another id" });

  // A copy of the example keeps its roster and agenda under a new id.
  await page.getByTestId(`copy-${MEETING_ID}`).click();
  await page.waitForSelector("#editor-view:not([hidden])");
  assert.equal(await field(page, "id").inputValue(), "");
  await field(page, "id").fill("phuc-loi-2027-ky-1");
  await page.getByTestId("editor-save").click();
  await waitFor(page, "meeting-phuc-loi-2027-ky-1", { contains: "40 seats · 12 items" });
  await screenshot(page, "admin-meetings-en");
  await switchTo(page, "vi");
  await waitFor(page, "state-phuc-loi-2027-ky-1", { text: "Sắp họp" });
  await screenshot(page, "admin-meetings-vi");

  // Every new meeting is served at once.
  for (const id of ["phuong-an-2027-ky-1", "phuong-an-2027-ky-2", "phuc-loi-2027-ky-1"]) {
    assert.equal((await fetch(`${server.url}/api/meetings/${id}/view`)).status, 200, id);
  }
  assert.deepEqual(page.errors, []);
});

/** The rows of the roster preview's table, as their cells' text. */
function previewRows(page) {
  return page
    .getByTestId("roster-preview")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.innerText)));
}

test("a roster is read from a spreadsheet: refused with every problem by row and column, or previewed and used", async () => {
  const page = await enrolledPage("admin-roster");
  await page.getByTestId("new-meeting").click();
  await page.waitForSelector("#editor-view:not([hidden])");
  const upload = (name, bytes) => {
    const file = path.join(server.dataDir, name);
    return writeFile(file, bytes).then(() => field(page, "roster-file").setInputFiles(file));
  };

  // The number of seats comes first: it is what the rows are checked against.
  const problems = "Số ghế;Họ và tên;Tổ\n1;Nguyễn Văn An;Tổ 1\n2;;Tổ 1\n2;Trần Thị Bình;Tổ 2\n9;Lê Văn Cường;Tổ 2\n";
  await upload("to-dai-bieu.csv", problems);
  await waitFor(page, "roster-preview", { contains: "Enter the number of seats in the hall" });
  await field(page, "total_seats").fill("4");
  await upload("to-dai-bieu.csv", problems);
  await waitFor(page, "roster-preview", { contains: "to-dai-bieu.csv: 4 problems; nothing was taken from it" });
  assert.deepEqual(await previewRows(page), [
    ["3", "B", "the name is missing"],
    ["4", "A", "seat 2 is listed twice (first on row 3)"],
    ["5", "A", "seat 9 is outside 1..4"],
    ["Whole file", "", "2 of 4 seats have no row: 3, 4"],
  ]);
  assert.equal(await field(page, "roster").inputValue(), "", "nothing taken");
  await screenshot(page, "admin-roster-en");
  await switchTo(page, "vi");
  await waitFor(page, "roster-preview", { contains: "4 lỗi; không lấy gì từ tệp này" });
  assert.deepEqual((await previewRows(page))[1], ["4", "A", "Ghế 2 được ghi hai lần (lần đầu ở dòng 3)"]);
  await screenshot(page, "admin-roster-vi");
  await switchTo(page, "en");

  // Merged cells in a workbook: refused where they start.
  const header = ["STT", "Họ và tên", "Tổ", "Chức vụ"];
  await upload("merged.xlsx", xlsx([header, [1, "Nguyễn Văn An", "Tổ 1"], [2, "Trần Thị Bình"]], ["C2:C3"]));
  await waitFor(page, "roster-preview", { contains: "1 problem;" });
  assert.deepEqual(await previewRows(page), [["2", "C", "merged cells (to C3): unmerge them and fill every row"]]);
  await upload("empty.xlsx", xlsx([]));
  await waitFor(page, "roster-preview", { contains: "the sheet is empty" });
  assert.deepEqual(await previewRows(page), [["Whole file", "", "the sheet is empty"]]);

  // Forty delegates in a workbook: previewed, used, and saved as they are.
  const forty = Array.from({ length: 40 }, (_, i) => [
    i + 1,
    `Đại biểu số ${i + 1}`,
    `Tổ ${Math.floor(i / 10) + 1}`,
    i === 0 ? "Chủ tịch Hội đồng nhân dân" : "",
  ]);
  await field(page, "total_seats").fill("40");
  await upload("dai-bieu.xlsx", xlsx([header, ...forty.reverse()]));
  await waitFor(page, "roster-preview", { contains: "dai-bieu.xlsx: 40 delegates. Nothing is saved yet" });
  const shown = await previewRows(page);
  assert.equal(shown.length, 40);
  assert.deepEqual(shown[0], ["1", "Đại biểu số 1", "Tổ 1", "Chủ tịch Hội đồng nhân dân"]);
  assert.deepEqual(shown[39], ["40", "Đại biểu số 40", "Tổ 4", ""]);
  await page.getByTestId("roster-accept").click();
  await waitFor(page, "seat-count", { text: "40 seats" });
  assert.equal(await page.getByTestId("roster-preview").count(), 0);

  await field(page, "id").fill("phuong-dong-2027-ky-1");
  await field(page, "title").fill("Kỳ họp thứ nhất");
  await field(page, "body").fill("Hội đồng nhân dân phường Đông Hòa");
  await field(page, "topics[0].title").fill("Kinh tế - xã hội");
  await field(page, "topics[0].items[0].title").fill("Nghị quyết về dự toán ngân sách năm 2027");
  await page.getByTestId("editor-save").click();
  await waitFor(page, "meeting-phuong-dong-2027-ky-1", { contains: "40 seats · " });
  const file = await downloadFile(page, "phuong-dong-2027-ky-1");
  assert.match(file, /number = 1\nname = "Đại biểu số 1"\ngroup = "Tổ 1"\ntitle = "Chủ tịch Hội đồng nhân dân"/);
  assert.match(file, /number = 40\nname = "Đại biểu số 40"\ngroup = "Tổ 4"\n/);
  assert.deepEqual(page.errors, []);
});

const jsQR = createRequire(import.meta.url)("jsqr");

/**
 * Renders pages of `pdf` (bytes) with the pdf.js the apps serve, in a page
 * of the server's origin, and decodes a QR code from each rendered page's
 * pixels with jsQR (here, in node: the apps' pages allow no inline script).
 * Resolves to `{ pages, found: [text or null, …] }`.
 */
async function decodeQrCodes(pdf, pageNumbers) {
  const reader = await openApp(browser, "qr-reader", { width: 800, height: 600 });
  await reader.goto(`${server.url}/admin/?lang=en`);
  const { pages, rendered } = await reader.evaluate(
    async ({ base64, pageNumbers }) => {
      const pdfjs = await import("/common/pdfjs/pdf.min.mjs");
      pdfjs.GlobalWorkerOptions.workerSrc = "/common/pdfjs/pdf.worker.min.mjs";
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const doc = await pdfjs.getDocument({ data, useWasm: false }).promise;
      const rendered = [];
      for (const number of pageNumbers) {
        const page = await doc.getPage(number);
        const viewport = page.getViewport({ scale: 2 });
        const canvas = document.createElement("canvas");
        canvas.width = viewport.width;
        canvas.height = viewport.height;
        const context = canvas.getContext("2d");
        await page.render({ canvasContext: context, canvas, viewport }).promise;
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let binary = "";
        for (let i = 0; i < pixels.length; i += 0x8000) binary += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
        rendered.push({ width: canvas.width, height: canvas.height, rgba: btoa(binary) });
      }
      return { pages: doc.numPages, rendered };
    },
    { base64: pdf.toString("base64"), pageNumbers },
  );
  await reader.context().close();
  const found = rendered.map(({ width, height, rgba }) => {
    const pixels = new Uint8ClampedArray(Buffer.from(rgba, "base64"));
    return jsQR(pixels, width, height)?.data ?? null;
  });
  return { pages, found };
}

test("the enrollment cards print to PDF, one A4 page a seat, and a QR code on one enrolls a tablet that votes", async () => {
  const page = await enrolledPage("admin-cards");
  await page.getByTestId(`cards-${MEETING_ID}`).click();
  await page.waitForSelector("#cards-view:not([hidden])");
  await waitFor(page, "cards-lead", { contains: "40 cards, each with a new one-time code" });
  const codes = await page.locator("[data-testid^=card-code-]").allInnerTexts();
  assert.equal(codes.length, 40);
  assert.equal(new Set(codes).size, 40, "a code for each seat");
  await waitFor(page, "card-1", { contains: "Seat 1" });
  await screenshot(page, "admin-cards-en");
  await switchTo(page, "vi");
  await waitFor(page, "card-1", { contains: "Ghế số 1" });
  await screenshot(page, "admin-cards-vi");

  const pdf = await page.pdf({ format: "A4", printBackground: true });
  await writeFile(path.join(server.dataDir, "cards.pdf"), pdf);
  const { pages, found } = await decodeQrCodes(pdf, [1, 40]);
  assert.equal(pages, 40, "one page a seat");
  const links = found;
  assert.deepEqual(links, [`${server.url}/tablet/?code=${codes[0]}`, `${server.url}/tablet/?code=${codes[39]}`]);

  // The link from seat 1's printed card enrolls a tablet for seat 1, once.
  const tablet = await openApp(browser, "tablet-from-card", { width: 1280, height: 800 });
  await tablet.goto(links[0]);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "checked-in", {});
  const again = await openApp(browser, "tablet-card-again", { width: 1280, height: 800 });
  await again.goto(`${links[0]}&lang=en`);
  await waitFor(again, "enroll-error", { contains: "already used" });

  // And it votes in the round the chair opens, with its receipt.
  const chair = await openApp(browser, "chair-for-cards", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${(await server.codes("2")).chair}`);
  await chair.getByTestId("agenda-item-0").click();
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });
  await chair.getByTestId("open-vote").click();
  await tablet.getByTestId("choice-yes").click();
  await waitFor(tablet, "receipt", { attr: "data-choice", value: "yes" });

  // The devices list: seat 1 and the chair connected, seat 2 without a tablet.
  await switchTo(page, "en");
  await page.getByTestId("cards-back").click();
  await page.getByTestId(`devices-${MEETING_ID}`).click();
  await waitFor(page, "device-1", { attr: "data-online", value: "true" });
  await waitFor(page, "device-chair", { attr: "data-online", value: "true" });
  await waitFor(page, "device-2", { attr: "data-enrolled", value: "false" });
  await waitFor(page, "devices-lead", { contains: "connected now" });
  await screenshot(page, "admin-devices-en");
  await switchTo(page, "vi");
  await waitFor(page, "device-1", { contains: "Đang kết nối" });
  await screenshot(page, "admin-devices-vi");

  // Seat 1's tablet is lost: revoked (after a confirmation), refused at
  // once with its reason, and the seat has a new code, shown as its card.
  await switchTo(page, "en");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByTestId("revoke-1").click();
  await waitFor(page, "reissued", { contains: "Seat 1's device (Nguyễn Đức Thắng) is revoked" });
  const newCode = await page.getByTestId("reissued").getByTestId("card-code-1").innerText();
  assert.notEqual(newCode, codes[0]);
  await waitFor(page, "device-1", { attr: "data-enrolled", value: "false" });
  await tablet.waitForFunction(() => document.getElementById("refused-reason")?.textContent.includes("thu hồi"));
  assert.equal(await page.getByTestId("revoke-2").count(), 0, "nothing to revoke without a device");
  await screenshot(page, "admin-revoked-en");

  // The new code enrolls the replacement tablet for seat 1.
  const replacement = await openApp(browser, "tablet-replacement", { width: 1280, height: 800 });
  await replacement.goto(`${server.url}/tablet/?code=${newCode}`);
  // The seat checked in with the lost tablet; its attendance stands.
  await waitFor(replacement, "checked-in", {});
  await page.getByTestId("devices-refresh").click();
  await waitFor(page, "device-1", { attr: "data-online", value: "true" });
  assert.deepEqual([...page.errors, ...chair.errors], []);
});
