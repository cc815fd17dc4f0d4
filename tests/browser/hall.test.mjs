// A council session in the browser, end to end: the chair's console, three
// delegates' tablets (one on a phone) and the hall screen, each in its own
// browser context, against a real gavel server over real WebSockets with
// real WebCrypto keys. Steps run in order and share one session; once a step
// fails, the later ones are skipped (they would only fail for the same cause).

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { logTail, MEETING_ID, openApp, screenshot, SCREENSHOTS, setField, startSession, storySteps, tapWebSocket, WAIT_MS, waitFor } from "./harness.mjs";
import { countdownText } from "../../server/web/common/countdown.js";

const STEP_MS = 180_000;

/** The first vote: item 0, "Thông qua chương trình kỳ họp" (named, interim totals, more than half of all 40 seats). */
const FIRST_ITEM = 0;
/** The vote after the server's restart: item 2, a draft resolution with the default rule. */
const AFTER_RESTART_ITEM = 2;
/** The window of the re-vote whose deadline a tablet misses. */
const LATE_WINDOW_SECONDS = 2;
/** The vote the chair pauses and resumes: item 3, a draft resolution with the default rule. */
const PAUSE_ITEM = 3;

let server;
let browser;
let codes;
/** Pages by role: chair, screen, and tablets[0..2] for seats 1..3. */
const app = { chair: null, screen: null, tablets: [] };
/** Seat 1's WebSocket, routed through Playwright so that step 6 can hide a frame from it. */
let seat1Tap;
const runStarted = Date.now();

/**
 * Declares one step of the session. A failing step saves a screenshot of
 * every page and the server's log for diagnosis; the later steps then skip.
 */
const step = storySteps(STEP_MS, saveFailureEvidence);

async function saveFailureEvidence(t, name) {
  const dir = path.join(tmpdir(), `gavel-browser-failure-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`);
  await mkdir(dir, { recursive: true });
  for (const page of allPages()) {
    await page.screenshot({ path: path.join(dir, `${page.appName}.png`), fullPage: true }).catch(() => {});
  }
  t.diagnostic(`screenshots of every page: ${dir}`);
  t.diagnostic("server log, last lines:");
  logTail(t, server, 30);
}

function allPages() {
  return [app.chair, app.screen, ...app.tablets].filter(Boolean);
}

const CHOICES = ["yes", "no", "abstain"];

/** Presses a choice on a tablet and waits for the receipt of that choice. */
async function vote(tablet, choice) {
  await tablet.getByTestId(`choice-${choice}`).click();
  await waitFor(tablet, "receipt", { attr: "data-choice", value: choice });
}

/**
 * The chair makes `item` current and opens a vote on it with a window of
 * `seconds`. The console resets the window field to the item's default when
 * the server confirms the new current item, so the field is set after that.
 */
async function openVote(item, seconds) {
  await app.chair.getByTestId(`agenda-item-${item}`).click();
  await waitFor(app.chair, `agenda-item-${item}`, { attr: "aria-current", value: "step" });
  await setField(app.chair, "window-seconds", seconds);
  await app.chair.getByTestId("open-vote").click();
}

/** The chair opens a vote on `item` (see openVote); every tablet and the hall screen see it open. */
async function openVoteEverywhere(item, seconds) {
  await openVote(item, seconds);
  for (const tablet of app.tablets) await waitFor(tablet, "round-state", { attr: "data-state", value: "open" });
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "open" });
}

/** Seats 1, 2 and 3 cast `choices` in turn; the chair closes the vote and the hall screen shows the totals, live and final. */
async function voteAndClose(choices) {
  const counts = { yes: 0, no: 0, abstain: 0 };
  for (const [i, choice] of choices.entries()) {
    await vote(app.tablets[i], choice);
    counts[choice] += 1;
  }
  await expectScreenTotals(counts);
  await app.chair.getByTestId("close-vote").click();
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  await expectScreenTotals(counts);
}

/** Checks the hall screen's totals and percentages (of all 40 seats, Vietnamese format). */
async function expectScreenTotals(counts) {
  const s = app.screen;
  for (const choice of CHOICES) {
    await waitFor(s, `count-${choice}`, { text: String(counts[choice]) });
    const percent = ((counts[choice] * 100) / 40).toFixed(2).replace(".", ",");
    await waitFor(s, `percent-${choice}`, { text: `${percent}%` });
  }
  await waitFor(s, "taking-part", { text: String(counts.yes + counts.no + counts.abstain) });
  await waitFor(s, "total-seats", { text: "40" });
}

/**
 * Waits for an app's connection badge (its data-state) to show `status`;
 * the screen hides its badge while online.
 */
async function waitConn(page, status) {
  await waitFor(page, "conn", { attr: "data-state", value: status, visible: status !== "online" });
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(png) {
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Waits until `predicate` holds for the Node-side state, e.g. frames seen by a WebSocket tap. */
async function until(predicate, what, timeout = WAIT_MS) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) throw new Error(`${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  ({ server, codes, browser } = await startSession("1-3"));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

step("1. the chair, three tablets and the hall screen join", async () => {
  app.chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await app.chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await app.chair.getByTestId(`agenda-item-${FIRST_ITEM}`).waitFor();

  // Seats 1 and 2 follow a link with their code; seat 3, on a phone, types it.
  const devices = [
    { width: 1280, height: 800, link: true },
    { width: 1280, height: 800, link: true },
    { width: 390, height: 844, phone: true, link: false },
  ];
  for (const [i, device] of devices.entries()) {
    const seat = i + 1;
    const code = codes.seats.get(seat).code;
    const tablet = await openApp(browser, `tablet-seat-${seat}`, device);
    if (seat === 1) seat1Tap = await tapWebSocket(tablet);
    app.tablets.push(tablet);
    if (device.link) {
      await tablet.goto(`${server.url}/tablet/?code=${code}`);
    } else {
      await tablet.goto(`${server.url}/tablet/`);
      await tablet.getByTestId("enroll-code").fill(code);
      await tablet.getByTestId("enroll-button").click();
    }
    await tablet.getByTestId("check-in").click();
    await waitFor(tablet, "checked-in", {});
  }

  app.screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await app.screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}`);
  await waitConn(app.screen, "online");
  await waitConn(app.chair, "online");
  for (const tablet of app.tablets) await waitConn(tablet, "online");
  // The example meeting's quorum: at least two thirds of its 40 seats.
  await waitFor(app.chair, "quorum", {
    attr: "data-ok",
    value: "false",
    text: "Chưa đủ số đại biểu để tiến hành kỳ họp: cần ít nhất 2/3 tổng số đại biểu (27)",
  });
});

step("2. the chair opens a vote on item 0 and every tablet sees it open", async () => {
  await openVoteEverywhere(FIRST_ITEM, 60);
});

step("3. tablets vote yes, yes, no and each shows its receipt", async () => {
  const [one, two, three] = app.tablets;
  await vote(one, "yes");
  await vote(two, "yes");
  await vote(three, "no");
  // Interim totals are on for this item: the hall sees them while the vote is open.
  await expectScreenTotals({ yes: 2, no: 1, abstain: 0 });
  await screenshot(app.screen, "screen-vote");
  await screenshot(app.chair, "chair-vote");
  await screenshot(one, "tablet-receipt");
  // The phone scrolls its vote panel into view when a vote opens (smoothly, and a tap
  // may cut that short): show the panel where that scroll ends, as the delegate sees it.
  await three.getByTestId("round-state").evaluate((el) => el.scrollIntoView({ block: "start", behavior: "instant" }));
  await screenshot(three, "tablet-phone-receipt");
});

step("4. a tablet reloaded mid-vote shows its recorded vote again", async () => {
  const two = app.tablets[1];
  await two.reload();
  await waitFor(two, "receipt", { attr: "data-choice", value: "yes" });
  await waitFor(two, "choice-yes", { attr: "data-selected", value: "true" });
  await waitFor(two, "round-state", { attr: "data-state", value: "open" });
});

step("5. the chair closes the vote: 2 of 40 is not more than half, the item does not pass", async () => {
  await app.chair.getByTestId("close-vote").click();
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  await expectScreenTotals({ yes: 2, no: 1, abstain: 0 });
  await waitFor(app.screen, "result-banner", { attr: "data-passed", value: "false" });
  await waitFor(app.screen, "result-banner", { contains: "KHÔNG THÔNG QUA" });
  await waitFor(app.chair, "result-banner", { attr: "data-passed", value: "false" });
  await waitFor(app.chair, "result-banner", { contains: "KHÔNG THÔNG QUA" });
  await screenshot(app.screen, "screen-result");
  await screenshot(app.chair, "chair-result");
});

step("6. a press that reaches the server after the deadline is refused as late", async () => {
  const one = app.tablets[0];
  // Seat 1's tablet must not learn that the re-vote closed: drop, on its way
  // to that page only, every snapshot that shows a round other than the
  // first one closed. The server's own frames are untouched.
  const firstRound = seat1Tap.frames.find((f) => f.msg.type === "snapshot" && f.msg.round?.item === FIRST_ITEM)?.msg.round.id;
  assert.ok(firstRound, "seat 1 saw the first round");
  seat1Tap.dropFromServer = (msg) => msg.type === "snapshot" && msg.round?.status === "closed" && msg.round.id !== firstRound;

  await setField(app.chair, "window-seconds", LATE_WINDOW_SECONDS);
  await app.chair.getByTestId("open-vote").click();
  await waitFor(one, "round-state", { attr: "data-state", value: "open" });

  // The server closes the round at its deadline: seat 1's frame is withheld,
  // the hall screen shows it closed (with nobody taking part).
  await until(() => seat1Tap.dropped.length > 0, "the server closing the re-vote");
  const reVote = seat1Tap.dropped[0].round.id;
  // Nobody took part in the re-vote (the first vote had 3): the screen shows the re-vote, and then its end.
  await waitFor(app.screen, "taking-part", { text: "0" });
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });

  const castsBefore = seat1Tap.frames.filter((f) => f.dir === "up" && f.msg.type === "cast").length;
  await one.getByTestId("choice-yes").click();
  await waitFor(one, "refusal", { attr: "data-reason", value: "late" });

  // The refusal is the server's answer to a ballot for the re-vote, not the tablet's own guess.
  const casts = seat1Tap.frames.filter((f) => f.dir === "up" && f.msg.type === "cast");
  assert.equal(casts.length, castsBefore + 1, "the tablet sent one ballot");
  assert.equal(casts.at(-1).msg.round, reVote);
  const answer = seat1Tap.frames.find((f) => f.dir === "down" && f.msg.type === "refused" && f.msg.id === casts.at(-1).msg.id);
  assert.equal(answer?.msg.reason, "late");
  seat1Tap.dropFromServer = () => false;
});

step("7. the screenshots for the README were saved at their sizes", async () => {
  const expected = {
    "screen-vote": [1920, 1080],
    "screen-result": [1920, 1080],
    "chair-vote": [1440, 900],
    "chair-result": [1440, 900],
    "tablet-receipt": [1280, 800],
    "tablet-phone-receipt": [390, 844],
  };
  for (const [name, size] of Object.entries(expected)) {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    assert.ok((await stat(file)).mtimeMs >= runStarted, `${name}.png was written by this run`);
    assert.deepEqual(pngSize(await readFile(file)), size, `${name}.png is ${size.join("×")}`);
  }
});

step("8. every app rides out a server restart by itself", async () => {
  await server.stop();
  for (const page of allPages()) await waitConn(page, "reconnecting");

  await server.start(server.port);
  for (const page of allPages()) await waitConn(page, "online");
  // The hall shows the committed result of the last round (the re-vote nobody took part in).
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "closed" });
  await waitFor(app.screen, "result-banner", { attr: "data-passed", value: "false" });
  await waitFor(app.screen, "taking-part", { text: "0" });
  // Seat 1 learns from its fresh snapshot that the re-vote is over.
  await waitFor(app.tablets[0], "round-state", { attr: "data-state", value: "closed" });

  await openVoteEverywhere(AFTER_RESTART_ITEM, 60);
  await voteAndClose(["yes", "no", "abstain"]);
  await waitFor(app.screen, "result-banner", { attr: "data-passed", value: "false" });
  await waitFor(app.chair, "result-banner", { attr: "data-passed", value: "false" });
});

step("9. the chair pauses a vote: the clock stops, presses are held or refused; resumed, the vote goes on", async () => {
  const [one, two, three] = app.tablets;
  await openVoteEverywhere(PAUSE_ITEM, 120);

  // Seat 1's tablet must not learn of the pause, so that its press reaches
  // the server while the round is held: drop, on the way to that page only,
  // every snapshot of a paused round.
  const droppedBefore = seat1Tap.dropped.length;
  seat1Tap.dropFromServer = (msg) => msg.type === "snapshot" && msg.round?.paused_at != null;
  await app.chair.getByTestId("pause-vote").click();
  await until(() => seat1Tap.dropped.length > droppedBefore, "the server broadcasting the pause");
  const held = seat1Tap.dropped.at(-1);
  assert.equal(held.round.status, "open", "a paused round stays open");
  // The time left is frozen at deadline − paused_at, the same on every app.
  const kept = countdownText(Math.ceil((held.round.deadline - held.round.paused_at) / 1000));

  await waitFor(app.chair, "resume-vote", {});
  await waitFor(app.chair, "countdown", { attr: "data-paused", value: "true", text: kept });
  for (const tablet of [two, three]) {
    await waitFor(tablet, "round-state", { attr: "data-paused", value: "true" });
    await waitFor(tablet, "countdown", { text: kept });
    for (const choice of CHOICES) assert.equal(await tablet.getByTestId(`choice-${choice}`).isDisabled(), true, `${choice} is held`);
  }
  await waitFor(app.screen, "countdown-card", { attr: "data-paused", value: "true" });
  await waitFor(app.screen, "screen-paused", { text: "TẠM DỪNG BIỂU QUYẾT" });

  const castsBefore = seat1Tap.frames.filter((f) => f.dir === "up" && f.msg.type === "cast").length;
  await one.getByTestId("choice-yes").click();
  await waitFor(one, "refusal", { attr: "data-reason", value: "round_paused", text: "Chủ tọa đã tạm dừng biểu quyết; vui lòng chờ" });
  const casts = seat1Tap.frames.filter((f) => f.dir === "up" && f.msg.type === "cast");
  assert.equal(casts.length, castsBefore + 1, "the tablet sent one ballot");
  const answer = seat1Tap.frames.find((f) => f.dir === "down" && f.msg.type === "refused" && f.msg.id === casts.at(-1).msg.id);
  assert.equal(answer?.msg.reason, "round_paused");

  seat1Tap.dropFromServer = () => false;
  await app.chair.getByTestId("resume-vote").click();
  await waitFor(app.chair, "pause-vote", {});
  await waitFor(app.chair, "countdown", { attr: "data-paused", value: "false" });
  for (const tablet of app.tablets) await waitFor(tablet, "round-state", { attr: "data-paused", value: "false" });
  await waitFor(app.screen, "countdown-card", { attr: "data-paused", value: "false" });
  // Resuming gives the time back: the deadline moves on by the pause.
  const resumed = seat1Tap.frames.findLast((f) => f.dir === "down" && f.msg.type === "snapshot" && f.msg.round?.id === held.round.id);
  assert.equal(resumed.msg.round.paused_at, null);
  assert.ok(resumed.msg.round.deadline > held.round.deadline, "the deadline moved on by the pause");
  // The refusal went with the pause: seat 1 may press again.
  await one.getByTestId("refusal").waitFor({ state: "hidden" });

  await voteAndClose(["yes", "yes", "no"]);
});

step("10. the chair downloads the meeting's record, and gavel verify accepts it", async () => {
  const [download] = await Promise.all([
    app.chair.waitForEvent("download", { timeout: WAIT_MS }),
    app.chair.getByTestId("export-record").click(),
  ]);
  assert.equal(download.suggestedFilename(), `${MEETING_ID}.record.json`);
  const file = path.join(server.dataDir, "downloaded.record.json");
  await download.saveAs(file);
  const record = JSON.parse(await readFile(file, "utf8"));
  assert.equal(record.format, "gavel-record/2");
  assert.equal(record.meeting, MEETING_ID);
  // The first vote, the late re-vote, the vote after the restart and the paused one.
  assert.equal(record.rounds.length, 4);
  assert.deepEqual(
    record.rounds[0].ballots.map((b) => [b.seat, b.choice]),
    [[1, "yes"], [2, "yes"], [3, "no"]],
  );
  const verdict = await server.cli("verify", file);
  assert.match(verdict, new RegExp(`^ok: ${MEETING_ID} verifies: 4 rounds`));
});

step("no page threw an uncaught error", async () => {
  const errors = allPages().flatMap((page) => page.errors);
  assert.deepEqual(errors, []);
});
