// The hall screen: a read-only watcher of one meeting, drawn for a big screen
// at the front of the hall. What it draws is the Hall (./hall.js), which the
// public page shows too. Every change arrives as a session "change" event;
// the only timer re-draws the clock and the countdown from the server's clock.

import { Session } from "../common/session.js";
import { currentLang, makeTranslator, setLang } from "../common/i18n.js";
import { WORDS } from "./words.js";
import { Hall } from "./hall.js";

const t = makeTranslator(WORDS);
const $ = (id) => document.getElementById(id);
const hall = new Hall(t);

/** The meeting to watch: `?meeting=ID`, else the first one the server hosts (null if none). */
async function meetingToWatch() {
  const fromUrl = new URLSearchParams(location.search).get("meeting");
  if (fromUrl) return fromUrl;
  for (let backoff = 500; ; backoff = Math.min(backoff * 2, 5000)) {
    try {
      const response = await fetch("/api/meetings");
      if (response.ok) return (await response.json())[0]?.id ?? null;
    } catch {
      // The server is not up yet: try again, as the session would.
    }
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

const render = () => hall.render();

/** Switches language; setLang remembers it for this device. */
function toggleLang() {
  setLang(currentLang() === "en" ? "vi" : "en");
  render();
  hall.tick();
}

async function main() {
  document.documentElement.lang = currentLang();
  hall.mount(document.body);
  $("lang-toggle").addEventListener("click", toggleLang);
  // The agenda keeps as many lines as fit, so it is laid out again when the
  // window or the font (loaded as glyphs are needed) changes its size.
  window.addEventListener("resize", render);
  document.fonts.addEventListener("loadingdone", render);
  render();
  hall.tick();
  setInterval(() => hall.tick(), 250);
  const meeting = await meetingToWatch();
  if (!meeting) {
    hall.noMeeting = true;
    render();
    return;
  }
  hall.session = new Session({ meeting });
  hall.session.addEventListener("change", render);
  render();
  hall.session.start();
}

main();
