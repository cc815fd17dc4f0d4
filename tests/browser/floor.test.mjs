// A question session in the browser: three tablets register questions to
// the meeting's two respondents, the chair reorders the queue, gives the
// floor, holds and resumes the clock; the hall screen shows the speaker,
// whom the question is put to and the countdown; the server restarts in the
// middle and the held turn and the queue are still there; the question's end
// starts the respondent's answer; the chair gives the next question a limit
// of its own. A topic with markup and right-to-left marks is shown as text.
// Steps run in order and share one session.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { logTail, MEETING_ID, openApp, screenshot, setField, startSession, storySteps, WAIT_MS, waitFor } from "./harness.mjs";

const STEP_MS = 180_000;
/** The example meeting's question session. */
const QUESTION_ITEM = 5;
/** A topic that would be markup if it were ever set as HTML. */
const MARKUP_TOPIC = "<img src=x onerror=alert(1)> \u202Eשלום\u202C trật tự xây dựng";

let server;
let browser;
let codes;
const app = { chair: null, screen: null, tablets: [] };
const step = storySteps(STEP_MS, (t) => {
  t.diagnostic("server log, last lines:");
  logTail(t, server, 30);
});

/** The chair's queue as [kind, text of the row] pairs, in order. */
async function chairQueue() {
  return app.chair
    .getByTestId("chair-floor-request")
    .evaluateAll((rows) => rows.map((row) => [row.dataset.kind, row.innerText.replace(/\s+/g, " ").trim()]));
}

/** Waits until the chair's queue has `n` requests. */
async function queueOf(n) {
  await app.chair.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="chair-floor-request"]').length === n,
    n,
    { timeout: WAIT_MS },
  );
}

before(async () => {
  ({ server, codes, browser } = await startSession("1-3"));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

step("1. the chair, three tablets and the hall screen join the question session", async () => {
  app.chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await app.chair.goto(`${server.url}/chair/?code=${codes.chair}`);
  await app.chair.getByTestId(`agenda-item-${QUESTION_ITEM}`).click();
  await waitFor(app.chair, `agenda-item-${QUESTION_ITEM}`, { attr: "aria-current", value: "step" });
  // Seat 12's question, registered in the meeting file, waits already.
  await waitFor(app.chair, "floor-panel", {});
  await queueOf(1);
  for (const seat of [1, 2, 3]) {
    const phone = seat === 3;
    const tablet = await openApp(browser, `tablet-seat-${seat}`, phone ? { width: 390, height: 844, phone } : { width: 1280, height: 800 });
    await tablet.goto(`${server.url}/tablet/?code=${codes.seats.get(seat).code}`);
    await tablet.getByTestId("check-in").click();
    await waitFor(tablet, "checked-in", {});
    await waitFor(tablet, "floor-question", {});
    app.tablets.push(tablet);
  }
  app.screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await app.screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}`);
  await waitFor(app.screen, "screen-round-state", { attr: "data-state", value: "floor" });
});

step("2. three delegates register questions to two respondents and see their places", async () => {
  const asks = [
    { respondent: 0, topic: MARKUP_TOPIC },
    { respondent: 1, topic: "Chống úng ngập khu dân cư" },
    { respondent: 0, topic: "" },
  ];
  for (const [i, ask] of asks.entries()) {
    const tablet = app.tablets[i];
    await setField(tablet, "floor-respondent", ask.respondent);
    await setField(tablet, "floor-topic", ask.topic);
    await tablet.getByTestId("floor-question").click();
    // After seat 12's registered question, in the order they asked.
    await waitFor(tablet, "floor-place", { contains: `${i + 2}/` });
  }
  await queueOf(4);
  await waitFor(app.chair, "chair-floor-counts", { contains: "Chất vấn: 4" });
  // A second request from the same tablet is not offered: it waits.
  await waitFor(app.tablets[0], "floor-withdraw", {});
  const tablet = app.tablets[0];
  assert.equal(await tablet.getByTestId("floor-question").isVisible(), false);
  await screenshot(app.tablets[2], "floor-tablet");
  // The hall screen lists the next speakers; the topic stays text.
  await waitFor(app.screen, "screen-floor-next", { contains: "Chất vấn" });
});

step("3. the chair moves seat 3's question up and gives it the floor; the screen shows the speaker", async () => {
  // Seat 3 waits fourth: two presses of its ↑ put it first.
  for (let press = 0; press < 3; press++) {
    const rows = await chairQueue();
    const at = rows.findIndex(([, text]) => /Ghế 3(?!\d)/.test(text));
    if (at === 0) break;
    await app.chair.getByTestId("chair-floor-request").nth(at).getByRole("button", { name: "Lên trước" }).click();
    await app.chair.waitForFunction(
      (at) => !document.querySelectorAll('[data-testid="chair-floor-request"]')[at]?.innerText.includes("Ghế 3"),
      at,
    );
  }
  assert.match((await chairQueue())[0][1], /Ghế 3/);
  await waitFor(app.tablets[2], "floor-place", { contains: "1/" });
  await app.chair.getByTestId("chair-floor-give").first().click();
  await waitFor(app.screen, "screen-floor-speaker", { attr: "data-kind", value: "question" });
  await waitFor(app.screen, "screen-floor-speaker", { attr: "data-phase", value: "running" });
  await waitFor(app.screen, "screen-floor-put-to", { contains: "Nguyễn Quang Minh" });
  // Three minutes to question, counting down from the server's clock.
  const clock = await app.screen.getByTestId("screen-floor-clock").innerText();
  assert.match(clock, /^(3:00|2:[0-5]\d)$/);
  await waitFor(app.tablets[0], "floor-speaker", { contains: "Ghế 3" });
  await screenshot(app.screen, "floor-screen-vi");
  await screenshot(app.chair, "floor-chair");
});

step("4. the chair holds the clock; a restart keeps the held turn and the queue", async () => {
  await app.chair.getByTestId("chair-floor-pause").click();
  await waitFor(app.screen, "screen-floor-speaker", { attr: "data-phase", value: "paused" });
  const held = await app.screen.getByTestId("screen-floor-clock").innerText();
  const queue = await chairQueue();
  await server.stop();
  await server.start();
  await waitFor(app.screen, "conn", { attr: "data-state", value: "online", visible: false });
  await waitFor(app.screen, "screen-floor-speaker", { attr: "data-phase", value: "paused" });
  await waitFor(app.screen, "screen-floor-clock", { text: held });
  await waitFor(app.chair, "chair-floor-resume", {});
  await queueOf(queue.length);
  assert.deepEqual(await chairQueue(), queue);
  await app.chair.getByTestId("chair-floor-resume").click();
  await waitFor(app.screen, "screen-floor-speaker", { attr: ["data-phase"], value: "running" });
});

step("5. the question's end starts the answer; the screen shows the respondent, in both languages", async () => {
  await app.chair.getByTestId("chair-floor-end").click();
  await waitFor(app.screen, "screen-floor-speaker", { attr: "data-kind", value: "answer" });
  await waitFor(app.screen, "screen-floor-name", { text: "Nguyễn Quang Minh" });
  await app.chair.getByTestId("chair-floor-end").click();
  // The answer's end offers seat 3 a follow-up at the front; it declines.
  await waitFor(app.tablets[2], "floor-withdraw", {});
  await app.tablets[2].getByTestId("floor-withdraw").click();
  await queueOf(3);
  // Seat 1's question, whose topic is markup: given the floor, shown as text.
  const rows = await chairQueue();
  const seat1 = rows.findIndex(([, text]) => /Ghế 1(?!\d)/.test(text));
  // For this turn the chair gives 90 seconds instead of the three minutes a question has.
  await setField(app.chair, "floor-limit", 90);
  await app.chair.getByTestId("chair-floor-give").nth(seat1).click();
  await waitFor(app.screen, "screen-floor-topic", { text: MARKUP_TOPIC.replace(/\s+/g, " ") });
  assert.match(await app.screen.getByTestId("screen-floor-clock").innerText(), /^1:(30|2\d)$/);
  assert.equal(await app.screen.locator("img").count(), 0, "the topic's markup never became an element");
  await app.screen.getByTestId("lang-toggle").click();
  await waitFor(app.screen, "screen-floor-speaker", { contains: "Question" });
  await screenshot(app.screen, "floor-screen-en");
  await app.chair.getByTestId("lang-toggle").click();
  await waitFor(app.chair, "chair-floor-end", { text: "End turn" });
  await screenshot(app.chair, "floor-chair-en");
  await app.tablets[1].getByTestId("lang-toggle").click();
  await waitFor(app.tablets[1], "floor-withdraw", { text: "Withdraw" });
  await screenshot(app.tablets[1], "floor-tablet-en");
  for (const page of [app.chair, app.screen, ...app.tablets]) assert.deepEqual(page.errors, []);
});
