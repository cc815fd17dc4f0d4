// Reading an item's documents on a delegate's tablet, end to end. The PDFs
// are made here by Chromium (page.pdf) from Vietnamese text, with an
// outline from their headings. The tablet checks in and downloads every
// document of the meeting with its progress bar; the delegate opens one,
// searches a Vietnamese word, jumps through the table of contents, writes a
// private note, reads on with the network cut, reloads with the network
// still cut (the service worker keeps the app's files) and opens a document
// it holds, reloads online and finds the note (no request ever carried it),
// is brought to the vote the chair opens and returned to the same page after
// casting (or after a vote it did not cast in ends), and sees a new version
// of a document as such, with the date the server stored it; a tablet given
// up keeps none of it. Screenshots of the reader in Vietnamese and English
// go to docs/screenshots/.

import { after, before, test } from "node:test";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GavelServer, MEETING_ID, SCREENSHOTS, launchBrowser, makePdf, meetingWithDocuments, openApp, screenshot, setField, tapWebSocket, waitFor } from "./harness.mjs";

/** The documents: three on the first item (one of 300 pages), one on the second. */
const DOCUMENTS = [
  {
    item: 0,
    title: "Tờ trình về dự toán ngân sách năm 2027",
    kind: "submission",
    file: "tai-lieu/to-trinh-du-toan.pdf",
    public: true,
    sections: [
      ["Phần I. Căn cứ pháp lý", "Căn cứ Luật Tổ chức chính quyền địa phương; căn cứ Luật Ngân sách nhà nước."],
      ["Phần II. Dự toán thu ngân sách", "Tổng thu ngân sách trên địa bàn năm 2027 dự kiến tăng so với năm trước."],
      ["Phần III. Đề nghị", "Ủy ban nhân dân kính đề nghị Hội đồng nhân dân xem xét, quyết toán và thông qua."],
    ],
  },
  {
    item: 0,
    title: "Dự thảo Nghị quyết về dự toán ngân sách",
    kind: "draft_resolution",
    file: "tai-lieu/du-thao-nghi-quyet.pdf",
    public: false,
    sections: [
      ["Điều 1. Phê chuẩn dự toán", "Phê chuẩn dự toán thu, chi ngân sách địa phương năm 2027."],
      ["Điều 2. Tổ chức thực hiện", "Giao Ủy ban nhân dân tổ chức thực hiện Nghị quyết này."],
    ],
  },
  {
    item: 0,
    title: "Phụ lục: dự toán chi tiết theo đơn vị",
    kind: "other",
    file: "tai-lieu/phu-luc.pdf",
    public: false,
    sections: Array.from({ length: 300 }, (_, i) => [`Đơn vị dự toán số ${i + 1}`, `Chi thường xuyên của đơn vị số ${i + 1}: chi tiết từng khoản mục.`]),
  },
  {
    item: 1,
    title: "Báo cáo thẩm tra của Ban Kinh tế – Ngân sách",
    kind: "report",
    file: "tai-lieu/bao-cao-tham-tra.pdf",
    public: true,
    sections: [["Ý kiến thẩm tra", "Ban Kinh tế – Ngân sách cơ bản thống nhất với Tờ trình."]],
  },
];
/** A word only the third page of the first document holds. */
const SEARCHED = "quyết toán";
/** The note the delegate writes: it must never leave the tablet. */
const NOTE = "Hỏi lại về khoản chi 4,7 tỷ đồng — ghi chú riêng 7QX";

let server;
let browser;
let codes;
let chair;
let tablet;
let tap;
const requests = []; // every HTTP request the tablet made: {url, method, body}

before(async () => {
  browser = await launchBrowser();
  server = new GavelServer(await mkdtemp(path.join(tmpdir(), "gavel-viewer-")));
  const printed = await server.cli("meeting", "import", await meetingWithDocuments(browser, server.dataDir, DOCUMENTS));
  assert.match(printed, new RegExp(`${DOCUMENTS.length} documents`));
  codes = await server.codes("1");
  await server.start();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** The tablet's document downloads so far. */
const documentRequests = () => requests.filter((r) => r.url.includes("/documents/"));

test("at check-in the tablet downloads every document of the meeting, with its progress", { timeout: 180_000 }, async () => {
  chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await chair.getByTestId("agenda-item-0").click();
  await waitFor(chair, "agenda-item-0", { attr: "aria-current", value: "step" });

  tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  // Every text the progress line shows, and any breach of the page's Content-Security-Policy.
  await tablet.addInitScript(() => {
    window.progressTexts = [];
    window.policyViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.policyViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    new MutationObserver(() => {
      const text = document.getElementById("prefetch-text")?.textContent;
      if (text && window.progressTexts.at(-1) !== text) window.progressTexts.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  tablet.on("request", (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() ?? "" }));
  tap = await tapWebSocket(tablet);
  // The third document is held back until the screenshots of the download under way are taken.
  const held = `**/documents/${await sha256Of(DOCUMENTS[2].file)}`;
  let release;
  const released = new Promise((resolve) => (release = resolve));
  await tablet.route(held, async (route) => {
    await released;
    await route.continue();
  });
  await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(1).code}`);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "prefetch-text", { contains: `2/${DOCUMENTS.length} tài liệu` });
  const share = await tablet.locator("#prefetch-bar").evaluate((bar) => bar.value);
  assert.ok(share > 0 && share < 1, `the bar shows ${share} of the bytes`);
  await tablet.evaluate(() => window.scrollTo(0, 0));
  await screenshot(tablet, "tablet-prefetch-vi");
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "prefetch-text", { contains: `2 of ${DOCUMENTS.length} documents` });
  await screenshot(tablet, "tablet-prefetch-en");
  await tablet.getByTestId("lang-toggle").click();
  release();
  await waitFor(tablet, "prefetch", { attr: "data-state", value: "done" });
  await tablet.unroute(held);
  await waitFor(tablet, "prefetch-text", { text: `Đã lưu đủ ${DOCUMENTS.length} tài liệu trên máy (${await totalSize()}): đọc được cả khi mất mạng.` });
  const texts = await tablet.evaluate(() => window.progressTexts);
  assert.match(texts[0], new RegExp(`^Đang tải tài liệu về máy: 0/${DOCUMENTS.length} tài liệu, 0/[\\d,]+ (KB|MB)$`), texts.join("\n"));
  assert.ok(texts.some((t) => t.startsWith(`Đang tải tài liệu về máy: 2/${DOCUMENTS.length} tài liệu`)), texts.join("\n"));
  // Each file once, the delegates-only one with the session's token in its header, not in the address.
  const fetched = documentRequests();
  assert.equal(fetched.length, DOCUMENTS.length, fetched.map((r) => r.url).join("\n"));
  assert.ok(fetched.every((r) => !r.url.includes("access=")));
  // The item's documents say they are on the tablet.
  await waitFor(tablet, "item-documents", { contains: "Đã lưu trên máy" });
});

/** The SHA-256 that names a document's file. */
async function sha256Of(file) {
  return createHash("sha256")
    .update(await readFile(path.join(server.dataDir, file)))
    .digest("hex");
}

/** The documents' total size as the tablet words it. */
async function totalSize() {
  let bytes = 0;
  for (const d of DOCUMENTS) bytes += (await readFile(path.join(server.dataDir, d.file))).length;
  const mb = new Intl.NumberFormat("vi", { maximumFractionDigits: 1 }).format(bytes / 1024 / 1024);
  return bytes >= 1024 * 1024 ? `${mb} MB` : `${Math.round(bytes / 1024)} KB`;
}

/** Opens the first item's `slot`-th document in the reader and waits for its first page. */
async function openDocument(slot, page = 1) {
  await tablet.getByTestId("document-open").nth(slot).click();
  await waitFor(tablet, "reader", { attr: "data-state", value: "open" });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: page });
}

/** A finger's sideways swipe of `dx` CSS pixels across the reader's page. */
function swipe(dx) {
  return tablet.getByTestId("reader-sheet").evaluate((sheet, dx) => {
    const stage = sheet.parentElement;
    const box = stage.getBoundingClientRect();
    const at = (x) => ({ pointerType: "touch", isPrimary: true, bubbles: true, clientX: x, clientY: box.top + box.height / 2 });
    const x = box.left + box.width / 2;
    stage.dispatchEvent(new PointerEvent("pointerdown", at(x)));
    stage.dispatchEvent(new PointerEvent("pointerup", at(x + dx)));
  }, dx);
}

/** The text pdf.js laid over the page shown. */
function pageText() {
  return tablet.getByTestId("reader-sheet").evaluate((el) => el.querySelector(".textLayer").textContent.normalize("NFC"));
}

test("the reader shows a page's Vietnamese text, finds a word and follows the table of contents", { timeout: 120_000 }, async () => {
  const [first] = DOCUMENTS;
  await openDocument(0);
  assert.equal(await tablet.getByTestId("reader-title").textContent(), first.title);
  await waitFor(tablet, "reader-count", { text: `/ ${first.sections.length}` });
  assert.match(await pageText(), /Căn cứ Luật Tổ chức chính quyền địa phương/);
  const canvas = await tablet.getByTestId("reader-sheet").evaluate((el) => {
    const c = el.querySelector("canvas");
    const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128 && pixels[i + 3] > 0) ink++;
    return { width: c.width, ink };
  });
  assert.ok(canvas.width > 600, `the page is drawn ${canvas.width} px wide`);
  assert.ok(canvas.ink > 500, `the page has ink (${canvas.ink} dark pixels)`);

  await tablet.getByTestId("reader-search").fill(SEARCHED);
  await tablet.getByTestId("reader-find").click();
  await waitFor(tablet, "reader-search-result", { attr: "data-pages", value: "3" });
  await waitFor(tablet, "reader-search-result", { text: "1 kết quả, ở trang 3" });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 3 });
  const marked = await tablet.getByTestId("reader-sheet").evaluate((el) => [...el.querySelectorAll(".highlight")].map((s) => s.textContent).join(""));
  assert.match(marked.normalize("NFC"), /quyết toán/);

  await tablet.getByTestId("reader-outline-toggle").click();
  const entries = tablet.getByTestId("reader-outline").locator(".outline-entry");
  assert.deepEqual(await entries.allTextContents(), first.sections.map(([heading]) => heading));
  await entries.nth(1).click();
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  assert.match(await pageText(), /Dự toán thu ngân sách/);

  // A finger swiped to the left turns to the next page, to the right back; not while a zoomed page pans.
  await swipe(-200);
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 3 });
  await swipe(200);
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  const zoom = await tablet.getByTestId("reader-zoom-level").textContent();
  await tablet.getByTestId("reader-zoom-in").click();
  await tablet.waitForFunction((before) => document.getElementById("reader-zoom-level").textContent !== before, zoom);
  await swipe(-200);
  await tablet.getByTestId("reader-fit").click();
  await waitFor(tablet, "reader-zoom-level", { text: zoom });
  assert.equal(await tablet.getByTestId("reader-page").inputValue(), "2", "the zoomed page panned rather than turned");
});

test("a private note on a page stays on the tablet", { timeout: 60_000 }, async () => {
  await tablet.getByTestId("reader-note-toggle").click();
  await tablet.getByTestId("reader-note").fill(NOTE);
  await waitFor(tablet, "reader-note-saved", { text: "Đã lưu." });
});

test("screenshots of the reader in Vietnamese and English", { timeout: 60_000 }, async () => {
  await screenshot(tablet, "tablet-reader-vi");
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "reader-count", { text: `of ${DOCUMENTS[0].sections.length}` });
  await screenshot(tablet, "tablet-reader-en");
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "reader-count", { text: `/ ${DOCUMENTS[0].sections.length}` });
  // On a phone the page is drawn again for its width, the note over it.
  const tabletSize = tablet.viewportSize();
  const wide = await tablet.getByTestId("reader-zoom-level").textContent();
  await tablet.setViewportSize({ width: 390, height: 844 });
  await tablet.waitForFunction((before) => document.getElementById("reader-zoom-level").textContent !== before, wide);
  await screenshot(tablet, "tablet-reader-phone-vi");
  await tablet.setViewportSize(tabletSize);
  await waitFor(tablet, "reader-zoom-level", { text: wide });
});

test("with the network cut the tablet goes on reading the documents it holds", { timeout: 90_000 }, async () => {
  const before = documentRequests().length;
  await tablet.context().setOffline(true);
  const reach = () => tablet.evaluate(() => fetch("/api/meetings").then(() => "reached", () => "cut"));
  assert.equal(await reach(), "cut");
  await tablet.getByTestId("reader-close").click();
  await openDocument(1);
  assert.match(await pageText(), /Phê chuẩn dự toán thu, chi ngân sách địa phương năm 2027/);
  await tablet.getByTestId("reader-next").click();
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  assert.equal(documentRequests().length, before, "nothing was downloaded again");
  await tablet.getByTestId("reader-close").click();
  await tablet.context().setOffline(false);
  assert.equal(await reach(), "reached");
});

test("with the network cut the page reloads, shows the meeting and opens the documents it holds", { timeout: 90_000 }, async () => {
  // The service worker keeps the app's files once the page has registered it.
  await tablet.waitForSelector("body[data-app-files=kept]");
  const before = documentRequests().length;
  await tablet.context().setOffline(true);
  await tablet.reload();
  await tablet.waitForSelector("body[data-view=meeting]");
  // What the tablet last knew of the meeting, marked as not connected.
  assert.ok(await tablet.getByTestId("conn").isVisible(), "the page says it is not connected");
  await openDocument(1);
  assert.match(await pageText(), /Phê chuẩn dự toán thu, chi ngân sách địa phương năm 2027/);
  assert.equal(documentRequests().length, before, "the document came from the tablet");
  await tablet.getByTestId("reader-close").click();
  await tablet.context().setOffline(false);
  await waitFor(tablet, "conn", { attr: "data-state", value: "online", visible: false });
});

test("after a reload the documents are read from the tablet and the note is still there, never sent", { timeout: 120_000 }, async () => {
  const before = documentRequests().length;
  await tablet.reload();
  await waitFor(tablet, "prefetch", { attr: "data-state", value: "done" });
  await openDocument(0);
  await tablet.getByTestId("reader-page").fill("2");
  await tablet.getByTestId("reader-page").press("Enter");
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  await tablet.getByTestId("reader-note-toggle").click();
  assert.equal(await tablet.getByTestId("reader-note").inputValue(), NOTE);
  assert.equal(documentRequests().length, before, "no document was downloaded again");
  const secret = "7QX";
  const sent = requests.filter((r) => r.url.includes(secret) || r.body.includes(secret));
  assert.deepEqual(sent, [], "no HTTP request carries the note");
  const frames = tap.frames.filter((f) => f.dir === "up" && JSON.stringify(f.msg).includes(secret));
  assert.deepEqual(frames, [], "no WebSocket frame carries the note");
});

test("the chair's vote takes the screen from the reader, which comes back to the same page after the ballot", { timeout: 120_000 }, async () => {
  assert.equal(await tablet.getByTestId("reader").isVisible(), true);
  await setField(chair, "window-seconds", 300);
  await chair.getByTestId("open-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  await tablet.getByTestId("reader").waitFor({ state: "hidden" });
  assert.equal(await tablet.getByTestId("choice-yes").isEnabled(), true);
  await tablet.getByTestId("choice-yes").click();
  await waitFor(tablet, "receipt", { attr: "data-choice", value: "yes" });
  await waitFor(tablet, "reader", { attr: "data-state", value: "open" });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  assert.equal(await tablet.getByTestId("reader-note").inputValue(), NOTE);
  await chair.getByTestId("close-vote").click();
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 2 });
  await tablet.getByTestId("reader-close").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "closed" });
});

/** The mark for opening a 300-page PDF: its first page shown within a second. */
const FIRST_PAGE_MS = 1000;

test("a 300-page document shows its first page within a second of the press", { timeout: 120_000 }, async () => {
  const elapsed = await tablet.evaluate(
    () =>
      new Promise((resolve) => {
        const sheet = document.getElementById("reader-sheet");
        const start = performance.now();
        new MutationObserver((_, observer) => {
          if (sheet.dataset.page !== "1") return;
          observer.disconnect();
          resolve(performance.now() - start);
        }).observe(sheet, { attributes: true });
        document.querySelectorAll("[data-testid=document-open]")[2].click();
      }),
  );
  await waitFor(tablet, "reader-count", { text: "/ 300" });
  console.log(`300-page document: first page shown ${Math.round(elapsed)} ms after the press`);
  assert.ok(elapsed < FIRST_PAGE_MS, `first page after ${Math.round(elapsed)} ms`);
  await tablet.getByTestId("reader-close").click();
});

test("a new version of a document shows as such, with its change in size, fetched again after a failed download", { timeout: 120_000 }, async () => {
  // The report on the second item is replaced before that item is voted on.
  const report = DOCUMENTS[3];
  await server.stop();
  await writeFile(path.join(server.dataDir, report.file), await makePdf(browser, report.sections, "Bổ sung: ý kiến của Ban Pháp chế. ".repeat(40)));
  await server.cli("meeting", "import", path.join(server.dataDir, "meeting.toml"));
  // The new version's first download is cut: the tablet says so, and tries again by itself.
  const newVersion = `**/documents/${await sha256Of(report.file)}`;
  await tablet.route(newVersion, (route) => route.abort("connectionreset"), { times: 1 });
  await server.start();
  await waitFor(tablet, "prefetch", { attr: "data-state", value: "failed" });
  await waitFor(tablet, "prefetch-text", { contains: "1 tài liệu chưa tải được" });
  await waitFor(tablet, "conn", { attr: "data-state", value: "online" });
  await chair.reload();
  await chair.getByTestId("agenda-item-1").click();
  await waitFor(tablet, "item-documents", { contains: "Bản mới (bản 2)" });
  await waitFor(tablet, "prefetch", { attr: "data-state", value: "done" });
  const change = await tablet.getByTestId("document-change").textContent();
  assert.match(change, /^Bản mới \(bản 2\): \d+ KB → \d+ KB \(\+\d+ KB\); máy chủ lưu lúc .+, bản trước lưu lúc .+; máy này nhận lúc .+$/);
  // The date is the server's, from the meeting view, as this tablet's clock writes it.
  const view = await (await fetch(`${server.url}/api/meetings/${MEETING_ID}/view`)).json();
  const stored = view.agenda.flatMap((item) => item.documents).find((d) => d.version === 2 && d.title === report.title).stored_at;
  const style = { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" };
  const when = await tablet.evaluate(([ms, style]) => new Intl.DateTimeFormat("vi-VN", style).format(new Date(ms)), [stored, style]);
  assert.ok(change.includes(`máy chủ lưu lúc ${when}, bản trước`), `${change} names ${when}`);
  await tablet.locator(".item-card").screenshot({ path: path.join(SCREENSHOTS, "tablet-document-version-vi.png"), animations: "disabled" });
});

test("a vote that ends without this tablet's ballot gives the reader back too", { timeout: 120_000 }, async () => {
  const report = DOCUMENTS[3];
  await tablet.getByTestId("document-open").first().click();
  await waitFor(tablet, "reader-title", { text: report.title });
  await waitFor(tablet, "reader", { attr: "data-state", value: "open" });
  // The chair moves on to an item that is voted on; the reader stays open on the report.
  await chair.getByTestId("agenda-item-2").click();
  await waitFor(chair, "agenda-item-2", { attr: "aria-current", value: "step" });
  await setField(chair, "window-seconds", 300);
  await chair.getByTestId("open-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  await tablet.getByTestId("reader").waitFor({ state: "hidden" });
  await chair.getByTestId("close-vote").click();
  await waitFor(tablet, "reader", { attr: "data-state", value: "open" });
  await waitFor(tablet, "reader-title", { text: report.title });
  await waitFor(tablet, "reader-sheet", { attr: "data-page", value: 1 });
});

test("a tablet given up takes its kept documents, notes and ballot trackers with it", { timeout: 60_000 }, async () => {
  const databases = () => tablet.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
  assert.deepEqual(await databases(), ["gavel", "gavel-documents", "gavel-trackers"]);
  await tablet.getByTestId("reader-close").click();
  await tablet.locator("#forget").click();
  await tablet.locator("#forget-confirm").click();
  await waitFor(tablet, "enroll-code", {});
  // The enrollment screen shows once the documents and trackers are gone.
  assert.deepEqual(await databases(), ["gavel"]);
  assert.deepEqual([...chair.errors, ...tablet.errors], []);
  assert.deepEqual(await tablet.evaluate(() => window.policyViolations), []);
});
