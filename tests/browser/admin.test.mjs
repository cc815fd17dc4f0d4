// The secretariat's app at /admin/, as the council's office uses it: a code
// from `gavel codes --admin` enrolls the browser's own key, which then logs in
// again by itself after a reload, and the meetings are listed by where they
// stand. A seat's code and a used code are refused with their reasons.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GavelServer, MEETING_ID, launchBrowser, openApp, screenshot, waitFor } from "./harness.mjs";

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
  await screenshot(page, "admin-meetings-en");
  await switchTo(page, "vi");
  await waitFor(page, `state-${MEETING_ID}`, { text: "Sắp họp" });
  await screenshot(page, "admin-meetings-vi");

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
