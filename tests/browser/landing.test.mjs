// The landing page at `/`, as a visitor opens it: it lists the hub's meeting
// with a link to each app, and every link opens its app. The server's
// Content-Security-Policy forbids inline scripts and styles, so the page and
// the apps must load with no console error and no CSP violation.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GavelServer, MEETING_ID, launchBrowser, openApp, waitFor } from "./harness.mjs";

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

/**
 * A page that records its console errors and CSP violations in
 * `page.problems` (uncaught errors are in `page.errors`, see openApp).
 */
async function watchedPage(name) {
  const page = await openApp(browser, name, { width: 1280, height: 800 });
  page.problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") page.problems.push(`console: ${message.text()}`);
  });
  await page.exposeFunction("reportViolation", (text) => page.problems.push(`csp: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

/** What each app shows once it has started, before anyone enrolls it. */
const STARTED = {
  "/screen/": async (page) => waitFor(page, "present-count", { text: "0" }),
  [`/public/${MEETING_ID}`]: async (page) => waitFor(page, "present-count", { text: "0" }),
  "/tablet/": async (page) => page.waitForSelector("body[data-view=enroll]"),
  "/chair/": async (page) => page.waitForSelector("#enroll-view:not([hidden])"),
};

test("the landing page lists the meeting and each link opens its app cleanly", async () => {
  const landing = await watchedPage("landing");
  await landing.goto(`${server.url}/`);
  await waitFor(landing, "meetings", { attr: "data-loaded", value: "true" });
  const card = landing.getByTestId(`meeting-${MEETING_ID}`);
  const [meeting] = await (await fetch(`${server.url}/api/meetings`)).json();
  assert.equal(await card.locator("h2").innerText(), meeting.title);
  assert.equal(await card.locator("p").innerText(), meeting.body);
  // The page's own stylesheet is applied: the links are drawn as buttons.
  const link = card.locator(".apps a").first();
  assert.equal(await link.evaluate((a) => getComputedStyle(a).display), "inline-block");
  const hrefs = await card.locator(".apps a").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
  assert.deepEqual(hrefs, [`/screen/?meeting=${MEETING_ID}`, `/public/${MEETING_ID}`, "/tablet/", "/chair/"]);
  assert.deepEqual([...landing.problems, ...landing.errors], []);

  for (const href of hrefs) {
    const page = await watchedPage(href);
    await page.goto(`${server.url}/`);
    await waitFor(page, "meetings", { attr: "data-loaded", value: "true" });
    await Promise.all([page.waitForURL(`${server.url}${href}`), page.locator(`a[href="${href}"]`).click()]);
    await STARTED[new URL(href, server.url).pathname](page);
    assert.deepEqual([...page.problems, ...page.errors], [], `${href} loads without errors`);
    await page.context().close();
  }
});
