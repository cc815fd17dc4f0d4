// When the devices fail: the chair has put an item on the screens, the hall
// votes by a show of hands, and the secretariat records the counts in its
// app at /admin/ (the meeting's results view). Counts that cannot be are
// refused with the field marked; the right ones are recorded, the hall
// screen and the chair's console show the result at once marked
// "Kiểm đếm thủ công / Recorded by hand" with who recorded it and when (the
// hall screen's band counting those present as the hand count did), the
// item is locked, and the results CSV, the record and the minutes download
// from the app saying so; a delegate's tablet and the public page show the
// mark too. Then an election voted on paper ballots: the secretariat enters
// the counting board's figures (ballots issued, returned, invalid, each
// candidate's approvals), an impossible one is refused naming the
// candidate, and the result the devices' rules give reaches the hall screen
// and the chair's console marked as counted on paper by the board. The
// chair may still call a hand-counted item's vote again on the devices.
// Screenshots in both languages.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { GavelServer, MEETING_ID, launchBrowser, openApp, screenshot, secretariatPage, setField, switchTo, waitFor } from "./harness.mjs";

/** Item 0 of the example, "Thông qua chương trình kỳ họp": yes/no, named, more than half of all 40 seats. */
const ITEM = 0;
/** Item 7, "Bầu bổ sung Phó Chủ tịch…": a secret election of one of two candidates, more than half of all seats. */
const ELECTION = 7;
const RECORDER = "Lê Thị Thu";

let server;
let browser;
let chairCode;
let seatCode;

before(async () => {
  server = await GavelServer.withExampleMeeting();
  const codes = await server.codes("1");
  chairCode = codes.chair;
  seatCode = codes.seats.get(1).code;
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Downloads one of the results view's files; resolves to its name and text. */
async function download(page, key) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`download-${key}`).click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), "utf8") };
}

test("a show of hands recorded by the secretariat reaches the hall screen marked, and its files download", { timeout: 180_000 }, async () => {
  // The chair puts the item on the screens; the tablets then fail.
  const chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${chairCode}`);
  await chair.getByTestId(`agenda-item-${ITEM}`).click();
  await waitFor(chair, `agenda-item-${ITEM}`, { attr: "aria-current", value: "step" });
  const screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}`);

  const admin = await secretariatPage(browser, server, "admin-results", { lang: "vi", height: 1000 });
  await waitFor(admin, `meeting-${MEETING_ID}`, { attr: "data-state", value: "in_session" });
  await admin.getByTestId(`results-${MEETING_ID}`).click();
  await admin.waitForSelector("#results-view:not([hidden])");
  await waitFor(admin, `result-item-${ITEM}`, { attr: "data-status", value: "pending" });
  await admin.getByTestId(`record-${ITEM}`).click();

  // More votes than people present: refused, the three counts marked.
  await setField(admin, "hand-present", 38);
  await setField(admin, "hand-yes", 30);
  await setField(admin, "hand-no", 6);
  await setField(admin, "hand-abstain", 3);
  await setField(admin, "hand-by", RECORDER);
  await admin.getByTestId("hand-save").click();
  await waitFor(admin, "hand-error", { text: "Chưa ghi nhận: 39 phiếu (30 + 6 + 3), nhiều hơn 38 đại biểu có mặt" });
  for (const field of ["yes", "no", "abstain"]) await waitFor(admin, `hand-${field}`, { attr: "aria-invalid", value: "true" });
  assert.equal(await admin.getByTestId("hand-present").getAttribute("aria-invalid"), null);
  await screenshot(admin, "admin-hand-count-vi");
  await switchTo(admin, "en");
  await waitFor(admin, "hand-error", { text: "Not recorded: 39 votes (30 + 6 + 3), more than the 38 present" });
  await screenshot(admin, "admin-hand-count-en");

  // Corrected and recorded: the hall screen has it at once, marked.
  await setField(admin, "hand-abstain", 2);
  await admin.getByTestId("hand-save").click();
  await waitFor(admin, "results-done", { contains: "is recorded" });
  await waitFor(admin, `result-item-${ITEM}`, { attr: "data-status", value: "passed" });
  await waitFor(admin, "by-hand", { contains: `Recorded by hand — entered by ${RECORDER}` });
  await waitFor(admin, `locked-${ITEM}`, { text: "Locked" });
  assert.equal(await admin.getByTestId(`record-${ITEM}`).count(), 0, "a closed item takes no other count");
  await screenshot(admin, "admin-results-en");
  await switchTo(admin, "vi");
  await waitFor(admin, "by-hand", { contains: `Kiểm đếm thủ công — ${RECORDER} ghi nhận lúc` });
  await screenshot(admin, "admin-results-vi");

  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "closed" });
  await waitFor(screen, "result-banner", { attr: "data-passed", value: "true" });
  await waitFor(screen, "by-hand", { contains: `Kiểm đếm thủ công — ${RECORDER} ghi nhận lúc` });
  await waitFor(screen, "count-yes", { text: "30" });
  await waitFor(screen, "percent-yes", { text: "75,00%" });
  // The band counts those present as the hand count did, not the failed devices' check-ins (none).
  await waitFor(screen, "present-count", { attr: "data-source", value: "by_hand" });
  await waitFor(screen, "present-count", { text: "38" });
  assert.equal(await screen.locator(".band-present").innerText(), "CÓ MẶT (THỦ CÔNG)\n38/40");
  await screenshot(screen, "screen-by-hand-vi");
  await screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}&lang=en`);
  await waitFor(screen, "by-hand", { contains: `Recorded by hand — entered by ${RECORDER} at` });
  await waitFor(screen, "present-count", { text: "38" });
  assert.equal(await screen.locator(".band-present").innerText(), "PRESENT (BY HAND)\n38/40");
  await screenshot(screen, "screen-by-hand-en");
  await waitFor(chair, "by-hand", { contains: `Kiểm đếm thủ công — ${RECORDER}` });
  await waitFor(chair, "result-banner", { attr: "data-passed", value: "true" });
  await screenshot(chair, "chair-by-hand-vi");

  // A delegate's tablet and the public page say so too.
  const tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${seatCode}&lang=en`);
  await waitFor(tablet, "by-hand", { contains: `Recorded by hand — entered by ${RECORDER} at` });
  await screenshot(tablet, "tablet-by-hand-en");
  const visitor = await openApp(browser, "public", { width: 1280, height: 900 });
  await visitor.goto(`${server.url}/public/${MEETING_ID}`);
  await waitFor(visitor, "public-by-hand", { contains: `Kiểm đếm thủ công — ${RECORDER} ghi nhận lúc` });
  await waitFor(visitor, "public-result", { contains: "30 tán thành (75,00%)" });

  // The files, as gavel export prints them, each saying it was recorded by hand.
  const csv = await download(admin, "csv_vi");
  assert.equal(csv.name, `${MEETING_ID}.results.vi.csv`);
  const [header, row] = csv.text.replace(/^\uFEFF/, "").split("\r\n");
  assert.match(header, /Kiểm đếm thủ công \(UTC\+07:00\)$/);
  assert.match(row, new RegExp(`^1,.*,30,6,2,.*,THÔNG QUA,"?${RECORDER}, \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}"?$`));
  const record = JSON.parse((await download(admin, "record")).text);
  assert.equal(record.rounds.length, 1);
  assert.equal(record.rounds[0].by_hand.by, RECORDER);
  assert.deepEqual(record.rounds[0].ballots, []);
  assert.ok(record.chain.some((e) => e.event.kind === "result_recorded_by_hand"));
  const minutes = await download(admin, "minutes_en");
  assert.match(minutes.text, /Recorded by hand: the result of a show of hands or a paper vote, entered by Lê Thị Thu at/);
  // Only the secretariat's count is locked: the chair may call the vote
  // again on the devices, as after any closed round, and the console's
  // "Re-vote" is a command the server carries out.
  await waitFor(chair, "open-vote", { contains: "Biểu quyết lại" });
  await switchTo(chair, "en");
  await waitFor(chair, "open-vote", { contains: "Re-vote" });
  await waitFor(chair, "by-hand", { contains: `Recorded by hand — entered by ${RECORDER}` });
  await screenshot(chair, "chair-by-hand-en");
  await chair.getByTestId("open-vote").click();
  await waitFor(chair, `agenda-item-${ITEM}`, { attr: "data-status", value: "voting" });
  await chair.getByTestId("void-vote").click();
  await chair.getByTestId("confirm-void").click();
  await waitFor(chair, `agenda-item-${ITEM}`, { attr: "data-status", value: "voided" });
  assert.deepEqual([...admin.errors, ...screen.errors, ...chair.errors, ...tablet.errors, ...visitor.errors], []);
});

test("an election's paper ballots counted by the counting board: its figures entered, checked and shown", { timeout: 180_000 }, async () => {
  // A console of its own: the first test's code enrolled the first one.
  const codes = await server.codes("2");
  const code = codes.chair;
  const chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${code}`);
  await chair.getByTestId(`agenda-item-${ELECTION}`).click();
  await waitFor(chair, `agenda-item-${ELECTION}`, { attr: "aria-current", value: "step" });
  const screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}`);

  const admin = await secretariatPage(browser, server, "admin-results", { lang: "vi", height: 1000 });
  await admin.getByTestId(`results-${MEETING_ID}`).click();
  await admin.waitForSelector("#results-view:not([hidden])");
  await waitFor(admin, `result-item-${ELECTION}`, { attr: "data-status", value: "pending" });
  await admin.getByTestId(`record-${ELECTION}`).click();
  await waitFor(admin, "hand-marks", {});

  // 40 issued, 39 returned, 1 invalid: 38 valid; the second candidate's 39 cannot be.
  for (const [field, value] of [["present", 40], ["issued", 40], ["returned", 39], ["invalid", 1], ["mark-0-0", 24], ["mark-1-0", 39], ["by", RECORDER]]) {
    await setField(admin, `hand-${field}`, value);
  }
  await admin.getByTestId("hand-save").click();
  await waitFor(admin, "hand-error", { text: "Chưa ghi nhận: Lương Thị Thanh Huyền: 39 phiếu, nhiều hơn 38 phiếu hợp lệ" });
  await waitFor(admin, "hand-mark-1-0", { attr: "aria-invalid", value: "true" });
  assert.equal(await admin.getByTestId("hand-mark-0-0").getAttribute("aria-invalid"), null);
  await screenshot(admin, "admin-hand-election-vi", { fullPage: true });
  await switchTo(admin, "en");
  await waitFor(admin, "hand-error", { text: "Not recorded: Lương Thị Thanh Huyền: 39 marks, more than the 38 valid papers" });
  await screenshot(admin, "admin-hand-election-en", { fullPage: true });

  // Corrected: 24 and 14 of 40 seats; 21 elect, so the first is elected.
  await setField(admin, "hand-mark-1-0", 14);
  await admin.getByTestId("hand-save").click();
  await waitFor(admin, `result-item-${ELECTION}`, { attr: "data-status", value: "counted" });
  await waitFor(admin, "paper-sentences", { contains: "Ballot papers returned: 39" });
  await waitFor(admin, "paper-sentences", { contains: "Valid ballot papers: 38; invalid: 1" });
  await waitFor(admin, "paper-sentences", { contains: "Elected: Vũ Thị Lan Anh" });
  await waitFor(admin, "by-hand", { contains: `Counted by hand — paper ballots counted by the counting board; entered by ${RECORDER}` });
  await waitFor(admin, `locked-${ELECTION}`, { text: "Locked" });
  await admin.getByTestId(`result-item-${ELECTION}`).scrollIntoViewIfNeeded();
  await screenshot(admin, "admin-results-election-en");

  await waitFor(screen, "screen-paper-table", {});
  await waitFor(screen, "screen-paper-summary", { contains: "Trúng cử: Vũ Thị Lan Anh" });
  await waitFor(screen, "screen-paper-summary", { contains: "Phiếu hợp lệ: 38; không hợp lệ: 1" });
  await waitFor(screen, "by-hand", { contains: `Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm; ${RECORDER} ghi nhận lúc` });
  const elected = screen.locator('[data-testid="screen-paper-table"] tr[data-entry="0"]');
  assert.equal(await elected.getAttribute("data-outcome"), "elected");
  await screenshot(screen, "screen-by-hand-election-vi");
  await screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}&lang=en`);
  await waitFor(screen, "by-hand", { contains: `Counted by hand — paper ballots counted by the counting board; entered by ${RECORDER} at` });
  await screenshot(screen, "screen-by-hand-election-en");
  await waitFor(chair, "paper-by-hand", { contains: `Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm; ${RECORDER}` });
  await waitFor(chair, "chair-paper-table", {});
  await screenshot(chair, "chair-by-hand-election-vi");

  // A delegate's tablet and the public page show the board's figures, marked.
  const tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(2).code}&lang=en`);
  await waitFor(tablet, "by-hand", { contains: "Counted by hand — paper ballots counted by the counting board" });
  await waitFor(tablet, "paper-result", { contains: "Valid ballot papers: 38; invalid: 1" });
  await screenshot(tablet, "tablet-by-hand-election-en");
  const visitor = await openApp(browser, "public", { width: 1280, height: 900 });
  await visitor.goto(`${server.url}/public/${MEETING_ID}`);
  await waitFor(visitor, "public-by-hand", { contains: "Kiểm đếm thủ công — phiếu giấy do Ban kiểm phiếu kiểm" });
  await waitFor(visitor, "public-result", { contains: "Phiếu hợp lệ: 38; không hợp lệ: 1" });

  const minutes = await download(admin, "minutes_en");
  assert.match(minutes.text, /Counted by hand: a vote on paper ballots, counted by the counting board, whose record(&#39;|')s figures Lê Thị Thu entered at/);
  assert.match(minutes.text, /Invalid ballot papers<\/th><td class="num">1<\/td>/);
  assert.deepEqual([...admin.errors, ...screen.errors, ...chair.errors, ...tablet.errors, ...visitor.errors], []);
});
