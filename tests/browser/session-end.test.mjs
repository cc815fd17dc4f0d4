// The session's end: the chair votes an item through, then closes the
// session from the console, behind a confirmation. The hall screen, a
// delegate's tablet and the public page (which takes its after-session
// form: the close and the record in place of the live feed) each say the
// session is closed, with its time; the console says so and offers the close
// no more, its list editor is gone from an election no round was held on,
// and a command sent after it is refused in words; the secretariat's
// results view says when the session closed and offers no count by hand.
// Screenshots of each in both languages.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GavelServer, MEETING_ID, launchBrowser, openApp, screenshot, secretariatPage, switchTo, waitFor } from "./harness.mjs";

/** Item 0 of the example, "Thông qua chương trình kỳ họp": yes/no, named. */
const ITEM = 0;
/** Item 7 of the example: an election, whose list the chair may edit before its round. */
const ELECTION = 7;

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

test("the chair closes the session; the hall screen, a tablet and the public page say so", { timeout: 180_000 }, async () => {
  const chair = await openApp(browser, "chair", { width: 1440, height: 900 });
  await chair.goto(`${server.url}/chair/?code=${chairCode}`);
  const tablet = await openApp(browser, "tablet", { width: 1280, height: 800 });
  await tablet.goto(`${server.url}/tablet/?code=${seatCode}`);
  await tablet.getByTestId("check-in").click();
  await waitFor(tablet, "checked-in", {});

  // An item voted through, so that the record has a result.
  await chair.getByTestId(`agenda-item-${ITEM}`).click();
  await waitFor(chair, `agenda-item-${ITEM}`, { attr: "aria-current", value: "step" });
  await chair.getByTestId("open-vote").click();
  await tablet.getByTestId("choice-yes").click();
  await waitFor(tablet, "choice-yes", { attr: "data-selected", value: "true" });
  await chair.getByTestId("close-vote").click();
  await waitFor(tablet, "round-state", { attr: "data-state", value: "closed" });

  const screen = await openApp(browser, "screen", { width: 1920, height: 1080 });
  await screen.goto(`${server.url}/screen/?meeting=${MEETING_ID}`);
  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "closed" });
  const visitor = await openApp(browser, "public", { width: 1280, height: 900 });
  await visitor.goto(`${server.url}/public/${MEETING_ID}`);
  await waitFor(visitor, "public-result", { contains: "tán thành" });
  assert.equal(await visitor.getByTestId("public-session-closed").isVisible(), false, "not closed yet");

  // The election on the screens, its list still editable.
  await chair.getByTestId(`agenda-item-${ELECTION}`).click();
  await waitFor(chair, `agenda-item-${ELECTION}`, { attr: "aria-current", value: "step" });
  await chair.getByTestId("list-panel").waitFor({ state: "visible" });

  // The close asks first; "not yet" leaves the session open.
  await chair.getByTestId("close-session").click();
  await waitFor(chair, "confirm-close-session", {});
  await screenshot(chair, "chair-close-session-vi");
  await chair.keyboard.press("Escape");
  await chair.getByTestId("confirm-close-session").waitFor({ state: "hidden" });
  assert.equal(await chair.getByTestId("chair-session-closed").isVisible(), false);
  await chair.getByTestId("close-session").click();
  await chair.getByTestId("confirm-close-session").click();

  // Every screen says so, with its time.
  await waitFor(chair, "chair-session-closed", { contains: "Kỳ họp đã bế mạc lúc" });
  assert.equal(await chair.getByTestId("close-session").isVisible(), false, "the close is offered no more");
  await chair.getByTestId("list-panel").waitFor({ state: "hidden" });
  await waitFor(screen, "screen-round-state", { attr: "data-state", value: "session_closed" });
  await waitFor(screen, "screen-session-closed", { contains: "Kỳ họp đã bế mạc Lúc" });
  await waitFor(tablet, "session-closed", { contains: "Kỳ họp đã bế mạc lúc" });
  await waitFor(visitor, "public-session-closed", { contains: "Kỳ họp đã bế mạc lúc" });
  await waitFor(visitor, "public-result", { contains: "tán thành" });
  await waitFor(visitor, "public-minutes", { contains: "Bản cuối cùng" });
  assert.equal(await visitor.locator("#live-feed").isVisible(), false, "the live feed gives way to the record");
  const minutes = visitor.frameLocator("[data-testid=public-minutes-frame]");
  await minutes.getByText("Kỳ họp bế mạc lúc").waitFor();

  // A command after the close is refused, in words.
  await chair.getByTestId(`agenda-item-${ITEM + 1}`).click();
  await waitFor(chair, "chair-error", { attr: "data-reason", value: "session_closed" });
  await waitFor(chair, "chair-error", { contains: "Kỳ họp đã bế mạc" });
  await chair.locator("#chair-error-dismiss").click();
  assert.equal(await chair.getByTestId("open-vote").isDisabled(), true, "the console's buttons rest");

  // The secretariat's results view: the close, and no count by hand.
  const admin = await secretariatPage(browser, server, "admin-session-closed", { lang: "vi", height: 1000 });
  await waitFor(admin, `meeting-${MEETING_ID}`, { attr: "data-state", value: "finished" });
  await admin.getByTestId(`results-${MEETING_ID}`).click();
  await admin.waitForSelector("#results-view:not([hidden])");
  await waitFor(admin, "results-closed", { contains: "Kỳ họp đã bế mạc lúc" });
  await waitFor(admin, `result-item-${ELECTION}`, { attr: "data-status", value: "pending" });
  assert.equal(await admin.getByTestId(`record-${ELECTION}`).count(), 0, "nothing is recorded by hand after the close");

  await screenshot(admin, "admin-session-closed-vi");
  await screenshot(chair, "chair-session-closed-vi");
  await screenshot(screen, "screen-session-closed-vi");
  await screenshot(tablet, "tablet-session-closed-vi");
  await screenshot(visitor, "public-session-closed-vi", { fullPage: true });
  for (const page of [chair, screen, tablet, visitor, admin]) await switchTo(page, "en");
  await waitFor(admin, "results-closed", { contains: "The session closed at" });
  await screenshot(admin, "admin-session-closed-en");
  await waitFor(chair, "chair-session-closed", { contains: "The session closed at" });
  await waitFor(screen, "screen-session-closed", { contains: "The session is closed At" });
  await waitFor(tablet, "session-closed", { contains: "The session closed at" });
  await waitFor(visitor, "public-session-closed", { contains: "The session closed at" });
  await minutes.getByText("The session closed at").waitFor();
  await screenshot(chair, "chair-session-closed-en");
  await screenshot(screen, "screen-session-closed-en");
  await screenshot(tablet, "tablet-session-closed-en");
  await screenshot(visitor, "public-session-closed-en", { fullPage: true });
  assert.deepEqual([...chair.errors, ...screen.errors, ...tablet.errors, ...visitor.errors, ...admin.errors], []);
});
