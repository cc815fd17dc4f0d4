// The browser tests' harness: a real `gavel` server in a fresh data
// directory, headless Debian Chromium driven by playwright-core, and small
// waiting helpers that poll the DOM for a condition (never a fixed sleep).
// It builds nothing: scripts/test builds the binaries before running us.

import { test } from "node:test";
import { spawn, execFile } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const GAVEL = path.join(REPO, "target/debug/gavel");
export const GAVEL_TABLET = path.join(REPO, "target/debug/gavel-tablet");
export const MEETING_FILE = path.join(REPO, "server/meetings/phuc-loi.toml");
export const MEETING_ID = "phuc-loi-2026-ky-12";
export const SCREENSHOTS = path.join(REPO, "docs/screenshots");

/** How long any wait for the apps or the server may take: generous, for a busy 2-core machine. */
export const WAIT_MS = 30_000;
/** How often a starting server's ready file is looked for. */
const READY_POLL_MS = 20;

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const run = promisify(execFile);

/**
 * The environment for gavel: settings that may be set on the developer's
 * machine (a PostgreSQL URL, a config file, a quiet log filter) would point
 * the test elsewhere or leave too little in the log to diagnose a failure,
 * so they are dropped.
 */
function gavelEnv() {
  const env = { ...process.env, NO_COLOR: "1", RUST_LOG: "info,sqlx=warn" };
  for (const key of Object.keys(env)) {
    if (key === "DATABASE_URL" || key.startsWith("GAVEL_")) delete env[key];
  }
  return env;
}

/** Reads "CODE  chair's console" and "CODE  seat   1  Name" lines of `gavel codes`. */
export function parseCodes(stdout) {
  const codes = { chair: null, seats: new Map() };
  for (const line of stdout.split("\n")) {
    const chair = line.match(/^(\S+)\s+chair's console\s*$/);
    if (chair) codes.chair = chair[1];
    const seat = line.match(/^(\S+)\s+seat\s+(\d+)\s+(.+?)\s*$/);
    if (seat) codes.seats.set(Number(seat[2]), { code: seat[1], name: seat[3] });
  }
  return codes;
}

/** A gavel server with its own data directory, started and stopped as a process. */
export class GavelServer {
  /** `serveArgs` are added to every `gavel serve` (settings such as `--public-frame-ancestor`). */
  constructor(dataDir, serveArgs = []) {
    this.dataDir = dataDir;
    this.serveArgs = serveArgs;
    this.process = null;
    this.exited = null;
    this.log = "";
    this.port = null;
  }

  /** Makes a data directory with the example meeting imported. */
  static withExampleMeeting() {
    return GavelServer.withMeeting(MEETING_FILE);
  }

  /** Makes a data directory with the meeting file `file` imported. */
  static async withMeeting(file) {
    const server = new GavelServer(await mkdtemp(path.join(tmpdir(), "gavel-browser-")));
    await server.cli("meeting", "import", file);
    return server;
  }

  /** Runs a one-shot gavel command on this data directory; returns its stdout. */
  async cli(...args) {
    const { stdout } = await run(GAVEL, ["--data-dir", this.dataDir, ...args], {
      cwd: REPO,
      env: gavelEnv(),
    });
    return stdout;
  }

  /** Issues one-time enrollment codes for `seats` (e.g. "1-3") and the chair of `meeting`. */
  async codes(seats, meeting = MEETING_ID) {
    const codes = parseCodes(await this.cli("codes", "--meeting", meeting, "--seats", seats, "--chair"));
    if (!codes.chair) throw new Error("gavel codes printed no chair's code");
    return codes;
  }

  /** `count` one-time codes for secretariat devices (`gavel codes --admin`). */
  async adminCodes(count = 1) {
    const stdout = await this.cli("codes", "--admin", "--count", String(count));
    const codes = [...stdout.matchAll(/^(\S+)\s+secretariat\b/gm)].map((m) => m[1]);
    if (codes.length !== count) throw new Error(`gavel codes --admin printed ${codes.length} codes, not ${count}:\n${stdout}`);
    return codes;
  }

  /** Writes `bytes` into the data directory as `name`; resolves to its path, for a file input. */
  async file(name, bytes) {
    const file = path.join(this.dataDir, name);
    await writeFile(file, bytes);
    return file;
  }

  /**
   * Runs `gavel-tablet` (the command-line tablet and chair's console, a real
   * client process) against this server, its device kept in `credentials`;
   * returns its stdout.
   */
  async tablet(credentials, ...args) {
    const server = `ws://127.0.0.1:${this.port}/ws`;
    const { stdout } = await run(GAVEL_TABLET, ["--credentials", credentials, "--server", server, ...args], {
      cwd: REPO,
      env: gavelEnv(),
    });
    return stdout;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts `gavel serve` on `port` (0: any free port, then kept for
   * restarts) and resolves once it has written its ready file
   * (`--ready-file`, docs/operations.md) with the address it listens on.
   */
  async start(port = this.port ?? 0) {
    if (this.process) throw new Error("the server is already running");
    const readyFile = path.join(this.dataDir, "ready.json");
    await rm(readyFile, { force: true });
    const args = ["--data-dir", this.dataDir, "serve", "--listen", `127.0.0.1:${port}`, "--ready-file", readyFile, ...this.serveArgs];
    const child = spawn(GAVEL, args, { cwd: REPO, env: gavelEnv(), stdio: ["ignore", "ignore", "pipe"] });
    this.process = child;
    let exit = null;
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        resolve(exit);
      }),
    );
    // Read all along, so that the server never blocks on a full pipe.
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      this.log += chunk;
    });
    const deadline = Date.now() + WAIT_MS;
    let ready = null;
    while (!ready) {
      if (exit) throw new Error(`gavel exited (code ${exit.code}, signal ${exit.signal}) before listening:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`gavel did not start listening within ${WAIT_MS} ms:\n${this.log}`);
      ready = await readFile(readyFile, "utf8").then(JSON.parse, (error) => {
        if (error.code === "ENOENT") return null;
        throw error;
      });
      if (!ready) await sleep(READY_POLL_MS);
    }
    this.port = Number(ready.listen.split(":").pop());
    if (port !== 0 && this.port !== port) throw new Error(`gavel listens on ${ready.listen}, not on port ${port}`);
    return this.url;
  }

  /** Stops the server with SIGTERM and waits for the process to end. */
  async stop() {
    const child = this.process;
    if (!child) return;
    this.process = null;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    if (signal === "SIGKILL") throw new Error(`gavel did not stop within ${WAIT_MS} ms of SIGTERM`);
    return { code, signal };
  }

  /** Stops the server if it runs and deletes its data directory. */
  async dispose() {
    await this.stop().catch(() => {});
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * What a session's test starts from: a server with the example meeting and
 * the codes of `seats` (e.g. "1-3") and the chair, started, and a browser.
 */
export async function startSession(seats) {
  const server = await GavelServer.withExampleMeeting();
  const codes = await server.codes(seats);
  await server.start();
  return { server, codes, browser: await launchBrowser() };
}

/** Launches Debian's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Opens a page in its own browser context (its own IndexedDB, so its own
 * device key). Uncaught errors in the page are collected in `page.errors`.
 */
export async function openApp(browser, name, { width, height, phone = false }) {
  const context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: 1,
    isMobile: phone,
    hasTouch: phone,
    locale: "vi-VN",
  });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  page.appName = name;
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(`${name}: ${error.message}`));
  return page;
}

/**
 * Waits until an element with `data-testid=testId` is visible (unless
 * `visible: false`) and its attribute `attr` equals `value` (`attr` may list
 * several names: any of them will do); or, with `text`, its rendered text
 * equals `text`; with `contains`, includes it, ignoring case. Polls the DOM;
 * on timeout the error says what the page showed instead.
 */
export async function waitFor(page, testId, { attr, value, text, contains, visible = true, timeout = WAIT_MS }) {
  const attrs = attr === undefined ? [] : [attr].flat();
  const want = { testId, attrs, value: value === undefined ? undefined : String(value), text, contains, visible };
  try {
    await page.waitForFunction(
      (w) => {
        const norm = (s) => s.replace(/\s+/g, " ").trim();
        return [...document.querySelectorAll(`[data-testid="${w.testId}"]`)].some((el) => {
          if (w.visible && el.getClientRects().length === 0) return false;
          if (w.attrs.length && !w.attrs.some((a) => el.getAttribute(a) === w.value)) return false;
          if (w.text !== undefined && norm(el.innerText) !== w.text) return false;
          if (w.contains !== undefined && !norm(el.innerText).toLowerCase().includes(w.contains.toLowerCase())) return false;
          return true;
        });
      },
      want,
      { timeout, polling: 100 },
    );
  } catch (error) {
    if (error.name !== "TimeoutError") throw error;
    const seen = await describe(page, testId, attrs);
    const expected = [
      attrs.length && `${attrs.join(" or ")}="${value}"`,
      text !== undefined && `text "${text}"`,
      contains && `text containing "${contains}"`,
    ]
      .filter(Boolean)
      .join(", ");
    throw new Error(`${page.appName}: [data-testid="${testId}"] did not show ${expected || "up"} within ${timeout} ms; it shows ${seen}`);
  }
}

/** What the elements with `data-testid=testId` show now, for error messages. */
export async function describe(page, testId, attrs = []) {
  const seen = await page
    .evaluate(
      ({ testId, attrs }) =>
        [...document.querySelectorAll(`[data-testid="${testId}"]`)].map((el) => ({
          visible: el.getClientRects().length > 0,
          ...Object.fromEntries(attrs.map((a) => [a, el.getAttribute(a)])),
          text: el.innerText.replace(/\s+/g, " ").trim().slice(0, 120),
        })),
      { testId, attrs },
    )
    .catch((error) => `(page unreadable: ${error.message})`);
  return typeof seen === "string" ? seen : seen.length ? JSON.stringify(seen) : "no such element";
}

/** Switches an app to `lang` with its language button, unless it shows that language already. */
export async function switchTo(page, lang) {
  if ((await page.evaluate(() => document.documentElement.lang)) !== lang) await page.getByTestId("lang-toggle").click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/** Types `code` into the secretariat's enrollment form at /admin/ and sends it. */
export async function submitAdminCode(page, code) {
  await page.getByTestId("enroll-code").fill(code);
  await page.getByTestId("enroll-button").click();
}

/**
 * The secretariat's app at /admin/ in `lang`, in a browser context of its
 * own, its key enrolled with a fresh `gavel codes --admin` code: the page
 * on the list of meetings.
 */
export async function secretariatPage(browser, server, name, { lang = "en", width = 1280, height = 900 } = {}) {
  const [code] = await server.adminCodes(1);
  const page = await openApp(browser, name, { width, height });
  await page.goto(`${server.url}/admin/?lang=${lang}`);
  await page.waitForSelector("#enroll-view:not([hidden])");
  await submitAdminCode(page, code);
  await page.waitForSelector("#meetings-view:not([hidden])");
  return page;
}

/** Sets a form field whatever it is: a text or number input, or a select. */
export async function setField(page, testId, value) {
  const field = page.getByTestId(testId);
  const tag = await field.evaluate((el) => el.tagName);
  if (tag === "SELECT") await field.selectOption(String(value));
  else await field.fill(String(value));
}

/**
 * Saves a screenshot of the page's viewport (or, with `fullPage`, of the
 * whole page) to docs/screenshots/NAME.png, with CSS animations run to
 * their end so that a fade-in is not caught halfway.
 */
export async function screenshot(page, name, { fullPage = false } = {}) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), animations: "disabled", fullPage });
}

/**
 * Routes a page's WebSocket through Playwright to the real server, so a
 * test can drop chosen server frames: `tap.dropFromServer = (frame) => bool`.
 * Every frame is also kept, parsed, in `tap.frames` as {dir: "up"|"down", msg}.
 */
export async function tapWebSocket(page) {
  const tap = { frames: [], dropped: [], dropFromServer: () => false };
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      tap.frames.push({ dir: "up", msg: parse(message) });
      server.send(message);
    });
    server.onMessage((message) => {
      const msg = parse(message);
      if (tap.dropFromServer(msg)) {
        tap.dropped.push(msg);
        return;
      }
      tap.frames.push({ dir: "down", msg });
      ws.send(message);
    });
  });
  return tap;
}

function parse(message) {
  try {
    return JSON.parse(String(message));
  } catch {
    return { type: "(not json)", raw: String(message).slice(0, 200) };
  }
}

/**
 * A PDF made by Chromium from Vietnamese text: each section (a heading and
 * a paragraph, with `extra` text after it) on a page of its own, the
 * headings giving the PDF its outline.
 */
export async function makePdf(browser, sections, extra = "") {
  const page = await browser.newPage();
  const body = sections
    .map(([heading, text], i) => `<section${i ? ' class="next"' : ""}><h1>${heading}</h1><p>${text}</p><p>${extra}</p></section>`)
    .join("");
  await page.setContent(
    `<!doctype html><html lang="vi"><meta charset="utf-8"><style>body{font-family:"DejaVu Sans",sans-serif;font-size:14pt}.next{break-before:page}</style><body>${body}</body></html>`,
  );
  const bytes = await page.pdf({ format: "A4", outline: true, tagged: true });
  await page.close();
  return bytes;
}

/**
 * The example meeting with `documents` ({item, title, kind, file, public,
 * sections}) under their items, their PDFs made by `makePdf` and written
 * into `dir`; returns the meeting file's path, ready to import.
 */
export async function meetingWithDocuments(browser, dir, documents) {
  const example = await readFile(MEETING_FILE, "utf8");
  const starts = [];
  for (let at = example.indexOf("[[topics.items]]"); at !== -1; at = example.indexOf("[[topics.items]]", at + 1)) starts.push(at);
  const block = (d) => `[[topics.items.documents]]\ntitle = "${d.title}"\nkind = "${d.kind}"\nfile = "${d.file}"\npublic = ${d.public}\n\n`;
  // Each item's blocks go just before the next table header (an item's or a topic's), from the last so the offsets hold.
  let text = example;
  const items = [...new Set(documents.map((d) => d.item))].sort((a, b) => b - a);
  for (const item of items) {
    const blocks = documents.filter((d) => d.item === item).map(block).join("");
    const end = text.indexOf("\n[[topics", starts[item] + 1) + 1;
    text = text.slice(0, end) + blocks + text.slice(end);
  }
  for (const d of documents) {
    await mkdir(path.join(dir, path.dirname(d.file)), { recursive: true });
    await writeFile(path.join(dir, d.file), await makePdf(browser, d.sections));
  }
  const file = path.join(dir, "meeting.toml");
  await writeFile(file, text);
  return file;
}

/**
 * The steps of one story a browser test file tells, each a test: once a step
 * fails, the later ones are skipped (the story cannot go on from a broken
 * state), and the failing step first reports with `onFailure(t, name)`.
 */
export function storySteps(timeout, onFailure) {
  let failedStep = null;
  return function step(name, body) {
    test(name, { timeout }, async (t) => {
      if (failedStep) {
        t.skip(`step "${failedStep}" failed`);
        return;
      }
      try {
        await body(t);
      } catch (error) {
        failedStep = name;
        await onFailure(t, name);
        throw error;
      }
    });
  };
}

/** The last `lines` lines of a test server's log, as a failed step's diagnostics. */
export function logTail(t, server, lines = 20) {
  for (const line of server?.log.trim().split("\n").slice(-lines) ?? []) t.diagnostic(line);
}
