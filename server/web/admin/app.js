// The secretariat's app: enrolls this browser's key with a secretariat code,
// logs in with it, and lists the meetings by where they stand.

import { Refused } from "../common/session.js";
import { loadIdentity } from "../common/keys.js";
import { currentLang, makeTranslator, reasonText, setLang } from "../common/i18n.js";
import { $, h, setText } from "../common/dom.js";
import { SLOT, enroll, logIn, meetings } from "./desk.js";
import { WORDS } from "./words.js";

const t = makeTranslator(WORDS);
const STATES = ["in_session", "upcoming", "finished"];

/** What is on screen, as functions so that it follows a language switch. */
let enrollError = null;
let listed = null;
let listError = null;

function failure(error) {
  return error instanceof Refused ? reasonText(t, error.reason) : t("enroll.unreachable");
}

function showEnroll(error = null) {
  $("meetings-view").hidden = true;
  $("enroll-view").hidden = false;
  enrollError = error;
  render();
  $("enroll-code").focus();
}

async function enrollWith(code) {
  if (!code) return showEnroll(() => t("enroll.empty"));
  const button = $("enroll-button");
  button.disabled = true;
  setText(button, t("enroll.working"));
  try {
    const identity = await enroll(code);
    $("enroll-code").value = "";
    await open(identity);
  } catch (error) {
    showEnroll(() => t("enroll.failed", { reason: failure(error) }));
  } finally {
    button.disabled = false;
    setText(button, t("enroll.button"));
  }
}

/** Logs in with `identity` and lists the meetings; a key the server refuses asks for a new code. */
async function open(identity) {
  let token;
  try {
    token = await logIn(identity);
  } catch (error) {
    return showEnroll(() => t("enroll.failed", { reason: failure(error) }));
  }
  $("enroll-view").hidden = true;
  $("meetings-view").hidden = false;
  try {
    listed = await meetings(token);
    listError = null;
  } catch (error) {
    listError = () => t("meetings.failed", { reason: failure(error) });
  }
  render();
}

function meetingRow(m) {
  return h(
    "li",
    { class: "meeting", "data-testid": `meeting-${m.id}`, dataset: { state: m.state } },
    h("span", { class: "meeting-body" }, m.body),
    h("span", { class: "meeting-title" }, m.title),
    h("span", { class: "meeting-facts" }, t("meetings.facts", { seats: m.seats, items: m.items })),
    h("span", { class: "meeting-state", "data-testid": `state-${m.id}` }, t(`state.${m.state}`)),
  );
}

function render() {
  for (const node of document.querySelectorAll("[data-i18n]")) setText(node, t(node.dataset.i18n));
  setText($("lang-toggle"), t("language"));
  document.title = `Gavel — ${t("app.role")}`;
  setText($("enroll-error"), enrollError?.() ?? "");
  $("enroll-error").hidden = !enrollError;
  setText($("meetings-error"), listError?.() ?? "");
  $("meetings-error").hidden = !listError;
  for (const state of STATES) {
    const rows = (listed ?? []).filter((m) => m.state === state).map(meetingRow);
    $(`meetings-${state}`).replaceChildren(...(rows.length ? rows : [h("li", { class: "none" }, t("meetings.none"))]));
  }
}

async function start() {
  document.documentElement.lang = currentLang();
  $("lang-toggle").addEventListener("click", () => {
    setLang(currentLang() === "vi" ? "en" : "vi");
    render();
  });
  $("enroll-form").addEventListener("submit", (event) => {
    event.preventDefault();
    enrollWith($("enroll-code").value.trim());
  });
  render();
  const identity = await loadIdentity(SLOT);
  if (identity) await open(identity);
  else showEnroll();
}

start();
