// An agenda item's documents on a delegate's tablet, end to end: the example
// meeting imported with two PDFs on its first item (a public submission and
// a delegates-only draft), the chair puts the item on the floor, and the
// tablet lists both (each opens in the reader, viewer.test.mjs) with links
// that download the very bytes imported, the delegates-only one with the
// session's token. Screenshots of the list in Vietnamese and English go to
// docs/screenshots/. A vote opened on the item while the tablet lacks one of
// the versions the round recorded (its download failed at check-in) says so
// before the delegate can vote, in both languages, and is cast once the
// tablet has fetched it. The chair's console and the hall screen name the
// versions the open round is about.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GavelServer, MEETING_FILE, SCREENSHOTS, launchBrowser, openApp, setField, waitFor } from "./harness.mjs";

const ITEM = 0;
const DOCUMENTS = [
  { title: "Tờ trình về chương trình kỳ họp", kind: "submission", file: "tai-lieu/to-trinh.pdf", public: true, text: "To trinh ve chuong trinh ky hop" },
  { title: "Dự thảo Nghị quyết thông qua chương trình kỳ họp", kind: "draft_resolution", file: "tai-lieu/du-thao.pdf", public: false, text: "Du thao Nghi quyet" },
];

let server;
let browser;
let codes;
let chair;
let tablet;

/** A one-page PDF saying `text` (ASCII), with its cross-reference table. */
function pdf(text) {
  const content = `BT /F1 18 Tf 72 760 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
    "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = "%PDF-1.4\n";
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) out += `${String(at).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** The example meeting with DOCUMENTS under its first item, written into `dir`. */
async function meetingWithDocuments(dir) {
  const example = await readFile(MEETING_FILE, "utf8");
  const blocks = DOCUMENTS.map((d) => `[[topics.items.documents]]\ntitle = "${d.title}"\nkind = "${d.kind}"\nfile = "${d.file}"\npublic = ${d.public}\n\n`).join("");
  const first = example.indexOf("[[topics.items]]");
  const second = example.indexOf("[[topics.items]]", first + 1);
  const text = example.slice(0, second) + blocks + example.slice(second);
  for (const d of DOCUMENTS) {
    await mkdir(path.join(dir, path.dirname(d.file)), { recursive: true });
    await writeFile(path.join(dir, d.file), pdf(d.text));
  }
  const file = path.join(dir, "meeting.toml");
  await writeFile(file, text);
  return file;
}

before(async () => {
  server = new GavelServer(await mkdtemp(path.join(tmpdir(), "gavel-documents-")));
  const printed = await server.cli("meeting", "import", await meetingWithDocuments(server.dataDir));
  assert.match(printed, /2 documents/);
  codes = await server.codes("1");
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test("the item on the floor lists its documents, and each link downloads it", { timeout: 180_000 }, async () => {
  chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await chair.getByTestId(`agenda-item-${ITEM}`).click();
  await waitFor(chair, `agenda-item-${ITEM}`, { attr: "aria-current", value: "step" });

  tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(1).code}`);
  await waitFor(tablet, "item-documents", {});
  const titles = tablet.getByTestId("document-open");
  const links = tablet.getByTestId("item-documents").locator("a.document-download");
  assert.equal(await links.count(), DOCUMENTS.length);
  for (const [i, d] of DOCUMENTS.entries()) {
    const link = links.nth(i);
    assert.equal(await titles.nth(i).textContent(), d.title);
    const href = await link.getAttribute("href");
    assert.equal(href.includes("?access="), !d.public, `${d.title}: ${href}`);
    const [download] = await Promise.all([tablet.waitForEvent("download"), link.click()]);
    const saved = path.join(server.dataDir, `downloaded-${i}.pdf`);
    await download.saveAs(saved);
    assert.deepEqual(await readFile(saved), await readFile(path.join(server.dataDir, d.file)), d.title);
  }
  // The delegates-only link without the session's token is refused.
  const draft = await links.nth(1).getAttribute("href");
  const status = await tablet.evaluate(async (url) => (await fetch(url.split("?")[0])).status, draft);
  assert.equal(status, 401);
  assert.deepEqual([...chair.errors, ...tablet.errors], []);
});

test("screenshots of the document list in Vietnamese and English", { timeout: 60_000 }, async () => {
  const card = tablet.locator(".item-card");
  await waitFor(tablet, "item-documents", { contains: "dành cho đại biểu" });
  await card.screenshot({ path: await shot("tablet-documents-vi"), animations: "disabled" });
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "item-documents", { contains: "delegates only" });
  await card.screenshot({ path: await shot("tablet-documents-en"), animations: "disabled" });
});

test("a vote on a version the tablet lacks waits until it is fetched", { timeout: 180_000 }, async () => {
  // The draft's download fails at check-in: the tablet holds the submission alone.
  const draft = await tablet.getByTestId("item-documents").locator("li.document").nth(1).getAttribute("data-sha256");
  const failing = (route) => route.abort();
  await tablet.context().route(`**/documents/${draft}*`, failing);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "checked-in", {});
  await setField(chair, "window-seconds", 300);
  await chair.getByTestId("open-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  // The chair's console names the versions the round is about, as the ballots sign them.
  await waitFor(chair, "round-versions", {
    text: "Biểu quyết về: Tờ trình về chương trình kỳ họp (bản 1); Dự thảo Nghị quyết thông qua chương trình kỳ họp (bản 1)",
  });
  await chair.locator(".item-panel").screenshot({ path: await shot("chair-versions-vi"), animations: "disabled" });
  await chair.getByTestId("lang-toggle").click();
  await waitFor(chair, "round-versions", { contains: "Voting on: Tờ trình về chương trình kỳ họp (version 1);" });
  await chair.locator(".item-panel").screenshot({ path: await shot("chair-versions-en"), animations: "disabled" });
  await chair.getByTestId("lang-toggle").click();
  // The hall screen names them under the item's title, in the same words.
  const screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await screen.goto(`${server.url}/screen/`);
  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "open" });
  await waitFor(screen, "screen-round-versions", {
    text: "Biểu quyết về: Tờ trình về chương trình kỳ họp (bản 1); Dự thảo Nghị quyết thông qua chương trình kỳ họp (bản 1)",
  });
  await screen.screenshot({ path: await shot("screen-versions-vi"), animations: "disabled" });
  await screen.getByTestId("lang-toggle").click();
  await waitFor(screen, "screen-round-versions", {
    text: "Voting on: Tờ trình về chương trình kỳ họp (version 1); Dự thảo Nghị quyết thông qua chương trình kỳ họp (version 1)",
  });
  await screen.screenshot({ path: await shot("screen-versions-en"), animations: "disabled" });

  // The previous test left the tablet in English.
  await waitFor(tablet, "versions-missing", { contains: "does not hold 1 of the documents" });
  assert.equal(await tablet.getByTestId("choice-yes").isDisabled(), true, "the choices wait");
  const panel = tablet.locator("#vote-panel");
  await panel.scrollIntoViewIfNeeded();
  await panel.screenshot({ path: await shot("tablet-versions-missing-en"), animations: "disabled" });
  await tablet.getByTestId("lang-toggle").click();
  await waitFor(tablet, "versions-missing", { contains: "chưa có 1 tài liệu" });
  await waitFor(tablet, "versions-fetch", { text: "Tải tài liệu" });
  await panel.screenshot({ path: await shot("tablet-versions-missing-vi"), animations: "disabled" });

  // Fetched, the notice goes and the vote is cast.
  await tablet.context().unroute(`**/documents/${draft}*`, failing);
  await tablet.getByTestId("versions-fetch").click();
  await tablet.getByTestId("versions-missing").waitFor({ state: "hidden" });
  await tablet.getByTestId("choice-yes").click();
  await waitFor(tablet, "choice-yes", { attr: "data-selected", value: "true" });
  assert.deepEqual([...chair.errors, ...tablet.errors, ...screen.errors], []);
  await screen.context().close();
});

/** Where a screenshot named `name` goes, beside the hall test's. */
async function shot(name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}
