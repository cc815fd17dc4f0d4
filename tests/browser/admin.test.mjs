// The secretariat's app at /admin/, as the council's office prepares and
// keeps a session, told as one story (each step a test; once one fails, the
// rest are skipped). A code from `gavel codes --admin` enrolls the
// browser's own key, which logs in again by itself after a reload; a seat's
// code and a used code are refused with their reasons. A meeting is built
// from nothing in the editor: its header; a roster of 40 read from an XLSX
// made in the test, after merged cells and a CSV with four problems are
// refused with each by row and column and nothing taken; two topics with
// four items, refused first for the title one lacks. A PDF made in the
// test is attached to its first item, after a file without a title and a
// file that is not a PDF are refused with the field marked. The enrollment
// cards print to PDF from Chromium, one A4 page a seat; the PDF is rendered
// with the app's own pdf.js, a QR code decoded from the page's pixels with
// jsQR, and the tablet enrolled with its link lists the document, then its
// new version. The meeting is edited in the app: the first item's title,
// changed before its vote, reaches the tablet, which votes in the round the
// chair opens; an edit begun before that vote is refused for the item
// voted on, and the editor opened again shows that item and the fixed
// header read-only with why; a save over another secretariat's is refused
// and offers their version. The documents view then offers no change to
// the voted item. The devices list shows the tablet connected; revoked as
// lost, it is refused at once and the seat's new code enrolls a
// replacement. The meeting goes out as its TOML file, which holds what was
// built and edited and comes back byte for byte under another id; the
// example meeting is copied under a new id.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import {
  GavelServer,
  MEETING_ID,
  launchBrowser,
  logTail,
  makePdf,
  openApp,
  screenshot,
  secretariatPage,
  storySteps,
  submitAdminCode,
  switchTo,
  waitFor,
} from "./harness.mjs";
import { xlsx } from "./spreadsheet.mjs";

const STEP_MS = 180_000;
/** The meeting the story builds. */
const MEETING = "phuong-an-2027-ky-1";
const FIRST_TITLE = "Nghị quyết về kế hoạch phát triển kinh tế - xã hội năm 2027";
/** The first item's title as edited before its vote. */
const EDITED_TITLE = "Nghị quyết về kế hoạch phát triển kinh tế - xã hội và đầu tư công năm 2027";
const DOCUMENT = "Dự thảo Nghị quyết về kế hoạch phát triển kinh tế - xã hội năm 2027";

let server;
let browser;
/** The pages the story goes on with, and the printed cards' codes and links. */
const app = { admin: null, chair: null, tablet: null, codes: null, links: null };

before(async () => {
  server = await GavelServer.withExampleMeeting();
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const step = storySteps(STEP_MS, (t) => logTail(t, server, 30));

const field = (page, path) => page.getByTestId(path);

/** Downloads meeting `id`'s file through the app; resolves to its text. */
async function downloadFile(page, id) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`download-${id}`).click()]);
  assert.equal(download.suggestedFilename(), `${id}.toml`);
  return readFile(await download.path(), "utf8");
}

/** The rows of the roster preview's table, as their cells' text. */
function previewRows(page) {
  return page
    .getByTestId("roster-preview")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.innerText)));
}

/** Opens meeting `id` in the editor from the list of meetings. */
async function openEditor(page, id) {
  await page.getByTestId(`edit-${id}`).click();
  await page.waitForSelector("#editor-view:not([hidden])");
  await waitFor(page, "id", { attr: "value", value: id });
}

step("the secretariat enrolls with its code, lists the meetings, and logs in again after a reload", async () => {
  const [code] = await server.adminCodes(1);
  const seatCode = (await server.codes("1")).seats.get(1).code;
  const page = await openApp(browser, "admin", { width: 1280, height: 900 });
  app.admin = page;
  await page.goto(`${server.url}/admin/`);
  await page.waitForSelector("#enroll-view:not([hidden])");
  await screenshot(page, "admin-enroll-vi");
  await switchTo(page, "en");
  await screenshot(page, "admin-enroll-en");

  // A seat's code is not the secretariat's.
  await submitAdminCode(page, seatCode);
  await waitFor(page, "enroll-error", { contains: "wrong enrollment code" });

  await submitAdminCode(page, code);
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
  await submitAdminCode(other, code);
  await waitFor(other, "enroll-error", { contains: "already used" });
  assert.deepEqual(other.errors, []);
  await other.context().close();
});

step("a meeting is built from nothing: a roster of 40 from a spreadsheet, after refused ones, and two topics with four items", async () => {
  const page = app.admin;
  await switchTo(page, "en");
  await page.getByTestId("new-meeting").click();
  await page.waitForSelector("#editor-view:not([hidden])");
  await waitFor(page, "editor-save", { text: "Save meeting" });
  assert.equal(await page.getByTestId("editor-started").isHidden(), true, "a new meeting has no session to speak of");
  await field(page, "id").fill(MEETING);
  await field(page, "title").fill("Kỳ họp thứ nhất, Hội đồng nhân dân phường An Bình");
  await field(page, "body").fill("Hội đồng nhân dân phường An Bình");
  const upload = async (name, bytes) => field(page, "roster-file").setInputFiles(await server.file(name, bytes));

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
  await page.getByTestId("roster-discard").click();
  assert.equal(await page.getByTestId("roster-preview").count(), 0);

  // Lines pasted from a spreadsheet's columns are a roster too, counted as typed.
  await field(page, "roster").fill(["Nguyễn Văn An\tTổ 1", "Trần Thị Bình\tTổ 1", "Lê Văn Cường\tTổ 2", "Phạm Thị Dung\tTổ 2", "Hoàng Văn Em"].join("\n"));
  await waitFor(page, "seat-count", { text: "5 seats" });

  // Forty delegates in a workbook: previewed, used in place of the lines, and saved as they are.
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

  await field(page, "topics[0].title").fill("Kinh tế - xã hội");
  await field(page, "topics[0].items[0].title").fill(FIRST_TITLE);
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
  const made = `meeting-${MEETING}`;
  await waitFor(page, made, { attr: "data-state", value: "upcoming" });
  await waitFor(page, made, { contains: "40 seats · 4 items" });
  assert.equal((await fetch(`${server.url}/api/meetings/${MEETING}/view`)).status, 200, "served at once");

  // What was built is the file: the seats as read, the fields as entered, the rules as chosen.
  const file = await downloadFile(page, MEETING);
  assert.match(file, /number = 1\nname = "Đại biểu số 1"\ngroup = "Tổ 1"\ntitle = "Chủ tịch Hội đồng nhân dân"/);
  assert.match(file, /number = 40\nname = "Đại biểu số 40"\ngroup = "Tổ 4"\n/);
  assert.match(file, /secrecy = "secret"/);
  assert.match(file, /threshold = "at_least_two_thirds"/);
  assert.equal((file.match(/\[\[topics\.items\]\]/g) ?? []).length, 4);
  assert.deepEqual(page.errors, []);
});

step("a PDF is attached to the first item, after a file without a title and one that is not a PDF are refused", async () => {
  const page = app.admin;
  await page.getByTestId(`documents-${MEETING}`).click();
  await page.waitForSelector("#documents-view:not([hidden])");
  await waitFor(page, "item-documents-0", { contains: "This item has no documents yet." });
  const first = await makePdf(browser, [["Dự thảo Nghị quyết", "Bản dự thảo thứ nhất, trình kỳ họp."]]);

  // Without a title: refused, the title marked.
  await page.getByTestId("attach-file-0").setInputFiles(await server.file("du-thao.pdf", first));
  await waitFor(page, "upload-error-0", { text: "Could not store du-thao.pdf: Enter the document's title." });
  assert.match(await page.getByTestId("attach-title-0").getAttribute("class"), /invalid/);

  // A file that is not a PDF: refused, worded in the app's language.
  await page.getByTestId("attach-title-0").fill(DOCUMENT);
  await page.getByTestId("attach-kind-0").selectOption("draft_resolution");
  await page.getByTestId("attach-file-0").setInputFiles(await server.file("ghi-chu.pdf", "Ghi chú, không phải PDF"));
  await waitFor(page, "upload-error-0", { contains: "is not a PDF that opens" });
  await screenshot(page, "admin-documents-refused-en");
  await switchTo(page, "vi");
  await waitFor(page, "upload-error-0", { contains: "không phải là tệp PDF mở được" });
  await screenshot(page, "admin-documents-refused-vi");
  await switchTo(page, "en");

  // Attached: version 1, for delegates only; the fields typed stayed through the refusal.
  assert.equal(await page.getByTestId("attach-title-0").inputValue(), DOCUMENT);
  await page.getByTestId("attach-file-0").setInputFiles(await server.file("du-thao.pdf", first));
  await waitFor(page, "version-0-0", { text: "1" });
  await waitFor(page, "document-0-0", { contains: "Delegates only" });
  assert.equal(await page.getByTestId("attach-title-0").inputValue(), "", "a stored document's fields are not offered again");
  assert.equal(await page.getByTestId("upload-error-0").count(), 0, "the refusal is gone");
  await page.getByTestId("documents-back").click();
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

step("the enrollment cards print to PDF, one A4 page a seat, and a QR code on one enrolls a tablet that lists the document", async () => {
  const page = app.admin;
  await page.getByTestId(`cards-${MEETING}`).click();
  await page.waitForSelector("#cards-view:not([hidden])");
  await waitFor(page, "cards-lead", { contains: "40 cards, each with a new one-time code" });
  const codes = await page.locator("[data-testid^=card-code-]").allInnerTexts();
  assert.equal(codes.length, 40);
  assert.equal(new Set(codes).size, 40, "a code for each seat");
  await waitFor(page, "card-1", { contains: "Seat 1" });
  await waitFor(page, "card-1", { contains: "Đại biểu số 1" });
  await screenshot(page, "admin-cards-en");
  await switchTo(page, "vi");
  await waitFor(page, "card-1", { contains: "Ghế số 1" });
  await screenshot(page, "admin-cards-vi");
  await switchTo(page, "en");

  const pdf = await page.pdf({ format: "A4", printBackground: true });
  await writeFile(path.join(server.dataDir, "cards.pdf"), pdf);
  const { pages, found } = await decodeQrCodes(pdf, [1, 40]);
  assert.equal(pages, 40, "one page a seat");
  assert.deepEqual(found, [`${server.url}/tablet/?code=${codes[0]}`, `${server.url}/tablet/?code=${codes[39]}`]);
  app.codes = codes;
  app.links = found;

  // The link from seat 1's printed card enrolls a tablet for seat 1, once.
  const tablet = await openApp(browser, "tablet-from-card", { width: 1280, height: 800 });
  app.tablet = tablet;
  await tablet.goto(found[0]);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "checked-in", {});
  const again = await openApp(browser, "tablet-card-again", { width: 1280, height: 800 });
  await again.goto(`${found[0]}&lang=en`);
  await waitFor(again, "enroll-error", { contains: "already used" });
  await again.context().close();

  // The chair puts the first item on the floor: the tablet lists its document.
  const chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  app.chair = chair;
  await chair.goto(`${server.url}/chair/?code=${(await server.codes("2", MEETING)).chair}`);
  await chair.getByTestId("agenda-item-0").click();
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });
  await waitFor(tablet, "item-title", { text: FIRST_TITLE });
  await waitFor(tablet, "item-documents", {});
  assert.equal(await tablet.getByTestId("document-open").textContent(), DOCUMENT);
  assert.doesNotMatch(await tablet.getByTestId("item-documents").innerText(), /bản 2/);

  // Replaced: version 2 in the app, and on the tablet that stayed open.
  await page.getByTestId("cards-back").click();
  await page.getByTestId(`documents-${MEETING}`).click();
  await page.waitForSelector("#documents-view:not([hidden])");
  const second = await makePdf(browser, [["Dự thảo Nghị quyết", "Bản dự thảo thứ hai, đã tiếp thu ý kiến các tổ đại biểu."]]);
  await page.getByTestId("replace-0-0").setInputFiles(await server.file("du-thao-ban-2.pdf", second));
  await waitFor(page, "version-0-0", { text: "2" });
  await screenshot(page, "admin-documents-en");
  await switchTo(page, "vi");
  await waitFor(page, "document-0-0", { contains: "Chỉ đại biểu" });
  await screenshot(page, "admin-documents-vi");
  await switchTo(page, "en");
  await waitFor(tablet, "item-documents", { contains: "bản 2" });
  assert.equal(await tablet.getByTestId("document-open").textContent(), DOCUMENT);
  assert.equal(await page.locator("[data-testid^=document-0-]").count(), 1, "one document, at its latest version");
  await page.getByTestId("documents-back").click();
  assert.deepEqual([...page.errors, ...tablet.errors, ...chair.errors], []);
});

step("the meeting is edited in the app: the first item's title, changed before its vote, reaches the tablet", async () => {
  const { admin: page, tablet, chair } = app;
  await openEditor(page, MEETING);
  await waitFor(page, "editor-heading", { text: `Editing ${MEETING}` });
  await waitFor(page, "editor-save", { text: "Save changes" });
  assert.equal(await field(page, "id").isDisabled(), true, "a stored meeting keeps its id");
  await waitFor(page, "id-fixed", { contains: "copy the meeting for another id" });
  assert.equal(await page.getByTestId("editor-started").isHidden(), true, "nothing voted yet");
  assert.equal(await page.locator("[data-locked=true]").count(), 0);
  assert.equal(await field(page, "topics[0].items[0].title").inputValue(), FIRST_TITLE);
  assert.equal(await field(page, "total_seats").isDisabled(), false);

  await field(page, "topics[0].items[0].title").fill(EDITED_TITLE);
  await page.getByTestId("editor-save").click();
  await waitFor(page, "meetings-done", { text: `The changes to ${MEETING} are saved.` });
  await waitFor(page, `meeting-${MEETING}`, { contains: "40 seats · 4 items" });

  // The tablet and the chair, still open, show the new title; the document stays.
  await waitFor(tablet, "item-title", { text: EDITED_TITLE });
  await waitFor(tablet, "item-documents", { contains: "bản 2" });
  await waitFor(chair, "agenda-item-0", { contains: EDITED_TITLE });
  assert.deepEqual([...page.errors, ...tablet.errors, ...chair.errors], []);
});

step("once the item is voted on, an edit of it is refused, and the editor shows it and the fixed header read-only", async () => {
  const { admin: page, tablet, chair } = app;
  // The secretariat begins another change of the first item; meanwhile the chair opens its vote.
  await openEditor(page, MEETING);
  await field(page, "topics[0].items[0].title").fill(`${EDITED_TITLE} (bản sửa)`);
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });
  await chair.getByTestId("open-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  await waitFor(tablet, "item-title", { text: EDITED_TITLE });
  await tablet.getByTestId("choice-yes").click();
  await waitFor(tablet, "receipt", { attr: "data-choice", value: "yes" });

  await page.getByTestId("editor-save").click();
  await waitFor(page, "editor-error", { contains: "This item has been voted on" });
  await waitFor(page, "topics[0].items[0]", { attr: "class", value: "item-edit invalid" });
  await screenshot(page, "admin-edit-refused-en");

  // Opened again: the voted item as it stands, with why; the header fixed since the vote.
  await page.getByTestId("editor-cancel").click();
  await openEditor(page, MEETING);
  await waitFor(page, "editor-started", { contains: "every change is recorded in the minutes" });
  await waitFor(page, "topics[0].items[0]", { attr: "data-locked", value: "true" });
  await waitFor(page, "topics[0].items[0].locked", { text: "Voted on — cannot be changed" });
  assert.equal(await field(page, "topics[0].items[0].title").inputValue(), EDITED_TITLE);
  for (const path of ["topics[0].items[0].title", "topics[0].items[0].kind", "topics[0].items[0].vote", "topics[0].items[0].vote.rule"]) {
    assert.equal(await field(page, path).isDisabled(), true, path);
  }
  assert.equal(await page.getByTestId("topics[0].items[0].remove").count(), 0, "a voted item stays");
  assert.equal(await page.getByTestId("topics[0].remove").count(), 0, "its topic stays");
  assert.equal(await page.getByTestId("topics[0].items[1].remove").count(), 1, "an item after it may go");
  assert.equal(await field(page, "topics[0].items[1].title").isDisabled(), false);
  for (const path of ["total_seats", "quorum", "labels.yes", "labels.no", "labels.abstain"]) {
    assert.equal(await field(page, path).isDisabled(), true, path);
  }
  assert.equal(await field(page, "title").isDisabled(), false);
  await waitFor(page, "header-fixed", { contains: "fixed from the first vote" });
  await waitFor(page, "seats-fixed", { contains: "names, groups and titles may still be corrected" });
  await field(page, "topics[0].items[0]").evaluate((el) => el.scrollIntoView({ block: "center" }));
  await screenshot(page, "admin-edit-en");
  await switchTo(page, "vi");
  await waitFor(page, "topics[0].items[0].locked", { text: "Đã biểu quyết — không sửa được" });
  await waitFor(page, "editor-started", { contains: "mọi thay đổi được ghi vào biên bản" });
  await field(page, "topics[0].items[0]").evaluate((el) => el.scrollIntoView({ block: "center" }));
  await screenshot(page, "admin-edit-vi");
  await switchTo(page, "en");

  // Another secretariat corrects seat 40's name and saves first: this save is refused, and offers their version.
  await field(page, "topics[1].items[1].title").fill("Miễn nhiệm Ủy viên Ủy ban nhân dân phường nhiệm kỳ 2026–2031");
  const other = await secretariatPage(browser, server, "admin-other");
  await openEditor(other, MEETING);
  const roster = (await field(other, "roster").inputValue()).split("\n");
  roster[39] = "Phạm Thị Dung\tTổ 4";
  await field(other, "roster").fill(roster.join("\n"));
  await other.getByTestId("editor-save").click();
  await waitFor(other, "meetings-done", { text: `The changes to ${MEETING} are saved.` });
  await page.getByTestId("editor-save").click();
  await waitFor(page, "editor-error", { contains: "Someone else saved this meeting first" });
  await waitFor(page, "editor-reload", { text: "Open the new version" });
  await page.getByTestId("editor-reload").click();
  await waitFor(page, "editor-reload", { visible: false, attr: "hidden", value: "" });
  assert.match(await field(page, "roster").inputValue(), /\nPhạm Thị Dung\tTổ 4$/);
  await field(page, "topics[1].items[1].title").fill("Miễn nhiệm Ủy viên Ủy ban nhân dân phường nhiệm kỳ 2026–2031");
  await page.getByTestId("editor-save").click();
  await waitFor(page, "meetings-done", { text: `The changes to ${MEETING} are saved.` });
  assert.deepEqual([...page.errors, ...other.errors, ...tablet.errors, ...chair.errors], []);
  await other.context().close();
});

step("the documents view offers no change to the item voted on", async () => {
  const page = app.admin;
  await switchTo(page, "vi");
  await page.getByTestId(`documents-${MEETING}`).click();
  await waitFor(page, "voted-0", { contains: "đã được biểu quyết" });
  assert.equal(await page.getByTestId("replace-0-0").count(), 0);
  assert.equal(await page.getByTestId("attach-file-0").count(), 0);
  await screenshot(page, "admin-documents-voted-vi");
  await page.getByTestId("documents-back").click();
  await switchTo(page, "en");
});

step("the devices list shows the tablet connected; revoked as lost, it is refused at once and a new code enrolls its replacement", async () => {
  const { admin: page, tablet, chair } = app;
  await page.getByTestId(`devices-${MEETING}`).click();
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
  await waitFor(page, "reissued", { contains: "Seat 1's device (Đại biểu số 1) is revoked" });
  const newCode = await page.getByTestId("reissued").getByTestId("card-code-1").innerText();
  assert.notEqual(newCode, app.codes[0]);
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
  await page.getByTestId("devices-back").click();
  assert.deepEqual([...page.errors, ...chair.errors, ...replacement.errors], []);
});

step("the meeting goes out as its file, with what was edited, comes back byte for byte, and another is copied", async () => {
  const page = app.admin;
  const file = await downloadFile(page, MEETING);
  assert.match(file, new RegExp(`title = "${EDITED_TITLE}"`));
  assert.match(file, /title = "Miễn nhiệm Ủy viên Ủy ban nhân dân phường nhiệm kỳ 2026–2031"/);
  assert.match(file, /number = 40\nname = "Phạm Thị Dung"\ngroup = "Tổ 4"\n/);
  assert.match(file, /number = 1\nname = "Đại biểu số 1"\ngroup = "Tổ 1"\ntitle = "Chủ tịch Hội đồng nhân dân"/);
  assert.match(file, /secrecy = "secret"/);
  assert.match(file, /threshold = "at_least_two_thirds"/);
  assert.equal((file.match(/\[\[topics\.items\]\]/g) ?? []).length, 4);
  assert.equal((file.match(/\[\[topics\.items\.documents\]\]/g) ?? []).length, 1, "the document kept through the edits");

  // Imported again under another id, it comes back byte for byte.
  const again = file.replace(`id = "${MEETING}"`, 'id = "phuong-an-2027-ky-2"');
  assert.notEqual(again, file);
  const upload = await server.file("phuong-an-2027-ky-2.toml", again);
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
  assert.equal(await field(page, "id").isDisabled(), false);
  await field(page, "id").fill("phuc-loi-2027-ky-1");
  await page.getByTestId("editor-save").click();
  await waitFor(page, "meeting-phuc-loi-2027-ky-1", { contains: "40 seats · 12 items" });
  await screenshot(page, "admin-meetings-en");
  await switchTo(page, "vi");
  await waitFor(page, "state-phuc-loi-2027-ky-1", { text: "Sắp họp" });
  await screenshot(page, "admin-meetings-vi");

  // Every new meeting is served at once.
  for (const id of ["phuong-an-2027-ky-2", "phuc-loi-2027-ky-1"]) {
    assert.equal((await fetch(`${server.url}/api/meetings/${id}/view`)).status, 200, id);
  }
  assert.deepEqual(page.errors, []);
});
